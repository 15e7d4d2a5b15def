-- load bytecode through a reader function: a clean error naming this file (docs/security.md)
return { on_init = function() return {} end,
  on_trade = function(ctx, st, ev) local parts = { "\27LJ\2", "\0\0\0" }; local i = 0; local f, e = load(function() i = i + 1; return parts[i] end); if f then f() end; error(e, 0) end }
