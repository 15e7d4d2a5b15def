-- read the prelude upvalues with debug: a clean error naming this file (docs/security.md)
return { on_init = function() return {} end,
  on_trade = function(ctx, st, ev) local name, S = debug.getupvalue(ctx.buy, 1) end }
