-- Spins forever on the first trade above 200 (live: a compiled loop no hook
-- reaches, the watchdog abandons the thread; replay: interpreted, the
-- instruction limit ends it).
local M = {}
function M.on_init(ctx) return { n = 0 } end
function M.on_trade(ctx, st, t)
  st.n = st.n + 1
  if t:price() > 200 then
    local x = 0
    while true do x = x + 1 end
  end
  ctx:buy(t:symbol(), 0.001, t:price(), { tag = "e:" .. st.n })
end
return M
