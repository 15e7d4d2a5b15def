/* store_cases.c — see store_cases.h. */
#include "store_cases.h"

#include "test_support.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spill_journal.h"
#include "store_plugin.h"
#include "util.h"

#define NS INT64_C(1000000000)
#define MIN_NS (60 * NS)
#define HOUR_NS (3600 * NS)
#define DAY_NS (86400 * NS)
/* 2026-11-23 01:00:00 UTC (10:00 in Seoul) */
#define T0 (INT64_C(1795395600) * NS)

static void head(struct qts_store_record *h, size_t size, int kind, int64_t ts)
{
    memset(h, 0, size);
    h->struct_size = (uint32_t)size;
    h->kind = (uint16_t)kind;
    h->ts_ns = ts;
}
#define HEAD(p, kind, ts) head(&(p)->h, sizeof *(p), (kind), (ts))

void sc_tick(struct qts_store_tick *t, const char *sym, int64_t ts, int64_t px, int64_t qty)
{
    HEAD(t, QTS_REC_TICK, ts);
    qts_strlcpy(t->symbol, sym, sizeof t->symbol);
    qts_strlcpy(t->source, "test", sizeof t->source);
    t->tick_kind = QTS_TICK_TRADE;
    t->px_exp = 2;
    t->qty_exp = 0;
    t->px = px;
    t->qty = qty;
    t->bid = QTS_STORE_NULL;
    t->ask = QTS_STORE_NULL;
}

void sc_ledger(struct qts_store_ledger *l, const char *sym, int64_t ts, int side, int64_t qty,
               int64_t px, const char *tag, int64_t pnl_cash)
{
    HEAD(l, QTS_REC_LEDGER, ts);
    qts_strlcpy(l->symbol, sym, sizeof l->symbol);
    qts_strlcpy(l->strategy_tag, tag, sizeof l->strategy_tag);
    qts_strlcpy(l->order_id, "ORD-1", sizeof l->order_id);
    qts_strlcpy(l->broker, "paper", sizeof l->broker);
    l->side = (uint8_t)side;
    l->px_exp = 2;
    l->qty_exp = 0;
    l->qty = qty;
    l->px = px;
    l->amount = qty * px * 10000; /* cash exp 6 from px exp 2 */
    l->fee = 1500000;             /* 1.5 */
    l->realized_pnl = pnl_cash;
}

static int64_t rescale(int64_t v, unsigned from, unsigned to)
{
    return to >= from ? v * qts_pow10_i64[to - from] : v / qts_pow10_i64[from - to];
}

static char *scalar(const struct store_case_ctx *c, const char *sql)
{
    static char buf[512];
    if (c->scalar(c->db, sql, buf, sizeof buf) != 0)
        fail_msg("query failed: %s", sql);
    return buf;
}

int64_t sc_scalar_i64(const struct store_case_ctx *c, const char *sql)
{
    return strtoll(scalar(c, sql), NULL, 10);
}

/* Value of a decimal column as fixed-point with `exp` decimals. */
static int64_t scalar_fixed(const struct store_case_ctx *c, const char *sql, unsigned exp)
{
    const char *s = scalar(c, sql);
    double d = strtod(s, NULL);
    return (int64_t)llround(d * (double)qts_pow10_i64[exp]);
}

void sc_write(const struct store_case_ctx *c, const struct qts_store_record *const *recs, size_t n)
{
    struct qts_err e;
    qts_err_clear(&e);
    int rc = c->port->ops->write_batch(c->port->self, recs, n, &e);
    if (rc != 0)
        fail_msg("write_batch: %s", e.msg);
}

void store_case_migrate(const struct store_case_ctx *c)
{
    struct qts_err e;
    int rc = c->port->ops->migrate(c->port->self, &e);
    assert_true(rc >= 0);
    assert_int_equal(c->port->ops->migrate(c->port->self, &e), 0); /* re-run: nothing to do */
    assert_true(sc_scalar_i64(c, "SELECT count(*) FROM schema_migrations") >= 1);
}

/* ----------------------------------------------------------- round trip */

struct all_records {
    struct qts_store_tick trade, quote;
    struct qts_store_bar bar1m, bar1d;
    struct qts_store_order ord1, ord2, ord1b;
    struct qts_store_order_event oev;
    struct qts_store_fill fill;
    struct qts_store_exec_log xlog;
    struct qts_store_feedback fb;
    struct qts_store_decision dec;
    struct qts_store_position posa, posb;
    struct qts_store_param pfast, pslow, pfast2;
    struct qts_store_risk_config risk;
    struct qts_store_ledger led;
    struct qts_store_account acct;
    struct qts_store_config cfg;
};

