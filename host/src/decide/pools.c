/* pools.c — see pools.h. */
#include "pools.h"

#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#include "log.h"
#include "portfolio.h"
#include "qts/qts_fixed.h"
#include "risk_limits.h"
#include "safety_codes.h"
#include "util.h"

#define DAY_NS INT64_C(86400000000000)

struct pool {
    int state;           /* enum qts_pool_state */
    double max_drawdown; /* FS082 level, 0..1 */
    int64_t capital, exposure, reserved, available, peak, pnl;
    const char *lock_code; /* why LOCKED by the host ("FS081", "FS082"); NULL = config */
};

struct qts_pools {
    struct qts_portfolio *pf; /* borrowed */
    struct qts_pools_env env;
    bool pools_on;
    struct pool pool[QTS_POOL_COUNT];
    double alloc[QTS_OP_COUNT][QTS_POOL_COUNT];
    double threshold[QTS_OP_COUNT];
    double dd_balanced, loss_balanced, dd_defensive; /* account levels, 0..1 */
    int64_t min_dwell_ns;
    int op;              /* enum qts_op_state */
    int op_moved_by;     /* the level that moved it (index into levels) */
    int64_t op_since_ns; /* when the state was entered (run's clock) */
    uint32_t transitions;
    int64_t base; /* account equity at the first update (cash units) */
    int64_t peak_equity, day_start_equity, day;
    double drawdown, daily_loss;
    bool fs080;
};

const char *qts_pool_state_name(int s)
{
    static const char *const n[] = {"ACTIVE", "PAUSED", "LOCKED"};
    return s >= 0 && s < 3 ? n[s] : "?";
}

const char *qts_op_state_name(int s)
{
    static const char *const n[] = {"AGGRESSIVE", "BALANCED", "DEFENSIVE"};
    return s >= 0 && s < QTS_OP_COUNT ? n[s] : "?";
}

double qts_intent_confidence(const struct qts_order_intent *in)
{
    return in->confidence_bp ? (double)in->confidence_bp / 10000.0 : -1.0;
}

static int name_index(const char *s, const char *(*name)(int), int n)
{
    for (int i = 0; s && i < n; i++)
        if (strcasecmp(s, name(i)) == 0)
            return i;
    return -1;
}

/* A fraction 0..1 at `key` of map n (absent: *out unchanged). */
static int get_frac(const struct qts_cfg_node *n, const char *path, const char *key, double *out,
                    struct qts_err *err)
{
    const struct qts_cfg_node *v = qts_cfg_get(n, key);
    if (!v)
        return 0;
    double d;
    if (qts_cfg_double(v, &d, err) != 0 || !(d >= 0 && d <= 1))
        return qts_err_set(err, QTS_ECONFIG, "%s.%s: a fraction between 0 and 1", path, key);
    *out = d;
    return 0;
}

/* "3d", "12h", "30m", "45s" or milliseconds. */
static int get_dwell(const struct qts_cfg_node *n, int64_t *out, struct qts_err *err)
{
    const struct qts_cfg_node *v = qts_cfg_get(n, "min_dwell");
    if (!v)
        return 0;
    const char *s = qts_cfg_str(v);
    char *end = NULL;
    double x = s ? strtod(s, &end) : -1;
    int64_t unit = INT64_C(1000000); /* ms */
    if (end && *end) {
        switch (tolower((unsigned char)*end)) {
        case 's': unit = INT64_C(1000000000); break;
        case 'm': unit = INT64_C(60000000000); break;
        case 'h': unit = INT64_C(3600000000000); break;
        case 'd': unit = DAY_NS; break;
        default: x = -1;
        }
        if (end[1])
            x = -1;
    }
    if (!s || end == s || !(x >= 0))
        return qts_err_set(err, QTS_ECONFIG,
                           "decide.operating_state.min_dwell: a duration such as 3d, 12h, 30m, "
                           "45s or milliseconds");
    *out = (int64_t)(x * (double)unit);
    return 0;
}

