-- follow the book level pointer: a clean error naming this file (docs/security.md)
return { on_init = function() return {} end,
  on_book = function(ctx, st, ev) local l = ev.bids[-100000] end }
