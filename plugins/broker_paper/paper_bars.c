/* paper_bars.c — fills from OHLCV bars (docs/paper-broker.md "Bars").
 *
 * An instrument whose only data is bars has no book to walk and no trades
 * to queue behind, so its orders fill by the rules bar backtesters use:
 * a market order at the next bar's open (or, with bar_fill: close, at the
 * close of the last bar), a limit order when a later bar's range reaches
 * its price, at the open when the bar opens through it (a gap). Each bar
 * lends at most bar_volume_cap of its volume to our fills; what is left
 * waits for the next bar. As soon as the instrument has trades, quotes or
 * book updates those fill it (the finer data) and bars are only prices.
 */
#include <string.h>

#include "paper_broker.h"

bool pb_bar_mode(const struct pb_inst *in) { return in->d.has_bar && !in->d.has_tick; }

/* Quantity the current bar can still give us, whole lots; INT64_MAX
 * without a cap. */
static int64_t cap_left(const struct pb *pb, const struct pb_inst *in)
{
    if (pb->cfg.bar_volume_cap <= 0)
        return INT64_MAX;
    int64_t cap = (int64_t)((double)in->d.bar_volume * pb->cfg.bar_volume_cap);
    if (in->d.lot_size > 0)
        cap -= cap % in->d.lot_size;
    return max64(cap - in->d.bar_used, 0);
}

/* A market order's price moved against it by the configured slippage:
 * ticks, then basis points rounded up to a whole tick. */
static int64_t slipped(const struct pb *pb, const struct pb_inst *in, const struct pb_order *o,
                       int64_t px)
{
    int64_t tick = in->d.tick_size > 0 ? in->d.tick_size : 1;
    int64_t s = pb->cfg.slippage_ticks * tick;
    if (pb->cfg.slippage_bps > 0) {
        int64_t b = (int64_t)((double)px * pb->cfg.slippage_bps / 10000.0 + 0.999999);
        s += (b + tick - 1) / tick * tick;
    }
    int64_t p = o->side == QTS_SIDE_BUY ? px + s : px - s;
    return p > 0 ? p : tick;
}

/* Fill up to the order's remainder at px within the bar's cap. */
static void bar_fill(struct pb *pb, struct pb_order *o, struct pb_inst *in, int64_t px,
                     bool is_maker, int64_t ts)
{
    int64_t q = min64(o->qty - o->cum, cap_left(pb, in));
    if (q <= 0 || px <= 0)
        return;
    in->d.bar_used += q;
    pb_fill(pb, o, in, px, q, is_maker, ts);
}

/* What a limit order gets from a bar: the open when the bar opens at or
 * through the limit (gap), else the limit when the range reaches it; 0
 * when the bar never trades at the limit or better. */
static int64_t limit_px(const struct pb_order *o, const struct pb_inst *in)
{
    const struct pb_inst_data *d = &in->d;
    if (o->side == QTS_SIDE_BUY) {
        if (d->bar_open <= o->px)
            return d->bar_open;
        return d->bar_low <= o->px ? o->px : 0;
    }
    if (d->bar_open >= o->px)
        return d->bar_open;
    return d->bar_high >= o->px ? o->px : 0;
}

/* What a stop order gets from a bar once triggered: the open when the bar
 * opens at or through the stop (gap), else the stop when the range reaches
 * it; 0 when not triggered. */
static int64_t stop_px(const struct pb_order *o, const struct pb_inst *in)
{
    const struct pb_inst_data *d = &in->d;
    if (o->side == QTS_SIDE_BUY) {
        if (d->bar_open >= o->px)
            return d->bar_open;
        return d->bar_high >= o->px ? o->px : 0;
    }
    if (d->bar_open <= o->px)
        return d->bar_open;
    return d->bar_low <= o->px ? o->px : 0;
}

static void finish_or_rest(struct pb *pb, struct pb_order *o, struct pb_inst *in, int64_t ts,
                           bool one_bar)
{
    if (o->state == PB_DONE)
        return;
    if (one_bar && o->type == QTS_ORD_LIMIT && (o->tif == QTS_TIF_IOC || o->tif == QTS_TIF_FOK)) {
        bool was_resting = o->state == PB_RESTING;
        pb_order_set_state(pb, o, PB_DONE);
        if (was_resting)
            pb_sell_reserve(in, o, -(o->qty - o->cum));
        pb_reserve_update(pb, o, in);
        pb_report(pb, o, QTS_EXEC_EXPIRED, ts, 0,
                  o->cum ? "unfilled remainder expired" : "nothing to fill on the bar");
        return;
    }
    if (o->state != PB_RESTING) {
        pb_order_set_state(pb, o, PB_RESTING);
        pb_sell_reserve(in, o, o->qty - o->cum);
    }
    pb_reserve_update(pb, o, in);
}

