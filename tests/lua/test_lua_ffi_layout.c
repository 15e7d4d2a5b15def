/* test_lua_ffi_layout.c — the hand-written cdefs in host/lua/qts/ffi_cdefs.lua
 * describe exactly the C layouts: ffi.sizeof of every shared struct and
 * ffi.offsetof of every field equal the C compiler's sizeof/offsetof. */
#include "test_support.h"

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <stdio.h>
#include <string.h>

#include "build_info.h"
#include "lua_strategy.h"
#include "qts/qts_types.h"

struct field {
    const char *type;
    const char *lua_field;
    size_t c_off;
};
struct size {
    const char *type;
    size_t c_size;
};

#define F(T, f)                                 \
    {                                           \
        "struct " #T, #f, offsetof(struct T, f) \
    }
#define R(T, f)                                     \
    {                                               \
        "struct " #T, #f "_", offsetof(struct T, f) \
    } /* renamed in Lua */
#define S(T)                           \
    {                                  \
        "struct " #T, sizeof(struct T) \
    }

static const struct size sizes[] = {
    S(qts_instrument),  S(qts_ev_hdr),      S(qts_trade),       S(qts_quote),
    S(qts_level),       S(qts_book_update), S(qts_bar),         S(qts_order_intent),
    S(qts_order_event), S(qts_fill),        S(qts_timer_event), S(qts_feedback_summary),
};

static const struct field fields[] = {
    F(qts_instrument, struct_size),
    F(qts_instrument, id),
    F(qts_instrument, symbol),
    F(qts_instrument, venue),
    F(qts_instrument, px_exp),
    F(qts_instrument, qty_exp),
    F(qts_instrument, reserved0),
    F(qts_instrument, flags),
    F(qts_instrument, tick_size),
    F(qts_instrument, lot_size),
    F(qts_instrument, min_qty),
    F(qts_ev_hdr, struct_size),
    F(qts_ev_hdr, type),
    F(qts_ev_hdr, px_exp),
    F(qts_ev_hdr, qty_exp),
    F(qts_ev_hdr, instrument),
    F(qts_ev_hdr, flags),
    F(qts_ev_hdr, ts_exch_ns),
    F(qts_ev_hdr, ts_recv_ns),
    F(qts_ev_hdr, seq),
    F(qts_trade, h),
    F(qts_trade, px),
    R(qts_trade, qty),
    F(qts_trade, trade_id),
    F(qts_trade, aggressor),
    F(qts_trade, reserved),
    F(qts_quote, h),
    F(qts_quote, bid_px),
    R(qts_quote, bid_qty),
    F(qts_quote, ask_px),
    R(qts_quote, ask_qty),
    F(qts_quote, update_id),
    F(qts_level, px),
    F(qts_level, qty),
    F(qts_book_update, h),
    F(qts_book_update, first_update_id),
    F(qts_book_update, last_update_id),
    F(qts_book_update, prev_update_id),
    R(qts_book_update, n_bids),
    R(qts_book_update, n_asks),
    F(qts_book_update, bids),
    F(qts_book_update, asks),
    F(qts_bar, h),
    F(qts_bar, period_ns),
    R(qts_bar, open),
    R(qts_bar, high),
    R(qts_bar, low),
    R(qts_bar, close),
    R(qts_bar, volume),
    F(qts_bar, n_trades),
    F(qts_order_intent, struct_size),
    F(qts_order_intent, strategy_id),
    F(qts_order_intent, instrument),
    F(qts_order_intent, side),
    F(qts_order_intent, type),
    F(qts_order_intent, tif),
    F(qts_order_intent, algo),
    F(qts_order_intent, px),
    F(qts_order_intent, qty),
    F(qts_order_intent, algo_duration_ns),
    F(qts_order_intent, algo_display_qty),
    F(qts_order_intent, algo_slices),
    F(qts_order_intent, edge_bps),
    F(qts_order_intent, order_id),
    F(qts_order_intent, ts_decision_ns),
    F(qts_order_intent, tag),
    F(qts_order_intent, confidence_bp),
    F(qts_order_event, h),
    R(qts_order_event, order_id),
    F(qts_order_event, strategy_id),
    R(qts_order_event, kind),
    R(qts_order_event, side),
    F(qts_order_event, state),
    F(qts_order_event, reserved0),
    R(qts_order_event, code),
    F(qts_order_event, reserved1),
    R(qts_order_event, filled_qty),
    R(qts_order_event, leaves_qty),
    F(qts_order_event, avg_px),
    R(qts_order_event, reason),
    R(qts_order_event, tag),
    F(qts_fill, h),
    R(qts_fill, order_id),
    F(qts_fill, strategy_id),
    R(qts_fill, side),
    R(qts_fill, is_maker),
    F(qts_fill, reserved0),
    F(qts_fill, px),
    R(qts_fill, qty),
    R(qts_fill, fee),
    F(qts_fill, fill_id),
    R(qts_fill, tag),
    F(qts_timer_event, h),
    F(qts_timer_event, timer_id),
    F(qts_feedback_summary, struct_size),
    F(qts_feedback_summary, sample_count),
    F(qts_feedback_summary, avg_slippage_bps),
    F(qts_feedback_summary, avg_market_impact_bps),
    F(qts_feedback_summary, avg_quality_score),
    F(qts_feedback_summary, avg_fill_latency_ms),
    F(qts_feedback_summary, avg_fill_ratio),
    F(qts_feedback_summary, volatility),
    F(qts_feedback_summary, spread_bps),
    F(qts_feedback_summary, depth),
    F(qts_feedback_summary, is_default),
    F(qts_feedback_summary, model_fitted),
    F(qts_feedback_summary, expected_slippage_bps),
    F(qts_feedback_summary, expected_impact_bps),
    F(qts_feedback_summary, fill_prob),
    F(qts_feedback_summary, model_k),
    F(qts_feedback_summary, model_beta),
    F(qts_feedback_summary, recent_volume),
    F(qts_feedback_summary, model_confidence),
    F(qts_feedback_summary, model_resid_sd),
};

