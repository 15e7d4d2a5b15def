-- five_orders: a test strategy (tests/scenario/test_metrics_prometheus.sh).
-- Buys 1 at market on each of the first five trades it sees, then nothing:
-- the host's order count settles at 5 for the scrape to find.
local M = { api = 1, name = "five_orders", version = "1.0.0" }

function M.on_init(ctx, params) return { symbol = params.symbol, placed = 0 } end

function M.on_trade(ctx, st, t)
  if st.placed >= 5 then return end
  st.placed = st.placed + 1
  ctx:order{ symbol = st.symbol, side = "buy", qty = 1, type = "market", tag = "five" }
end

return M
