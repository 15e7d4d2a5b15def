-- Trades on timers (data time): every 7 s it compares the last price with
-- the one at the previous timer; every 50th trade arms a one-shot 3 s timer.
local M = {}
function M.on_init(ctx)
  ctx:set_timer(7, true)
  return { n = 0, last = nil, prev = nil }
end
function M.on_trade(ctx, st, t)
  st.n = st.n + 1
  if t:symbol() == "BTCUSDT" then st.last = t:price() end
  if st.n % 50 == 0 then ctx:set_timer(3) end
end
function M.on_timer(ctx, st, id)
  if st.last and st.prev then
    local side = st.last > st.prev and "buy" or "sell"
    ctx:order{ symbol = "BTCUSDT", side = side, qty = 1,
               tag = string.format("%d@%.0f/%g", id, ctx:now(), ctx:position("BTCUSDT")) }
  end
  st.prev = st.last
end
return M
