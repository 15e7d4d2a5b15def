/* test_util.c — fixed-point parsing and formatting, the error table. */
#include "test_support.h"

#include <string.h>

#include "qts/qts_err.h"
#include "util.h"

static int64_t parse(const char *s, unsigned exp, int *rc)
{
    int64_t v = -12345;
    *rc = qts_parse_fixed(s, strlen(s), exp, &v);
    return v;
}

static void test_parse_fixed_exact(void **state)
{
    (void)state;
    int rc;
    assert_int_equal(parse("60000.01", 8, &rc), 6000001000000LL);
    assert_int_equal(rc, 0);
    assert_int_equal(parse("0.00010000", 5, &rc), 10);
    assert_int_equal(rc, 0);
    assert_int_equal(parse("-1.5", 2, &rc), -150);
    assert_int_equal(parse("42", 0, &rc), 42);
    assert_int_equal(parse(".5", 1, &rc), 5);
    assert_int_equal(rc, 0);
}

static void test_parse_fixed_rejects(void **state)
{
    (void)state;
    int rc;
    parse("", 2, &rc);
    assert_int_equal(rc, QTS_EPARSE);
    parse("1.2.3", 2, &rc);
    assert_int_equal(rc, QTS_EPARSE);
    parse("1e5", 2, &rc);
    assert_int_equal(rc, QTS_EPARSE);
    parse("abc", 2, &rc);
    assert_int_equal(rc, QTS_EPARSE);
    parse("1.001", 2, &rc); /* would lose precision */
    assert_int_equal(rc, QTS_ERANGE);
    parse("99999999999999999999", 0, &rc);
    assert_int_equal(rc, QTS_ERANGE);
}

static void test_format_fixed(void **state)
{
    (void)state;
    char buf[64];
    qts_format_fixed(buf, sizeof buf, 6000001000000LL, 8);
    assert_string_equal(buf, "60000.01000000");
    qts_format_fixed(buf, sizeof buf, -5, 2);
    assert_string_equal(buf, "-0.05");
    qts_format_fixed(buf, sizeof buf, 7, 0);
    assert_string_equal(buf, "7");
}

static void test_error_table(void **state)
{
    (void)state;
    assert_string_equal(qts_err_name(QTS_EINVAL), "QTS_EINVAL");
    assert_string_equal(qts_strerror(QTS_ETIMEDOUT), "timed out");
    assert_string_equal(qts_strerror(12345), "unknown error code");
    struct qts_err err;
    assert_int_equal(qts_err_set(&err, QTS_ECONFIG, "bad %s", "key"), QTS_ECONFIG);
    assert_string_equal(err.msg, "bad key");
    assert_int_equal(qts_err_set(NULL, QTS_EIO, "x"), QTS_EIO);
}

QTS_TEST_MAIN(test_parse_fixed_exact, test_parse_fixed_rejects, test_format_fixed, test_error_table)