static void build_all(struct all_records *a)
{
    sc_tick(&a->trade, "AAA", T0, 10050, 3);
    sc_tick(&a->quote, "AAA", T0 + NS, 10051, 0);
    a->quote.tick_kind = QTS_TICK_QUOTE;
    a->quote.bid = 10050;
    a->quote.ask = 10052;

    HEAD(&a->bar1m, QTS_REC_BAR, T0);
    qts_strlcpy(a->bar1m.symbol, "BBB", sizeof a->bar1m.symbol);
    a->bar1m.px_exp = 2;
    a->bar1m.period_ns = MIN_NS;
    a->bar1m.open = 100;
    a->bar1m.high = 120;
    a->bar1m.low = 90;
    a->bar1m.close = 110;
    a->bar1m.volume = 42;
    a->bar1m.n_trades = 7;
    a->bar1d = a->bar1m;
    a->bar1d.period_ns = DAY_NS;
    a->bar1d.h.ts_ns = T0 - HOUR_NS;

    HEAD(&a->ord1, QTS_REC_ORDER, T0);
    a->ord1.order_id = 1;
    qts_strlcpy(a->ord1.client_order_id, "c-1", sizeof a->ord1.client_order_id);
    qts_strlcpy(a->ord1.symbol, "AAA", sizeof a->ord1.symbol);
    qts_strlcpy(a->ord1.tag, "scalp1", sizeof a->ord1.tag);
    a->ord1.strategy_id = 3;
    a->ord1.side = QTS_SIDE_BUY;
    a->ord1.type = QTS_ORD_LIMIT;
    a->ord1.tif = QTS_TIF_GTC;
    a->ord1.state = QTS_OS_ACCEPTED;
    a->ord1.px_exp = 2;
    a->ord1.px = 10000;
    a->ord1.qty = 5;
    a->ord1.avg_fill_px = QTS_STORE_NULL;
    a->ord1.decision_px = 10010;
    a->ord1.ts_decided_ns = T0 - NS;
    a->ord1.ts_sent_ns = T0;
    a->ord1.ts_done_ns = QTS_STORE_NULL;
    a->ord2 = a->ord1;
    a->ord2.order_id = 2;
    qts_strlcpy(a->ord2.client_order_id, "c-2", sizeof a->ord2.client_order_id);
    a->ord2.state = QTS_OS_FILLED;
    a->ord2.filled_qty = 5;
    a->ord2.avg_fill_px = 10125;
    a->ord2.ts_done_ns = T0 + 2 * NS;
    a->ord1b = a->ord1;
    a->ord1b.h.ts_ns = T0 + 3 * NS;
    a->ord1b.state = QTS_OS_PARTIALLY_FILLED;
    a->ord1b.filled_qty = 2;
    a->ord1b.avg_fill_px = 10000;

    HEAD(&a->oev, QTS_REC_ORDER_EVENT, T0);
    a->oev.order_id = 1;
    qts_strlcpy(a->oev.client_order_id, "c-1", sizeof a->oev.client_order_id);
    a->oev.event = QTS_OE_ACCEPTED;
    a->oev.state = QTS_OS_ACCEPTED;
    a->oev.px_exp = 2;
    a->oev.leaves_qty = 5;
    a->oev.avg_px = QTS_STORE_NULL;
    qts_strlcpy(a->oev.reason, "ok", sizeof a->oev.reason);

    HEAD(&a->fill, QTS_REC_FILL, T0 + 2 * NS);
    a->fill.order_id = 2;
    a->fill.fill_id = 7;
    qts_strlcpy(a->fill.client_order_id, "c-2", sizeof a->fill.client_order_id);
    qts_strlcpy(a->fill.symbol, "AAA", sizeof a->fill.symbol);
    a->fill.side = QTS_SIDE_BUY;
    a->fill.px_exp = 2;
    a->fill.px = 10125;
    a->fill.qty = 5;
    a->fill.fee = 250000;

    HEAD(&a->xlog, QTS_REC_EXEC_LOG, T0);
    qts_strlcpy(a->xlog.order_id, "c-2", sizeof a->xlog.order_id);
    qts_strlcpy(a->xlog.symbol, "AAA", sizeof a->xlog.symbol);
    qts_strlcpy(a->xlog.stage, "PRECHECK", sizeof a->xlog.stage);
    a->xlog.latency_us = 1234;
    a->xlog.success = 1;

    HEAD(&a->fb, QTS_REC_FEEDBACK, T0 + 10 * NS);
    qts_strlcpy(a->fb.order_id, "c-2", sizeof a->fb.order_id);
    qts_strlcpy(a->fb.symbol, "AAA", sizeof a->fb.symbol);
    qts_strlcpy(a->fb.tag, "scalp1", sizeof a->fb.tag);
    qts_strlcpy(a->fb.order_type, "LIMIT", sizeof a->fb.order_type);
    a->fb.side = QTS_SIDE_BUY;
    a->fb.px_exp = 2;
    a->fb.score_version = 1;
    a->fb.execution_start_ns = T0;
    a->fb.decision_px = 10010;
    a->fb.avg_fill_px = 10125;
    a->fb.original_qty = 5;
    a->fb.filled_qty = 5;
    a->fb.depth = QTS_STORE_NULL;
    a->fb.fill_ratio = 1.0;
    a->fb.slippage_bps = 114.885;
    a->fb.avg_fill_latency_ms = 20.0;
    a->fb.first_fill_latency_ms = NAN;
    a->fb.complete_fill_latency_ms = NAN;
    a->fb.volatility = NAN;
    a->fb.spread_bps = 2.0;
    a->fb.post_spread_bps = NAN;
    a->fb.impact_bps = 1.58;
    a->fb.realized_impact_bps = NAN;
    a->fb.quality_score = 0.5;

    HEAD(&a->dec, QTS_REC_DECISION, T0 - NS);
    qts_strlcpy(a->dec.cycle_id, "cy-1", sizeof a->dec.cycle_id);
    qts_strlcpy(a->dec.symbol, "AAA", sizeof a->dec.symbol);
    qts_strlcpy(a->dec.action, "BUY", sizeof a->dec.action);
    a->dec.px_exp = 2;
    a->dec.px = 10010;
    a->dec.qty = 5;
    a->dec.approved = 1;
    a->dec.confidence = 0.8;
    a->dec.risk_score = NAN;
    a->dec.fb_slippage_bps = NAN;
    a->dec.fb_quality_score = NAN;

    HEAD(&a->posa, QTS_REC_POSITION, T0);
    qts_strlcpy(a->posa.symbol, "AAA", sizeof a->posa.symbol);
    qts_strlcpy(a->posa.strategy_type, "SCALP", sizeof a->posa.strategy_type);
    qts_strlcpy(a->posa.market, "KS", sizeof a->posa.market);
    a->posa.px_exp = 2;
    a->posa.qty = 10;
    a->posa.avg_px = 10000;
    a->posa.exposure_value = 100000000;
    a->posa.unrealized_pnl = QTS_STORE_NULL;
    a->posa.exposure_pct = 0.1;
    a->posb = a->posa;
    qts_strlcpy(a->posb.symbol, "BBB", sizeof a->posb.symbol);
    a->posb.strategy_type[0] = '\0'; /* NET */
    a->posb.qty = 4;
    a->posb.exposure_pct = NAN;

    HEAD(&a->pfast, QTS_REC_PARAM, T0);
    qts_strlcpy(a->pfast.strategy_id, "ema", sizeof a->pfast.strategy_id);
    qts_strlcpy(a->pfast.param_name, "fast", sizeof a->pfast.param_name);
    qts_strlcpy(a->pfast.value_type, "int", sizeof a->pfast.value_type);
    qts_strlcpy(a->pfast.value, "12", sizeof a->pfast.value);
    a->pslow = a->pfast;
    qts_strlcpy(a->pslow.param_name, "slow", sizeof a->pslow.param_name);
    qts_strlcpy(a->pslow.value, "26", sizeof a->pslow.value);
    a->pfast2 = a->pfast;
    qts_strlcpy(a->pfast2.value, "13", sizeof a->pfast2.value);

    HEAD(&a->risk, QTS_REC_RISK_CONFIG, T0);
    qts_strlcpy(a->risk.config_key, "max_exposure_pct", sizeof a->risk.config_key);
    a->risk.exp = 4;
    a->risk.value = 2500;

    sc_ledger(&a->led, "AAA", T0 + 2 * NS, QTS_SIDE_BUY, 5, 10125, "scalp1", QTS_STORE_NULL);

    HEAD(&a->acct, QTS_REC_ACCOUNT, T0 - HOUR_NS);
    qts_strlcpy(a->acct.date, "2026-11-23", sizeof a->acct.date);
    a->acct.total_equity = INT64_C(1000000) * 1000000;
    a->acct.daily_pnl = QTS_STORE_NULL;
    a->acct.high_watermark = QTS_STORE_NULL;
    a->acct.daily_return = 0.01;
    a->acct.cumulative_return = NAN;
    a->acct.volatility_20d = NAN;
    a->acct.drawdown = NAN;
    a->acct.mdd = NAN;

    HEAD(&a->cfg, QTS_REC_CONFIG, T0);
    qts_strlcpy(a->cfg.scope, "SCALP", sizeof a->cfg.scope);
    qts_strlcpy(a->cfg.category, "ENGINE", sizeof a->cfg.category);
    qts_strlcpy(a->cfg.key, "ENGINE_LOOP_INTERVAL_SCALP", sizeof a->cfg.key);
    qts_strlcpy(a->cfg.value, "1", sizeof a->cfg.value);
}

