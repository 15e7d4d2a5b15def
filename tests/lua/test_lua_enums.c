/* test_lua_enums.c — host/lua/qts/enums.lua holds every C enum value the
 * prelude spells as a number. Two checks make any drift fail:
 *  - each Lua entry equals the compiled C constant (renumbering);
 *  - each Lua table has exactly the members its C enum declares in the
 *    header, minus the ones listed as left out (a member added to or
 *    removed from the C enum, or renamed). */
#include "lua_state_test.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "build_info.h"
#include "qts/qts_plugin.h"
#include "qts/qts_types.h"

struct entry {
    const char *table;
    const char *key;
    long c_value;
};

#define V(T, K, C)      \
    {                   \
        T, K, (long)(C) \
    }

static const struct entry entries[] = {
    V("EV", "trade", QTS_EV_TRADE),
    V("EV", "quote", QTS_EV_QUOTE),
    V("EV", "book", QTS_EV_BOOK),
    V("EV", "bar", QTS_EV_BAR),
    V("EV", "order", QTS_EV_ORDER),
    V("EV", "fill", QTS_EV_FILL),
    V("EV", "timer", QTS_EV_TIMER),
    V("EV", "feedback", QTS_EV_FEEDBACK),
    V("SIDE", "buy", QTS_SIDE_BUY),
    V("SIDE", "sell", QTS_SIDE_SELL),
    V("ORD", "market", QTS_ORD_MARKET),
    V("ORD", "limit", QTS_ORD_LIMIT),
    V("ORD", "stop", QTS_ORD_STOP),
    V("TIF", "gtc", QTS_TIF_GTC),
    V("TIF", "ioc", QTS_TIF_IOC),
    V("TIF", "fok", QTS_TIF_FOK),
    V("TIF", "day", QTS_TIF_DAY),
    V("TIF", "post", QTS_TIF_POST),
    V("ALGO", "direct", QTS_ALGO_DIRECT),
    V("ALGO", "twap", QTS_ALGO_TWAP),
    V("ALGO", "vwap", QTS_ALGO_VWAP),
    V("ALGO", "iceberg", QTS_ALGO_ICEBERG),
    V("OE", "accepted", QTS_OE_ACCEPTED),
    V("OE", "rejected", QTS_OE_REJECTED),
    V("OE", "cancelled", QTS_OE_CANCELLED),
    V("OE", "complete", QTS_OE_COMPLETE),
    V("OE", "escaped", QTS_OE_ESCAPED),
    V("OE", "failed", QTS_OE_FAILED),
    V("OE", "expired", QTS_OE_EXPIRED),
    V("OE", "replaced", QTS_OE_REPLACED),
    V("OS", "new", QTS_OS_NEW),
    V("OS", "pending_send", QTS_OS_PENDING_SEND),
    V("OS", "accepted", QTS_OS_ACCEPTED),
    V("OS", "partially_filled", QTS_OS_PARTIALLY_FILLED),
    V("OS", "filled", QTS_OS_FILLED),
    V("OS", "cancel_pending", QTS_OS_CANCEL_PENDING),
    V("OS", "cancelled", QTS_OS_CANCELLED),
    V("OS", "rejected", QTS_OS_REJECTED),
    V("OS", "expired", QTS_OS_EXPIRED),
    V("OS", "unknown", QTS_OS_UNKNOWN),
    V("LOG", "trace", QTS_LOG_TRACE),
    V("LOG", "debug", QTS_LOG_DEBUG),
    V("LOG", "info", QTS_LOG_INFO),
    V("LOG", "warn", QTS_LOG_WARN),
    V("LOG", "error", QTS_LOG_ERROR),
};

/* Scalars of enums.lua: name in Lua, compiled value. */
static const struct entry scalars[] = {
    V(NULL, "BOOK_SNAPSHOT", QTS_BOOK_SNAPSHOT),
    V(NULL, "CASH_EXP", QTS_CASH_EXP),
};

/* Which C enum each Lua table mirrors, and the members it leaves out. */
struct mirror {
    const char *table, *header, *c_enum, *prefix;
    const char *left_out[4];
};

static const struct mirror mirrors[] = {
    {"EV", "qts_types.h", "qts_event_type", "QTS_EV_", {"NONE"}},
    {"SIDE", "qts_types.h", "qts_side", "QTS_SIDE_", {"NONE"}},
    {"ORD", "qts_types.h", "qts_ord_type", "QTS_ORD_", {0}},
    {"TIF", "qts_types.h", "qts_tif", "QTS_TIF_", {0}},
    {"ALGO", "qts_types.h", "qts_algo", "QTS_ALGO_", {0}},
    {"OE", "qts_types.h", "qts_order_event_kind", "QTS_OE_", {0}},
    {"OS", "qts_types.h", "qts_order_state", "QTS_OS_", {0}},
    {"LOG", "qts_plugin.h", "qts_log_level", "QTS_LOG_", {"FATAL"}},
};

