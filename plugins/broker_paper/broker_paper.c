/* broker_paper.c — a simulated venue (docs/paper-broker.md).
 *
 * The venue keeps its own L2 view per instrument from the market events the
 * host forwards through on_market, and a queue of requests in flight. A
 * request (new, cancel, modify) reaches the venue at
 *     sent + feed_latency + order_latency (+ seeded jitter),
 * never before an earlier request (one ordered session). The venue clock is
 * the exchange time of the market events (or host time on a timer); before a
 * market event at time T is applied, every request due at or before T is
 * executed against the book as it stood. All arithmetic is integer, the only
 * randomness is a seeded generator, so a replay gives identical reports.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qts/qts_plugin.h"

#define PB_MAGIC "QTSPB\0\0\1"
#define PB_STATE_VERSION 1u

enum pb_state { PB_PENDING = 0, PB_RESTING = 1, PB_DONE = 2 };
enum pb_kind { PB_ACT_NEW = 1, PB_ACT_CANCEL = 2, PB_ACT_MODIFY = 3 };

struct pb_level {
    int64_t px;
    int64_t qty;
};

struct pb_side {
    struct pb_level *v; /* bids: best (highest) first; asks: lowest first */
    uint32_t n, cap;
};

/* Plain data: exported byte for byte by export_state. `position` and
 * `cost` are the simulated venue's own books, kept on purpose apart from
 * the host's portfolio (the owner of the host's positions): they are what
 * a real venue would hold, answer position queries, and let
 * reconciliation find a difference. */
struct pb_inst_data {
    uint32_t id;
    uint8_t px_exp, qty_exp, has_l2, has_def;
    char symbol[QTS_SYMBOL_MAX];
    int64_t tick_size, lot_size, min_qty;
    int64_t last_trade_px;
    int64_t position;       /* signed, quantity units */
    int64_t cost;           /* cost basis of the position, cash units, signed */
    int64_t reserved_sell;  /* open sell quantity (no-short check) */
};

/* Trades of the recent window (impact model's volume V); not exported:
 * after a state transfer the window starts empty. */
struct pb_vol {
    int64_t *ts, *qty; /* ring, cap entries */
    uint32_t head, n, cap;
    int64_t sum;
};

struct pb_inst {
    struct pb_inst_data d;
    struct pb_side bid, ask;
    struct pb_vol vol;
};

/* Market impact of taking orders (docs/paper-broker.md, docs/feedback.md):
 * impact_bps = k * (qty / V)^beta, V = traded volume of the window. */
enum pb_impact_kind { PB_IMPACT_NONE = 0, PB_IMPACT_POWER = 1, PB_IMPACT_LEARNED = 2 };

struct pb_learned {
    char symbol[QTS_SYMBOL_MAX];
    double n, k, beta;
};

struct pb_order {
    uint64_t seq;           /* arrival order, also venue order id */
    uint64_t prio;          /* time priority at its price (changes on re-queue) */
    char clordid[QTS_CLORDID_MAX];
    char venue_id[QTS_VENUE_ID_MAX];
    char symbol[QTS_SYMBOL_MAX];
    uint32_t instrument;
    uint8_t side, type, tif, state;
    int64_t px, qty, cum;   /* qty = total ordered, cum = filled */
    int64_t ahead;          /* displayed quantity ahead of us at px */
    int64_t traded_unseen;  /* trades at px not yet seen as a level decrease */
    int64_t lvl_before;     /* scratch: level quantity before a book change */
    int64_t reserved_cash;  /* cash held for an open buy */
    uint32_t next_fill_id;
    uint32_t reserved0;
};

struct pb_action {
    int64_t due_ns;
    uint64_t seq;
    uint32_t kind;
    uint32_t reserved0;
    char clordid[QTS_CLORDID_MAX];
    int64_t new_px, new_qty;
};

struct pb_cfg {
    int64_t order_latency_ns, feed_latency_ns, jitter_ns;
    uint64_t seed;
    int64_t maker_fee_e8, taker_fee_e8; /* fee rate in 1e-8 of notional */
    int64_t band_bps;                   /* 0 = no price band */
    int64_t initial_cash;               /* cash units */
    bool allow_short, check_cash;
    int cancel_rule;                    /* enum pb_cancel_rule */
    int impact;                         /* enum pb_impact_kind */
    double impact_coef_bps, impact_exponent;
    int64_t impact_window_ns;
};

/* Where cancels at our price sit in the queue (docs/paper-broker.md). */
enum pb_cancel_rule { PB_CANCEL_PRO_RATA = 0, PB_CANCEL_FRONT = 1, PB_CANCEL_BACK = 2 };

struct pb {
    const struct qts_host_api *host;
    void *owner;
    struct pb_cfg cfg;
    uint64_t rng;
    uint64_t next_seq;
    int64_t vnow;           /* venue clock */
    int64_t applied_ns;     /* time of the last market event applied to the book */
    int64_t last_due;       /* requests never overtake each other */
    int64_t cash, reserved_cash;
    struct pb_inst *inst;
    uint32_t n_inst, cap_inst;
    struct pb_order **ord;   /* each allocated: pointers survive a re-entrant submit */
    uint32_t n_ord, cap_ord;
    int depth;              /* nesting of venue processing; gc only at 0 */
    struct pb_order **scratch; /* trade matching: eligible orders */
    uint32_t cap_scratch;
    struct pb_action *act;  /* sorted by (due_ns, seq) */
    uint32_t n_act, cap_act;
    uint64_t timer_id;
    bool timer_armed, stopping;
    uint64_t n_reports;
    struct pb_learned *learned; /* impact_model: learned; host-allocated */
    uint32_t n_learned;
};

/* ------------------------------------------------------------ small helpers */

static void *grow(struct pb *pb, void *p, uint32_t n, uint32_t *cap, size_t elem)
{
    if (n < *cap)
        return p;
    uint32_t nc = *cap ? *cap * 2 : 16;
    void *q = pb->host->alloc(pb->owner, (size_t)nc * elem);
    if (!q)
        abort(); /* the host allocator aborts on OOM; keep the contract */
    if (p) {
        memcpy(q, p, (size_t)n * elem);
        pb->host->free(pb->owner, p);
    }
    *cap = nc;
    return q;
}

static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

static int64_t div_round(__int128 num, __int128 den)
{
    __int128 q = num / den, r = num % den;
    if (r < 0)
        r = -r;
    if (2 * r >= den)
        q += num < 0 ? -1 : 1;
    return (int64_t)q;
}

/* px*qty in cash units, rounded half away from zero (same rule as the
 * host portfolio, so both sides agree to the micro-unit). */
static int64_t notional(int64_t px, unsigned px_exp, int64_t qty, unsigned qty_exp)
{
    int e = (int)px_exp + (int)qty_exp - QTS_CASH_EXP;
    __int128 v = (__int128)px * qty;
    if (e <= 0)
        return (int64_t)(v * qts_pow10_i64[-e]);
    if (e > QTS_MAX_EXP)
        return div_round(v / qts_pow10_i64[e - QTS_MAX_EXP], qts_pow10_i64[QTS_MAX_EXP]);
    return div_round(v, qts_pow10_i64[e]);
}

static int64_t fee_of(int64_t notional_cash, int64_t rate_e8)
{
    return div_round((__int128)notional_cash * rate_e8, 100000000);
}

static int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }
static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

/* ------------------------------------------------------------------- book */

static struct pb_inst *inst_by_id(struct pb *pb, uint32_t id)
{
    for (uint32_t i = 0; i < pb->n_inst; i++)
        if (pb->inst[i].d.id == id)
            return &pb->inst[i];
    return NULL;
}

static struct pb_inst *inst_get(struct pb *pb, uint32_t id, uint8_t px_exp, uint8_t qty_exp)
{
    struct pb_inst *in = inst_by_id(pb, id);
    if (in)
        return in;
    pb->inst = grow(pb, pb->inst, pb->n_inst, &pb->cap_inst, sizeof *pb->inst);
    in = &pb->inst[pb->n_inst++];
    memset(in, 0, sizeof *in);
    in->d.id = id;
    in->d.px_exp = px_exp;
    in->d.qty_exp = qty_exp;
    return in;
}

