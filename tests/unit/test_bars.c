/* test_bars.c — time bars from trades: hand-made sequences (alignment,
 * skipped empty periods, late trades, poll/flush) and real Binance BTCUSDT
 * trades across a UTC midnight, checked against a brute-force grouping. */
#include "test_support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "bars.h"
#include "qts/qts_err.h"
#include "util.h"

#define SEC QTS_NS_PER_SEC
#define MIN (60 * SEC)
#define T0 (INT64_C(1723161600) * SEC) /* 2024-08-09 00:00:00 UTC */

static struct qts_trade trade(int64_t ts, int64_t px, int64_t qty)
{
    struct qts_trade t;
    qts_test_event(&t.h, sizeof t, QTS_EV_TRADE, 7, ts);
    t.h.ts_recv_ns = ts + 1000;
    t.px = px;
    t.qty = qty;
    return t;
}

static void test_periods(void **state)
{
    (void)state;
    struct qts_bar_builder b;
    assert_int_equal(qts_bar_builder_init(&b, SEC), 0);
    assert_int_equal(qts_bar_builder_init(&b, 15 * MIN), 0);
    assert_int_equal(qts_bar_builder_init(&b, 4 * 60 * MIN), 0);
    assert_int_equal(qts_bar_builder_init(&b, QTS_NS_PER_DAY), 0);
    assert_int_equal(qts_bar_builder_init(&b, 0), QTS_EINVAL);
    assert_int_equal(qts_bar_builder_init(&b, SEC / 2), QTS_EINVAL);
    assert_int_equal(qts_bar_builder_init(&b, SEC + 1), QTS_EINVAL);
    assert_int_equal(qts_bar_builder_init(&b, 7 * SEC), QTS_EINVAL); /* does not divide a day */
    assert_int_equal(qts_bar_builder_init(&b, 2 * QTS_NS_PER_DAY), QTS_EINVAL);
    assert_int_equal(qts_bar_open_ns(T0 + 59 * SEC, MIN), T0);
    assert_int_equal(qts_bar_open_ns(T0 + MIN, MIN), T0 + MIN);
    assert_int_equal(qts_bar_open_ns(-1, MIN), -MIN); /* floor before 1970 */
    assert_int_equal(qts_bar_open_ns(T0 + 5 * 3600 * SEC, QTS_NS_PER_DAY), T0);
}

