-- market_maker: quotes one bid and one ask around the mid of the order book,
-- skewed against inventory, and stops quoting the side that would push the
-- position past max_position. Quotes are post-only limit orders; they are
-- replaced when the mid moves by more than `requote` ticks.
--
-- params:
--   symbol          (required)
--   qty             size of each quote            (default 1)
--   half_spread     distance from mid, in ticks   (default 2)
--   skew            ticks of price shift per unit of inventory (default 1)
--   max_position    absolute inventory limit      (default 5)
--   requote         mid move in ticks that triggers a requote (default 1)
local M = { api = 1, name = "market_maker", version = "1.0.0" }

function M.on_init(ctx, params)
  assert(params.symbol, "market_maker needs params.symbol")
  local ins = assert(ctx:instrument(params.symbol))
  return {
    symbol = params.symbol,
    tick = ins.tick > 0 and ins.tick or 0.01,
    qty = params.qty or 1,
    half = params.half_spread or 2,
    skew = params.skew or 1,
    max_pos = params.max_position or 5,
    requote = params.requote or 1,
    quoted_mid = nil,
    bid_id = nil, ask_id = nil,      -- our working quotes (ids)
  }
end

local function cancel_quotes(ctx, st)
  if st.bid_id then ctx:cancel(st.bid_id); st.bid_id = nil end
  if st.ask_id then ctx:cancel(st.ask_id); st.ask_id = nil end
end

local function quote(ctx, st, mid)
  cancel_quotes(ctx, st)
  local pos = ctx:position(st.symbol)
  local tick = st.tick
  local center = mid - st.skew * pos * tick
  local bid = math.floor(center / tick - st.half + 0.5) * tick
  local ask = math.floor(center / tick + st.half + 0.5) * tick
  if pos + st.qty <= st.max_pos then
    st.bid_id = ctx:order{ symbol = st.symbol, side = "buy", qty = st.qty, limit = bid,
                           tif = "post", tag = "mm_bid" }
  end
  if pos - st.qty >= -st.max_pos then
    st.ask_id = ctx:order{ symbol = st.symbol, side = "sell", qty = st.qty, limit = ask,
                           tif = "post", tag = "mm_ask" }
  end
  st.quoted_mid = mid
end

function M.on_book(ctx, st, b)
  local mid = b:mid()
  if not mid then return end
  if st.quoted_mid and math.abs(mid - st.quoted_mid) < st.requote * st.tick then return end
  quote(ctx, st, mid)
end

function M.on_order(ctx, st, o)
  local k = o:kind()
  if k == "accepted" or k == "replaced" then return end
  if o:id() == st.bid_id then st.bid_id = nil end
  if o:id() == st.ask_id then st.ask_id = nil end
end

-- A fill changes the inventory: requote at once around the last mid.
function M.on_fill(ctx, st, f)
  if f:order_id() == st.bid_id or f:order_id() == st.ask_id then
    if f:order_id() == st.bid_id then st.bid_id = nil else st.ask_id = nil end
  end
  if st.quoted_mid then quote(ctx, st, st.quoted_mid) end
end

function M.on_stop(ctx, st)
  return { bid_id = st.bid_id, ask_id = st.ask_id, quoted_mid = st.quoted_mid }
end

function M.on_reload(ctx, snap, params)
  local st = M.on_init(ctx, params)
  if snap then st.bid_id, st.ask_id, st.quoted_mid = snap.bid_id, snap.ask_id, snap.quoted_mid end
  return st
end

return M