/* Index of px in a side, or the insertion point with *found = false. */
static uint32_t side_find(const struct pb_side *s, bool is_bid, int64_t px, bool *found)
{
    uint32_t lo = 0, hi = s->n;
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        int64_t m = s->v[mid].px;
        if (m == px) {
            *found = true;
            return mid;
        }
        if (is_bid ? m > px : m < px)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = false;
    return lo;
}

static int64_t side_qty(const struct pb_side *s, bool is_bid, int64_t px)
{
    bool found;
    uint32_t i = side_find(s, is_bid, px, &found);
    return found ? s->v[i].qty : 0;
}

static void side_set(struct pb *pb, struct pb_side *s, bool is_bid, int64_t px, int64_t qty)
{
    bool found;
    uint32_t i = side_find(s, is_bid, px, &found);
    if (found) {
        if (qty > 0) {
            s->v[i].qty = qty;
        } else {
            memmove(&s->v[i], &s->v[i + 1], (s->n - i - 1) * sizeof *s->v);
            s->n--;
        }
        return;
    }
    if (qty <= 0)
        return;
    s->v = grow(pb, s->v, s->n, &s->cap, sizeof *s->v);
    memmove(&s->v[i + 1], &s->v[i], (s->n - i) * sizeof *s->v);
    s->v[i].px = px;
    s->v[i].qty = qty;
    s->n++;
}

static int64_t ref_price(const struct pb_inst *in)
{
    if (in->bid.n && in->ask.n)
        return (in->bid.v[0].px + in->ask.v[0].px) / 2;
    if (in->d.last_trade_px)
        return in->d.last_trade_px;
    if (in->bid.n)
        return in->bid.v[0].px;
    if (in->ask.n)
        return in->ask.v[0].px;
    return 0;
}

/* ---------------------------------------------------------------- reports */

static void report(struct pb *pb, const struct pb_order *o, int exec_type, int64_t ts,
                   int code, const char *text)
{
    struct qts_exec_report r;
    memset(&r, 0, sizeof r);
    r.struct_size = sizeof r;
    r.exec_type = (uint8_t)exec_type;
    r.side = o->side;
    r.instrument = o->instrument;
    const struct pb_inst *in = inst_by_id(pb, o->instrument);
    if (in) {
        r.px_exp = in->d.px_exp;
        r.qty_exp = in->d.qty_exp;
    }
    memcpy(r.client_order_id, o->clordid, sizeof r.client_order_id);
    memcpy(r.venue_order_id, o->venue_id, sizeof r.venue_order_id);
    r.cum_qty = o->cum;
    r.leaves_qty = o->state == PB_DONE ? 0 : o->qty - o->cum;
    r.ts_venue_ns = ts;
    r.code = code;
    if (text)
        snprintf(r.text, sizeof r.text, "%s", text);
    pb->n_reports++;
    pb->host->emit_exec_report(pb->owner, &r);
}

static void report_fill(struct pb *pb, struct pb_order *o, int64_t px, int64_t qty,
                        int64_t fee, bool is_maker, int64_t ts)
{
    struct qts_exec_report r;
    const struct pb_inst *in = inst_by_id(pb, o->instrument);
    memset(&r, 0, sizeof r);
    r.struct_size = sizeof r;
    r.exec_type = QTS_EXEC_FILL;
    r.side = o->side;
    r.is_maker = is_maker;
    r.instrument = o->instrument;
    r.px_exp = in->d.px_exp;
    r.qty_exp = in->d.qty_exp;
    memcpy(r.client_order_id, o->clordid, sizeof r.client_order_id);
    memcpy(r.venue_order_id, o->venue_id, sizeof r.venue_order_id);
    r.last_px = px;
    r.last_qty = qty;
    r.cum_qty = o->cum;
    r.leaves_qty = o->state == PB_DONE ? 0 : o->qty - o->cum;
    r.fee = fee;
    r.fill_id = o->next_fill_id;
    r.ts_venue_ns = ts;
    pb->n_reports++;
    pb->host->emit_exec_report(pb->owner, &r);
}

/* ----------------------------------------------------------- accounting */

static int64_t max_fee_rate(const struct pb *pb)
{
    return max64(max64(pb->cfg.maker_fee_e8, pb->cfg.taker_fee_e8), 0);
}

/* Re-compute what an open buy holds: leaves at its limit plus the higher fee. */
static void reserve_update(struct pb *pb, struct pb_order *o, const struct pb_inst *in)
{
    int64_t want = 0;
    if (o->side == QTS_SIDE_BUY && o->state == PB_RESTING) {
        int64_t n = notional(o->px, in->d.px_exp, o->qty - o->cum, in->d.qty_exp);
        want = n + fee_of(n, max_fee_rate(pb));
    }
    pb->reserved_cash += want - o->reserved_cash;
    o->reserved_cash = want;
}

static void sell_reserve(struct pb_inst *in, const struct pb_order *o, int64_t delta)
{
    if (o->side == QTS_SIDE_SELL)
        in->d.reserved_sell += delta;
}

/* Position and its cost basis (average-cost method, as the host portfolio):
 * reducing removes a proportional part of the cost, a flip opens the rest
 * at the fill's price. */
static void position_add(struct pb_inst *in, int64_t d, int64_t n)
{
    int64_t q = in->d.position;
    if (q != 0 && (q > 0) != (d > 0)) {
        int64_t aq = q < 0 ? -q : q, ad = d < 0 ? -d : d;
        int64_t close = min64(aq, ad);
        in->d.cost -= close == aq ? in->d.cost : div_round((__int128)in->d.cost * close, aq);
        in->d.position += d > 0 ? close : -close;
        if (close == ad)
            return;
        n -= div_round((__int128)n * close, ad);
        d += d > 0 ? -close : close;
    }
    in->d.position += d;
    in->d.cost += d > 0 ? n : -n;
}

/* Average price in price units; 0 when flat. */
static int64_t avg_px(const struct pb_inst *in)
{
    if (!in->d.position)
        return 0;
    int e = (int)in->d.px_exp + (int)in->d.qty_exp - QTS_CASH_EXP;
    __int128 num = in->d.cost, den = in->d.position;
    if (e >= 0)
        num *= qts_pow10_i64[e];
    else
        den *= qts_pow10_i64[-e];
    if (den < 0) {
        num = -num;
        den = -den;
    }
    return div_round(num, den);
}

/* Execute qty at px for order o; updates cash, position, reports. */
static void do_fill(struct pb *pb, struct pb_order *o, struct pb_inst *in, int64_t px,
                    int64_t qty, bool is_maker, int64_t ts)
{
    int64_t n = notional(px, in->d.px_exp, qty, in->d.qty_exp);
    int64_t fee = fee_of(n, is_maker ? pb->cfg.maker_fee_e8 : pb->cfg.taker_fee_e8);
    bool was_resting = o->state == PB_RESTING;
    o->cum += qty;
    o->next_fill_id++;
    position_add(in, o->side == QTS_SIDE_BUY ? qty : -qty, n);
    if (o->side == QTS_SIDE_BUY) {
        pb->cash -= n + fee;
    } else {
        pb->cash += n - fee;
        if (was_resting)
            sell_reserve(in, o, -qty);
    }
    if (o->cum >= o->qty)
        o->state = PB_DONE;
    if (pb->host->metric_add)
        pb->host->metric_add(pb->owner, is_maker ? "fills_maker" : "fills_taker", 1);
    if (was_resting)
        reserve_update(pb, o, in);
    report_fill(pb, o, px, qty, fee, is_maker, ts);
}

/* ---------------------------------------------------------------- matching */

static bool crosses(const struct pb_order *o, int64_t level_px)
{
    if (o->type == QTS_ORD_MARKET)
        return true;
    return o->side == QTS_SIDE_BUY ? level_px <= o->px : level_px >= o->px;
}

/* Quantity and cost available to take for o (up to `want`). */
static int64_t takeable(const struct pb_inst *in, const struct pb_order *o, int64_t want,
                        int64_t *cost)
{
    const struct pb_side *s = o->side == QTS_SIDE_BUY ? &in->ask : &in->bid;
    int64_t got = 0, c = 0;
    for (uint32_t i = 0; i < s->n && got < want && crosses(o, s->v[i].px); i++) {
        int64_t t = min64(want - got, s->v[i].qty);
        got += t;
        c += notional(s->v[i].px, in->d.px_exp, t, in->d.qty_exp);
    }
    if (cost)
        *cost = c;
    return got;
}

