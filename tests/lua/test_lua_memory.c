/* test_lua_memory.c — a strategy past its memory limit is halted with a
 * clear error and its orders cancelled; another strategy goes on. */
#include "lua_helpers.h"

static void test_memory_limit_halts(void **state)
{
    (void)state;
    struct lua_fx x;
    lua_fx_open(&x, true);
    struct qts_lua_strategy_conf c = lua_conf("hog", fixture("hog.lua"), 0);
    c.mem_limit = 4u << 20;
    uint32_t hog = 0;
    assert_int_equal(qts_lua_runtime_add_strategy(x.rt, &c, &hog, NULL), 0);
    uint32_t good = add_strat(x.rt, "echo", fixture("echo.lua"), 0, NULL, 0);
    sync_ok(x.rt);
    assert_int_equal(strat_state(x.rt, hog), QTS_LUA_ST_RUNNING);
    int i;
    for (i = 0; i < 200 && strat_state(x.rt, hog) == QTS_LUA_ST_RUNNING; i++) {
        struct qts_trade t = mk_trade(INST_BTC, 100, 1, i + 1);
        const struct qts_ev_hdr *p = &t.h;
        size_t used;
        assert_int_equal(qts_lua_runtime_step(x.rt, &p, 1, &used), 0);
        qts_lua_runtime_drain(x.rt);
    }
    struct qts_lua_strategy_info info;
    qts_lua_runtime_info(x.rt, hog, &info);
    assert_int_equal(info.state, QTS_LUA_ST_HALTED);
    assert_non_null(strstr(info.reason, "memory limit exceeded"));
    assert_true(info.mem_peak <= c.mem_limit);
    assert_true(rec_cancelled_all(x.r, hog));
    assert_int_equal(count_tag(x.r, good, NULL), (size_t)i);
    struct qts_trade t = mk_trade(INST_BTC, 100, 1, 1000);
    const struct qts_ev_hdr *p = &t.h;
    size_t used;
    assert_int_equal(qts_lua_runtime_step(x.rt, &p, 1, &used), 0);
    qts_lua_runtime_drain(x.rt);
    assert_int_equal(count_tag(x.r, good, NULL), (size_t)i + 1);
    lua_fx_close(&x);
}

static void test_memory_limit_at_load(void **state)
{
    (void)state;
    struct lua_fx x;
    lua_fx_open(&x, false);
    struct qts_lua_strategy_conf c = lua_conf("tiny", fixture("echo.lua"), -1);
    c.mem_limit = 64u << 10; /* below what the prelude needs */
    uint32_t id = 0;
    assert_int_equal(qts_lua_runtime_add_strategy(x.rt, &c, &id, NULL), 0);
    sync_ok(x.rt);
    struct qts_lua_strategy_info info;
    qts_lua_runtime_info(x.rt, id, &info);
    assert_int_equal(info.state, QTS_LUA_ST_LOAD_FAILED);
    assert_non_null(strstr(info.last_error, "memory limit exceeded"));
    lua_fx_close(&x);
}

QTS_TEST_MAIN(test_memory_limit_halts, test_memory_limit_at_load)
