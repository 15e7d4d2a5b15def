/* test_kis_core.c — KIS protocol details of broker_kis: TR ids per
 * environment, ORD_DVSN codes, KRX tick rounding, sessions, error classes,
 * WebSocket frame/notice/trade parsing and AES-256-CBC with known vectors. */
#include "test_support.h"

#include <stdio.h>
#include <string.h>

#include "kis_core.h"

static void test_tr_ids_current_and_vts(void **state)
{
    (void)state;
    assert_string_equal(kis_tr_id(KIS_OP_BUY, false), "TTTC0012U");
    assert_string_equal(kis_tr_id(KIS_OP_SELL, false), "TTTC0011U");
    assert_string_equal(kis_tr_id(KIS_OP_BUY, true), "VTTC0012U");
    assert_string_equal(kis_tr_id(KIS_OP_SELL, true), "VTTC0011U");
    assert_string_equal(kis_tr_id(KIS_OP_RVSECNCL, false), "TTTC0013U");
    assert_string_equal(kis_tr_id(KIS_OP_RVSECNCL, true), "VTTC0013U");
    assert_string_equal(kis_tr_id(KIS_OP_DAILY_CCLD, false), "TTTC0081R");
    assert_string_equal(kis_tr_id(KIS_OP_DAILY_CCLD, true), "VTTC0081R");
    assert_string_equal(kis_tr_id(KIS_OP_BALANCE, true), "VTTC8434R");
    assert_string_equal(kis_tr_id(KIS_OP_PSBL_ORDER, true), "VTTC8908R");
    assert_string_equal(kis_tr_id(KIS_OP_PSBL_RVSECNCL, false), "TTTC0084R");
    assert_null(kis_tr_id(KIS_OP_PSBL_RVSECNCL, true)); /* not on the paper server */
    /* quotation ids are shared */
    assert_string_equal(kis_tr_id(KIS_OP_PRICE, true), "FHKST01010100");
    assert_string_equal(kis_tr_id(KIS_OP_ASKING, false), "FHKST01010200");
    char v[16];
    kis_tr_to_vts("CTSC9215R", v, sizeof v);
    assert_string_equal(v, "VTSC9215R");
    kis_tr_to_vts("JTTT1002U", v, sizeof v);
    assert_string_equal(v, "VTTT1002U");
    kis_tr_to_vts("H0STCNT0", v, sizeof v);
    assert_string_equal(v, "H0STCNT0");
    assert_string_equal(kis_op_path(KIS_OP_BUY), "/uapi/domestic-stock/v1/trading/order-cash");
}

static void test_ord_dvsn(void **state)
{
    (void)state;
    assert_string_equal(kis_ord_dvsn(QTS_ORD_LIMIT, QTS_TIF_DAY, NULL), "00");
    assert_string_equal(kis_ord_dvsn(QTS_ORD_MARKET, QTS_TIF_GTC, NULL), "01");
    assert_string_equal(kis_ord_dvsn(QTS_ORD_LIMIT, QTS_TIF_IOC, NULL), "11");
    assert_string_equal(kis_ord_dvsn(QTS_ORD_LIMIT, QTS_TIF_FOK, NULL), "12");
    assert_string_equal(kis_ord_dvsn(QTS_ORD_MARKET, QTS_TIF_IOC, NULL), "13");
    assert_string_equal(kis_ord_dvsn(QTS_ORD_MARKET, QTS_TIF_FOK, NULL), "14");
    assert_null(kis_ord_dvsn(QTS_ORD_LIMIT, QTS_TIF_POST, NULL));
    assert_string_equal(kis_ord_dvsn(QTS_ORD_LIMIT, QTS_TIF_DAY, "07"), "07");
    assert_string_equal(kis_ord_dvsn(QTS_ORD_LIMIT, QTS_TIF_DAY, "99"), "00");
    assert_true(kis_ord_dvsn_valid("22"));
    assert_false(kis_ord_dvsn_valid("41")); /* announced, unverified: not accepted */
    assert_true(kis_ord_dvsn_priceless("01"));
    assert_true(kis_ord_dvsn_priceless("03"));
    assert_false(kis_ord_dvsn_priceless("00"));
    assert_false(kis_ord_dvsn_priceless("07"));
}