/* ------------------------------------------------------------------ impact */

static void vol_add(struct pb *pb, struct pb_inst *in, int64_t ts, int64_t qty)
{
    struct pb_vol *v = &in->vol;
    while (v->n && v->ts[v->head] <= ts - pb->cfg.impact_window_ns) {
        v->sum -= v->qty[v->head];
        v->head = (v->head + 1) % v->cap;
        v->n--;
    }
    if (qty <= 0)
        return;
    if (v->n == v->cap) {
        uint32_t nc = v->cap ? v->cap * 2 : 256;
        int64_t *t = pb->host->alloc(pb->owner, nc * sizeof *t);
        int64_t *q = pb->host->alloc(pb->owner, nc * sizeof *q);
        if (!t || !q)
            abort();
        for (uint32_t i = 0; i < v->n; i++) {
            t[i] = v->ts[(v->head + i) % v->cap];
            q[i] = v->qty[(v->head + i) % v->cap];
        }
        if (v->ts) {
            pb->host->free(pb->owner, v->ts);
            pb->host->free(pb->owner, v->qty);
        }
        v->ts = t;
        v->qty = q;
        v->cap = nc;
        v->head = 0;
    }
    uint32_t at = (v->head + v->n) % v->cap;
    v->ts[at] = ts;
    v->qty[at] = qty;
    v->n++;
    v->sum += qty;
}

/* Impact in bps of taking `qty` now; 0 without a model or volume. */
static double impact_bps(const struct pb *pb, const struct pb_inst *in, int64_t qty)
{
    if (pb->cfg.impact == PB_IMPACT_NONE || qty <= 0 || in->vol.sum <= 0)
        return 0;
    double part = (double)qty / (double)in->vol.sum;
    double k = pb->cfg.impact_coef_bps, beta = pb->cfg.impact_exponent;
    if (pb->cfg.impact == PB_IMPACT_LEARNED) {
        const struct pb_learned *l = NULL;
        for (uint32_t i = 0; i < pb->n_learned; i++)
            if (strcmp(pb->learned[i].symbol, in->d.symbol) == 0)
                l = &pb->learned[i];
        if (l && l->n >= 5 && l->k > 0) {
            k = l->k;
            beta = l->beta;
        } else { /* the host model's defaults: k = 10 * spread_bps, beta = 0.5 */
            if (!in->bid.n || !in->ask.n)
                return 0;
            double b = (double)in->bid.v[0].px, a = (double)in->ask.v[0].px;
            k = 10.0 * (a - b) / ((a + b) / 2) * 1e4;
            beta = 0.5;
        }
    }
    return k > 0 ? k * pow(part, beta) : 0;
}

/* The level price moved against the taker by `bps`, rounded to the tick
 * away from the taker's favour, never beyond a limit. */
static int64_t impact_px(const struct pb_inst *in, const struct pb_order *o, int64_t lpx,
                         double bps)
{
    if (bps <= 0)
        return lpx;
    bool buy = o->side == QTS_SIDE_BUY;
    double px = (double)lpx * (buy ? 1 + bps / 1e4 : 1 - bps / 1e4);
    int64_t tick = in->d.tick_size > 1 ? in->d.tick_size : 1;
    /* the epsilon keeps an exact multiple (up to float error) on its tick */
    int64_t p = buy ? (int64_t)ceil(px / (double)tick - 1e-9) * tick
                    : (int64_t)floor(px / (double)tick + 1e-9) * tick;
    if (o->type == QTS_ORD_LIMIT)
        p = buy ? min64(p, o->px) : max64(p, o->px);
    return p > 0 ? p : lpx;
}

/* Take liquidity: walk the opposite side best first, one fill per level.
 * Taken quantity is removed from our book view (our own impact) until the
 * feed next sets that level. */
static void take(struct pb *pb, struct pb_order *o, struct pb_inst *in, int64_t ts)
{
    bool buy = o->side == QTS_SIDE_BUY;
    struct pb_side *s = buy ? &in->ask : &in->bid;
    double bps = impact_bps(pb, in, o->qty); /* one displacement for the whole order */
    while (o->state != PB_DONE && o->cum < o->qty && s->n && crosses(o, s->v[0].px)) {
        int64_t lpx = s->v[0].px;
        int64_t t = min64(o->qty - o->cum, s->v[0].qty);
        side_set(pb, s, !buy, lpx, s->v[0].qty - t);
        do_fill(pb, o, in, impact_px(in, o, lpx, bps), t, false, ts);
    }
}

static void join_queue(struct pb *pb, struct pb_order *o, struct pb_inst *in)
{
    bool buy = o->side == QTS_SIDE_BUY;
    o->ahead = side_qty(buy ? &in->bid : &in->ask, buy, o->px);
    o->traded_unseen = 0;
    o->prio = pb->next_seq++;
}

/* Queue rule for a change of the displayed quantity at our price:
 * a decrease first uses up trades already counted at that price (they were
 * taken from the queue ahead), the rest is cancels, spread pro rata over the
 * queue: ahead shrinks by ahead * cancelled / quantity before. An increase
 * joins behind us. Ahead never exceeds what is displayed. */
static void queue_on_level(struct pb_order *o, int64_t before, int64_t after, int rule)
{
    if (after < before) {
        int64_t d = before - after;
        int64_t t = min64(d, o->traded_unseen);
        o->traded_unseen -= t;
        int64_t c = d - t, base = before - t;
        if (c > 0 && base > 0) {
            if (rule == PB_CANCEL_FRONT)        /* optimistic: all ahead of us */
                o->ahead -= min64(o->ahead, c);
            else if (rule == PB_CANCEL_BACK)    /* pessimistic: behind us first */
                o->ahead -= max64(0, c - max64(0, base - o->ahead));
            else
                o->ahead -= (int64_t)(((__int128)o->ahead * c) / base);
        }
    }
    if (o->ahead > after)
        o->ahead = after;
    if (o->ahead < 0)
        o->ahead = 0;
}

static void levels_before(struct pb *pb, struct pb_inst *in)
{
    for (uint32_t i = 0; i < pb->n_ord; i++) {
        struct pb_order *o = pb->ord[i];
        if (o->state == PB_RESTING && o->instrument == in->d.id) {
            bool buy = o->side == QTS_SIDE_BUY;
            o->lvl_before = side_qty(buy ? &in->bid : &in->ask, buy, o->px);
        }
    }
}

/* After a book change: queue positions, then resting orders the new book
 * crosses (a contra order arriving at or through our price trades with us
 * first; we fill as maker at our price against the crossing quantity). */
static void levels_after(struct pb *pb, struct pb_inst *in, int64_t ts, bool top_only)
{
    for (uint32_t i = 0; i < pb->n_ord; i++) {
        struct pb_order *o = pb->ord[i];
        if (o->state != PB_RESTING || o->instrument != in->d.id)
            continue;
        bool buy = o->side == QTS_SIDE_BUY;
        const struct pb_side *s = buy ? &in->bid : &in->ask;
        /* A top-of-book view hides our level behind a better price: that
         * says nothing about the queue, so leave it alone. */
        if (top_only && s->n && (buy ? s->v[0].px > o->px : s->v[0].px < o->px))
            continue;
        queue_on_level(o, o->lvl_before, side_qty(s, buy, o->px), pb->cfg.cancel_rule);
    }
    for (uint32_t i = 0; i < pb->n_ord; i++) {
        struct pb_order *o = pb->ord[i];
        if (o->state != PB_RESTING || o->instrument != in->d.id)
            continue;
        bool buy = o->side == QTS_SIDE_BUY;
        struct pb_side *s = buy ? &in->ask : &in->bid;
        while (o->state == PB_RESTING && s->n && crosses(o, s->v[0].px)) {
            int64_t t = min64(o->qty - o->cum, s->v[0].qty);
            side_set(pb, s, !buy, s->v[0].px, s->v[0].qty - t);
            o->ahead = 0;
            do_fill(pb, o, in, o->px, t, true, ts);
        }
    }
}

