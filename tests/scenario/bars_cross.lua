-- bars_cross: the moving-average crossover of the bar scenarios. Always in
-- the market once both averages are ready: long when the fast SMA of the
-- closes is above the slow one, short below, sized with all of the equity
-- (params.fraction of it, default all) in whole shares at the signal
-- bar's close. on_end flattens.
local qts = require("qts")
local M = { api = 1, name = "bars_cross" }

function M.on_init(ctx, p)
  return { sym = p.symbol, fast = qts.sma(p.fast or 5), slow = qts.sma(p.slow or 20),
           fraction = p.fraction or 1.0, flatten = p.flatten ~= false, started = false,
           pending = false }
end

function M.on_start(ctx, st)
  st.started = true
  ctx:log("info", "bars_cross started equity=%.2f", ctx:equity())
end

function M.on_bar(ctx, st, b)
  local c = b:close()
  local f, s = st.fast:push(c), st.slow:push(c)
  if not (st.fast:ready() and st.slow:ready()) or st.pending then return end
  local n = ctx:size(st.sym, c, st.fraction, "equity")
  local target = f > s and n or -n
  local pos = ctx:position(st.sym)
  -- trade only on a cross (or the first signal): the target's sign changed
  if pos ~= 0 and (pos > 0) == (target > 0) then return end
  local d = target - pos
  if d ~= 0 then
    st.pending = ctx:order{ symbol = st.sym, side = d > 0 and "buy" or "sell", qty = math.abs(d),
                            type = "market" } ~= nil
  end
end

function M.on_order(ctx, st, o)
  local k = o:kind()
  if k ~= "accepted" and k ~= "replaced" then st.pending = false end
  if k == "rejected" or k == "failed" then
    ctx:log("warn", "bars_cross order %s: %s (%d)", o:kind(), o:reason(), o:code())
  end
end

function M.on_end(ctx, st, reason)
  local pos = ctx:position(st.sym)
  ctx:log("info", "bars_cross on_end reason=%s position=%d started=%s", reason, pos, tostring(st.started))
  if st.flatten and pos ~= 0 then
    ctx:order{ symbol = st.sym, side = pos > 0 and "sell" or "buy", qty = math.abs(pos), type = "market" }
  end
end

return M
