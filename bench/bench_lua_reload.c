/* bench_lua_reload.c — the pause a strategy sees during a hot reload:
 * compile the file, old on_stop, new on_reload, swap.
 *
 *  lua_reload.pause            qts_lua_strategy_reload() on the worker
 *                              (strategies/ema_cross.lua)
 *  lua_reload.runtime_roundtrip  reload request + sync through the runtime
 *                              (command to the worker and back)
 *  lua_reload.reference_compile  luaL_loadfile of the same file alone
 */
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "build_info.h"
#include "clock.h"
#include "lua_runtime.h"
#include "lua_strategy.h"

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 2000;
    char path[1024];
    snprintf(path, sizeof path, "%s/strategies/ema_cross.lua", QTS_SOURCE_DIR);
    struct qts_clock clk;
    qts_clock_init(&clk, QTS_CLOCK_MONOTONIC);
    struct qts_lua_instruments inst;
    memset(&inst, 0, sizeof inst);
    inst.cap = 1;
    inst.v = calloc(1, sizeof *inst.v);
    snprintf(inst.v[0].symbol, sizeof inst.v[0].symbol, "BTCUSDT");
    inst.v[0].px_exp = 2;
    inst.v[0].qty_exp = 3;
    atomic_store(&inst.n, 1);

    /* reference: compiling the file alone */
    lua_State *L = luaL_newstate();
    struct qts_bench_samples smp;
    qts_bench_samples_init(&smp, (size_t)n);
    for (int i = 0; i < n; i++) {
        int64_t t0 = qts_mono_ns();
        if (luaL_loadfile(L, path) != 0)
            abort();
        qts_bench_add(&smp, qts_mono_ns() - t0);
        lua_pop(L, 1);
        if (i % 64 == 0)
            lua_gc(L, LUA_GCCOLLECT, 0);
    }
    qts_bench_report_latency("lua_reload.reference_compile", &smp, NULL);
    qts_bench_samples_free(&smp);
    lua_close(L);

    struct qts_lua_strategy *s = qts_lua_strategy_new(1, "ema", path, &inst, &clk);
    s->params[0] = (struct qts_lua_param){"symbol", "BTCUSDT"};
    s->n_params = 1;
    struct qts_err err;
    if (qts_lua_strategy_open(s, QTS_LUA_DIR_BUILD, &err) != 0) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    qts_bench_samples_init(&smp, (size_t)n);
    for (int i = 0; i < n; i++) {
        int64_t t0 = qts_mono_ns();
        if (qts_lua_strategy_reload(s, &err) != 0)
            abort();
        qts_bench_add(&smp, qts_mono_ns() - t0);
    }
    qts_bench_report_latency("lua_reload.pause", &smp, "\"aim_p99\":1000000");
    qts_bench_samples_free(&smp);
    qts_lua_strategy_free(s);

    struct qts_lua_runtime *rt = qts_bench_lua_lockstep(NULL, 0, &inst.v[0]);
    struct qts_lua_strategy_conf c;
    memset(&c, 0, sizeof c);
    struct qts_lua_param p = {"symbol", "BTCUSDT"};
    c.name = "ema";
    c.file = path;
    c.params = &p;
    c.n_params = 1;
    uint32_t id;
    qts_lua_runtime_add_strategy(rt, &c, &id, NULL);
    qts_lua_runtime_sync(rt, INT64_C(10000000000));
    int m = n / 4 > 0 ? n / 4 : 1;
    qts_bench_samples_init(&smp, (size_t)m);
    for (int i = 0; i < m; i++) {
        int64_t t0 = qts_mono_ns();
        qts_lua_runtime_reload(rt, id);
        qts_lua_runtime_sync(rt, INT64_C(10000000000));
        qts_bench_add(&smp, qts_mono_ns() - t0);
    }
    qts_bench_report_latency("lua_reload.runtime_roundtrip", &smp, NULL);
    qts_bench_samples_free(&smp);
    qts_lua_runtime_free(rt);
    free(inst.v);
    return 0;
}
