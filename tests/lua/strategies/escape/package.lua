-- load a C library through package: a clean error naming this file (docs/security.md)
return { on_init = function() return {} end,
  on_trade = function(ctx, st, ev) package.loadlib("/lib/x86_64-linux-gnu/libc.so.6", "system") end }
