-- reach the prelude environment with getfenv: a clean error naming this file (docs/security.md)
return { on_init = function() return {} end,
  on_trade = function(ctx, st, ev) local G = getfenv(ctx.buy); G.os.exit(1) end }
