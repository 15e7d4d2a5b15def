-- Escape attempt (docs/security.md): replace the metatable of ctx
-- Must end in a clean Lua error with this file's name; the host survives.
local M = {}
function M.on_init(ctx) return {} end
function M.on_trade(ctx, st, ev)
  setmetatable(ctx, { __index = function() end })
end
return M