static void test_minute_bars(void **state)
{
    (void)state;
    struct qts_bar_builder b;
    struct qts_bar out;
    assert_int_equal(qts_bar_builder_init(&b, MIN), 0);
    struct qts_trade t = trade(T0 + 5 * SEC, 10000, 5);
    assert_int_equal(qts_bar_builder_push(&b, &t, &out), 0);
    t = trade(T0 + 30 * SEC, 10050, 1);
    assert_int_equal(qts_bar_builder_push(&b, &t, &out), 0);
    t = trade(T0 + 31 * SEC, 9990, 2);
    assert_int_equal(qts_bar_builder_push(&b, &t, &out), 0);
    t = trade(T0 + MIN - 1, 10010, 4); /* last nanosecond of the minute */
    assert_int_equal(qts_bar_builder_push(&b, &t, &out), 0);
    t = trade(T0 + MIN, 10020, 3); /* next minute: closes the first bar */
    assert_int_equal(qts_bar_builder_push(&b, &t, &out), 1);
    assert_int_equal(out.h.struct_size, sizeof(struct qts_bar));
    assert_int_equal(out.h.type, QTS_EV_BAR);
    assert_int_equal(out.h.instrument, 7);
    assert_int_equal(out.h.px_exp, 2);
    assert_int_equal(out.h.qty_exp, 3);
    assert_int_equal(out.h.ts_exch_ns, T0);
    assert_int_equal(out.h.ts_recv_ns, T0 + MIN - 1 + 1000);
    assert_int_equal(out.period_ns, MIN);
    assert_int_equal(out.open, 10000);
    assert_int_equal(out.high, 10050);
    assert_int_equal(out.low, 9990);
    assert_int_equal(out.close, 10010);
    assert_int_equal(out.volume, 12);
    assert_int_equal(out.n_trades, 4);

    /* minute 2 has no trade: no bar for it; minute 3's trade closes minute 1 */
    t = trade(T0 + 3 * MIN + 10 * SEC, 10100, 1);
    assert_int_equal(qts_bar_builder_push(&b, &t, &out), 1);
    assert_int_equal(out.h.ts_exch_ns, T0 + MIN);
    assert_int_equal(out.open, 10020);
    assert_int_equal(out.n_trades, 1);

    /* late trades: into the emitted minute 1, and into the skipped minute 2
     * while minute 3 is open; neither changes anything */
    t = trade(T0 + MIN + 50 * SEC, 1, 1);
    assert_int_equal(qts_bar_builder_push(&b, &t, &out), 0);
    t = trade(T0 + 2 * MIN + 1, 1, 1);
    assert_int_equal(qts_bar_builder_push(&b, &t, &out), 0);
    assert_int_equal(b.n_late, 2);

    /* out-of-order within the open bar is fine */
    t = trade(T0 + 3 * MIN + 5 * SEC, 10090, 2);
    assert_int_equal(qts_bar_builder_push(&b, &t, &out), 0);

    /* a different instrument, negative quantity: rejected */
    t = trade(T0 + 3 * MIN + 20 * SEC, 10090, 1);
    t.h.instrument = 8;
    assert_int_equal(qts_bar_builder_push(&b, &t, &out), QTS_EINVAL);
    t = trade(T0 + 3 * MIN + 20 * SEC, 10090, -1);
    assert_int_equal(qts_bar_builder_push(&b, &t, &out), QTS_EINVAL);

    /* poll: not before the period ends, then exactly once */
    assert_int_equal(qts_bar_builder_poll(&b, T0 + 4 * MIN - 1, &out), 0);
    assert_int_equal(qts_bar_builder_poll(&b, T0 + 4 * MIN, &out), 1);
    assert_int_equal(out.h.ts_exch_ns, T0 + 3 * MIN);
    assert_int_equal(out.close, 10090); /* last applied trade, not latest stamp */
    assert_int_equal(out.low, 10090);
    assert_int_equal(out.volume, 3);
    assert_int_equal(qts_bar_builder_poll(&b, T0 + 10 * MIN, &out), 0);
    assert_int_equal(qts_bar_builder_flush(&b, &out), 0);

    /* flush emits a partial bar */
    t = trade(T0 + 9 * MIN, 10200, 1);
    assert_int_equal(qts_bar_builder_push(&b, &t, &out), 0);
    assert_int_equal(qts_bar_builder_flush(&b, &out), 1);
    assert_int_equal(out.h.ts_exch_ns, T0 + 9 * MIN);
    assert_int_equal(b.n_bars, 4);
}

/* --------------------------------------------------- real Binance trades */

struct rec {
    int64_t ts_ns, px, qty;
};

static int64_t field_fixed(const char *line, const char *key, unsigned exp)
{
    const char *p = strstr(line, key);
    assert_non_null(p);
    p += strlen(key);
    const char *e = strchr(p, '"');
    assert_non_null(e);
    int64_t v = 0;
    assert_int_equal(qts_parse_fixed(p, (size_t)(e - p), exp, &v), 0);
    return v;
}

