-- Escape attempt (docs/security.md): reach the prelude environment with getfenv
-- Must end in a clean Lua error with this file's name; the host survives.
local M = {}
function M.on_init(ctx) return {} end
function M.on_trade(ctx, st, ev)
  local G = getfenv(ctx.buy)
  G.os.exit(1)
end
return M
