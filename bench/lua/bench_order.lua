-- Benchmark strategy: one limit order per trade (the full path C -> Lua ->
-- qts_ffi_order -> intent ring).
local M = {}
function M.on_init(ctx) return { n = 0 } end
function M.on_trade(ctx, st, t)
  st.n = st.n + 1
  ctx:order{ symbol = "BTCUSDT", side = "buy", qty = 0.001, limit = t:price() }
end
return M
