/* test_report.c — run directory output: the files exist, summary.json
 * carries the statistics, report.html is self-contained, and the same input
 * gives byte-identical files (also through `qts report`). */
#include "test_support.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "portfolio.h"
#include "qts/qts_err.h"
#include "report.h"
#include "util.h"

#define DAY 86400000000000LL

/* <dir>/<name> (owned: free), NULL when unreadable; its length to *len. */
static char *slurp(const char *dir, const char *name, size_t *len)
{
    char path[2100];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return qts_test_read_file_len(path, len);
}

static void fill(struct qts_portfolio *pf, int64_t ts, uint32_t strat, int side, int64_t px,
                 int64_t qty, int64_t fee)
{
    struct qts_fill f;
    memset(&f, 0, sizeof f);
    f.h.struct_size = sizeof f;
    f.h.instrument = 7;
    f.h.px_exp = 2;
    f.h.qty_exp = 3;
    f.h.ts_exch_ns = ts;
    f.order_id = (uint64_t)ts;
    f.fill_id = 1;
    f.strategy_id = strat;
    f.side = (uint8_t)side;
    f.px = px;
    f.qty = qty;
    f.fee = fee;
    snprintf(f.tag, sizeof f.tag, "%s", strat == 1 ? "ema,x" : "mr<1>");
    assert_int_equal(qts_portfolio_apply_fill(pf, &f), 0);
}

static struct qts_run_files g_files; /* the streamed files of the run under test */

/* Strategy 1 is named, 2 is not (a name the host does not know). */
static const char *strategy_name(void *ctx, uint32_t id)
{
    (void)ctx;
    return id == 1 ? "ema" : NULL;
}

/* 40 days, one mark a day, a long and a short round trip; rows stream into
 * dir as they happen. */
static struct qts_portfolio *scripted(const char *dir)
{
    struct qts_portfolio *pf = qts_portfolio_new(10000000000LL); /* 10 000 */
    qts_run_files_attach(&g_files, dir, pf);
    g_files.strategy_name = strategy_name;
    qts_portfolio_set_symbol(pf, 7, "BTCUSDT");
    for (int d = 0; d < 40; d++) {
        int64_t ts = (int64_t)d * DAY + 1700000000000000000LL;
        int64_t px = 10000 + (d % 7) * 150 - (d / 10) * 40;
        qts_portfolio_mark(pf, 7, px, 2);
        if (d == 3)
            fill(pf, ts, 1, QTS_SIDE_BUY, px, 20000, 200000);
        if (d == 6)
            fill(pf, ts, 1, QTS_SIDE_SELL, px, 20000, 200000);
        if (d == 15)
            fill(pf, ts, 2, QTS_SIDE_SELL, px, 5000, 50000);
        if (d == 30)
            fill(pf, ts, 2, QTS_SIDE_BUY, px, 5000, 50000);
        qts_portfolio_sample(pf, ts);
    }
    return pf;
}

static const char *FILES[] = {"run.csv",    "equity.csv",     "prices.csv",   "fills.csv",
                              "trades.csv", "strategies.csv", "summary.json", "report.html"};

static void test_run_directory(void **state)
{
    (void)state;
    char *tmp = qts_test_tmpdir();
    char d1[1024], d2[1024];
    snprintf(d1, sizeof d1, "%s/runs/a", tmp);
    snprintf(d2, sizeof d2, "%s/runs/b", tmp);
    struct qts_portfolio *pf = scripted(d1);
    struct qts_report_meta meta;
    qts_report_meta_default(&meta);
    meta.title = "scripted <run>";
    struct qts_err err;
    qts_err_clear(&err);
    assert_int_equal(qts_run_files_finish(&g_files, &meta, &err), 0);
    qts_portfolio_free(pf);

    char *sum = slurp(d1, "summary.json", NULL);
    assert_non_null(sum);
    QTS_ASSERT_HAS(sum, "\"title\": \"scripted <run>\"", "\"fills\": 4, \"trades\": 2",
                   "\"cagr\": ");
    assert_null(strstr(sum, "\"cagr\": null")); /* 39 days >= 30 */
    assert_non_null(strstr(sum, "\"strategy_id\": 2, \"realized\""));
    assert_non_null(strstr(sum, "\"strategy_id\": 1, \"name\": \"ema\", \"realized\""));
    /* strategy 1 sold higher than it bought; strategy 2 covered higher */
    QTS_ASSERT_HAS(sum, "\"trades\": 1, \"wins\": 1, \"win_rate\": 1,",
                   "\"trades\": 1, \"wins\": 0, \"win_rate\": 0,", "\"win_rate\": 0.5,",
                   "\"fees\": 0.500000");
    free(sum);

    char *html = slurp(d1, "report.html", NULL);
    assert_non_null(html);
    /* no external resource of any kind: uPlot is inlined */
    QTS_ASSERT_LACKS(html, "src=\"http", "href=\"http", "url(http", "<script src", "<link");
    QTS_ASSERT_HAS(html, "scripted &lt;run&gt;", "uPlot", "id=\"qts-data\"", "Drawdown",
                   "Fills on price: ", "{\"sym\":\"BTCUSDT\"", "\"mode\":\"points\"",
                   "\"side\":[1,-1,-1,1]", "\"names\":[\"ema\",\"strategy 2\"]", "win rate",
                   "data-trades=\"2\"", "<td>ema</td><td>BTCUSDT</td><td>long</td>",
                   "<td>strategy 2</td><td>BTCUSDT</td><td>short</td>", "Monthly returns",
                   "<td>2023-11</td>", "<td>2023-12</td>");
    free(html);
    char *fills = slurp(d1, "fills.csv", NULL);
    assert_non_null(strstr(fills, ",ema_x,")); /* separators in tags are cleaned */
    assert_non_null(strstr(fills, ",strat_pos_after,strategy\n"));
    assert_non_null(strstr(fills, ",ema\n"));
    free(fills);
    char *strats = slurp(d1, "strategies.csv", NULL);
    assert_non_null(strstr(strats, ",turnover,strategy\n1,"));
    free(strats);

    /* same input, same bytes */
    pf = scripted(d2);
    assert_int_equal(qts_run_files_finish(&g_files, &meta, &err), 0);
    qts_portfolio_free(pf);
    char *before[QTS_ARRAY_LEN(FILES)];
    size_t blen[QTS_ARRAY_LEN(FILES)];
    for (size_t i = 0; i < QTS_ARRAY_LEN(FILES); i++) {
        size_t l2;
        before[i] = slurp(d1, FILES[i], &blen[i]);
        char *b = slurp(d2, FILES[i], &l2);
        assert_non_null(before[i]);
        assert_non_null(b);
        assert_int_equal(blen[i], l2);
        assert_memory_equal(before[i], b, l2);
        free(b);
    }
    /* `qts report DIR` regenerates identical files */
    char *argv[] = {"report", d1, NULL};
    assert_int_equal(qts_cmd_report.run(2, argv), QTS_EXIT_OK);
    for (size_t i = 0; i < QTS_ARRAY_LEN(FILES); i++) {
        size_t l;
        char *b = slurp(d1, FILES[i], &l);
        assert_int_equal(l, blen[i]);
        assert_memory_equal(before[i], b, l);
        free(b);
        free(before[i]);
    }
    qts_test_rmtree(tmp);
    free(tmp);
}

