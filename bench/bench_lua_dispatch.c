/* bench_lua_dispatch.c — cost of delivering an event from C into a
 * strategy callback and back.
 *
 *  lua_dispatch.reference_pcall   bare lua_pcall of a Lua function per event
 *  lua_dispatch.order_single      one event per dispatch, callback places an
 *                                 order (C -> dispatcher -> on_trade ->
 *                                 ctx:order -> intent ring -> C), per event
 *  lua_dispatch.order_batched     same, 256 events per dispatch (ns/event)
 *  lua_dispatch.buy_batched       same with ctx:buy(sym, qty, px): no table
 *  lua_dispatch.events_per_s_*    throughput per worker thread, batched
 *  lua_dispatch.lockstep_step     runtime step(), run inline (replay)
 */
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "build_info.h"
#include "clock.h"
#include "lua_runtime.h"
#include "lua_strategy.h"

#define BATCH 256

static struct qts_lua_instruments g_inst;
static struct qts_clock g_clock;

static struct qts_trade g_ev[BATCH];
static const struct qts_ev_hdr *g_ptr[BATCH];

static void make_events(void)
{
    for (int i = 0; i < BATCH; i++) {
        struct qts_trade *t = &g_ev[i];
        qts_bench_event_init(&t->h, sizeof *t, QTS_EV_TRADE, 2, 3);
        t->px = 10000 + i;
        t->qty = 1000;
        g_ptr[i] = &t->h;
    }
}

static struct qts_lua_strategy *open_strategy(const char *file)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/bench/lua/%s", QTS_SOURCE_DIR, file);
    struct qts_lua_strategy *s = qts_lua_strategy_new(1, file, path, &g_inst, &g_clock);
    s->budget_ns = INT64_C(1000000000);
    struct qts_err err;
    if (qts_lua_strategy_open(s, QTS_LUA_DIR_BUILD, &err) != 0) {
        fprintf(stderr, "open %s: %s\n", file, err.msg);
        exit(1);
    }
    return s;
}

static void drain(struct qts_lua_strategy *s)
{
    while (qts_ring_peek(&s->intents))
        qts_ring_drop(&s->intents);
}

static void bench_reference(size_t n)
{
    lua_State *L = luaL_newstate();
    luaL_openlibs(L);
    luaL_dostring(L, "local st = { n = 0, sum = 0 }\n"
                     "function on_trade(px) st.n = st.n + 1; st.sum = st.sum + px end");
    lua_getglobal(L, "on_trade");
    int ref = luaL_ref(L, LUA_REGISTRYINDEX);
    struct qts_bench_samples s;
    qts_bench_samples_init(&s, n);
    for (size_t i = 0; i < n; i++) {
        int64_t t0 = qts_mono_ns();
        lua_rawgeti(L, LUA_REGISTRYINDEX, ref);
        lua_pushnumber(L, (double)g_ev[i % BATCH].px / 100.0);
        if (lua_pcall(L, 1, 0, 0) != 0)
            abort();
        qts_bench_add(&s, qts_mono_ns() - t0);
    }
    qts_bench_report_latency("lua_dispatch.reference_pcall", &s, "\"per\":\"event\"");
    qts_bench_samples_free(&s);
    /* throughput of the same loop without timers */
    int64_t t0 = qts_mono_ns();
    for (size_t i = 0; i < n; i++) {
        lua_rawgeti(L, LUA_REGISTRYINDEX, ref);
        lua_pushnumber(L, (double)g_ev[i % BATCH].px / 100.0);
        lua_pcall(L, 1, 0, 0);
    }
    double secs = (double)(qts_mono_ns() - t0) / 1e9;
    qts_bench_report_value("lua_dispatch.reference_pcall_rate", "events/s", (double)n / secs, n,
                           NULL);
    lua_close(L);
}

static void bench_single(size_t n)
{
    struct qts_lua_strategy *s = open_strategy("bench_order.lua");
    struct qts_bench_samples smp;
    qts_bench_samples_init(&smp, n);
    struct qts_lua_msg m;
    for (size_t i = 0; i < n; i++) {
        const struct qts_ev_hdr *p = g_ptr[i % BATCH];
        int64_t t0 = qts_mono_ns();
        qts_lua_strategy_dispatch(s, &p, NULL, 1);
        int got = qts_ring_pop(&s->intents, &m); /* ... and back to C */
        qts_bench_add(&smp, qts_mono_ns() - t0);
        if (got != 0)
            abort();
    }
    qts_bench_report_latency("lua_dispatch.order_single", &smp,
                             "\"per\":\"event\",\"aim_p50\":300,\"aim_p99\":1000");
    qts_bench_samples_free(&smp);
    qts_lua_strategy_free(s);
}

