/* bench_indicators.c — cost of one indicator update, from C (through the
 * generic handle the Lua module uses) and from Lua (a JIT-compiled loop
 * calling :push on a qts.indicators object).
 *
 * Updates are timed in batches of BATCH (a single update is shorter than
 * the clock's resolution); each batch is one sample. The JSON line's
 * p50/p99 are per batch; p50_per_update_ns / p99_per_update_ns divide them
 * by BATCH. Reference: an empty Lua loop reading the same inputs. */
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "build_info.h"
#include "clock.h"
#include "indicators.h"

enum { N_IN = 1 << 16, BATCH = 1024, N_BATCHES = 1500 };

static double in_o[N_IN], in_h[N_IN], in_l[N_IN], in_c[N_IN], in_v[N_IN];

struct spec {
    const char *name;
    int kind, n1, n2, n3;
    double k;
    const char *ctor; /* Lua constructor call */
    const char *push; /* Lua push arguments, over arrays c, h, l, v and index j */
};

static const struct spec specs[] = {
    {"sma20", QTS_IND_SMA, 20, 0, 0, 0, "ind.sma(20)", "c[j]"},
    {"ema20", QTS_IND_EMA, 20, 0, 0, 0, "ind.ema(20)", "c[j]"},
    {"wma20", QTS_IND_WMA, 20, 0, 0, 0, "ind.wma(20)", "c[j]"},
    {"rsi14", QTS_IND_RSI, 14, 0, 0, 0, "ind.rsi(14)", "c[j]"},
    {"rsi14_simple", QTS_IND_RSI_SIMPLE, 14, 0, 0, 0, "ind.rsi_simple(14)", "c[j]"},
    {"macd12_26_9", QTS_IND_MACD, 12, 26, 9, 0, "ind.macd(12, 26, 9)", "c[j]"},
    {"atr14", QTS_IND_ATR, 14, 0, 0, 0, "ind.atr(14)", "h[j], l[j], c[j]"},
    {"atr14_simple", QTS_IND_ATR_SIMPLE, 14, 0, 0, 0, "ind.atr_simple(14)", "h[j], l[j], c[j]"},
    {"bollinger20_2", QTS_IND_BOLL, 20, 0, 0, 2, "ind.bollinger(20, 2)", "c[j]"},
    {"vwap50", QTS_IND_VWAP, 50, 0, 0, 0, "ind.vwap(50)", "c[j], v[j]"},
    {"obv", QTS_IND_OBV, 0, 0, 0, 0, "ind.obv()", "c[j], v[j]"},
    {"adx14", QTS_IND_ADX, 14, 0, 0, 0, "ind.adx(14)", "h[j], l[j], c[j]"},
    {"cci20", QTS_IND_CCI, 20, 0, 0, 0, "ind.cci(20)", "h[j], l[j], c[j]"},
    {"stoch14_3_3", QTS_IND_STOCH, 14, 3, 3, 0, "ind.stoch(14, 3, 3)", "h[j], l[j], c[j]"},
    {"willr14", QTS_IND_WILLR, 14, 0, 0, 0, "ind.willr(14)", "h[j], l[j], c[j]"},
    {"roc12", QTS_IND_ROC, 12, 0, 0, 0, "ind.roc(12)", "c[j]"},
    {"kama10_2_30", QTS_IND_KAMA, 10, 2, 30, 0, "ind.kama(10, 2, 30)", "c[j]"},
    {"mfi14", QTS_IND_MFI, 14, 0, 0, 0, "ind.mfi(14)", "h[j], l[j], c[j], v[j]"},
};

static void make_inputs(void)
{
    uint64_t seed = 99;
    double px = 100;
    for (int i = 0; i < N_IN; i++) {
        double r = qts_bench_uniform(&seed);
        in_o[i] = px;
        px += r - 0.5;
        in_c[i] = px;
        in_h[i] = (px > in_o[i] ? px : in_o[i]) + r * 0.2;
        in_l[i] = (px < in_o[i] ? px : in_o[i]) - (1 - r) * 0.2;
        in_v[i] = 100 + (double)((seed >> 20) & 0x3ff);
    }
}

static void report(const char *name, struct qts_bench_samples *s)
{
    char extra[160];
    /* percentiles before qts_bench_report_latency prints (it sorts too) */
    int64_t *v = s->v;
    size_t n = s->n;
    for (size_t i = 1; i < n; i++) { /* insertion sort: n is small */
        int64_t x = v[i];
        size_t j = i;
        for (; j > 0 && v[j - 1] > x; j--)
            v[j] = v[j - 1];
        v[j] = x;
    }
    snprintf(extra, sizeof extra,
             "\"batch\":%d,\"p50_per_update_ns\":%.2f,\"p99_per_update_ns\":%.2f", BATCH,
             (double)qts_bench_percentile(s, 50) / BATCH,
             (double)qts_bench_percentile(s, 99) / BATCH);
    qts_bench_report_latency(name, s, extra);
}

