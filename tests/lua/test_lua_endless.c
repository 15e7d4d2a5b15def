/* test_lua_endless.c — a strategy stuck in `while true do end` cannot stop
 * the host: the core-side calls keep returning, the strategy is marked
 * failed and its orders cancelled, and the other strategies keep receiving
 * events. Live: the watchdog moves the stuck strategy's worker to a fresh
 * thread and the process exits cleanly with the stuck thread still
 * spinning. Replay (lockstep, inline on the calling thread): the
 * instruction limit ends the callback, no clock and no thread involved. */
#include "lua_helpers.h"

#include <time.h>

static void run(bool lockstep)
{
    struct rec_sink *r = calloc(1, sizeof *r);
    struct qts_clock clk;
    qts_clock_init(&clk, QTS_CLOCK_VIRTUAL);
    struct qts_lua_runtime *rt = mk_rt_limit(r, lockstep, 2, &clk, INT64_C(300000000), 2000000);
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
    assert_non_null(strstr(info.reason, lockstep ? "instruction limit" : "stuck"));
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
    assert_int_equal(m.workers_replaced, lockstep ? 0 : 1);
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

/* One worker running the strategy `name` from the fixture `file`, which
 * gets stuck (watchdog after `stuck_ns`), and an "echo" mate; their ids in
 * *stuck and *mate. Owned: qts_lua_runtime_free. */
static struct qts_lua_runtime *stuck_and_mate(struct rec_sink *r, int64_t stuck_ns,
                                              const char *name, const char *file, uint32_t *stuck,
                                              uint32_t *mate)
{
    struct qts_lua_runtime *rt = mk_rt(r, false, 1, NULL, stuck_ns);
    *stuck = add_strat(rt, name, fixture(file), 0, NULL, 0);
    *mate = add_strat(rt, "echo", fixture("echo.lua"), 0, NULL, 0);
    sync_ok(rt);
    return rt;
}

/* One trade at `px` posted, and the worker synced. */
static void post_trade(struct qts_lua_runtime *rt, double px)
{
    struct qts_trade t = mk_trade(INST_BTC, px, 1, 1);
    assert_int_equal(qts_lua_runtime_post(rt, &t.h), 0);
    sync_ok(rt);
}

/* Stuck while loading (on_init): same treatment, the worker goes on. */
static void test_endless_on_init(void **state)
{
    (void)state;
    struct rec_sink *r = calloc(1, sizeof *r);
    uint32_t stuck, mate;
    struct qts_lua_runtime *rt =
        stuck_and_mate(r, INT64_C(200000000), "stuck_init", "endless_init.lua", &stuck, &mate);
    qts_lua_runtime_tick(rt);
    assert_int_equal(strat_state(rt, stuck), QTS_LUA_ST_FAILED);
    assert_int_equal(strat_state(rt, mate), QTS_LUA_ST_RUNNING);
    post_trade(rt, 100);
    qts_lua_runtime_drain(rt);
    assert_int_equal(count_tag(r, mate, NULL), 1);
    assert_true(rec_cancelled_all(r, stuck));
    qts_lua_runtime_free(rt);
    free(r);
}

/* A callback declared stuck that returns later (even after the runtime is
 * freed) touches nothing that was freed and cannot trade. */
static void test_late_return_is_harmless(void **state)
{
    (void)state;
    struct rec_sink *r = calloc(1, sizeof *r);
    uint32_t slow, mate;
    struct qts_lua_runtime *rt =
        stuck_and_mate(r, INT64_C(150000000), "late", "late_return.lua", &slow, &mate);
    post_trade(rt, 300);
    qts_lua_runtime_tick(rt);
    assert_int_equal(strat_state(rt, slow), QTS_LUA_ST_FAILED);
    assert_int_equal(count_tag(r, mate, NULL), 1);
    qts_lua_runtime_free(rt);
    free(r);
    /* let the abandoned thread finish its callback and exit (not a timing
     * assertion: ASan reports any use of freed memory on the way) */
    struct timespec ts = {1, 0};
    nanosleep(&ts, NULL);
}

/* Lockstep: one step of `n` trades at `px` (timestamps 1..n) must be
 * consumed whole. */
static void step_trades(struct qts_lua_runtime *rt, double px, size_t n)
{
    struct qts_trade t[32];
    const struct qts_ev_hdr *p[32];
    assert_true(n <= 32);
    for (size_t i = 0; i < n; i++) {
        t[i] = mk_trade(INST_BTC, px, 1, (int64_t)i + 1);
        p[i] = &t[i].h;
    }
    size_t off = 0;
    while (off < n) {
        size_t used = 0;
        assert_int_equal(qts_lua_runtime_step(rt, p + off, n - off, &used), 0);
        off += used;
        qts_lua_runtime_drain(rt);
    }
}

/* A replay runtime (limit 10^6 instructions) running `file` as "stuck" and
 * echo.lua as its mate; replay_close frees it. */
struct replay_fx {
    struct rec_sink *r;         /* owned */
    struct qts_clock clk;       /* the runtime's clock */
    struct qts_lua_runtime *rt; /* owned */
    uint32_t stuck, mate;
};

static void replay_open(struct replay_fx *x, const char *file)
{
    x->r = calloc(1, sizeof *x->r);
    qts_clock_init(&x->clk, QTS_CLOCK_VIRTUAL);
    x->rt = mk_rt_limit(x->r, true, 1, &x->clk, 0, 1000000);
    x->stuck = add_strat(x->rt, "stuck", fixture(file), 0, NULL, 0);
    x->mate = add_strat(x->rt, "echo", fixture("echo.lua"), 0, NULL, 0);
}

static void replay_close(struct replay_fx *x)
{
    qts_lua_runtime_free(x->rt);
    free(x->r);
}

/* Replay: an endless loop inside pcall, itself in an endless loop, still
 * ends: once the limit tripped, every instruction raises. */
static void test_endless_in_pcall_replay(void **state)
{
    (void)state;
    struct replay_fx x;
    replay_open(&x, "endless_pcall.lua");
    step_trades(x.rt, 100, 1);
    step_trades(x.rt, 250, 1);
    step_trades(x.rt, 100, 2);
    assert_int_equal(strat_state(x.rt, x.stuck), QTS_LUA_ST_FAILED);
    assert_int_equal(count_tag(x.r, x.stuck, NULL), 1);
    assert_int_equal(count_tag(x.r, x.mate, NULL), 4);
    assert_true(rec_cancelled_all(x.r, x.stuck));
    replay_close(&x);
}

/* Replay: on_init never returns; the load fails the strategy and the
 * other one runs. */
static void test_endless_on_init_replay(void **state)
{
    (void)state;
    struct replay_fx x;
    replay_open(&x, "endless_init.lua");
    assert_int_equal(strat_state(x.rt, x.stuck), QTS_LUA_ST_FAILED);
    step_trades(x.rt, 100, 3);
    assert_int_equal(count_tag(x.r, x.mate, NULL), 3);
    struct qts_lua_strategy_info info;
    qts_lua_runtime_info(x.rt, x.stuck, &info);
    assert_non_null(strstr(info.reason, "instruction limit"));
    replay_close(&x);
}

/* Replay: the limit is per callback (per event), not per dispatch: steps
 * of 10 events, each under the limit but together over it, go through. */
static void test_limit_is_per_event(void **state)
{
    (void)state;
    struct rec_sink *r = calloc(1, sizeof *r);
    struct qts_clock clk;
    qts_clock_init(&clk, QTS_CLOCK_VIRTUAL);
    struct qts_lua_runtime *rt = mk_rt_limit(r, true, 1, &clk, 0, 2000000);
    /* ~0.6 M instructions per trade, 10 trades (6 M) per dispatch */
    struct qts_lua_param p = {"iters", "200000"};
    uint32_t busy = add_strat(rt, "busy", fixture("busy_loop.lua"), 0, &p, 1);
    step_trades(rt, 100, 20);
    assert_int_equal(strat_state(rt, busy), QTS_LUA_ST_RUNNING);
    assert_int_equal(count_tag(r, busy, NULL), 2);
    qts_lua_runtime_free(rt);
    free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        /* first: later tests leave threads spinning forever */
        cmocka_unit_test(test_late_return_is_harmless),
        cmocka_unit_test(test_endless_loop_lockstep),
        cmocka_unit_test(test_endless_loop_live),
        cmocka_unit_test(test_endless_on_init),
        cmocka_unit_test(test_endless_in_pcall_replay),
        cmocka_unit_test(test_endless_on_init_replay),
        cmocka_unit_test(test_limit_is_per_event),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
