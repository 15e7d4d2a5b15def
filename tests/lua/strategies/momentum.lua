-- Deterministic trading on every instrument for the lockstep tests: buys
-- after three rising trades, sells after three falling ones, reports its
-- position and cash in the tag (so fills feed back into decisions).
local M = {}
function M.on_init(ctx) return { last = {}, run = {} } end
function M.on_trade(ctx, st, t)
  local s = t:symbol()
  local px = t:price()
  local last = st.last[s]
  st.last[s] = px
  if not last then return end
  local r = st.run[s] or 0
  if px > last then r = r > 0 and r + 1 or 1 elseif px < last then r = r < 0 and r - 1 or -1 end
  st.run[s] = r
  local pos = ctx:position(s)
  if r == 3 and pos <= 0 then
    ctx:buy(s, 1, nil, { tag = string.format("b%g/%.2f", pos, ctx:cash()) })
  elseif r == -3 and pos > 0 then
    ctx:sell(s, pos, nil, { tag = string.format("s%g/%.2f", pos, ctx:cash()) })
  end
end
return M