static lua_State *prelude_state(void)
{
    lua_State *L = luaL_newstate();
    assert_non_null(L);
    luaL_openlibs(L);
    char code[1024];
    snprintf(code, sizeof code,
             "package.path = '%s/?.lua'\n"
             "require('qts.ffi_cdefs')\n"
             "local ffi = require('ffi')\n"
             "function qts_sizeof(t) return ffi.sizeof(t) end\n"
             "function qts_offsetof(t, f) return ffi.offsetof(t, f) end\n",
             QTS_LUA_DIR_BUILD);
    if (luaL_dostring(L, code) != 0)
        fail_msg("prelude: %s", lua_tostring(L, -1));
    return L;
}

static void test_sizes(void **state)
{
    (void)state;
    lua_State *L = prelude_state();
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        lua_getglobal(L, "qts_sizeof");
        lua_pushstring(L, sizes[i].type);
        if (lua_pcall(L, 1, 1, 0) != 0)
            fail_msg("%s: %s", sizes[i].type, lua_tostring(L, -1));
        size_t lua_size = (size_t)lua_tonumber(L, -1);
        lua_pop(L, 1);
        if (lua_size != sizes[i].c_size)
            fail_msg("sizeof(%s): C %zu, Lua %zu", sizes[i].type, sizes[i].c_size, lua_size);
    }
    lua_close(L);
}

static void test_offsets(void **state)
{
    (void)state;
    lua_State *L = prelude_state();
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        lua_getglobal(L, "qts_offsetof");
        lua_pushstring(L, fields[i].type);
        lua_pushstring(L, fields[i].lua_field);
        if (lua_pcall(L, 2, 1, 0) != 0)
            fail_msg("%s.%s: %s", fields[i].type, fields[i].lua_field, lua_tostring(L, -1));
        if (lua_isnil(L, -1))
            fail_msg("%s has no field %s in ffi_cdefs.lua", fields[i].type, fields[i].lua_field);
        size_t off = (size_t)lua_tonumber(L, -1);
        lua_pop(L, 1);
        if (off != fields[i].c_off)
            fail_msg("offsetof(%s, %s): C %zu, Lua %zu", fields[i].type, fields[i].lua_field,
                     fields[i].c_off, off);
    }
    lua_close(L);
}

QTS_TEST_MAIN(test_sizes, test_offsets)
