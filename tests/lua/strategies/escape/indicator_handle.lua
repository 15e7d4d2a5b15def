-- Escape attempt (docs/security.md): reach an indicator's raw C view
-- Must end in a clean Lua error with this file's name; the host survives.
local M = {}
function M.on_init(ctx) return {} end
function M.on_trade(ctx, st, ev)
  local e = require("qts").ema(3)
  assert(e:out(100000) == nil and e:out(-1) == nil)
  e.h.out[100000] = 1
end
return M
