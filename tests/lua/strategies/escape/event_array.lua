-- read past an array field of an event: a clean error naming this file (docs/security.md)
return { on_init = function() return {} end,
  on_trade = function(ctx, st, ev) local x = ev.reserved[100000] end }
