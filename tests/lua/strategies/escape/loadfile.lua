-- load a file with loadfile: a clean error naming this file (docs/security.md)
return { on_init = function() return {} end,
  on_trade = function(ctx, st, ev) loadfile("/etc/hostname", "b") end }
