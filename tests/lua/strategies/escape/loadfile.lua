-- Escape attempt (docs/security.md): load a file with loadfile
-- Must end in a clean Lua error with this file's name; the host survives.
local M = {}
function M.on_init(ctx) return {} end
function M.on_trade(ctx, st, ev)
  loadfile("/etc/hostname", "b")
end
return M