/* Every key of map n must be one of `known` (NULL-terminated). */
static int only_keys(const struct qts_cfg_node *n, const char *path, const char *const *known,
                     struct qts_err *err)
{
    if (qts_cfg_type(n) != QTS_CFG_MAP)
        return qts_err_set(err, QTS_ECONFIG, "%s: a mapping", path);
    for (size_t i = 0; i < qts_cfg_len(n); i++) {
        const char *k = qts_cfg_key_at(n, i);
        bool ok = false;
        for (const char *const *q = known; *q && !ok; q++)
            ok = strcasecmp(k, *q) == 0;
        if (!ok)
            return qts_err_set(err, QTS_ECONFIG, "%s: unknown key '%s'", path, k);
    }
    return 0;
}

static const char *pool_name_fn(int i) { return qts_pool_name(i); }

static int parse_pools(struct qts_pools *p, const struct qts_cfg_node *n, struct qts_err *err)
{
    static const char *const names[] = {"scalp", "swing", "portfolio", NULL};
    static const char *const keys[] = {"state", "max_drawdown", NULL};
    if (only_keys(n, "decide.pools", names, err) != 0)
        return QTS_ECONFIG;
    for (size_t i = 0; i < qts_cfg_len(n); i++) {
        int k = name_index(qts_cfg_key_at(n, i), pool_name_fn, QTS_POOL_COUNT);
        const struct qts_cfg_node *c = qts_cfg_at(n, i);
        char path[64];
        snprintf(path, sizeof path, "decide.pools.%s", qts_pool_name(k));
        if (qts_cfg_type(c) == QTS_CFG_NULL)
            continue;
        if (only_keys(c, path, keys, err) != 0)
            return QTS_ECONFIG;
        const struct qts_cfg_node *st = qts_cfg_get(c, "state");
        if (st) {
            int s = name_index(qts_cfg_str(st), qts_pool_state_name, 3);
            if (s < 0)
                return qts_err_set(err, QTS_ECONFIG, "%s.state: ACTIVE, PAUSED or LOCKED", path);
            p->pool[k].state = s;
        }
        if (get_frac(c, path, "max_drawdown", &p->pool[k].max_drawdown, err) != 0)
            return QTS_ECONFIG;
    }
    p->pools_on = true;
    return 0;
}

static int parse_op(struct qts_pools *p, const struct qts_cfg_node *n, struct qts_err *err)
{
    static const char *const keys[] = {"initial",
                                       "min_dwell",
                                       "drawdown_balanced",
                                       "daily_loss_balanced",
                                       "drawdown_defensive",
                                       "allocation",
                                       "threshold",
                                       NULL};
    static const char *const states[] = {"aggressive", "balanced", "defensive", NULL};
    static const char *const pools[] = {"scalp", "swing", "portfolio", NULL};
    const char *path = "decide.operating_state";
    if (only_keys(n, path, keys, err) != 0)
        return QTS_ECONFIG;
    const struct qts_cfg_node *v = qts_cfg_get(n, "initial");
    if (v && (p->op = name_index(qts_cfg_str(v), qts_op_state_name, QTS_OP_COUNT)) < 0)
        return qts_err_set(err, QTS_ECONFIG, "%s.initial: AGGRESSIVE, BALANCED or DEFENSIVE", path);
    if (get_dwell(n, &p->min_dwell_ns, err) != 0 ||
        get_frac(n, path, "drawdown_balanced", &p->dd_balanced, err) != 0 ||
        get_frac(n, path, "daily_loss_balanced", &p->loss_balanced, err) != 0 ||
        get_frac(n, path, "drawdown_defensive", &p->dd_defensive, err) != 0)
        return QTS_ECONFIG;
    if (p->dd_balanced > p->dd_defensive)
        return qts_err_set(err, QTS_ECONFIG,
                           "%s: drawdown_balanced (%g) above drawdown_defensive (%g)", path,
                           p->dd_balanced, p->dd_defensive);
    const struct qts_cfg_node *a = qts_cfg_get(n, "allocation");
    if (a) {
        if (only_keys(a, "decide.operating_state.allocation", states, err) != 0)
            return QTS_ECONFIG;
        for (size_t i = 0; i < qts_cfg_len(a); i++) {
            int s = name_index(qts_cfg_key_at(a, i), qts_op_state_name, QTS_OP_COUNT);
            char sp[96];
            snprintf(sp, sizeof sp, "%s.allocation.%s", path, qts_cfg_key_at(a, i));
            const struct qts_cfg_node *m = qts_cfg_at(a, i);
            if (only_keys(m, sp, pools, err) != 0)
                return QTS_ECONFIG;
            double sum = 0;
            for (int k = 0; k < QTS_POOL_COUNT; k++) {
                if (get_frac(m, sp, qts_pool_name(k), &p->alloc[s][k], err) != 0)
                    return QTS_ECONFIG;
                sum += p->alloc[s][k];
            }
            if (sum > 1.0 + 1e-9)
                return qts_err_set(err, QTS_ECONFIG, "%s: the shares add up to %g (at most 1)", sp,
                                   sum);
        }
    }
    const struct qts_cfg_node *t = qts_cfg_get(n, "threshold");
    if (t) {
        if (only_keys(t, "decide.operating_state.threshold", states, err) != 0)
            return QTS_ECONFIG;
        for (int s = 0; s < QTS_OP_COUNT; s++) {
            char key[16];
            snprintf(key, sizeof key, "%s", states[s]);
            if (get_frac(t, "decide.operating_state.threshold", key, &p->threshold[s], err) != 0)
                return QTS_ECONFIG;
        }
    }
    return 0;
}

