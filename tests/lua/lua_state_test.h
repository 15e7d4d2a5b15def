/* lua_state_test.h — a bare lua_State for the tests that load the host's
 * Lua modules directly, without the runtime. Header-only. */
#ifndef QTS_LUA_STATE_TEST_H
#define QTS_LUA_STATE_TEST_H

#include "test_support.h"

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <stdio.h>

/* A new state with the standard libraries, `require` looking in `lua_dir`
 * (borrowed: the host/lua folder of the source or build tree), then `code`
 * (borrowed, NULL for none) run in it; fails the test when that fails.
 * Owned: lua_close. */
static inline lua_State *qts_test_lua_state(const char *lua_dir, const char *code)
{
    lua_State *L = luaL_newstate();
    assert_non_null(L);
    luaL_openlibs(L);
    char buf[2048];
    snprintf(buf, sizeof buf, "package.path = '%s/?.lua;%s/?/init.lua'\n%s", lua_dir, lua_dir,
             code ? code : "");
    if (luaL_dostring(L, buf) != 0)
        fail_msg("%s: %s", buf, lua_tostring(L, -1));
    return L;
}

#endif