static void bench_batched(const char *file, const char *name, const char *rate_name, size_t n)
{
    struct qts_lua_strategy *s = open_strategy(file);
    struct qts_bench_samples smp;
    size_t batches = n / BATCH;
    qts_bench_samples_init(&smp, batches);
    int64_t total = 0;
    for (size_t b = 0; b < batches; b++) {
        int64_t t0 = qts_mono_ns();
        qts_lua_strategy_dispatch(s, g_ptr, NULL, BATCH);
        drain(s);
        int64_t dt = qts_mono_ns() - t0;
        total += dt;
        qts_bench_add(&smp, (dt + BATCH / 2) / BATCH);
    }
    qts_bench_report_latency(name, &smp, "\"per\":\"event, mean over a batch of 256\"");
    qts_bench_report_value(rate_name, "events/s", (double)(batches * BATCH) / ((double)total / 1e9),
                           batches * BATCH, "\"aim\":50000000");
    qts_bench_samples_free(&smp);
    qts_lua_strategy_free(s);
}

static void bench_lockstep(size_t n)
{
    struct qts_lua_runtime *rt = qts_bench_lua_lockstep(&g_clock, 4, &g_inst.v[0]);
    struct qts_lua_strategy_conf c;
    memset(&c, 0, sizeof c);
    char path[1024];
    snprintf(path, sizeof path, "%s/bench/lua/bench_count.lua", QTS_SOURCE_DIR);
    c.name = "count";
    c.file = path;
    c.worker = 0;
    qts_lua_runtime_add_strategy(rt, &c, NULL, NULL);
    qts_lua_runtime_sync(rt, INT64_C(10000000000));
    /* a big replay batch: one step() call for many events */
    enum { BIG = 8192 };
    static struct qts_trade evs[BIG];
    static const struct qts_ev_hdr *ptrs[BIG];
    for (int i = 0; i < BIG; i++) {
        evs[i] = g_ev[i % BATCH];
        ptrs[i] = &evs[i].h;
    }
    struct qts_bench_samples smp;
    qts_bench_samples_init(&smp, n / BIG + 1);
    int64_t total = 0;
    size_t done = 0;
    while (done < n) {
        int64_t t0 = qts_mono_ns();
        size_t at = 0;
        while (at < BIG) {
            size_t used = 0;
            qts_lua_runtime_step(rt, ptrs + at, BIG - at, &used);
            at += used;
        }
        int64_t dt = qts_mono_ns() - t0;
        total += dt;
        qts_bench_add(&smp, (dt + BIG / 2) / BIG);
        done += BIG;
    }
    qts_bench_report_latency("lua_dispatch.lockstep_step", &smp,
                             "\"per\":\"event, step() of 8192 events (inline)\"");
    qts_bench_report_value("lua_dispatch.events_per_s_lockstep", "events/s",
                           (double)done / ((double)total / 1e9), done, NULL);
    /* one event per step: the price of a strategy that trades every event */
    qts_bench_samples_init(&smp, 20000);
    for (int i = 0; i < 20000; i++) {
        size_t used;
        int64_t t0 = qts_mono_ns();
        qts_lua_runtime_step(rt, ptrs + (i % BIG), 1, &used);
        qts_bench_add(&smp, qts_mono_ns() - t0);
    }
    qts_bench_report_latency("lua_dispatch.lockstep_step_single", &smp,
                             "\"per\":\"event, step() of 1 event (inline)\"");
    qts_bench_samples_free(&smp);
    qts_lua_runtime_free(rt);
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? (size_t)atol(argv[1]) : 2000000;
    qts_clock_init(&g_clock, QTS_CLOCK_MONOTONIC);
    g_inst.cap = 1;
    g_inst.v = calloc(1, sizeof *g_inst.v);
    g_inst.v[0].struct_size = sizeof g_inst.v[0];
    g_inst.v[0].id = 0;
    snprintf(g_inst.v[0].symbol, sizeof g_inst.v[0].symbol, "BTCUSDT");
    g_inst.v[0].px_exp = 2;
    g_inst.v[0].qty_exp = 3;
    atomic_store(&g_inst.n, 1);
    make_events();
    bench_reference(n / 4);
    bench_single(n / 4);
    bench_batched("bench_order.lua", "lua_dispatch.order_batched",
                  "lua_dispatch.events_per_s_order", n);
    bench_batched("bench_buy.lua", "lua_dispatch.buy_batched", "lua_dispatch.events_per_s_buy", n);
    bench_batched("bench_count.lua", "lua_dispatch.count_batched",
                  "lua_dispatch.events_per_s_count", n * 4);
    bench_lockstep(n);
    free(g_inst.v);
    return 0;
}
