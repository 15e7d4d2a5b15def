/* test_lua_reload.c — hot reload of strategy files: a good new version is
 * swapped between two events with on_stop -> on_reload state hand-over (no
 * event lost or duplicated); a syntax error or a runtime error in
 * on_reload keeps the old version and reports file:line; a deleted file
 * stops the strategy and cancels its orders; a configured file that
 * appears later is started. */
#include "lua_helpers.h"

#include <unistd.h>

static const char *V1 =
    "local M = {}\n"
    "function M.on_init(ctx) return { n = 0, v = 1 } end\n"
    "function M.on_trade(ctx, st, t)\n"
    "  st.n = st.n + 1\n"
    "  ctx:buy(t:symbol(), 0.001, t:price(), { tag = 'v' .. st.v .. ':' .. st.n })\n"
    "end\n"
    "function M.on_stop(ctx, st) return { n = st.n } end\n"
    "return M\n";

static const char *V2 =
    "local M = {}\n"
    "function M.on_init(ctx) return { n = 0, v = 2 } end\n"
    "function M.on_reload(ctx, snap, params) return { n = snap.n, v = 2 } end\n"
    "function M.on_trade(ctx, st, t)\n"
    "  st.n = st.n + 1\n"
    "  ctx:buy(t:symbol(), 0.001, t:price(), { tag = 'v' .. st.v .. ':' .. st.n })\n"
    "end\n"
    "function M.on_stop(ctx, st) return { n = st.n } end\n"
    "-- version two\n"
    "return M\n";

static const char *SYNTAX =
    "local M = {}\n"
    "function M.on_init(ctx) return {} end\n"
    "function M.on_trade(ctx, st, t)\n"
    "  if t:price() > 0 then\n"       /* missing end */
    "end\n"
    "return M\n";

static const char *BAD_RELOAD =
    "local M = {}\n"
    "function M.on_init(ctx) return { n = 0, v = 3 } end\n"
    "function M.on_reload(ctx, snap) return { n = snap.missing.n } end\n"
    "return M\n";

static void post_trades(struct qts_lua_runtime *rt, int from, int n)
{
    for (int i = from; i < from + n; i++) {
        struct qts_trade t = mk_trade(INST_BTC, 100 + i, 1, i + 1);
        const struct qts_ev_hdr *p = &t.h;
        size_t used;
        assert_int_equal(qts_lua_runtime_step(rt, &p, 1, &used), 0);
        qts_lua_runtime_drain(rt);
    }
}

/* Rewrite through rename(), as editors and deploy scripts do. */
static void write_file(const char *dir, const char *path, const char *text)
{
    char tmp[600];
    snprintf(tmp, sizeof tmp, "%s/.tmp-write", dir);
    assert_int_equal(qts_test_write_file(tmp, text), 0);
    assert_int_equal(rename(tmp, path), 0);
}

static void test_reload_cycle(void **state)
{
    (void)state;
    char *dir = qts_test_tmpdir();
    char path[600];
    snprintf(path, sizeof path, "%s/strat.lua", dir);
    write_file(dir, path, V1);
    struct rec_sink *r = calloc(1, sizeof *r);
    struct qts_clock clk;
    qts_clock_init(&clk, QTS_CLOCK_VIRTUAL);
    struct qts_lua_runtime *rt = mk_rt(r, true, 1, &clk, 0);
    uint32_t id = add_strat(rt, "strat", path, 0, NULL, 0);
    sync_ok(rt);
    post_trades(rt, 0, 3);
    assert_int_equal(qts_lua_runtime_scan(rt), 0); /* nothing changed */

    /* good version: state handed over, numbering continues */
    write_file(dir, path, V2);
    assert_int_equal(qts_lua_runtime_scan(rt), 1);
    post_trades(rt, 3, 2);
    assert_int_equal(r->n_intents, 5);
    assert_string_equal(r->intents[2].tag, "v1:3");
    assert_string_equal(r->intents[3].tag, "v2:4");
    assert_string_equal(r->intents[4].tag, "v2:5");

    /* syntax error: the old version keeps running, file:line reported */
    write_file(dir, path, SYNTAX);
    assert_int_equal(qts_lua_runtime_scan(rt), 1);
    post_trades(rt, 5, 1);
    struct qts_lua_strategy_info info;
    qts_lua_runtime_info(rt, id, &info);
    assert_int_equal(info.state, QTS_LUA_ST_RUNNING);
    assert_int_equal(info.reload_failures, 1);
    assert_non_null(strstr(info.last_error, "strat.lua:7:"));
    assert_string_equal(r->intents[5].tag, "v2:6");

    /* runtime error in on_reload: the old version keeps running */
    write_file(dir, path, BAD_RELOAD);
    assert_int_equal(qts_lua_runtime_scan(rt), 1);
    post_trades(rt, 6, 1);
    qts_lua_runtime_info(rt, id, &info);
    assert_int_equal(info.state, QTS_LUA_ST_RUNNING);
    assert_int_equal(info.reload_failures, 2);
    assert_int_equal(info.reloads, 1);
    assert_non_null(strstr(info.last_error, "strat.lua:3:"));
    assert_string_equal(r->intents[6].tag, "v2:7");
    assert_int_equal(r->n_intents, 7);

    /* deleted: stopped, orders cancelled */
    assert_int_equal(unlink(path), 0);
    assert_int_equal(qts_lua_runtime_scan(rt), 1);
    sync_ok(rt);
    qts_lua_runtime_drain(rt);
    assert_int_equal(strat_state(rt, id), QTS_LUA_ST_STOPPED);
    assert_true(rec_cancelled_all(r, id));
    post_trades(rt, 7, 1);
    assert_int_equal(r->n_intents, 7);

    qts_lua_runtime_free(rt);
    free(r);
    qts_test_rmtree(dir);
    free(dir);
}

