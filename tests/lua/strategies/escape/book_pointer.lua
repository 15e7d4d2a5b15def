-- Escape attempt (docs/security.md): follow the book level pointer
-- Must end in a clean Lua error with this file's name; the host survives.
local M = {}
function M.on_init(ctx) return {} end
function M.on_book(ctx, st, ev)
  local l = ev.bids[-100000]
end
return M
