/* store_sub.c — see store_sub.h. */
#include "store_sub.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "instruments.h"
#include "log.h"
#include "portfolio.h"
#include "qts/qts_store.h"
#include "store_writer.h"
#include "tca.h"
#include "util.h"

static void store_push(struct qts_store_pub *pub, struct qts_store_record *h, uint16_t kind,
                       uint32_t size, int64_t ts)
{
    h->struct_size = size;
    h->kind = kind;
    h->ts_ns = ts;
    qts_store_writer_push(pub->writer, h, NULL);
}

static void store_on_fill(void *self, const struct qts_fill *f)
{
    struct qts_store_pub *pub = self;
    if (!pub->writer)
        return;
    struct qts_store_fill r;
    memset(&r, 0, sizeof r);
    r.order_id = f->order_id;
    r.fill_id = f->fill_id;
    qts_strlcpy(r.symbol, qts_instruments_symbol(pub->instruments, f->h.instrument),
                sizeof r.symbol);
    qts_strlcpy(r.tag, f->tag, sizeof r.tag);
    r.side = f->side;
    r.is_maker = f->is_maker;
    r.px_exp = f->h.px_exp;
    r.qty_exp = f->h.qty_exp;
    r.px = f->px;
    r.qty = f->qty;
    r.fee = f->fee;
    store_push(pub, &r.h, QTS_REC_FILL, sizeof r, f->h.ts_exch_ns);

    struct qts_store_ledger l;
    memset(&l, 0, sizeof l);
    qts_strlcpy(l.symbol, r.symbol, sizeof l.symbol);
    snprintf(l.strategy_tag, sizeof l.strategy_tag, "%u:%s", f->strategy_id, f->tag);
    snprintf(l.order_id, sizeof l.order_id, "%llu", (unsigned long long)f->order_id);
    qts_strlcpy(l.broker, pub->broker ? pub->broker : "", sizeof l.broker);
    l.side = f->side;
    l.px_exp = f->h.px_exp;
    l.qty_exp = f->h.qty_exp;
    l.qty = f->qty;
    l.px = f->px;
    l.amount = qts_cash_notional(f->px, f->h.px_exp, f->qty, f->h.qty_exp);
    l.fee = f->fee;
    l.realized_pnl = QTS_STORE_NULL;
    store_push(pub, &l.h, QTS_REC_LEDGER, sizeof l, f->h.ts_exch_ns);
}

static void store_on_order(void *self, const struct qts_order_event *ev)
{
    struct qts_store_pub *pub = self;
    if (!pub->writer)
        return;
    int64_t ts = ev->h.ts_exch_ns ? ev->h.ts_exch_ns : qts_clock_now(pub->clock);
    struct qts_store_order_event r;
    memset(&r, 0, sizeof r);
    r.order_id = ev->order_id;
    snprintf(r.client_order_id, sizeof r.client_order_id, "%llu", (unsigned long long)ev->order_id);
    r.event = ev->kind;
    r.state = ev->state;
    r.px_exp = ev->h.px_exp;
    r.qty_exp = ev->h.qty_exp;
    r.code = ev->code;
    qts_strlcpy(r.reason, ev->reason, sizeof r.reason);
    r.filled_qty = ev->filled_qty;
    r.leaves_qty = ev->leaves_qty;
    r.avg_px = ev->filled_qty ? ev->avg_px : QTS_STORE_NULL;
    store_push(pub, &r.h, QTS_REC_ORDER_EVENT, sizeof r, ts);
}

/* Positions at the end of a run (upserts keyed by symbol), then the writer
 * stops: everything written or journalled. */
