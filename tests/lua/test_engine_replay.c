/* test_engine_replay.c — the whole host in replay mode: synthetic feed
 * plugin -> book -> a real Lua strategy -> execution pipeline -> paper
 * broker plugin -> portfolio -> run directory. Checks determinism (two runs
 * give byte-identical files) and the accounting invariants. */
#include "engine_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "engine.h"
#include "log.h"
#include "portfolio.h"
#include "util.h"

static const char strategy_lua[] =
    "local M = {}\n"
    "function M.on_init(ctx, params) return { n = 0, every = tonumber(ctx:param('every')) or 300 } "
    "end\n"
    "function M.on_trade(ctx, st, t)\n"
    "  st.n = st.n + 1\n"
    "  if st.n % st.every ~= 0 then return end\n"
    "  local pos = ctx:position('BTCUSDT')\n"
    "  if (st.n / st.every) % 3 == 0 then\n"
    "    ctx:order{ symbol = 'BTCUSDT', side = pos > 0 and 'sell' or 'buy', qty = 0.02, type = "
    "'market' }\n"
    "  elseif pos <= 0.05 then ctx:buy('BTCUSDT', 0.01, t:price() * 1.0005)\n"
    "  else ctx:sell('BTCUSDT', 0.01, t:price() * 0.9995) end\n"
    "end\n"
    "return M\n";

static char *g_dir;
static int64_t g_exposure_cap; /* cash units; 0 = no check */

static void write_config(const char *name, const char *run_tag)
{
    qts_test_write_in(g_dir, "trader.lua", strategy_lua);
    char host_id[64];
    snprintf(host_id, sizeof host_id, "test-%s", run_tag);
    const struct qts_test_engine_yaml y = {
        .mode = "replay",
        .host_id = host_id,
        .body = QTS_TEST_YAML_BTCUSDT_SYNTHETIC
        "feeds:\n"
        "  - name: md\n"
        "    plugin: feed_synthetic\n"
        "    config: {symbols: [BTCUSDT], seed: 7, events: 30000, start_price: \"60000\","
        " px_exp: 2, qty_exp: 5}\n"
        "broker:\n"
        "  plugin: broker_paper\n"
        "  config: {seed: 3}\n"
        "account: {initial_cash: \"1000000\"}\n",
        .strategies =
            "    - {name: trader, file: trader.lua, symbols: [BTCUSDT], params: {every: 20}}\n",
    };
    qts_test_write_engine_yaml(g_dir, name, &y);
}

/* Runs the configuration into run_dir; checks invariants on the way out. */
static void run_once(const char *cfg_name, const char *run_dir, struct qts_engine_stats *st)
{
    qts_log_set_level(QTS_LOG_WARN); /* before the configuration sets it */
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", g_dir, cfg_name);
    struct qts_config *cfg;
    struct qts_engine *e = qts_test_engine_run(path, run_dir, st, &cfg);

    /* accounting invariants over the ledger, as the run streamed it */
    const struct qts_portfolio *pf = qts_engine_portfolio(e);
    struct qts_test_fill_row *led = NULL;
    const struct qts_position *p0 = qts_portfolio_position(pf, 0); /* the one instrument */
    size_t n = qts_test_read_fills(run_dir, p0 ? p0->qty_exp : 0, &led);
    assert_int_equal(n, st->fills);
    assert_int_equal(qts_portfolio_n_fills(pf), n);
    int64_t pos = 0, fees = 0, cash = qts_portfolio_initial_cash(pf);
    for (size_t i = 0; i < n; i++) {
        int64_t signed_qty = led[i].side == 1 ? led[i].qty : -led[i].qty;
        int64_t signed_cash = led[i].side == 1 ? -led[i].notional : led[i].notional;
        pos += signed_qty;
        fees += led[i].fee;
        cash += signed_cash - led[i].fee;
        assert_int_equal(led[i].pos_after, pos);   /* position = sum of signed fills */
        assert_int_equal(led[i].cash_after, cash); /* cash moves by notional and fee */
    }
    free(led);
    assert_int_equal(qts_portfolio_fees(pf), fees); /* fees sum */
    assert_int_equal(qts_portfolio_cash(pf), cash);
    const struct qts_position *p = qts_portfolio_position(pf, 0);
    int64_t mv = 0;
    if (p) {
        assert_int_equal(p->qty, pos);
        mv = qts_cash_notional(qts_portfolio_last_px(pf, 0), p->px_exp, p->qty, p->qty_exp);
    }
    if (g_exposure_cap) /* budget taken at order prices; the mark may drift a little */
        assert_true(qts_portfolio_gross_exposure(pf) <= g_exposure_cap + g_exposure_cap / 20);
    /* equity = cash + position x price */
    assert_int_equal(qts_portfolio_equity(pf), qts_portfolio_cash(pf) + mv);
    qts_engine_free(e);
    qts_config_unref(cfg);
}

