-- Escape attempt (docs/security.md): read the prelude upvalues with debug
-- Must end in a clean Lua error with this file's name; the host survives.
local M = {}
function M.on_init(ctx) return {} end
function M.on_trade(ctx, st, ev)
  local name, S = debug.getupvalue(ctx.buy, 1)
end
return M
