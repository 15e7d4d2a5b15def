-- Escape attempt (docs/security.md): ask load for binary mode
-- Must end in a clean Lua error with this file's name; the host survives.
local M = {}
function M.on_init(ctx) return {} end
function M.on_trade(ctx, st, ev)
  local f, e = load("return 1", "x", "b")
  if f then f() end
  error(e, 0)
end
return M
