/* test_lua_sandbox.c — a strategy cannot reach io, os.exit, package.loadlib,
 * ffi.load, debug or the host prelude; trying fails with file:line. */
#include "lua_helpers.h"

static void test_nothing_dangerous_reachable(void **state)
{
    (void)state;
    struct lua_fx x;
    lua_fx_open(&x, false);
    uint32_t id = add_strat(x.rt, "probe", fixture("sandbox_probe.lua"), -1, NULL, 0);
    sync_ok(x.rt);
    struct qts_lua_strategy_info info;
    qts_lua_runtime_info(x.rt, id, &info);
    if (info.state != QTS_LUA_ST_RUNNING)
        fail_msg("sandbox probe failed: %s", info.last_error);
    lua_fx_close(&x);
}

static void test_io_use_fails_with_file_line(void **state)
{
    (void)state;
    struct lua_fx x;
    lua_fx_open(&x, false);
    uint32_t id = add_strat(x.rt, "escape", fixture("sandbox_escape.lua"), -1, NULL, 0);
    uint32_t ok = add_strat(x.rt, "echo", fixture("echo.lua"), -1, NULL, 0);
    sync_ok(x.rt);
    struct qts_lua_strategy_info info;
    qts_lua_runtime_info(x.rt, id, &info);
    assert_int_equal(info.state, QTS_LUA_ST_LOAD_FAILED);
    assert_non_null(strstr(info.last_error, "sandbox_escape.lua:3:"));
    assert_non_null(strstr(info.last_error, "io"));
    assert_int_equal(strat_state(x.rt, ok), QTS_LUA_ST_RUNNING);
    lua_fx_close(&x);
}

QTS_TEST_MAIN(test_nothing_dangerous_reachable, test_io_use_fails_with_file_line)
