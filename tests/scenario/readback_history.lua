-- ctx:history at the first trade: logs what the store gave (the scenario
-- test compares it with SQL over ohlcv_1m / ohlcv_1d)
local M = {}
function M.on_init(ctx, params) return { done = false } end
function M.on_trade(ctx, st, t)
  if st.done then return end
  st.done = true
  local m = ctx:history(t:symbol(), "1m", 50)
  local d = ctx:history(t:symbol(), "1d", 5)
  local first, last = m[1], m[#m]
  ctx:log("info", "history 1m n=%d first=%s last=%s last_close=%s 1d n=%d",
          #m, first and string.format("%.0f", first.time) or "-",
          last and string.format("%.0f", last.time) or "-",
          last and string.format("%.2f", last.close) or "-", #d)
  local few = ctx:history(t:symbol(), "1m", 3)
  local _, err = ctx:history(t:symbol(), "5m", 3)
  ctx:log("info", "history 1m n=3 gives %d ending at %s; 5m: %s", #few,
          few[3] and string.format("%.0f", few[3].time) or "-", tostring(err))
end
return M
