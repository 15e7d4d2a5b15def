-- Escape attempt (docs/security.md): get the real ffi through require
-- Must end in a clean Lua error with this file's name; the host survives.
local M = {}
function M.on_init(ctx) return {} end
function M.on_trade(ctx, st, ev)
  local ffi = require("ffi")
  ffi.cast("int *", 4096)[0] = 1
end
return M
