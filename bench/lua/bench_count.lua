-- Benchmark strategy: reads the trade and updates its state, no order.
local M = {}
function M.on_init(ctx) return { n = 0, sum = 0 } end
function M.on_trade(ctx, st, t)
  st.n = st.n + 1
  st.sum = st.sum + t:price()
end
return M