/* Better price first, then time priority. */
static int resting_cmp(const struct pb_order *a, const struct pb_order *b)
{
    if (a->px != b->px)
        return (a->side == QTS_SIDE_BUY ? a->px > b->px : a->px < b->px) ? -1 : 1;
    return a->prio < b->prio ? -1 : a->prio > b->prio;
}

/* A trade of q at p. Our resting orders on the passive side at p or better
 * see the trade quantity flow through the queue in priority order: first the
 * displayed quantity ahead, then us. A trade through our price means the
 * queue at our price is gone: we fill up to the trade quantity. */
static int resting_qsort_cmp(const void *a, const void *b)
{
    return resting_cmp(*(struct pb_order *const *)a, *(struct pb_order *const *)b);
}

static void on_trade_side(struct pb *pb, struct pb_inst *in, const struct qts_trade *t,
                          uint8_t side, int64_t ts)
{
    /* eligible orders in priority order (prio is unique: a total order) */
    uint32_t n = 0;
    for (uint32_t i = 0; i < pb->n_ord; i++) {
        struct pb_order *o = pb->ord[i];
        if (o->state != PB_RESTING || o->instrument != in->d.id || o->side != side)
            continue;
        if (side == QTS_SIDE_BUY ? t->px > o->px : t->px < o->px)
            continue;
        pb->scratch = grow(pb, pb->scratch, n, &pb->cap_scratch, sizeof *pb->scratch);
        pb->scratch[n++] = o;
    }
    if (n > 1)
        qsort(pb->scratch, n, sizeof *pb->scratch, resting_qsort_cmp);
    int64_t avail = t->qty;
    for (uint32_t k = 0; k < n && avail > 0; k++) {
        struct pb_order *o = pb->scratch[k];
        int64_t f;
        if (t->px == o->px) {
            int64_t used = min64(o->ahead, avail);
            o->ahead -= used;
            o->traded_unseen += used;
            f = min64(avail - used, o->qty - o->cum);
        } else {
            o->ahead = 0;
            f = min64(avail, o->qty - o->cum);
        }
        if (f <= 0)
            continue;
        avail -= f;
        do_fill(pb, o, in, o->px, f, true, ts);
    }
}

/* ---------------------------------------------------------------- requests */

static struct pb_order *order_find(struct pb *pb, const char *clordid)
{
    for (uint32_t i = 0; i < pb->n_ord; i++)
        if (pb->ord[i]->state != PB_DONE && strcmp(pb->ord[i]->clordid, clordid) == 0)
            return pb->ord[i];
    return NULL;
}

static void reject(struct pb *pb, struct pb_order *o, int64_t ts, int code, const char *why)
{
    o->state = PB_DONE;
    if (pb->host->metric_add)
        pb->host->metric_add(pb->owner, "rejects", 1);
    report(pb, o, QTS_EXEC_REJECT, ts, code, why);
}

/* Checks at arrival; returns NULL when accepted. */
static const char *check_new(struct pb *pb, struct pb_order *o, struct pb_inst *in,
                             int *code)
{
    *code = QTS_EREJECT;
    if (!in || !in->d.has_def) {
        *code = QTS_ENOENT;
        return "unknown instrument";
    }
    if (o->side != QTS_SIDE_BUY && o->side != QTS_SIDE_SELL)
        return "invalid side";
    if (o->type != QTS_ORD_MARKET && o->type != QTS_ORD_LIMIT)
        return "invalid order type";
    if (o->tif > QTS_TIF_POST || (o->type == QTS_ORD_MARKET && o->tif == QTS_TIF_POST))
        return "invalid time in force";
    if (o->qty <= 0)
        return "quantity must be positive";
    if (in->d.lot_size > 0 && o->qty % in->d.lot_size)
        return "quantity not a multiple of the lot size";
    if (in->d.min_qty > 0 && o->qty < in->d.min_qty)
        return "quantity below the minimum";
    if (o->type == QTS_ORD_LIMIT) {
        if (o->px <= 0)
            return "limit price must be positive";
        if (in->d.tick_size > 0 && o->px % in->d.tick_size)
            return "price not a multiple of the tick size";
        int64_t ref = ref_price(in);
        if (pb->cfg.band_bps > 0 && ref > 0) {
            __int128 dev = (__int128)(o->px > ref ? o->px - ref : ref - o->px) * 10000;
            if (dev > (__int128)pb->cfg.band_bps * ref)
                return "price outside the price band";
        }
    }
    int64_t cost = 0;
    if (o->type == QTS_ORD_MARKET || o->tif != QTS_TIF_POST) {
        int64_t got = takeable(in, o, o->qty, &cost);
        if (o->type == QTS_ORD_MARKET && got == 0)
            return "no liquidity";
        if (o->tif == QTS_TIF_FOK && got < o->qty)
            return NULL; /* handled as an expiry after the ack */
    }
    if (o->side == QTS_SIDE_BUY && pb->cfg.check_cash) {
        int64_t need;
        if (o->type == QTS_ORD_MARKET) {
            need = cost + fee_of(cost, max64(pb->cfg.taker_fee_e8, 0));
        } else {
            int64_t n = notional(o->px, in->d.px_exp, o->qty, in->d.qty_exp);
            need = n + fee_of(n, max_fee_rate(pb));
        }
        if (need > pb->cash - pb->reserved_cash)
            return "insufficient cash";
    }
    if (o->side == QTS_SIDE_SELL && !pb->cfg.allow_short &&
        o->qty > in->d.position - in->d.reserved_sell)
        return "insufficient position";
    return NULL;
}

static void rest_or_finish(struct pb *pb, struct pb_order *o, struct pb_inst *in, int64_t ts)
{
    if (o->state == PB_DONE)
        return;
    if (o->type == QTS_ORD_MARKET || o->tif == QTS_TIF_IOC || o->tif == QTS_TIF_FOK) {
        o->state = PB_DONE;
        report(pb, o, QTS_EXEC_EXPIRED, ts, 0,
               o->cum ? "unfilled remainder expired" : "nothing to fill immediately");
        return;
    }
    if (o->state != PB_RESTING) {
        o->state = PB_RESTING;
        sell_reserve(in, o, o->qty - o->cum);
        join_queue(pb, o, in);
    }
    reserve_update(pb, o, in);
}

static void act_new(struct pb *pb, struct pb_order *o, int64_t ts)
{
    struct pb_inst *in = inst_by_id(pb, o->instrument);
    int code;
    const char *why = check_new(pb, o, in, &code);
    if (why) {
        reject(pb, o, ts, code, why);
        return;
    }
    if (o->tif == QTS_TIF_POST && in->d.has_def) {
        const struct pb_side *s = o->side == QTS_SIDE_BUY ? &in->ask : &in->bid;
        if (s->n && crosses(o, s->v[0].px)) {
            reject(pb, o, ts, QTS_EREJECT, "post-only order would take liquidity");
            return;
        }
    }
    report(pb, o, QTS_EXEC_ACK, ts, 0, NULL);
    if (o->tif == QTS_TIF_FOK && takeable(in, o, o->qty, NULL) < o->qty) {
        rest_or_finish(pb, o, in, ts);
        return;
    }
    take(pb, o, in, ts);
    rest_or_finish(pb, o, in, ts);
}

static void act_cancel(struct pb *pb, const struct pb_action *a, int64_t ts)
{
    struct pb_order *o = order_find(pb, a->clordid);
    if (!o || o->state != PB_RESTING) {
        struct pb_order tmp;
        memset(&tmp, 0, sizeof tmp);
        if (o)
            tmp = *o;
        snprintf(tmp.clordid, sizeof tmp.clordid, "%s", a->clordid);
        tmp.state = PB_DONE;
        report(pb, &tmp, QTS_EXEC_CANCEL_REJECT, ts, QTS_ENOENT,
               a->kind == PB_ACT_MODIFY ? "modify: order not open" : "order not open");
        return;
    }
    struct pb_inst *in = inst_by_id(pb, o->instrument);
    sell_reserve(in, o, -(o->qty - o->cum));
    o->state = PB_DONE;
    reserve_update(pb, o, in);
    report(pb, o, QTS_EXEC_CANCELLED, ts, 0, NULL);
}

