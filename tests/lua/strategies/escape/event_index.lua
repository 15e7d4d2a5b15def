-- Escape attempt (docs/security.md): index an event like an array
-- Must end in a clean Lua error with this file's name; the host survives.
local M = {}
function M.on_init(ctx) return {} end
function M.on_trade(ctx, st, ev)
  local far = ev[100000]
end
return M
