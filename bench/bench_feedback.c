/* bench_feedback.c — execution feedback:
 *  1. hot-path cost of recording execution events in the TCA: a fill
 *     (price, latency, three markout timers on the fake timer service) and
 *     a market event (mid history, recent-volume window);
 *  2. prediction error of the learned slippage model on the real Binance
 *     BTCUSDT spot capture (../shared/data/binance) replayed through the
 *     whole host with the paper broker: median absolute error of predicted
 *     against realized slippage (aggressive orders, against the arrival
 *     mid), in bps and in ticks. Skipped with a JSON note when the data is
 *     absent;
 *  3. the loop's pay-off on the same capture: an aggressive strategy whose
 *     market orders (0.2 to 3 BTC) walk the book, priced by the paper
 *     venue with an impact law of 50 * (q/V)^0.5 bps on top of the walk
 *     (the capture's own book is too deep for such orders to cost more than
 *     a tenth of a bps), run twice in the same
 *     benchmark, with the feedback decisions off (algo direct) and on
 *     (algo "auto": the host splits what it predicts to be costly):
 *     implementation shortfall in bps and USDT, fill ratio, share of orders
 *     adjusted, median absolute prediction error in ticks after warm-up. */
#include "bench.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "config.h"
#include "engine.h"
#include "impact_model.h"
#include "log.h"
#include "tca.h"
#include "test_lua_strategy.h"
#include "timer_svc.h"
#include "util.h"

#define SEC 1000000000LL

static void bench_hot_path(void)
{
    struct qts_clock clk;
    qts_clock_init(&clk, QTS_CLOCK_VIRTUAL);
    int64_t t = INT64_C(1723161600) * SEC;
    qts_clock_advance_to(&clk, t);
    struct qts_timer_svc timers;
    qts_fake_timers_new(&clk, &timers);
    struct qts_impact_model *m = qts_impact_new(NULL);
    struct qts_tca_env env = {.timers = &timers, .model = m};
    struct qts_tca *tca = qts_tca_new(NULL, &env);
    struct qts_instrument in;
    memset(&in, 0, sizeof in);
    in.struct_size = sizeof in;
    qts_strlcpy(in.symbol, "BTCUSDT", sizeof in.symbol);
    in.px_exp = 2;
    in.qty_exp = 8;
    in.tick_size = 1;
    qts_tca_add_instrument(tca, &in);
    struct qts_trade tr;
    qts_bench_event_init(&tr.h, sizeof tr, QTS_EV_TRADE, 2, 8);
    struct qts_order_intent oi;
    memset(&oi, 0, sizeof oi);
    oi.side = QTS_SIDE_BUY;
    oi.type = QTS_ORD_MARKET;
    oi.qty = INT64_MAX / 4;
    qts_tca_on_market(tca, &tr.h, 6000000, 6000001, t);
    qts_tca_on_submit(tca, 1, &oi, t);
    struct qts_fill f;
    memset(&f, 0, sizeof f);
    f.h.struct_size = sizeof f;
    f.order_id = 1;
    f.side = QTS_SIDE_BUY;
    f.px = 6000001;
    f.qty = 1000;
    enum { N = 200000 };
    struct qts_bench_samples sf, sm;
    qts_bench_samples_init(&sf, N);
    qts_bench_samples_init(&sm, N);
    for (int i = 0; i < N; i++) {
        t += 1000000;                              /* 1 ms of data per step */
        qts_fake_timers_advance(&timers, 1000000); /* markouts fire here, not timed */
        tr.h.ts_exch_ns = t;
        tr.px = 6000000 + (i & 7);
        tr.qty = 100000 + i % 13;
        int64_t a = qts_mono_ns();
        qts_tca_on_market(tca, &tr.h, 6000000 + (i & 7), 6000001 + (i & 7), t);
        int64_t b = qts_mono_ns();
        f.h.ts_exch_ns = t;
        f.fill_id = (uint64_t)i;
        qts_tca_on_fill(tca, &f, t);
        int64_t c = qts_mono_ns();
        qts_bench_add(&sm, b - a);
        qts_bench_add(&sf, c - b);
    }
    qts_bench_report_latency("feedback_record_fill", &sf,
                             "\"what\":\"qts_tca_on_fill incl. 3 markout timers\"");
    qts_bench_report_latency("feedback_record_market", &sm,
                             "\"what\":\"qts_tca_on_market, a trade\"");
    qts_bench_samples_free(&sf);
    qts_bench_samples_free(&sm);
    qts_tca_free(tca);
    qts_impact_free(m);
    qts_timer_svc_free(&timers);
}

