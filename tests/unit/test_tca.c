/* test_tca.c — transaction-cost analysis with hand-computed values: the
 * spec's slippage example and quality-score vectors, one order followed
 * from decision to its markouts on a fake timer service, rolling
 * summaries, the pre-trade adjustments and the CSV output. */
#include "test_support.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "exec_pipeline.h"
#include "impact_model.h"
#include "order.h"
#include "tca.h"
#include "timer_svc.h"
#include "util.h"

#define MS 1000000LL
#define SEC 1000000000LL
#define T0 (INT64_C(1723161600) * SEC)

static bool near(double a, double b, double eps) { return fabs(a - b) <= eps; }

static void test_formulas(void **state)
{
    (void)state;
    /* spec §7.3: BUY at 75 000 filled at 75 050 -> 6.67 bps; SELL mirrors */
    assert_true(near(qts_tca_slippage_bps(QTS_SIDE_BUY, 75000, 75050), 6.6667, 1e-4));
    assert_true(near(qts_tca_slippage_bps(QTS_SIDE_SELL, 75000, 74950), 6.6667, 1e-4));
    assert_true(near(qts_tca_slippage_bps(QTS_SIDE_SELL, 75000, 75050), -6.6667, 1e-4));
    assert_true(qts_tca_slippage_bps(QTS_SIDE_BUY, 0, 75050) == 0);
    /* spec §7.4 v1 vectors: (slip, partial = 1 - fill_ratio, latency) */
    struct {
        double s, partial, lat, want;
    } v[] = {
        {0, 0, 0, 1.0},    {100, 1.0, 2000, 0.0}, {25, 0, 0, 0.75},
        {50, 0, 0, 0.50},  {0, 1.0, 0, 0.70},     {0, 0, 1000, 0.80},
        {-10, 0, 0, 0.90}, {8, 0.05, 45, 0.896},  {8.5, 0, 45.2, 0.906},
    };
    for (size_t i = 0; i < QTS_ARRAY_LEN(v); i++) {
        double q = qts_tca_quality_v1(v[i].s, 1 - v[i].partial, v[i].lat, 0.5, 0.3, 0.2);
        if (!near(q, v[i].want, 5e-4))
            fail_msg("vector %zu: %.6f != %.3f", i, q, v[i].want);
    }
    /* no fills: no latency, scored as the worst latency (never as perfect) */
    assert_true(near(qts_tca_quality_v1(0, 0, NAN, 0.5, 0.3, 0.2), 0.5, 1e-12));
    /* v2 sample: slip 8.5, latency 45.2, fill 100 %, impact 3.2 -> 0.959 */
    struct qts_tca_params p;
    qts_tca_params_default(&p);
    assert_true(near(qts_tca_quality_v2(8.5, 1.0, 45.2, 3.2, &p), 0.959, 5e-4));
}

/* ------------------------------------------------------------ one order */

struct fx {
    struct qts_clock clock;
    struct qts_timer_svc timers;
    struct qts_impact_model *model;
    struct qts_tca *tca;
    struct qts_parent parent;
    struct qts_child child;
    struct qts_child *children[1];
    int rows_seen;
    struct qts_tca_row last;
};

static const struct qts_parent *fx_parent(void *ctx, uint64_t id)
{
    struct fx *f = ctx;
    return id == f->parent.order_id ? &f->parent : NULL;
}

static double fx_depth(void *ctx, uint32_t inst, int side)
{
    (void)ctx;
    (void)inst;
    return side == QTS_SIDE_SELL ? 3.5 : 1.25;
}

static void fx_row(void *ctx, const struct qts_tca_row *r)
{
    struct fx *f = ctx;
    f->rows_seen++;
    f->last = *r;
}

static struct qts_instrument inst0(void)
{
    struct qts_instrument in;
    memset(&in, 0, sizeof in);
    in.struct_size = sizeof in;
    in.id = 0;
    qts_strlcpy(in.symbol, "BTCUSDT", sizeof in.symbol);
    in.px_exp = 2;
    in.qty_exp = 3;
    in.tick_size = 1;
    in.lot_size = 1;
    in.min_qty = 1;
    return in;
}

