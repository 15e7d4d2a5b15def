-- ema_cross: long when the fast EMA of trade prices is above the slow one,
-- flat otherwise (short too with allow_short = true).
--
-- params (strategies: entry in the YAML):
--   symbol       instrument to trade                  (required)
--   fast, slow   EMA periods in trades or bars        (default 12, 26)
--   qty          position size when in the market     (default 1)
--   allow_short  go short on a cross down             (default false)
local qts = require("qts")

local M = { api = 1, name = "ema_cross", version = "1.0.0" }

function M.on_init(ctx, params)
  assert(params.symbol, "ema_cross needs params.symbol")
  local fast, slow = params.fast or 12, params.slow or 26
  assert(fast < slow, "fast must be shorter than slow")
  return {
    symbol = params.symbol,
    fast = qts.ema(fast),
    slow = qts.ema(slow),
    qty = params.qty or 1,
    allow_short = params.allow_short == true,
    side = nil,        -- "above" / "below" once both averages are ready
    pending = nil,     -- id of the order in flight: no new signal until it is done
  }
end

-- Bring the position to `target` with one market order.
local function rebalance(ctx, st, target, why)
  local delta = target - ctx:position(st.symbol)
  if delta == 0 then return end
  local id, err = ctx:order{ symbol = st.symbol, side = delta > 0 and "buy" or "sell",
                             qty = math.abs(delta), type = "market", tag = why }
  if id then st.pending = id else ctx:log("warn", "order refused: %s", err) end
end

local function on_price(ctx, st, px)
  local f, s = st.fast:push(px), st.slow:push(px)
  if not (st.fast:ready() and st.slow:ready()) then return end
  local side = f > s and "above" or "below"
  local crossed = st.side ~= nil and side ~= st.side
  st.side = side
  if not crossed or st.pending then return end
  if side == "above" then
    rebalance(ctx, st, st.qty, "cross_up")
  else
    rebalance(ctx, st, st.allow_short and -st.qty or 0, "cross_down")
  end
end

function M.on_trade(ctx, st, t) on_price(ctx, st, t:price()) end
-- bar files: a bar counts as one price, its close
function M.on_bar(ctx, st, b) on_price(ctx, st, b:close()) end

function M.on_order(ctx, st, o)
  local k = o:kind()
  if o:id() == st.pending and (k == "rejected" or k == "cancelled" or k == "expired"
                               or k == "complete" or k == "failed") then
    if k == "rejected" then ctx:log("warn", "order rejected: %s (%d)", o:reason(), o:code()) end
    st.pending = nil
  end
end

function M.on_fill(ctx, st, f)
  if f:order_id() == st.pending then
    local target = st.side == "above" and st.qty or (st.allow_short and -st.qty or 0)
    if ctx:position(st.symbol) == target then st.pending = nil end
  end
end

-- Reload: the averages restart, the position is the host's; keep the
-- pending order so a reload never doubles an order.
function M.on_stop(ctx, st) return { pending = st.pending, side = st.side } end

function M.on_reload(ctx, snap, params)
  local st = M.on_init(ctx, params)
  st.pending = snap and snap.pending
  return st
end

return M