static const char strategy_lua[] =
    "local M = {}\n"
    "local SIZES = { 0.0005, 0.001, 0.002, 0.004, 0.008 }\n"
    "function M.on_init(ctx, params) return { n = 0, k = 0 } end\n" QTS_TEST_LUA_ON_TRADE_EVERY_40TH
    "  ctx:order{ symbol = 'BTCUSDT', side = pos >= q and 'sell' or "
    "'buy', qty = q, type = 'market' }\n"
    "end\n"
    "return M\n";

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, size_t n)
{
    if (!n)
        return NAN;
    qsort(v, n, sizeof *v, cmp_dbl);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void bench_binance(const char *shared, const char *plugins)
{
    char a[1024], b[1024];
    snprintf(a, sizeof a, "%s/data/binance/spot_btcusdt_20240808.gz", shared);
    snprintf(b, sizeof b, "%s/data/binance/spot_btcusdt_20240809.gz", shared);
    if (access(a, R_OK) != 0 || access(b, R_OK) != 0) {
        printf("{\"bench\":\"feedback_prediction_binance\",\"skipped\":\"../shared/data/binance "
               "absent\"}\n");
        return;
    }
    char dir[] = "/tmp/qts-bench-feedback-XXXXXX";
    if (!mkdtemp(dir))
        return;
    char path[1300], yaml[4096];
    snprintf(path, sizeof path, "%s/trader.lua", dir);
    qts_bench_write_file(path, strategy_lua);
    snprintf(
        yaml, sizeof yaml,
        "mode: replay\nhost_id: bench-feedback\nlog: {level: error}\n"
        "paths: {var_dir: %s/var}\nplugins: {dir: %s}\n"
        "instruments:\n  - {symbol: BTCUSDT, venue: binance, px_exp: 2, qty_exp: 8,"
        " tick_size: \"0.01\", lot_size: \"0.00001\", min_qty: \"0.00001\"}\n"
        "feeds:\n  - {name: md, plugin: feed_replay, config: {files: \"%s,%s\","
        " symbols: \"BTCUSDT:2:8\"}}\n"
        "broker: {plugin: broker_paper, config: {seed: 1}}\n"
        "account: {initial_cash: \"1000000\"}\n"
        "feedback: {save: false}\n"
        "strategies: {dir: %s, list: [{name: trader, file: trader.lua, symbols: [BTCUSDT]}]}\n",
        dir, plugins, a, b, dir);
    snprintf(path, sizeof path, "%s/qts.yaml", dir);
    qts_bench_write_file(path, yaml);
    struct qts_config *cfg = NULL;
    struct qts_diags d;
    qts_diags_init(&d);
    int rc = qts_config_load(path, &cfg, &d);
    qts_diags_cleanup(&d);
    char run[1100];
    snprintf(run, sizeof run, "%s/run", dir);
    struct qts_engine_opts opts = {.run_dir = run};
    struct qts_engine *e = NULL;
    struct qts_err err;
    qts_err_clear(&err);
    if (rc == 0)
        rc = qts_engine_new(cfg, &opts, &e, &err);
    if (rc == 0)
        rc = qts_engine_run(e, &err);
    if (rc != 0) {
        printf("{\"bench\":\"feedback_prediction_binance\",\"error\":\"%s\"}\n", err.msg);
        qts_engine_free(e);
        qts_config_unref(cfg);
        return;
    }
    qts_engine_free(e);
    qts_config_unref(cfg);
    /* tca.csv columns: 8 aggressive, 10 qty_filled, 12 arrival_px,
     * 19 slip_arrival_bps, 36 pred_slip_bps, 38 pred_default, 42 tick */
    snprintf(path, sizeof path, "%s/tca.csv", run);
    FILE *f = fopen(path, "r");
    char line[8192];
    size_t cap = 1024, n = 0, n_all = 0;
    double *eb = malloc(cap * sizeof *eb), *et = malloc(cap * sizeof *et);
    double sum_real = 0, sum_pred = 0;
    while (f && fgets(line, sizeof line, f)) {
        if (line[0] == 'o')
            continue;
        char *fld[64];
        int k = 0;
        for (char *p = line; p && k < 64;) {
            fld[k++] = p;
            p = strchr(p, ',');
            if (p)
                *p++ = '\0';
        }
        if (k < 43 || atoi(fld[8]) != 1 || !(atof(fld[10]) > 0) || !*fld[19] || !*fld[36])
            continue;
        n_all++;
        if (atoi(fld[38]) != 0)
            continue; /* the first orders, predicted with the defaults */
        double real = atof(fld[19]), pred = atof(fld[36]);
        double err_bps = fabs(pred - real);
        if (n == cap) {
            cap *= 2;
            eb = realloc(eb, cap * sizeof *eb);
            et = realloc(et, cap * sizeof *et);
        }
        eb[n] = err_bps;
        et[n] = err_bps * atof(fld[12]) / 1e4 / atof(fld[42]);
        sum_real += real;
        sum_pred += pred;
        n++;
    }
    if (f)
        fclose(f);
    char extra[512];
    snprintf(extra, sizeof extra,
             "\"orders\":%zu,\"median_abs_err_bps\":%.6f,\"mean_realized_bps\":%.6f,"
             "\"mean_predicted_bps\":%.6f,"
             "\"data\":\"binance spot BTCUSDT 2024-08-08/09, paper broker\"",
             n_all, median(eb, n), n ? sum_real / (double)n : NAN, n ? sum_pred / (double)n : NAN);
    double mb = median(eb, n), mt = median(et, n);
    qts_bench_report_value("feedback_pred_median_abs_err", "bps", mb, n, extra);
    qts_bench_report_value("feedback_pred_median_abs_err", "ticks", mt, n, "\"aim\":0.5");
    free(eb);
    free(et);
    char cmd[1300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
}

static const char walker_lua[] =
    "local M = {}\n"
    "local SIZES = { 0.2, 3.0, 0.5, 2.0, 1.0 }\n"
    "function M.on_init(ctx, params) return { n = 0, k = 0, algo = params.algo } end\n"
    "function M.on_trade(ctx, st, t)\n"
    "  st.n = st.n + 1\n"
    "  if st.n % 400 ~= 0 then return end\n"
    "  st.k = st.k + 1\n"
    "  local q = SIZES[(st.k - 1) % #SIZES + 1]\n"
    "  local pos = ctx:position('BTCUSDT')\n"
    "  ctx:order{ symbol = 'BTCUSDT', side = pos > 0 and 'sell' or 'buy', qty = q,\n"
    "             type = 'market', algo = st.algo }\n"
    "end\n"
    "return M\n";

/* One replay of the capture with the walker; its run directory in run. */
static int run_walker(const char *dir, const char *a, const char *b, const char *plugins,
                      const char *algo, char *run, size_t run_cap)
{
    char path[1300], yaml[4096];
    snprintf(path, sizeof path, "%s/walker.lua", dir);
    qts_bench_write_file(path, walker_lua);
    snprintf(yaml, sizeof yaml,
             "mode: replay\nhost_id: bench-fbloop\nlog: {level: error}\n"
             "paths: {var_dir: %s/var-%s}\nplugins: {dir: %s}\n"
             "instruments:\n  - {symbol: BTCUSDT, venue: binance, px_exp: 2, qty_exp: 8,"
             " tick_size: \"0.01\", lot_size: \"0.00001\", min_qty: \"0.00001\"}\n"
             "feeds:\n  - {name: md, plugin: feed_replay, config: {files: \"%s,%s\","
             " symbols: \"BTCUSDT:2:8\"}}\n"
             "broker: {plugin: broker_paper, config: {seed: 1, allow_short: true,"
             " impact_model: power, impact_coef_bps: 50, impact_exponent: 0.5}}\n"
             "account: {initial_cash: \"100000000\"}\n"
             "feedback: {save: false}\n"
             "strategies: {dir: %s, list: [{name: walker, file: walker.lua, symbols: [BTCUSDT],"
             " params: {algo: %s}}]}\n",
             dir, algo, plugins, a, b, dir, algo);
    snprintf(path, sizeof path, "%s/qts-%s.yaml", dir, algo);
    qts_bench_write_file(path, yaml);
    struct qts_config *cfg = NULL;
    struct qts_diags d;
    qts_diags_init(&d);
    int rc = qts_config_load(path, &cfg, &d);
    qts_diags_cleanup(&d);
    snprintf(run, run_cap, "%s/run-%s", dir, algo);
    struct qts_engine_opts opts = {.run_dir = run};
    struct qts_engine *e = NULL;
    struct qts_err err;
    qts_err_clear(&err);
    if (rc == 0)
        rc = qts_engine_new(cfg, &opts, &e, &err);
    if (rc == 0)
        rc = qts_engine_run(e, &err);
    if (rc != 0)
        printf("{\"bench\":\"feedback_loop_binance\",\"error\":\"%s\"}\n", err.msg);
    qts_engine_free(e);
    qts_config_unref(cfg);
    return rc;
}

/* A growing array of doubles (medians). */
struct dvec {
    double *v;
    size_t n, cap;
};

static void dvec_add(struct dvec *d, double x)
{
    if (d->n == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 256;
        d->v = realloc(d->v, d->cap * sizeof *d->v);
    }
    d->v[d->n++] = x;
}

/* The venue's own impact law in this benchmark (broker_paper impact_model power). */
#define VENUE_K 50.0
#define VENUE_BETA 0.5

struct loop_stats {
    size_t orders, adjusted;
    double asked, filled, is_money, is_notional; /* USDT; shortfall, filled notional at decision */
    struct dvec err_ticks;  /* |predicted - realized| after warm-up, every filled order */
    struct dvec err_direct; /* the same, orders sent as one taking order */
    struct dvec err_split;  /* the same, parents split into slices (TWAP, iceberg) */
    /* the same-run limit: the venue's own law k (q/V)^beta + spread/2 with
     * the host's q, V and spread, on the direct orders */
    struct dvec lim_direct;
    struct dvec tick_bps; /* one tick in bps at each order's arrival */
};

/* The figures of one run from its tca.csv and decisions.csv. */
static void loop_stats(const char *run, struct loop_stats *st)
{
    memset(st, 0, sizeof *st);
    char path[1300], line[8192];
    snprintf(path, sizeof path, "%s/tca.csv", run);
    FILE *f = fopen(path, "r");
    while (f && fgets(line, sizeof line, f)) {
        if (line[0] == 'o')
            continue;
        char *fld[64];
        int k = 0;
        for (char *p = line; p && k < 64;) {
            fld[k++] = p;
            p = strchr(p, ',');
            if (p)
                *p++ = '\0';
        }
        if (k < 43)
            continue;
        /* 4 side, 9 qty_asked, 10 qty_filled, 11 decision_px, 12 arrival_px,
         * 13 avg_fill_px, 19 slip_arrival_bps, 36 pred_slip_bps, 38 pred_default, 42 tick */
        double asked = atof(fld[9]), filled = atof(fld[10]), dec = atof(fld[11]);
        st->orders++;
        st->asked += asked;
        st->filled += filled;
        if (filled > 0 && dec > 0 && *fld[13]) {
            double sgn = strcmp(fld[4], "sell") == 0 ? -1 : 1;
            st->is_money += sgn * (atof(fld[13]) - dec) * filled;
            st->is_notional += dec * filled;
        }
        /* 24 children, 30 spread_bps, 33 recent_volume */
        if (filled > 0 && atoi(fld[38]) == 0 && *fld[19] && *fld[36] && atof(fld[42]) > 0) {
            double per_tick = atof(fld[12]) / 1e4 / atof(fld[42]); /* ticks per bps */
            double real = atof(fld[19]), e = fabs(atof(fld[36]) - real) * per_tick;
            dvec_add(&st->err_ticks, e);
            dvec_add(&st->tick_bps, 1 / per_tick);
            if (atoi(fld[24]) <= 1) {
                dvec_add(&st->err_direct, e);
                double v = atof(fld[33]), sp = atof(fld[30]);
                if (v > 0 && isfinite(sp)) {
                    double venue = sp / 2 + VENUE_K * pow(filled / v, VENUE_BETA);
                    dvec_add(&st->lim_direct, fabs(venue - real) * per_tick);
                }
            } else {
                dvec_add(&st->err_split, e);
            }
        }
    }
    if (f)
        fclose(f);
    /* an order adjusted = the feedback stage changed it (split, shrunk,
     * deferred, repriced); "algo auto: direct" leaves it as asked */
    snprintf(path, sizeof path, "%s/decisions.csv", run);
    f = fopen(path, "r");
    while (f && fgets(line, sizeof line, f))
        if (strstr(line, ",feedback,") && !strstr(line, "\"algo auto: direct\""))
            st->adjusted++;
    if (f)
        fclose(f);
}

static void bench_loop(const char *shared, const char *plugins)
{
    char a[1024], b[1024];
    snprintf(a, sizeof a, "%s/data/binance/spot_btcusdt_20240808.gz", shared);
    snprintf(b, sizeof b, "%s/data/binance/spot_btcusdt_20240809.gz", shared);
    if (access(a, R_OK) != 0 || access(b, R_OK) != 0) {
        printf("{\"bench\":\"feedback_loop_binance\",\"skipped\":\"../shared/data/binance "
               "absent\"}\n");
        return;
    }
    char dir[] = "/tmp/qts-bench-fbloop-XXXXXX";
    if (!mkdtemp(dir))
        return;
    char run_off[1100], run_on[1100];
    struct loop_stats off, on;
    if (run_walker(dir, a, b, plugins, "direct", run_off, sizeof run_off) == 0 &&
        run_walker(dir, a, b, plugins, "auto", run_on, sizeof run_on) == 0) {
        loop_stats(run_off, &off);
        loop_stats(run_on, &on);
        double is_off = off.is_notional > 0 ? off.is_money / off.is_notional * 1e4 : NAN;
        double is_on = on.is_notional > 0 ? on.is_money / on.is_notional * 1e4 : NAN;
        double fr_off = off.asked > 0 ? off.filled / off.asked : NAN;
        double fr_on = on.asked > 0 ? on.filled / on.asked : NAN;
        char extra[1024];
        snprintf(
            extra, sizeof extra,
            "\"off_bps\":%.4f,\"on_bps\":%.4f,\"reduction_pct\":%.2f,"
            "\"off_usdt\":%.2f,\"on_usdt\":%.2f,\"orders_off\":%zu,\"orders_on\":%zu,"
            "\"aim_reduction_pct\":20,"
            "\"data\":\"binance spot BTCUSDT 2024-08-08/09, paper broker, market orders "
            "0.2-3 BTC every 400 trades, venue impact 50 (q/V)^0.5 bps on top of the book walk\"",
            is_off, is_on, (1 - is_on / is_off) * 100, off.is_money, on.is_money, off.orders,
            on.orders);
        qts_bench_report_value("feedback_loop_shortfall", "bps", is_on, on.orders, extra);
        snprintf(extra, sizeof extra,
                 "\"off\":%.4f,\"on\":%.4f,\"loss_pct\":%.2f,\"aim_loss_pct\":5", fr_off, fr_on,
                 (1 - fr_on / fr_off) * 100);
        qts_bench_report_value("feedback_loop_fill_ratio", "ratio", fr_on, on.orders, extra);
        snprintf(extra, sizeof extra, "\"adjusted\":%zu,\"orders\":%zu", on.adjusted, on.orders);
        qts_bench_report_value("feedback_loop_adjusted_share", "ratio",
                               on.orders ? (double)on.adjusted / (double)on.orders : NAN, on.orders,
                               extra);
        /* the prediction error beside the same-run limit (docs/feedback.md,
         * "Benchmarks"): direct orders are one taking order, as the model
         * predicts; a split parent's realized cost includes the drift of
         * the price over its slices */
        snprintf(extra, sizeof extra,
                 "\"off_run\":%.4f,\"aim\":0.5,\"on_direct\":%.4f,\"n_on_direct\":%zu,"
                 "\"on_split\":%.4f,\"n_on_split\":%zu,\"off_direct\":%.4f,"
                 "\"limit_off_direct\":%.4f,\"limit_on_direct\":%.4f,\"tick_bps\":%.6f,"
                 "\"limit\":\"the venue's own law %g (q/V)^%g + spread/2 with the host's q, V, "
                 "spread\"",
                 median(off.err_ticks.v, off.err_ticks.n), median(on.err_direct.v, on.err_direct.n),
                 on.err_direct.n, median(on.err_split.v, on.err_split.n), on.err_split.n,
                 median(off.err_direct.v, off.err_direct.n),
                 median(off.lim_direct.v, off.lim_direct.n),
                 median(on.lim_direct.v, on.lim_direct.n), median(off.tick_bps.v, off.tick_bps.n),
                 VENUE_K, VENUE_BETA);
        qts_bench_report_value("feedback_loop_pred_median_abs_err", "ticks",
                               median(on.err_ticks.v, on.err_ticks.n), on.err_ticks.n, extra);
        struct loop_stats *all[] = {&off, &on};
        for (int i = 0; i < 2; i++) {
            free(all[i]->err_ticks.v);
            free(all[i]->err_direct.v);
            free(all[i]->err_split.v);
            free(all[i]->lim_direct.v);
            free(all[i]->tick_bps.v);
        }
    }
    char cmd[1300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
}

int main(void)
{
    qts_log_set_level(QTS_LOG_ERROR);
    bench_hot_path();
    const char *shared = getenv("QTS_SHARED_DIR");
    if (!shared)
        shared = QTS_BENCH_SHARED_DIR;
    const char *plugins = getenv("QTS_PLUGIN_DIR");
    if (!plugins)
        plugins = QTS_BENCH_PLUGIN_DIR;
    bench_binance(shared, plugins);
    bench_loop(shared, plugins);
    return 0;
}
