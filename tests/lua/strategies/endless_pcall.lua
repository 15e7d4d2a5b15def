-- Spins on the first trade above 200 inside pcall, again and again: the
-- instruction limit must still end the callback (every instruction raises
-- once it tripped, so the outer loop cannot carry on).
local M = {}
function M.on_init(ctx) return { n = 0 } end
function M.on_trade(ctx, st, t)
  st.n = st.n + 1
  if t:price() > 200 then
    while true do pcall(function() while true do end end) end
  end
  ctx:buy(t:symbol(), 0.001, t:price(), { tag = "p:" .. st.n })
end
return M
