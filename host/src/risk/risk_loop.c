/* risk_loop.c — the micro risk loop (risk_loop.h). */
#include "risk_loop.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "order.h"
#include "util.h"

#define MS INT64_C(1000000)
#define NS_PER_S INT64_C(1000000000)

enum {
    L_MAE_PARTIAL = 1u << 0,
    L_VOL_PARTIAL = 1u << 1,
    L_MAE_WARN = 1u << 2,
    L_TIME_WARN = 1u << 3,
    L_ESCALATED = 1u << 4,
};

struct shadow {
    bool used, seen;
    uint32_t strategy, instrument;
    int64_t qty, avg_px;
    uint64_t episode;
    int64_t entry_ns;
    int64_t high, low; /* since entry */
    bool trail_on;
    int64_t trail_stop;
    unsigned latch;
    uint64_t pending_id; /* working exit order (0 = none) */
    uint8_t pending_reason;
    uint32_t exit_failures;
};

struct inst_px {
    int64_t px, ts_ns;
    int64_t interval_ns; /* the data's own interval (a bar's period); 0 = ticks */
    double rv2;          /* sum of squared log returns this session */
    int64_t session_day; /* UTC day (data time) rv2 sums over */
    int64_t jump_ns;     /* last AN001 raised */
    bool seen, stale, tripped;
};

struct qts_risk_loop {
    struct qts_risk_limit_set limits;
    struct qts_risk_loop_env env;
    struct shadow sh[QTS_RISK_MAX_POSITIONS];
    struct qts_risk_pos_view view[QTS_RISK_MAX_POSITIONS];
    struct inst_px *px;
    size_t n_px;
    uint64_t next_episode;
    double vix, mrv;
    bool killed, vol_warned, equity_tripped;
    uint64_t timer;
    int64_t next_due;
    int64_t armed_period; /* the period next_due's lattice was laid with */
    bool deferred;        /* next_due lies past the next period: idle ticks skipped */
    bool running;
    struct qts_risk_loop_stats st;
    struct qts_hdr_hist jitter, cost;
    int64_t data_ns; /* time of the newest price of any instrument */
};

const char *qts_risk_reason_name(int r)
{
    static const char *const n[QTS_RR_COUNT] = {
        "none", "kill_switch", "volatility",    "volatility_critical",
        "mae",  "mae_partial", "time_in_trade", "trailing_stop"};
    return r >= 0 && r < QTS_RR_COUNT ? n[r] : "?";
}

struct qts_risk_loop *qts_risk_loop_new(const struct qts_risk_limit_set *limits,
                                        const struct qts_risk_loop_env *env)
{
    struct qts_risk_loop *rl = qts_xcalloc(1, sizeof *rl);
    if (limits)
        rl->limits = *limits;
    else
        qts_risk_limit_set_init(&rl->limits);
    rl->env = *env;
    qts_hdr_init(&rl->jitter);
    qts_hdr_init(&rl->cost);
    return rl;
}

void qts_risk_loop_free(struct qts_risk_loop *rl)
{
    if (!rl)
        return;
    qts_risk_loop_stop(rl);
    free(rl->px);
    free(rl);
}

void qts_risk_loop_set_limits(struct qts_risk_loop *rl, const struct qts_risk_limit_set *limits)
{
    rl->limits = *limits;
    qts_risk_loop_touch(rl);
}

static int64_t now_ns(const struct qts_risk_loop *rl) { return qts_timer_svc_now(rl->env.timers); }