static int store_on_run_end(void *self, const struct qts_run_end *end, struct qts_err *err)
{
    (void)err;
    struct qts_store_pub *pub = self;
    if (!pub->writer)
        return 0;
    const struct qts_position *v = NULL;
    size_t n = qts_portfolio_positions(pub->pf, &v);
    for (size_t i = 0; i < n; i++) {
        struct qts_store_position r;
        memset(&r, 0, sizeof r);
        qts_strlcpy(r.symbol, qts_instruments_symbol(pub->instruments, v[i].instrument),
                    sizeof r.symbol);
        r.px_exp = v[i].px_exp;
        r.qty_exp = v[i].qty_exp;
        r.qty = v[i].qty;
        r.avg_px = qts_position_avg_px(&v[i]);
        r.exposure_value = QTS_STORE_NULL;
        r.unrealized_pnl = qts_portfolio_position_unrealized(pub->pf, &v[i]);
        r.exposure_pct = 0.0 / 0.0;
        store_push(pub, &r.h, QTS_REC_POSITION, sizeof r, end->ts_ns);
    }
    qts_store_writer_stop(pub->writer);
    struct qts_store_writer_stats ws;
    qts_store_writer_get_stats(pub->writer, &ws);
    QTS_INFO("store records written=%" PRIu64 " spilled=%" PRIu64 " dead=%" PRIu64,
             ws.written + ws.replayed, ws.spilled, ws.dead);
    return 0;
}

static int64_t to_fixed(double v, unsigned exp)
{
    return isfinite(v) ? llround(v * (double)qts_pow10_i64[exp <= QTS_MAX_EXP ? exp : 0])
                       : QTS_STORE_NULL;
}

void qts_store_pub_tca_row(struct qts_store_pub *pub, const struct qts_tca_row *row)
{
    if (!pub->writer)
        return;
    const struct qts_instrument *in = qts_instruments_get(pub->instruments, row->instrument);
    unsigned pe = in ? in->px_exp : 0, qe = in ? in->qty_exp : 0;
    struct qts_store_feedback r;
    memset(&r, 0, sizeof r);
    snprintf(r.order_id, sizeof r.order_id, "%llu", (unsigned long long)row->order_id);
    qts_strlcpy(r.symbol, row->symbol, sizeof r.symbol);
    char tag[64];
    snprintf(tag, sizeof tag, "%u:%s", row->strategy_id, row->tag);
    qts_strlcpy(r.tag, tag, sizeof r.tag);
    qts_strlcpy(r.order_type,
                row->type == QTS_ORD_MARKET ? "MARKET"
                : row->type == QTS_ORD_STOP ? "STOP"
                                            : "LIMIT",
                sizeof r.order_type);
    r.side = row->side;
    r.px_exp = (uint8_t)pe;
    r.qty_exp = (uint8_t)qe;
    r.score_version = (uint8_t)row->score_version;
    r.execution_start_ns = row->ts_sent_ns ? row->ts_sent_ns : row->ts_decision_ns;
    r.decision_px = to_fixed(row->decision_px, pe);
    r.avg_fill_px = row->qty_filled > 0 ? to_fixed(row->avg_fill_px, pe) : QTS_STORE_NULL;
    r.original_qty = to_fixed(row->qty_asked, qe);
    r.filled_qty = to_fixed(row->qty_filled, qe);
    r.depth = to_fixed(row->depth, qe);
    r.fill_ratio = row->fill_ratio;
    r.slippage_bps = row->slip_decision_bps;
    r.avg_fill_latency_ms = row->avg_fill_latency_ms;
    r.first_fill_latency_ms = row->lat_first_ms;
    r.complete_fill_latency_ms = row->lat_complete_ms;
    r.volatility = row->volatility;
    r.spread_bps = row->spread_bps;
    r.post_spread_bps = NAN;
    r.impact_bps = row->qty_filled > 0 ? row->pred_impact_bps : NAN;
    r.realized_impact_bps = row->realized_impact_bps;
    r.quality_score = row->quality;
    store_push(pub, &r.h, QTS_REC_FEEDBACK, sizeof r, row->ts_end_ns);
}

struct qts_bus_sub qts_store_sub(struct qts_store_pub *pub)
{
    return (struct qts_bus_sub){
        .name = "store", .on_order = store_on_order, .on_fill = store_on_fill, .self = pub};
}

struct qts_bus_sub qts_store_close_sub(struct qts_store_pub *pub)
{
    return (struct qts_bus_sub){.name = "store_close", .on_run_end = store_on_run_end, .self = pub};
}
