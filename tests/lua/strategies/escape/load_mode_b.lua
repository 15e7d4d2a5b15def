-- ask load for binary mode: a clean error naming this file (docs/security.md)
return { on_init = function() return {} end,
  on_trade = function(ctx, st, ev) local f, e = load("return 1", "x", "b"); if f then f() end; error(e, 0) end }
