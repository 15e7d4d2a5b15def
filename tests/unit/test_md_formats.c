/* test_md_formats.c — CSV and binary formats, the synthetic generator, and
 * the malformed-record policy on corrupt inputs (bad numbers, reordered
 * timestamps, truncated or damaged gzip, truncated binary files). */
#include "test_support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "book.h"
#include "md_binfile.h"
#include "md_source.h"
#include "md_synth.h"

struct counts {
    uint64_t events, malformed, eio, trades, quotes, books, bars;
    char first_bad[256];
    char last_bad[256];
};

static struct counts read_all(const char *path, int format, const char *symbol, const char *symbols,
                              int64_t period_ns)
{
    struct counts c;
    memset(&c, 0, sizeof c);
    struct qts_md_symtab syms;
    qts_md_symtab_init(&syms);
    if (symbols)
        assert_int_equal(qts_md_symtab_configure(&syms, symbols, NULL), 0);
    struct qts_md_source src;
    struct qts_md_source_opts o = {.format = format, .symbol = symbol, .bar_period_ns = period_ns};
    struct qts_err err;
    int rc = qts_md_source_open(&src, path, &o, &syms, &err);
    if (rc < 0)
        fprintf(stderr, "open: %s\n", err.msg);
    assert_int_equal(rc, 0);
    union qts_md_event ev;
    while ((rc = qts_md_source_next(&src, &ev, &err)) != 0) {
        if (rc < 0) {
            if (rc == QTS_EIO)
                c.eio++;
            else
                c.malformed++;
            if (!c.first_bad[0])
                snprintf(c.first_bad, sizeof c.first_bad, "%s", err.msg);
            snprintf(c.last_bad, sizeof c.last_bad, "%s", err.msg);
            continue;
        }
        c.events++;
        c.trades += ev.h.type == QTS_EV_TRADE;
        c.quotes += ev.h.type == QTS_EV_QUOTE;
        c.books += ev.h.type == QTS_EV_BOOK;
        c.bars += ev.h.type == QTS_EV_BAR;
    }
    assert_int_equal(src.n_malformed, c.malformed + c.eio);
    qts_md_source_close(&src);
    qts_md_symtab_cleanup(&syms);
    return c;
}

static char *tmpdir;

static const char *tmp(const char *name)
{
    static char buf[4][1024];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", tmpdir, name);
    return buf[k];
}

static void test_csv_trades_and_bad_rows(void **state)
{
    (void)state;
    const char *p = tmp("trades.csv");
    assert_int_equal(
        qts_test_write_file(p, "time,symbol,price,qty,side,trade_id\n"
                               "2024-01-02T09:00:00.000000001Z,AAA,10.25,3,buy,1\n"
                               "2024-01-02 09:00:01,AAA,10.30,1,S,2\n"
                               "2024-01-02 09:00:02,AAA,10.3x,1,S,3\n"  /* bad number */
                               "2024-01-02 09:00:03,AAA,10.301,1,S,4\n" /* too precise */
                               "2024-01-02 09:00:00,AAA,10.30,1,S,5\n"  /* goes backwards */
                               "2024-01-02 09:00:04,AAA,10.30,1\n"      /* missing columns */
                               "1704186005000,BBB,7,2,,6\n"             /* epoch ms, other symbol */
                               "2024-01-02 09:00:06,AAA,-1,1,S,7\n"),   /* not positive */
        0);
    struct counts c = read_all(p, QTS_MD_FMT_CSV_TRADES, NULL, "AAA:2:0,BBB:0:0", 0);
    assert_int_equal(c.events, 3);
    assert_int_equal(c.trades, 3);
    assert_int_equal(c.malformed, 5);
    assert_non_null(strstr(c.first_bad, "trades.csv:4: price '10.3x'"));
    assert_non_null(strstr(c.last_bad, "trades.csv:9:"));
    /* exact values and times */
    struct qts_md_symtab syms;
    qts_md_symtab_init(&syms);
    qts_md_symtab_configure(&syms, "AAA:2:0", NULL);
    struct qts_md_source src;
    struct qts_md_source_opts o = {.format = QTS_MD_FMT_CSV_TRADES};
    assert_int_equal(qts_md_source_open(&src, p, &o, &syms, NULL), 0);
    union qts_md_event ev;
    assert_int_equal(qts_md_source_next(&src, &ev, NULL), 1);
    assert_int_equal(ev.trade.px, 1025);
    assert_int_equal(ev.trade.qty, 3);
    assert_int_equal(ev.trade.aggressor, QTS_SIDE_BUY);
    assert_int_equal(ev.trade.trade_id, 1);
    assert_int_equal(ev.h.ts_exch_ns, 1704186000000000001LL);
    qts_md_source_close(&src);
    qts_md_symtab_cleanup(&syms);
}

