-- Escape attempt (docs/security.md): read past an array field of an event
-- Must end in a clean Lua error with this file's name; the host survives.
local M = {}
function M.on_init(ctx) return {} end
function M.on_trade(ctx, st, ev)
  local x = ev.reserved[100000]
end
return M
