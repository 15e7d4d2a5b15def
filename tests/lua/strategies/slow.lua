-- Burns 5 ms of CPU on every trade priced 500 or more.
local M = {}
function M.on_init(ctx) return {} end
function M.on_trade(ctx, st, t)
  if t:price() >= 500 then
    local t0 = os.clock()
    while os.clock() - t0 < 0.005 do end
  end
end
return M
