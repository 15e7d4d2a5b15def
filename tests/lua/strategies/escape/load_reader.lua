-- Escape attempt (docs/security.md): load bytecode through a reader function
-- Must end in a clean Lua error with this file's name; the host survives.
local M = {}
function M.on_init(ctx) return {} end
function M.on_trade(ctx, st, ev)
  local parts = { "\27LJ\2", "\0\0\0" }
  local i = 0
  local f, e = load(function() i = i + 1; return parts[i] end)
  if f then f() end
  error(e, 0)
end
return M