static size_t all_list(struct all_records *a, struct qts_store_record **v)
{
    size_t n = 0;
    v[n++] = &a->trade.h;
    v[n++] = &a->quote.h;
    v[n++] = &a->bar1m.h;
    v[n++] = &a->bar1d.h;
    v[n++] = &a->ord1.h;
    v[n++] = &a->ord2.h;
    v[n++] = &a->ord1b.h;
    v[n++] = &a->oev.h;
    v[n++] = &a->fill.h;
    v[n++] = &a->xlog.h;
    v[n++] = &a->fb.h;
    v[n++] = &a->dec.h;
    v[n++] = &a->posa.h;
    v[n++] = &a->posb.h;
    v[n++] = &a->pfast.h;
    v[n++] = &a->pslow.h;
    v[n++] = &a->pfast2.h;
    v[n++] = &a->risk.h;
    v[n++] = &a->led.h;
    v[n++] = &a->acct.h;
    v[n++] = &a->cfg.h;
    return n;
}

struct loaded {
    int positions, orders, params, risks, aggs;
    struct qts_store_position pos[4];
    struct qts_store_order ord[4];
    struct qts_store_param par[4];
    struct qts_store_risk_config risk;
    struct qts_store_feedback_agg agg;
    union qts_store_any rows[8];
    int nrows;
};