static void test_new_file_is_started(void **state)
{
    (void)state;
    char *dir = qts_test_tmpdir();
    char path[600];
    snprintf(path, sizeof path, "%s/later.lua", dir);
    struct rec_sink *r = calloc(1, sizeof *r);
    struct qts_clock clk;
    qts_clock_init(&clk, QTS_CLOCK_VIRTUAL);
    struct qts_lua_runtime *rt = mk_rt(r, true, 1, &clk, 0);
    uint32_t id = add_strat(rt, "later", path, 0, NULL, 0);
    sync_ok(rt);
    assert_int_equal(strat_state(rt, id), QTS_LUA_ST_NEW);
    post_trades(rt, 0, 1);
    assert_int_equal(r->n_intents, 0);
    write_file(dir, path, V1);
    assert_int_equal(qts_lua_runtime_scan(rt), 1);
    sync_ok(rt);
    assert_int_equal(strat_state(rt, id), QTS_LUA_ST_RUNNING);
    post_trades(rt, 1, 1);
    assert_int_equal(r->n_intents, 1);
    assert_string_equal(r->intents[0].tag, "v1:1");
    qts_lua_runtime_free(rt);
    free(r);
    qts_test_rmtree(dir);
    free(dir);
}

static void test_reload_live_no_event_lost(void **state)
{
    (void)state;
    char *dir = qts_test_tmpdir();
    char path[600];
    snprintf(path, sizeof path, "%s/strat.lua", dir);
    write_file(dir, path, V1);
    struct rec_sink *r = calloc(1, sizeof *r);
    struct qts_lua_runtime *rt = mk_rt(r, false, 1, NULL, 0);
    uint32_t id = add_strat(rt, "strat", path, 0, NULL, 0);
    sync_ok(rt);
    /* order events (P0, never conflated) carry the count: reload in the middle */
    struct qts_lua_strategy_info info;
    for (int i = 0; i < 200; i++) {
        struct qts_trade t = mk_trade(INST_BTC, 100, 1, i + 1);
        assert_int_equal(qts_lua_runtime_post(rt, &t.h), 0);
        if (i == 100) {
            write_file(dir, path, V2);
            assert_int_equal(qts_lua_runtime_reload(rt, id), 0);
        }
        sync_ok(rt);
        qts_lua_runtime_drain(rt);
    }
    qts_lua_runtime_info(rt, id, &info);
    assert_int_equal(info.reloads, 1);
    assert_int_equal(r->n_intents, 200);
    /* every event exactly once, in order; the version switches once */
    int prev_v = 1;
    for (size_t i = 0; i < 200; i++) {
        int v = 0, n = 0;
        assert_int_equal(sscanf(r->intents[i].tag, "v%d:%d", &v, &n), 2);
        assert_int_equal(n, (int)i + 1);
        assert_true(v >= prev_v);
        if (i <= 99)
            assert_int_equal(v, 1);
        prev_v = v;
    }
    assert_int_equal(prev_v, 2);
    qts_lua_runtime_free(rt);
    free(r);
    qts_test_rmtree(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reload_cycle),
        cmocka_unit_test(test_new_file_is_started),
        cmocka_unit_test(test_reload_live_no_event_lost),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
