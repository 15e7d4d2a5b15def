/* cache_sub.c — see cache_sub.h. */
#include "cache_sub.h"

#include "cache_writer.h"
#include "clock.h"
#include "instruments.h"
#include "portfolio.h"
#include "util.h"

static int64_t ts_ms_of(int64_t ns) { return ns / 1000000; }

static void cache_on_market(void *self, const struct qts_bus_market *m)
{
    struct qts_cache_pub *pub = self;
    if (!pub->writer)
        return;
    const struct qts_ev_hdr *h = m->ev;
    struct qts_cache_price p = {.bid = m->bid,
                                .ask = m->ask,
                                .last = m->last,
                                .ts_ms = ts_ms_of(m->ts_ns),
                                .px_exp = h->px_exp,
                                .qty_exp = h->qty_exp};
    qts_cache_writer_price(pub->writer, qts_instruments_symbol(pub->instruments, h->instrument),
                           &p);
}

void qts_cache_pub_position(struct qts_cache_pub *pub, uint32_t instrument, int64_t ts_ns)
{
    if (!pub->writer)
        return;
    const struct qts_position *pos = qts_portfolio_position(pub->pf, instrument);
    if (!pos)
        return;
    struct qts_cache_position c = {.qty = pos->qty,
                                   .avg_px = qts_position_avg_px(pos),
                                   .unrealized_pnl =
                                       qts_portfolio_position_unrealized(pub->pf, pos),
                                   .ts_ms = ts_ms_of(ts_ns),
                                   .px_exp = pos->px_exp,
                                   .qty_exp = pos->qty_exp};
    qts_cache_writer_position(pub->writer, qts_instruments_symbol(pub->instruments, instrument),
                              &c);
}

static void cache_on_fill(void *self, const struct qts_fill *f)
{
    qts_cache_pub_position(self, f->h.instrument, f->h.ts_exch_ns);
}

static void cache_on_order(void *self, const struct qts_order_event *ev)
{
    struct qts_cache_pub *pub = self;
    if (!pub->writer)
        return;
    static const char *const names[] = {"",        "ACCEPTED", "REJECTED", "CANCELLED", "FILLED",
                                        "ESCAPED", "FAILED",   "EXPIRED",  "REPLACED"};
    struct qts_cache_order o = {
        .symbol = qts_instruments_symbol(pub->instruments, ev->h.instrument),
        .status = ev->kind < QTS_ARRAY_LEN(names) ? names[ev->kind] : "UNKNOWN",
        .side = ev->side,
        .qty = ev->filled_qty + (ev->leaves_qty > 0 ? ev->leaves_qty : 0),
        .filled_qty = ev->filled_qty,
        .pending_qty = ev->leaves_qty > 0 ? ev->leaves_qty : 0,
        .avg_fill_px = ev->avg_px,
        .ts_ms = ts_ms_of(qts_clock_now(pub->clock)),
        .px_exp = ev->h.px_exp,
        .qty_exp = ev->h.qty_exp,
        .is_terminal = ev->kind != QTS_OE_ACCEPTED && ev->kind != QTS_OE_REPLACED};
    qts_cache_writer_order(pub->writer, ev->order_id, &o);
}

struct qts_bus_sub qts_cache_sub(struct qts_cache_pub *pub)
{
    return (struct qts_bus_sub){.name = "cache",
                                .on_market = cache_on_market,
                                .on_order = cache_on_order,
                                .on_fill = cache_on_fill,
                                .self = pub};
}
