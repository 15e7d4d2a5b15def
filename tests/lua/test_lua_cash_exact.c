/* test_lua_cash_exact.c — a strategy's cash and equity mirror equal the C
 * portfolio's to the last cash unit (10^-6), whatever the fills: notionals
 * with sub-unit digits (rounded half away from zero once per fill, like
 * qts_cash_notional), exact halves, odd fees and rebates, balances past
 * 2^53 units where a double loses units. The mirror used to add each fill
 * in floating point and round the sum, which drifted from the portfolio. */
#include "lua_helpers.h"

#include <inttypes.h>

#include "portfolio.h"

#define INST_FINE 2 /* px_exp 4, qty_exp 5: px*qty has 9 decimals, cash 6 */

/* A lockstep runtime with cash_probe.lua starting with `initial_units`. */
struct cash_run {
    struct rec_sink *r;
    struct qts_clock clk;
    struct qts_lua_runtime *rt;
    uint32_t id;
};

static void cash_run_start(struct cash_run *w, int64_t initial_units)
{
    w->r = calloc(1, sizeof *w->r);
    qts_clock_init(&w->clk, QTS_CLOCK_VIRTUAL);
    w->rt = mk_rt(w->r, true, 1, &w->clk, 0);
    add_inst(w->rt, INST_FINE, "FINEUSDT", 4, 5);
    /* a double, as the engine passes it: the portfolio's units / 10^6 */
    struct qts_lua_strategy_conf c = {.name = "cash",
                                      .file = fixture("cash_probe.lua"),
                                      .initial_cash =
                                          qts_fixed_to_double(initial_units, QTS_CASH_EXP)};
    struct qts_err err;
    if (qts_lua_runtime_add_strategy(w->rt, &c, &w->id, &err) != 0)
        fail_msg("add_strategy: %s", err.msg);
    sync_ok(w->rt);
}

static void cash_run_end(struct cash_run *w)
{
    qts_lua_runtime_free(w->rt);
    free(w->r);
}

static const char *tag_from_end(const struct rec_sink *r, size_t back)
{
    assert_true(r->n_intents >= back);
    return r->intents[r->n_intents - back].tag;
}

static void test_cash_and_equity_match_portfolio(void **state)
{
    (void)state;
    const int64_t start_units = INT64_C(100000) * 1000000;
    struct cash_run w;
    cash_run_start(&w, start_units);
    struct qts_portfolio *pf = qts_portfolio_new(start_units);

    uint64_t seed = 12345;
    for (int i = 0; i < 600; i++) {
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        uint64_t rnd = seed >> 11;
        struct qts_fill f;
        memset(&f, 0, sizeof f);
        f.h.struct_size = sizeof f;
        f.h.type = QTS_EV_FILL;
        f.h.ts_exch_ns = f.h.ts_recv_ns = INT64_C(1000) * (i + 1);
        f.h.seq = (uint64_t)i + 1;
        f.strategy_id = w.id;
        f.order_id = ((uint64_t)w.id << 32) | 1;
        f.fill_id = (uint64_t)i + 1;
        f.side = (rnd & 1) ? QTS_SIDE_SELL : QTS_SIDE_BUY;
        if (i % 3 == 2) {
            /* big sells: ~10^9 currency units each, the balance goes past
             * 2^53 cash units (where a double stops counting units) */
            f.h.instrument = INST_BTC;
            f.h.px_exp = 2, f.h.qty_exp = 3;
            f.side = QTS_SIDE_SELL;
            f.px = 6000000 + (int64_t)(rnd % 1000003);           /* ~60000.00 */
            f.qty = 10000000 + (int64_t)((rnd >> 20) % 9999991); /* ~10000-20000 */
        } else {
            /* fine: a notional with 9 decimals; every other one an exact half unit */
            f.h.instrument = INST_FINE;
            f.h.px_exp = 4, f.h.qty_exp = 5;
            f.px = 10001 + (int64_t)(rnd % 7919);
            f.qty = (i % 2) ? 500 : 1 + (int64_t)((rnd >> 16) % 99999);
        }
        /* odd fees in cash units, some rebates */
        f.fee = (int64_t)((rnd >> 24) % 1000003) - ((i % 7 == 0) ? 700001 : 0);
        assert_int_equal(qts_portfolio_apply_fill(pf, &f), 0);
        assert_int_equal(qts_lua_runtime_post(w.rt, &f.h), 0);
        qts_lua_runtime_drain(w.rt);

        char want_c[32], want_e[32];
        snprintf(want_c, sizeof want_c, "c%" PRId64, qts_portfolio_cash(pf));
        snprintf(want_e, sizeof want_e, "e%" PRId64, qts_portfolio_equity(pf));
        if (strcmp(tag_from_end(w.r, 3), want_c) != 0)
            fail_msg("fill %d: strategy cash %s, portfolio %s", i, tag_from_end(w.r, 3), want_c);
        if (strcmp(tag_from_end(w.r, 2), want_e) != 0)
            fail_msg("fill %d: strategy equity %s, portfolio %s", i, tag_from_end(w.r, 2), want_e);
        assert_string_equal(tag_from_end(w.r, 1), "nok");
    }
    /* the run went past what a double holds to the unit */
    assert_true(qts_portfolio_cash(pf) > (INT64_C(1) << 53));
    qts_portfolio_free(pf);
    cash_run_end(&w);
}

/* Starting cash arrives as a double (the portfolio's units / 10^6, as the
 * engine passes it); 136787158423140 / 1e6 * 1e6 lands just below the
 * integer, which truncation turned into one unit less. */
static void test_starting_cash_kept_to_the_unit(void **state)
{
    (void)state;
    const int64_t units = INT64_C(136787158423140);
    struct cash_run w;
    cash_run_start(&w, units);
    struct qts_fill f =
        mk_fill(w.id, ((uint64_t)w.id << 32) | 1, INST_BTC, QTS_SIDE_BUY, 100, 2, 2000);
    assert_int_equal(qts_lua_runtime_post(w.rt, &f.h), 0);
    qts_lua_runtime_drain(w.rt);
    char want[32];
    snprintf(want, sizeof want, "c%" PRId64, units - 200000000); /* 2 at 100.00 */
    assert_string_equal(tag_from_end(w.r, 3), want);
    cash_run_end(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cash_and_equity_match_portfolio),
        cmocka_unit_test(test_starting_cash_kept_to_the_unit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
