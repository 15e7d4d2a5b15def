/* paper_match.c — fills and matching at the simulated venue: taking
 * liquidity from the book (with the market impact model), the queue
 * position of our resting orders at their price, and the fills the
 * market's book changes and trades give them (docs/paper-broker.md).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "paper_broker.h"

/* Execute qty at px for order o; updates cash, position, reports. */
void pb_fill(struct pb *pb, struct pb_order *o, struct pb_inst *in, int64_t px, int64_t qty,
             bool is_maker, int64_t ts)
{
    int64_t n = pb_notional(px, in->d.px_exp, qty, in->d.qty_exp);
    int64_t fee = pb_fee_of(n, is_maker ? pb->cfg.maker_fee_e8 : pb->cfg.taker_fee_e8);
    bool was_resting = o->state == PB_RESTING;
    o->cum += qty;
    o->next_fill_id++;
    pb_position_add(in, o->side == QTS_SIDE_BUY ? qty : -qty, n);
    if (o->side == QTS_SIDE_BUY) {
        pb->cash -= n + fee;
    } else {
        pb->cash += n - fee;
        if (was_resting)
            pb_sell_reserve(in, o, -qty);
    }
    if (o->cum >= o->qty)
        pb_order_set_state(pb, o, PB_DONE);
    if (pb->host->metric_add)
        pb->host->metric_add(pb->owner, is_maker ? "fills_maker" : "fills_taker", 1);
    if (was_resting)
        pb_reserve_update(pb, o, in);
    pb_report_fill(pb, o, px, qty, fee, is_maker, ts);
}

/* ---------------------------------------------------------------- matching */

bool pb_crosses(const struct pb_order *o, int64_t level_px)
{
    if (o->type == QTS_ORD_MARKET)
        return true;
    return o->side == QTS_SIDE_BUY ? level_px <= o->px : level_px >= o->px;
}

/* Quantity and cost available to take for o (up to `want`). */
int64_t pb_takeable(const struct pb_inst *in, const struct pb_order *o, int64_t want, int64_t *cost)
{
    const struct pb_side *s = o->side == QTS_SIDE_BUY ? &in->ask : &in->bid;
    int64_t got = 0, c = 0;
    for (uint32_t i = 0; i < s->n && got < want && pb_crosses(o, pb_side_level(s, i)->px); i++) {
        const struct pb_level *l = pb_side_level(s, i);
        int64_t t = min64(want - got, l->qty);
        got += t;
        c += pb_notional(l->px, in->d.px_exp, t, in->d.qty_exp);
    }
    if (cost)
        *cost = c;
    return got;
}

/* ------------------------------------------------------------------ impact */

void pb_vol_add(struct pb *pb, struct pb_inst *in, int64_t ts, int64_t qty)
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
            double b = (double)pb_side_level(&in->bid, 0)->px;
            double a = (double)pb_side_level(&in->ask, 0)->px;
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
void pb_take(struct pb *pb, struct pb_order *o, struct pb_inst *in, int64_t ts)
{
    bool buy = o->side == QTS_SIDE_BUY;
    struct pb_side *s = buy ? &in->ask : &in->bid;
    double bps = impact_bps(pb, in, o->qty); /* one displacement for the whole order */
    while (o->state != PB_DONE && o->cum < o->qty && s->n &&
           pb_crosses(o, pb_side_level(s, 0)->px)) {
        struct pb_level best = *pb_side_level(s, 0);
        int64_t lpx = best.px;
        int64_t t = min64(o->qty - o->cum, best.qty);
        pb_side_set(pb, s, !buy, lpx, best.qty - t);
        pb_fill(pb, o, in, impact_px(in, o, lpx, bps), t, false, ts);
    }
}

void pb_join_queue(struct pb *pb, struct pb_order *o, struct pb_inst *in)
{
    bool buy = o->side == QTS_SIDE_BUY;
    o->ahead = pb_side_qty(buy ? &in->bid : &in->ask, buy, o->px);
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
            if (rule == PB_CANCEL_FRONT) /* optimistic: all ahead of us */
                o->ahead -= min64(o->ahead, c);
            else if (rule == PB_CANCEL_BACK) /* pessimistic: behind us first */
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

void pb_levels_before(struct pb *pb, struct pb_inst *in)
{
    (void)pb;
    for (uint32_t i = 0; i < in->n_resting; i++) {
        struct pb_order *o = in->resting[i];
        bool buy = o->side == QTS_SIDE_BUY;
        o->lvl_before = pb_side_qty(buy ? &in->bid : &in->ask, buy, o->px);
    }
}

/* After a book change: queue positions, then resting orders the new book
 * crosses (a contra order arriving at or through our price trades with us
 * first; we fill as maker at our price against the crossing quantity). */
void pb_levels_after(struct pb *pb, struct pb_inst *in, int64_t ts, bool top_only)
{
    for (uint32_t i = 0; i < in->n_resting; i++) {
        struct pb_order *o = in->resting[i];
        bool buy = o->side == QTS_SIDE_BUY;
        const struct pb_side *s = buy ? &in->bid : &in->ask;
        /* A top-of-book view hides our level behind a better price: that
         * says nothing about the queue, so leave it alone. */
        int64_t best = s->n ? pb_side_level(s, 0)->px : 0;
        if (top_only && s->n && (buy ? best > o->px : best < o->px))
            continue;
        queue_on_level(o, o->lvl_before, pb_side_qty(s, buy, o->px), pb->cfg.cancel_rule);
    }
    /* A fill may finish the order being visited (it leaves the index);
     * nothing else joins or leaves it here: requests wait in the queue. */
    for (uint32_t i = 0; i < in->n_resting;) {
        struct pb_order *o = in->resting[i];
        bool buy = o->side == QTS_SIDE_BUY;
        struct pb_side *s = buy ? &in->ask : &in->bid;
        while (o->state == PB_RESTING && s->n && pb_crosses(o, pb_side_level(s, 0)->px)) {
            struct pb_level lv = *pb_side_level(s, 0);
            int64_t t = min64(o->qty - o->cum, lv.qty);
            pb_side_set(pb, s, !buy, lv.px, lv.qty - t);
            o->ahead = 0;
            pb_fill(pb, o, in, o->px, t, true, ts);
        }
        if (i < in->n_resting && in->resting[i] == o)
            i++;
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

void pb_on_trade_side(struct pb *pb, struct pb_inst *in, const struct qts_trade *t, uint8_t side,
                      int64_t ts)
{
    /* eligible orders in priority order (prio is unique: a total order) */
    uint32_t n = 0;
    for (uint32_t i = 0; i < in->n_resting; i++) {
        struct pb_order *o = in->resting[i];
        if (o->side != side)
            continue;
        if (side == QTS_SIDE_BUY ? t->px > o->px : t->px < o->px)
            continue;
        pb->scratch = pb_grow(pb, pb->scratch, n, &pb->cap_scratch, sizeof *pb->scratch);
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
        pb_fill(pb, o, in, o->px, f, true, ts);
    }
}
