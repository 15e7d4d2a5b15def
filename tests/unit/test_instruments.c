/* test_instruments.c — registry ids, lookups, conflicts, rounding. */
#include "test_support.h"

#include <stdio.h>
#include <string.h>

#include "instruments.h"
#include "util.h"

static struct qts_instrument make(const char *sym, unsigned px_exp, unsigned qty_exp)
{
    struct qts_instrument i;
    memset(&i, 0, sizeof i);
    qts_strlcpy(i.symbol, sym, sizeof i.symbol);
    i.px_exp = (uint8_t)px_exp;
    i.qty_exp = (uint8_t)qty_exp;
    return i;
}

static void test_define_and_find(void **state)
{
    (void)state;
    struct qts_instruments *reg = qts_instruments_new();
    uint32_t id;
    for (int k = 0; k < 1000; k++) {
        char sym[16];
        snprintf(sym, sizeof sym, "S%04d", k);
        struct qts_instrument i = make(sym, 2, 0);
        assert_int_equal(qts_instruments_define(reg, &i, &id, NULL), 0);
        assert_int_equal(id, (uint32_t)k);
    }
    const struct qts_instrument *p = qts_instruments_find(reg, "S0500");
    assert_non_null(p);
    assert_int_equal(p->id, 500);
    assert_ptr_equal(qts_instruments_get(reg, 500), p);
    assert_null(qts_instruments_find(reg, "NOPE"));
    /* same definition again: same id; conflicting exponents: error */
    struct qts_instrument again = make("S0007", 2, 0);
    assert_int_equal(qts_instruments_define(reg, &again, &id, NULL), 0);
    assert_int_equal(id, 7);
    struct qts_instrument bad = make("S0007", 4, 0);
    struct qts_err err;
    assert_int_equal(qts_instruments_define(reg, &bad, &id, &err), QTS_EEXIST);
    assert_non_null(strstr(err.msg, "S0007 already defined"));
    assert_int_equal(qts_instruments_count(reg), 1000);
    qts_instruments_free(reg);
}

static void test_rounding(void **state)
{
    (void)state;
    struct qts_instrument i = make("X", 2, 3);
    i.tick_size = 5;  /* 0.05 */
    i.lot_size = 100; /* 0.100 */
    assert_int_equal(qts_instrument_round_px(&i, 10003, QTS_SIDE_BUY), 10000);
    assert_int_equal(qts_instrument_round_px(&i, 10003, QTS_SIDE_SELL), 10005);
    assert_int_equal(qts_instrument_round_px(&i, 10005, QTS_SIDE_SELL), 10005);
    assert_int_equal(qts_instrument_round_qty(&i, 1250), 1200);
}

QTS_TEST_MAIN(test_define_and_find, test_rounding)
