-- reach string.dump through the string metatable: a clean error naming this file (docs/security.md)
return { on_init = function() return {} end,
  on_trade = function(ctx, st, ev) local mt = getmetatable(""); if mt == false then error("string metatable locked (" .. tostring(("").dump) .. ")") end; local b = mt.__index.dump(function() end) end }