int qts_pools_new(const struct qts_cfg_node *decide, struct qts_portfolio *pf,
                  const struct qts_pools_env *env, struct qts_pools **out, struct qts_err *err)
{
    *out = NULL;
    const struct qts_cfg_node *pn = decide ? qts_cfg_get(decide, "pools") : NULL;
    const struct qts_cfg_node *on = decide ? qts_cfg_get(decide, "operating_state") : NULL;
    if (!pn && !on)
        return 0;
    struct qts_pools *p = qts_xcalloc(1, sizeof *p);
    p->pf = pf;
    p->env = *env;
    /* the design's figures (spec-core-pipeline-broker.md §4.7) */
    static const double alloc[QTS_OP_COUNT][QTS_POOL_COUNT] = {
        {0.70, 0.20, 0.10}, {0.40, 0.35, 0.25}, {0.10, 0.20, 0.70}};
    memcpy(p->alloc, alloc, sizeof alloc);
    p->threshold[QTS_OP_AGGRESSIVE] = 0.6;
    p->threshold[QTS_OP_BALANCED] = 0.7;
    p->threshold[QTS_OP_DEFENSIVE] = 0.9;
    p->dd_balanced = 0.05;
    p->loss_balanced = 0.02;
    p->dd_defensive = 0.10;
    p->min_dwell_ns = 3 * DAY_NS;
    p->op = QTS_OP_BALANCED;
    p->op_since_ns = -1;
    for (int k = 0; k < QTS_POOL_COUNT; k++)
        p->pool[k].max_drawdown = 0.20;
    int rc = 0;
    if (pn && qts_cfg_type(pn) != QTS_CFG_NULL)
        rc = parse_pools(p, pn, err);
    if (rc == 0 && on && qts_cfg_type(on) != QTS_CFG_NULL)
        rc = parse_op(p, on, err);
    if (rc != 0) {
        free(p);
        return rc;
    }
    *out = p;
    return 0;
}

void qts_pools_free(struct qts_pools *p) { free(p); }

static void set_op(struct qts_pools *p, int to, int64_t now_ns, const char *why)
{
    QTS_WARN("operating state %s -> %s: %s (threshold %.2f -> %.2f)", qts_op_state_name(p->op),
             qts_op_state_name(to), why, p->threshold[p->op], p->threshold[to]);
    p->op = to;
    p->op_since_ns = now_ns;
    p->transitions++;
    if (p->env.state_changed)
        p->env.state_changed(p->env.ctx, to);
}

/* Towards DEFENSIVE at once; back one step after the dwell, once the
 * drawdown is below half the level that moved the state. */
