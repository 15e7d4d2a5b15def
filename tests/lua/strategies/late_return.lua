-- Spins for 0.6 s of CPU on a trade above 200, then tries to trade: by then
-- the watchdog has declared it stuck; its late return must be harmless.
local M = {}
function M.on_init(ctx) return {} end
function M.on_trade(ctx, st, t)
  if t:price() > 200 then
    local t0 = os.clock()
    while os.clock() - t0 < 0.6 do end
    local id, err = ctx:buy(t:symbol(), 1, t:price())
    assert(id == nil and err == "strategy is halted")
    ctx:log("info", "late return: %s", err)
  end
end
return M