static void test_csv_without_header_fails_once(void **state)
{
    (void)state;
    const char *p = tmp("nohdr.csv");
    assert_int_equal(qts_test_write_file(p, "2024-01-02,1,2,0.5,1.5,10\n"
                                            "2024-01-03,1,2,0.5,1.5,10\n"),
                     0);
    struct counts c = read_all(p, QTS_MD_FMT_CSV_BARS, "X", NULL, 0);
    assert_int_equal(c.events, 0);
    assert_int_equal(c.eio, 1);
    assert_int_equal(c.malformed, 0);
    assert_non_null(strstr(c.first_bad, "nohdr.csv after line 1: CSV header lacks a time column"));
}

static void test_csv_quotes(void **state)
{
    (void)state;
    const char *p = tmp("quotes.csv");
    assert_int_equal(qts_test_write_file(p, "ts,bid_px,bid_qty,ask_px,ask_qty\n"
                                            "1700000000000000000,1.2345,100,1.2347,200\n"
                                            "1700000000100000000,1.2346,50,1.2347,150\n"),
                     0);
    struct counts c = read_all(p, QTS_MD_FMT_CSV_QUOTES, "EURUSD", "EURUSD:4:0", 0);
    assert_int_equal(c.quotes, 2);
    assert_int_equal(c.malformed, 0);
}

static void test_real_bar_files(void **state)
{
    (void)state;
    const char *goog = qts_test_data_path("bars/goog_daily_2004_2013.csv");
    if (!goog) {
        printf("skipped: ../shared/data/bars absent\n");
        return;
    }
    struct counts c = read_all(goog, QTS_MD_FMT_CSV_BARS, "GOOG", "GOOG:2:0", 86400000000000LL);
    assert_int_equal(c.bars, 2148);
    assert_int_equal(c.malformed, 0);
    c = read_all(qts_test_data_path("bars/6EH4.XCME_1min_bars_20240101_20240131.csv.gz"),
                 QTS_MD_FMT_CSV_BARS, "6EH4", "6EH4:5:0", 0);
    assert_int_equal(c.bars, 29996);
    assert_int_equal(c.malformed, 0);
    c = read_all(qts_test_data_path("bars/fxcm_gbpusd-m1-bid-2012.csv"), QTS_MD_FMT_CSV_BARS,
                 "GBPUSD", "GBPUSD:5:0", 0);
    assert_int_equal(c.bars, 30117);
    assert_int_equal(c.malformed, 0);
    c = read_all(qts_test_data_path("bars/ftx_btc-perp_20211231-20220201_1m.csv"),
                 QTS_MD_FMT_CSV_BARS, "BTC-PERP", "BTC-PERP:8:8", 0);
    /* six volumes carry binary floating-point noise ("218102.59507500002"):
     * more decimals than configured, so they are reported and skipped */
    assert_int_equal(c.bars, 45031 - 6);
    assert_int_equal(c.malformed, 6);
    assert_non_null(strstr(c.first_bad, "ftx_btc-perp_20211231-20220201_1m.csv:249: volume"));
}