static void move_op(struct qts_pools *p, int64_t now_ns)
{
    char why[96];
    if (p->op != QTS_OP_DEFENSIVE && p->drawdown > p->dd_defensive) {
        snprintf(why, sizeof why, "drawdown %.2f %% above %.2f %%", 100 * p->drawdown,
                 100 * p->dd_defensive);
        set_op(p, QTS_OP_DEFENSIVE, now_ns, why);
        return;
    }
    if (p->op == QTS_OP_AGGRESSIVE &&
        (p->drawdown > p->dd_balanced || p->daily_loss > p->loss_balanced)) {
        snprintf(why, sizeof why, "drawdown %.2f %% / daily loss %.2f %% above %.2f %% / %.2f %%",
                 100 * p->drawdown, 100 * p->daily_loss, 100 * p->dd_balanced,
                 100 * p->loss_balanced);
        set_op(p, QTS_OP_BALANCED, now_ns, why);
        return;
    }
    if (p->op == QTS_OP_AGGRESSIVE || now_ns - p->op_since_ns < p->min_dwell_ns)
        return;
    double level = p->op == QTS_OP_DEFENSIVE ? p->dd_defensive : p->dd_balanced;
    if (p->drawdown < level / 2 &&
        (p->op == QTS_OP_DEFENSIVE || p->daily_loss < p->loss_balanced / 2)) {
        snprintf(why, sizeof why, "drawdown %.2f %% below %.2f %% after the dwell",
                 100 * p->drawdown, 100 * level / 2);
        set_op(p, p->op - 1, now_ns, why);
    }
}

static void lock(struct qts_pools *p, int k, const char *code, const char *fmt, double a, double b)
{
    struct pool *q = &p->pool[k];
    if (q->state == QTS_POOL_LOCKED)
        return;
    q->state = QTS_POOL_LOCKED;
    q->lock_code = code;
    char msg[160];
    snprintf(msg, sizeof msg, fmt, a, b);
    /* the pool is locked, not the host: the other pools keep trading */
    QTS_WARN("%s: %s pool LOCKED: %s", code, qts_pool_name(k), msg);
}

void qts_pools_update(struct qts_pools *p, int64_t now_ns)
{
    int64_t eq = qts_portfolio_equity(p->pf);
    if (p->op_since_ns < 0) { /* the first update: the run's starting point */
        p->base = eq;
        p->peak_equity = eq;
        p->day_start_equity = eq;
        p->day = now_ns / DAY_NS;
        p->op_since_ns = now_ns;
        for (int k = 0; k < QTS_POOL_COUNT; k++)
            p->pool[k].peak = (int64_t)((double)eq * p->alloc[p->op][k]);
    }
    if (now_ns / DAY_NS != p->day) {
        p->day = now_ns / DAY_NS;
        p->day_start_equity = eq;
    }
    if (eq > p->peak_equity)
        p->peak_equity = eq;
    p->drawdown = p->peak_equity > 0 ? 1.0 - (double)eq / (double)p->peak_equity : 0;
    p->daily_loss = p->day_start_equity > 0
                        ? (double)(p->day_start_equity - eq) / (double)p->day_start_equity
                        : 0;
    if (eq <= 0 && !p->fs080) {
        p->fs080 = true;
        p->env.safety(p->env.ctx, QTS_SC_FS080, "total capital <= 0: every pool locked");
        for (int k = 0; k < QTS_POOL_COUNT; k++)
            lock(p, k, "FS080", "account equity %.0f <= %.0f", (double)eq, 0);
    }
    move_op(p, now_ns);
    if (!p->pools_on)
        return;
    int64_t pnl[QTS_POOL_COUNT] = {0}, expo[QTS_POOL_COUNT] = {0}, resv[QTS_POOL_COUNT] = {0};
    if (p->env.reserved)
        p->env.reserved(p->env.ctx, resv);
    const struct qts_position *v = NULL;
    size_t n = qts_portfolio_strategy_positions(p->pf, &v);
    int last_sid = -1, scope = 0;
    for (size_t i = 0; i < n; i++) {
        if ((int)v[i].strategy_id != last_sid) { /* sorted by strategy */
            last_sid = (int)v[i].strategy_id;
            scope = p->env.scope(p->env.ctx, v[i].strategy_id);
            if (scope < 0 || scope >= QTS_POOL_COUNT)
                scope = 0;
        }
        pnl[scope] += v[i].realized - v[i].fees + qts_portfolio_position_unrealized(p->pf, &v[i]);
        int64_t px = qts_portfolio_last_px(p->pf, v[i].instrument);
        int64_t mv = qts_cash_notional(px, v[i].px_exp, v[i].qty, v[i].qty_exp);
        expo[scope] += mv < 0 ? -mv : mv;
    }
    for (int k = 0; k < QTS_POOL_COUNT; k++) {
        struct pool *q = &p->pool[k];
        q->pnl = pnl[k];
        q->capital = (int64_t)((double)p->base * p->alloc[p->op][k]) + pnl[k];
        q->exposure = expo[k];
        q->reserved = resv[k];
        q->available = q->capital - expo[k] - resv[k];
        if (q->available < 0)
            q->available = 0;
        if (q->capital > q->peak)
            q->peak = q->capital;
        double unit = (double)qts_pow10_i64[QTS_CASH_EXP];
        if (q->capital < 0)
            lock(p, k, "FS081", "capital %.2f below zero (%.0f)", (double)q->capital / unit, 0);
        else if (q->peak > 0 && q->max_drawdown > 0 &&
                 1.0 - (double)q->capital / (double)q->peak > q->max_drawdown)
            lock(p, k, "FS082", "drawdown %.2f %% above %.2f %%",
                 100.0 * (1.0 - (double)q->capital / (double)q->peak), 100.0 * q->max_drawdown);
    }
}

