/* cache_sub.c — see cache_sub.h. */
#include "cache_sub.h"

#include <stdlib.h>
#include <string.h>

#include "book.h"
#include "cache_writer.h"
#include "clock.h"
#include "instruments.h"
#include "portfolio.h"
#include "util.h"

#define NS_PER_DAY INT64_C(86400000000000)

static int64_t ts_ms_of(int64_t ns) { return ns / 1000000; }

/* The day's traded volume after a trade of `qty` at `ts_ns` (0 qty: only
 * read). The table grows with the instrument ids (rarely: once per new
 * instrument). */
static int64_t day_volume(struct qts_cache_pub *pub, uint32_t instrument, int64_t ts_ns,
                          int64_t qty)
{
    if (instrument >= pub->n_volume) {
        size_t n = pub->n_volume ? pub->n_volume : 16;
        while (n <= instrument)
            n *= 2;
        pub->volume = qts_xrealloc(pub->volume, n * sizeof *pub->volume);
        memset(pub->volume + pub->n_volume, 0, (n - pub->n_volume) * sizeof *pub->volume);
        pub->n_volume = n;
    }
    struct qts_cache_volume *v = &pub->volume[instrument];
    int64_t day = ts_ns / NS_PER_DAY;
    if (v->day != day) { /* a new UTC day starts from zero */
        v->day = day;
        v->qty = 0;
    }
    v->qty += qty;
    return v->qty;
}

static void publish_book(struct qts_cache_pub *pub, const struct qts_ev_hdr *h, const char *sym,
                         int64_t ts_ns)
{
    const struct qts_book *b = pub->books ? qts_book_set_find(pub->books, h->instrument) : NULL;
    if (!b)
        return;
    struct qts_level bids[QTS_CACHE_BOOK_MAX], asks[QTS_CACHE_BOOK_MAX];
    size_t nb = qts_book_depth(b, QTS_SIDE_BUY, bids, QTS_CACHE_BOOK_MAX);
    size_t na = qts_book_depth(b, QTS_SIDE_SELL, asks, QTS_CACHE_BOOK_MAX);
    qts_cache_writer_book(pub->writer, sym, bids, nb, asks, na, h->px_exp, h->qty_exp,
                          ts_ms_of(ts_ns));
}

static void cache_on_market(void *self, const struct qts_bus_market *m)
{
    struct qts_cache_pub *pub = self;
    if (!pub->writer)
        return;
    const struct qts_ev_hdr *h = m->ev;
    int64_t traded = h->type == QTS_EV_TRADE ? ((const struct qts_trade *)h)->qty : 0;
    const char *sym = qts_instruments_symbol(pub->instruments, h->instrument);
    struct qts_cache_price p = {.bid = m->bid,
                                .ask = m->ask,
                                .last = m->last,
                                .volume = day_volume(pub, h->instrument, m->ts_ns, traded),
                                .ts_ms = ts_ms_of(m->ts_ns),
                                .px_exp = h->px_exp,
                                .qty_exp = h->qty_exp};
    qts_cache_writer_price(pub->writer, sym, &p);
    if (h->type == QTS_EV_BOOK)
        publish_book(pub, h, sym, m->ts_ns);
}

void qts_cache_pub_position(struct qts_cache_pub *pub, uint32_t instrument, int64_t ts_ns)
{
    if (!pub->writer)
        return;
    const struct qts_position *pos = qts_portfolio_position(pub->pf, instrument);
    if (!pos)
        return;
    int64_t last = qts_portfolio_last_px(pub->pf, instrument);
    int64_t qty_abs = pos->qty < 0 ? -pos->qty : pos->qty;
    int64_t exposure = last ? qts_cash_notional(last, pos->px_exp, qty_abs, pos->qty_exp) : 0;
    int64_t equity = qts_portfolio_equity(pub->pf);
    struct qts_cache_position c = {
        .qty = pos->qty,
        .avg_px = qts_position_avg_px(pos),
        .unrealized_pnl = qts_portfolio_position_unrealized(pub->pf, pos),
        .exposure_value = exposure,
        .exposure_pct = equity > 0 ? 100.0 * (double)exposure / (double)equity : 0,
        .ts_ms = ts_ms_of(ts_ns),
        .px_exp = pos->px_exp,
        .qty_exp = pos->qty_exp};
    qts_cache_writer_position(pub->writer, qts_instruments_symbol(pub->instruments, instrument),
                              &c);
}

static void publish_risk(struct qts_cache_pub *pub)
{
    if (!pub->writer || !pub->prov.risk)
        return;
    struct qts_cache_risk r = {0};
    if (pub->prov.risk(pub->prov.ctx, &r) != 0)
        return;
    r.ts_ms = ts_ms_of(qts_clock_now(pub->clock)); /* when it was published (wall time) */
    qts_cache_writer_risk(pub->writer, &r);
}