static void test_tick_rounding(void **state)
{
    (void)state;
    assert_int_equal(kis_tick_size(1999), 1);
    assert_int_equal(kis_tick_size(2000), 5);
    assert_int_equal(kis_tick_size(19990), 10);
    assert_int_equal(kis_tick_size(20000), 50);
    assert_int_equal(kis_tick_size(71900), 100);
    assert_int_equal(kis_tick_size(200000), 500);
    assert_int_equal(kis_tick_size(499500), 500);
    assert_int_equal(kis_tick_size(500000), 1000);
    assert_int_equal(kis_round_price(71950, KIS_ROUND_DOWN), 71900);
    assert_int_equal(kis_round_price(71950, KIS_ROUND_UP), 72000);
    assert_int_equal(kis_round_price(71940, KIS_ROUND_NEAREST), 71900);
    assert_int_equal(kis_round_price(71960, KIS_ROUND_NEAREST), 72000);
    assert_int_equal(kis_round_price(71900, KIS_ROUND_UP), 71900); /* on the grid */
    /* band edges: 4999 rounds up to 5000 (tick 5 below, 10 above) */
    assert_int_equal(kis_round_price(4999, KIS_ROUND_UP), 5000);
    assert_int_equal(kis_round_price(4999, KIS_ROUND_DOWN), 4995);
    assert_int_equal(kis_round_price(499999, KIS_ROUND_UP), 500000);
    assert_int_equal(kis_round_price(500500, KIS_ROUND_DOWN), 500000);
    assert_int_equal(kis_round_price(1234, KIS_ROUND_NEAREST), 1234);
}

static void test_sessions(void **state)
{
    (void)state;
    struct kis_session s[2];
    assert_int_equal(kis_session_parse("09:00-15:30", &s[0]), 0);
    assert_int_equal(kis_session_parse("16:00-20:00", &s[1]), 0); /* announced after-market */
    assert_int_equal(kis_session_parse("15:30-09:00", &s[1]), QTS_EPARSE);
    assert_int_equal(kis_session_parse("9-15", &s[1]), QTS_EPARSE);
    assert_int_equal(kis_session_parse("09:00-15:30x", &s[1]), QTS_EPARSE);
    assert_int_equal(kis_session_parse("16:00-20:00", &s[1]), 0);
    /* 2026-01-05 00:00 UTC = 09:00 KST */
    int64_t t0 = kis_kst_to_utc_ns("20260105", "090000", 0);
    assert_int_equal(t0, 1767571200LL * 1000000000LL);
    assert_true(kis_session_open(s, 2, t0));
    assert_false(kis_session_open(s, 2, t0 - 1000000000LL));
    assert_false(kis_session_open(s, 2, t0 + (6 * 3600 + 30 * 60) * 1000000000LL)); /* 15:30 */
    assert_true(kis_session_open(s, 2, t0 + 7 * 3600 * 1000000000LL));              /* 16:00 */
}

/* A KST date or time field that is not exactly its digits (a signed "-1"
 * minute, a "-6" month from a garbled frame) is malformed: the time is 0
 * and a bad date falls back to the date of now_ns, instead of a month
 * that wrapped to 4 billion and overflowed the result (found by fuzzing). */
static void test_kst_time_malformed(void **state)
{
    (void)state;
    int64_t now = 1767571200LL * 1000000000LL; /* 2026-01-05 09:00 KST */
    assert_int_equal(kis_kst_to_utc_ns("20260105", "-1-1-1", now), 0);
    assert_int_equal(kis_kst_to_utc_ns("20260105", " 90000", now), 0);
    assert_int_equal(kis_kst_to_utc_ns("20260105", "250000", now), 0);
    int64_t today = kis_kst_to_utc_ns(NULL, "093354", now);
    assert_int_equal(today, now + (33 * 60 + 54) * 1000000000LL);
    assert_int_equal(kis_kst_to_utc_ns("2023-612", "093354", now), today);
    assert_int_equal(kis_kst_to_utc_ns("20231399", "093354", now), today);
    /* past 2262 the ns count overflows: a date that far is malformed */
    assert_int_equal(kis_kst_to_utc_ns("26230101", "093354", now), today);
}

