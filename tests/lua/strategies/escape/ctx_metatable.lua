-- replace the metatable of ctx: a clean error naming this file (docs/security.md)
return { on_init = function() return {} end,
  on_trade = function(ctx, st, ev) setmetatable(ctx, { __index = function() end }) end }
