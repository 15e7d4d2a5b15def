-- Escape attempt (docs/security.md): write anywhere with ffi.cast
-- Must end in a clean Lua error with this file's name; the host survives.
local M = {}
function M.on_init(ctx) return {} end
function M.on_trade(ctx, st, ev)
  ffi.cast("int *", 4096)[0] = 1
end
return M
