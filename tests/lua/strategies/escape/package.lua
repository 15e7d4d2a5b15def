-- Escape attempt (docs/security.md): load a C library through package
-- Must end in a clean Lua error with this file's name; the host survives.
local M = {}
function M.on_init(ctx) return {} end
function M.on_trade(ctx, st, ev)
  package.loadlib("/lib/x86_64-linux-gnu/libc.so.6", "system")
end
return M
