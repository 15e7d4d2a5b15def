-- Escape attempt (docs/security.md): set a metatable on an event
-- Must end in a clean Lua error with this file's name; the host survives.
local M = {}
function M.on_init(ctx) return {} end
function M.on_trade(ctx, st, ev)
  setmetatable(ev, {})
end
return M
