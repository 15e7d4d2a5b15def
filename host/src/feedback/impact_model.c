/* impact_model.c — see impact_model.h. */
#include "impact_model.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

const double qts_fp_horizon_s[QTS_FP_HORIZONS] = {1.0, 10.0, 60.0};

struct qts_impact_model {
    struct qts_impact_params p;
    struct qts_impact_fit *v; /* owned, n entries, in insertion order */
    size_t n, cap;
};

void qts_impact_params_default(struct qts_impact_params *p)
{
    p->min_samples = 5;
    p->default_mult = 10.0;
    p->default_beta = 0.5;
    p->floor_bps = 1e-4;
    p->forget = 1.0;
    p->fp_prior_weight = 2.0;
}

struct qts_impact_model *qts_impact_new(const struct qts_impact_params *p)
{
    struct qts_impact_model *m = qts_xcalloc(1, sizeof *m);
    if (p)
        m->p = *p;
    else
        qts_impact_params_default(&m->p);
    return m;
}

void qts_impact_free(struct qts_impact_model *m)
{
    if (!m)
        return;
    free(m->v);
    free(m);
}

static struct qts_impact_fit *find(const struct qts_impact_model *m, const char *symbol)
{
    for (size_t i = 0; i < m->n; i++)
        if (strcmp(m->v[i].symbol, symbol) == 0)
            return &m->v[i];
    return NULL;
}

static struct qts_impact_fit *get(struct qts_impact_model *m, const char *symbol)
{
    struct qts_impact_fit *f = find(m, symbol);
    if (f)
        return f;
    if (m->n == m->cap) {
        m->cap = m->cap ? m->cap * 2 : 8;
        m->v = qts_xrealloc(m->v, m->cap * sizeof *m->v);
    }
    f = &m->v[m->n++];
    memset(f, 0, sizeof *f);
    qts_strlcpy(f->symbol, symbol, sizeof f->symbol);
    return f;
}

/* Ordinary least squares of y on x from the running sums. */
static void refit(const struct qts_impact_params *p, struct qts_impact_fit *f)
{
    f->fitted = f->n >= (double)p->min_samples && f->n > 0;
    f->confidence = 0;
    if (!f->fitted)
        return;
    double n = f->n;
    double vx = f->sxx - f->sx * f->sx / n;
    double beta = p->default_beta;
    if (vx > 1e-9 * n) /* x varies: slope from the data, else keep the default */
        beta = (f->sxy - f->sx * f->sy / n) / vx;
    double lnk = (f->sy - beta * f->sx) / n;
    double rss = f->syy - 2 * lnk * f->sy - 2 * beta * f->sxy + n * lnk * lnk +
                 2 * lnk * beta * f->sx + beta * beta * f->sxx;
    f->beta = beta;
    f->k = exp(lnk);
    f->resid_sd = rss > 0 ? sqrt(rss / n) : 0;
    /* more samples and a tighter fit = more confidence (ours, docs/feedback.md) */
    f->confidence = n / (n + (double)p->min_samples) / (1.0 + f->resid_sd);
}

void qts_impact_key(char *buf, size_t n, const char *symbol, int side, int algo)
{
    static const char *const algos[] = {"direct", "twap", "vwap", "iceberg"};
    snprintf(buf, n, "%s/%s/%s", symbol, side == QTS_SIDE_SELL ? "sell" : "buy",
             algo >= 0 && algo < 4 ? algos[algo] : "other");
}

int qts_impact_add(struct qts_impact_model *m, const char *symbol,
                   const struct qts_impact_sample *s)
{
    if (!(s->qty > 0) || !(s->volume > 0) || !isfinite(s->slip_bps) || !isfinite(s->spread_bps))
        return QTS_EINVAL;
    double imp = s->slip_bps - s->spread_bps / 2;
    if (!(imp > m->p.floor_bps))
        imp = m->p.floor_bps;
    double x = log(s->qty / s->volume), y = log(imp);
    double w = s->weight > 0 ? fmin(s->weight, 1.0) : 1.0;
    struct qts_impact_fit *f = get(m, symbol);
    double a = m->p.forget;
    if (a < 1.0) {
        f->n *= a;
        f->sx *= a;
        f->sy *= a;
        f->sxx *= a;
        f->sxy *= a;
        f->syy *= a;
    }
    /* weighted least squares: each sum gains w times the sample's term */
    f->n += w;
    f->sx += w * x;
    f->sy += w * y;
    f->sxx += w * x * x;
    f->sxy += w * x * y;
    f->syy += w * y * y;
    refit(&m->p, f);
    return 0;
}