bool qts_pools_enabled(const struct qts_pools *p) { return p->pools_on; }

int qts_pools_state(const struct qts_pools *p, int pool)
{
    return pool >= 0 && pool < QTS_POOL_COUNT ? p->pool[pool].state : QTS_POOL_ACTIVE;
}

int64_t qts_pools_available(const struct qts_pools *p, int pool)
{
    if (!p->pools_on || p->op_since_ns < 0)
        return INT64_MAX; /* not configured, or nothing priced yet */
    return pool >= 0 && pool < QTS_POOL_COUNT ? p->pool[pool].available : 0;
}

int qts_pools_op_state(const struct qts_pools *p) { return p->op; }
double qts_pools_threshold(const struct qts_pools *p) { return p->threshold[p->op]; }

bool qts_pools_is_entry(const struct qts_pools *p, uint32_t strategy_id, uint32_t instrument,
                        int side)
{
    const struct qts_position *pos =
        qts_portfolio_strategy_position(p->pf, strategy_id, instrument);
    int64_t q = pos ? pos->qty : 0;
    return q == 0 || (q > 0) == (side == QTS_SIDE_BUY);
}

/* snprintf at buf + *used, never past cap; *used stops at cap. */
static void put(char *buf, size_t cap, size_t *used, int *total, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static void put(char *buf, size_t cap, size_t *used, int *total, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + *used, cap - *used, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    *total += n;
    *used = *used + (size_t)n < cap ? *used + (size_t)n : cap;
}

int qts_pools_json(const struct qts_pools *p, char *buf, size_t cap)
{
    double unit = (double)qts_pow10_i64[QTS_CASH_EXP];
    size_t used = 0;
    int n = 0;
    put(buf, cap, &used, &n,
        "{\"operating_state\":\"%s\",\"threshold\":%.4g,\"transitions\":%u,"
        "\"drawdown\":%.6f,\"pools\":",
        qts_op_state_name(p->op), p->threshold[p->op], p->transitions, p->drawdown);
    if (!p->pools_on) {
        put(buf, cap, &used, &n, "null}");
        return n;
    }
    for (int k = 0; k < QTS_POOL_COUNT; k++) {
        const struct pool *q = &p->pool[k];
        put(buf, cap, &used, &n,
            "%s\"%s\":{\"state\":\"%s\",\"lock_code\":\"%s\",\"allocation\":%.4g,"
            "\"capital\":%.2f,\"invested\":%.2f,\"reserved\":%.2f,\"available\":%.2f,"
            "\"pnl\":%.2f}",
            k ? "," : "{", qts_pool_name(k), qts_pool_state_name(q->state),
            q->lock_code ? q->lock_code : "", p->alloc[p->op][k], (double)q->capital / unit,
            (double)q->exposure / unit, (double)q->reserved / unit, (double)q->available / unit,
            (double)q->pnl / unit);
    }
    put(buf, cap, &used, &n, "}}");
    return n;
}
