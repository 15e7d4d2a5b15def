-- Raises on every trade priced above 150; otherwise echoes an order.
local M = {}
function M.on_init(ctx) return { n = 0 } end
local function check(px)
  if px > 150 then
    error("price too high: " .. px)          -- line 6
  end
end
function M.on_trade(ctx, st, t)
  st.n = st.n + 1
  check(t:price())
  ctx:buy(t:symbol(), 0.001, t:price(), { tag = "ok:" .. st.n })
end
return M
