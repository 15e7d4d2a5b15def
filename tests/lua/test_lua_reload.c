/* test_lua_reload.c — hot reload of strategy files: a good new version is
 * swapped between two events with on_stop -> on_reload state hand-over (no
 * event lost or duplicated); a syntax error or a runtime error in
 * on_reload keeps the old version and reports file:line; a deleted file
 * stops the strategy and cancels its orders; a configured file that
 * appears later is started. */
#include "lua_helpers.h"

#include <unistd.h>
#include <uv.h>

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

static const char *SYNTAX = "local M = {}\n"
                            "function M.on_init(ctx) return {} end\n"
                            "function M.on_trade(ctx, st, t)\n"
                            "  if t:price() > 0 then\n" /* missing end */
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

/* A strategy file in a fresh directory and a runtime to load it in. */
struct reload_fx {
    struct lua_fx f;
    char *dir;      /* owned, removed by reload_close */
    char path[600]; /* <dir>/<name> */
};

/* `text` (borrowed) is written to the file first unless NULL. */
static void reload_open(struct reload_fx *x, const char *name, const char *text, bool lockstep)
{
    x->dir = qts_test_tmpdir();
    snprintf(x->path, sizeof x->path, "%s/%s", x->dir, name);
    if (text)
        write_file(x->dir, x->path, text);
    lua_fx_open(&x->f, lockstep);
}

static void reload_close(struct reload_fx *x)
{
    lua_fx_close(&x->f);
    qts_test_rmtree(x->dir);
    free(x->dir);
}

/* Saves `text` as the strategy file, finds it changed in one scan, and
 * checks the strategy's state `want` once the worker has caught up. */
static void save_and_scan(struct reload_fx *x, const char *text, uint32_t id, int want)
{
    write_file(x->dir, x->path, text);
    assert_int_equal(qts_lua_runtime_scan(x->f.rt), 1);
    sync_ok(x->f.rt);
    assert_int_equal(strat_state(x->f.rt, id), want);
}

static void test_reload_cycle(void **state)
{
    (void)state;
    struct reload_fx x;
    reload_open(&x, "strat.lua", V1, true);
    uint32_t id = add_strat(x.f.rt, "strat", x.path, 0, NULL, 0);
    sync_ok(x.f.rt);
    post_trades(x.f.rt, 0, 3);
    assert_int_equal(qts_lua_runtime_scan(x.f.rt), 0); /* nothing changed */

    /* good version: state handed over, numbering continues */
    write_file(x.dir, x.path, V2);
    assert_int_equal(qts_lua_runtime_scan(x.f.rt), 1);
    post_trades(x.f.rt, 3, 2);
    assert_int_equal(x.f.r->n_intents, 5);
    assert_string_equal(x.f.r->intents[2].tag, "v1:3");
    assert_string_equal(x.f.r->intents[3].tag, "v2:4");
    assert_string_equal(x.f.r->intents[4].tag, "v2:5");

    /* syntax error: the old version keeps running, file:line reported */
    write_file(x.dir, x.path, SYNTAX);
    assert_int_equal(qts_lua_runtime_scan(x.f.rt), 1);
    post_trades(x.f.rt, 5, 1);
    struct qts_lua_strategy_info info;
    qts_lua_runtime_info(x.f.rt, id, &info);
    assert_int_equal(info.state, QTS_LUA_ST_RUNNING);
    assert_int_equal(info.reload_failures, 1);
    assert_non_null(strstr(info.last_error, "strat.lua:7:"));
    assert_string_equal(x.f.r->intents[5].tag, "v2:6");

    /* runtime error in on_reload: the old version keeps running */
    write_file(x.dir, x.path, BAD_RELOAD);
    assert_int_equal(qts_lua_runtime_scan(x.f.rt), 1);
    post_trades(x.f.rt, 6, 1);
    qts_lua_runtime_info(x.f.rt, id, &info);
    assert_int_equal(info.state, QTS_LUA_ST_RUNNING);
    assert_int_equal(info.reload_failures, 2);
    assert_int_equal(info.reloads, 1);
    assert_non_null(strstr(info.last_error, "strat.lua:3:"));
    assert_string_equal(x.f.r->intents[6].tag, "v2:7");
    assert_int_equal(x.f.r->n_intents, 7);

    /* deleted: stopped, orders cancelled */
    assert_int_equal(unlink(x.path), 0);
    assert_int_equal(qts_lua_runtime_scan(x.f.rt), 1);
    sync_ok(x.f.rt);
    qts_lua_runtime_drain(x.f.rt);
    assert_int_equal(strat_state(x.f.rt, id), QTS_LUA_ST_STOPPED);
    assert_true(rec_cancelled_all(x.f.r, id));
    post_trades(x.f.rt, 7, 1);
    assert_int_equal(x.f.r->n_intents, 7);

    reload_close(&x);
}

