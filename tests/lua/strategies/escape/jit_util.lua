-- Escape attempt (docs/security.md): reach jit.util
-- Must end in a clean Lua error with this file's name; the host survives.
local M = {}
function M.on_init(ctx) return {} end
function M.on_trade(ctx, st, ev)
  local u = require("jit.util")
end
return M