static int on_state(void *arg, const struct qts_store_record *r)
{
    struct loaded *l = arg;
    switch (r->kind) {
    case QTS_REC_POSITION:
        if (l->positions < 4)
            memcpy(&l->pos[l->positions], r, sizeof l->pos[0]);
        l->positions++;
        break;
    case QTS_REC_ORDER:
        if (l->orders < 4)
            memcpy(&l->ord[l->orders], r, sizeof l->ord[0]);
        l->orders++;
        break;
    case QTS_REC_PARAM:
        if (l->params < 4)
            memcpy(&l->par[l->params], r, sizeof l->par[0]);
        l->params++;
        break;
    case QTS_REC_RISK_CONFIG:
        memcpy(&l->risk, r, sizeof l->risk);
        l->risks++;
        break;
    case QTS_REC_FEEDBACK_AGG:
        memcpy(&l->agg, r, sizeof l->agg);
        l->aggs++;
        break;
    default: fail_msg("unexpected record kind %u in load_state", r->kind);
    }
    return 0;
}

static int on_row(void *arg, const struct qts_store_record *r)
{
    struct loaded *l = arg;
    if (l->nrows < 8)
        memcpy(&l->rows[l->nrows], r, r->struct_size);
    l->nrows++;
    return 0;
}

static void check_state(const struct store_case_ctx *c, const struct qts_store_port *port)
{
    struct loaded *l = qts_xcalloc(1, sizeof *l);
    struct qts_store_load_opts o = {sizeof o, 2, 0, {0}, T0 + HOUR_NS, 0, ""};
    struct qts_err e;
    assert_int_equal(port->ops->load_state(port->self, &o, on_state, l, &e), 0);
    assert_int_equal(l->positions, 2);
    assert_string_equal(l->pos[0].symbol, "AAA");
    assert_string_equal(l->pos[0].strategy_type, "SCALP");
    assert_int_equal(l->pos[0].qty, 10);
    assert_int_equal(l->pos[0].avg_px, 10000);
    assert_int_equal(l->pos[0].exposure_value, 100000000);
    assert_true(fabs(l->pos[0].exposure_pct - 0.1) < 1e-12);
    assert_int_equal(l->pos[0].unrealized_pnl, QTS_STORE_NULL);
    assert_string_equal(l->pos[1].strategy_type, "NET");
    assert_true(isnan(l->pos[1].exposure_pct));
    /* only the working order, in its latest state */
    assert_int_equal(l->orders, 1);
    assert_int_equal(l->ord[0].order_id, 1);
    assert_int_equal(l->ord[0].state, QTS_OS_PARTIALLY_FILLED);
    assert_int_equal(l->ord[0].filled_qty, 2);
    assert_int_equal(l->ord[0].px, 10000);
    assert_int_equal(l->ord[0].decision_px, 10010);
    assert_string_equal(l->ord[0].client_order_id, "c-1");
    assert_string_equal(l->ord[0].tag, "scalp1");
    assert_int_equal(l->ord[0].ts_done_ns, QTS_STORE_NULL);
    assert_int_equal(l->ord[0].ts_sent_ns / 1000, T0 / 1000);
    /* parameters keyed by (strategy, name), the later value wins */
    assert_int_equal(l->params, 2);
    assert_string_equal(l->par[0].param_name, "fast");
    assert_string_equal(l->par[0].value, "13");
    assert_string_equal(l->par[0].value_type, "int");
    assert_string_equal(l->par[1].value, "26");
    assert_int_equal(l->risks, 1);
    assert_int_equal(l->risk.value, rescale(2500, 4, l->risk.exp));
    assert_int_equal(l->aggs, 1);
    assert_string_equal(l->agg.symbol, "AAA");
    assert_int_equal(l->agg.sample_count, 1);
    assert_true(fabs(l->agg.avg_quality_score - 0.5) < 1e-9);
    /* with a run id: only that run's rows (these were written without one) */
    memset(l, 0, sizeof *l);
    qts_strlcpy(o.run_id, "another-run", sizeof o.run_id);
    assert_int_equal(port->ops->load_state(port->self, &o, on_state, l, &e), 0);
    assert_int_equal(l->positions + l->orders + l->params + l->risks, 0);
    assert_int_equal(l->aggs, 1);
    free(l);
    (void)c;
}

