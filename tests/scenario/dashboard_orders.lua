-- dashboard_orders: a test strategy (tests/scenario/test_dashboard_chromium.sh).
-- On its first trade: buys 2 at market (a position) and rests two limit
-- orders 3% away from the price, inside PreCheck's 5% band, which the
-- synthetic feed does not reach during the test: two working orders.
local M = { api = 1, name = "dashboard_orders", version = "1.0.0" }

function M.on_init(ctx, params) return { symbol = params.symbol, done = false } end

function M.on_trade(ctx, st, t)
  if st.done then return end
  st.done = true
  local px = t:price()
  ctx:order{ symbol = st.symbol, side = "buy", qty = 2, type = "market", tag = "position" }
  ctx:order{ symbol = st.symbol, side = "buy", qty = 1, type = "limit",
             limit = math.floor(px * 97) / 100, tag = "bid" }
  ctx:order{ symbol = st.symbol, side = "sell", qty = 1, type = "limit",
             limit = math.floor(px * 103) / 100, tag = "ask" }
end

return M
