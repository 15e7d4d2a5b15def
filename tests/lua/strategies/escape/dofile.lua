-- Escape attempt (docs/security.md): run a file with dofile
-- Must end in a clean Lua error with this file's name; the host survives.
local M = {}
function M.on_init(ctx) return {} end
function M.on_trade(ctx, st, ev)
  dofile("/etc/hostname")
end
return M
