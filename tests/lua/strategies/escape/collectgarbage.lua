-- Escape attempt (docs/security.md): stop the collector
-- Must end in a clean Lua error with this file's name; the host survives.
local M = {}
function M.on_init(ctx) return {} end
function M.on_trade(ctx, st, ev)
  collectgarbage("stop")
end
return M
