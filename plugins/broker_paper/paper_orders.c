/* paper_orders.c — requests in flight and their execution at the venue.
 * A request reaches the venue at sent + feed_latency + order_latency
 * (+ seeded jitter), never before an earlier one; there it is checked and
 * acted on (new, cancel, modify) against the book as it stands.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "paper_broker.h"

/* ---------------------------------------------------------------- requests */

struct pb_order *pb_order_find(struct pb *pb, const char *clordid)
{
    for (uint32_t i = 0; i < pb->n_ord; i++)
        if (pb->ord[i]->state != PB_DONE && strcmp(pb->ord[i]->clordid, clordid) == 0)
            return pb->ord[i];
    return NULL;
}

static void reject(struct pb *pb, struct pb_order *o, int64_t ts, int code, const char *why)
{
    pb_order_set_state(pb, o, PB_DONE);
    if (pb->host->metric_add)
        pb->host->metric_add(pb->owner, "rejects", 1);
    pb_report(pb, o, QTS_EXEC_REJECT, ts, code, why);
}

/* Checks at arrival; returns NULL when accepted. */
static const char *check_new(struct pb *pb, struct pb_order *o, struct pb_inst *in, int *code)
{
    *code = QTS_EREJECT;
    if (!in || !in->d.has_def) {
        *code = QTS_ENOENT;
        return "unknown instrument";
    }
    if (o->side != QTS_SIDE_BUY && o->side != QTS_SIDE_SELL)
        return "invalid side";
    if (o->type != QTS_ORD_MARKET && o->type != QTS_ORD_LIMIT && o->type != QTS_ORD_STOP)
        return "invalid order type";
    if (o->type == QTS_ORD_STOP && !pb_bar_mode(in))
        return "stop orders are simulated on bar data only";
    if (o->tif > QTS_TIF_POST || (o->type != QTS_ORD_LIMIT && o->tif == QTS_TIF_POST))
        return "invalid time in force";
    if (o->qty <= 0)
        return "quantity must be positive";
    if (in->d.lot_size > 0 && o->qty % in->d.lot_size)
        return "quantity not a multiple of the lot size";
    if (in->d.min_qty > 0 && o->qty < in->d.min_qty)
        return "quantity below the minimum";
    if (o->type == QTS_ORD_STOP && (o->px <= 0 || (in->d.tick_size > 0 && o->px % in->d.tick_size)))
        return "stop price must be positive and a multiple of the tick size";
    if (o->type == QTS_ORD_LIMIT) {
        if (o->px <= 0)
            return "limit price must be positive";
        if (in->d.tick_size > 0 && o->px % in->d.tick_size)
            return "price not a multiple of the tick size";
        int64_t ref = pb_ref_price(in);
        if (pb->cfg.band_bps > 0 && ref > 0) {
            __int128 dev = (__int128)(o->px > ref ? o->px - ref : ref - o->px) * 10000;
            if (dev > (__int128)pb->cfg.band_bps * ref)
                return "price outside the price band";
        }
    }
    int64_t cost = 0;
    if (pb_bar_mode(in)) {
        /* bars: nothing to walk; a market order is costed at the last close */
        if (o->type == QTS_ORD_MARKET)
            cost = pb_notional(in->d.bar_close, in->d.px_exp, o->qty, in->d.qty_exp);
    } else if (o->type == QTS_ORD_MARKET || o->tif != QTS_TIF_POST) {
        int64_t got = pb_takeable(in, o, o->qty, &cost);
        if (o->type == QTS_ORD_MARKET && got == 0)
            return "no liquidity";
        if (o->tif == QTS_TIF_FOK && got < o->qty)
            return NULL; /* handled as an expiry after the ack */
    }
    if (o->side == QTS_SIDE_BUY && pb->cfg.check_cash) {
        int64_t need;
        if (o->type == QTS_ORD_MARKET) {
            need = cost + pb_fee_of(cost, max64(pb->cfg.taker_fee_e8, 0));
        } else {
            int64_t n = pb_notional(o->px, in->d.px_exp, o->qty, in->d.qty_exp);
            need = n + pb_fee_of(n, pb_max_fee_rate(pb));
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
        pb_order_set_state(pb, o, PB_DONE);
        pb_report(pb, o, QTS_EXEC_EXPIRED, ts, 0,
                  o->cum ? "unfilled remainder expired" : "nothing to fill immediately");
        return;
    }
    if (o->state != PB_RESTING) {
        pb_order_set_state(pb, o, PB_RESTING);
        pb_sell_reserve(in, o, o->qty - o->cum);
        pb_join_queue(pb, o, in);
    }
    pb_reserve_update(pb, o, in);
}

static void act_new(struct pb *pb, struct pb_order *o, int64_t ts)
{
    struct pb_inst *in = pb_inst_by_id(pb, o->instrument);
    int code;
    const char *why = check_new(pb, o, in, &code);
    if (why) {
        reject(pb, o, ts, code, why);
        return;
    }
    if (o->tif == QTS_TIF_POST && in->d.has_def) {
        const struct pb_side *s = o->side == QTS_SIDE_BUY ? &in->ask : &in->bid;
        if (s->n && pb_crosses(o, pb_side_level(s, 0)->px)) {
            reject(pb, o, ts, QTS_EREJECT, "post-only order would take liquidity");
            return;
        }
    }
    pb_report(pb, o, QTS_EXEC_ACK, ts, 0, NULL);
    if (pb_bar_mode(in)) {
        pb_bar_arrive(pb, o, in, ts);
        return;
    }
    if (o->tif == QTS_TIF_FOK && pb_takeable(in, o, o->qty, NULL) < o->qty) {
        rest_or_finish(pb, o, in, ts);
        return;
    }
    pb_take(pb, o, in, ts);
    rest_or_finish(pb, o, in, ts);
}

static void act_cancel(struct pb *pb, const struct pb_action *a, int64_t ts)
{
    struct pb_order *o = pb_order_find(pb, a->clordid);
    if (!o || o->state != PB_RESTING) {
        struct pb_order tmp;
        memset(&tmp, 0, sizeof tmp);
        if (o)
            tmp = *o;
        snprintf(tmp.clordid, sizeof tmp.clordid, "%s", a->clordid);
        tmp.state = PB_DONE;
        pb_report(pb, &tmp, QTS_EXEC_CANCEL_REJECT, ts, QTS_ENOENT,
                  a->kind == PB_ACT_MODIFY ? "modify: order not open" : "order not open");
        return;
    }
    struct pb_inst *in = pb_inst_by_id(pb, o->instrument);
    pb_sell_reserve(in, o, -(o->qty - o->cum));
    pb_order_set_state(pb, o, PB_DONE);
    pb_reserve_update(pb, o, in);
    pb_report(pb, o, QTS_EXEC_CANCELLED, ts, 0, NULL);
}

static void act_modify(struct pb *pb, const struct pb_action *a, int64_t ts)
{
    struct pb_order *o = pb_order_find(pb, a->clordid);
    if (!o || o->state != PB_RESTING) {
        act_cancel(pb, a, ts); /* reports the cancel-reject */
        return;
    }
    struct pb_inst *in = pb_inst_by_id(pb, o->instrument);
    const char *why = NULL;
    int64_t new_px = a->new_px > 0 ? a->new_px : o->px;
    if (a->new_qty <= o->cum)
        why = "modify: new quantity not above the filled quantity";
    else if (in->d.lot_size > 0 && a->new_qty % in->d.lot_size)
        why = "modify: quantity not a multiple of the lot size";
    else if (in->d.tick_size > 0 && new_px % in->d.tick_size)
        why = "modify: price not a multiple of the tick size";
    if (!why && o->side == QTS_SIDE_BUY && pb->cfg.check_cash) {
        int64_t n = pb_notional(new_px, in->d.px_exp, a->new_qty - o->cum, in->d.qty_exp);
        if (n + pb_fee_of(n, pb_max_fee_rate(pb)) > pb->cash - pb->reserved_cash + o->reserved_cash)
            why = "modify: insufficient cash";
    }
    if (!why && o->side == QTS_SIDE_SELL && !pb->cfg.allow_short &&
        a->new_qty - o->qty > in->d.position - in->d.reserved_sell)
        why = "modify: insufficient position";
    if (why) {
        pb_report(pb, o, QTS_EXEC_CANCEL_REJECT, ts, QTS_EREJECT, why);
        return;
    }
    /* A smaller quantity at the same price keeps its place; anything else
     * goes to the back of the queue at the (new) price. */
    bool keep = new_px == o->px && a->new_qty <= o->qty;
    pb_sell_reserve(in, o, a->new_qty - o->qty);
    o->qty = a->new_qty;
    o->px = new_px;
    if (!keep)
        pb_join_queue(pb, o, in);
    pb_reserve_update(pb, o, in);
    pb_report(pb, o, QTS_EXEC_REPLACED, ts, 0, NULL);
    /* a new price may cross the book: the rest of it takes liquidity */
    const struct pb_side *s = o->side == QTS_SIDE_BUY ? &in->ask : &in->bid;
    if (s->n && pb_crosses(o, pb_side_level(s, 0)->px)) {
        pb_sell_reserve(in, o, -(o->qty - o->cum));
        pb_order_set_state(pb, o, PB_PENDING); /* taker for this part */
        pb_take(pb, o, in, ts);
        if (o->state != PB_DONE) {
            pb_order_set_state(pb, o, PB_RESTING);
            pb_sell_reserve(in, o, o->qty - o->cum);
        }
        pb_reserve_update(pb, o, in);
    }
}

void pb_gc_orders(struct pb *pb)
{
    if (pb->depth || !pb->gc_due)
        return; /* nothing to free: no walk over the orders per event */
    pb->gc_due = false;
    uint32_t w = 0;
    for (uint32_t i = 0; i < pb->n_ord; i++) {
        if (pb->ord[i]->state != PB_DONE)
            pb->ord[w++] = pb->ord[i];
        else
            pb->host->free(pb->owner, pb->ord[i]);
    }
    pb->n_ord = w;
}

struct pb_order *pb_order_new(struct pb *pb)
{
    pb->ord = pb_grow(pb, pb->ord, pb->n_ord, &pb->cap_ord, sizeof *pb->ord);
    struct pb_order *o = pb->host->alloc(pb->owner, sizeof *o);
    if (!o)
        abort();
    memset(o, 0, sizeof *o);
    pb->ord[pb->n_ord++] = o;
    return o;
}

/* Execute every request due at or before t. */
void pb_advance(struct pb *pb, int64_t t)
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
    pb_advance(pb, pb->host->now_ns(pb->owner));
    pb->depth--;
    pb_gc_orders(pb);
    pb_arm_timer(pb);
}

