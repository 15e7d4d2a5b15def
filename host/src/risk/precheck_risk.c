/* precheck_risk.c — risk pre-trade checks and rate limiters. */
#include "precheck_risk.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "order.h"
#include "util.h"

#define NS_PER_S INT64_C(1000000000)
#define RATE_SLOTS 256 /* strategies with their own buckets; more share the last */

struct bucket {
    int64_t level; /* tokens x window_ns */
    int64_t last_ns;
    bool init;
};

struct rates {
    uint32_t key; /* strategy id + 1; 0 = free */
    struct bucket ord_s, ord_m, can_s, can_m;
};

struct qts_precheck_risk {
    struct qts_risk_limit_set limits;
    struct qts_safety *safety;
    struct qts_risk_book book;
    struct rates rates[RATE_SLOTS];
    uint8_t *frozen; /* indexed by instrument id */
    size_t n_frozen;
    uint64_t checked, passed;
    uint64_t rejected[QTS_SC_COUNT];
    bool loss_warned;
};

static const int64_t pow10_i64[19] = {1,
                                      10,
                                      100,
                                      1000,
                                      10000,
                                      100000,
                                      1000000,
                                      10000000,
                                      100000000,
                                      1000000000,
                                      INT64_C(10000000000),
                                      INT64_C(100000000000),
                                      INT64_C(1000000000000),
                                      INT64_C(10000000000000),
                                      INT64_C(100000000000000),
                                      INT64_C(1000000000000000),
                                      INT64_C(10000000000000000),
                                      INT64_C(100000000000000000),
                                      INT64_C(1000000000000000000)};

int64_t qts_risk_notional(int64_t px, int64_t qty, unsigned px_exp, unsigned qty_exp)
{
    qts_i128 v = (qts_i128)px * qty;
    int e = QTS_CASH_EXP - (int)px_exp - (int)qty_exp;
    if (v < 0)
        v = -v;
    if (e > 0) {
        int64_t m = pow10_i64[e > 18 ? 18 : e];
        if (v > INT64_MAX / m)
            return INT64_MAX;
        v *= m;
    } else if (e < 0)
        v /= pow10_i64[-e > 18 ? 18 : -e];
    return v > INT64_MAX ? INT64_MAX : (int64_t)v;
}

struct qts_precheck_risk *qts_precheck_risk_new(const struct qts_risk_limit_set *limits,
                                                struct qts_safety *safety,
                                                const struct qts_risk_book *book)
{
    struct qts_precheck_risk *r = qts_xcalloc(1, sizeof *r);
    if (limits)
        r->limits = *limits;
    else
        qts_risk_limit_set_init(&r->limits);
    r->safety = safety;
    if (book)
        r->book = *book;
    return r;
}

void qts_precheck_risk_free(struct qts_precheck_risk *r)
{
    if (!r)
        return;
    free(r->frozen);
    free(r);
}

int qts_precheck_risk_install(struct qts_precheck_risk *r, struct qts_exec *x)
{
    struct qts_precheck_hook h = {.name = "risk", .fn = qts_precheck_risk_check, .ctx = r};
    return qts_exec_add_precheck(x, &h);
}

void qts_precheck_risk_set_limits(struct qts_precheck_risk *r,
                                  const struct qts_risk_limit_set *limits)
{
    r->limits = *limits;
}

const struct qts_risk_limit_set *qts_precheck_risk_limits(const struct qts_precheck_risk *r)
{
    return &r->limits;
}

void qts_precheck_risk_freeze(struct qts_precheck_risk *r, uint32_t instrument, bool frozen)
{
    if (instrument >= r->n_frozen) {
        if (!frozen)
            return;
        size_t n = (size_t)instrument + 64;
        r->frozen = qts_xrealloc(r->frozen, n);
        memset(r->frozen + r->n_frozen, 0, n - r->n_frozen);
        r->n_frozen = n;
    }
    r->frozen[instrument] = frozen;
}

bool qts_precheck_risk_frozen(const struct qts_precheck_risk *r, uint32_t instrument)
{
    return instrument < r->n_frozen && r->frozen[instrument];
}

/* ------------------------------------------------------------ buckets */

static void refill(struct bucket *b, int limit, int64_t window_ns, int64_t now)
{
    int64_t cap = (int64_t)limit * window_ns;
    if (!b->init) {
        b->init = true;
        b->level = cap;
        b->last_ns = now;
        return;
    }
    int64_t dt = now - b->last_ns;
    if (dt > 0) {
        if (dt > window_ns)
            dt = window_ns; /* a full window refills everything; avoids overflow */
        b->level += dt * (int64_t)limit;
        b->last_ns = now;
    }
    if (b->level > cap)
        b->level = cap;
}