/* Binance capture -> binary -> the same events, field for field. */
static void test_binary_roundtrip(void **state)
{
    (void)state;
    const char *in = qts_test_data_path("binance/spot_ethusdt_20240808.gz");
    if (!in) {
        printf("skipped: ../shared/data/binance absent\n");
        return;
    }
    const char *out = tmp("eth.qev");
    struct qts_md_symtab syms;
    qts_md_symtab_init(&syms);
    qts_md_symtab_configure(&syms, "ETHUSDT:2:8", NULL);
    struct qts_md_source a;
    struct qts_md_source_opts o = {.format = QTS_MD_FMT_BINANCE};
    assert_int_equal(qts_md_source_open(&a, in, &o, &syms, NULL), 0);
    struct qts_md_binwriter w;
    assert_int_equal(qts_md_binwriter_open(&w, out, NULL), 0);
    union qts_md_event ev, ev2;
    uint64_t n = 0;
    while (qts_md_source_next(&a, &ev, NULL) == 1) {
        assert_int_equal(qts_md_binwriter_write(&w, syms.v[ev.h.instrument], &ev, NULL), 0);
        n++;
    }
    assert_int_equal(qts_md_binwriter_close(&w, NULL), 0);
    qts_md_source_close(&a);
    assert_int_equal(n, 24077 + 3434 + 6106 + 1);

    struct qts_md_symtab syms2;
    qts_md_symtab_init(&syms2);
    struct qts_md_source b;
    o.format = QTS_MD_FMT_AUTO;
    assert_int_equal(qts_md_source_open(&a, in,
                                        &(struct qts_md_source_opts){.format = QTS_MD_FMT_BINANCE},
                                        &syms, NULL),
                     0);
    assert_int_equal(qts_md_source_open(&b, out, &o, &syms2, NULL), 0);
    assert_int_equal(b.format, QTS_MD_FMT_BINARY);
    uint64_t m = 0;
    while (qts_md_source_next(&a, &ev, NULL) == 1) {
        assert_int_equal(qts_md_source_next(&b, &ev2, NULL), 1);
        assert_int_equal(ev.h.type, ev2.h.type);
        assert_int_equal(ev.h.ts_exch_ns, ev2.h.ts_exch_ns);
        assert_int_equal(ev.h.ts_recv_ns, ev2.h.ts_recv_ns);
        assert_int_equal(ev.h.px_exp, ev2.h.px_exp);
        assert_int_equal(ev.h.qty_exp, ev2.h.qty_exp);
        switch (ev.h.type) {
        case QTS_EV_TRADE:
            assert_memory_equal(&ev.trade.px, &ev2.trade.px,
                                sizeof ev.trade - offsetof(struct qts_trade, px));
            break;
        case QTS_EV_QUOTE:
            assert_memory_equal(&ev.quote.bid_px, &ev2.quote.bid_px,
                                sizeof ev.quote - offsetof(struct qts_quote, bid_px));
            break;
        default:
            assert_int_equal(ev.h.flags, ev2.h.flags);
            assert_int_equal(ev.book.first_update_id, ev2.book.first_update_id);
            assert_int_equal(ev.book.last_update_id, ev2.book.last_update_id);
            assert_int_equal(ev.book.n_bids, ev2.book.n_bids);
            assert_int_equal(ev.book.n_asks, ev2.book.n_asks);
            if (ev.book.n_bids)
                assert_memory_equal(ev.book.bids, ev2.book.bids,
                                    ev.book.n_bids * sizeof(struct qts_level));
            if (ev.book.n_asks)
                assert_memory_equal(ev.book.asks, ev2.book.asks,
                                    ev.book.n_asks * sizeof(struct qts_level));
        }
        m++;
    }
    assert_int_equal(qts_md_source_next(&b, &ev2, NULL), 0);
    assert_int_equal(m, n);
    qts_md_source_close(&a);
    qts_md_source_close(&b);

    /* truncated binary file: every complete record, then one QTS_EIO */
    FILE *fp = fopen(out, "r+b");
    assert_non_null(fp);
    fseek(fp, 0, SEEK_END);
    long size = ftell(fp);
    fclose(fp);
    assert_int_equal(truncate(out, size / 2 + 3), 0);
    struct counts c = read_all(out, QTS_MD_FMT_BINARY, NULL, NULL, 0);
    assert_true(c.events > 1000 && c.events < n);
    assert_int_equal(c.eio, 1);
    assert_non_null(strstr(c.first_bad, "truncated record"));
    qts_md_symtab_cleanup(&syms);
    qts_md_symtab_cleanup(&syms2);
}

static void copy_prefix(const char *from, const char *to, long n, long flip_at)
{
    FILE *a = fopen(from, "rb"), *b = fopen(to, "wb");
    assert_non_null(a);
    assert_non_null(b);
    for (long i = 0; i < n; i++) {
        int ch = fgetc(a);
        if (ch == EOF)
            break;
        if (i >= flip_at && i < flip_at + 64)
            ch ^= 0x5a;
        fputc(ch, b);
    }
    fclose(a);
    fclose(b);
}

static void test_truncated_and_damaged_gzip(void **state)
{
    (void)state;
    const char *in = qts_test_data_path("binance/spot_btcusdt_20240808.gz");
    if (!in) {
        printf("skipped: ../shared/data/binance absent\n");
        return;
    }
    const char *t = tmp("trunc.gz");
    copy_prefix(in, t, 600000, -100);
    struct counts c = read_all(t, QTS_MD_FMT_AUTO, NULL, "BTCUSDT:2:8", 0);
    assert_true(c.events > 1000);
    assert_int_equal(c.eio, 1);
    assert_non_null(strstr(c.first_bad, "truncated"));
    /* the partial last line is a malformed record at most */
    assert_true(c.malformed <= 1);

    const char *d = tmp("damaged.gz");
    copy_prefix(in, d, 1L << 30, 300000);
    c = read_all(d, QTS_MD_FMT_BINANCE, NULL, "BTCUSDT:2:8", 0);
    assert_true(c.events > 100);
    assert_int_equal(c.eio, 1);
    printf("damaged gzip: %s\n", c.first_bad);
}

