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
    int64_t moved;         /* capital moved in (out: < 0) by promotions and demotions */
    int64_t acc_offset;    /* PnL already promoted out: accumulated profit = pnl - this */
    int64_t period_peak;   /* the highest capital since the last check */
    double period_dd;      /* the largest drawdown from period_peak since the last check */
    int64_t trades_base;   /* closed trades counted at the last promotion out */
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
    /* the capital flow (decide.capital_flow): checked on the run's clock */
    bool flow_on;
    int64_t check_ns, next_check_ns;
    struct promo {
        double min_profit; /* of the starting equity */
        double share;      /* of the profit above min_profit */
        double max_dd;     /* the pool's drawdown in the period at most */
        int64_t min_trades;
    } promo[2]; /* scalp -> swing, swing -> portfolio */
    struct demo {
        double drawdown; /* the pool's drawdown in the period above it */
        double share;    /* of the pool's capital */
    } demo[2];           /* swing -> scalp, portfolio -> swing */
    uint32_t promotions, demotions;
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
static int get_duration(const struct qts_cfg_node *n, const char *path, const char *key,
                        int64_t *out, struct qts_err *err)
{
    const struct qts_cfg_node *v = qts_cfg_get(n, key);
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
                           "%s.%s: a duration such as 3d, 12h, 30m, 45s or milliseconds", path,
                           key);
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
    if (get_duration(n, path, "min_dwell", &p->min_dwell_ns, err) != 0 ||
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

/* A duration ("7d", "12h", "30m", "45s" or milliseconds) at key `key` of
 * map n, for the message `path.key`. */
static int get_duration(const struct qts_cfg_node *n, const char *path, const char *key,
                        int64_t *out, struct qts_err *err);

/* decide.capital_flow: the design's promotion and demotion rules
 * (spec-execution-risk.md §6.4-6.5), each number overridable. */
static int parse_flow(struct qts_pools *p, const struct qts_cfg_node *n, struct qts_err *err)
{
    static const char *const keys[] = {"check_every",    "scalp_to_swing",     "swing_to_portfolio",
                                       "swing_to_scalp", "portfolio_to_swing", NULL};
    static const char *const pkeys[] = {"min_profit", "share", "max_drawdown", "min_trades", NULL};
    static const char *const dkeys[] = {"drawdown", "share", NULL};
    const char *path = "decide.capital_flow";
    if (only_keys(n, path, keys, err) != 0)
        return QTS_ECONFIG;
    if (get_duration(n, path, "check_every", &p->check_ns, err) != 0)
        return QTS_ECONFIG;
    if (p->check_ns <= 0)
        return qts_err_set(err, QTS_ECONFIG, "%s.check_every: a duration above 0", path);
    static const char *const up[] = {"scalp_to_swing", "swing_to_portfolio"};
    static const char *const down[] = {"swing_to_scalp", "portfolio_to_swing"};
    for (int i = 0; i < 2; i++) {
        char sp[96];
        const struct qts_cfg_node *c = qts_cfg_get(n, up[i]);
        snprintf(sp, sizeof sp, "%s.%s", path, up[i]);
        if (c && qts_cfg_type(c) != QTS_CFG_NULL) {
            if (only_keys(c, sp, pkeys, err) != 0 ||
                get_frac(c, sp, "min_profit", &p->promo[i].min_profit, err) != 0 ||
                get_frac(c, sp, "share", &p->promo[i].share, err) != 0 ||
                get_frac(c, sp, "max_drawdown", &p->promo[i].max_dd, err) != 0)
                return QTS_ECONFIG;
            const struct qts_cfg_node *t = qts_cfg_get(c, "min_trades");
            if (t &&
                (qts_cfg_int(t, &p->promo[i].min_trades, err) != 0 || p->promo[i].min_trades < 0))
                return qts_err_set(err, QTS_ECONFIG, "%s.min_trades: a whole number >= 0", sp);
        }
        c = qts_cfg_get(n, down[i]);
        snprintf(sp, sizeof sp, "%s.%s", path, down[i]);
        if (c && qts_cfg_type(c) != QTS_CFG_NULL &&
            (only_keys(c, sp, dkeys, err) != 0 ||
             get_frac(c, sp, "drawdown", &p->demo[i].drawdown, err) != 0 ||
             get_frac(c, sp, "share", &p->demo[i].share, err) != 0))
            return QTS_ECONFIG;
    }
    p->flow_on = true;
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
    /* the design's capital flow (spec-execution-risk.md §6.4-6.5); the
     * profit levels are its 1 000 000 and 5 000 000 KRW of a 100 000 000
     * KRW account */
    p->check_ns = 7 * DAY_NS;
    p->promo[0] =
        (struct promo){.min_profit = 0.01, .share = 0.5, .max_dd = 0.10, .min_trades = 50};
    p->promo[1] = (struct promo){.min_profit = 0.05, .share = 0.3, .max_dd = 0.15, .min_trades = 0};
    p->demo[0] = (struct demo){.drawdown = 0.15, .share = 0.30};
    p->demo[1] = (struct demo){.drawdown = 0.10, .share = 0.20};
    const struct qts_cfg_node *fn = decide ? qts_cfg_get(decide, "capital_flow") : NULL;
    int rc = 0;
    if (pn && qts_cfg_type(pn) != QTS_CFG_NULL)
        rc = parse_pools(p, pn, err);
    if (rc == 0 && on && qts_cfg_type(on) != QTS_CFG_NULL)
        rc = parse_op(p, on, err);
    if (rc == 0 && fn && qts_cfg_type(fn) != QTS_CFG_NULL) {
        rc = parse_flow(p, fn, err);
        if (rc == 0 && !p->pools_on)
            rc = qts_err_set(err, QTS_ECONFIG,
                             "decide.capital_flow: needs decide.pools (capital moves between "
                             "pools)");
    }
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
    /* A new allocation is neither a drawdown nor a new peak of a pool: each
     * pool's peaks move with its capital, keeping its drawdown ratio (FS082),
     * as a capital move does. */
    for (int k = 0; k < QTS_POOL_COUNT; k++) {
        struct pool *q = &p->pool[k];
        int64_t delta = (int64_t)((double)p->base * (p->alloc[to][k] - p->alloc[p->op][k]));
        int64_t before = q->capital, after = q->capital + delta;
        if (before > 0 && after > 0) {
            double r = (double)after / (double)before;
            q->peak = (int64_t)((double)q->peak * r);
            q->period_peak = (int64_t)((double)q->period_peak * r);
        } else {
            q->peak += delta;
            q->period_peak += delta;
        }
    }
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

/* Closed trades of each pool's strategies since the run started. */
static void pool_trades(struct qts_pools *p, int64_t out[QTS_POOL_COUNT])
{
    struct qts_strategy_stats *ss = NULL;
    size_t n = qts_portfolio_strategy_stats(p->pf, &ss);
    for (size_t i = 0; i < n; i++) {
        int k = p->env.scope(p->env.ctx, ss[i].strategy_id);
        out[k >= 0 && k < QTS_POOL_COUNT ? k : 0] += ss[i].n_trades;
    }
    free(ss);
}

static void move_capital(struct qts_pools *p, int64_t now_ns, int from, int to, int64_t amount,
                         bool promotion, const char *why, const char *json)
{
    struct pool *a = &p->pool[from], *b = &p->pool[to];
    /* a move is neither a drawdown of the source nor a new peak of the
     * destination: the peaks move with the capital */
    int64_t before = a->capital;
    a->moved -= amount, b->moved += amount;
    a->capital -= amount, b->capital += amount;
    if (before > 0) /* the source keeps its drawdown ratio (FS082) */
        a->peak = (int64_t)((double)a->peak * (double)a->capital / (double)before);
    b->peak += amount;
    a->period_peak -= amount, b->period_peak += amount;
    a->available = a->available > amount ? a->available - amount : 0;
    b->available += amount;
    if (promotion)
        p->promotions++;
    else
        p->demotions++;
    double unit = (double)qts_pow10_i64[QTS_CASH_EXP];
    QTS_INFO("capital %s %s -> %s: %.2f moved: %s", promotion ? "promotion" : "demotion",
             qts_pool_name(from), qts_pool_name(to), (double)amount / unit, why);
    if (p->env.capital_move) {
        struct qts_capital_move m = {.ts_ns = now_ns,
                                     .from = from,
                                     .to = to,
                                     .promotion = promotion,
                                     .amount = amount,
                                     .why = why,
                                     .json = json};
        p->env.capital_move(p->env.ctx, &m);
    }
}

/* One check of the capital flow: promotions first, then demotions
 * (spec-execution-risk.md §6.8). A LOCKED pool neither gives nor takes. */
static void run_flow(struct qts_pools *p, int64_t now_ns)
{
    double unit = (double)qts_pow10_i64[QTS_CASH_EXP];
    int64_t trades[QTS_POOL_COUNT] = {0};
    pool_trades(p, trades);
    char why[200], json[320];
    for (int i = 0; i < 2; i++) { /* scalp -> swing, swing -> portfolio */
        struct pool *a = &p->pool[i];
        const struct promo *r = &p->promo[i];
        if (a->state == QTS_POOL_LOCKED || p->pool[i + 1].state == QTS_POOL_LOCKED)
            continue;
        int64_t acc = a->pnl - a->acc_offset;
        int64_t level = (int64_t)((double)p->base * r->min_profit);
        int64_t n = trades[i] - a->trades_base;
        if (acc <= 0 || acc < level || n < r->min_trades || a->period_dd > r->max_dd)
            continue;
        int64_t amount = (int64_t)((double)(acc - level) * r->share);
        if (amount <= 0)
            continue;
        snprintf(why, sizeof why,
                 "accumulated profit %.2f above %.2f, %" PRId64 " trades, drawdown %.2f %%: "
                 "%.0f %% of the excess",
                 (double)acc / unit, (double)level / unit, n, 100 * a->period_dd, 100 * r->share);
        snprintf(json, sizeof json,
                 "{\"from\":\"%s\",\"to\":\"%s\",\"amount\":%.2f,\"accumulated_profit\":%.2f,"
                 "\"min_profit\":%.2f,\"trades\":%" PRId64 ",\"drawdown\":%.6f,\"share\":%.4g}",
                 qts_pool_name(i), qts_pool_name(i + 1), (double)amount / unit, (double)acc / unit,
                 (double)level / unit, n, a->period_dd, r->share);
        a->acc_offset += amount; /* the accumulated profit is what was moved less */
        a->trades_base = trades[i];
        move_capital(p, now_ns, i, i + 1, amount, true, why, json);
    }
    for (int i = 0; i < 2; i++) { /* swing -> scalp, portfolio -> swing */
        int from = i + 1, to = i;
        struct pool *a = &p->pool[from];
        const struct demo *r = &p->demo[i];
        if (a->state == QTS_POOL_LOCKED || p->pool[to].state == QTS_POOL_LOCKED ||
            a->period_dd <= r->drawdown || a->capital <= 0)
            continue;
        int64_t amount = (int64_t)((double)a->capital * r->share);
        if (amount <= 0)
            continue;
        snprintf(why, sizeof why, "drawdown %.2f %% above %.2f %%: %.0f %% of the pool",
                 100 * a->period_dd, 100 * r->drawdown, 100 * r->share);
        snprintf(json, sizeof json,
                 "{\"from\":\"%s\",\"to\":\"%s\",\"amount\":%.2f,\"capital\":%.2f,"
                 "\"drawdown\":%.6f,\"level\":%.4g,\"share\":%.4g}",
                 qts_pool_name(from), qts_pool_name(to), (double)amount / unit,
                 (double)a->capital / unit, a->period_dd, r->drawdown, r->share);
        move_capital(p, now_ns, from, to, amount, false, why, json);
    }
    for (int k = 0; k < QTS_POOL_COUNT; k++) { /* the next period starts */
        p->pool[k].period_peak = p->pool[k].capital;
        p->pool[k].period_dd = 0;
    }
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
            p->pool[k].peak = p->pool[k].period_peak = (int64_t)((double)eq * p->alloc[p->op][k]);
        p->next_check_ns = (now_ns / p->check_ns + 1) * p->check_ns;
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
        q->capital = (int64_t)((double)p->base * p->alloc[p->op][k]) + q->moved + pnl[k];
        q->exposure = expo[k];
        q->reserved = resv[k];
        q->available = q->capital - expo[k] - resv[k];
        if (q->available < 0)
            q->available = 0;
        if (q->capital > q->peak)
            q->peak = q->capital;
        if (q->capital > q->period_peak)
            q->period_peak = q->capital;
        if (q->period_peak > 0 && 1.0 - (double)q->capital / (double)q->period_peak > q->period_dd)
            q->period_dd = 1.0 - (double)q->capital / (double)q->period_peak;
        double unit = (double)qts_pow10_i64[QTS_CASH_EXP];
        if (q->capital < 0)
            lock(p, k, "FS081", "capital %.2f below zero (%.0f)", (double)q->capital / unit, 0);
        else if (q->peak > 0 && q->max_drawdown > 0 &&
                 1.0 - (double)q->capital / (double)q->peak > q->max_drawdown)
            lock(p, k, "FS082", "drawdown %.2f %% above %.2f %%",
                 100.0 * (1.0 - (double)q->capital / (double)q->peak), 100.0 * q->max_drawdown);
    }
    if (p->flow_on && now_ns >= p->next_check_ns) { /* on the run's clock */
        run_flow(p, now_ns);
        p->next_check_ns = (now_ns / p->check_ns + 1) * p->check_ns;
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

int64_t qts_pools_capital(const struct qts_pools *p, int pool)
{
    return pool >= 0 && pool < QTS_POOL_COUNT ? p->pool[pool].capital : 0;
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
        "\"drawdown\":%.6f,\"promotions\":%u,\"demotions\":%u,\"pools\":",
        qts_op_state_name(p->op), p->threshold[p->op], p->transitions, p->drawdown, p->promotions,
        p->demotions);
    if (!p->pools_on) {
        put(buf, cap, &used, &n, "null}");
        return n;
    }
    for (int k = 0; k < QTS_POOL_COUNT; k++) {
        const struct pool *q = &p->pool[k];
        put(buf, cap, &used, &n,
            "%s\"%s\":{\"state\":\"%s\",\"lock_code\":\"%s\",\"allocation\":%.4g,"
            "\"capital\":%.2f,\"invested\":%.2f,\"reserved\":%.2f,\"available\":%.2f,"
            "\"pnl\":%.2f,\"moved_in\":%.2f}",
            k ? "," : "{", qts_pool_name(k), qts_pool_state_name(q->state),
            q->lock_code ? q->lock_code : "", p->alloc[p->op][k], (double)q->capital / unit,
            (double)q->exposure / unit, (double)q->reserved / unit, (double)q->available / unit,
            (double)q->pnl / unit, (double)q->moved / unit);
    }
    put(buf, cap, &used, &n, "}}");
    return n;
}
