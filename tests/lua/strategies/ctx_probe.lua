-- Exercises ctx:set_timer, ctx:book, ctx:bars, ctx:param, ctx:now and
-- reports through order tags (max 23 characters).
local M = {}
function M.on_init(ctx, params)
  local id = assert(ctx:set_timer(2, true))          -- every 2 s of (virtual) time
  return { timer = id, fired = 0, k = ctx:param("k", 7), missing = ctx:param("nope", "dflt") }
end
local function tag(ctx, s) ctx:buy("BTCUSDT", 1, 1, { tag = s }) end
function M.on_timer(ctx, st, id)
  st.fired = st.fired + 1
  tag(ctx, string.format("t%d/%d/%.0f", id == st.timer and 1 or 0, st.fired, ctx:now()))
  if st.fired == 2 then ctx:cancel_timer(id) end
end
function M.on_book(ctx, st, b)
  local bk = assert(ctx:book("BTCUSDT", 2))
  tag(ctx, string.format("b%d/%d/%.2f/%.2f", #bk.bids, #bk.asks, bk.bids[1][1], bk.asks[1][1]))
end
function M.on_bar(ctx, st, b)
  local bars = ctx:bars("BTCUSDT", "1m", 10)
  tag(ctx, string.format("r%d/%.1f/%.1f", #bars, bars[1].close, bars[#bars].close))
end
function M.on_trade(ctx, st, t)
  tag(ctx, string.format("p%s/%s/%s", tostring(st.k), st.missing, tostring(ctx:book("ETHUSDT"))))
end
return M
