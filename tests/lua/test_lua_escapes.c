/* test_lua_escapes.c — every way out of the strategy sandbox that has been
 * tried (tests/lua/strategies/escape/<name>.lua, one file per attempt) ends
 * in a clean Lua error naming the file: the host process survives, the
 * strategy is still running (one error counted), and a neighbour strategy
 * on the same worker keeps trading. docs/security.md points here. */
#include "lua_helpers.h"

#include <sys/stat.h>

#include "util.h"

struct escape {
    const char *file; /* under tests/lua/strategies/escape/ */
    char event;       /* 't' trade, 'b' book, 'o' order: what triggers the callback */
    const char *want; /* in the error message */
};

static const struct escape escapes[] = {
    {"ffi_cast.lua", 't', "ffi.cast: ffi is not available to strategies"},
    {"require_ffi.lua", 't', "require ffi: ffi is not available to strategies"},
    {"string_dump.lua", 't', "attempt to call field 'dump' (a nil value)"},
    {"string_mt_dump.lua", 't', "string metatable locked (nil)"},
    {"load_binary.lua", 't', "binary chunks are not accepted"},
    {"load_reader.lua", 't', "binary chunks are not accepted"},
    {"load_mode_b.lua", 't', "load: only mode \"t\" (source text)"},
    {"loadstring_binary.lua", 't', "binary chunks are not accepted"},
    {"dofile.lua", 't', "attempt to call global 'dofile' (a nil value)"},
    {"loadfile.lua", 't', "attempt to call global 'loadfile' (a nil value)"},
    {"jit_util.lua", 't', "require: only qts modules and strategies/lib/<name>.lua"},
    {"jit_global.lua", 't', "attempt to index global 'jit' (a nil value)"},
    {"debug.lua", 't', "attempt to index global 'debug' (a nil value)"},
    {"getfenv.lua", 't', "attempt to call global 'getfenv' (a nil value)"},
    {"ctx_metatable.lua", 't', "cannot change a protected metatable"},
    {"ctx_getmetatable.lua", 't', "attempt to index local 'mt' (a boolean value)"},
    {"cdata_setmetatable.lua", 't', "table expected, got cdata"},
    {"event_arith.lua", 't', "attempt to perform arithmetic on 'struct qts_sv_trade'"},
    {"event_index.lua", 't', "'struct qts_sv_trade' cannot be indexed with 'number'"},
    {"event_write.lua", 't', "attempt to write to constant location"},
    {"event_array.lua", 't', "'struct qts_sv_trade' has no member named 'reserved'"},
    {"book_pointer.lua", 'b', "'struct qts_sv_book' has no member named 'bids'"},
    {"order_array.lua", 'o', "'struct qts_sv_order' has no member named 'reason_'"},
    {"indicator_handle.lua", 't', "attempt to index field 'h' (a nil value)"},
    {"collectgarbage.lua", 't', "collectgarbage: only \"count\", \"collect\" and \"step\""},
    {"package.lua", 't', "attempt to index global 'package' (a nil value)"},
};

static void step_one(struct lua_fx *x, const struct qts_ev_hdr *ev)
{
    size_t used = 0;
    qts_clock_advance_to(&x->clk, ev->ts_exch_ns);
    assert_int_equal(qts_lua_runtime_step(x->rt, &ev, 1, &used), 0);
    qts_lua_runtime_drain(x->rt);
}

