/* test_feedback_replay.c — the feedback loop through the whole host:
 * synthetic feed -> Lua strategy (market orders of several sizes, reading
 * ctx:feedback in on_feedback) -> execution pipeline -> paper broker with a
 * known impact law -> TCA -> impact model. The fitted law must converge to
 * the configured one; the model persists and is restored; the paper broker
 * can then run on the learned law and the host re-learns the same law; the
 * run directory gets tca.csv and a TCA section in summary.json and
 * report.html, byte-identical across identical runs. */
#include "engine_test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "engine.h"
#include "impact_model.h"
#include "test_lua_strategy.h"
#include "util.h"

/* Truth configured in the paper broker. */
#define TRUE_K 40.0
#define TRUE_BETA 0.6

static const char strategy_lua[] =
    "local M = {}\n"
    "local SIZES = { 0.0001, 0.0002, 0.0004, 0.0008, 0.0016 }\n"
    "function M.on_init(ctx, params) return { n = 0, k = 0, fb = 0, tag = 'fb0_0' } end\n"
    "function M.on_feedback(ctx, st, ev)\n"
    "  st.fb = st.fb + 1\n"
    "  local f = assert(ctx:feedback(ev.instrument, { qty = 0.0004, distance = 0, horizon = 10 "
    "}))\n"
    "  assert(f.symbol == 'BTCUSDT' and f.samples >= 1 and not f.is_default)\n"
    "  assert(f.expected_slippage_bps >= f.expected_impact_bps)\n"
    "  assert(f.fill_prob >= 0 and f.fill_prob <= 1)\n"
    "  st.tag = string.format('fb%d_%d', math.min(f.samples, 999), f.model_fitted and 1 or 0)\n"
    "end\n" QTS_TEST_LUA_ON_TRADE_EVERY_40TH
    "  ctx:order{ symbol = 'BTCUSDT', side = pos >= q and 'sell' or 'buy', qty = q,\n"
    "             type = 'market', tag = st.tag }\n"
    "end\n"
    "return M\n";

static char *g_dir;

static void write_config(const char *name, const char *broker_extra, const char *feedback)
{
    qts_test_write_in(g_dir, "fbtrader.lua", strategy_lua);
    char body[2048];
    snprintf(body, sizeof body,
             QTS_TEST_YAML_BTCUSDT_SYNTHETIC
             "feeds:\n"
             "  - name: md\n"
             "    plugin: feed_synthetic\n"
             "    config: {symbols: BTCUSDT, seed: 11, events: 60000, start_price: \"60000\","
             " px_exp: 2, qty_exp: 5}\n"
             "broker:\n"
             "  plugin: broker_paper\n"
             "  config: {seed: 5, %s}\n"
             "account: {initial_cash: \"1000000\"}\n"
             "feedback: {%s}\n",
             broker_extra, feedback);
    const struct qts_test_engine_yaml y = {
        .mode = "replay",
        .host_id = "fbtest",
        .body = body,
        .strategies = "    - {name: fbtrader, file: fbtrader.lua, symbols: [BTCUSDT]}\n",
    };
    qts_test_write_engine_yaml(g_dir, name, &y);
}

static void run_once(const char *cfg_name, const char *run_dir, struct qts_engine_stats *st)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", g_dir, cfg_name);
    struct qts_config *cfg;
    struct qts_engine *e = qts_test_engine_run(path, run_dir, st, &cfg);
    qts_engine_free(e);
    qts_config_unref(cfg);
}

static const struct qts_impact_fit *load_fit(struct qts_impact_model *m)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/var/feedback/impact_model.txt", g_dir);
    struct qts_err err;
    assert_int_equal(qts_impact_load(m, path, &err), 0);
    const struct qts_impact_fit *f = qts_impact_get(m, "BTCUSDT");
    assert_non_null(f);
    return f;
}