static void test_binance_bad_lines(void **state)
{
    (void)state;
    const char *p = tmp("bad.txt");
    assert_int_equal(
        qts_test_write_file(
            p,
            "1000 "
            "{\"stream\":\"btcusdt@trade\",\"data\":{\"e\":\"trade\",\"E\":1723161255343,\"s\":"
            "\"BTCUSDT\",\"t\":1,\"p\":\"61837.63000000\",\"q\":\"0.02000000\",\"T\":1723161255342,"
            "\"m\":true,\"M\":true}}\n"
            "1001 "
            "{\"stream\":\"btcusdt@trade\",\"data\":{\"e\":\"trade\",\"E\":1,\"s\":\"BTCUSDT\","
            "\"t\":2,\"p\":\"61837.6x\",\"q\":\"0.02\",\"T\":1,\"m\":true}}\n"
            "1002 "
            "{\"stream\":\"btcusdt@trade\",\"data\":{\"e\":\"trade\",\"E\":1,\"s\":\"BTCUSDT\","
            "\"t\":3,\"p\":\"61837.631\",\"q\":\"0.02\",\"T\":1,\"m\":true}}\n"
            "1003 "
            "{\"stream\":\"btcusdt@bookTicker\",\"data\":{\"u\":5,\"s\":\"BTCUSDT\",\"b\":\"1.00\","
            "\"B\":\"1\",\"a\":\"2.00\"\n"
            "999 "
            "{\"stream\":\"btcusdt@bookTicker\",\"data\":{\"u\":5,\"s\":\"BTCUSDT\",\"b\":\"1.00\","
            "\"B\":\"1\",\"a\":\"2.00\",\"A\":\"3\"}}\n"
            "1004 "
            "{\"stream\":\"btcusdt@depth@100ms\",\"data\":{\"e\":\"depthUpdate\",\"E\":1,\"s\":"
            "\"BTCUSDT\",\"U\":7,\"u\":9,\"b\":[[\"1.00\",\"2\"],[\"1.01\"]],\"a\":[]}}\n"
            "garbage\n"
            "1005 "
            "{\"stream\":\"btcusdt@depth@100ms\",\"data\":{\"e\":\"depthUpdate\",\"E\":1,\"s\":"
            "\"BTCUSDT\",\"U\":7,\"u\":9,\"b\":[[\"1.00\",\"2\"]],\"a\":[]}}\n"
            "1006 {\"stream\":\"btcusdt@kline_1m\",\"data\":{\"s\":\"BTCUSDT\",\"k\":{\"t\":1}}}\n"
            "1007 "
            "{\"stream\":\"btcusdt@bookTicker\",\"data\":{\"u\":5,\"s\":\"BTCUSDT\",\"b\":\"1.00\","
            "\"B\":\"1\",\"a\":\"2.00\",\"A\":\"3\"}}\n"),
        0);
    struct counts c = read_all(p, QTS_MD_FMT_BINANCE, NULL, "BTCUSDT:2:8", 0);
    assert_int_equal(c.events, 3);
    assert_int_equal(c.trades, 1);
    assert_int_equal(c.books, 1);
    assert_int_equal(c.quotes, 1);
    assert_int_equal(c.malformed, 6);
    assert_non_null(strstr(c.first_bad, "bad.txt:2:"));
    assert_non_null(strstr(c.last_bad, "bad.txt:7:"));
}