static void act_modify(struct pb *pb, const struct pb_action *a, int64_t ts)
{
    struct pb_order *o = order_find(pb, a->clordid);
    if (!o || o->state != PB_RESTING) {
        act_cancel(pb, a, ts); /* reports the cancel-reject */
        return;
    }
    struct pb_inst *in = inst_by_id(pb, o->instrument);
    const char *why = NULL;
    int64_t new_px = a->new_px > 0 ? a->new_px : o->px;
    if (a->new_qty <= o->cum)
        why = "modify: new quantity not above the filled quantity";
    else if (in->d.lot_size > 0 && a->new_qty % in->d.lot_size)
        why = "modify: quantity not a multiple of the lot size";
    else if (in->d.tick_size > 0 && new_px % in->d.tick_size)
        why = "modify: price not a multiple of the tick size";
    if (!why && o->side == QTS_SIDE_BUY && pb->cfg.check_cash) {
        int64_t n = notional(new_px, in->d.px_exp, a->new_qty - o->cum, in->d.qty_exp);
        if (n + fee_of(n, max_fee_rate(pb)) > pb->cash - pb->reserved_cash + o->reserved_cash)
            why = "modify: insufficient cash";
    }
    if (!why && o->side == QTS_SIDE_SELL && !pb->cfg.allow_short &&
        a->new_qty - o->qty > in->d.position - in->d.reserved_sell)
        why = "modify: insufficient position";
    if (why) {
        report(pb, o, QTS_EXEC_CANCEL_REJECT, ts, QTS_EREJECT, why);
        return;
    }
    /* A smaller quantity at the same price keeps its place; anything else
     * goes to the back of the queue at the (new) price. */
    bool keep = new_px == o->px && a->new_qty <= o->qty;
    sell_reserve(in, o, a->new_qty - o->qty);
    o->qty = a->new_qty;
    o->px = new_px;
    if (!keep)
        join_queue(pb, o, in);
    reserve_update(pb, o, in);
    report(pb, o, QTS_EXEC_REPLACED, ts, 0, NULL);
    /* a new price may cross the book: the rest of it takes liquidity */
    const struct pb_side *s = o->side == QTS_SIDE_BUY ? &in->ask : &in->bid;
    if (s->n && crosses(o, s->v[0].px)) {
        sell_reserve(in, o, -(o->qty - o->cum));
        o->state = PB_PENDING; /* taker for this part */
        take(pb, o, in, ts);
        if (o->state != PB_DONE) {
            o->state = PB_RESTING;
            sell_reserve(in, o, o->qty - o->cum);
        }
        reserve_update(pb, o, in);
    }
}

static void gc_orders(struct pb *pb)
{
    if (pb->depth)
        return;
    uint32_t w = 0;
    for (uint32_t i = 0; i < pb->n_ord; i++) {
        if (pb->ord[i]->state != PB_DONE)
            pb->ord[w++] = pb->ord[i];
        else
            pb->host->free(pb->owner, pb->ord[i]);
    }
    pb->n_ord = w;
}

static struct pb_order *order_new(struct pb *pb)
{
    pb->ord = grow(pb, pb->ord, pb->n_ord, &pb->cap_ord, sizeof *pb->ord);
    struct pb_order *o = pb->host->alloc(pb->owner, sizeof *o);
    if (!o)
        abort();
    memset(o, 0, sizeof *o);
    pb->ord[pb->n_ord++] = o;
    return o;
}

static void arm_timer(struct pb *pb);

/* Execute every request due at or before t. */
static void advance(struct pb *pb, int64_t t)
{
    if (t > pb->vnow)
        pb->vnow = t;
    if (pb->depth > 1)
        return; /* a re-entrant call: the outer loop picks the requests up */
    while (pb->n_act && pb->act[0].due_ns <= pb->vnow) {
        struct pb_action a = pb->act[0];
        memmove(&pb->act[0], &pb->act[1], (pb->n_act - 1) * sizeof *pb->act);
        pb->n_act--;
        /* A request due before the last event already applied (host and
         * exchange clocks disagree) meets the book as it is now. */
        int64_t ts = max64(a.due_ns, pb->applied_ns);
        if (a.kind == PB_ACT_NEW) {
            for (uint32_t i = 0; i < pb->n_ord; i++)
                if (pb->ord[i]->state == PB_PENDING &&
                    strcmp(pb->ord[i]->clordid, a.clordid) == 0) {
                    act_new(pb, pb->ord[i], ts);
                    break;
                }
        } else if (a.kind == PB_ACT_CANCEL) {
            act_cancel(pb, &a, ts);
        } else {
            act_modify(pb, &a, ts);
        }
    }
}

static void on_timer(void *arg)
{
    struct pb *pb = arg;
    pb->timer_armed = false;
    pb->depth++;
    advance(pb, pb->host->now_ns(pb->owner));
    pb->depth--;
    gc_orders(pb);
    arm_timer(pb);
}

/* One host timer for the earliest request, so requests also arrive when no
 * market event moves the clock (paper mode on a quiet market). */
static void arm_timer(struct pb *pb)
{
    if (pb->timer_armed || !pb->n_act || !pb->host->timer_start || pb->stopping)
        return;
    int64_t wait = pb->act[0].due_ns - pb->host->now_ns(pb->owner);
    uint64_t ms = wait > 0 ? (uint64_t)((wait + 999999) / 1000000) : 0;
    if (pb->host->timer_start(pb->owner, ms, 0, on_timer, pb, &pb->timer_id) == 0)
        pb->timer_armed = true;
}

static void enqueue(struct pb *pb, uint32_t kind, const char *clordid, int64_t new_px,
                    int64_t new_qty)
{
    int64_t lat = pb->cfg.feed_latency_ns + pb->cfg.order_latency_ns;
    if (pb->cfg.jitter_ns > 0)
        lat += (int64_t)(splitmix64(&pb->rng) % (uint64_t)(pb->cfg.jitter_ns + 1));
    int64_t due = max64(pb->host->now_ns(pb->owner) + lat, pb->last_due);
    pb->last_due = due;
    pb->act = grow(pb, pb->act, pb->n_act, &pb->cap_act, sizeof *pb->act);
    struct pb_action *a = &pb->act[pb->n_act++]; /* due is never below the last */
    memset(a, 0, sizeof *a);
    a->due_ns = due;
    a->seq = pb->next_seq++;
    a->kind = kind;
    snprintf(a->clordid, sizeof a->clordid, "%s", clordid);
    a->new_px = new_px;
    a->new_qty = new_qty;
    arm_timer(pb);
}

/* ---------------------------------------------------------------- broker ops */

static int pb_env(void *self)
{
    (void)self;
    return QTS_BROKER_ENV_SIMULATED;
}

static int pb_submit(void *self, const struct qts_broker_order *bo)
{
    struct pb *pb = self;
    if (!bo || bo->struct_size < offsetof(struct qts_broker_order, ts_sent_ns) ||
        !bo->client_order_id[0])
        return QTS_EINVAL;
    if (pb->stopping)
        return QTS_ECLOSED;
    if (order_find(pb, bo->client_order_id))
        return 0; /* a retry of an order we have: idempotent */
    struct pb_order *o = order_new(pb);
    o->seq = pb->next_seq;
    snprintf(o->clordid, sizeof o->clordid, "%s", bo->client_order_id);
    snprintf(o->venue_id, sizeof o->venue_id, "PB-%llu", (unsigned long long)o->seq);
    snprintf(o->symbol, sizeof o->symbol, "%s", bo->symbol);
    o->side = bo->side;
    o->type = bo->type;
    o->tif = bo->tif;
    o->px = bo->type == QTS_ORD_MARKET ? 0 : bo->px;
    o->qty = bo->qty;
    o->state = PB_PENDING;
    o->instrument = bo->instrument;
    const struct qts_instrument *def =
        pb->host->instrument_find ? pb->host->instrument_find(pb->owner, bo->symbol) : NULL;
    if (def) {
        struct pb_inst *in = inst_get(pb, def->id, def->px_exp, def->qty_exp);
        o->instrument = def->id;
        in->d.has_def = 1;
        snprintf(in->d.symbol, sizeof in->d.symbol, "%s", def->symbol);
        in->d.px_exp = def->px_exp;
        in->d.qty_exp = def->qty_exp;
        in->d.tick_size = def->tick_size;
        in->d.lot_size = def->lot_size;
        in->d.min_qty = def->min_qty;
    } else {
        o->instrument = UINT32_MAX; /* rejected on arrival as unknown */
    }
    enqueue(pb, PB_ACT_NEW, o->clordid, 0, 0);
    return 0;
}

