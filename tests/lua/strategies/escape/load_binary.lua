-- load a bytecode chunk: a clean error naming this file (docs/security.md)
return { on_init = function() return {} end,
  on_trade = function(ctx, st, ev) local f, e = load("\27LJ\2\0\0\0\0"); if f then f() end; error(e, 0) end }