static void test_synthetic_deterministic_and_consistent(void **state)
{
    (void)state;
    struct qts_md_inst in = {.symbol = "SYN", .px_exp = 2, .qty_exp = 0, .id = 0};
    struct qts_md_synth_opts o = {.seed = 42, .max_events = 200000};
    struct qts_md_synth a, b;
    qts_md_synth_init(&a, &o, &in);
    qts_md_synth_init(&b, &o, &in);
    struct qts_book book;
    qts_book_init(&book);
    union qts_md_event e1, e2;
    uint64_t n = 0, trades = 0, spread_sum = 0;
    int64_t lo = INT64_MAX, hi = INT64_MIN, prev_ts = 0;
    while (qts_md_synth_next(&a, &e1) == 1) {
        assert_int_equal(qts_md_synth_next(&b, &e2), 1);
        assert_int_equal(e1.h.type, e2.h.type);
        assert_int_equal(e1.h.ts_exch_ns, e2.h.ts_exch_ns);
        assert_true(e1.h.ts_exch_ns >= prev_ts);
        prev_ts = e1.h.ts_exch_ns;
        struct qts_level bid, ask;
        if (e1.h.type == QTS_EV_TRADE) {
            assert_int_equal(e1.trade.px, e2.trade.px);
            qts_book_best_bid(&book, &bid);
            qts_book_best_ask(&book, &ask);
            /* a trade happens at the touch */
            assert_true(e1.trade.px == (e1.trade.aggressor == QTS_SIDE_BUY ? ask.px : bid.px));
            trades++;
        } else {
            assert_int_equal(e1.book.n_bids, e2.book.n_bids);
            assert_int_equal(qts_book_apply(&book, &e1.book), QTS_BOOK_APPLIED);
            assert_true(qts_book_best_bid(&book, &bid));
            assert_true(qts_book_best_ask(&book, &ask));
            assert_true(bid.px < ask.px);
            spread_sum += (uint64_t)(ask.px - bid.px);
            lo = bid.px < lo ? bid.px : lo;
            hi = ask.px > hi ? ask.px : hi;
        }
        n++;
    }
    assert_int_equal(n, 200000);
    assert_int_equal(book.n_gaps, 0);
    double avg_spread = (double)spread_sum / (double)(n - trades);
    printf("synthetic: trades=%llu avg_spread_ticks=%.2f range=%lld..%lld\n",
           (unsigned long long)trades, avg_spread, (long long)lo, (long long)hi);
    assert_true(trades > n / 20);
    assert_true(avg_spread >= 1.0 && avg_spread < 5.0);
    assert_true(hi - lo > 10); /* the mid moves */
    qts_book_cleanup(&book);
    qts_md_synth_cleanup(&a);
    qts_md_synth_cleanup(&b);
}

/* With quotes on, every quote equals the book rebuilt from the diffs. */
static void test_synthetic_quotes_match_book(void **state)
{
    (void)state;
    struct qts_md_inst in = {.symbol = "SYN", .px_exp = 2, .qty_exp = 0, .id = 0};
    struct qts_md_synth_opts o = {.seed = 9, .max_events = 50000, .quotes = true};
    struct qts_md_synth s;
    qts_md_synth_init(&s, &o, &in);
    struct qts_book book;
    qts_book_init(&book);
    union qts_md_event ev;
    uint64_t quotes = 0;
    while (qts_md_synth_next(&s, &ev) == 1) {
        if (ev.h.type == QTS_EV_BOOK) {
            assert_int_equal(qts_book_apply(&book, &ev.book), QTS_BOOK_APPLIED);
        } else if (ev.h.type == QTS_EV_QUOTE) {
            struct qts_level b, a;
            qts_book_best_bid(&book, &b);
            qts_book_best_ask(&book, &a);
            assert_int_equal(ev.quote.update_id, book.last_update_id);
            assert_int_equal(ev.quote.bid_px, b.px);
            assert_int_equal(ev.quote.bid_qty, b.qty);
            assert_int_equal(ev.quote.ask_px, a.px);
            assert_int_equal(ev.quote.ask_qty, a.qty);
            quotes++;
        }
    }
    assert_true(quotes > 5000);
    qts_book_cleanup(&book);
    qts_md_synth_cleanup(&s);
}

static void test_parse_time_forms(void **state)
{
    (void)state;
    int64_t t;
    assert_int_equal(qts_md_parse_time("2012-02-01 00:00:00+00:00", 25, &t), 0);
    assert_int_equal(t, 1328054400LL * 1000000000LL);
    assert_int_equal(qts_md_parse_time("2012-02-01T01:00:00+01:00", 25, &t), 0);
    assert_int_equal(t, 1328054400LL * 1000000000LL);
    assert_int_equal(qts_md_parse_time("2004-08-19", 10, &t), 0);
    assert_int_equal(t, 1092873600LL * 1000000000LL);
    assert_int_equal(qts_md_parse_time("1328054400", 10, &t), 0);
    assert_int_equal(t, 1328054400LL * 1000000000LL);
    assert_int_equal(qts_md_parse_time("2012-13-01", 10, &t), QTS_EPARSE);
    assert_int_equal(qts_md_parse_time("2012-02-01 00:00", 16, &t), QTS_EPARSE);
}