double qts_impact_predict_impact(const struct qts_impact_model *m, const char *symbol,
                                 double spread_bps, double qty, double volume, bool *is_default)
{
    const struct qts_impact_fit *f = symbol ? find(m, symbol) : NULL;
    bool def = !f || !f->fitted;
    if (is_default)
        *is_default = def;
    if (!(qty > 0) || !(volume > 0))
        return 0;
    double part = qty / volume;
    if (def)
        return spread_bps > 0 ? m->p.default_mult * spread_bps * pow(part, m->p.default_beta) : 0;
    return f->k * pow(part, f->beta);
}

double qts_impact_predict_for(const struct qts_impact_model *m, const char *symbol, int side,
                              int algo, double spread_bps, double qty, double volume,
                              enum qts_impact_src *src, double *conf)
{
    char key[QTS_IMPACT_KEY_MAX];
    const struct qts_impact_fit *f = NULL;
    enum qts_impact_src s = QTS_IMPACT_SRC_DEFAULT;
    if (symbol) {
        qts_impact_key(key, sizeof key, symbol, side, algo);
        f = find(m, key);
        s = QTS_IMPACT_SRC_KEY;
        if (!f || !f->fitted) {
            f = find(m, symbol);
            s = QTS_IMPACT_SRC_SYMBOL;
        }
    }
    if (!f || !f->fitted) {
        f = NULL;
        s = QTS_IMPACT_SRC_DEFAULT;
    }
    if (src)
        *src = s;
    if (conf)
        *conf = f ? f->confidence : 0;
    if (!(qty > 0) || !(volume > 0))
        return 0;
    double part = qty / volume;
    if (!f)
        return spread_bps > 0 ? m->p.default_mult * spread_bps * pow(part, m->p.default_beta) : 0;
    return f->k * pow(part, f->beta);
}

double qts_impact_predict_slippage(const struct qts_impact_model *m, const char *symbol,
                                   double spread_bps, double qty, double volume, bool *is_default)
{
    double half = spread_bps > 0 ? spread_bps / 2 : 0;
    return half + qts_impact_predict_impact(m, symbol, spread_bps, qty, volume, is_default);
}

/* ------------------------------------------------------------ fill probability */

int qts_fp_bucket(double d)
{
    if (!(d >= 0.5))
        return 0; /* at (or inside) the touch */
    if (d < 1.5)
        return 1;
    if (d < 2.5)
        return 2;
    if (d < 4.5)
        return 3;
    if (d < 9.5)
        return 4;
    return 5;
}

/* Prior: 60 % at the touch within 60 s, halving per bucket; shorter
 * horizons 50 % and 80 % of that. */
static double fp_prior(int b, int h)
{
    static const double hf[QTS_FP_HORIZONS] = {0.5, 0.8, 1.0};
    return 0.6 * ldexp(1.0, -b) * hf[h];
}

void qts_impact_add_passive(struct qts_impact_model *m, const char *symbol, double dist_ticks,
                            double first_fill_s, double life_s)
{
    struct qts_impact_fit *f = get(m, symbol);
    int b = qts_fp_bucket(dist_ticks);
    for (int h = 0; h < QTS_FP_HORIZONS; h++) {
        double hz = qts_fp_horizon_s[h];
        bool filled = first_fill_s >= 0 && first_fill_s <= hz;
        if (!filled && life_s < hz)
            continue; /* censored: cancelled before the horizon, unknown */
        f->fp_n[b][h] += 1;
        if (filled)
            f->fp_k[b][h] += 1;
    }
}

static double fp_at(const struct qts_impact_model *m, const struct qts_impact_fit *f, int b, int h)
{
    double w = m->p.fp_prior_weight, p0 = fp_prior(b, h);
    if (!f)
        return p0;
    return (f->fp_k[b][h] + w * p0) / (f->fp_n[b][h] + w);
}

void qts_impact_fill_prob_row(const struct qts_impact_model *m, const char *symbol,
                              double dist_ticks, double p[QTS_FP_HORIZONS])
{
    const struct qts_impact_fit *f = symbol ? find(m, symbol) : NULL;
    int b = qts_fp_bucket(dist_ticks);
    for (int h = 0; h < QTS_FP_HORIZONS; h++) {
        p[h] = fp_at(m, f, b, h);
        if (h > 0 && p[h] < p[h - 1])
            p[h] = p[h - 1]; /* a longer horizon never fills less */
    }
}