static void run_escape(const struct escape *e)
{
    struct lua_fx x;
    lua_fx_open(&x, true);
    char file[512];
    snprintf(file, sizeof file, "%s/tests/lua/strategies/escape/%s", qts_test_source_dir(),
             e->file);
    struct qts_lua_strategy_conf c = lua_conf("escape", file, 0);
    uint32_t bad = 0;
    assert_int_equal(qts_lua_runtime_add_strategy(x.rt, &c, &bad, NULL), 0);
    uint32_t good = add_strat(x.rt, "echo", fixture("echo.lua"), 0, NULL, 0);
    sync_ok(x.rt);
    assert_int_equal(strat_state(x.rt, bad), QTS_LUA_ST_RUNNING);

    int64_t ts = INT64_C(1000000000);
    struct qts_level lv[2] = {{fx(99.5, 2), fx(1, 3)}, {fx(100.5, 2), fx(1, 3)}};
    struct qts_book_update b;
    struct qts_order_event o;
    if (e->event == 'b') {
        memset(&b, 0, sizeof b);
        hdr(&b.h, QTS_EV_BOOK, sizeof b, INST_BTC, ts);
        b.h.flags = QTS_BOOK_SNAPSHOT;
        b.n_bids = 1, b.n_asks = 1, b.bids = lv, b.asks = lv + 1;
        step_one(&x, &b.h);
    } else if (e->event == 'o') {
        o = mk_order_ev(bad, 7, INST_BTC, QTS_OE_ACCEPTED, ts);
        step_one(&x, &o.h);
    }
    struct qts_trade t = mk_trade(INST_BTC, 100, 1, ts + 1);
    step_one(&x, &t.h);

    struct qts_lua_strategy_info info;
    qts_lua_runtime_info(x.rt, bad, &info);
    if (info.errors < 1 || !strstr(info.last_error, e->want) || !strstr(info.last_error, e->file))
        fail_msg("%s: errors=%llu, last error: %s", e->file, (unsigned long long)info.errors,
                 info.last_error);
    assert_int_equal(info.state, QTS_LUA_ST_RUNNING); /* one error, below the rate limit */
    /* the neighbour on the same worker saw the trade and ordered */
    assert_int_equal(count_tag(x.r, good, "v1:1"), 1);
    lua_fx_close(&x);
}

static void test_every_escape_is_a_clean_error(void **state)
{
    (void)state;
    for (size_t i = 0; i < QTS_ARRAY_LEN(escapes); i++)
        run_escape(&escapes[i]);
}

static void write_file(const char *path, const char *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    fclose(f);
}

/* LuaJIT bytecode starts with ESC 'L' 'J'; a header is enough: the file
 * must be refused before anything in it is parsed. */
static const char bytecode[] = "\033LJ\002\000\000\000\000";

static void expect_load_failed(const char *file, const char *want)
{
    struct lua_fx x;
    lua_fx_open(&x, false);
    uint32_t id = add_strat(x.rt, "bytecode", file, -1, NULL, 0);
    uint32_t ok = add_strat(x.rt, "echo", fixture("echo.lua"), -1, NULL, 0);
    sync_ok(x.rt);
    struct qts_lua_strategy_info info;
    qts_lua_runtime_info(x.rt, id, &info);
    assert_int_equal(info.state, QTS_LUA_ST_LOAD_FAILED);
    if (!strstr(info.last_error, want))
        fail_msg("last error: %s (wanted %s)", info.last_error, want);
    assert_int_equal(strat_state(x.rt, ok), QTS_LUA_ST_RUNNING);
    lua_fx_close(&x);
}

/* A bytecode strategy file, and a source strategy that requires a bytecode
 * strategies/lib module: both fail to load, before anything runs. */
static void test_bytecode_files_refused(void **state)
{
    (void)state;
    char *scratch = qts_test_tmpdir();
    char compiled[512], lib[512], evil[512], uses[512];
    snprintf(compiled, sizeof compiled, "%s/compiled.lua", scratch);
    snprintf(lib, sizeof lib, "%s/lib", scratch);
    snprintf(evil, sizeof evil, "%s/lib/evil.lua", scratch);
    snprintf(uses, sizeof uses, "%s/uses_lib.lua", scratch);
    static const char uses_text[] = "local evil = require(\"evil\")\n"
                                    "return { on_init = function() return {} end }\n";
    write_file(compiled, bytecode, sizeof bytecode - 1);
    assert_int_equal(mkdir(lib, 0700), 0);
    write_file(evil, bytecode, sizeof bytecode - 1);
    write_file(uses, uses_text, sizeof uses_text - 1);

    expect_load_failed(compiled, "attempt to load chunk with wrong mode");
    expect_load_failed(uses, "require evil: attempt to load chunk with wrong mode");
    qts_test_rmtree(scratch);
    free(scratch);
}

QTS_TEST_MAIN(test_every_escape_is_a_clean_error, test_bytecode_files_refused)