static void raise_code(struct qts_risk_loop *rl, int code, const char *fmt, ...) QTS_PRINTF(3, 4);
static void raise_code(struct qts_risk_loop *rl, int code, const char *fmt, ...)
{
    if (!rl->env.safety)
        return;
    char msg[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    qts_safety_raise(rl->env.safety, code, msg);
}

/* ------------------------------------------------------------- prices */

static struct inst_px *px_slot(struct qts_risk_loop *rl, uint32_t inst, bool grow)
{
    if (inst >= rl->n_px) {
        if (!grow)
            return NULL;
        size_t n = (size_t)inst + 64;
        rl->px = qts_xrealloc(rl->px, n * sizeof *rl->px);
        memset(rl->px + rl->n_px, 0, (n - rl->n_px) * sizeof *rl->px);
        rl->n_px = n;
    }
    return &rl->px[inst];
}

void qts_risk_loop_on_price(struct qts_risk_loop *rl, uint32_t instrument, int64_t px,
                            int64_t ts_ns)
{
    if (px <= 0)
        return;
    qts_risk_loop_touch(rl);
    struct inst_px *p = px_slot(rl, instrument, true);
    /* Realised volatility is intraday: a session is a UTC day of the data's
     * clock (markets here trade around the clock), so a month-long replay
     * does not add every day's moves into one figure. */
    int64_t day = ts_ns / (86400 * NS_PER_S);
    if (p->seen && day != p->session_day)
        p->rv2 = 0;
    p->session_day = day;
    if (p->seen && p->px > 0) {
        double r = log((double)px / (double)p->px);
        p->rv2 += r * r;
        double jump = fabs((double)(px - p->px)) / (double)p->px;
        if (jump > rl->limits.global.jump_pct && ts_ns - p->jump_ns >= NS_PER_S) {
            p->jump_ns = ts_ns; /* at most one notice per second per symbol */
            raise_code(rl, QTS_SC_AN001, "instrument %u moved %.2f%% in one tick", instrument,
                       100.0 * jump);
        }
    }
    p->px = px;
    p->ts_ns = ts_ns;
    p->seen = true;
    if (ts_ns > rl->data_ns)
        rl->data_ns = ts_ns;
    if (p->stale) { /* a fresh price: entries open again at once, not at the next tick */
        p->stale = false;
        p->tripped = false;
        if (rl->env.pre)
            qts_precheck_risk_freeze(rl->env.pre, instrument, false);
    }
}

void qts_risk_loop_on_bar(struct qts_risk_loop *rl, uint32_t instrument, int64_t px,
                          int64_t period_ns, int64_t ts_ns)
{
    if (px <= 0)
        return;
    struct inst_px *p = px_slot(rl, instrument, true);
    if (period_ns > p->interval_ns)
        p->interval_ns = period_ns;
    qts_risk_loop_on_price(rl, instrument, px, ts_ns);
}

/* How old a price is. In a replay time is the data's: the silence between
 * two events is not time anyone watched the market, so a price ages only
 * while newer data (of any instrument) exists. */
static int64_t px_age(const struct qts_risk_loop *rl, int64_t since, int64_t now)
{
    return (rl->env.skip_idle ? rl->data_ns : now) - since;
}

static int64_t stale_limit_ns(const struct qts_risk_limits *g, const struct inst_px *p)
{
    int64_t by_data = p ? (int64_t)((double)p->interval_ns * g->stale_intervals) : 0;
    return by_data > g->stale_ms * MS ? by_data : g->stale_ms * MS;
}

static int64_t trip_limit_ns(const struct qts_risk_limits *g, const struct inst_px *p)
{
    int64_t by_data = p ? (int64_t)((double)p->interval_ns * g->stale_trip_intervals) : 0;
    return by_data > g->stale_trip_ms * MS ? by_data : g->stale_trip_ms * MS;
}

void qts_risk_loop_set_market_vol(struct qts_risk_loop *rl, double vix, double realized)
{
    rl->vix = vix;
    rl->mrv = realized;
    qts_risk_loop_touch(rl);
}

void qts_risk_loop_reset_session(struct qts_risk_loop *rl)
{
    for (size_t i = 0; i < rl->n_px; i++)
        rl->px[i].rv2 = 0;
    qts_risk_loop_touch(rl);
}

double qts_risk_loop_realized_vol(const struct qts_risk_loop *rl, uint32_t instrument)
{
    return instrument < rl->n_px ? sqrt(rl->px[instrument].rv2) : 0.0;
}

/* -------------------------------------------------------------- sync */

static struct shadow *find_shadow(struct qts_risk_loop *rl, uint32_t strategy, uint32_t inst,
                                  bool create)
{
    struct shadow *free_slot = NULL;
    for (size_t i = 0; i < QTS_RISK_MAX_POSITIONS; i++) {
        struct shadow *s = &rl->sh[i];
        if (s->used && s->strategy == strategy && s->instrument == inst)
            return s;
        if (!s->used && !free_slot)
            free_slot = s;
    }
    if (!create || !free_slot)
        return NULL;
    memset(free_slot, 0, sizeof *free_slot);
    free_slot->used = true;
    free_slot->strategy = strategy;
    free_slot->instrument = inst;
    return free_slot;
}

static void new_episode(struct qts_risk_loop *rl, struct shadow *s, int64_t now, int64_t px)
{
    s->episode = ++rl->next_episode;
    s->entry_ns = now;
    s->high = s->low = px > 0 ? px : s->avg_px;
    s->trail_on = false;
    s->trail_stop = 0;
    s->latch = 0;
    s->exit_failures = 0;
}

static void sync(struct qts_risk_loop *rl, int64_t now)
{
    for (size_t i = 0; i < QTS_RISK_MAX_POSITIONS; i++)
        rl->sh[i].seen = false;
    size_t n =
        rl->env.positions ? rl->env.positions(rl->env.ctx, rl->view, QTS_RISK_MAX_POSITIONS) : 0;
    for (size_t i = 0; i < n; i++) {
        const struct qts_risk_pos_view *v = &rl->view[i];
        if (v->qty == 0)
            continue;
        struct shadow *s = find_shadow(rl, v->strategy_id, v->instrument, true);
        if (!s) {
            raise_code(rl, QTS_SC_FS030, "more than %d open positions: not all watched",
                       QTS_RISK_MAX_POSITIONS);
            break;
        }
        bool flipped = s->qty == 0 || (s->qty > 0) != (v->qty > 0);
        s->qty = v->qty; /* the portfolio wins */
        s->avg_px = v->avg_px;
        s->seen = true;
        if (flipped) {
            struct inst_px *p = px_slot(rl, v->instrument, false);
            new_episode(rl, s, now, p && p->seen ? p->px : v->avg_px);
        }
    }
    /* positions that went flat: keep the slot while an exit still works */
    for (size_t i = 0; i < QTS_RISK_MAX_POSITIONS; i++) {
        struct shadow *s = &rl->sh[i];
        if (s->used && !s->seen) {
            s->qty = 0;
            if (!s->pending_id)
                s->used = false;
        }
    }
}

/* ------------------------------------------------------------- exits */

static int64_t lot_floor(const struct qts_instrument *inst, int64_t q)
{
    if (inst && inst->lot_size > 1)
        q -= q % inst->lot_size;
    return q;
}

static void send_exit(struct qts_risk_loop *rl, struct shadow *s, int reason, int64_t qty)
{
    const struct qts_instrument *inst =
        rl->env.instrument ? rl->env.instrument(rl->env.ctx, s->instrument) : NULL;
    qty = lot_floor(inst, qty);
    if (qty <= 0 || (inst && qty < inst->min_qty) || !rl->env.exec)
        return;
    struct qts_order_intent in;
    memset(&in, 0, sizeof in);
    in.struct_size = sizeof in;
    in.strategy_id = s->strategy;
    in.instrument = s->instrument;
    in.side = s->qty > 0 ? QTS_SIDE_SELL : QTS_SIDE_BUY; /* §9 #17: side from the sign */
    in.type = QTS_ORD_MARKET;
    in.tif = QTS_TIF_DAY;
    in.algo = QTS_ALGO_DIRECT;
    in.qty = qty;
    in.ts_decision_ns = now_ns(rl);
    qts_strlcpy(in.tag, QTS_RISK_EXIT_TAG, sizeof in.tag);
    uint64_t id = 0;
    struct qts_err err;
    qts_err_clear(&err);
    int rc = qts_exec_submit(rl->env.exec, &in, &id, &err);
    rl->st.exits[reason]++;
    if (rc != 0) {
        rl->st.exit_failures++;
        s->exit_failures++;
        raise_code(rl, QTS_SC_GR074, "exit %s inst=%u rejected: %s", qts_risk_reason_name(reason),
                   s->instrument, err.msg);
        if (s->exit_failures >= 2 && !(s->latch & L_ESCALATED)) {
            s->latch |= L_ESCALATED;
            raise_code(rl, QTS_SC_FS040, "risk exit failed twice inst=%u", s->instrument);
        }
        return;
    }
    s->pending_id = id;
    qts_exec_pin(rl->env.exec, id); /* kept from eviction until settled */
    s->pending_reason = (uint8_t)reason;
    raise_code(rl, QTS_SC_FS102, "exit %s strategy=%u inst=%u %s %lld order=%llu",
               qts_risk_reason_name(reason), s->strategy, s->instrument,
               in.side == QTS_SIDE_SELL ? "sell" : "buy", (long long)qty, (unsigned long long)id);
}

/* An exit still working? Clears it when final; a final without the full
 * quantity filled counts as a failure and unlatches its tier for a retry. */
static bool exit_pending(struct qts_risk_loop *rl, struct shadow *s)
{
    if (!s->pending_id)
        return false;
    const struct qts_parent *p = qts_exec_order(rl->env.exec, s->pending_id);
    if (p && !qts_exec_state_final(p->state))
        return true;
    bool ok = p && p->state == QTS_XS_COMPLETE && !p->partial && p->filled_qty >= p->intent.qty;
    if (!ok) {
        rl->st.exit_failures++;
        s->exit_failures++;
        raise_code(rl, QTS_SC_GR074, "exit %s inst=%u ended %s, retrying",
                   qts_risk_reason_name(s->pending_reason), s->instrument,
                   p ? qts_exec_state_name(p->state) : "unknown");
        if (s->pending_reason == QTS_RR_MAE_PARTIAL)
            s->latch &= ~(unsigned)L_MAE_PARTIAL;
        if (s->pending_reason == QTS_RR_VOL_PARTIAL)
            s->latch &= ~(unsigned)L_VOL_PARTIAL;
        if (s->exit_failures >= 2 && !(s->latch & L_ESCALATED)) {
            s->latch |= L_ESCALATED;
            raise_code(rl, QTS_SC_FS040, "risk exit failed twice inst=%u", s->instrument);
        }
    }
    qts_exec_unpin(rl->env.exec, s->pending_id);
    s->pending_id = 0;
    return false;
}

/* signed cash value of (px - avg) x qty */
static int64_t upnl(const struct shadow *s, int64_t px, const struct qts_instrument *inst)
{
    int64_t d = px - s->avg_px;
    int64_t v = qts_risk_notional(d, s->qty, inst ? inst->px_exp : 0, inst ? inst->qty_exp : 0);
    return ((d < 0) != (s->qty < 0)) ? -v : v;
}

static void kill_switch(struct qts_risk_loop *rl, const char *why)
{
    rl->killed = true;
    rl->st.kills++;
    /* stop everything working (pending exits included), then flatten */
    if (rl->env.exec)
        qts_safety_cancel_all(rl->env.exec, "risk loop kill switch");
    for (size_t i = 0; i < QTS_RISK_MAX_POSITIONS; i++) {
        if (rl->sh[i].pending_id && rl->env.exec)
            qts_exec_unpin(rl->env.exec, rl->sh[i].pending_id);
        rl->sh[i].pending_id = 0;
    }
    for (size_t i = 0; i < QTS_RISK_MAX_POSITIONS; i++) {
        struct shadow *s = &rl->sh[i];
        if (s->used && s->qty)
            send_exit(rl, s, QTS_RR_KILL, s->qty < 0 ? -s->qty : s->qty);
    }
    raise_code(rl, QTS_SC_FS104, "risk loop kill switch: %s", why);
}

static void eval_position(struct qts_risk_loop *rl, struct shadow *s, int64_t now)
{
    const struct qts_risk_limits *l = qts_risk_limits_for(&rl->limits, s->strategy);
    const struct inst_px *p = px_slot(rl, s->instrument, false);
    int64_t px = p && p->seen ? p->px : s->avg_px;
    const struct qts_instrument *inst =
        rl->env.instrument ? rl->env.instrument(rl->env.ctx, s->instrument) : NULL;
    if (px > s->high)
        s->high = px;
    if (px < s->low || s->low <= 0)
        s->low = px;
    if (exit_pending(rl, s))
        return;
    bool lng = s->qty > 0;
    int64_t aq = lng ? s->qty : -s->qty;
    if (rl->killed) { /* flatten what is left, every cycle until flat */
        send_exit(rl, s, QTS_RR_KILL, aq);
        return;
    }
    double avg = (double)s->avg_px;
    double pnl_pct = avg > 0 ? (lng ? (double)px - avg : avg - (double)px) / avg : 0;

    /* 1 volatility */
    double irv = p ? sqrt(p->rv2) : 0;
    if (irv >= l->vol_kill) {
        send_exit(rl, s, QTS_RR_VOL_FULL, aq);
        return;
    }
    bool critical = (rl->vix > 0 && rl->vix >= l->vix_critical) || rl->mrv >= l->vol_critical ||
                    irv >= l->vol_critical;
    if (critical && !(s->latch & L_VOL_PARTIAL)) {
        s->latch |= L_VOL_PARTIAL;
        send_exit(rl, s, QTS_RR_VOL_PARTIAL, (int64_t)((double)aq * 0.5));
        if (s->pending_id)
            return;
    }
    /* 2 MAE: sticky, from the worst price since entry */
    double mae = avg > 0 ? (lng ? ((double)s->low - avg) / avg : (avg - (double)s->high) / avg) : 0;
    if (-mae >= l->mae_full_pct) {
        send_exit(rl, s, QTS_RR_MAE_FULL, aq);
        return;
    }
    if (-mae >= l->mae_partial_pct && !(s->latch & L_MAE_PARTIAL)) {
        s->latch |= L_MAE_PARTIAL;
        send_exit(rl, s, QTS_RR_MAE_PARTIAL, (int64_t)((double)aq * l->partial_exit_ratio));
        if (s->pending_id)
            return;
    }
    if (-mae >= l->mae_full_pct * l->mae_warn_ratio && !(s->latch & L_MAE_WARN)) {
        s->latch |= L_MAE_WARN;
        raise_code(rl, QTS_SC_GR071, "inst=%u MAE %.2f%% (limit %.2f%%)", s->instrument,
                   -100.0 * mae, 100.0 * l->mae_full_pct);
    }
    /* 3 time in trade */
    int pool = l->pool >= 0 && l->pool < QTS_POOL_COUNT ? l->pool : QTS_POOL_SCALP;
    int64_t max_ms = l->max_hold_ms[pool];
    if (max_ms > 0) {
        int64_t held = now - s->entry_ns;
        int64_t lim = (max_ms + (pnl_pct > 0 ? l->hold_extension_ms : 0)) * MS;
        if (held >= lim) {
            send_exit(rl, s, QTS_RR_TIME, aq);
            return;
        }
        if ((double)held >= l->hold_warn_ratio * (double)max_ms * (double)MS &&
            !(s->latch & L_TIME_WARN)) {
            s->latch |= L_TIME_WARN;
            raise_code(rl, QTS_SC_GR072, "inst=%u held %llds of %llds", s->instrument,
                       (long long)(held / NS_PER_S), (long long)(max_ms / 1000));
        }
    }
    /* 4 trailing stop, mirrored for shorts; gap = max(d x extreme, min distance) */
    double mind = l->trail_min_distance * (inst ? pow(10.0, inst->px_exp) : 1.0);
    if (!s->trail_on && pnl_pct >= l->trail_activation_pct)
        s->trail_on = true;
    if (s->trail_on) {
        if (lng) {
            double st = fmin((double)s->high * (1 - l->trail_distance_pct), (double)s->high - mind);
            int64_t stop = (int64_t)floor(st);
            if (stop > s->trail_stop)
                s->trail_stop = stop; /* ratchet up only */
            if (px <= s->trail_stop) {
                send_exit(rl, s, QTS_RR_TRAIL, aq);
                return;
            }
        } else {
            double st = fmax((double)s->low * (1 + l->trail_distance_pct), (double)s->low + mind);
            int64_t stop = (int64_t)ceil(st);
            if (s->trail_stop == 0 || stop < s->trail_stop)
                s->trail_stop = stop; /* ratchet down only */
            if (px >= s->trail_stop) {
                send_exit(rl, s, QTS_RR_TRAIL, aq);
                return;
            }
        }
    }
}

static void check_stale(struct qts_risk_loop *rl, int64_t now)
{
    const struct qts_risk_limits *g = &rl->limits.global;
    uint32_t frozen = 0;
    for (size_t i = 0; i < rl->n_px; i++) {
        struct inst_px *p = &rl->px[i];
        if (!p->seen)
            continue;
        int64_t age = px_age(rl, p->ts_ns, now);
        if (age > stale_limit_ns(g, p)) {
            frozen++;
            if (!p->stale) {
                p->stale = true;
                if (rl->env.pre)
                    qts_precheck_risk_freeze(rl->env.pre, (uint32_t)i, true);
                raise_code(rl, QTS_SC_AN010, "instrument %zu price stale %lld ms", i,
                           (long long)(age / MS));
            }
        } else if (p->stale) {
            p->stale = false;
            p->tripped = false;
            if (rl->env.pre)
                qts_precheck_risk_freeze(rl->env.pre, (uint32_t)i, false);
        }
    }
    rl->st.frozen = frozen;
    /* open positions without a fresh price: escalate (spec §9 #15) */
    for (size_t i = 0; i < QTS_RISK_MAX_POSITIONS; i++) {
        struct shadow *s = &rl->sh[i];
        if (!s->used || !s->qty)
            continue;
        struct inst_px *p = px_slot(rl, s->instrument, true);
        int64_t since = p->seen ? p->ts_ns : s->entry_ns;
        int64_t age = px_age(rl, since, now);
        if (age > trip_limit_ns(g, p) && !p->tripped) {
            p->tripped = true;
            raise_code(rl, QTS_SC_FS107, "instrument %u: no price for %lld ms with a position",
                       s->instrument, (long long)(age / MS));
        }
    }
}

void qts_risk_loop_tick(struct qts_risk_loop *rl)
{
    int64_t t0 = qts_mono_ns();
    int64_t now = now_ns(rl);
    const struct qts_risk_limits *g = &rl->limits.global;
    rl->st.cycles++;
    /* settle finished exits first: a flatten that filled ends the episode
     * even if the portfolio already shows a new position */
    for (size_t i = 0; i < QTS_RISK_MAX_POSITIONS; i++) {
        struct shadow *s = &rl->sh[i];
        if (s->used && s->pending_id) {
            uint8_t why = s->pending_reason;
            uint32_t fails = s->exit_failures;
            if (!exit_pending(rl, s) && s->exit_failures == fails && why != QTS_RR_MAE_PARTIAL &&
                why != QTS_RR_VOL_PARTIAL)
                s->qty = 0;
        }
    }
    sync(rl, now);
    check_stale(rl, now);
    if (rl->killed && rl->env.safety && qts_safety_state(rl->env.safety) != QTS_SAFETY_LOCKDOWN)
        rl->killed = false; /* an operator approved the release */

    /* account level, once per cycle */
    int64_t total = 0;
    uint32_t open = 0;
    for (size_t i = 0; i < QTS_RISK_MAX_POSITIONS; i++) {
        struct shadow *s = &rl->sh[i];
        if (!s->used || !s->qty)
            continue;
        open++;
        const struct inst_px *p = px_slot(rl, s->instrument, false);
        const struct qts_instrument *inst =
            rl->env.instrument ? rl->env.instrument(rl->env.ctx, s->instrument) : NULL;
        total += upnl(s, p && p->seen ? p->px : s->avg_px, inst);
    }
    rl->st.positions = open;
    if (!rl->killed) {
        bool vol_kill = (rl->vix > 0 && rl->vix >= g->vix_kill) || rl->mrv >= g->vol_kill;
        bool vol_warn = (rl->vix > 0 && rl->vix >= g->vix_warn) || rl->mrv >= g->vol_warn;
        if (vol_warn && !rl->vol_warned)
            raise_code(rl, QTS_SC_GR073, "volatility rising vix=%.1f realised=%.3f", rl->vix,
                       rl->mrv);
        rl->vol_warned = vol_warn;
        int64_t eq = rl->env.equity ? rl->env.equity(rl->env.ctx) : 0;
        if (rl->env.equity && eq <= 0 && !rl->equity_tripped) {
            rl->equity_tripped = true;
            raise_code(rl, QTS_SC_FS050, "equity %lld <= 0", (long long)eq);
        } else if (eq > 0) {
            rl->equity_tripped = false;
        }
        if (vol_kill)
            kill_switch(rl, "volatility");
        else if (eq > 0 && (double)total <= -g->account_mae_pct * (double)eq)
            kill_switch(rl, "account MAE");
    }
    if (!rl->killed || open)
        for (size_t i = 0; i < QTS_RISK_MAX_POSITIONS; i++) {
            struct shadow *s = &rl->sh[i];
            if (!s->used)
                continue;
            if (!s->qty) { /* flat: only bookkeeping of a last exit */
                if (!exit_pending(rl, s))
                    s->used = false;
                continue;
            }
            eval_position(rl, s, now);
        }
    qts_hdr_record(&rl->cost, qts_mono_ns() - t0);
}

/* -------------------------------------------------------------- timer
 * The loop ticks every loop_period_ms. In a replay (env.skip_idle) time
 * jumps from event to event, and a tick between two changes of its inputs
 * repeats the one before it: prices, positions, equity and volatility are
 * the same, high/low and the latches are already set, so it decides
 * nothing new. Only elapsed time can make such a tick act: a price turning
 * stale, a position without a price (FS107), a holding-time warning or
 * limit. So after a tick the next one is placed on the first period
 * boundary at or after the earliest of those instants (quiet_until), and
 * any input change (a price, a fill, an order event, a reload) brings it
 * back to the next boundary (qts_risk_loop_touch). The ticks that run are
 * the ones that would have acted, at the same instants and in the same
 * order among timers due together (the timer is moved, not restarted),
 * so a replay's results do not change; its cost follows its events, not
 * its calendar. While an exit is working or the kill switch is latched,
 * every tick runs: those ticks poll the execution state and retry. */

/* A tick with nothing new to see, every IDLE_HORIZON at most, keeps the
 * phase and the jitter figures meaningful without costing anything. */
#define IDLE_HORIZON_NS (INT64_C(86400) * 365 * NS_PER_S)

static int64_t earliest(int64_t a, int64_t b) { return b < a ? b : a; }

/* The first instant at which a tick with unchanged inputs could act;
 * INT64_MAX when none would, 0 when every tick must run. Errs early: a
 * tick run too soon does nothing, one run too late would change results. */
static int64_t quiet_until(struct qts_risk_loop *rl)
{
    if (!rl->env.skip_idle || rl->killed)
        return 0;
    /* Prices age against the newest data (px_age), which moves only with a
     * new price, and a new price touches the loop: a stale price (AN010) or
     * a position without one (FS107) needs no tick of its own. Bounding the
     * wait by them once made a replay whose feeds are years apart tick every
     * period across the gap. */
    int64_t t = INT64_MAX;
    for (size_t i = 0; i < QTS_RISK_MAX_POSITIONS; i++) {
        const struct shadow *s = &rl->sh[i];
        if (!s->used)
            continue;
        if (s->pending_id || !s->qty)
            return 0; /* an exit settles or a slot is released: poll */
        const struct qts_risk_limits *l = qts_risk_limits_for(&rl->limits, s->strategy);
        int pool = l->pool >= 0 && l->pool < QTS_POOL_COUNT ? l->pool : QTS_POOL_SCALP;
        int64_t max_ms = l->max_hold_ms[pool];
        if (max_ms <= 0)
            continue;
        if (!(s->latch & L_TIME_WARN))
            t = earliest(t, s->entry_ns +
                                (int64_t)floor(l->hold_warn_ratio * (double)max_ms * (double)MS) -
                                1);
        t = earliest(t, s->entry_ns + max_ms * MS); /* the limit without its extension */
    }
    return t;
}

static void on_timer(void *arg);

static void arm(struct qts_risk_loop *rl, int64_t now)
{
    int64_t period = rl->limits.global.loop_period_ms * MS;
    rl->armed_period = period;
    rl->next_due += period;
    if (rl->next_due <= now) /* overran: skip the missed ticks, keep the phase */
        rl->next_due += ((now - rl->next_due) / period + 1) * period;
    rl->deferred = false;
    int64_t quiet = quiet_until(rl);
    if (quiet > rl->next_due) { /* skip the idle ticks, keep the phase */
        int64_t until = earliest(quiet, now + IDLE_HORIZON_NS);
        rl->next_due += (until - rl->next_due + period - 1) / period * period;
        rl->deferred = true;
    }
    rl->timer = 0;
    qts_timer_svc_start(rl->env.timers, rl->next_due - now, on_timer, rl, &rl->timer);
}

void qts_risk_loop_touch(struct qts_risk_loop *rl)
{
    if (!rl->deferred || !rl->running || !rl->timer)
        return;
    rl->deferred = false;
    int64_t now = now_ns(rl);
    if (rl->next_due <= now)
        return; /* due now: it fires in this very advance */
    /* the first boundary after now on the lattice the timer was armed on */
    int64_t period = rl->armed_period;
    int64_t due = rl->next_due - (rl->next_due - now - 1) / period * period;
    if (due < rl->next_due && qts_timer_svc_move(rl->env.timers, rl->timer, due - now) == 0)
        rl->next_due = due;
}

static void on_timer(void *arg)
{
    struct qts_risk_loop *rl = arg;
    rl->timer = 0;
    rl->deferred = false;
    int64_t now = now_ns(rl);
    qts_hdr_record(&rl->jitter, now - rl->next_due);
    qts_risk_loop_tick(rl);
    if (rl->running)
        arm(rl, now_ns(rl));
}

int qts_risk_loop_start(struct qts_risk_loop *rl)
{
    if (rl->running)
        return QTS_EBUSY;
    rl->running = true;
    int64_t now = now_ns(rl);
    rl->next_due = now;
    arm(rl, now);
    return 0;
}

void qts_risk_loop_stop(struct qts_risk_loop *rl)
{
    rl->running = false;
    if (rl->timer) {
        qts_timer_svc_stop(rl->env.timers, rl->timer);
        rl->timer = 0;
    }
}

/* -------------------------------------------------------------- views */

void qts_risk_loop_stats(const struct qts_risk_loop *rl, struct qts_risk_loop_stats *out)
{
    *out = rl->st;
}

const struct qts_hdr_hist *qts_risk_loop_jitter(const struct qts_risk_loop *rl)
{
    return &rl->jitter;
}

const struct qts_hdr_hist *qts_risk_loop_cost(const struct qts_risk_loop *rl) { return &rl->cost; }

int64_t qts_risk_loop_trail_stop(const struct qts_risk_loop *rl, uint32_t strategy_id,
                                 uint32_t instrument)
{
    for (size_t i = 0; i < QTS_RISK_MAX_POSITIONS; i++) {
        const struct shadow *s = &rl->sh[i];
        if (s->used && s->strategy == strategy_id && s->instrument == instrument)
            return s->trail_on ? s->trail_stop : 0;
    }
    return 0;
}

int qts_risk_loop_status_json(const struct qts_risk_loop *rl, char *buf, size_t cap)
{
    char jit[256], cost[256];
    qts_hdr_json(&rl->jitter, jit, sizeof jit);
    qts_hdr_json(&rl->cost, cost, sizeof cost);
    const struct qts_risk_loop_stats *s = &rl->st;
    return snprintf(
        buf, cap,
        "{\"period_ms\":%lld,\"cycles\":%llu,\"positions\":%u,\"frozen\":%u,"
        "\"kills\":%llu,\"exit_failures\":%llu,\"exits\":{\"kill_switch\":%llu,"
        "\"volatility\":%llu,\"volatility_critical\":%llu,\"mae\":%llu,"
        "\"mae_partial\":%llu,\"time_in_trade\":%llu,\"trailing_stop\":%llu},"
        "\"jitter_ns\":%s,\"cycle_ns\":%s}",
        (long long)rl->limits.global.loop_period_ms, (unsigned long long)s->cycles, s->positions,
        s->frozen, (unsigned long long)s->kills, (unsigned long long)s->exit_failures,
        (unsigned long long)s->exits[QTS_RR_KILL], (unsigned long long)s->exits[QTS_RR_VOL_FULL],
        (unsigned long long)s->exits[QTS_RR_VOL_PARTIAL],
        (unsigned long long)s->exits[QTS_RR_MAE_FULL],
        (unsigned long long)s->exits[QTS_RR_MAE_PARTIAL], (unsigned long long)s->exits[QTS_RR_TIME],
        (unsigned long long)s->exits[QTS_RR_TRAIL], jit, cost);
}