void store_case_roundtrip(const struct store_case_ctx *c)
{
    struct all_records *a = qts_xcalloc(1, sizeof *a);
    build_all(a);
    struct qts_store_record *v[32];
    size_t n = all_list(a, v);

    /* through the real writer */
    char jpath[512];
    snprintf(jpath, sizeof jpath, "%s/roundtrip.journal", c->tmpdir);
    struct qts_store_writer_opts wo = {.journal_path = jpath, .queue_cap = 64, .batch_max = 8};
    struct qts_store_writer *w;
    struct qts_err e;
    assert_int_equal(qts_store_writer_new(c->port, &wo, &w, &e), 0);
    assert_int_equal(qts_store_writer_start(w, &e), 0);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(qts_store_writer_push(w, v[i], &v[i]->rec_id), 0);
    assert_int_equal(qts_store_writer_flush(w, 10000), 0);
    struct qts_store_writer_stats st;
    qts_store_writer_get_stats(w, &st);
    assert_int_equal(st.written, n);
    assert_int_equal(st.dead, 0);
    qts_store_writer_free(w);

    check_state(c, c->port);

    /* queries behind reports */
    struct loaded *l = qts_xcalloc(1, sizeof *l);
    struct qts_store_query q = {sizeof q, QTS_Q_TICKS, "AAA", "", T0, T0 + MIN_NS, 0, 2, 0, {0}};
    assert_int_equal(c->port->ops->query(c->port->self, &q, on_row, l, &e), 0);
    assert_int_equal(l->nrows, 2);
    assert_int_equal(l->rows[0].tick.px, 10050);
    assert_int_equal(l->rows[0].tick.qty, 3);
    assert_int_equal(l->rows[0].tick.bid, QTS_STORE_NULL);
    assert_int_equal(l->rows[0].h.ts_ns, T0);
    assert_string_equal(l->rows[0].tick.source, "test");
    assert_int_equal(l->rows[1].tick.tick_kind, QTS_TICK_QUOTE);
    assert_int_equal(l->rows[1].tick.bid, 10050);
    assert_int_equal(l->rows[1].tick.ask, 10052);
    memset(l, 0, sizeof *l);
    q.kind = QTS_Q_BARS_1M;
    qts_strlcpy(q.symbol, "BBB", sizeof q.symbol);
    assert_int_equal(c->port->ops->query(c->port->self, &q, on_row, l, &e), 0);
    assert_int_equal(l->nrows, 1);
    assert_int_equal(l->rows[0].bar.high, 120);
    assert_int_equal(l->rows[0].bar.volume, 42);
    assert_int_equal(l->rows[0].bar.n_trades, 7);
    memset(l, 0, sizeof *l);
    q.kind = QTS_Q_BARS_1D;
    q.from_ns = T0 - DAY_NS;
    assert_int_equal(c->port->ops->query(c->port->self, &q, on_row, l, &e), 0);
    assert_int_equal(l->nrows, 1);
    assert_int_equal(l->rows[0].bar.close, 110);
    memset(l, 0, sizeof *l);
    q.kind = QTS_Q_LEDGER;
    q.symbol[0] = '\0';
    assert_int_equal(c->port->ops->query(c->port->self, &q, on_row, l, &e), 0);
    assert_int_equal(l->nrows, 1);
    assert_int_equal(l->rows[0].ledger.qty, 5);
    assert_int_equal(l->rows[0].ledger.px, 10125);
    assert_int_equal(l->rows[0].ledger.amount, a->led.amount);
    assert_int_equal(l->rows[0].ledger.fee, 1500000);
    assert_int_equal(l->rows[0].ledger.realized_pnl, QTS_STORE_NULL);
    assert_string_equal(l->rows[0].ledger.strategy_tag, "scalp1");
    memset(l, 0, sizeof *l);
    q.kind = QTS_Q_FEEDBACK_SUMMARY;
    qts_strlcpy(q.symbol, "AAA", sizeof q.symbol);
    assert_int_equal(c->port->ops->query(c->port->self, &q, on_row, l, &e), 0);
    assert_int_equal(l->nrows, 1);
    assert_int_equal(l->rows[0].feedback_agg.sample_count, 1);
    assert_true(fabs(l->rows[0].feedback_agg.avg_slippage_bps - 114.885) < 1e-9);
    free(l);

    /* tables without a read operation: check the stored values */
    assert_int_equal(scalar_fixed(c, "SELECT qty FROM fills WHERE fill_id = 7", 0), 5);
    assert_int_equal(scalar_fixed(c, "SELECT price FROM fills WHERE fill_id = 7", 2), 10125);
    assert_int_equal(scalar_fixed(c, "SELECT fee FROM fills WHERE fill_id = 7", 2), 25);
    assert_string_equal(scalar(c, "SELECT side FROM fills"), "BUY");
    assert_int_equal(sc_scalar_i64(c, "SELECT count(*) FROM order_events WHERE order_id = 1"), 1);
    assert_string_equal(scalar(c, "SELECT reason FROM order_events"), "ok");
    assert_int_equal(scalar_fixed(c, "SELECT latency_ms FROM execution_logs", 3), 1234);
    assert_string_equal(scalar(c, "SELECT stage FROM execution_logs"), "PRECHECK");
    assert_string_equal(scalar(c, "SELECT error_code FROM execution_logs"), "");
    assert_int_equal(scalar_fixed(c, "SELECT fill_ratio FROM feedback_data", 3), 1000);
    assert_string_equal(scalar(c, "SELECT volatility_at_execution FROM feedback_data"), "");
    assert_int_equal(scalar_fixed(c, "SELECT decision_price FROM feedback_data", 2), 10010);
    assert_string_equal(scalar(c, "SELECT action FROM decision_log"), "BUY");
    assert_int_equal(scalar_fixed(c, "SELECT signal_confidence FROM decision_log", 2), 80);
    assert_int_equal(scalar_fixed(c, "SELECT total_equity FROM account_history", 0), 1000000);
    assert_string_equal(scalar(c, "SELECT cumulative_return FROM account_history"), "");
    assert_string_equal(
        scalar(c, "SELECT value FROM config WHERE key = 'ENGINE_LOOP_INTERVAL_SCALP'"), "1");
    assert_int_equal(scalar_fixed(c, "SELECT value FROM risk_configs", 4), 2500);

    /* exactly once: the same records again (a replay) change nothing, and a
     * stale upsert (older rec_id) does not roll state back */
    sc_write(c, (const struct qts_store_record *const *)v, n);
    assert_int_equal(sc_scalar_i64(c, "SELECT count(*) FROM tick_data"), 2);
    assert_int_equal(sc_scalar_i64(c, "SELECT count(*) FROM fills"), 1);
    assert_int_equal(sc_scalar_i64(c, "SELECT count(*) FROM order_events"), 1);
    assert_int_equal(sc_scalar_i64(c, "SELECT count(*) FROM execution_logs"), 1);
    assert_int_equal(sc_scalar_i64(c, "SELECT count(*) FROM feedback_data"), 1);
    assert_int_equal(sc_scalar_i64(c, "SELECT count(*) FROM decision_log"), 1);
    assert_int_equal(sc_scalar_i64(c, "SELECT count(*) FROM t_ledger"), 1);
    assert_int_equal(sc_scalar_i64(c, "SELECT count(*) FROM orders"), 2);
    struct qts_store_position stale = a->posa;
    stale.h.rec_id = a->posa.h.rec_id - 1;
    stale.qty = 99;
    const struct qts_store_record *sp = &stale.h;
    sc_write(c, &sp, 1);
    check_state(c, c->port);
    free(a);
}