static void fx_init(struct fx *f, const struct qts_tca_params *p)
{
    memset(f, 0, sizeof *f);
    qts_clock_init(&f->clock, QTS_CLOCK_VIRTUAL);
    qts_clock_advance_to(&f->clock, T0);
    assert_int_equal(qts_fake_timers_new(&f->clock, &f->timers), 0);
    f->model = qts_impact_new(NULL);
    struct qts_tca_env env = {.timers = &f->timers,
                              .model = f->model,
                              .parent = fx_parent,
                              .depth5 = fx_depth,
                              .on_row = fx_row,
                              .ctx = f};
    f->tca = qts_tca_new(p, &env);
    struct qts_instrument in = inst0();
    qts_tca_add_instrument(f->tca, &in);
    f->children[0] = &f->child;
    f->parent.children = f->children;
    f->parent.n_children = 1;
}

static void fx_free(struct fx *f)
{
    qts_tca_free(f->tca);
    qts_impact_free(f->model);
    qts_timer_svc_free(&f->timers);
}

static void advance_to(struct fx *f, int64_t ts)
{
    qts_fake_timers_advance(&f->timers, ts - qts_clock_now(&f->clock));
}

/* A quote (a = bid, b = ask) or a trade (a = px, b = qty) at ts, seen by
 * the TCA with the touch bid/ask. */
static void market(struct fx *f, uint16_t type, int64_t ts, int64_t a, int64_t b, int64_t bid,
                   int64_t ask)
{
    advance_to(f, ts);
    struct qts_quote q;
    struct qts_trade t;
    struct qts_ev_hdr *h = type == QTS_EV_QUOTE ? &q.h : &t.h;
    qts_test_event(h, type == QTS_EV_QUOTE ? sizeof q : sizeof t, type, 0, ts);
    if (type == QTS_EV_QUOTE) {
        q.bid_px = a;
        q.ask_px = b;
    } else {
        t.px = a;
        t.qty = b;
    }
    qts_tca_on_market(f->tca, h, bid, ask, ts);
}

static void quote(struct fx *f, int64_t ts, int64_t bid, int64_t ask)
{
    market(f, QTS_EV_QUOTE, ts, bid, ask, bid, ask);
}

static void trade(struct fx *f, int64_t ts, int64_t px, int64_t qty, int64_t bid, int64_t ask)
{
    market(f, QTS_EV_TRADE, ts, px, qty, bid, ask);
}

static void fill(struct fx *f, uint64_t id, int64_t ts, int64_t px, int64_t qty, int side)
{
    advance_to(f, ts);
    struct qts_fill x;
    memset(&x, 0, sizeof x);
    x.h.struct_size = sizeof x;
    x.h.type = QTS_EV_FILL;
    x.h.ts_exch_ns = ts;
    x.order_id = id;
    x.side = (uint8_t)side;
    x.px = px;
    x.qty = qty;
    qts_tca_on_fill(f->tca, &x, ts);
}

static void final(struct fx *f, uint64_t id, int64_t ts, int kind)
{
    advance_to(f, ts);
    struct qts_order_event ev;
    memset(&ev, 0, sizeof ev);
    ev.order_id = id;
    ev.kind = (uint8_t)kind;
    qts_tca_on_order(f->tca, &ev, ts);
}

static void submit(struct fx *f, uint64_t id, int side, int type, int64_t px, int64_t qty,
                   int64_t ts)
{
    f->parent.order_id = id;
    f->parent.state = QTS_XS_MONITORING;
    f->parent.adjust_rounds = 0;
    f->child.role = QTS_CHILD_SLICE;
    f->child.ts_first_send_ns = ts;
    struct qts_order_intent in;
    memset(&in, 0, sizeof in);
    in.struct_size = sizeof in;
    in.strategy_id = 3;
    in.instrument = 0;
    in.side = (uint8_t)side;
    in.type = (uint8_t)type;
    in.px = px;
    in.qty = qty;
    in.ts_decision_ns = ts;
    qts_strlcpy(in.tag, "t1", sizeof in.tag);
    qts_tca_on_submit(f->tca, id, &in, ts);
}

