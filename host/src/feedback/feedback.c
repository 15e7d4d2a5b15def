/* feedback.c — see feedback.h. */
#include "feedback.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "config_tree.h"
#include "fb_decide.h"
#include "impact_model.h"
#include "log.h"
#include "qts/qts_plugin.h"
#include "qts/qts_store.h"
#include "util.h"

/* feedback.cost_budget_bps as a map: strategy name -> bps */
struct named_budget {
    char name[64];
    double bps;
    bool matched; /* a strategy of this name exists */
};

struct qts_feedback {
    struct qts_tca *tca;
    struct qts_fb_decide *decide;
    struct named_budget *budgets; /* owned */
    size_t n_budgets;
    struct qts_impact_model *model;
    char model_file[1024];
    char restored[160];     /* where the model came from at start, for the run's copy */
    struct qts_tca_env env; /* the engine's callbacks (copied) */
    int64_t last_fit_ns;    /* time of the newest sample of this run; 0 = none */
    bool save;
    bool streaming; /* tca.csv rows written as they complete */
};

static const char *const keys[] = {
    "enabled",
    "score_version",
    "weight_slippage",
    "weight_fill",
    "weight_latency",
    "lookback_s",
    "window_s",
    "min_samples",
    "max_impact_bps",
    "adjust_orders",
    "load",
    "save",
    "model_file",
    "forget",
    "adjust_price",
    "cost_budget_bps",
    "auto_max_slices",
    "auto_direct_bps",
    "auto_participation",
};

static int get_dbl(const struct qts_cfg_node *c, const char *k, double *v, double lo, double hi,
                   struct qts_err *err)
{
    const struct qts_cfg_node *n = c ? qts_cfg_get(c, k) : NULL;
    if (!n)
        return 0;
    int rc = qts_cfg_double(n, v, err);
    if (rc != 0)
        return rc;
    if (!(*v >= lo && *v <= hi))
        return qts_err_set(err, QTS_ECONFIG, "feedback.%s: must lie in [%g, %g]", k, lo, hi);
    return 0;
}

static int get_bool(const struct qts_cfg_node *c, const char *k, bool *v, struct qts_err *err)
{
    const struct qts_cfg_node *n = c ? qts_cfg_get(c, k) : NULL;
    return n ? qts_cfg_bool(n, v, err) : 0;
}

/* The model learned: note the time, and let the engine write the key to
 * the store. */
static void on_fit(void *ctx, const char *key, int64_t ts_ns)
{
    struct qts_feedback *f = ctx;
    if (ts_ns > f->last_fit_ns)
        f->last_fit_ns = ts_ns;
    if (f->env.on_fit)
        f->env.on_fit(f->env.ctx, key, ts_ns);
}

/* Restore the model at start: the store's rows when it has any (written at
 * every fit, so they survive a crash), else the model file (written at the
 * end of a run). */
static void restore(struct qts_feedback *f, const struct qts_impact_model *stored)
{
    size_t n = stored ? qts_impact_count(stored) : 0;
    if (n > 0) {
        qts_impact_merge(f->model, stored);
        snprintf(f->restored, sizeof f->restored, "restored: store (%zu keys)", n);
        QTS_INFO("feedback: impact model restored from the store (%zu keys)", n);
        return;
    }
    struct qts_err e2;
    qts_err_clear(&e2);
    int lr = qts_impact_load(f->model, f->model_file, &e2);
    if (lr == 0) {
        snprintf(f->restored, sizeof f->restored, "restored: file (%zu keys)",
                 qts_impact_count(f->model));
        QTS_INFO("feedback: impact model restored from %s (%zu keys)", f->model_file,
                 qts_impact_count(f->model));
    } else if (lr != QTS_ENOENT) {
        QTS_WARN("feedback: impact model not restored: %s", e2.msg);
    }
}

