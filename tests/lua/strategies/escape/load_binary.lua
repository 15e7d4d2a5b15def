-- Escape attempt (docs/security.md): load a bytecode chunk
-- Must end in a clean Lua error with this file's name; the host survives.
local M = {}
function M.on_init(ctx) return {} end
function M.on_trade(ctx, st, ev)
  local f, e = load("\27LJ\2\0\0\0\0")
  if f then f() end
  error(e, 0)
end
return M
