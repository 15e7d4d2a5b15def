-- reach an indicator's raw C view: a clean error naming this file (docs/security.md)
return { on_init = function() return {} end,
  on_trade = function(ctx, st, ev) local e = require("qts").ema(3); assert(e:out(100000) == nil and e:out(-1) == nil); e.h.out[100000] = 1 end }
