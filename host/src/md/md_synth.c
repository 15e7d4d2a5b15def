/* md_synth.c — see md_synth.h. */
#include "md_synth.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* splitmix64: tiny, fast, good enough for simulation, identical everywhere */
static inline uint64_t rnd(struct qts_md_synth *s)
{
    uint64_t z = (s->rng += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static inline double unif(struct qts_md_synth *s) /* (0, 1) */
{
    return ((double)(rnd(s) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

/* geometric count >= 1 with the given mean */
static inline int64_t geom(struct qts_md_synth *s, double mean)
{
    if (mean <= 1.0)
        return 1;
    double p = 1.0 / mean;
    return 1 + (int64_t)(log(unif(s)) / log(1.0 - p));
}

/* standard normal (Box-Muller; one of the pair is dropped to keep the
 * state small) */
static inline double normal(struct qts_md_synth *s)
{
    double u = unif(s), v = unif(s);
    return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

void qts_md_synth_init(struct qts_md_synth *s, const struct qts_md_synth_opts *o,
                       const struct qts_md_inst *inst)
{
    memset(s, 0, sizeof *s);
    s->o = *o;
    if (s->o.rate_per_s <= 0)
        s->o.rate_per_s = 1000;
    if (s->o.tick <= 0)
        s->o.tick = 1;
    if (s->o.start_px <= 0)
        s->o.start_px = 100 * qts_pow10_i64[inst->px_exp];
    if (s->o.lot <= 0)
        s->o.lot = 1;
    if (s->o.depth == 0)
        s->o.depth = 20;
    if (s->o.depth > QTS_MD_SYNTH_MAX_DEPTH)
        s->o.depth = QTS_MD_SYNTH_MAX_DEPTH;
    if (s->o.depth < 4)
        s->o.depth = 4;
    if (s->o.trade_prob <= 0 || s->o.trade_prob >= 1)
        s->o.trade_prob = 0.08;
    if (s->o.cancel_prob <= 0 || s->o.cancel_prob + s->o.trade_prob >= 1)
        s->o.cancel_prob = 0.42;
    if (s->o.vol_ticks <= 0)
        s->o.vol_ticks = 0.05;
    s->inst = inst;
    s->rng = o->seed ^ 0x51ed270b27a5c6e3ULL;
    s->now_ns = o->start_ns;
    int64_t mid = s->o.start_px / s->o.tick;
    s->bb = mid;
    s->ba = mid + 1;
    s->fair = (double)mid + 0.5;
    for (uint32_t i = 0; i < s->o.depth; i++) {
        s->bid_q[i] = geom(s, 20) * s->o.lot * (1 + i / 4);
        s->ask_q[i] = geom(s, 20) * s->o.lot * (1 + i / 4);
    }
    s->snap_b = qts_xmalloc(s->o.depth * sizeof *s->snap_b);
    s->snap_a = qts_xmalloc(s->o.depth * sizeof *s->snap_a);
}

void qts_md_synth_cleanup(struct qts_md_synth *s)
{
    free(s->snap_b);
    free(s->snap_a);
    s->snap_b = s->snap_a = NULL;
}

static void head(struct qts_md_synth *s, union qts_md_event *ev, unsigned type, size_t size)
{
    ev->h.struct_size = (uint32_t)size;
    ev->h.type = (uint16_t)type;
    ev->h.px_exp = s->inst->px_exp;
    ev->h.qty_exp = s->inst->qty_exp;
    ev->h.instrument = s->inst->id;
    ev->h.flags = 0;
    ev->h.ts_exch_ns = s->now_ns;
    ev->h.ts_recv_ns = s->now_ns;
    ev->h.seq = 0;
}

/* After a diff: queue a quote if the top of book changed. */
static void top_changed(struct qts_md_synth *s)
{
    if (!s->o.quotes)
        return;
    int64_t bb = s->bb * s->o.tick, ba = s->ba * s->o.tick;
    if (bb != s->q_bb || ba != s->q_ba || s->bid_q[0] != s->q_bq || s->ask_q[0] != s->q_aq) {
        s->q_bb = bb;
        s->q_ba = ba;
        s->q_bq = s->bid_q[0];
        s->q_aq = s->ask_q[0];
        s->quote_pending = true;
    }
}

static void diff_event(struct qts_md_synth *s, union qts_md_event *ev)
{
    head(s, ev, QTS_EV_BOOK, sizeof ev->book);
    s->uid++;
    ev->book.first_update_id = s->uid;
    ev->book.last_update_id = s->uid;
    ev->book.prev_update_id = 0;
    ev->book.n_bids = s->nb;
    ev->book.n_asks = s->na;
    ev->book.bids = s->lv_b;
    ev->book.asks = s->lv_a;
    top_changed(s);
}

static void note(struct qts_md_synth *s, bool bid, int64_t px_ticks, int64_t qty)
{
    struct qts_level *l = bid ? &s->lv_b[s->nb++] : &s->lv_a[s->na++];
    l->px = px_ticks * s->o.tick;
    l->qty = qty;
}

/* Remove empty levels at the top of a side: the best moves away. */
static void settle(struct qts_md_synth *s, bool bid)
{
    int64_t *q = bid ? s->bid_q : s->ask_q;
    uint32_t d = s->o.depth, j = 0;
    while (j < d && q[j] == 0)
        j++;
    if (j == 0 || j == d)
        return;
    memmove(q, q + j, (d - j) * sizeof *q);
    memset(q + d - j, 0, j * sizeof *q);
    if (bid)
        s->bb -= j;
    else
        s->ba += j;
}

static uint32_t live(const int64_t *q, uint32_t d)
{
    uint32_t k = 0;
    for (uint32_t i = 0; i < d; i++)
        k += q[i] > 0;
    return k;
}

/* A new best price one tick inside the spread: shift the side down. */
static void improve(struct qts_md_synth *s, bool bid, int64_t qty)
{
    int64_t *q = bid ? s->bid_q : s->ask_q;
    uint32_t d = s->o.depth;
    if (q[d - 1] > 0) /* falls out of the tracked depth: delete it downstream */
        note(s, bid, bid ? s->bb - (int64_t)(d - 1) : s->ba + (int64_t)(d - 1), 0);
    memmove(q + 1, q, (d - 1) * sizeof *q);
    q[0] = qty;
    if (bid)
        s->bb++;
    else
        s->ba--;
    note(s, bid, bid ? s->bb : s->ba, qty);
}

/* One change of the book at the current instant: a trade, a cancel or an
 * arrival, leaning towards the fair value. */
static int step(struct qts_md_synth *s, union qts_md_event *ev)
{
    uint32_t d = s->o.depth;
    double mid = 0.5 * (double)(s->bb + s->ba);
    double lean = s->fair - mid;                                    /* > 0: buyers are keener */
    double pb = 0.5 + (lean > 2 ? 2 : lean < -2 ? -2 : lean) * 0.2; /* prob. of bid side */
    s->nb = s->na = 0;
    double r = unif(s);
    if (r < s->o.trade_prob) {
        bool buy = unif(s) < pb; /* buyer lifts the ask */
        int64_t *q = buy ? s->ask_q : s->bid_q;
        int64_t size = geom(s, 14) * s->o.lot;
        if (s->o.trade_median > 0) {
            size = (int64_t)llround((double)s->o.trade_median * exp(s->o.trade_sigma * normal(s)));
            if (size < 1)
                size = 1;
        }
        int64_t take = size < q[0] ? size : q[0];
        if (live(q, d) <= 2 && take == q[0])
            take = q[0] > s->o.lot ? q[0] - s->o.lot : 0;
        if (take > 0) {
            int64_t px = buy ? s->ba : s->bb;
            q[0] -= take;
            head(s, ev, QTS_EV_TRADE, sizeof ev->trade);
            ev->trade.px = px * s->o.tick;
            ev->trade.qty = take;
            ev->trade.trade_id = ++s->trade_id;
            ev->trade.aggressor = buy ? QTS_SIDE_BUY : QTS_SIDE_SELL;
            memset(ev->trade.reserved, 0, sizeof ev->trade.reserved);
            note(s, !buy, px, q[0]);
            settle(s, !buy);
            s->diff_pending = true;
            return 1;
        }
        r = 1.0; /* nothing to take: make it an arrival */
    }
    bool bid = unif(s) < pb;
    int64_t *q = bid ? s->bid_q : s->ask_q;
    if (r < s->o.trade_prob + s->o.cancel_prob && live(q, d) > 3) {
        /* cancel: levels near the touch see most of the activity */
        uint32_t k = (uint32_t)(geom(s, 4) - 1);
        if (k >= d)
            k = d - 1;
        while (q[k] == 0)
            k = (k + 1) % d;
        /* some cancels pull the whole level (a quoter leaving) */
        int64_t cut = unif(s) < 0.15 ? q[k] : geom(s, 10) * s->o.lot;
        q[k] = cut >= q[k] ? 0 : q[k] - cut;
        note(s, bid, bid ? s->bb - (int64_t)k : s->ba + (int64_t)k, q[k]);
        if (k == 0)
            settle(s, bid);
    } else {
        int64_t qty = geom(s, 12) * s->o.lot;
        int64_t spread = s->ba - s->bb;
        /* a wider spread draws orders inside it more often */
        double p_in = spread >= 5 ? 0.9 : 0.2 * (double)(spread - 1);
        if (s->o.vol_bps_min > 0) /* calibrated: a gap is filled at once, as on Binance */
            p_in = 0.9;
        if (spread > 1 && unif(s) < p_in) {
            improve(s, bid, qty);
        } else {
            uint32_t k = (uint32_t)(geom(s, 3) - 1);
            if (k >= d)
                k = d - 1;
            q[k] += qty;
            note(s, bid, bid ? s->bb - (int64_t)k : s->ba + (int64_t)k, q[k]);
        }
    }
    diff_event(s, ev);
    return 1;
}

/* Calibrated mode: once the fair value has left the spread, the whole book
 * is requoted around it (every level moves by the same number of ticks),
 * as a market maker's quotes follow the price. One diff: the prices the
 * book leaves are deleted, the new ones set. Returns 1 when it wrote one. */
static int reprice(struct qts_md_synth *s, union qts_md_event *ev)
{
    double mid = 0.5 * (double)(s->bb + s->ba);
    double half = 0.5 * (double)(s->ba - s->bb);
    if (fabs(s->fair - mid) <= half)
        return 0;
    int64_t k = (int64_t)llround(s->fair - mid);
    if (k == 0)
        return 0;
    int64_t d = s->o.depth;
    s->nb = s->na = 0;
    /* bids: index i at bb - i; asks: index i at ba + i */
    for (int side = 0; side < 2; side++) {
        bool bid = side == 0;
        const int64_t *q = bid ? s->bid_q : s->ask_q;
        int64_t best = bid ? s->bb : s->ba, dir = bid ? -1 : 1;
        for (int64_t i = 0; i < d; i++) { /* old prices the book leaves */
            int64_t px = best + dir * i, j = dir * (px - (best + k));
            if (q[i] > 0 && (j < 0 || j >= d))
                note(s, bid, px, 0);
        }
        for (int64_t i = 0; i < d; i++) { /* new prices whose size changes */
            int64_t px = best + k + dir * i, j = dir * (px - best);
            int64_t before = j >= 0 && j < d ? q[j] : 0;
            if (q[i] != before)
                note(s, bid, px, q[i]);
        }
    }
    s->bb += k;
    s->ba += k;
    diff_event(s, ev);
    return 1;
}

int qts_md_synth_next(struct qts_md_synth *s, union qts_md_event *ev)
{
    if (s->o.max_events && s->n_events >= s->o.max_events)
        return 0;
    s->n_events++;
    uint32_t d = s->o.depth;
    if (!s->started) {
        s->started = true;
        head(s, ev, QTS_EV_BOOK, sizeof ev->book);
        ev->h.flags = QTS_BOOK_SNAPSHOT;
        for (uint32_t i = 0; i < d; i++) {
            s->snap_b[i].px = (s->bb - (int64_t)i) * s->o.tick;
            s->snap_b[i].qty = s->bid_q[i];
            s->snap_a[i].px = (s->ba + (int64_t)i) * s->o.tick;
            s->snap_a[i].qty = s->ask_q[i];
        }
        ev->book.first_update_id = 0;
        ev->book.last_update_id = s->uid;
        ev->book.prev_update_id = 0;
        ev->book.n_bids = ev->book.n_asks = d;
        ev->book.bids = s->snap_b;
        ev->book.asks = s->snap_a;
        top_changed(s);
        return 1;
    }
    if (s->quote_pending) {
        s->quote_pending = false;
        head(s, ev, QTS_EV_QUOTE, sizeof ev->quote);
        ev->quote.bid_px = s->q_bb;
        ev->quote.bid_qty = s->q_bq;
        ev->quote.ask_px = s->q_ba;
        ev->quote.ask_qty = s->q_aq;
        ev->quote.update_id = s->uid;
        return 1;
    }
    if (s->diff_pending) { /* the book side of the previous trade */
        s->diff_pending = false;
        diff_event(s, ev);
        return 1;
    }
    if (s->step_pending) { /* the change that follows a repricing */
        s->step_pending = false;
        return step(s, ev);
    }
    int64_t dt = 1 + (int64_t)(-log(unif(s)) * 1e9 / s->o.rate_per_s);
    s->now_ns += dt;
    if (s->o.vol_bps_min > 0) {
        /* geometric walk: the stdev over a minute is vol_bps_min whatever
         * the rate, since each step scales with the root of its interval */
        double sd = s->o.vol_bps_min * 1e-4 * sqrt((double)dt / 60e9);
        s->fair *= exp(sd * normal(s) - 0.5 * sd * sd);
        if (reprice(s, ev)) {
            s->step_pending = true;
            return 1;
        }
    } else {
        s->fair += (unif(s) - 0.5) * 2.0 * s->o.vol_ticks * 1.7320508;
    }
    return step(s, ev);
}
