/* test_lua_strategy.h — pieces of the Lua strategies that tests and
 * benchmarks run, as C string literals. Header-only, no cmocka. */
#ifndef QTS_TEST_LUA_STRATEGY_H
#define QTS_TEST_LUA_STRATEGY_H

/* The head of an on_trade that, on every 40th trade, picks the next size q
 * from the strategy's SIZES and reads its BTCUSDT position into pos; the
 * strategy then writes its own order line (which alternates the side so
 * the position stays small) and the closing `end`. */
#define QTS_TEST_LUA_ON_TRADE_EVERY_40TH     \
    "function M.on_trade(ctx, st, t)\n"      \
    "  st.n = st.n + 1\n"                    \
    "  if st.n % 40 ~= 0 then return end\n"  \
    "  st.k = st.k + 1\n"                    \
    "  local q = SIZES[st.k % #SIZES + 1]\n" \
    "  local pos = ctx:position('BTCUSDT')\n"

#endif