static lua_State *enums_state(void)
{
    return qts_test_lua_state(QTS_LUA_DIR_BUILD, "E = require('qts.enums')\n");
}

/* E[table][key] (table NULL: E[key]) as a number; fails when absent. */
static long lua_value(lua_State *L, const char *table, const char *key)
{
    lua_getglobal(L, "E");
    if (table) {
        lua_getfield(L, -1, table);
        if (!lua_istable(L, -1))
            fail_msg("enums.lua has no table %s", table);
        lua_remove(L, -2);
    }
    lua_getfield(L, -1, key);
    if (!lua_isnumber(L, -1))
        fail_msg("enums.lua: %s.%s missing or not a number", table ? table : "E", key);
    long v = (long)lua_tonumber(L, -1);
    lua_pop(L, 2);
    return v;
}

static size_t lua_table_len(lua_State *L, const char *table)
{
    lua_getglobal(L, "E");
    lua_getfield(L, -1, table);
    size_t n = 0;
    lua_pushnil(L);
    while (lua_next(L, -2) != 0) {
        n++;
        lua_pop(L, 1);
    }
    lua_pop(L, 2);
    return n;
}

static void test_values_equal_compiled_constants(void **state)
{
    (void)state;
    lua_State *L = enums_state();
    for (size_t i = 0; i < sizeof entries / sizeof entries[0]; i++) {
        long v = lua_value(L, entries[i].table, entries[i].key);
        if (v != entries[i].c_value)
            fail_msg("enums.lua %s.%s = %ld, C says %ld", entries[i].table, entries[i].key, v,
                     entries[i].c_value);
    }
    for (size_t i = 0; i < sizeof scalars / sizeof scalars[0]; i++)
        assert_int_equal(lua_value(L, NULL, scalars[i].key), scalars[i].c_value);
    lua_close(L);
}

static bool left_out(const struct mirror *m, const char *member)
{
    for (size_t i = 0; i < 4 && m->left_out[i]; i++)
        if (strcmp(m->left_out[i], member) == 0)
            return true;
    return false;
}

/* Every member of the C enum in its header (not left out) is in the Lua
 * table with the header's value, and the Lua table has nothing else. */
static void test_tables_match_headers(void **state)
{
    (void)state;
    lua_State *L = enums_state();
    for (size_t i = 0; i < sizeof mirrors / sizeof mirrors[0]; i++) {
        const struct mirror *m = &mirrors[i];
        char path[1024];
        snprintf(path, sizeof path, "%s/host/include/qts/%s", QTS_SOURCE_DIR, m->header);
        char *text = qts_test_read_file(path);
        assert_non_null(text);
        char open[128];
        snprintf(open, sizeof open, "enum %s {", m->c_enum);
        char *p = strstr(text, open);
        if (!p)
            fail_msg("%s: no `%s`", m->header, open);
        char *end = strstr(p, "};");
        assert_non_null(end);
        *end = '\0';
        size_t n_members = 0, plen = strlen(m->prefix);
        for (char *q = strstr(p, m->prefix); q; q = strstr(q + plen, m->prefix)) {
            char name[64], key[64];
            long value;
            if (sscanf(q + plen, "%63[A-Z0-9_] = %ld", name, &value) != 2)
                fail_msg("%s: cannot read the member at `%.40s`", m->header, q);
            if (left_out(m, name))
                continue;
            size_t k = 0;
            for (; name[k] && k < sizeof key - 1; k++)
                key[k] = (char)tolower((unsigned char)name[k]);
            key[k] = '\0';
            long v = lua_value(L, m->table, key);
            if (v != value)
                fail_msg("enums.lua %s.%s = %ld, %s says %ld", m->table, key, v, m->header, value);
            n_members++;
        }
        size_t n_lua = lua_table_len(L, m->table);
        if (n_lua != n_members)
            fail_msg("enums.lua %s has %zu entries, enum %s has %zu (an added or removed member?)",
                     m->table, n_lua, m->c_enum, n_members);
        free(text);
    }
    lua_close(L);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_values_equal_compiled_constants),
        cmocka_unit_test(test_tables_match_headers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