static int pb_cancel(void *self, const char *clordid, const char *venue_order_id)
{
    struct pb *pb = self;
    if ((!clordid || !clordid[0]) && venue_order_id && venue_order_id[0]) {
        /* cancel by venue id: resolve it to the client id we know */
        for (uint32_t i = 0; i < pb->n_ord; i++)
            if (pb->ord[i]->state != PB_DONE &&
                strcmp(pb->ord[i]->venue_id, venue_order_id) == 0)
                clordid = pb->ord[i]->clordid;
    }
    if (!clordid || !clordid[0])
        return QTS_EINVAL;
    enqueue(pb, PB_ACT_CANCEL, clordid, 0, 0);
    return 0;
}

static int pb_modify(void *self, const struct qts_broker_modify *m)
{
    struct pb *pb = self;
    if (!m || !m->client_order_id[0] || m->new_qty <= 0 || m->new_px < 0)
        return QTS_EINVAL;
    enqueue(pb, PB_ACT_MODIFY, m->client_order_id, m->new_px, m->new_qty);
    return 0;
}

static int pb_query_open_orders(void *self, uint64_t req_id)
{
    struct pb *pb = self;
    for (uint32_t i = 0; i < pb->n_ord; i++)
        if (pb->ord[i]->state == PB_RESTING)
            report(pb, pb->ord[i], QTS_EXEC_STATUS, pb->vnow, 0, NULL);
    if (pb->host->emit_query_done)
        pb->host->emit_query_done(pb->owner, req_id, 0);
    return 0;
}

static int pb_query_positions(void *self, uint64_t req_id)
{
    struct pb *pb = self;
    for (uint32_t i = 0; i < pb->n_inst; i++) {
        const struct pb_inst *in = &pb->inst[i];
        if (!in->d.position || !pb->host->emit_position)
            continue;
        struct qts_broker_position p;
        memset(&p, 0, sizeof p);
        p.struct_size = sizeof p;
        p.instrument = in->d.id;
        memcpy(p.symbol, in->d.symbol, sizeof p.symbol);
        p.px_exp = in->d.px_exp;
        p.qty_exp = in->d.qty_exp;
        p.qty = in->d.position;
        p.avg_px = avg_px(in);
        pb->host->emit_position(pb->owner, &p);
    }
    if (pb->host->emit_query_done)
        pb->host->emit_query_done(pb->owner, req_id, 0);
    return 0;
}

static int64_t ev_time(const struct qts_ev_hdr *h)
{
    return h->ts_exch_ns ? h->ts_exch_ns : h->ts_recv_ns;
}

static void pb_on_market(void *self, const struct qts_ev_hdr *ev)
{
    struct pb *pb = self;
    if (!ev)
        return;
    pb->depth++;
    advance(pb, ev_time(ev));
    struct pb_inst *in = inst_get(pb, ev->instrument, ev->px_exp, ev->qty_exp);
    int64_t ts = max64(ev_time(ev), pb->vnow);
    switch (ev->type) {
    case QTS_EV_TRADE: {
        if (ev->struct_size < sizeof(struct qts_trade))
            break;
        const struct qts_trade *t = (const struct qts_trade *)ev;
        in->d.last_trade_px = t->px;
        if (pb->cfg.impact != PB_IMPACT_NONE)
            vol_add(pb, in, ev_time(ev), t->qty);
        if (t->qty <= 0)
            break;
        if (t->aggressor != QTS_SIDE_BUY)
            on_trade_side(pb, in, t, QTS_SIDE_BUY, ts);
        if (t->aggressor != QTS_SIDE_SELL)
            on_trade_side(pb, in, t, QTS_SIDE_SELL, ts);
        break;
    }
    case QTS_EV_QUOTE: {
        const struct qts_quote *q = (const struct qts_quote *)ev;
        if (ev->struct_size < sizeof(struct qts_quote) || in->d.has_l2)
            break; /* the L2 book is the better source */
        levels_before(pb, in);
        in->bid.n = in->ask.n = 0;
        side_set(pb, &in->bid, true, q->bid_px, q->bid_qty);
        side_set(pb, &in->ask, false, q->ask_px, q->ask_qty);
        levels_after(pb, in, ts, true);
        break;
    }
    case QTS_EV_BOOK: {
        const struct qts_book_update *b = (const struct qts_book_update *)ev;
        if (ev->struct_size < sizeof(struct qts_book_update) || (b->n_bids && !b->bids) ||
            (b->n_asks && !b->asks))
            break;
        levels_before(pb, in);
        if (ev->flags & QTS_BOOK_SNAPSHOT)
            in->bid.n = in->ask.n = 0;
        in->d.has_l2 = 1;
        for (uint32_t i = 0; i < b->n_bids; i++)
            side_set(pb, &in->bid, true, b->bids[i].px, b->bids[i].qty);
        for (uint32_t i = 0; i < b->n_asks; i++)
            side_set(pb, &in->ask, false, b->asks[i].px, b->asks[i].qty);
        levels_after(pb, in, ts, false);
        break;
    }
    default:
        break;
    }
    pb->applied_ns = max64(pb->applied_ns, ev_time(ev));
    pb->depth--;
    gc_orders(pb);
    arm_timer(pb);
}

static const struct qts_broker_ops pb_ops = {
    .struct_size = sizeof(struct qts_broker_ops),
    .env = pb_env,
    .submit = pb_submit,
    .cancel = pb_cancel,
    .modify = pb_modify,
    .query_open_orders = pb_query_open_orders,
    .query_positions = pb_query_positions,
    .on_market = pb_on_market,
};

/* ----------------------------------------------------------------- lifecycle */

static int cfg_i64(struct pb *pb, const char *key, int64_t *out, int64_t min,
                   struct qts_err *err)
{
    int rc = pb->host->cfg_int(pb->owner, key, out, err);
    if (rc == QTS_ENOENT)
        return 0;
    if (rc)
        return rc;
    if (*out < min)
        return qts_err_set(err, QTS_ECONFIG, "broker_paper: %s must be >= %lld", key,
                           (long long)min);
    return 0;
}

static int cfg_dbl(struct pb *pb, const char *key, double *out, struct qts_err *err)
{
    int rc = pb->host->cfg_double(pb->owner, key, out, err);
    return rc == QTS_ENOENT ? 0 : rc;
}

static int cfg_flag(struct pb *pb, const char *key, bool *out, struct qts_err *err)
{
    int rc = pb->host->cfg_bool(pb->owner, key, out, err);
    return rc == QTS_ENOENT ? 0 : rc;
}

static int64_t llround_pos(double v) { return (int64_t)(v < 0 ? v - 0.5 : v + 0.5); }

static void pb_destroy(void *self);

/* A learned model file (host impact_model.c format): "<symbol> n=.. k=..
 * beta=.. ..." per line; other tokens are ignored. */
static int load_learned(struct pb *pb, const char *path, struct qts_err *err)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return qts_err_set(err, QTS_ECONFIG, "broker_paper: impact_file %s: cannot open", path);
    char line[4096];
    uint32_t cap = 0;
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#' || line[0] == '\n')
            continue;
        struct pb_learned l;
        memset(&l, 0, sizeof l);
        char *save = NULL, *tok = strtok_r(line, " \n", &save);
        if (!tok)
            continue;
        snprintf(l.symbol, sizeof l.symbol, "%s", tok);
        while ((tok = strtok_r(NULL, " \n", &save))) {
            if (strncmp(tok, "n=", 2) == 0)
                l.n = strtod(tok + 2, NULL);
            else if (strncmp(tok, "k=", 2) == 0)
                l.k = strtod(tok + 2, NULL);
            else if (strncmp(tok, "beta=", 5) == 0)
                l.beta = strtod(tok + 5, NULL);
        }
        pb->learned = grow(pb, pb->learned, pb->n_learned, &cap, sizeof *pb->learned);
        pb->learned[pb->n_learned++] = l;
    }
    fclose(f);
    return 0;
}

