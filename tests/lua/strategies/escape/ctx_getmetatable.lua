-- read the methods table of ctx: a clean error naming this file (docs/security.md)
return { on_init = function() return {} end,
  on_trade = function(ctx, st, ev) local mt = getmetatable(ctx); mt.buy = nil end }
