-- A legitimate busy callback: params.iters loop iterations per trade, and
-- one order every 10th trade (so a step carries 10 trades in one dispatch).
local M = {}
function M.on_init(ctx, params) return { n = 0, iters = tonumber(params.iters) } end
function M.on_trade(ctx, st, t)
  st.n = st.n + 1
  local x = 0
  for i = 1, st.iters do x = x + i % 7 end
  if st.n % 10 == 0 then
    ctx:buy(t:symbol(), 0.001, t:price(), { tag = "b:" .. st.n })
  end
end
return M
