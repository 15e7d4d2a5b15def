-- Escape attempt (docs/security.md): reach the jit global
-- Must end in a clean Lua error with this file's name; the host survives.
local M = {}
function M.on_init(ctx) return {} end
function M.on_trade(ctx, st, ev)
  local u = jit.util
end
return M