static int impact_config(struct pb *pb, struct qts_err *err)
{
    struct pb_cfg *c = &pb->cfg;
    c->impact_exponent = 0.5;
    c->impact_window_ns = 60000000000LL;
    const char *model = NULL, *file = NULL;
    int rc = pb->host->cfg_str ? pb->host->cfg_str(pb->owner, "impact_model", &model, err)
                               : QTS_ENOENT;
    if (rc && rc != QTS_ENOENT)
        return rc;
    if ((rc = cfg_dbl(pb, "impact_coef_bps", &c->impact_coef_bps, err)) ||
        (rc = cfg_dbl(pb, "impact_exponent", &c->impact_exponent, err)) ||
        (rc = cfg_i64(pb, "impact_window_ns", &c->impact_window_ns, 1, err)))
        return rc;
    if (!model || strcmp(model, "none") == 0)
        c->impact = PB_IMPACT_NONE;
    else if (strcmp(model, "power") == 0)
        c->impact = PB_IMPACT_POWER;
    else if (strcmp(model, "learned") == 0)
        c->impact = PB_IMPACT_LEARNED;
    else
        return qts_err_set(err, QTS_ECONFIG,
                           "broker_paper: impact_model '%s': use none, power or learned", model);
    if (!(c->impact_coef_bps >= 0 && c->impact_coef_bps <= 10000) ||
        !(c->impact_exponent > 0 && c->impact_exponent <= 3))
        return qts_err_set(err, QTS_ECONFIG,
                           "broker_paper: impact_coef_bps within [0, 10000], impact_exponent "
                           "within (0, 3]");
    if (c->impact == PB_IMPACT_LEARNED) {
        rc = pb->host->cfg_str ? pb->host->cfg_str(pb->owner, "impact_file", &file, err)
                               : QTS_ENOENT;
        if (rc || !file)
            return qts_err_set(err, QTS_ECONFIG,
                               "broker_paper: impact_model learned needs impact_file");
        return load_learned(pb, file, err);
    }
    return 0;
}

static int pb_init(const struct qts_host_api *host, void *owner, void **self,
                   struct qts_err *err)
{
    if (!host || host->struct_size < offsetof(struct qts_host_api, http_request) ||
        !host->alloc || !host->free || !host->now_ns || !host->emit_exec_report ||
        !host->cfg_int || !host->cfg_double || !host->cfg_bool)
        return qts_err_set(err, QTS_EABI, "broker_paper: host services missing");
    struct pb *pb = host->alloc(owner, sizeof *pb);
    if (!pb)
        return qts_err_set(err, QTS_ENOMEM, "broker_paper: out of memory");
    memset(pb, 0, sizeof *pb);
    pb->host = host;
    pb->owner = owner;
    struct pb_cfg *c = &pb->cfg;
    c->order_latency_ns = 1000000;
    c->seed = 1;
    c->check_cash = true;
    double maker_bps = 10.0, taker_bps = 10.0, band_bps = 1000.0, cash = 1000000.0;
    int64_t seed = 1;
    int rc;
    if ((rc = cfg_i64(pb, "order_latency_ns", &c->order_latency_ns, 0, err)) ||
        (rc = cfg_i64(pb, "feed_latency_ns", &c->feed_latency_ns, 0, err)) ||
        (rc = cfg_i64(pb, "latency_jitter_ns", &c->jitter_ns, 0, err)) ||
        (rc = cfg_i64(pb, "seed", &seed, INT64_MIN, err)) ||
        (rc = cfg_dbl(pb, "maker_fee_bps", &maker_bps, err)) ||
        (rc = cfg_dbl(pb, "taker_fee_bps", &taker_bps, err)) ||
        (rc = cfg_dbl(pb, "price_band_bps", &band_bps, err)) ||
        (rc = cfg_dbl(pb, "initial_cash", &cash, err)) ||
        (rc = cfg_flag(pb, "allow_short", &c->allow_short, err)) ||
        (rc = cfg_flag(pb, "check_cash", &c->check_cash, err))) {
        pb_destroy(pb);
        return rc;
    }
    const char *rule = NULL;
    rc = host->cfg_str ? host->cfg_str(owner, "queue_cancel_rule", &rule, err) : QTS_ENOENT;
    if (rc && rc != QTS_ENOENT) {
        pb_destroy(pb);
        return rc;
    }
    if (rule && strcmp(rule, "pro_rata") == 0)
        c->cancel_rule = PB_CANCEL_PRO_RATA;
    else if (rule && strcmp(rule, "front") == 0)
        c->cancel_rule = PB_CANCEL_FRONT;
    else if (rule && strcmp(rule, "back") == 0)
        c->cancel_rule = PB_CANCEL_BACK;
    else if (rule) {
        pb_destroy(pb);
        return qts_err_set(err, QTS_ECONFIG,
                           "broker_paper: queue_cancel_rule '%s': use pro_rata, front or back",
                           rule);
    }
    if (band_bps < 0 || cash < 0 || cash > 9e12 || maker_bps < -1000 || maker_bps > 1000 ||
        taker_bps < -1000 || taker_bps > 1000) {
        pb_destroy(pb);
        return qts_err_set(err, QTS_ECONFIG,
                           "broker_paper: fee bps within +-1000, price_band_bps >= 0, "
                           "0 <= initial_cash <= 9e12");
    }
    rc = impact_config(pb, err);
    if (rc != 0) {
        pb_destroy(pb);
        return rc;
    }
    c->seed = (uint64_t)seed;
    c->maker_fee_e8 = llround_pos(maker_bps * 10000.0);
    c->taker_fee_e8 = llround_pos(taker_bps * 10000.0);
    c->band_bps = llround_pos(band_bps);
    c->initial_cash = llround_pos(cash * 1e6);
    pb->rng = c->seed;
    pb->cash = c->initial_cash;
    pb->next_seq = 1;
    *self = pb;
    return 0;
}

static int pb_start(void *self, struct qts_err *err)
{
    struct pb *pb = self;
    (void)err;
    if (pb->host->log)
        pb->host->log(pb->owner, QTS_LOG_INFO,
                      "broker_paper started order_latency_ns=%lld feed_latency_ns=%lld "
                      "jitter_ns=%lld seed=%llu maker_fee_e8=%lld taker_fee_e8=%lld "
                      "band_bps=%lld allow_short=%d check_cash=%d cancel_rule=%d",
                      (long long)pb->cfg.order_latency_ns, (long long)pb->cfg.feed_latency_ns,
                      (long long)pb->cfg.jitter_ns, (unsigned long long)pb->cfg.seed,
                      (long long)pb->cfg.maker_fee_e8, (long long)pb->cfg.taker_fee_e8,
                      (long long)pb->cfg.band_bps, pb->cfg.allow_short, pb->cfg.check_cash,
                      pb->cfg.cancel_rule);
    return 0;
}

static int pb_stop(void *self)
{
    struct pb *pb = self;
    pb->stopping = true;
    if (pb->timer_armed && pb->host->timer_stop)
        pb->host->timer_stop(pb->owner, pb->timer_id);
    pb->timer_armed = false;
    return 0;
}

static void pb_destroy(void *self)
{
    struct pb *pb = self;
    if (!pb)
        return;
    if (pb->timer_armed && pb->host->timer_stop)
        pb->host->timer_stop(pb->owner, pb->timer_id);
    for (uint32_t i = 0; i < pb->n_inst; i++) {
        if (pb->inst[i].vol.ts) {
            pb->host->free(pb->owner, pb->inst[i].vol.ts);
            pb->host->free(pb->owner, pb->inst[i].vol.qty);
        }
        if (pb->inst[i].bid.v)
            pb->host->free(pb->owner, pb->inst[i].bid.v);
        if (pb->inst[i].ask.v)
            pb->host->free(pb->owner, pb->inst[i].ask.v);
    }
    if (pb->inst)
        pb->host->free(pb->owner, pb->inst);
    for (uint32_t i = 0; i < pb->n_ord; i++)
        pb->host->free(pb->owner, pb->ord[i]);
    if (pb->ord)
        pb->host->free(pb->owner, pb->ord);
    if (pb->scratch)
        pb->host->free(pb->owner, pb->scratch);
    if (pb->learned)
        pb->host->free(pb->owner, pb->learned);
    if (pb->act)
        pb->host->free(pb->owner, pb->act);
    pb->host->free(pb->owner, pb);
}

