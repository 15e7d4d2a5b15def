/* paper_book.c — the venue's book per instrument (its own L2 view from the
 * market events), the reports it sends, and its own accounting: cash held
 * for open buys, quantity held for open sells, and the venue's positions
 * with their cost basis (paper_broker.h says why the venue keeps them).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "paper_broker.h"

/* ------------------------------------------------------------ small helpers */

void *pb_grow(struct pb *pb, void *p, uint32_t n, uint32_t *cap, size_t elem)
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

/* px*qty in cash units, rounded half away from zero (the rule of the host
 * portfolio, shared through qts_fixed.h: both sides agree to the micro-unit). */
int64_t pb_notional(int64_t px, unsigned px_exp, int64_t qty, unsigned qty_exp)
{
    return qts_fixed_notional(px, px_exp, qty, qty_exp);
}

int64_t pb_fee_of(int64_t notional_cash, int64_t rate_e8)
{
    return qts_fixed_div_round((__int128)notional_cash * rate_e8, 100000000);
}

/* ------------------------------------------------------------------- book */

struct pb_inst *pb_inst_by_id(struct pb *pb, uint32_t id)
{
    /* market events and reports mostly name the instrument of the last call */
    if (pb->last_inst < pb->n_inst && pb->inst[pb->last_inst].d.id == id)
        return &pb->inst[pb->last_inst];
    for (uint32_t i = 0; i < pb->n_inst; i++)
        if (pb->inst[i].d.id == id) {
            pb->last_inst = i;
            return &pb->inst[i];
        }
    return NULL;
}

struct pb_inst *pb_inst_get(struct pb *pb, uint32_t id, uint8_t px_exp, uint8_t qty_exp)
{
    struct pb_inst *in = pb_inst_by_id(pb, id);
    if (in)
        return in;
    pb->inst = pb_grow(pb, pb->inst, pb->n_inst, &pb->cap_inst, sizeof *pb->inst);
    in = &pb->inst[pb->n_inst++];
    memset(in, 0, sizeof *in);
    in->d.id = id;
    in->d.px_exp = px_exp;
    in->d.qty_exp = qty_exp;
    return in;
}

static inline bool px_better(bool is_bid, int64_t a, int64_t b) { return is_bid ? a > b : a < b; }

/* Index of px in a side (worst first, best last), or the insertion point
 * with *found = false. The touch is checked first: most changes are there. */
static uint32_t side_find(const struct pb_side *s, bool is_bid, int64_t px, bool *found)
{
    *found = false;
    if (s->n == 0 || px_better(is_bid, px, s->v[s->n - 1].px))
        return s->n;
    if (s->v[s->n - 1].px == px) {
        *found = true;
        return s->n - 1;
    }
    uint32_t lo = 0, hi = s->n - 1; /* px is worse than the best */
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        int64_t m = s->v[mid].px;
        if (m == px) {
            *found = true;
            return mid;
        }
        if (px_better(is_bid, px, m))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

int64_t pb_side_qty(const struct pb_side *s, bool is_bid, int64_t px)
{
    bool found;
    uint32_t i = side_find(s, is_bid, px, &found);
    return found ? s->v[i].qty : 0;
}

/* Only the levels better than px move (towards the end of the array). */
void pb_side_set(struct pb *pb, struct pb_side *s, bool is_bid, int64_t px, int64_t qty)
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
    s->v = pb_grow(pb, s->v, s->n, &s->cap, sizeof *s->v);
    memmove(&s->v[i + 1], &s->v[i], (s->n - i) * sizeof *s->v);
    s->v[i].px = px;
    s->v[i].qty = qty;
    s->n++;
}

void pb_side_apply(struct pb *pb, struct pb_side *s, bool is_bid, const struct qts_level *lv,
                   uint32_t n)
{
    /* An empty side fed strictly best-first positive levels (a venue
     * snapshot) is the reversed list: write it directly instead of n
     * insertions at the worst end, each moving the whole side. */
    bool bulk = s->n == 0 && n > 0;
    for (uint32_t k = 0; bulk && k < n; k++)
        bulk = lv[k].qty > 0 && (k == 0 || px_better(is_bid, lv[k - 1].px, lv[k].px));
    if (!bulk) {
        for (uint32_t k = 0; k < n; k++)
            pb_side_set(pb, s, is_bid, lv[k].px, lv[k].qty);
        return;
    }
    while (s->cap < n)
        s->v = pb_grow(pb, s->v, s->cap, &s->cap, sizeof *s->v);
    for (uint32_t k = 0; k < n; k++) {
        s->v[n - 1 - k].px = lv[k].px;
        s->v[n - 1 - k].qty = lv[k].qty;
    }
    s->n = n;
}