struct qts_store_plugin *sc_plugin_open(const char *name, const char *const *kv)
{
    struct qts_store_plugin *plugin = NULL;
    struct qts_err e;
    if (qts_store_plugin_open(qts_test_plugin_dir(), name, kv, &plugin, &e) != 0)
        fail_msg("open %s: %s", name, e.msg);
    return plugin;
}

void sc_reopen(struct store_case_ctx *c, const char *extra_key, const char *extra_val)
{
    if (c->plugin)
        qts_store_plugin_close(c->plugin);
    c->plugin = c->open_host(c, "h1", extra_key, extra_val);
    c->port = qts_store_plugin_port(c->plugin);
}

int sc_teardown(void **state)
{
    struct store_case_ctx *c = *state;
    qts_store_plugin_close(c->plugin);
    qts_test_rmtree(c->tmpdir);
    free(c->tmpdir);
    free(c); /* the fixture it begins */
    *state = NULL;
    return 0;
}

void store_test_roundtrip(void **state) { store_case_roundtrip(*state); }

void store_test_warm_start(void **state)
{
    struct store_case_ctx *c = *state;
    store_case_roundtrip(c);
    sc_reopen(c, NULL, NULL);
    check_state(c, c->port);
}

void store_test_rollups(void **state) { store_case_rollups(*state); }

/* ----------------------------------------------------------- two hosts */

static int count_positions(void *arg, const struct qts_store_record *r)
{
    int *n = arg;
    if (r->kind == QTS_REC_POSITION) {
        const struct qts_store_position *p = (const void *)r;
        n[0]++;
        n[1] += (int)p->qty;
    }
    return 0;
}

