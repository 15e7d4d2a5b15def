/* test_lua_memory.c — a strategy past its memory limit is halted with a
 * clear error and its orders cancelled; another strategy goes on. */
#include "lua_helpers.h"

static void test_memory_limit_halts(void **state)
{
    (void)state;
    struct rec_sink *r = calloc(1, sizeof *r);
    struct qts_clock clk;
    qts_clock_init(&clk, QTS_CLOCK_VIRTUAL);
    struct qts_lua_runtime *rt = mk_rt(r, true, 1, &clk, 0);
    struct qts_lua_strategy_conf c;
    memset(&c, 0, sizeof c);
    c.name = "hog";
    c.file = fixture("hog.lua");
    c.worker = 0;
    c.mem_limit = 4u << 20;
    uint32_t hog = 0;
    assert_int_equal(qts_lua_runtime_add_strategy(rt, &c, &hog, NULL), 0);
    uint32_t good = add_strat(rt, "echo", fixture("echo.lua"), 0, NULL, 0);
    sync_ok(rt);
    assert_int_equal(strat_state(rt, hog), QTS_LUA_ST_RUNNING);
    int i;
    for (i = 0; i < 200 && strat_state(rt, hog) == QTS_LUA_ST_RUNNING; i++) {
        struct qts_trade t = mk_trade(INST_BTC, 100, 1, i + 1);
        const struct qts_ev_hdr *p = &t.h;
        size_t used;
        assert_int_equal(qts_lua_runtime_step(rt, &p, 1, &used), 0);
        qts_lua_runtime_drain(rt);
    }
    struct qts_lua_strategy_info info;
    qts_lua_runtime_info(rt, hog, &info);
    assert_int_equal(info.state, QTS_LUA_ST_HALTED);
    assert_non_null(strstr(info.reason, "memory limit exceeded"));
    assert_true(info.mem_peak <= c.mem_limit);
    assert_true(rec_cancelled_all(r, hog));
    assert_int_equal(count_tag(r, good, NULL), (size_t)i);
    struct qts_trade t = mk_trade(INST_BTC, 100, 1, 1000);
    const struct qts_ev_hdr *p = &t.h;
    size_t used;
    assert_int_equal(qts_lua_runtime_step(rt, &p, 1, &used), 0);
    qts_lua_runtime_drain(rt);
    assert_int_equal(count_tag(r, good, NULL), (size_t)i + 1);
    qts_lua_runtime_free(rt);
    free(r);
}

static void test_memory_limit_at_load(void **state)
{
    (void)state;
    struct rec_sink *r = calloc(1, sizeof *r);
    struct qts_lua_runtime *rt = mk_rt(r, false, 1, NULL, 0);
    struct qts_lua_strategy_conf c;
    memset(&c, 0, sizeof c);
    c.name = "tiny";
    c.file = fixture("echo.lua");
    c.worker = -1;
    c.mem_limit = 64u << 10; /* below what the prelude needs */
    uint32_t id = 0;
    assert_int_equal(qts_lua_runtime_add_strategy(rt, &c, &id, NULL), 0);
    sync_ok(rt);
    struct qts_lua_strategy_info info;
    qts_lua_runtime_info(rt, id, &info);
    assert_int_equal(info.state, QTS_LUA_ST_LOAD_FAILED);
    assert_non_null(strstr(info.last_error, "memory limit exceeded"));
    qts_lua_runtime_free(rt);
    free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_memory_limit_halts),
        cmocka_unit_test(test_memory_limit_at_load),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