static void test_error_classes(void **state)
{
    (void)state;
    assert_int_equal(kis_classify("EGW00123"), QTS_EAUTH);
    assert_int_equal(kis_classify("EGW00121"), QTS_EAUTH);
    assert_int_equal(kis_classify("EGW00201"), QTS_ERATELIMIT);
    assert_int_equal(kis_classify("EGW00215"), QTS_ERATELIMIT);
    assert_int_equal(kis_classify("EGW00133"), QTS_ERATELIMIT);
    assert_int_equal(kis_classify("EGW00002"), QTS_ENET);
    assert_int_equal(kis_classify("OPSQ0001"), QTS_ENET);
    assert_int_equal(kis_classify("EGW00103"), QTS_ECONFIG);
    assert_int_equal(kis_classify("EGW00213"), QTS_ECONFIG);
    assert_int_equal(kis_classify("APBK0952"), QTS_EREJECT);
    assert_int_equal(kis_classify(""), QTS_EREJECT);
}

static void test_frame_and_trade_parsing(void **state)
{
    (void)state;
    /* the workbook's example payload (46 fields) */
    char frame[] = "0|H0STCNT0|001|005930^093354^71900^5^-100^-0.14^72023.83^72100^72400^71700"
                   "^71900^71800^1^3052507^219853241700^5105^6937^1832^84.90^1366314^1159996^1"
                   "^0.39^20.28^090020^5^-200^090820^5^-500^092619^2^200^20230612^20^N^65945"
                   "^216924^1118750^2199206^0.05^2424142^125.92^0^^72100";
    struct kis_frame fr;
    assert_int_equal(kis_frame_split(frame, &fr), 0);
    assert_false(fr.encrypted);
    assert_string_equal(fr.tr_id, "H0STCNT0");
    assert_int_equal(fr.count, 1);
    char *f[64];
    size_t nf = kis_fields_split(fr.payload, f, 64);
    assert_int_equal(nf, 46);
    struct kis_trade t;
    assert_int_equal(kis_trade_parse(f, nf, &t), 0);
    assert_string_equal(t.symbol, "005930");
    assert_int_equal(t.px, 71900);
    assert_int_equal(t.qty, 1);
    assert_int_equal(t.aggressor, QTS_SIDE_BUY);
    assert_string_equal(t.date, "20230612");
    char sys_frame[] = "{\"header\":{\"tr_id\":\"PINGPONG\"}}";
    assert_int_equal(kis_frame_split(sys_frame, &fr), QTS_EPARSE);
    char bad[] = "0|H0STCNT0|abc|x";
    assert_int_equal(kis_frame_split(bad, &fr), QTS_EPARSE);
}

static void test_book_parsing(void **state)
{
    (void)state;
    char buf[2048];
    size_t n = 0;
    n += (size_t)snprintf(buf + n, sizeof buf - n, "005930^093000^0");
    for (int i = 0; i < 10; i++)
        n += (size_t)snprintf(buf + n, sizeof buf - n, "^%d", 72000 + i * 100);
    for (int i = 0; i < 10; i++)
        n += (size_t)snprintf(buf + n, sizeof buf - n, "^%d", 71900 - i * 100);
    for (int i = 0; i < 20; i++)
        n += (size_t)snprintf(buf + n, sizeof buf - n, "^%d", 100 + i);
    for (int i = 43; i < 62; i++)
        n += (size_t)snprintf(buf + n, sizeof buf - n, "^0");
    char *f[80];
    size_t nf = kis_fields_split(buf, f, 80);
    assert_int_equal(nf, 62);
    struct kis_book b;
    assert_int_equal(kis_book_parse(f, nf, &b), 0);
    assert_int_equal(b.ask_px[0], 72000);
    assert_int_equal(b.bid_px[0], 71900);
    assert_int_equal(b.bid_px[9], 71000);
    assert_int_equal(b.ask_qty[0], 100);
    assert_int_equal(b.bid_qty[0], 110);
    assert_int_equal(kis_book_parse(f, 40, &b), QTS_EPARSE);
}

/* Known vector: AES-256-CBC of "hello", key "0123456789abcdef0123456789abcdef",
 * iv "abcdefghijklmnop" (openssl enc -aes-256-cbc -K .. -iv .. -base64). */