/* Value of column `col` (0-based) in tca.csv data line `line` (1-based). */
static void csv_field(const char *text, int line, int col, char *out, size_t cap)
{
    const char *p = text;
    for (int i = 0; i < line && p; i++) {
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    assert_non_null(p);
    for (int c = 0; c < col; c++) {
        p = strchr(p, ',');
        assert_non_null(p);
        p++;
    }
    size_t n = strcspn(p, ",\n");
    snprintf(out, cap, "%.*s", (int)(n < cap ? n : cap - 1), p);
}

static size_t count_lines(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

static void test_convergence_persistence_and_reports(void **state)
{
    (void)state;
    char broker[256];
    snprintf(broker, sizeof broker, "impact_model: power, impact_coef_bps: %g, impact_exponent: %g",
             TRUE_K, TRUE_BETA);
    write_config("a.yaml", broker, "enabled: true");
    char run1[1024], run2[1024];
    snprintf(run1, sizeof run1, "%s/run1", g_dir);
    snprintf(run2, sizeof run2, "%s/run2", g_dir);
    struct qts_engine_stats s1, s2;
    run_once("a.yaml", run1, &s1);
    assert_true(s1.fills > 100);

    /* the fitted law converges to the configured one */
    struct qts_impact_model *m = qts_impact_new(NULL);
    const struct qts_impact_fit *f = load_fit(m);
    fprintf(stderr, "fit: n=%.0f k=%.4f beta=%.4f resid_sd=%.4f (truth k=%g beta=%g)\n", f->n, f->k,
            f->beta, f->resid_sd, TRUE_K, TRUE_BETA);
    assert_true(f->fitted);
    assert_true(f->n >= 100);
    assert_true(fabs(f->k / TRUE_K - 1) < 0.05);   /* k within 5 % */
    assert_true(fabs(f->beta - TRUE_BETA) < 0.02); /* beta within 0.02 */
    double k1 = f->k, b1 = f->beta;
    qts_impact_free(m);

    /* tca.csv: one row per order; strategies saw on_feedback with a fitted model */
    char p[1200];
    snprintf(p, sizeof p, "%s/tca.csv", run1);
    char *tca = qts_test_read_file(p);
    assert_non_null(tca);
    size_t rows = count_lines(tca) - 1;
    assert_true(rows + 2 >= s1.intents && rows <= s1.intents);
    char tag[64], pdef[16];
    csv_field(tca, (int)rows, 3, tag, sizeof tag);
    fprintf(stderr, "last tag: %s\n", tag);
    assert_true(strncmp(tag, "fb", 2) == 0 && tag[strlen(tag) - 1] == '1');
    csv_field(tca, 1, 38, pdef, sizeof pdef); /* first order predicted with defaults */
    assert_string_equal(pdef, "1");

    /* the summary and the HTML report carry the TCA section */
    snprintf(p, sizeof p, "%s/summary.json", run1);
    char *sum1 = qts_test_read_file(p);
    assert_non_null(strstr(sum1, "\"tca\": {"));
    assert_non_null(strstr(sum1, "\"by_symbol\""));
    assert_non_null(strstr(sum1, "\"by_strategy\": [{\"strategy_id\": 1, "));
    snprintf(p, sizeof p, "%s/report.html", run1);
    char *html1 = qts_test_read_file(p);
    assert_non_null(strstr(html1, "Transaction costs"));

    /* same input, model not restored in replay: byte-identical outputs */
    run_once("a.yaml", run2, &s2);
    static const char *const files[] = {"tca.csv", "summary.json", "report.html"};
    qts_test_expect_same_files(run1, run2, files, QTS_ARRAY_LEN(files));

    /* restored at start: the first order already uses the learned law */
    write_config("b.yaml", broker, "load: true, save: false");
    char run3[1024];
    snprintf(run3, sizeof run3, "%s/run3", g_dir);
    struct qts_engine_stats s3;
    run_once("b.yaml", run3, &s3);
    snprintf(p, sizeof p, "%s/tca.csv", run3);
    char *tca3 = qts_test_read_file(p);
    csv_field(tca3, 1, 38, pdef, sizeof pdef);
    assert_string_equal(pdef, "0");

    /* the paper broker on the learned law: the host learns it back */
    char learned[1400];
    snprintf(learned, sizeof learned,
             "impact_model: learned, impact_file: %s/var/feedback/impact_model.txt", g_dir);
    char model_copy[1200];
    snprintf(model_copy, sizeof model_copy, "model_file: %s/var/feedback/relearned.txt", g_dir);
    write_config("c.yaml", learned, model_copy);
    char run4[1024];
    snprintf(run4, sizeof run4, "%s/run4", g_dir);
    struct qts_engine_stats s4;
    run_once("c.yaml", run4, &s4);
    struct qts_impact_model *m2 = qts_impact_new(NULL);
    snprintf(p, sizeof p, "%s/var/feedback/relearned.txt", g_dir);
    struct qts_err err;
    assert_int_equal(qts_impact_load(m2, p, &err), 0);
    const struct qts_impact_fit *f2 = qts_impact_get(m2, "BTCUSDT");
    assert_non_null(f2);
    fprintf(stderr, "relearned: k=%.4f beta=%.4f (from k=%.4f beta=%.4f)\n", f2->k, f2->beta, k1,
            b1);
    assert_true(fabs(f2->k / k1 - 1) < 0.05);
    assert_true(fabs(f2->beta - b1) < 0.02);
    qts_impact_free(m2);
    free(tca);
    free(tca3);
    free(sum1);
    free(html1);
}

QTS_TEST_MAIN_TMPDIR(g_dir, test_convergence_persistence_and_reports)
