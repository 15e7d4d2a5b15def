/* test_indicators_lua.c — the Lua module qts.indicators, loaded from the
 * source tree into a bare lua_State, reaches the C indicators through ffi.C
 * (this executable exports qts_ffi_*) and returns exactly the C values. */
#include "lua_state_test.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "indicators.h"

enum { N_BARS = 300 };
static double bo[N_BARS], bh[N_BARS], bl[N_BARS], bc[N_BARS], bv[N_BARS];

static void make_series(void)
{
    uint64_t seed = 12345;
    double px = 50;
    for (int i = 0; i < N_BARS; i++) {
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        double r = (double)(seed >> 33) / (double)(1u << 31);
        bo[i] = px;
        px += r - 0.48;
        bc[i] = px;
        bh[i] = (bo[i] > bc[i] ? bo[i] : bc[i]) + r * 0.3;
        bl[i] = (bo[i] < bc[i] ? bo[i] : bc[i]) - (1 - r) * 0.3;
        bv[i] = 1000 + (double)((seed >> 16) & 0xfff);
    }
}

static lua_State *new_state(void)
{
    return qts_test_lua_state(qts_test_src_path("host/lua"), NULL);
}

static void push_array(lua_State *L, const char *name, const double *v)
{
    lua_createtable(L, N_BARS, 0);
    for (int i = 0; i < N_BARS; i++) {
        lua_pushnumber(L, v[i]);
        lua_rawseti(L, -2, i + 1);
    }
    lua_setglobal(L, name);
}

static void run(lua_State *L, const char *code)
{
    if (luaL_dostring(L, code) != 0)
        fail_msg("lua: %s", lua_tostring(L, -1));
}

/* Lua: build one indicator per spec, push the series with the kind's own
 * :push signature, record every output after every push. */
static const char *const lua_driver =
    "local ind = require('qts.indicators')\n"
    "specs = {\n"
    "  {ind.sma(5), 'x'}, {ind.ema(5), 'x'}, {ind.wma(5), 'x'}, {ind.rsi(14), 'x'},\n"
    "  {ind.rsi_simple(14), 'x'}, {ind.macd(12, 26, 9), 'x'}, {ind.atr(14), 'hlc'},\n"
    "  {ind.atr_simple(14), 'hlc'}, {ind.bollinger(20, 2), 'x'}, {ind.vwap(10), 'pv'},\n"
    "  {ind.obv(), 'pv'}, {ind.adx(14), 'hlc'}, {ind.cci(20), 'hlc'},\n"
    "  {ind.stoch(14, 3, 3), 'hlc'}, {ind.willr(14), 'hlc'}, {ind.roc(12), 'x'},\n"
    "  {ind.kama(10, 2, 30), 'x'}, {ind.mfi(14), 'hlcv'}, {ind.sma(7), 'bar'},\n"
    "}\n"
    "results = {}\n"
    "for s, spec in ipairs(specs) do\n"
    "  local o, how, r = spec[1], spec[2], {}\n"
    "  for i = 1, #C_ do\n"
    "    local v\n"
    "    if how == 'x' then v = o:push(C_[i])\n"
    "    elseif how == 'pv' then v = o:push(C_[i], V_[i])\n"
    "    elseif how == 'hlc' then v = o:push(H_[i], L_[i], C_[i])\n"
    "    elseif how == 'hlcv' then v = o:push(H_[i], L_[i], C_[i], V_[i])\n"
    "    else v = o:push_bar(O_[i], H_[i], L_[i], C_[i], V_[i]) end\n"
    "    assert(v == o:value() or (v ~= v and o:value() ~= o:value()))\n"
    "    local row = { ready = o:ready() }\n"
    "    for j = 0, 4 do row[j] = o:out(j) end\n"
    "    r[i] = row\n"
    "  end\n"
    "  results[s] = r\n"
    "end\n";

struct c_spec {
    int kind, n1, n2, n3;
    double k;
    char how; /* x, p(v), h(lc), m (hlcv), b(ar) */
};

static const struct c_spec c_specs[] = {
    {QTS_IND_SMA, 5, 0, 0, 0, 'x'},         {QTS_IND_EMA, 5, 0, 0, 0, 'x'},
    {QTS_IND_WMA, 5, 0, 0, 0, 'x'},         {QTS_IND_RSI, 14, 0, 0, 0, 'x'},
    {QTS_IND_RSI_SIMPLE, 14, 0, 0, 0, 'x'}, {QTS_IND_MACD, 12, 26, 9, 0, 'x'},
    {QTS_IND_ATR, 14, 0, 0, 0, 'h'},        {QTS_IND_ATR_SIMPLE, 14, 0, 0, 0, 'h'},
    {QTS_IND_BOLL, 20, 0, 0, 2, 'x'},       {QTS_IND_VWAP, 10, 0, 0, 0, 'p'},
    {QTS_IND_OBV, 0, 0, 0, 0, 'p'},         {QTS_IND_ADX, 14, 0, 0, 0, 'h'},
    {QTS_IND_CCI, 20, 0, 0, 0, 'h'},        {QTS_IND_STOCH, 14, 3, 3, 0, 'h'},
    {QTS_IND_WILLR, 14, 0, 0, 0, 'h'},      {QTS_IND_ROC, 12, 0, 0, 0, 'x'},
    {QTS_IND_KAMA, 10, 2, 30, 0, 'x'},      {QTS_IND_MFI, 14, 0, 0, 0, 'm'},
    {QTS_IND_SMA, 7, 0, 0, 0, 'b'},
};

