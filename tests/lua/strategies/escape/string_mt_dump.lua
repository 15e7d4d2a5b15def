-- Escape attempt (docs/security.md): reach string.dump through the string metatable
-- Must end in a clean Lua error with this file's name; the host survives.
local M = {}
function M.on_init(ctx) return {} end
function M.on_trade(ctx, st, ev)
  local mt = getmetatable("")
  if mt == false then error("string metatable locked (" .. tostring(("").dump) .. ")") end
  local b = mt.__index.dump(function() end)
end
return M