static void test_one_order_end_to_end(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f, NULL);
    quote(&f, T0, 7499000, 7501000);                           /* mid 75 000.00 */
    trade(&f, T0 + 100 * MS, 7499000, 500, 7499000, 7501000);  /* 0.5 */
    trade(&f, T0 + 200 * MS, 7501000, 1500, 7499000, 7501000); /* 1.5 */
    int64_t t1 = T0 + 300 * MS;
    submit(&f, 11, QTS_SIDE_BUY, QTS_ORD_MARKET, 0, 1000, t1); /* buy 1.000 */
    quote(&f, t1 + 2 * MS, 7500000, 7502000);                  /* mid moves after the send */
    fill(&f, 11, t1 + 5 * MS, 7505000, 400, QTS_SIDE_BUY);
    fill(&f, 11, t1 + 8 * MS, 7505000, 600, QTS_SIDE_BUY);
    final(&f, 11, t1 + 8 * MS, QTS_OE_COMPLETE);
    assert_int_equal(f.rows_seen, 0);           /* markouts still to come */
    quote(&f, t1 + 500 * MS, 7509000, 7511000); /* mid 75 100 */
    advance_to(&f, t1 + 30 * SEC);
    assert_int_equal(f.rows_seen, 0);
    advance_to(&f, t1 + 61 * SEC);
    assert_int_equal(f.rows_seen, 1);
    const struct qts_tca_row *r = &f.last;
    assert_true(r->order_id == 11 && r->strategy_id == 3 && r->final_kind == QTS_OE_COMPLETE);
    assert_string_equal(r->symbol, "BTCUSDT");
    assert_true(r->aggressive && r->all_taker);
    assert_true(near(r->decision_px, 75000, 1e-9));
    assert_true(near(r->arrival_px, 75000, 1e-9)); /* mid when the child was sent */
    assert_true(near(r->avg_fill_px, 75050, 1e-9));
    assert_true(near(r->slip_decision_bps, 50.0 / 75000 * 1e4, 1e-9));
    assert_true(near(r->slip_arrival_bps, 50.0 / 75000 * 1e4, 1e-9));
    assert_true(near(r->lat_first_ms, 5, 1e-9));
    assert_true(near(r->lat_complete_ms, 8, 1e-9));
    assert_true(near(r->avg_fill_latency_ms, 6.5, 1e-9));
    assert_true(near(r->fill_ratio, 1, 1e-12));
    assert_int_equal(r->n_children, 1);
    assert_int_equal(r->n_fills, 2);
    /* markouts: mid 75 100 after each fill at 75 050 -> +50/75 050 */
    for (int k = 0; k < QTS_TCA_MARKOUTS; k++)
        assert_true(near(r->markout_bps[k], 50.0 / 75050 * 1e4, 1e-9));
    assert_true(near(r->spread_bps, 20.0 / 75000 * 1e4, 1e-9));
    assert_true(near(r->depth, 3.5, 1e-12)); /* asks for a buy */
    assert_true(near(r->volatility, 20.0 / 75000, 1e-12));
    assert_true(near(r->recent_volume, 2.0, 1e-12));
    assert_true(near(r->participation, 0.5, 1e-12));
    /* realized impact: mid 5 s after the end vs decision */
    assert_true(near(r->realized_impact_bps, 100.0 / 75000 * 1e4, 1e-9));
    /* predicted at decision with the defaults: spread/2 + 10*spread*sqrt(0.5) */
    double sp = 20.0 / 75000 * 1e4;
    assert_true(r->pred_default);
    assert_true(near(r->pred_slip_bps, sp / 2 + 10 * sp * sqrt(0.5), 1e-9));
    double q = 0.5 * (1 - r->slip_decision_bps / 50) + 0.3 + 0.2 * (1 - 6.5 / 1000);
    assert_true(near(r->quality, q, 1e-12));
    /* rolling summary over that one row */
    struct qts_feedback_summary s;
    struct qts_tca_filter flt = {.instrument = 0, .strategy_id = 0, .algo = -1};
    qts_tca_summary(f.tca, &flt, t1 + 61 * SEC, &s);
    assert_int_equal(s.sample_count, 1);
    assert_int_equal(s.is_default, 0);
    assert_true(near(s.avg_slippage_bps, r->slip_decision_bps, 1e-12));
    assert_true(near(s.avg_quality_score, q, 1e-12));
    flt.strategy_id = 4; /* another strategy: nothing, defaults */
    qts_tca_summary(f.tca, &flt, t1 + 61 * SEC, &s);
    assert_int_equal(s.sample_count, 0);
    assert_int_equal(s.is_default, 1);
    assert_true(s.avg_slippage_bps == 10.0 && s.avg_market_impact_bps == 15.0 &&
                s.avg_quality_score == 0.75 && s.avg_fill_latency_ms == 50.0 &&
                s.avg_fill_ratio == 0.95);
    flt.strategy_id = 0; /* outside the lookback: nothing */
    qts_tca_summary(f.tca, &flt, t1 + 61 * SEC + 25 * 3600 * SEC, &s);
    assert_int_equal(s.sample_count, 0);
    fx_free(&f);
}

