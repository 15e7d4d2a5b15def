-- Reports what it observes through order tags (the test reads the sink).
local M = {}
function M.on_init(ctx) return { sent = false } end
function M.on_trade(ctx, st, t)
  ctx:buy(t:symbol(), 1, t:price())
end
function M.on_order(ctx, st, o)
  if o:kind() == "rejected" then
    ctx:sell("BTCUSDT", 1, 100, { tag = "rejected:" .. o:code() })
  end
end
function M.on_fill(ctx, st, f)
  ctx:sell("BTCUSDT", 1, 100, { tag = string.format("p=%g c=%g e=%g",
    ctx:position("BTCUSDT"), ctx:cash(), ctx:equity()) })
end
return M
