-- Escape attempt (docs/security.md): make bytecode with string.dump
-- Must end in a clean Lua error with this file's name; the host survives.
local M = {}
function M.on_init(ctx) return {} end
function M.on_trade(ctx, st, ev)
  local b = string.dump(function() end)
end
return M