static void test_unfilled_and_finish(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f, NULL);
    quote(&f, T0, 7499000, 7501000);
    /* a passive limit 3 ticks below the bid, cancelled unfilled after 2 s */
    submit(&f, 21, QTS_SIDE_BUY, QTS_ORD_LIMIT, 7498700, 1000, T0 + MS);
    final(&f, 21, T0 + 2 * SEC, QTS_OE_CANCELLED);
    advance_to(&f, T0 + 10 * SEC);
    assert_int_equal(f.rows_seen, 1);
    assert_false(f.last.aggressive);
    assert_true(near(f.last.dist_ticks, 300, 1e-9));
    assert_true(isnan(f.last.slip_decision_bps) && isnan(f.last.avg_fill_latency_ms));
    assert_true(isnan(f.last.markout_bps[0]));
    assert_true(f.last.fill_ratio == 0);
    assert_true(near(f.last.quality, 0.5 * 0 + 0.3 * 0 + 0.2 * 0, 1e-12));
    /* the passive order taught the fill-probability estimate (1 s horizon) */
    const struct qts_impact_fit *fit = qts_impact_get(f.model, "BTCUSDT");
    assert_non_null(fit);
    assert_true(fit->fp_n[5][0] == 1 && fit->fp_k[5][0] == 0);
    /* a filled order still waiting for markouts is closed by finish */
    submit(&f, 22, QTS_SIDE_SELL, QTS_ORD_MARKET, 0, 1000, T0 + 11 * SEC);
    fill(&f, 22, T0 + 11 * SEC + MS, 7499000, 1000, QTS_SIDE_SELL);
    final(&f, 22, T0 + 11 * SEC + MS, QTS_OE_COMPLETE);
    advance_to(&f, T0 + 12 * SEC + 10 * MS);
    assert_int_equal(f.rows_seen, 1);
    qts_tca_finish(f.tca);
    assert_int_equal(f.rows_seen, 2);
    assert_false(isnan(f.last.markout_bps[0]));
    assert_true(isnan(f.last.markout_bps[1]) && isnan(f.last.markout_bps[2]));
    /* slippage of a sell at the bid against mid 75 000: 10/75 000 */
    assert_true(near(f.last.slip_decision_bps, 10.0 / 75000 * 1e4, 1e-9));
    /* rows not streamed are dropped once complete: tca.csv gets the header */
    char *dir = qts_test_tmpdir();
    char path[1024];
    snprintf(path, sizeof path, "%s/sub/tca.csv", dir);
    struct qts_err err;
    assert_int_equal(qts_tca_held_rows(f.tca), 0);
    assert_int_equal(qts_tca_csv_start(f.tca, path, &err), 0);
    assert_int_equal(qts_tca_csv_finish(f.tca, &err), 0);
    FILE *fp = fopen(path, "r");
    char line[4096];
    int n = 0;
    while (fgets(line, sizeof line, fp))
        n++;
    fclose(fp);
    assert_int_equal(n, 1);
    qts_test_rmtree(dir);
    free(dir);
    fx_free(&f);
}