static void test_aes_known_vector(void **state)
{
    (void)state;
    const char *key = "0123456789abcdef0123456789abcdef", *iv = "abcdefghijklmnop";
    char out[256];
    assert_int_equal(kis_aes_decrypt(key, iv, "YQ2rLe6zr8PYh3DCZtmuNg==", out, sizeof out), 5);
    assert_string_equal(out, "hello");
    char b64[256];
    assert_true(kis_aes_encrypt(key, iv, "hello", b64, sizeof b64) > 0);
    assert_string_equal(b64, "YQ2rLe6zr8PYh3DCZtmuNg==");
    /* wrong key: padding check fails */
    assert_true(kis_aes_decrypt("1123456789abcdef0123456789abcdef", iv,
                                "YQ2rLe6zr8PYh3DCZtmuNg==", out, sizeof out) < 0);
    assert_int_equal(kis_aes_decrypt(key, "short", "YQ2rLe6zr8PYh3DCZtmuNg==", out, sizeof out),
                     QTS_EPARSE);
    assert_int_equal(kis_aes_decrypt(key, iv, "not base64!", out, sizeof out), QTS_EPARSE);
    assert_int_equal(kis_aes_decrypt(key, iv, "YQ2rLe6zr8PYh3DCZtmuNg==", out, 3), QTS_ERANGE);
}

static void test_notice_round_trip(void **state)
{
    (void)state;
    /* 26 fields, fill of 4 at 71900 on order 0000001001 (buy) */
    const char *plain = "mockuser^5000000001^0000001001^^02^0^00^0^005930^0000000004^000071900"
                        "^093501^0^2^2^06010^000000010^TEST^^1^Y^^^^SAMSUNG^71900";
    const char *key = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345", *iv = "0123456789ABCDEF";
    char b64[1024], dec[1024];
    assert_true(kis_aes_encrypt(key, iv, plain, b64, sizeof b64) > 0);
    char frame[1200];
    snprintf(frame, sizeof frame, "1|H0STCNI9|001|%s", b64);
    struct kis_frame fr;
    assert_int_equal(kis_frame_split(frame, &fr), 0);
    assert_true(fr.encrypted);
    assert_string_equal(fr.tr_id, "H0STCNI9");
    assert_true(kis_aes_decrypt(key, iv, fr.payload, dec, sizeof dec) > 0);
    assert_string_equal(dec, plain);
    struct kis_notice n;
    assert_int_equal(kis_notice_parse(dec, &n), 0);
    assert_string_equal(n.odno, "0000001001");
    assert_int_equal(n.side, QTS_SIDE_BUY);
    assert_true(n.is_fill);
    assert_false(n.refused);
    assert_int_equal(n.qty, 4);
    assert_int_equal(n.px, 71900);
    assert_int_equal(n.ord_qty, 10);
    assert_string_equal(n.symbol, "005930");
    assert_string_equal(n.hhmmss, "093501");
    /* a cancel confirmation: receipt, RCTF_CLS 2, original order in field 3 */
    char cancel[] = "mockuser^5000000001^0000001003^0000001001^02^2^00^0^005930^0000000010"
                    "^000071900^093502^0^1^2^06010^000000010^TEST^^1^Y^^^^SAMSUNG^71900";
    assert_int_equal(kis_notice_parse(cancel, &n), 0);
    assert_false(n.is_fill);
    assert_int_equal(n.rctf_cls, '2');
    assert_string_equal(n.oodno, "0000001001");
    char shortn[] = "a^b^c";
    assert_int_equal(kis_notice_parse(shortn, &n), QTS_EPARSE);
}

static void test_numbers(void **state)
{
    (void)state;
    int64_t v;
    assert_int_equal(kis_atoi64("0000000004", &v), 0);
    assert_int_equal(v, 4);
    assert_int_equal(kis_atoi64("135440.2517", &v), 0);
    assert_int_equal(v, 135440);
    assert_int_equal(kis_atoi64("-100", &v), 0);
    assert_int_equal(v, -100);
    assert_int_equal(kis_atoi64("", &v), QTS_EPARSE);
    assert_int_equal(kis_atoi64("12a", &v), QTS_EPARSE);
}

QTS_TEST_MAIN(test_tr_ids_current_and_vts, test_ord_dvsn, test_tick_rounding, test_sessions,
              test_kst_time_malformed, test_error_classes, test_frame_and_trade_parsing,
              test_book_parsing, test_aes_known_vector, test_notice_round_trip, test_numbers)
