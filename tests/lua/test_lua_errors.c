/* test_lua_errors.c — error isolation: a runtime error in a callback is
 * logged with file:line and traceback and counted; the rest of the batch
 * is still delivered; past the error rate the strategy is halted and its
 * orders cancelled, while other strategies on the same worker go on. */
#include "lua_helpers.h"

static void test_errors_counted_then_halted(void **state)
{
    (void)state;
    struct lua_fx x;
    lua_fx_open(&x, true);
    struct qts_lua_strategy_conf c = lua_conf("faulty", fixture("faulty.lua"), 0);
    c.error_limit = 3;
    c.error_window_ns = INT64_C(10000000000);
    uint32_t bad = 0;
    assert_int_equal(qts_lua_runtime_add_strategy(x.rt, &c, &bad, NULL), 0);
    uint32_t good = add_strat(x.rt, "echo", fixture("echo.lua"), 0, NULL, 0);
    sync_ok(x.rt);

    /* prices: 100, 160 (error), 110, 170 (error) */
    double px[] = {100, 160, 110, 170};
    struct qts_trade t[4];
    const struct qts_ev_hdr *p[4];
    for (int i = 0; i < 4; i++) {
        t[i] = mk_trade(INST_BTC, px[i], 1, (i + 1) * INT64_C(1000000000));
        p[i] = &t[i].h;
    }
    size_t at = 0;
    while (at < 4) {
        size_t used = 0;
        qts_clock_advance_to(&x.clk, p[at]->ts_exch_ns);
        assert_int_equal(qts_lua_runtime_step(x.rt, p + at, 4 - at, &used), 0);
        at += used;
        qts_lua_runtime_drain(x.rt);
    }
    struct qts_lua_strategy_info info;
    qts_lua_runtime_info(x.rt, bad, &info);
    assert_int_equal(info.state, QTS_LUA_ST_RUNNING);
    assert_int_equal(info.errors, 2);
    assert_non_null(strstr(info.last_error, "faulty.lua:6: price too high: 170"));
    assert_non_null(strstr(info.last_error, "stack traceback"));
    assert_non_null(strstr(info.last_error, "in function 'on_trade'"));
    /* the events after a failing one were still delivered */
    assert_int_equal(count_tag(x.r, bad, "ok:1"), 1);
    assert_int_equal(count_tag(x.r, bad, "ok:3"), 1);
    assert_int_equal(count_tag(x.r, bad, NULL), 2);

    /* third error within the window: halted, orders cancelled */
    struct qts_trade t5 = mk_trade(INST_BTC, 180, 1, INT64_C(5000000000));
    const struct qts_ev_hdr *p5 = &t5.h;
    size_t used = 0;
    qts_clock_advance_to(&x.clk, t5.h.ts_exch_ns);
    assert_int_equal(qts_lua_runtime_step(x.rt, &p5, 1, &used), 0);
    qts_lua_runtime_drain(x.rt);
    qts_lua_runtime_info(x.rt, bad, &info);
    assert_int_equal(info.state, QTS_LUA_ST_HALTED);
    assert_non_null(strstr(info.reason, "error rate"));
    assert_true(rec_cancelled_all(x.r, bad));
    assert_false(rec_cancelled_all(x.r, good));
    assert_int_equal(x.r->states[bad], QTS_LUA_ST_HALTED);

    /* the other strategy on the same worker keeps trading */
    struct qts_trade t6 = mk_trade(INST_BTC, 120, 1, INT64_C(6000000000));
    const struct qts_ev_hdr *p6 = &t6.h;
    assert_int_equal(qts_lua_runtime_step(x.rt, &p6, 1, &used), 0);
    qts_lua_runtime_drain(x.rt);
    assert_int_equal(count_tag(x.r, good, NULL), 6);
    assert_int_equal(count_tag(x.r, bad, NULL), 2);
    lua_fx_close(&x);
}

static void test_errors_outside_window_do_not_halt(void **state)
{
    (void)state;
    struct lua_fx x;
    lua_fx_open(&x, true);
    struct qts_lua_strategy_conf c = lua_conf("faulty", fixture("faulty.lua"), 0);
    c.error_limit = 2;
    c.error_window_ns = INT64_C(1000000000);
    uint32_t bad = 0;
    assert_int_equal(qts_lua_runtime_add_strategy(x.rt, &c, &bad, NULL), 0);
    sync_ok(x.rt);
    for (int i = 0; i < 5; i++) {
        int64_t ts = (i + 1) * INT64_C(5000000000); /* 5 s apart, window 1 s */
        struct qts_trade t = mk_trade(INST_BTC, 200, 1, ts);
        const struct qts_ev_hdr *p = &t.h;
        size_t used;
        qts_clock_advance_to(&x.clk, ts);
        assert_int_equal(qts_lua_runtime_step(x.rt, &p, 1, &used), 0);
    }
    struct qts_lua_strategy_info info;
    qts_lua_runtime_info(x.rt, bad, &info);
    assert_int_equal(info.errors, 5);
    assert_int_equal(info.state, QTS_LUA_ST_RUNNING);
    lua_fx_close(&x);
}

/* A callback over its time budget is reported (counted), not stopped. */
static void test_budget_overrun_reported(void **state)
{
    (void)state;
    struct lua_fx x;
    lua_fx_open(&x, true);
    struct qts_lua_strategy_conf c = lua_conf("slow", fixture("slow.lua"), 0);
    c.budget_ns = 1000000; /* 1 ms; the slow callback burns 5 ms of CPU */
    uint32_t id = 0;
    assert_int_equal(qts_lua_runtime_add_strategy(x.rt, &c, &id, NULL), 0);
    sync_ok(x.rt);
    struct qts_trade t[3] = {mk_trade(INST_BTC, 100, 1, 1), mk_trade(INST_BTC, 600, 1, 2),
                             mk_trade(INST_BTC, 100, 1, 3)};
    const struct qts_ev_hdr *p[3] = {&t[0].h, &t[1].h, &t[2].h};
    size_t used = 0;
    assert_int_equal(qts_lua_runtime_step(x.rt, p, 3, &used), 0);
    assert_int_equal(used, 3);
    struct qts_lua_strategy_info info;
    qts_lua_runtime_info(x.rt, id, &info);
    assert_int_equal(info.state, QTS_LUA_ST_RUNNING);
    assert_int_equal(info.events, 3);
    assert_true(info.budget_over >= 1);
    lua_fx_close(&x);
}

QTS_TEST_MAIN(test_errors_counted_then_halted, test_errors_outside_window_do_not_halt,
              test_budget_overrun_reported)