static void test_pretrade_adjustments(void **state)
{
    (void)state;
    struct qts_tca_params p;
    qts_tca_params_default(&p);
    p.adjust_orders = true;
    p.markout_ns[0] = p.markout_ns[1] = p.markout_ns[2] = 0; /* rows finish at once */
    p.impact_horizon_ns = 0;
    struct fx f;
    fx_init(&f, &p);
    quote(&f, T0, 7499000, 7501000);
    trade(&f, T0 + MS, 7500000, 100000, 7499000, 7501000); /* volume 100 */
    struct qts_instrument in = inst0();
    struct qts_order_intent it;
    memset(&it, 0, sizeof it);
    it.instrument = 0;
    it.side = QTS_SIDE_BUY;
    it.type = QTS_ORD_LIMIT;
    it.px = 7500000;
    it.qty = 1000;
    struct qts_precheck_order o = {.intent = &it, .inst = &in, .now_ns = T0 + 2 * MS};
    assert_int_equal(qts_tca_precheck(f.tca, &o, NULL), 0);
    assert_true(it.px == 7500000 && it.qty == 1000); /* no samples: unchanged */
    /* five buys, each 10 bps above the decision mid (75 000 -> 75 075) */
    for (uint64_t i = 0; i < 5; i++) {
        int64_t ts = T0 + (int64_t)(i + 1) * SEC;
        submit(&f, 100 + i, QTS_SIDE_BUY, QTS_ORD_MARKET, 0, 1000, ts);
        fill(&f, 100 + i, ts + MS, 7507500, 1000, QTS_SIDE_BUY);
        final(&f, 100 + i, ts + MS, QTS_OE_COMPLETE);
    }
    assert_int_equal(f.rows_seen, 5);
    it.px = 7500000;
    it.qty = 1000;
    o.now_ns = T0 + 10 * SEC;
    assert_int_equal(qts_tca_precheck(f.tca, &o, NULL), 0);
    assert_true(it.px == 7507500); /* 75 000 x (1 + 10/1e4) */
    /* a size whose predicted impact exceeds 20 bps is scaled by 20/impact */
    double imp = 0;
    qts_tca_expected_slippage(f.tca, 0, 50.0, &imp, NULL);
    assert_true(imp > 20);
    it.px = 7500000;
    it.qty = 50000;
    assert_int_equal(qts_tca_precheck(f.tca, &o, NULL), 0);
    assert_true(it.qty == (int64_t)(50000 * 20 / imp));
    fx_free(&f);
}

/* Column `col` (0-based) of every data line of a CSV file, as numbers. */
static size_t csv_col(const char *path, int col, uint64_t *out, size_t cap)
{
    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    char line[4096];
    size_t n = 0;
    for (int ln = 0; fgets(line, sizeof line, fp); ln++) {
        if (ln == 0)
            continue;
        char *p = line;
        for (int c = 0; c < col; c++)
            p = strchr(p, ',') + 1;
        if (n < cap)
            out[n] = strtoull(p, NULL, 10);
        n++;
    }
    fclose(fp);
    return n;
}

/* Rows reach tca.csv while the run goes on, in the order their orders
 * became final even when a younger row's markouts come in first, and only
 * the rows still waiting are held. */