/* Take one token from both buckets, or none. 0 = ok, 1 = the per-second
 * bucket is empty, 2 = the per-minute one. A limit of 0 is off. */
static int take2(struct bucket *s, int ls, struct bucket *m, int lm, int64_t now)
{
    if (ls > 0)
        refill(s, ls, NS_PER_S, now);
    if (lm > 0)
        refill(m, lm, 60 * NS_PER_S, now);
    if (ls > 0 && s->level < NS_PER_S)
        return 1;
    if (lm > 0 && m->level < 60 * NS_PER_S)
        return 2;
    if (ls > 0)
        s->level -= NS_PER_S;
    if (lm > 0)
        m->level -= 60 * NS_PER_S;
    return 0;
}

static struct rates *rates_for(struct qts_precheck_risk *r, uint32_t strategy_id)
{
    uint32_t key = strategy_id + 1;
    uint32_t h = (key * 2654435761u) % (RATE_SLOTS - 1);
    for (uint32_t i = 0; i < RATE_SLOTS - 1; i++) {
        struct rates *e = &r->rates[(h + i) % (RATE_SLOTS - 1)];
        if (e->key == key)
            return e;
        if (e->key == 0) {
            e->key = key;
            return e;
        }
    }
    return &r->rates[RATE_SLOTS - 1]; /* shared overflow slot */
}

/* ------------------------------------------------------------- checks */

static int reject(struct qts_precheck_risk *r, struct qts_precheck_reject *rej, int code,
                  const char *fmt, ...) QTS_PRINTF(4, 5);

static int reject(struct qts_precheck_risk *r, struct qts_precheck_reject *rej, int code,
                  const char *fmt, ...)
{
    const struct qts_safety_code_info *ci = qts_safety_code_info(code);
    r->rejected[code]++;
    if (rej) {
        rej->code = ci->number;
        qts_strlcpy(rej->code_str, ci->str, sizeof rej->code_str);
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(rej->msg, sizeof rej->msg, fmt, ap);
        va_end(ap);
    }
    return QTS_ERISK;
}

static inline int64_t abs64(int64_t v) { return v < 0 ? -v : v; }

/* whole units -> instrument fixed point */
static inline double units(double whole, unsigned exp)
{
    return whole * (double)pow10_i64[exp > 18 ? 18 : exp];
}

int qts_precheck_risk_check(void *ctx, struct qts_precheck_order *o,
                            struct qts_precheck_reject *rej)
{
    struct qts_precheck_risk *r = ctx;
    const struct qts_order_intent *in = o->intent;
    const struct qts_instrument *inst = o->inst;
    const struct qts_risk_book *b = &r->book;
    const struct qts_risk_limits *l = qts_risk_limits_for(&r->limits, in->strategy_id);
    r->checked++;

    int64_t sq = in->side == QTS_SIDE_BUY ? in->qty : -in->qty;
    int64_t pos = b->position ? b->position(b->ctx, in->instrument) : 0;
    int64_t pos_after = pos + sq;
    /* reducing: moves toward zero without crossing it */
    bool reducing = pos != 0 && abs64(pos_after) < abs64(pos) &&
                    (pos_after == 0 || (pos_after > 0) == (pos > 0));
    if (reducing && strncmp(in->tag, QTS_RISK_EXIT_TAG, sizeof QTS_RISK_EXIT_TAG) == 0) {
        r->passed++;
        return 0; /* a risk exit: nothing may stand in its way */
    }

    if (!l->trading_enabled || (r->safety && !qts_safety_trading_enabled(r->safety)))
        return reject(r, rej, QTS_SC_GR100, "trading disabled");
    if (r->safety && qts_safety_kill_on(r->safety))
        return reject(r, rej, QTS_SC_GR101, "kill switch on");
    if (r->safety && qts_safety_state(r->safety) > QTS_SAFETY_WARNING)
        return reject(r, rej, QTS_SC_GR102, "safety state %s",
                      qts_safety_state_name(qts_safety_state(r->safety)));
    if (!inst || !(inst->flags & QTS_INST_TRADABLE))
        return reject(r, rej, QTS_SC_GR103, "instrument %u not tradable", in->instrument);
    if (b->session_open && !b->session_open(b->ctx, in->instrument))
        return reject(r, rej, QTS_SC_GR104, "session closed for %s", inst->symbol);
    if (!reducing && qts_precheck_risk_frozen(r, in->instrument))
        return reject(r, rej, QTS_SC_GR117, "entries frozen on %s: price stale", inst->symbol);

