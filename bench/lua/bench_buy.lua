-- Benchmark strategy: one limit buy per trade through ctx:buy (no table).
local M = {}
function M.on_init(ctx) return { n = 0 } end
function M.on_trade(ctx, st, t)
  st.n = st.n + 1
  ctx:buy("BTCUSDT", 0.001, t:price())
end
return M