int qts_feedback_new(const struct qts_cfg_node *cfg, const char *var_dir, bool replay,
                     const struct qts_tca_env *env, const struct qts_impact_model *stored,
                     struct qts_feedback **out, struct qts_err *err)
{
    *out = NULL;
    for (size_t i = 0; cfg && i < qts_cfg_len(cfg); i++) {
        const char *k = qts_cfg_key_at(cfg, i);
        bool ok = false;
        for (size_t j = 0; j < QTS_ARRAY_LEN(keys) && !ok; j++)
            ok = k && strcmp(k, keys[j]) == 0;
        if (!ok)
            return qts_err_set(err, QTS_ECONFIG, "feedback: unknown key '%s'", k ? k : "?");
    }
    bool enabled = true, load = !replay, save = true, adjust = false, adjust_price = true;
    double score = 1, ws = 0.5, wf = 0.3, wl = 0.2, lookback = 86400, window = 60, mins = 5,
           maximp = 20, forget = 1.0, budget = 0, max_slices = 10, direct_bps = 2, part = 0.1;
    int rc;
    if ((rc = get_bool(cfg, "enabled", &enabled, err)) ||
        (rc = get_bool(cfg, "load", &load, err)) || (rc = get_bool(cfg, "save", &save, err)) ||
        (rc = get_bool(cfg, "adjust_orders", &adjust, err)) ||
        (rc = get_dbl(cfg, "score_version", &score, 1, 2, err)) ||
        (rc = get_dbl(cfg, "weight_slippage", &ws, 0, 1, err)) ||
        (rc = get_dbl(cfg, "weight_fill", &wf, 0, 1, err)) ||
        (rc = get_dbl(cfg, "weight_latency", &wl, 0, 1, err)) ||
        (rc = get_dbl(cfg, "lookback_s", &lookback, 1, 1e8, err)) ||
        (rc = get_dbl(cfg, "window_s", &window, 0.001, 86400, err)) ||
        (rc = get_dbl(cfg, "min_samples", &mins, 1, 1e6, err)) ||
        (rc = get_dbl(cfg, "max_impact_bps", &maximp, 0.001, 1e5, err)) ||
        (rc = get_dbl(cfg, "forget", &forget, 0.5, 1, err)) ||
        (rc = get_bool(cfg, "adjust_price", &adjust_price, err)) ||
        (rc = get_dbl(cfg, "auto_max_slices", &max_slices, 2, 100, err)) ||
        (rc = get_dbl(cfg, "auto_direct_bps", &direct_bps, 0.001, 1e4, err)) ||
        (rc = get_dbl(cfg, "auto_participation", &part, 0.001, 1, err)))
        return rc;
    /* a number for every strategy, or a map strategy name -> bps */
    const struct qts_cfg_node *cb = cfg ? qts_cfg_get(cfg, "cost_budget_bps") : NULL;
    bool budget_map = cb && qts_cfg_type(cb) == QTS_CFG_MAP;
    if (cb && !budget_map && (rc = get_dbl(cfg, "cost_budget_bps", &budget, 0, 1e5, err)))
        return rc;
    for (size_t i = 0; budget_map && i < qts_cfg_len(cb); i++) {
        double v;
        if ((rc = qts_cfg_double(qts_cfg_at(cb, i), &v, err)) != 0)
            return rc;
        if (!(v >= 0 && v <= 1e5))
            return qts_err_set(err, QTS_ECONFIG,
                               "feedback.cost_budget_bps.%s: must lie in [0, 100000]",
                               qts_cfg_key_at(cb, i));
    }
    if (!enabled)
        return 0;
    if (score != 1 && score != 2)
        return qts_err_set(err, QTS_ECONFIG, "feedback.score_version: 1 or 2");
    struct qts_feedback *f = qts_xcalloc(1, sizeof *f);
    const struct qts_cfg_node *mf = cfg ? qts_cfg_get(cfg, "model_file") : NULL;
    if (mf && qts_cfg_str(mf))
        qts_strlcpy(f->model_file, qts_cfg_str(mf), sizeof f->model_file);
    else
        snprintf(f->model_file, sizeof f->model_file, "%s/feedback/impact_model.txt",
                 var_dir ? var_dir : "var");
    f->save = save;

    struct qts_impact_params ip;
    qts_impact_params_default(&ip);
    ip.min_samples = (uint32_t)mins;
    ip.forget = forget;
    f->model = qts_impact_new(&ip);
    snprintf(f->restored, sizeof f->restored, "restored: none");
    if (load)
        restore(f, stored);
    struct qts_tca_params tp;
    qts_tca_params_default(&tp);
    tp.score_version = (int)score;
    tp.w1_slip = ws;
    tp.w1_fill = wf;
    tp.w1_lat = wl;
    tp.lookback_ns = (int64_t)(lookback * 1e9);
    tp.window_ns = (int64_t)(window * 1e9);
    tp.min_samples = (uint32_t)mins;
    tp.max_impact_bps = maximp;
    tp.adjust_orders = adjust;
    f->env = *env;
    struct qts_tca_env te = *env;
    te.model = f->model;
    te.on_fit = on_fit; /* ours first: it forwards to env->on_fit */
    te.fit_ctx = f;
    f->tca = qts_tca_new(&tp, &te);
    struct qts_fb_decide_params dp = {.adjust_price = adjust_price,
                                      .budget_bps = budget,
                                      .auto_max_slices = (uint32_t)max_slices,
                                      .auto_direct_bps = direct_bps,
                                      .auto_participation = part,
                                      .window_s = window};
    f->decide = qts_fb_decide_new(&dp, f->tca);
    for (size_t i = 0; budget_map && i < qts_cfg_len(cb); i++) {
        f->budgets = qts_xrealloc(f->budgets, (f->n_budgets + 1) * sizeof *f->budgets);
        struct named_budget *b = &f->budgets[f->n_budgets++];
        memset(b, 0, sizeof *b);
        qts_strlcpy(b->name, qts_cfg_key_at(cb, i), sizeof b->name);
        qts_cfg_double(qts_cfg_at(cb, i), &b->bps, err);
    }
    *out = f;
    return 0;
}