static void test_lua_equals_c(void **state)
{
    (void)state;
    make_series();
    lua_State *L = new_state();
    push_array(L, "O_", bo);
    push_array(L, "H_", bh);
    push_array(L, "L_", bl);
    push_array(L, "C_", bc);
    push_array(L, "V_", bv);
    run(L, lua_driver);

    lua_getglobal(L, "results");
    assert_int_equal((int)lua_objlen(L, -1), (int)(sizeof c_specs / sizeof c_specs[0]));
    for (size_t s = 0; s < sizeof c_specs / sizeof c_specs[0]; s++) {
        const struct c_spec *cs = &c_specs[s];
        struct qts_ind *ind;
        assert_int_equal(qts_ind_new(cs->kind, cs->n1, cs->n2, cs->n3, cs->k, &ind), 0);
        const struct qts_ind_view *v = qts_ind_view(ind);
        lua_rawgeti(L, -1, (int)s + 1);
        int n_ready = 0;
        for (int i = 0; i < N_BARS; i++) {
            switch (cs->how) {
            case 'x': qts_ind_push(ind, bc[i]); break;
            case 'p': qts_ind_push_bar(ind, bc[i], bc[i], bc[i], bc[i], bv[i]); break;
            case 'h': qts_ind_push_bar(ind, bc[i], bh[i], bl[i], bc[i], 0); break;
            case 'm': qts_ind_push_bar(ind, bc[i], bh[i], bl[i], bc[i], bv[i]); break;
            default: qts_ind_push_bar(ind, bo[i], bh[i], bl[i], bc[i], bv[i]); break;
            }
            lua_rawgeti(L, -1, i + 1);
            lua_getfield(L, -1, "ready");
            assert_int_equal(lua_toboolean(L, -1), v->is_ready);
            n_ready += v->is_ready;
            lua_pop(L, 1);
            for (int j = 0; j < QTS_IND_MAX_OUT; j++) {
                lua_rawgeti(L, -1, j);
                double got = lua_tonumber(L, -1), want = v->out[j];
                lua_pop(L, 1);
                if (!(got == want || (isnan(got) && isnan(want))))
                    fail_msg("kind %d bar %d out %d: lua %.17g c %.17g", cs->kind, i, j, got, want);
            }
            lua_pop(L, 1);
        }
        assert_true(n_ready > N_BARS / 2);
        lua_pop(L, 1);
        qts_ind_free(ind);
    }
    lua_pop(L, 1);
    lua_close(L); /* runs the ffi.gc finalizers: ASan reports any leak */
}

static void test_layout_and_accessors(void **state)
{
    (void)state;
    lua_State *L = new_state();
    char code[4096];
    snprintf(code, sizeof code,
             "local ffi = require('ffi')\n"
             "local ind = require('qts.indicators')\n"
             "assert(ffi.sizeof('struct qts_ind_view') == %d)\n"
             "assert(ffi.offsetof('struct qts_ind_view', 'is_ready') == %d)\n"
             "assert(ffi.offsetof('struct qts_ind_view', 'out') == %d)\n"
             "assert(ffi.C.qts_ffi_ind_layout(0) == ffi.sizeof('struct qts_ind_view'))\n"
             "assert(ffi.C.qts_ffi_ind_layout(2) == ffi.offsetof('struct qts_ind_view', 'out'))\n"
             /* a second require returns the cached module; reloading the
              * file (as a strategy reload might) must not redeclare types */
             "package.loaded['qts.indicators'] = nil\n"
             "local ind2 = require('qts.indicators')\n"
             "assert(ind2 ~= ind)\n"
             "local m = ind.macd()\n"
             "for i = 1, 40 do m:push(100 + i) end\n"
             "assert(m:ready() and m:macd() == m:value() and m:signal() == m:signal())\n"
             "assert(math.abs(m:hist() - (m:macd() - m:signal())) < 1e-12)\n"
             "local b = ind.bollinger(3, 1)\n"
             "b:push(1); b:push(2)\n"
             "assert(not b:ready() and b:value() ~= b:value())\n"
             "b:push(3)\n"
             "assert(b:ready() and b:middle() == 2 and b:upper() > 2 and b:lower() < 2)\n"
             "local s = ind.stoch(3, 1, 2)\n"
             "s:push(2, 1, 1.5); s:push(2, 1, 1.5); s:push(3, 1, 3)\n"
             "assert(s:k() == 100 and s:d() ~= s:d())\n"
             "local t = ind.install({})\n"
             "assert(t.ema == ind.ema and t.mfi == ind.mfi)\n"
             /* invalid parameters raise a clear error */
             "local ok, err = pcall(ind.sma, 0)\n"
             "assert(not ok and err:find('qts.sma: invalid parameters'), err)\n"
             "ok, err = pcall(ind.ema, 2.5)\n"
             "assert(not ok and err:find('must be an integer'), err)\n"
             "ok, err = pcall(ind.macd, 26, 12)\n"
             "assert(not ok and err:find('qts.macd'), err)\n"
             "ok, err = pcall(ind.sma)\n"
             "assert(not ok)\n"
             /* many short-lived objects: the collector frees them */
             "for i = 1, 2000 do ind.sma(50):push(i) end\n"
             "collectgarbage(); collectgarbage()\n",
             (int)sizeof(struct qts_ind_view), (int)offsetof(struct qts_ind_view, is_ready),
             (int)offsetof(struct qts_ind_view, out));
    run(L, code);
    lua_close(L);
}

QTS_TEST_MAIN(test_lua_equals_c, test_layout_and_accessors)