static void bench_c(const struct spec *sp)
{
    struct qts_ind *ind;
    if (qts_ind_new(sp->kind, sp->n1, sp->n2, sp->n3, sp->k, &ind) != 0)
        abort();
    const struct qts_ind_view *view = qts_ind_view(ind);
    int scalar = qts_ind_kind_is_scalar(sp->kind);
    struct qts_bench_samples s;
    qts_bench_samples_init(&s, N_BATCHES);
    double acc = 0;
    for (int b = -50; b < N_BATCHES; b++) { /* 50 warm-up batches */
        int off = (int)(((unsigned)(b + 50) * BATCH) % N_IN);
        int64_t t0 = qts_mono_ns();
        if (scalar) {
            for (int j = off; j < off + BATCH; j++)
                qts_ind_push(ind, in_c[j]);
        } else {
            for (int j = off; j < off + BATCH; j++)
                qts_ind_push_bar(ind, in_c[j], in_h[j], in_l[j], in_c[j], in_v[j]);
        }
        int64_t t1 = qts_mono_ns();
        acc += view->out[0];
        if (b >= 0)
            qts_bench_add(&s, t1 - t0);
    }
    qts_bench_keep(&acc);
    char name[96];
    snprintf(name, sizeof name, "indicators.c.%s", sp->name);
    report(name, &s);
    qts_bench_samples_free(&s);
    qts_ind_free(ind);
}

static void set_array(lua_State *L, const char *name, const double *v)
{
    lua_createtable(L, N_IN, 0);
    for (int i = 0; i < N_IN; i++) {
        lua_pushnumber(L, v[i]);
        lua_rawseti(L, -2, i + 1);
    }
    lua_setglobal(L, name);
}

/* Times `fn(off)` (a Lua loop over BATCH inputs) per batch. */
static void bench_lua(lua_State *L, const char *name, const char *code)
{
    if (luaL_dostring(L, code) != 0) {
        fprintf(stderr, "lua: %s\n", lua_tostring(L, -1));
        exit(1);
    }
    int fn = luaL_ref(L, LUA_REGISTRYINDEX); /* the chunk returns the loop */
    struct qts_bench_samples s;
    qts_bench_samples_init(&s, N_BATCHES);
    for (int b = -50; b < N_BATCHES; b++) {
        int off = (int)(((unsigned)(b + 50) * BATCH) % N_IN);
        lua_rawgeti(L, LUA_REGISTRYINDEX, fn);
        lua_pushinteger(L, off);
        int64_t t0 = qts_mono_ns();
        if (lua_pcall(L, 1, 0, 0) != 0) {
            fprintf(stderr, "lua: %s\n", lua_tostring(L, -1));
            exit(1);
        }
        int64_t t1 = qts_mono_ns();
        if (b >= 0)
            qts_bench_add(&s, t1 - t0);
    }
    luaL_unref(L, LUA_REGISTRYINDEX, fn);
    report(name, &s);
    qts_bench_samples_free(&s);
}

int main(void)
{
    make_inputs();
    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++)
        bench_c(&specs[i]);

    lua_State *L = luaL_newstate();
    luaL_openlibs(L);
    char code[1024];
    const char *src = getenv("QTS_SOURCE_DIR");
    snprintf(code, sizeof code, "package.path = '%s/host/lua/?.lua'", src ? src : QTS_SOURCE_DIR);
    if (luaL_dostring(L, code) != 0)
        return 1;
    set_array(L, "C_", in_c);
    set_array(L, "H_", in_h);
    set_array(L, "L_", in_l);
    set_array(L, "V_", in_v);
    /* each loop is its own chunk, so each gets its own trace */
    bench_lua(L, "indicators.lua.reference_empty_loop",
              "local c, h, l, v, sink = C_, H_, L_, V_, 0\n"
              "return function(off) for j = off + 1, off + 1024 do\n"
              "  sink = sink + c[j] + h[j] end end");
    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
        char name[96];
        snprintf(name, sizeof name, "indicators.lua.%s", specs[i].name);
        snprintf(code, sizeof code,
                 "local ind = require('qts.indicators')\n"
                 "local c, h, l, v = C_, H_, L_, V_\n"
                 "local o = %s\n"
                 "return function(off) for j = off + 1, off + 1024 do\n"
                 "  o:push(%s) end end",
                 specs[i].ctor, specs[i].push);
        bench_lua(L, name, code);
    }
    lua_close(L);
    return 0;
}
