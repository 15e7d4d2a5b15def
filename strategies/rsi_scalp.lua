-- rsi_scalp: buy when RSI (Wilder) of trade prices is oversold; exit on
-- overbought, take-profit or stop-loss. Long only, one position at a time.
--
-- params:
--   symbol                 (required)
--   n                      RSI period in trades    (default 14)
--   oversold, overbought   thresholds             (default 30, 70)
--   qty                    entry size              (default 1)
--   take_profit, stop_loss fractions of entry     (default 0.004, 0.002)
local qts = require("qts")

local M = { api = 1, name = "rsi_scalp", version = "1.0.0" }

function M.on_init(ctx, params)
  assert(params.symbol, "rsi_scalp needs params.symbol")
  return {
    symbol = params.symbol,
    rsi = qts.rsi(params.n or 14),
    lo = params.oversold or 30, hi = params.overbought or 70,
    qty = params.qty or 1,
    tp = params.take_profit or 0.004, sl = params.stop_loss or 0.002,
    entry = nil,       -- average entry price while long
    pending = nil,
  }
end

local function send(ctx, st, side, qty, tag)
  local id, err = ctx:order{ symbol = st.symbol, side = side, qty = qty, type = "market",
                             tif = "ioc", tag = tag }
  if id then st.pending = id else ctx:log("warn", "order refused: %s", err) end
end

function M.on_trade(ctx, st, t)
  local px = t:price()
  local r = st.rsi:push(px)
  if st.pending or not st.rsi:ready() then return end
  local pos = ctx:position(st.symbol)
  if pos == 0 then
    if r < st.lo then send(ctx, st, "buy", st.qty, "entry") end
  elseif st.entry then
    if px >= st.entry * (1 + st.tp) then send(ctx, st, "sell", pos, "take_profit")
    elseif px <= st.entry * (1 - st.sl) then send(ctx, st, "sell", pos, "stop_loss")
    elseif r > st.hi then send(ctx, st, "sell", pos, "overbought") end
  end
end

function M.on_fill(ctx, st, f)
  local pos = ctx:position(st.symbol)
  if f:side() == "buy" then
    local before = pos - f:qty()
    st.entry = ((st.entry or 0) * before + f:price() * f:qty()) / pos
  elseif pos == 0 then
    st.entry = nil
  end
  if f:order_id() == st.pending and (pos == 0 or pos == st.qty) then st.pending = nil end
end

function M.on_order(ctx, st, o)
  local k = o:kind()
  if o:id() == st.pending and k ~= "accepted" and k ~= "replaced" then st.pending = nil end
end

function M.on_stop(ctx, st) return { entry = st.entry, pending = st.pending } end

function M.on_reload(ctx, snap, params)
  local st = M.on_init(ctx, params)
  if snap then st.entry, st.pending = snap.entry, snap.pending end
  return st
end

return M
