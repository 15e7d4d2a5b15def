-- run a file with dofile: a clean error naming this file (docs/security.md)
return { on_init = function() return {} end,
  on_trade = function(ctx, st, ev) dofile("/etc/hostname") end }