/* ------------------------------------------------------------- state transfer */

/* Layout: magic[8], version, sizeof of the three records, scalars, then the
 * instruments (each followed by its book), orders and requests in flight.
 * Same-build records are copied as bytes; the sizes guard against a build
 * with a different layout. */
struct pb_state_hdr {
    char magic[8];
    uint32_t version;
    uint32_t inst_size, order_size, action_size;
    uint64_t rng, next_seq, n_reports;
    int64_t vnow, last_due, cash, reserved_cash, applied_ns;
    uint32_t n_inst, n_ord, n_act, reserved0;
};

static int pb_export(void *self, struct qts_buf *out)
{
    struct pb *pb = self;
    struct pb_state_hdr h;
    memset(&h, 0, sizeof h);
    memcpy(h.magic, PB_MAGIC, 8);
    h.version = PB_STATE_VERSION;
    h.inst_size = sizeof(struct pb_inst_data);
    h.order_size = sizeof(struct pb_order);
    h.action_size = sizeof(struct pb_action);
    h.rng = pb->rng;
    h.next_seq = pb->next_seq;
    h.n_reports = pb->n_reports;
    h.vnow = pb->vnow;
    h.applied_ns = pb->applied_ns;
    h.last_due = pb->last_due;
    h.cash = pb->cash;
    h.reserved_cash = pb->reserved_cash;
    h.n_inst = pb->n_inst;
    h.n_ord = pb->n_ord;
    h.n_act = pb->n_act;
    int rc = out->append(out, &h, sizeof h);
    for (uint32_t i = 0; !rc && i < pb->n_inst; i++) {
        const struct pb_inst *in = &pb->inst[i];
        uint32_t nb[2] = {in->bid.n, in->ask.n};
        rc = out->append(out, &in->d, sizeof in->d);
        if (!rc)
            rc = out->append(out, nb, sizeof nb);
        if (!rc && in->bid.n)
            rc = out->append(out, in->bid.v, in->bid.n * sizeof *in->bid.v);
        if (!rc && in->ask.n)
            rc = out->append(out, in->ask.v, in->ask.n * sizeof *in->ask.v);
    }
    for (uint32_t i = 0; !rc && i < pb->n_ord; i++)
        rc = out->append(out, pb->ord[i], sizeof *pb->ord[i]);
    if (!rc && pb->n_act)
        rc = out->append(out, pb->act, pb->n_act * sizeof *pb->act);
    return rc;
}

struct rd {
    const uint8_t *p;
    size_t n;
};

static int rd_take(struct rd *r, void *dst, size_t n)
{
    if (r->n < n)
        return QTS_EPARSE;
    memcpy(dst, r->p, n);
    r->p += n;
    r->n -= n;
    return 0;
}

static int pb_import(void *self, const void *p, size_t n)
{
    struct pb *pb = self;
    struct rd r = {p, n};
    struct pb_state_hdr h;
    if (pb->n_inst || pb->n_ord || pb->n_act)
        return QTS_ESTATE; /* only into a fresh instance */
    if (rd_take(&r, &h, sizeof h) || memcmp(h.magic, PB_MAGIC, 8))
        return QTS_EPARSE;
    if (h.version != PB_STATE_VERSION || h.inst_size != sizeof(struct pb_inst_data) ||
        h.order_size != sizeof(struct pb_order) || h.action_size != sizeof(struct pb_action))
        return QTS_EUNSUPPORTED;
    int rc = 0;
    for (uint32_t i = 0; !rc && i < h.n_inst; i++) {
        struct pb_inst_data d;
        uint32_t nb[2];
        if ((rc = rd_take(&r, &d, sizeof d)) || (rc = rd_take(&r, nb, sizeof nb)))
            break;
        struct pb_inst *in = inst_get(pb, d.id, d.px_exp, d.qty_exp);
        in->d = d;
        for (int s = 0; !rc && s < 2; s++) {
            struct pb_side *side = s ? &in->ask : &in->bid;
            for (uint32_t k = 0; !rc && k < nb[s]; k++) {
                struct pb_level l;
                if (!(rc = rd_take(&r, &l, sizeof l)))
                    side_set(pb, side, s == 0, l.px, l.qty);
            }
        }
    }
    for (uint32_t i = 0; !rc && i < h.n_ord; i++) {
        struct pb_order o;
        if ((rc = rd_take(&r, &o, sizeof o)))
            break;
        if (o.state > PB_DONE || !memchr(o.clordid, 0, sizeof o.clordid)) {
            rc = QTS_EPARSE;
            break;
        }
        *order_new(pb) = o;
    }
    for (uint32_t i = 0; !rc && i < h.n_act; i++) {
        pb->act = grow(pb, pb->act, pb->n_act, &pb->cap_act, sizeof *pb->act);
        if (!(rc = rd_take(&r, &pb->act[pb->n_act], sizeof *pb->act)))
            pb->n_act++;
    }
    if (rc)
        return rc; /* destroy() frees what was read */
    pb->rng = h.rng;
    pb->next_seq = h.next_seq;
    pb->n_reports = h.n_reports;
    pb->vnow = h.vnow;
    pb->applied_ns = h.applied_ns;
    pb->last_due = h.last_due;
    pb->cash = h.cash;
    pb->reserved_cash = h.reserved_cash;
    arm_timer(pb);
    return 0;
}

/* Every key of the plugin's config: (docs/paper-broker.md); the defaults
 * are the ones pb_init and impact_config start from. */
static const struct qts_cfg_key pb_keys[] = {
    QTS_CFG_INT("order_latency_ns", "1000000",
                "one-way time from the host sending a request to the venue acting on it"),
    QTS_CFG_INT("feed_latency_ns", "0",
                "time from the venue publishing market data to the strategy seeing it"),
    QTS_CFG_INT("latency_jitter_ns", "0", "extra latency per request, uniform in [0, jitter]"),
    QTS_CFG_INT("seed", "1", "seed of the latency and queue models' generator"),
    QTS_CFG_DEC("maker_fee_bps", "10", "fee on passive fills, basis points; negative = rebate"),
    QTS_CFG_DEC("taker_fee_bps", "10", "fee on aggressive fills, basis points"),
    QTS_CFG_DEC("price_band_bps", "1000",
                "reject limit prices further than this from the reference; 0 = off"),
    QTS_CFG_DEC("initial_cash", "1000000", "cash of the simulated account"),
    QTS_CFG_BOOL("allow_short", "false", "allow sells beyond the held position"),
    QTS_CFG_BOOL("check_cash", "true", "reject buys the free cash cannot pay for"),
    QTS_CFG_STR("queue_cancel_rule", "pro_rata",
                "where cancels at our price sit in the queue: pro_rata, front or back"),
    QTS_CFG_STR("impact_model", "none", "market impact of taking orders: none, power or learned"),
    QTS_CFG_DEC("impact_coef_bps", "0", "power model: k of impact_bps = k * (qty / V)^beta"),
    QTS_CFG_DEC("impact_exponent", "0.5", "power model: beta"),
    QTS_CFG_INT("impact_window_ns", "60000000000",
                "V = quantity traded at the venue within this window"),
    QTS_CFG_STR("impact_file", NULL, "learned model: the model file the host wrote"),
    QTS_CFG_END
};

QTS_PLUGIN_DEFINE("broker_paper", QTS_KIND_BROKER, "1.0.0", &pb_ops, pb_keys,
                  QTS_CAP_STATE_XFER, .init = pb_init, .start = pb_start, .stop = pb_stop,
                  .destroy = pb_destroy, .export_state = pb_export, .import_state = pb_import);