static void test_new_file_is_started(void **state)
{
    (void)state;
    struct reload_fx x;
    reload_open(&x, "later.lua", NULL, true);
    uint32_t id = add_strat(x.f.rt, "later", x.path, 0, NULL, 0);
    sync_ok(x.f.rt);
    assert_int_equal(strat_state(x.f.rt, id), QTS_LUA_ST_NEW);
    post_trades(x.f.rt, 0, 1);
    assert_int_equal(x.f.r->n_intents, 0);
    save_and_scan(&x, V1, id, QTS_LUA_ST_RUNNING);
    post_trades(x.f.rt, 1, 1);
    assert_int_equal(x.f.r->n_intents, 1);
    assert_string_equal(x.f.r->intents[0].tag, "v1:1");
    reload_close(&x);
}

static void test_reload_live_no_event_lost(void **state)
{
    (void)state;
    struct reload_fx x;
    reload_open(&x, "strat.lua", V1, false);
    uint32_t id = add_strat(x.f.rt, "strat", x.path, 0, NULL, 0);
    sync_ok(x.f.rt);
    /* order events (P0, never conflated) carry the count: reload in the middle */
    struct qts_lua_strategy_info info;
    for (int i = 0; i < 200; i++) {
        struct qts_trade t = mk_trade(INST_BTC, 100, 1, i + 1);
        assert_int_equal(qts_lua_runtime_post(x.f.rt, &t.h), 0);
        if (i == 100) {
            write_file(x.dir, x.path, V2);
            assert_int_equal(qts_lua_runtime_reload(x.f.rt, id), 0);
        }
        sync_ok(x.f.rt);
        qts_lua_runtime_drain(x.f.rt);
    }
    qts_lua_runtime_info(x.f.rt, id, &info);
    assert_int_equal(info.reloads, 1);
    assert_int_equal(x.f.r->n_intents, 200);
    /* every event exactly once, in order; the version switches once */
    int prev_v = 1;
    for (size_t i = 0; i < 200; i++) {
        int v = 0, n = 0;
        assert_int_equal(sscanf(x.f.r->intents[i].tag, "v%d:%d", &v, &n), 2);
        assert_int_equal(n, (int)i + 1);
        assert_true(v >= prev_v);
        if (i <= 99)
            assert_int_equal(v, 1);
        prev_v = v;
    }
    assert_int_equal(prev_v, 2);
    reload_close(&x);
}

static const char *RAISES = "local M = {}\n"
                            "function M.on_init(ctx) return {} end\n"
                            "function M.on_trade(ctx, st, t) error('boom') end\n"
                            "return M\n";

/* A halted strategy restarts (on_init) when its file is fixed. */
static void test_halted_restarts_on_fix(void **state)
{
    (void)state;
    struct reload_fx x;
    reload_open(&x, "strat.lua", RAISES, true);
    struct qts_lua_strategy_conf c = lua_conf("strat", x.path, 0);
    c.error_limit = 1;
    uint32_t id = 0;
    assert_int_equal(qts_lua_runtime_add_strategy(x.f.rt, &c, &id, NULL), 0);
    sync_ok(x.f.rt);
    post_trades(x.f.rt, 0, 1);
    assert_int_equal(strat_state(x.f.rt, id), QTS_LUA_ST_HALTED);
    assert_true(rec_cancelled_all(x.f.r, id));
    save_and_scan(&x, V1, id, QTS_LUA_ST_RUNNING);
    post_trades(x.f.rt, 1, 2);
    assert_int_equal(x.f.r->n_intents, 2);
    assert_string_equal(x.f.r->intents[1].tag, "v1:2");
    reload_close(&x);
}

/* With a uv_fs_event watch, saving the file is enough. */
static void test_watch_reloads_on_save(void **state)
{
    (void)state;
    struct reload_fx x;
    reload_open(&x, "strat.lua", V1, true);
    uint32_t id = add_strat(x.f.rt, "strat", x.path, 0, NULL, 0);
    sync_ok(x.f.rt);
    uv_loop_t loop;
    assert_int_equal(uv_loop_init(&loop), 0);
    assert_int_equal(qts_lua_runtime_watch(x.f.rt, &loop, NULL), 0);
    post_trades(x.f.rt, 0, 1);
    write_file(x.dir, x.path, V2);
    struct qts_lua_strategy_info info;
    /* run the loop until the debounced scan has queued the reload and a
     * step has run it (bounded: 10 s) */
    int64_t until = qts_mono_ns() + INT64_C(10000000000);
    do {
        uv_run(&loop, UV_RUN_NOWAIT);
        post_trades(x.f.rt, 1, 1);
        qts_lua_runtime_info(x.f.rt, id, &info);
        if (info.reloads == 0) {
            struct timespec ts = {0, 5000000};
            nanosleep(&ts, NULL);
        }
    } while (info.reloads == 0 && qts_mono_ns() < until);
    assert_int_equal(info.reloads, 1);
    qts_lua_runtime_unwatch(x.f.rt);
    uv_run(&loop, UV_RUN_DEFAULT); /* close callbacks */
    assert_int_equal(uv_loop_close(&loop), 0);
    reload_close(&x);
}

QTS_TEST_MAIN(test_reload_cycle, test_new_file_is_started, test_reload_live_no_event_lost,
              test_halted_restarts_on_fix, test_watch_reloads_on_save)
