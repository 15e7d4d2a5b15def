-- Escape attempt (docs/security.md): read the methods table of ctx
-- Must end in a clean Lua error with this file's name; the host survives.
local M = {}
function M.on_init(ctx) return {} end
function M.on_trade(ctx, st, ev)
  local mt = getmetatable(ctx)
  mt.buy = nil
end
return M