/* One host timer for the earliest request, so requests also arrive when no
 * market event moves the clock (paper mode on a quiet market). */
void pb_arm_timer(struct pb *pb)
{
    if (pb->timer_armed || !pb->n_act || !pb->host->timer_start || pb->stopping)
        return;
    int64_t wait = pb->act[0].due_ns - pb->host->now_ns(pb->owner);
    uint64_t ms = wait > 0 ? (uint64_t)((wait + 999999) / 1000000) : 0;
    if (pb->host->timer_start(pb->owner, ms, 0, on_timer, pb, &pb->timer_id) == 0)
        pb->timer_armed = true;
}

/* Seeded generator of the latency jitter: a replay draws the same values. */
static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

void pb_enqueue(struct pb *pb, uint32_t kind, const char *clordid, int64_t new_px, int64_t new_qty)
{
    int64_t lat = pb->cfg.feed_latency_ns + pb->cfg.order_latency_ns;
    if (pb->cfg.jitter_ns > 0)
        lat += (int64_t)(splitmix64(&pb->rng) % (uint64_t)(pb->cfg.jitter_ns + 1));
    int64_t due = max64(pb->host->now_ns(pb->owner) + lat, pb->last_due);
    pb->last_due = due;
    pb->act = pb_grow(pb, pb->act, pb->n_act, &pb->cap_act, sizeof *pb->act);
    struct pb_action *a = &pb->act[pb->n_act++]; /* due is never below the last */
    memset(a, 0, sizeof *a);
    a->due_ns = due;
    a->seq = pb->next_seq++;
    a->kind = kind;
    snprintf(a->clordid, sizeof a->clordid, "%s", clordid);
    a->new_px = new_px;
    a->new_qty = new_qty;
    pb_arm_timer(pb);
}