int64_t pb_ref_price(const struct pb_inst *in)
{
    if (in->bid.n && in->ask.n)
        return (pb_side_level(&in->bid, 0)->px + pb_side_level(&in->ask, 0)->px) / 2;
    if (in->d.last_trade_px)
        return in->d.last_trade_px;
    if (in->bid.n)
        return pb_side_level(&in->bid, 0)->px;
    if (in->ask.n)
        return pb_side_level(&in->ask, 0)->px;
    return in->d.bar_close; /* bars only: the last close (0 before any bar) */
}

/* --------------------------------------------------------- resting index */

void pb_order_set_state(struct pb *pb, struct pb_order *o, uint8_t state)
{
    if (o->state == state)
        return;
    struct pb_inst *in = pb_inst_by_id(pb, o->instrument);
    if (o->state == PB_RESTING && in) {
        uint32_t i = 0;
        while (i < in->n_resting && in->resting[i] != o)
            i++;
        if (i < in->n_resting) {
            memmove(&in->resting[i], &in->resting[i + 1],
                    (in->n_resting - i - 1) * sizeof *in->resting);
            in->n_resting--;
        }
    }
    if (state == PB_RESTING && in) {
        /* seq order = the order of pb->ord: fills keep their sequence */
        in->resting =
            pb_grow(pb, in->resting, in->n_resting, &in->cap_resting, sizeof *in->resting);
        uint32_t i = in->n_resting;
        while (i > 0 && in->resting[i - 1]->seq > o->seq)
            i--;
        memmove(&in->resting[i + 1], &in->resting[i], (in->n_resting - i) * sizeof *in->resting);
        in->resting[i] = o;
        in->n_resting++;
    }
    if (state == PB_DONE)
        pb->gc_due = true;
    o->state = state;
}

/* ---------------------------------------------------------------- reports */

void pb_report(struct pb *pb, const struct pb_order *o, int exec_type, int64_t ts, int code,
               const char *text)
{
    struct qts_exec_report r;
    memset(&r, 0, sizeof r);
    r.struct_size = sizeof r;
    r.exec_type = (uint8_t)exec_type;
    r.side = o->side;
    r.instrument = o->instrument;
    const struct pb_inst *in = pb_inst_by_id(pb, o->instrument);
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

void pb_report_fill(struct pb *pb, struct pb_order *o, int64_t px, int64_t qty, int64_t fee,
                    bool is_maker, int64_t ts)
{
    struct qts_exec_report r;
    const struct pb_inst *in = pb_inst_by_id(pb, o->instrument);
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

int64_t pb_max_fee_rate(const struct pb *pb)
{
    return max64(max64(pb->cfg.maker_fee_e8, pb->cfg.taker_fee_e8), 0);
}

/* Re-compute what an open buy holds: leaves at its limit plus the higher fee. */
void pb_reserve_update(struct pb *pb, struct pb_order *o, const struct pb_inst *in)
{
    int64_t want = 0;
    if (o->side == QTS_SIDE_BUY && o->state == PB_RESTING) {
        /* a market order waiting for a bar holds cash at the last close */
        int64_t px = o->type == QTS_ORD_MARKET ? in->d.bar_close : o->px;
        int64_t n = pb_notional(px, in->d.px_exp, o->qty - o->cum, in->d.qty_exp);
        want = n + pb_fee_of(n, pb_max_fee_rate(pb));
    }
    pb->reserved_cash += want - o->reserved_cash;
    o->reserved_cash = want;
}

void pb_sell_reserve(struct pb_inst *in, const struct pb_order *o, int64_t delta)
{
    if (o->side == QTS_SIDE_SELL)
        in->d.reserved_sell += delta;
}

/* Position and its cost basis (average-cost method, as the host portfolio):
 * reducing removes a proportional part of the cost, a flip opens the rest
 * at the fill's price. */
void pb_position_add(struct pb_inst *in, int64_t d, int64_t n)
{
    int64_t q = in->d.position;
    if (q != 0 && (q > 0) != (d > 0)) {
        int64_t aq = q < 0 ? -q : q, ad = d < 0 ? -d : d;
        int64_t close = min64(aq, ad);
        in->d.cost -=
            close == aq ? in->d.cost : qts_fixed_div_round((__int128)in->d.cost * close, aq);
        in->d.position += d > 0 ? close : -close;
        if (close == ad)
            return;
        n -= qts_fixed_div_round((__int128)n * close, ad);
        d += d > 0 ? -close : close;
    }
    in->d.position += d;
    in->d.cost += d > 0 ? n : -n;
}

/* Average price in price units; 0 when flat. */
int64_t pb_avg_px(const struct pb_inst *in)
{
    return qts_fixed_avg_px(in->d.cost, in->d.position, in->d.px_exp, in->d.qty_exp);
}
