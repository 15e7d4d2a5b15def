-- Escape attempt (docs/security.md): pointer arithmetic on an event
-- Must end in a clean Lua error with this file's name; the host survives.
local M = {}
function M.on_init(ctx) return {} end
function M.on_trade(ctx, st, ev)
  local p = ev + 1000000
  p.px = 1
end
return M
