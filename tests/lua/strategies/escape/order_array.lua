-- Escape attempt (docs/security.md): read past the reason array of an order event
-- Must end in a clean Lua error with this file's name; the host survives.
local M = {}
function M.on_init(ctx) return {} end
function M.on_order(ctx, st, ev)
  local c = ev.reason_[100000]
end
return M