static void test_report_errors(void **state)
{
    (void)state;
    char *tmp = qts_test_tmpdir();
    struct qts_err err;
    qts_err_clear(&err);
    assert_int_equal(qts_report_render(tmp, &err), QTS_ENOENT);
    char *argv[] = {"report", tmp, NULL};
    assert_int_equal(qts_cmd_report.run(2, argv), QTS_EXIT_FAILURE);
    assert_int_equal(qts_cmd_report.run(1, argv), QTS_EXIT_USAGE);

    struct qts_portfolio *pf = qts_portfolio_new(1000000);
    qts_run_files_attach(&g_files, tmp, pf);
    assert_int_equal(qts_run_files_finish(&g_files, NULL, &err), 0); /* empty run */
    qts_portfolio_free(pf);
    char path[1024];
    snprintf(path, sizeof path, "%s/equity.csv", tmp);
    assert_int_equal(qts_test_write_file(path, "ts_ns,equity,cash,gross_exposure\n"
                                               "1,100.0,100.0,0\n2,abc,1,0\n"),
                     0);
    assert_int_equal(qts_report_render(tmp, &err), QTS_EPARSE);
    assert_non_null(strstr(err.msg, "equity.csv:3"));
    qts_test_rmtree(tmp);
    free(tmp);
}

/* A long run: 20 000 samples, one of them a spike. The equity chart keeps
 * at most 4 points per pixel column (864 columns) and still draws the
 * spike: the chart's top is the spike's equity, and a point reaches it. */
static void test_long_series_bounded_chart(void **state)
{
    (void)state;
    char *tmp = qts_test_tmpdir();
    struct qts_portfolio *pf = qts_portfolio_new(10000000000LL);
    qts_run_files_attach(&g_files, tmp, pf);
    qts_portfolio_set_symbol(pf, 7, "BTCUSDT");
    fill(pf, 1700000000000000000LL, 1, QTS_SIDE_BUY, 10000, 10000, 0); /* 0.01 x 100.00 */
    for (int i = 0; i < 20000; i++) {
        int64_t px = 10000 + (i % 50) - (i == 12345 ? -50000 : 0); /* spike: 600.00 */
        qts_portfolio_mark(pf, 7, px, 2);
        qts_portfolio_sample(pf, 1700000000000000000LL + (int64_t)i * 1000000000LL);
    }
    struct qts_err err;
    qts_err_clear(&err);
    assert_int_equal(qts_run_files_finish(&g_files, NULL, &err), 0);
    qts_portfolio_free(pf);
    char *sum = slurp(tmp, "summary.json", NULL);
    assert_non_null(strstr(sum, "\"equity_samples\": 20000"));
    free(sum);
    char *html = slurp(tmp, "report.html", NULL);
    /* the equity series: bounded, and the spike kept */
    const char *x = strstr(html, "{\"eq\":{\"x\":[");
    assert_non_null(x);
    x += 13;
    const char *y = strstr(x, "],\"y\":[");
    assert_non_null(y);
    size_t pts = 1;
    for (const char *p = x; p < y; p++)
        pts += *p == ',';
    double top = 0;
    for (const char *p = y + 7; *p && *p != ']';) {
        char *end;
        double v = strtod(p, &end);
        assert_true(end != p);
        top = v > top ? v : top;
        p = *end == ',' ? end + 1 : end;
    }
    assert_true(pts >= 1000 && pts <= 4000);
    /* the highest equity of equity.csv (the price spike) */
    char *eqcsv = slurp(tmp, "equity.csv", NULL);
    double want = 0;
    for (const char *p = strchr(eqcsv, '\n'); p && p[1]; p = strchr(p + 1, '\n')) {
        double v = strtod(strchr(p, ',') + 1, NULL);
        want = v > want ? v : want;
    }
    free(eqcsv);
    assert_true(want > 10100);
    assert_true(fabs(top - want) < 1e-3);
    free(html);
    qts_test_rmtree(tmp);
    free(tmp);
}

QTS_TEST_MAIN(test_run_directory, test_report_errors, test_long_series_bounded_chart)