    /* price band and the price used for money checks */
    const struct qts_mkt_ref *ref = o->ref;
    int64_t last = ref ? ref->last : 0;
    int64_t mid = ref && ref->bid > 0 && ref->ask > 0 ? ref->bid + (ref->ask - ref->bid) / 2 : 0;
    if (in->type == QTS_ORD_LIMIT && in->px > 0) {
        if (l->price_band_last_pct > 0 && last > 0 &&
            fabs((double)(in->px - last)) > l->price_band_last_pct * (double)last)
            return reject(r, rej, QTS_SC_GR105, "limit %.2f%% from last (band %.2f%%)",
                          100.0 * fabs((double)(in->px - last)) / (double)last,
                          100.0 * l->price_band_last_pct);
        if (l->price_band_mid_pct > 0 && mid > 0 &&
            fabs((double)(in->px - mid)) > l->price_band_mid_pct * (double)mid)
            return reject(r, rej, QTS_SC_GR106, "limit %.2f%% from mid (band %.2f%%)",
                          100.0 * fabs((double)(in->px - mid)) / (double)mid,
                          100.0 * l->price_band_mid_pct);
    }
    int64_t px = in->type == QTS_ORD_LIMIT ? in->px : 0;
    if (!px && ref)
        px = in->side == QTS_SIDE_BUY ? (ref->ask > 0 ? ref->ask : last)
                                      : (ref->bid > 0 ? ref->bid : last);
    if (!px)
        px = last;

    if (l->max_order_qty > 0 && (double)in->qty > units(l->max_order_qty, inst->qty_exp))
        return reject(r, rej, QTS_SC_GR107, "qty above max_order_qty %g", l->max_order_qty);
    bool need_px = l->max_order_notional > 0 || (!reducing && b->equity);
    if (need_px && px <= 0)
        return reject(r, rej, QTS_SC_GR118, "no reference price for %s", inst->symbol);
    int64_t notional = px > 0 ? qts_risk_notional(px, in->qty, inst->px_exp, inst->qty_exp) : 0;
    double cash_unit = (double)pow10_i64[QTS_CASH_EXP];
    if (l->max_order_notional > 0 && (double)notional > l->max_order_notional * cash_unit)
        return reject(r, rej, QTS_SC_GR108, "notional %.0f above max_order_notional %g",
                      (double)notional / cash_unit, l->max_order_notional);
    if (reducing)
        goto rates; /* the position, exposure, capital and loss limits cap risk, not exits */