double qts_fp_interp(const double p[QTS_FP_HORIZONS], double horizon_s)
{
    if (!(horizon_s > 0))
        return 0;
    if (horizon_s <= qts_fp_horizon_s[0])
        return p[0] * horizon_s / qts_fp_horizon_s[0];
    for (int h = 1; h < QTS_FP_HORIZONS; h++) {
        if (horizon_s <= qts_fp_horizon_s[h]) {
            double t = log(horizon_s / qts_fp_horizon_s[h - 1]) /
                       log(qts_fp_horizon_s[h] / qts_fp_horizon_s[h - 1]);
            return p[h - 1] + t * (p[h] - p[h - 1]);
        }
    }
    return p[QTS_FP_HORIZONS - 1];
}

double qts_impact_fill_prob(const struct qts_impact_model *m, const char *symbol, double dist_ticks,
                            double horizon_s)
{
    double p[QTS_FP_HORIZONS];
    qts_impact_fill_prob_row(m, symbol, dist_ticks, p);
    return qts_fp_interp(p, horizon_s);
}

const struct qts_impact_fit *qts_impact_get(const struct qts_impact_model *m, const char *symbol)
{
    return find(m, symbol);
}

size_t qts_impact_count(const struct qts_impact_model *m) { return m->n; }

const struct qts_impact_fit *qts_impact_at(const struct qts_impact_model *m, size_t i)
{
    return i < m->n ? &m->v[i] : NULL;
}

/* ------------------------------------------------------------------ persistence */

#define FILE_MAGIC "# qts impact model v1"

int qts_impact_save(const struct qts_impact_model *m, const char *path, const char *note,
                    struct qts_err *err)
{
    char tmp[1100];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return qts_err_set(err, QTS_EIO, "cannot write %s: %s", tmp, strerror(errno));
    fprintf(f, "%s\n", FILE_MAGIC);
    if (note && note[0])
        fprintf(f, "# %s\n", note);
    for (size_t i = 0; i < m->n; i++) {
        const struct qts_impact_fit *x = &m->v[i];
        fprintf(f,
                "%s n=%.17g k=%.17g beta=%.17g sd=%.6g conf=%.6g sx=%.17g sy=%.17g sxx=%.17g "
                "sxy=%.17g syy=%.17g fp=",
                x->symbol, x->n, x->fitted ? x->k : 0.0, x->fitted ? x->beta : 0.0,
                x->fitted ? x->resid_sd : 0.0, x->confidence, x->sx, x->sy, x->sxx, x->sxy, x->syy);
        for (int b = 0; b < QTS_FP_BUCKETS; b++)
            for (int h = 0; h < QTS_FP_HORIZONS; h++)
                fprintf(f, "%s%.17g/%.17g", b || h ? "," : "", x->fp_k[b][h], x->fp_n[b][h]);
        fputc('\n', f);
    }
    bool bad = ferror(f) != 0;
    if (fclose(f) != 0 || bad) {
        remove(tmp);
        return qts_err_set(err, QTS_EIO, "cannot write %s", tmp);
    }
    if (rename(tmp, path) != 0) {
        remove(tmp);
        return qts_err_set(err, QTS_EIO, "cannot rename %s: %s", tmp, strerror(errno));
    }
    return 0;
}

static bool kv_double(char *tok, const char *key, double *out)
{
    size_t n = strlen(key);
    if (strncmp(tok, key, n) != 0 || tok[n] != '=')
        return false;
    char *end;
    *out = strtod(tok + n + 1, &end);
    return *end == '\0' && end != tok + n + 1;
}

static bool parse_fp(char *s, struct qts_impact_fit *x)
{
    for (int b = 0; b < QTS_FP_BUCKETS; b++)
        for (int h = 0; h < QTS_FP_HORIZONS; h++) {
            char *end;
            x->fp_k[b][h] = strtod(s, &end);
            if (*end != '/')
                return false;
            x->fp_n[b][h] = strtod(end + 1, &s);
            if (s == end + 1 || (*s != ',' && *s != '\0'))
                return false;
            if (*s == ',')
                s++;
        }
    return *s == '\0';
}

