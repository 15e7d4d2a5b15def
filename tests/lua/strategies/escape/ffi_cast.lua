-- write anywhere with ffi.cast: a clean error naming this file (docs/security.md)
return { on_init = function() return {} end,
  on_trade = function(ctx, st, ev) ffi.cast("int *", 4096)[0] = 1 end }