    if (l->max_position_symbol > 0 &&
        (double)abs64(pos_after) > units(l->max_position_symbol, inst->qty_exp))
        return reject(r, rej, QTS_SC_GR109, "position on %s would be %g (max %g)", inst->symbol,
                      (double)pos_after / (double)pow10_i64[inst->qty_exp], l->max_position_symbol);
    if (l->max_position_strategy > 0 && b->strategy_position) {
        int64_t sp = b->strategy_position(b->ctx, in->strategy_id, in->instrument) + sq;
        if ((double)abs64(sp) > units(l->max_position_strategy, inst->qty_exp))
            return reject(r, rej, QTS_SC_GR110, "strategy position on %s would be %g (max %g)",
                          inst->symbol, (double)sp / (double)pow10_i64[inst->qty_exp],
                          l->max_position_strategy);
    }
    if (b->equity) {
        int64_t eq = b->equity(b->ctx);
        if (eq <= 0)
            return reject(r, rej, QTS_SC_GR001, "equity <= 0");
        int64_t before = qts_risk_notional(px, pos, inst->px_exp, inst->qty_exp);
        int64_t after = qts_risk_notional(px, pos_after, inst->px_exp, inst->qty_exp);
        if (b->gross_exposure) {
            double g = (double)b->gross_exposure(b->ctx) - (double)before + (double)after;
            if (g > l->max_exposure_pct * (double)eq)
                return reject(r, rej, QTS_SC_GR001, "gross exposure %.1f%% of equity (max %.1f%%)",
                              100.0 * g / (double)eq, 100.0 * l->max_exposure_pct);
        }
        if (b->net_exposure) {
            double n =
                (double)b->net_exposure(b->ctx) + (sq > 0 ? (double)notional : -(double)notional);
            if (fabs(n) > l->max_net_exposure_pct * (double)eq)
                return reject(r, rej, QTS_SC_GR111, "net exposure %.1f%% of equity (max %.1f%%)",
                              100.0 * n / (double)eq, 100.0 * l->max_net_exposure_pct);
        }
        if ((double)after > l->max_symbol_exposure_pct * (double)eq)
            return reject(r, rej, QTS_SC_GR010, "%s exposure %.1f%% of equity (max %.1f%%)",
                          inst->symbol, 100.0 * (double)after / (double)eq,
                          100.0 * l->max_symbol_exposure_pct);
        if (b->daily_pnl) {
            int64_t pnl = b->daily_pnl(b->ctx);
            if ((double)pnl <= -l->daily_loss_limit_pct * (double)eq)
                return reject(r, rej, QTS_SC_GR112, "daily loss %.2f%% of equity (limit %.2f%%)",
                              -100.0 * (double)pnl / (double)eq, 100.0 * l->daily_loss_limit_pct);
            if ((double)pnl <= -l->daily_loss_warn_pct * (double)eq && l->daily_loss_warn_pct > 0) {
                if (!r->loss_warned && r->safety)
                    qts_safety_raise(r->safety, QTS_SC_GR020, "daily loss warning level reached");
                r->loss_warned = true;
            } else {
                r->loss_warned = false;
            }
        }
    }
    if (b->pool_available) {
        int64_t avail = b->pool_available(b->ctx, l->pool);
        if (notional > avail)
            return reject(r, rej, QTS_SC_GR061, "%s pool has %.0f available, order needs %.0f",
                          qts_pool_name(l->pool), (double)avail / cash_unit,
                          (double)notional / cash_unit);
    }
    if (l->max_daily_trades > 0 && b->daily_trades &&
        b->daily_trades(b->ctx, in->strategy_id) >= (uint32_t)l->max_daily_trades)
        return reject(r, rej, QTS_SC_GR062, "daily trade limit %d reached", l->max_daily_trades);

rates:;
    struct rates *rt = rates_for(r, in->strategy_id);
    int t = take2(&rt->ord_s, l->max_orders_per_sec, &rt->ord_m, l->max_orders_per_min, o->now_ns);
    if (t == 1)
        return reject(r, rej, QTS_SC_GR113, "more than %d orders per second",
                      l->max_orders_per_sec);
    if (t == 2)
        return reject(r, rej, QTS_SC_GR114, "more than %d orders per minute",
                      l->max_orders_per_min);
    r->passed++;
    return 0;
}

int qts_precheck_risk_cancel(struct qts_precheck_risk *r, uint32_t strategy_id, int64_t now_ns,
                             struct qts_precheck_reject *rej)
{
    const struct qts_risk_limits *l = qts_risk_limits_for(&r->limits, strategy_id);
    struct rates *rt = rates_for(r, strategy_id);
    int t = take2(&rt->can_s, l->max_cancels_per_sec, &rt->can_m, l->max_cancels_per_min, now_ns);
    if (t == 1) {
        reject(r, rej, QTS_SC_GR115, "more than %d cancels per second", l->max_cancels_per_sec);
        return QTS_ERATELIMIT;
    }
    if (t == 2) {
        reject(r, rej, QTS_SC_GR116, "more than %d cancels per minute", l->max_cancels_per_min);
        return QTS_ERATELIMIT;
    }
    return 0;
}

uint64_t qts_precheck_risk_rejections(const struct qts_precheck_risk *r, int code)
{
    return code >= 0 && code < QTS_SC_COUNT ? r->rejected[code] : 0;
}

int qts_precheck_risk_usage_json(const struct qts_precheck_risk *r, char *buf, size_t cap)
{
    size_t o = 0;
#define PUT(...)                                                                          \
    do {                                                                                  \
        int n_ = snprintf(buf + (o < cap ? o : cap), o < cap ? cap - o : 0, __VA_ARGS__); \
        if (n_ > 0)                                                                       \
            o += (size_t)n_;                                                              \
    } while (0)
    PUT("{\"checked\":%llu,\"passed\":%llu,\"rejected\":{", (unsigned long long)r->checked,
        (unsigned long long)r->passed);
    bool first = true;
    for (int i = 0; i < QTS_SC_COUNT; i++) {
        if (!r->rejected[i])
            continue;
        PUT("%s\"%s\":%llu", first ? "" : ",", qts_safety_code_str(i),
            (unsigned long long)r->rejected[i]);
        first = false;
    }
    PUT("}}");
#undef PUT
    return (int)o;
}