int qts_impact_load(struct qts_impact_model *m, const char *path, struct qts_err *err)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return qts_err_set(err, errno == ENOENT ? QTS_ENOENT : QTS_EIO, "cannot open %s: %s", path,
                           strerror(errno));
    char line[4096];
    int lineno = 0, rc = 0;
    struct qts_impact_fit *v = NULL;
    size_t n = 0, cap = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] == '#' || line[0] == '\0')
            continue;
        struct qts_impact_fit x;
        memset(&x, 0, sizeof x);
        char *save = NULL, *tok = strtok_r(line, " ", &save);
        qts_strlcpy(x.symbol, tok, sizeof x.symbol);
        double k = 0, beta = 0, info = 0;
        unsigned seen = 0;
        while ((tok = strtok_r(NULL, " ", &save))) {
            if (kv_double(tok, "n", &x.n))
                seen |= 1;
            else if (kv_double(tok, "k", &k))
                seen |= 2;
            else if (kv_double(tok, "beta", &beta))
                seen |= 4;
            else if (kv_double(tok, "sx", &x.sx))
                seen |= 8;
            else if (kv_double(tok, "sy", &x.sy))
                seen |= 16;
            else if (kv_double(tok, "sxx", &x.sxx))
                seen |= 32;
            else if (kv_double(tok, "sxy", &x.sxy))
                seen |= 64;
            else if (kv_double(tok, "syy", &x.syy))
                seen |= 128;
            else if (strncmp(tok, "fp=", 3) == 0 && parse_fp(tok + 3, &x))
                seen |= 256;
            else if (kv_double(tok, "sd", &info) || kv_double(tok, "conf", &info))
                continue; /* informative, recomputed from the sums */
            else {
                seen = 0;
                break;
            }
        }
        if (seen != 511 || !(x.n >= 0)) {
            rc = qts_err_set(err, QTS_EPARSE, "%s:%d: malformed impact model line", path, lineno);
            break;
        }
        refit(&m->p, &x); /* parameters follow from the sums */
        if (n == cap) {
            cap = cap ? cap * 2 : 8;
            v = qts_xrealloc(v, cap * sizeof *v);
        }
        v[n++] = x;
    }
    fclose(f);
    if (rc != 0) {
        free(v);
        return rc;
    }
    free(m->v);
    m->v = v;
    m->n = m->cap = n;
    if (!v)
        m->cap = 0;
    return 0;
}

/* ------------------------------------------------------------ store records */

void qts_impact_to_record(const struct qts_impact_fit *x, struct qts_store_impact_model *r)
{
    memset(r, 0, sizeof *r);
    r->h.struct_size = sizeof *r;
    r->h.kind = QTS_REC_IMPACT_MODEL;
    qts_strlcpy(r->model_key, x->symbol, sizeof r->model_key);
    r->n = x->n;
    r->sx = x->sx;
    r->sy = x->sy;
    r->sxx = x->sxx;
    r->sxy = x->sxy;
    r->syy = x->syy;
    r->k = x->fitted ? x->k : NAN;
    r->beta = x->fitted ? x->beta : NAN;
    r->resid_sd = x->fitted ? x->resid_sd : NAN;
    r->confidence = x->fitted ? x->confidence : NAN;
    /* the counts are whole numbers (one per order observed) */
    size_t l = 0;
    for (int b = 0; b < QTS_FP_BUCKETS; b++)
        for (int h = 0; h < QTS_FP_HORIZONS && l < sizeof r->fill_counts; h++)
            l += (size_t)snprintf(r->fill_counts + l, sizeof r->fill_counts - l, "%s%.0f/%.0f",
                                  b || h ? "," : "", x->fp_k[b][h], x->fp_n[b][h]);
}

static void put_fit(struct qts_impact_model *m, const struct qts_impact_fit *x)
{
    struct qts_impact_fit *f = get(m, x->symbol);
    *f = *x;
    refit(&m->p, f);
}

int qts_impact_put_record(struct qts_impact_model *m, const struct qts_store_impact_model *r)
{
    struct qts_impact_fit x;
    memset(&x, 0, sizeof x);
    char fp[sizeof r->fill_counts];
    qts_strlcpy(x.symbol, r->model_key, sizeof x.symbol);
    qts_strlcpy(fp, r->fill_counts, sizeof fp);
    if (!x.symbol[0] || !(r->n >= 0) || !isfinite(r->sx) || !isfinite(r->sy) || !isfinite(r->sxx) ||
        !isfinite(r->sxy) || !isfinite(r->syy) || !parse_fp(fp, &x))
        return QTS_EPARSE;
    x.n = r->n;
    x.sx = r->sx;
    x.sy = r->sy;
    x.sxx = r->sxx;
    x.sxy = r->sxy;
    x.syy = r->syy;
    put_fit(m, &x);
    return 0;
}

void qts_impact_merge(struct qts_impact_model *m, const struct qts_impact_model *from)
{
    for (size_t i = 0; from && i < from->n; i++)
        put_fit(m, &from->v[i]);
}