static size_t load_trades(const char *path, struct rec **v, size_t *cap, size_t n)
{
    gzFile f = gzopen(path, "rb");
    assert_non_null(f);
    static char line[1 << 16];
    while (gzgets(f, line, sizeof line)) {
        if (!strstr(line, "\"e\":\"trade\""))
            continue;
        if (n == *cap) {
            *cap = *cap ? *cap * 2 : 4096;
            *v = qts_xrealloc(*v, *cap * sizeof **v);
        }
        const char *tp = strstr(line, "\"T\":");
        assert_non_null(tp);
        (*v)[n].ts_ns = strtoll(tp + 4, NULL, 10) * 1000000;
        (*v)[n].px = field_fixed(line, "\"p\":\"", 8);
        (*v)[n].qty = field_fixed(line, "\"q\":\"", 8);
        n++;
    }
    gzclose(f);
    return n;
}

static void check_period(const struct rec *v, size_t n, int64_t period)
{
    struct qts_bar_builder b;
    assert_int_equal(qts_bar_builder_init(&b, period), 0);
    size_t bar_cap = 1024, n_bars = 0;
    struct qts_bar *bars = qts_xmalloc(bar_cap * sizeof *bars);
    for (size_t i = 0; i <= n; i++) {
        struct qts_bar out;
        int rc;
        if (i < n) {
            struct qts_trade t = trade(v[i].ts_ns, v[i].px, v[i].qty);
            t.h.px_exp = t.h.qty_exp = 8;
            rc = qts_bar_builder_push(&b, &t, &out);
        } else {
            rc = qts_bar_builder_flush(&b, &out);
        }
        assert_true(rc >= 0);
        if (rc == 1) {
            if (n_bars == bar_cap)
                bars = qts_xrealloc(bars, (bar_cap *= 2) * sizeof *bars);
            bars[n_bars++] = out;
        }
    }
    assert_int_equal(b.n_late, 0);
    /* brute force: walk the trades, group by floor(ts / period) */
    size_t k = 0;
    for (size_t i = 0; i < n;) {
        int64_t open = v[i].ts_ns - v[i].ts_ns % period;
        int64_t o = v[i].px, h = o, l = o, c = o, vol = 0, cnt = 0;
        for (; i < n && v[i].ts_ns - v[i].ts_ns % period == open; i++) {
            h = v[i].px > h ? v[i].px : h;
            l = v[i].px < l ? v[i].px : l;
            c = v[i].px;
            vol += v[i].qty;
            cnt++;
        }
        assert_true(k < n_bars);
        assert_int_equal(bars[k].h.ts_exch_ns, open);
        assert_int_equal(bars[k].open, o);
        assert_int_equal(bars[k].high, h);
        assert_int_equal(bars[k].low, l);
        assert_int_equal(bars[k].close, c);
        assert_int_equal(bars[k].volume, vol);
        assert_int_equal(bars[k].n_trades, cnt);
        k++;
    }
    assert_int_equal(k, n_bars);
    if (period == QTS_NS_PER_DAY) {
        /* the capture spans 00:00 UTC: exactly two daily bars, split there */
        assert_int_equal(n_bars, 2);
        assert_int_equal(bars[1].h.ts_exch_ns, T0);
    }
    free(bars);
}

static void test_binance_trades(void **state)
{
    (void)state;
    const char *p1 = qts_test_data_path("binance/spot_btcusdt_20240808.gz");
    const char *p2 = qts_test_data_path("binance/spot_btcusdt_20240809.gz");
    if (!p1 || !p2) {
        printf("skipped: ../shared/data/binance absent\n");
        skip();
    }
    char path2[1024];
    snprintf(path2, sizeof path2, "%s", p2);
    struct rec *v = NULL;
    size_t cap = 0, n = load_trades(p1, &v, &cap, 0);
    n = load_trades(path2, &v, &cap, n);
    assert_true(n > 10000);
    for (size_t i = 1; i < n; i++)
        assert_true(v[i].ts_ns >= v[i - 1].ts_ns); /* the grouping above needs it */
    check_period(v, n, SEC);
    check_period(v, n, MIN);
    check_period(v, n, 5 * MIN);
    check_period(v, n, QTS_NS_PER_DAY);
    free(v);
}

QTS_TEST_MAIN(test_periods, test_minute_bars, test_binance_trades)