static void put_strategy(void *arg, const char *name, const struct qts_cache_strategy *s)
{
    struct qts_cache_pub *pub = arg;
    struct qts_cache_strategy c = *s;
    c.ts_ms = ts_ms_of(qts_clock_now(pub->clock));
    qts_cache_writer_strategy(pub->writer, name, &c);
}

void qts_cache_pub_periodic(struct qts_cache_pub *pub)
{
    if (!pub->writer)
        return;
    publish_risk(pub);
    if (pub->prov.strategies)
        pub->prov.strategies(pub->prov.ctx, put_strategy, pub);
}

static void on_timer(uv_timer_t *t) { qts_cache_pub_periodic(t->data); }

void qts_cache_pub_start(struct qts_cache_pub *pub, uv_loop_t *loop, uint32_t period_ms)
{
    qts_cache_pub_periodic(pub);
    if (pub->is_timer_on)
        return;
    uv_timer_init(loop, &pub->timer);
    pub->timer.data = pub;
    uv_timer_start(&pub->timer, on_timer, period_ms, period_ms);
    uv_unref((uv_handle_t *)&pub->timer); /* never keeps a run alive */
    pub->is_timer_on = 1;
}

void qts_cache_pub_stop(struct qts_cache_pub *pub)
{
    if (pub->is_timer_on) {
        uv_timer_stop(&pub->timer);
        uv_close((uv_handle_t *)&pub->timer, NULL); /* the pub outlives the loop's close */
        pub->is_timer_on = 0;
    }
    free(pub->volume);
    pub->volume = NULL;
    pub->n_volume = 0;
}

static void put_order(struct qts_cache_pub *pub, uint64_t order_id, uint32_t instrument,
                      const char *status, int side, int64_t filled, int64_t leaves, int64_t avg_px,
                      uint8_t px_exp, uint8_t qty_exp, bool is_terminal)
{
    struct qts_cache_order_info info = {0};
    if (pub->prov.order)
        pub->prov.order(pub->prov.ctx, order_id, &info);
    int64_t qty = filled + (leaves > 0 ? leaves : 0);
    if (info.qty > 0) /* the quantity asked, also once finished */
        qty = info.qty;
    struct qts_cache_order o = {.symbol = qts_instruments_symbol(pub->instruments, instrument),
                                .status = status,
                                .side = side,
                                .qty = qty,
                                .filled_qty = filled,
                                .pending_qty = leaves > 0 ? leaves : 0,
                                .avg_fill_px = avg_px,
                                .limit_px = info.limit_px,
                                .ts_ms = ts_ms_of(qts_clock_now(pub->clock)),
                                .px_exp = px_exp,
                                .qty_exp = qty_exp,
                                .is_terminal = is_terminal};
    qts_cache_writer_order(pub->writer, order_id, &o);
}

static void cache_on_fill(void *self, const struct qts_fill *f)
{
    struct qts_cache_pub *pub = self;
    qts_cache_pub_position(pub, f->h.instrument, f->h.ts_exch_ns);
    publish_risk(pub); /* exposure, P&L and the trade count moved */
    /* a partial fill moves a working order's filled quantity; the order
     * event that finishes it (FILLED, CANCELLED...) is written by itself */
    struct qts_cache_order_info info;
    if (pub->writer && pub->prov.order && pub->prov.order(pub->prov.ctx, f->order_id, &info) == 0 &&
        !info.is_final && info.filled_qty < info.qty)
        put_order(pub, f->order_id, f->h.instrument, "PARTIALLY_FILLED", f->side, info.filled_qty,
                  info.qty - info.filled_qty, info.avg_fill_px, f->h.px_exp, f->h.qty_exp, false);
}

static void cache_on_order(void *self, const struct qts_order_event *ev)
{
    struct qts_cache_pub *pub = self;
    if (!pub->writer)
        return;
    static const char *const names[] = {"",        "ACCEPTED", "REJECTED", "CANCELLED", "FILLED",
                                        "ESCAPED", "FAILED",   "EXPIRED",  "REPLACED"};
    bool is_terminal = ev->kind != QTS_OE_ACCEPTED && ev->kind != QTS_OE_REPLACED;
    const char *status = ev->kind < QTS_ARRAY_LEN(names) ? names[ev->kind] : "UNKNOWN";
    if (!is_terminal && ev->filled_qty > 0)
        status = "PARTIALLY_FILLED";
    put_order(pub, ev->order_id, ev->h.instrument, status, ev->side, ev->filled_qty, ev->leaves_qty,
              ev->avg_px, ev->h.px_exp, ev->h.qty_exp, is_terminal);
}

struct qts_bus_sub qts_cache_sub(struct qts_cache_pub *pub)
{
    return (struct qts_bus_sub){.name = "cache",
                                .on_market = cache_on_market,
                                .on_order = cache_on_order,
                                .on_fill = cache_on_fill,
                                .self = pub};
}