void pb_bar_arrive(struct pb *pb, struct pb_order *o, struct pb_inst *in, int64_t ts)
{
    if (pb->cfg.bar_fill == PB_BAR_CLOSE) {
        /* the last bar's close is the price now: market orders take it,
         * limit orders that reach it take it, the rest waits */
        int64_t c = in->d.bar_close;
        bool reach =
            o->type == QTS_ORD_MARKET ||
            (o->type == QTS_ORD_LIMIT && (o->side == QTS_SIDE_BUY ? c <= o->px : c >= o->px));
        if (reach && o->tif != QTS_TIF_POST &&
            !(o->tif == QTS_TIF_FOK && cap_left(pb, in) < o->qty - o->cum))
            bar_fill(pb, o, in, o->type == QTS_ORD_MARKET ? slipped(pb, in, o, c) : c, false, ts);
    }
    /* market orders wait for the next bar whatever their time in force;
     * IOC/FOK limit orders get the next bar and no more */
    finish_or_rest(pb, o, in, ts, false);
}

void pb_on_bar(struct pb *pb, struct pb_inst *in, const struct qts_bar *b, int64_t ts)
{
    struct pb_inst_data *d = &in->d;
    d->has_bar = 1;
    d->bar_open = b->open;
    d->bar_high = b->high;
    d->bar_low = b->low;
    d->bar_close = b->close;
    d->bar_volume = b->volume;
    d->bar_used = 0;
    if (!pb_bar_mode(in) || !in->n_resting)
        return;
    /* The resting orders in arrival order; fills change in->resting, so
     * walk a copy. */
    uint32_t n = in->n_resting;
    while (pb->cap_scratch < n)
        pb->scratch =
            pb_grow(pb, pb->scratch, pb->cap_scratch, &pb->cap_scratch, sizeof *pb->scratch);
    memcpy(pb->scratch, in->resting, n * sizeof *pb->scratch);
    for (uint32_t i = 0; i < n; i++) {
        struct pb_order *o = pb->scratch[i];
        if (o->state != PB_RESTING)
            continue;
        if (o->type == QTS_ORD_MARKET) {
            int64_t px = pb->cfg.bar_fill == PB_BAR_CLOSE ? d->bar_close : d->bar_open;
            bar_fill(pb, o, in, slipped(pb, in, o, px), false, ts);
        } else if (o->type == QTS_ORD_STOP) {
            /* triggered: from here on a market order (its remainder too) */
            int64_t px = stop_px(o, in);
            if (px) {
                o->type = QTS_ORD_MARKET;
                bar_fill(pb, o, in, slipped(pb, in, o, px), false, ts);
            }
        } else {
            int64_t px = limit_px(o, in);
            if (px && !(o->tif == QTS_TIF_FOK && cap_left(pb, in) < o->qty - o->cum))
                bar_fill(pb, o, in, px, true, ts);
        }
        finish_or_rest(pb, o, in, ts, true);
    }
}

void pb_bars_data_end(struct pb *pb)
{
    bool bars = false;
    for (uint32_t k = 0; k < pb->n_inst; k++)
        bars |= pb_bar_mode(&pb->inst[k]);
    if (!bars)
        return; /* books and trades: the host's last timers deliver the requests */
    /* the requests in flight arrive, each at its own time */
    int64_t last = pb->vnow;
    for (uint32_t i = 0; i < pb->n_act; i++)
        last = max64(last, pb->act[i].due_ns);
    pb->depth++;
    pb_advance(pb, last);
    for (uint32_t k = 0; k < pb->n_inst; k++) {
        struct pb_inst *in = &pb->inst[k];
        if (!pb_bar_mode(in) || !in->n_resting)
            continue;
        /* no next bar will come: market orders take the last close, as if
         * it were the next open; limit orders stay unfilled (cancelled by
         * the host) */
        uint32_t n = in->n_resting;
        while (pb->cap_scratch < n)
            pb->scratch =
                pb_grow(pb, pb->scratch, pb->cap_scratch, &pb->cap_scratch, sizeof *pb->scratch);
        memcpy(pb->scratch, in->resting, n * sizeof *pb->scratch);
        in->d.bar_used = 0; /* the close is a fresh chance, capped as a bar */
        for (uint32_t i = 0; i < n; i++) {
            struct pb_order *o = pb->scratch[i];
            if (o->state == PB_RESTING && o->type == QTS_ORD_MARKET)
                bar_fill(pb, o, in, slipped(pb, in, o, in->d.bar_close), false, pb->vnow);
        }
    }
    pb->depth--;
    pb_gc_orders(pb);
}