void store_test_two_hosts(void **state)
{
    const struct store_case_ctx *c = *state;
    struct qts_store_plugin *other_host = c->open_host(c, "h2", NULL, NULL);
    const struct qts_store_port *other = qts_store_plugin_port(other_host);
    struct qts_store_position p[2];
    for (int i = 0; i < 2; i++) {
        HEAD(&p[i], QTS_REC_POSITION, T0);
        qts_strlcpy(p[i].symbol, "AAA", sizeof p[i].symbol);
        p[i].px_exp = 2;
        p[i].qty = i ? 7 : 3;
        p[i].avg_px = 100;
        p[i].exposure_value = QTS_STORE_NULL;
        p[i].unrealized_pnl = QTS_STORE_NULL;
        p[i].exposure_pct = NAN;
        p[i].h.rec_id = 1; /* the same record id on both hosts */
    }
    struct qts_store_tick t[2];
    sc_tick(&t[0], "AAA", T0, 100, 1);
    sc_tick(&t[1], "AAA", T0, 100, 1);
    t[0].h.rec_id = t[1].h.rec_id = 1;
    const struct qts_store_record *a[2] = {&p[0].h, &t[0].h}, *b[2] = {&p[1].h, &t[1].h};
    sc_write(c, a, 2);
    struct qts_err e;
    assert_int_equal(other->ops->write_batch(other->self, b, 2, &e), 0);
    assert_int_equal(sc_scalar_i64(c, "SELECT count(*) FROM positions"), 2);
    assert_int_equal(sc_scalar_i64(c, "SELECT count(*) FROM tick_data"), 2);
    struct qts_store_load_opts o = {sizeof o, 2, 0, {0}, T0, 0, ""};
    int n1[2] = {0, 0}, n2[2] = {0, 0};
    assert_int_equal(c->port->ops->load_state(c->port->self, &o, count_positions, n1, &e), 0);
    assert_int_equal(other->ops->load_state(other->self, &o, count_positions, n2, &e), 0);
    assert_int_equal(n1[0], 1);
    assert_int_equal(n1[1], 3);
    assert_int_equal(n2[0], 1);
    assert_int_equal(n2[1], 7);
    qts_store_plugin_close(other_host);
}

/* ----------------------------------------------------------- rollups */

void store_case_rollups(const struct store_case_ctx *c)
{
    enum { NT = 60 };
    struct qts_store_tick *t = qts_xcalloc(NT + 4, sizeof *t);
    const struct qts_store_record **v = qts_xcalloc(NT + 4, sizeof *v);
    const int64_t base = T0 + DAY_NS; /* away from the round-trip rows */
    uint64_t id = 1000;
    for (int i = 0; i < NT; i++) {
        /* 3 minutes x 2 symbols, prices wandering, times out of order */
        int64_t ts = base + (int64_t)((i * 37) % NT) * 3 * NS;
        sc_tick(&t[i], i % 2 ? "AAA" : "BBB", ts, 10000 + (i * 53) % 97, 1 + i % 5);
        t[i].h.rec_id = id++;
        v[i] = &t[i].h;
    }
    sc_write(c, v, NT);
    struct qts_store_ledger *l = qts_xcalloc(8, sizeof *l);
    const struct qts_store_record *lv[8];
    for (int i = 0; i < 8; i++) {
        sc_ledger(&l[i], i % 3 ? "AAA" : "BBB", base + (int64_t)i * 50 * MIN_NS,
                  i % 2 ? QTS_SIDE_SELL : QTS_SIDE_BUY, 1 + i, 10000 + i * 10,
                  i % 4 ? "scalp1" : "swing1", i % 2 ? (i - 3) * 1000000 : QTS_STORE_NULL);
        l[i].h.rec_id = id++;
        lv[i] = &l[i].h;
    }
    sc_write(c, lv, 8);
    struct qts_err e;
    if (c->port->ops->refresh_rollups(c->port->self, base + DAY_NS, &e) != 0)
        fail_msg("refresh_rollups: %s", e.msg);
    assert_true(sc_scalar_i64(c, "SELECT count(*) FROM ohlcv_1m WHERE symbol IN ('AAA','BBB')") >=
                6);
    assert_int_equal(sc_scalar_i64(c, c->sql_ohlcv_1m_mismatch), 0);
    assert_int_equal(sc_scalar_i64(c, c->sql_ohlcv_1d_mismatch), 0);
    assert_int_equal(sc_scalar_i64(c, c->sql_ledger_rollup_mismatch), 0);
    assert_true(sc_scalar_i64(c, "SELECT count(*) FROM hourly_pnl") >= 4);
    assert_true(sc_scalar_i64(c, "SELECT count(*) FROM daily_metrics") >= 1);
    assert_true(sc_scalar_i64(c, "SELECT count(*) FROM strategy_performance") >= 2);

    /* open/close follow tick time, not arrival order */
    struct loaded *res = qts_xcalloc(1, sizeof *res);
    struct qts_store_query q = {sizeof q, QTS_Q_BARS_1M, "AAA", "", base, base + MIN_NS, 0, 2, 0,
                                {0}};
    assert_int_equal(c->port->ops->query(c->port->self, &q, on_row, res, &e), 0);
    assert_int_equal(res->nrows, 1);
    int64_t first_t = INT64_MAX, last_t = INT64_MIN, open = 0, close = 0, vol = 0;
    for (int i = 0; i < NT; i++) {
        if (strcmp(t[i].symbol, "AAA") || t[i].h.ts_ns >= base + MIN_NS)
            continue;
        vol += t[i].qty;
        if (t[i].h.ts_ns < first_t) {
            first_t = t[i].h.ts_ns;
            open = t[i].px;
        }
        if (t[i].h.ts_ns > last_t) {
            last_t = t[i].h.ts_ns;
            close = t[i].px;
        }
    }
    assert_int_equal(res->rows[0].bar.open, open);
    assert_int_equal(res->rows[0].bar.close, close);
    assert_int_equal(res->rows[0].bar.volume, vol);
    free(res);

    /* the report query over the daily rollup */
    res = qts_xcalloc(1, sizeof *res);
    struct qts_store_query dq = {
        sizeof dq, QTS_Q_DAILY_METRICS, "", "", base - DAY_NS, base + 2 * DAY_NS, 0, 2, 0, {0}};
    assert_int_equal(c->port->ops->query(c->port->self, &dq, on_row, res, &e), 0);
    assert_true(res->nrows >= 1);
    int64_t trades = 0, fees = 0;
    for (int i = 0; i < res->nrows && i < 8; i++) {
        assert_int_equal(res->rows[i].h.kind, QTS_REC_DAILY_METRIC);
        trades += res->rows[i].daily_metric.trades;
        fees += res->rows[i].daily_metric.fees;
    }
    assert_int_equal(trades, 8);
    assert_int_equal(fees, 8 * 1500000);
    free(res);

    /* incremental: spoil an old bucket, add ticks to a later one; only the
     * later bucket is recomputed */
    scalar(c, c->sql_spoil_bucket);
    assert_int_equal(sc_scalar_i64(c, c->sql_spoiled_count), 1);
    struct qts_store_tick extra[2];
    sc_tick(&extra[0], "BBB", base + 2 * MIN_NS + 5 * NS, 20000, 9);
    sc_tick(&extra[1], "BBB", base + 2 * MIN_NS + 6 * NS, 5000, 1);
    extra[0].h.rec_id = id++;
    extra[1].h.rec_id = id++;
    const struct qts_store_record *ev[2] = {&extra[0].h, &extra[1].h};
    sc_write(c, ev, 2);
    if (c->port->ops->refresh_rollups(c->port->self, base + DAY_NS, &e) != 0)
        fail_msg("refresh_rollups: %s", e.msg);
    assert_int_equal(sc_scalar_i64(c, c->sql_spoiled_count), 1);
    assert_int_equal(sc_scalar_i64(c, c->sql_ohlcv_1m_mismatch), 1); /* just the spoiled one */
    assert_int_equal(sc_scalar_i64(c, c->sql_ohlcv_1d_mismatch), 0);
    free(t);
    free(v);
    free(l);
}