static int read_row(void *arg, const struct qts_store_record *rec)
{
    struct qts_impact_model *m = arg;
    if (rec->kind != QTS_REC_IMPACT_MODEL)
        return 0;
    const struct qts_store_impact_model *r =
        (const struct qts_store_impact_model *)(const void *)rec;
    if (qts_impact_put_record(m, r) != 0)
        QTS_WARN("feedback: impact model row '%s' in the store is malformed, skipped",
                 r->model_key);
    return 0;
}

struct qts_impact_model *qts_feedback_read_store(const struct qts_store_ops *ops, void *self)
{
    if (!ops || !ops->query)
        return NULL;
    struct qts_store_query q;
    memset(&q, 0, sizeof q);
    q.struct_size = sizeof q;
    q.kind = QTS_Q_IMPACT_MODELS;
    q.to_ns = INT64_MAX / 2;
    struct qts_impact_model *m = qts_impact_new(NULL);
    struct qts_err err;
    qts_err_clear(&err);
    int rc = ops->query(self, &q, read_row, m, &err);
    if (rc != 0 || qts_impact_count(m) == 0) {
        if (rc != 0)
            QTS_WARN("feedback: impact model not read from the store: %s", err.msg);
        qts_impact_free(m);
        return NULL;
    }
    return m;
}

struct qts_tca *qts_feedback_tca(struct qts_feedback *f) { return f ? f->tca : NULL; }
struct qts_fb_decide *qts_feedback_decide(struct qts_feedback *f) { return f ? f->decide : NULL; }

void qts_feedback_name_strategy(struct qts_feedback *f, uint32_t id, const char *name)
{
    for (size_t i = 0; i < f->n_budgets; i++)
        if (strcmp(f->budgets[i].name, name) == 0) {
            f->budgets[i].matched = true;
            qts_fb_decide_set_budget(f->decide, id, f->budgets[i].bps);
        }
}

int qts_feedback_check_names(const struct qts_feedback *f, struct qts_err *err)
{
    for (size_t i = 0; i < f->n_budgets; i++)
        if (!f->budgets[i].matched)
            return qts_err_set(err, QTS_ECONFIG,
                               "feedback.cost_budget_bps.%s: no enabled strategy of that name",
                               f->budgets[i].name);
    return 0;
}
struct qts_impact_model *qts_feedback_model(struct qts_feedback *f) { return f ? f->model : NULL; }

int qts_feedback_stream_to(struct qts_feedback *f, const char *run_dir, struct qts_err *err)
{
    char path[1100];
    snprintf(path, sizeof path, "%s/tca.csv", run_dir);
    int rc = qts_tca_csv_start(f->tca, path, err);
    f->streaming = rc == 0;
    return rc;
}

int qts_feedback_end(struct qts_feedback *f, const char *run_dir, struct qts_err *err)
{
    qts_tca_finish(f->tca); /* the last rows complete and reach tca.csv */
    int rc = 0;
    if (!f->streaming) { /* rows not streamed during the run: they are all gone */
        char path[1100];
        snprintf(path, sizeof path, "%s/tca.csv", run_dir);
        rc = qts_tca_csv_start(f->tca, path, err);
    }
    if (rc == 0)
        rc = qts_tca_csv_finish(f->tca, err);
    f->streaming = false;
    if (rc != 0)
        return rc;
    /* the run's copy: the model as the run leaves it and where it came
     * from (summary.json reads it) */
    char path[1100];
    snprintf(path, sizeof path, "%s/impact_model.txt", run_dir);
    if ((rc = qts_impact_save(f->model, path, f->restored, err)) != 0)
        return rc;
    /* every key to the store as well: a model restored from the file and
     * not changed since reaches the store too */
    int64_t ts = f->last_fit_ns;
    if (ts <= 0) {
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        ts = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
    }
    for (size_t i = 0; f->env.on_fit && i < qts_impact_count(f->model); i++)
        f->env.on_fit(f->env.ctx, qts_impact_at(f->model, i)->symbol, ts);
    if (f->save) {
        if (qts_tca_mkdir_parents(f->model_file) != 0)
            return qts_err_set(err, QTS_EIO, "cannot create the directory of %s", f->model_file);
        rc = qts_impact_save(f->model, f->model_file, NULL, err);
    }
    /* the model's state and confidence, one line per fitted key */
    for (size_t i = 0; i < qts_impact_count(f->model); i++) {
        const struct qts_impact_fit *x = qts_impact_at(f->model, i);
        if (x->fitted)
            QTS_INFO("feedback: impact model %s n=%.1f k=%.4g beta=%.3f sd=%.3f confidence=%.3f",
                     x->symbol, x->n, x->k, x->beta, x->resid_sd, x->confidence);
    }
    return rc;
}

void qts_feedback_free(struct qts_feedback *f)
{
    if (!f)
        return;
    qts_fb_decide_free(f->decide);
    qts_tca_free(f->tca);
    qts_impact_free(f->model);
    free(f->budgets);
    free(f);
}