static void test_replay_is_deterministic_and_accounts(void **state)
{
    (void)state;
    write_config("a.yaml", "x");
    char run1[1024], run2[1024];
    snprintf(run1, sizeof run1, "%s/run1", g_dir);
    snprintf(run2, sizeof run2, "%s/run2", g_dir);
    struct qts_engine_stats s1, s2;
    run_once("a.yaml", run1, &s1);
    run_once("a.yaml", run2, &s2);
    assert_int_equal(s1.events, 30000);
    assert_true(s1.intents > 50);
    assert_true(s1.fills > 20);
    assert_int_equal(s1.fills, s2.fills);
    assert_int_equal(s1.equity, s2.equity);
    static const char *const files[] = {"fills.csv", "equity.csv", "summary.json", "report.html",
                                        "trades.csv"};
    qts_test_expect_same_files(run1, run2, files, QTS_ARRAY_LEN(files));
}

/* The real Binance capture (trades, bookTicker, depth) through ema_cross and
 * the market maker with the paper broker: the accounting invariants hold at
 * every fill and the run is deterministic. */
static void test_binance_capture_through_examples(void **state)
{
    (void)state;
    const char *f1 = qts_test_data_path("binance/spot_btcusdt_20240808.gz");
    const char *f2 = qts_test_data_path("binance/spot_btcusdt_20240809.gz");
    if (!f1 || !f2) {
        fprintf(stderr, "skipped: ../shared/data/binance is absent\n");
        skip();
    }
    char body[2048], strategies_dir[1024];
    snprintf(body, sizeof body,
             "instruments:\n"
             "  - {symbol: BTCUSDT, venue: binance, px_exp: 2, qty_exp: 8, tick_size: \"0.01\","
             " lot_size: \"0.00001\", min_qty: \"0.00001\"}\n"
             "feeds:\n"
             "  - name: capture\n"
             "    plugin: feed_replay\n"
             "    config: {files: \"%s,%s\", format: binance, symbols: \"BTCUSDT:2:8\"}\n"
             "broker: {plugin: broker_paper, config: {seed: 5}}\n"
             "account: {initial_cash: \"1000000\"}\n",
             f1, f2);
    snprintf(strategies_dir, sizeof strategies_dir, "%s/strategies", qts_test_source_dir());
    const struct qts_test_engine_yaml y = {
        .mode = "replay",
        .host_id = "binance-test",
        .body = body,
        .strategies_dir = strategies_dir,
        .strategies = "    - {name: ema, file: ema_cross.lua, symbols: [BTCUSDT],"
                      " params: {symbol: BTCUSDT, fast: 10, slow: 40, qty: 0.01}}\n"
                      "    - {name: mm, file: market_maker.lua, symbols: [BTCUSDT],"
                      " params: {symbol: BTCUSDT, qty: 0.001, half_spread: 2,"
                      " max_position: 0.005}}\n",
    };
    qts_test_write_engine_yaml(g_dir, "binance.yaml", &y);
    char run1[1024], run2[1024];
    snprintf(run1, sizeof run1, "%s/bn1", g_dir);
    snprintf(run2, sizeof run2, "%s/bn2", g_dir);
    struct qts_engine_stats s1, s2;
    run_once("binance.yaml", run1, &s1);
    fprintf(stderr, "binance replay: %llu events, %llu orders, %llu fills\n",
            (unsigned long long)s1.events, (unsigned long long)s1.intents,
            (unsigned long long)s1.fills);
    assert_true(s1.events > 50000);
    assert_true(s1.fills > 10);
    assert_int_equal(s1.book_errors, 0);
    run_once("binance.yaml", run2, &s2);
    assert_int_equal(s1.fills, s2.fills);
    assert_int_equal(s1.equity, s2.equity);
    char pa[1100], pb[1100];
    snprintf(pa, sizeof pa, "%s/fills.csv", run1);
    snprintf(pb, sizeof pb, "%s/fills.csv", run2);
    char *a = qts_test_read_file(pa), *b = qts_test_read_file(pb);
    assert_non_null(a);
    assert_non_null(b);
    assert_string_equal(a, b);
    free(a);
    free(b);
}

/* A shared exposure budget (shared_budget.key, through the cache tier): the
 * host never holds more exposure than the budget; orders past it are
 * rejected with GR119. */
static void test_shared_budget_caps_exposure(void **state)
{
    (void)state;
    write_config("budget.yaml", "b");
    char path[1024];
    snprintf(path, sizeof path, "%s/budget.yaml", g_dir);
    FILE *f = fopen(path, "a");
    assert_non_null(f);
    fputs("cache: {plugin: cache_memory}\n"
          "risk: {pool: swing}\n"
          "shared_budget: {key: acct, limit: \"1500\"}\n",
          f);
    fclose(f);
    char run[1024];
    snprintf(run, sizeof run, "%s/budget-run", g_dir);
    struct qts_engine_stats st;
    g_exposure_cap = 1500LL * 1000000;
    run_once("budget.yaml", run, &st);
    g_exposure_cap = 0;
    assert_true(st.intents > 50);
    assert_true(st.rejected > 0);
    assert_true(st.fills > 0);
}

QTS_TEST_MAIN_TMPDIR(g_dir, test_replay_is_deterministic_and_accounts,
                     test_binance_capture_through_examples, test_shared_budget_caps_exposure)
