-- pointer arithmetic on an event: a clean error naming this file (docs/security.md)
return { on_init = function() return {} end,
  on_trade = function(ctx, st, ev) local p = ev + 1000000; p.px = 1 end }