static void test_rows_streamed_in_final_order(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f, NULL);
    char *dir = qts_test_tmpdir();
    char path[1024], tmp[1100];
    snprintf(path, sizeof path, "%s/run/tca.csv", dir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    struct qts_err err;
    assert_int_equal(qts_tca_csv_start(f.tca, path, &err), 0);
    quote(&f, T0, 7499000, 7501000);
    /* order 31 filled (markouts until +60 s), then 32 cancelled unfilled
     * (complete after the 5 s impact horizon): 32 completes first */
    submit(&f, 31, QTS_SIDE_BUY, QTS_ORD_MARKET, 0, 1000, T0 + MS);
    fill(&f, 31, T0 + 2 * MS, 7501000, 1000, QTS_SIDE_BUY);
    final(&f, 31, T0 + 2 * MS, QTS_OE_COMPLETE);
    submit(&f, 32, QTS_SIDE_BUY, QTS_ORD_LIMIT, 7490000, 1000, T0 + 3 * MS);
    final(&f, 32, T0 + 4 * MS, QTS_OE_CANCELLED);
    advance_to(&f, T0 + 10 * SEC);
    assert_int_equal(f.rows_seen, 1);
    assert_int_equal(f.last.order_id, 32);
    assert_int_equal(qts_tca_held_rows(f.tca), 2); /* 32 waits behind 31 */
    assert_true(access(tmp, F_OK) != 0); /* nothing due yet: no file */
    uint64_t ids[8];
    advance_to(&f, T0 + 61 * SEC);
    assert_int_equal(f.rows_seen, 2);
    assert_int_equal(qts_tca_held_rows(f.tca), 0);
    assert_int_equal(csv_col(tmp, 0, ids, 8), 2); /* written during the run */
    assert_true(ids[0] == 31 && ids[1] == 32);
    /* many more orders: memory stays at the rows in flight */
    for (uint64_t id = 100; id < 400; id++) {
        int64_t t = T0 + 62 * SEC + (int64_t)(id - 100) * SEC;
        submit(&f, id, QTS_SIDE_SELL, QTS_ORD_LIMIT, 7510000, 1000, t);
        final(&f, id, t + MS, QTS_OE_CANCELLED);
    }
    assert_true(qts_tca_held_rows(f.tca) <= 6); /* the last 5 s of rows */
    assert_int_equal(qts_tca_final_rows(f.tca), 302);
    qts_tca_finish(f.tca);
    assert_int_equal(qts_tca_csv_finish(f.tca, &err), 0);
    uint64_t all[400];
    assert_int_equal(csv_col(path, 0, all, 400), 302);
    for (size_t i = 2; i < 302; i++)
        assert_true(all[i] == 98 + i);
    assert_true(access(tmp, F_OK) != 0);
    qts_test_rmtree(dir);
    free(dir);
    fx_free(&f);
}

/* The summaries look at the newest max_rows rows only (a ring). */
static void test_summary_ring(void **state)
{
    (void)state;
    struct qts_tca_params p;
    qts_tca_params_default(&p);
    p.max_rows = 4;
    p.markout_ns[0] = p.markout_ns[1] = p.markout_ns[2] = 0;
    p.impact_horizon_ns = 0;
    struct fx f;
    fx_init(&f, &p);
    quote(&f, T0, 7499000, 7501000);
    for (uint64_t id = 1; id <= 10; id++) {
        int64_t t = T0 + (int64_t)id * SEC;
        submit(&f, id, QTS_SIDE_BUY, QTS_ORD_MARKET, 0, 1000, t);
        /* the last four fill 1 tick worse than the rest */
        fill(&f, id, t + MS, id > 6 ? 7501100 : 7501000, 1000, QTS_SIDE_BUY);
        final(&f, id, t + MS, QTS_OE_COMPLETE);
    }
    struct qts_feedback_summary s;
    struct qts_tca_filter flt = {.instrument = UINT32_MAX, .strategy_id = 0, .algo = -1};
    qts_tca_summary(f.tca, &flt, T0 + 11 * SEC, &s);
    assert_int_equal(s.sample_count, 4);
    assert_true(near(s.avg_slippage_bps, 11.0 / 75000 * 1e4, 1e-9));
    assert_int_equal(qts_tca_held_rows(f.tca), 0);
    fx_free(&f);
}

QTS_TEST_MAIN(test_formulas, test_one_order_end_to_end, test_unfilled_and_finish,
              test_pretrade_adjustments, test_rows_streamed_in_final_order, test_summary_ring)