/* ----------------------------------------------------------- retention */

void store_case_retention(const struct store_case_ctx *c, int64_t now_ns)
{
    struct qts_store_tick t[3];
    struct qts_store_exec_log x[2];
    sc_tick(&t[0], "RET", now_ns - 10 * DAY_NS, 100, 1); /* past 7 days: dropped */
    sc_tick(&t[1], "RET", now_ns - DAY_NS, 100, 1);
    sc_tick(&t[2], "RET", now_ns + 2 * DAY_NS, 100, 1); /* ahead: partition exists */
    memset(x, 0, sizeof x);
    for (int i = 0; i < 2; i++) {
        x[i].h.struct_size = sizeof x[i];
        x[i].h.kind = QTS_REC_EXEC_LOG;
        qts_strlcpy(x[i].order_id, "r", sizeof x[i].order_id);
        qts_strlcpy(x[i].symbol, "RET", sizeof x[i].symbol);
        qts_strlcpy(x[i].stage, "SENDING", sizeof x[i].stage);
        x[i].latency_us = QTS_STORE_NULL;
    }
    x[0].h.ts_ns = now_ns - 100 * DAY_NS; /* past 90 days */
    x[1].h.ts_ns = now_ns - 10 * DAY_NS;  /* kept: execution logs live 90 days */
    const struct qts_store_record *v[5] = {&t[0].h, &t[1].h, &t[2].h, &x[0].h, &x[1].h};
    for (int i = 0; i < 5; i++)
        ((struct qts_store_record *)v[i])->rec_id = (uint64_t)(5000 + i);
    sc_write(c, v, 5);
    assert_int_equal(sc_scalar_i64(c, "SELECT count(*) FROM tick_data WHERE symbol = 'RET'"), 3);
    struct qts_err e;
    if (c->port->ops->maintain(c->port->self, now_ns, &e) < 0)
        fail_msg("maintain: %s", e.msg);
    assert_int_equal(sc_scalar_i64(c, "SELECT count(*) FROM tick_data WHERE symbol = 'RET'"), 2);
    assert_int_equal(sc_scalar_i64(c, "SELECT count(*) FROM execution_logs WHERE symbol = 'RET'"),
                     1);
    /* idempotent */
    assert_true(c->port->ops->maintain(c->port->self, now_ns, &e) >= 0);
    assert_int_equal(sc_scalar_i64(c, "SELECT count(*) FROM tick_data WHERE symbol = 'RET'"), 2);
}
