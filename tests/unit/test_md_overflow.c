/* test_md_overflow.c — hostile values in market-data files: times and
 * offsets whose arithmetic would leave int64 are malformed records
 * (QTS_ERANGE, counted and skipped), never wrapped values or undefined
 * behaviour (the sanitizer build aborts on a signed overflow). */
#include "test_support.h"

#include <stdio.h>
#include <string.h>

#include "md_binfile.h"
#include "md_source.h"

static char *tmpdir;

static const char *tmp_path(const char *name)
{
    static char buf[1024];
    snprintf(buf, sizeof buf, "%s/%s", tmpdir, name);
    return buf;
}

/* Reads every record of `path`; returns the events, malformed count in
 * *bad and the last message in `last` (256 bytes). */
static uint64_t drain(const char *path, int format, const char *symbols, uint64_t *bad, char *last)
{
    struct qts_md_symtab syms;
    qts_md_symtab_init(&syms);
    if (symbols)
        assert_int_equal(qts_md_symtab_configure(&syms, symbols, NULL), 0);
    struct qts_md_source src;
    struct qts_md_source_opts o = {.format = format, .symbol = "X"};
    assert_int_equal(qts_md_source_open(&src, path, &o, &syms, NULL), 0);
    union qts_md_event ev;
    struct qts_err err;
    uint64_t n = 0;
    int rc;
    *bad = 0;
    last[0] = '\0';
    while ((rc = qts_md_source_next(&src, &ev, &err)) != 0) {
        if (rc < 0) {
            (*bad)++;
            snprintf(last, 256, "%s", err.msg);
        } else {
            n++;
        }
    }
    qts_md_source_close(&src);
    qts_md_symtab_cleanup(&syms);
    return n;
}

/* `path` reads as `events` good records and one malformed record whose
 * message contains each of `where` and `why`. */
static void expect_one_bad(const char *path, int format, const char *symbols, uint64_t events,
                           const char *where, const char *why)
{
    uint64_t bad;
    char last[256];
    assert_int_equal(drain(path, format, symbols, &bad, last), events);
    assert_int_equal(bad, 1);
    assert_non_null(strstr(last, where));
    assert_non_null(strstr(last, why));
}

static void test_parse_time_out_of_range(void **state)
{
    (void)state;
    int64_t t = 0;
    /* seconds since the epoch that no int64 nanosecond count holds */
    assert_int_equal(qts_md_parse_time("99999999999", 11, &t), QTS_ERANGE);
    assert_int_equal(qts_md_parse_time("18446744073", 11, &t), QTS_ERANGE);
    /* dates outside 1677..2262 */
    assert_int_equal(qts_md_parse_time("9999-12-31", 10, &t), QTS_ERANGE);
    assert_int_equal(qts_md_parse_time("2300-01-01T00:00:00Z", 20, &t), QTS_ERANGE);
    assert_int_equal(qts_md_parse_time("0001-01-01 00:00:00.5", 21, &t), QTS_ERANGE);
    /* the edges that do fit */
    assert_int_equal(qts_md_parse_time("9223372036", 10, &t), 0);
    assert_int_equal(t, 9223372036000000000LL);
    assert_int_equal(qts_md_parse_time("2262-04-11", 10, &t), 0);
    assert_int_equal(qts_md_parse_time("1677-09-22", 10, &t), 0);
}

/* A binary file whose second trade is stamped far before the first: the
 * gap does not fit in int64 but is reported exactly. */
static void test_binary_time_backwards_extreme(void **state)
{
    (void)state;
    const char *p = tmp_path("back.qev");
    struct qts_md_binwriter w;
    assert_int_equal(qts_md_binwriter_open(&w, p, NULL), 0);
    struct qts_md_inst in;
    memset(&in, 0, sizeof in);
    snprintf(in.symbol, sizeof in.symbol, "BTCUSDT");
    in.px_exp = 2;
    in.qty_exp = 8;
    union qts_md_event ev;
    memset(&ev, 0, sizeof ev);
    ev.h.type = QTS_EV_TRADE;
    ev.h.struct_size = sizeof ev.trade;
    ev.trade.px = 100;
    ev.trade.qty = 1;
    int64_t times[] = {INT64_MAX, INT64_MIN, INT64_MAX};
    for (int i = 0; i < 3; i++) {
        ev.h.ts_exch_ns = ev.h.ts_recv_ns = times[i];
        assert_int_equal(qts_md_binwriter_write(&w, &in, &ev, NULL), 0);
    }
    assert_int_equal(qts_md_binwriter_close(&w, NULL), 0);
    expect_one_bad(p, QTS_MD_FMT_BINARY, NULL, 2, "back.qev@byte",
                   "18446744073709551615 ns before");
}

/* A Binance line with an absurd E sets the receive-to-exchange offset; a
 * later bookTicker (no time of its own) would overflow with it. */
static const char binance_offset[] =
    "0 {\"stream\":\"btcusdt@trade\",\"data\":{\"e\":\"trade\",\"E\":9223372036854,\"s\":"
    "\"BTCUSDT\",\"t\":1,\"p\":\"1.00\",\"q\":\"1\",\"m\":true}}\n"
    "9223372036854775000 {\"stream\":\"btcusdt@bookTicker\",\"data\":{\"u\":5,\"s\":"
    "\"BTCUSDT\",\"b\":\"1.00\",\"B\":\"1\",\"a\":\"2.00\",\"A\":\"3\"}}\n";

/* A bar opening at the last representable nanosecond closes beyond it. */
static const char bars_at_the_end[] = "time,open,high,low,close,volume\n"
                                      "2024-01-01,1,2,1,2,10\n"
                                      "9223372036854775807,1,2,1,2,10\n";

static void test_text_times_overflow(void **state)
{
    (void)state;
    const char *p = tmp_path("offset.txt");
    assert_int_equal(qts_test_write_file(p, binance_offset), 0);
    expect_one_bad(p, QTS_MD_FMT_BINANCE, "BTCUSDT:2:8", 1, "offset.txt:2:", "out of range");
    p = tmp_path("bars.csv");
    assert_int_equal(qts_test_write_file(p, bars_at_the_end), 0);
    expect_one_bad(p, QTS_MD_FMT_CSV_BARS, "X:2:0", 1, "bars.csv:3:", "out of range");
}

QTS_TEST_MAIN_TMPDIR(tmpdir, test_parse_time_out_of_range, test_binary_time_backwards_extreme,
                     test_text_times_overflow)
