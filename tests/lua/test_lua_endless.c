/* test_lua_endless.c — a strategy stuck in `while true do end` cannot stop
 * the host: the core-side calls keep returning, the strategy is marked
 * failed and its orders cancelled, the other strategy of the same worker
 * moves to a fresh thread and keeps receiving events, and the process exits
 * cleanly with the stuck thread still spinning. */
#include "lua_helpers.h"

static void run(bool lockstep)
{
    struct rec_sink *r = calloc(1, sizeof *r);
    struct qts_clock clk;
    qts_clock_init(&clk, QTS_CLOCK_VIRTUAL);
    struct qts_lua_runtime *rt = mk_rt(r, lockstep, 2, &clk, INT64_C(300000000));
    uint32_t stuck = add_strat(rt, "endless", fixture("endless.lua"), 0, NULL, 0);
    uint32_t mate = add_strat(rt, "echo", fixture("echo.lua"), 0, NULL, 0);   /* same worker */
    uint32_t other = add_strat(rt, "echo2", fixture("echo.lua"), 1, NULL, 0); /* other worker */
    sync_ok(rt);
    double px[] = {100, 250, 110, 120};
    for (int i = 0; i < 4; i++) {
        struct qts_trade t = mk_trade(INST_BTC, px[i], 1, i + 1);
        const struct qts_ev_hdr *p = &t.h;
        if (lockstep) {
            size_t used = 0;
            assert_int_equal(qts_lua_runtime_step(rt, &p, 1, &used), 0); /* returns */
            assert_int_equal(used, 1);
        } else {
            assert_int_equal(qts_lua_runtime_post(rt, &p[0]), 0);
            sync_ok(rt); /* the watchdog inside sync() abandons the stuck thread */
        }
        qts_lua_runtime_tick(rt);
    }
    struct qts_lua_strategy_info info;
    qts_lua_runtime_info(rt, stuck, &info);
    assert_int_equal(info.state, QTS_LUA_ST_FAILED);
    assert_non_null(strstr(info.reason, "stuck"));
    assert_true(rec_cancelled_all(r, stuck));
    assert_int_equal(r->states[stuck], QTS_LUA_ST_FAILED);
    /* mate saw every event, including the ones after the stuck one */
    assert_int_equal(count_tag(r, mate, NULL), 4);
    assert_int_equal(count_tag(r, mate, "v1:4"), 1);
    assert_int_equal(count_tag(r, other, NULL), 4);
    assert_int_equal(count_tag(r, stuck, NULL), 1);
    assert_int_equal(strat_state(rt, mate), QTS_LUA_ST_RUNNING);
    struct qts_lua_metrics m;
    qts_lua_runtime_metrics(rt, &m);
    assert_int_equal(m.failed, 1);
    assert_int_equal(m.workers_replaced, 1);
    /* reload of the failed strategy is refused; the others still reload */
    assert_int_equal(qts_lua_runtime_reload(rt, stuck), QTS_ESTATE);
    qts_lua_runtime_free(rt);
    free(r);
}

static void test_endless_loop_lockstep(void **state)
{
    (void)state;
    run(true);
}

static void test_endless_loop_live(void **state)
{
    (void)state;
    run(false);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_endless_loop_lockstep),
        cmocka_unit_test(test_endless_loop_live),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
