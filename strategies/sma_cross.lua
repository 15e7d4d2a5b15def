-- sma_cross: long when the fast simple moving average of closing prices is
-- above the slow one, flat otherwise. Made for bar files (on_bar: the bar's
-- close); trades count as closes too.
--
-- params (strategies: entry in the YAML):
--   symbol       instrument to trade                  (required)
--   fast, slow   SMA periods in bars                  (default 10, 30)
--   qty          position size when in the market     (default 1)
local qts = require("qts")

local M = { api = 1, name = "sma_cross", version = "1.0.0" }

function M.on_init(ctx, params)
  assert(params.symbol, "sma_cross needs params.symbol")
  local fast, slow = params.fast or 10, params.slow or 30
  assert(fast < slow, "fast must be shorter than slow")
  return {
    symbol = params.symbol,
    fast = qts.sma(fast),
    slow = qts.sma(slow),
    qty = params.qty or 1,
    side = nil,        -- "above" / "below" once both averages are ready
    pending = nil,     -- id of the order in flight: no new signal until it is done
  }
end

local function on_close(ctx, st, px)
  local f, s = st.fast:push(px), st.slow:push(px)
  if not (st.fast:ready() and st.slow:ready()) then return end
  local side = f > s and "above" or "below"
  local crossed = st.side ~= nil and side ~= st.side
  st.side = side
  if not crossed or st.pending then return end
  local target = side == "above" and st.qty or 0
  local delta = target - ctx:position(st.symbol)
  if delta == 0 then return end
  local id, err = ctx:order{ symbol = st.symbol, side = delta > 0 and "buy" or "sell",
                             qty = math.abs(delta), type = "market",
                             tag = side == "above" and "cross_up" or "cross_down" }
  if id then st.pending = id else ctx:log("warn", "order refused: %s", err) end
end

function M.on_bar(ctx, st, b) on_close(ctx, st, b:close()) end
function M.on_trade(ctx, st, t) on_close(ctx, st, t:price()) end

function M.on_order(ctx, st, o)
  local k = o:kind()
  if o:id() == st.pending and (k == "rejected" or k == "cancelled" or k == "expired"
                               or k == "complete" or k == "failed") then
    if k == "rejected" then ctx:log("warn", "order rejected: %s (%d)", o:reason(), o:code()) end
    st.pending = nil
  end
end

function M.on_fill(ctx, st, f)
  if f:order_id() == st.pending and ctx:position(st.symbol) == (st.side == "above" and st.qty or 0) then
    st.pending = nil
  end
end

function M.on_stop(ctx, st) return { pending = st.pending, side = st.side } end

function M.on_reload(ctx, snap, params)
  local st = M.on_init(ctx, params)
  st.pending = snap and snap.pending
  return st
end

return M
