-- read past the reason array of an order event: a clean error naming this file (docs/security.md)
return { on_init = function() return {} end,
  on_order = function(ctx, st, ev) local c = ev.reason_[100000] end }