/* Mutated Binance lines and random binary files: whatever the bytes, the
 * decoders return an event or an error, never crash (run under ASan too). */
static void test_mutations_never_crash(void **state)
{
    (void)state;
    const char *in = qts_test_data_path("binance/usdm_btcusdt_20240808.gz");
    if (!in) {
        printf("skipped: ../shared/data/binance absent\n");
        return;
    }
    struct qts_md_file f;
    assert_int_equal(qts_md_file_open(&f, in, NULL), 0);
    struct qts_md_symtab syms;
    qts_md_symtab_init(&syms);
    qts_md_symtab_configure(&syms, "BTCUSDT:1:3", NULL);
    struct qts_md_binance d;
    qts_md_binance_init(&d, &syms);
    uint64_t rng = 12345, ok = 0, bad = 0;
    const char *line;
    size_t n;
    char *buf = malloc(1 << 20);
    static const char alphabet[] = "{}[]\",:0123456789.-eE tfnu\\x";
    for (int k = 0; k < 3000 && qts_md_file_line(&f, &line, &n, NULL) == 1; k++) {
        for (int rep = 0; rep < 4; rep++) {
            memcpy(buf, line, n);
            size_t m = n;
            for (int j = 0; j < 3; j++) {
                rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
                size_t at = (size_t)(rng >> 33) % (m ? m : 1);
                int what = (int)((rng >> 20) % 3);
                if (what == 0 && m)
                    buf[at] = alphabet[(rng >> 40) % (sizeof alphabet - 1)];
                else if (what == 1 && m)
                    m = at; /* truncate */
                else if (m)
                    memmove(buf + at, buf + at + 1, m - at - 1), m--;
            }
            union qts_md_event ev;
            struct qts_err err;
            int rc = qts_md_binance_decode(&d, buf, m, &ev, &err);
            if (rc == 1) {
                ok++;
                if (ev.h.type == QTS_EV_BOOK)
                    for (uint32_t i = 0; i < ev.book.n_bids; i++)
                        assert_true(ev.book.bids[i].px > 0 && ev.book.bids[i].qty >= 0);
            } else if (rc < 0) {
                bad++;
                assert_true(strlen(err.msg) > 0);
            }
        }
    }
    printf("mutated lines: decoded=%llu rejected=%llu\n", (unsigned long long)ok,
           (unsigned long long)bad);
    assert_true(bad > 1000);
    qts_md_binance_cleanup(&d);
    qts_md_file_close(&f);

    /* binary: a valid file with random bytes overwritten */
    const char *path = tmp("mut.qev");
    struct qts_md_inst inst = {.symbol = "SYN", .px_exp = 2, .qty_exp = 0, .id = 0};
    struct qts_md_synth s;
    struct qts_md_synth_opts o = {.seed = 5, .max_events = 20000};
    qts_md_synth_init(&s, &o, &inst);
    struct qts_md_binwriter w;
    assert_int_equal(qts_md_binwriter_open(&w, path, NULL), 0);
    union qts_md_event ev;
    while (qts_md_synth_next(&s, &ev) == 1)
        assert_int_equal(qts_md_binwriter_write(&w, &inst, &ev, NULL), 0);
    assert_int_equal(qts_md_binwriter_close(&w, NULL), 0);
    qts_md_synth_cleanup(&s);
    for (int round = 0; round < 20; round++) {
        FILE *fp = fopen(path, "r+b");
        assert_non_null(fp);
        for (int j = 0; j < 5; j++) {
            rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
            fseek(fp, (long)((rng >> 33) % 1000000), SEEK_SET);
            fputc((int)(rng >> 24) & 0xff, fp);
        }
        fclose(fp);
        struct counts c = read_all(path, QTS_MD_FMT_BINARY, NULL, NULL, 0);
        assert_true(c.eio <= 1);
    }
    free(buf);
    qts_md_symtab_cleanup(&syms);
}

QTS_TEST_MAIN_TMPDIR(tmpdir, test_csv_trades_and_bad_rows, test_csv_quotes,
                     test_csv_without_header_fails_once, test_real_bar_files, test_binary_roundtrip,
                     test_truncated_and_damaged_gzip, test_binance_bad_lines,
                     test_synthetic_deterministic_and_consistent, test_parse_time_forms,
                     test_synthetic_quotes_match_book, test_mutations_never_crash)
