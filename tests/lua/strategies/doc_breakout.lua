-- Copied verbatim from docs/strategy-api.md section 1 (kept in sync by
-- test_lua_examples.c, which compares the two).
-- strategies/breakout.lua: buy when a trade prints above the highest price of
-- the last `n` trades, sell the position when it prints below the lowest.
local M = { api = 1, name = "breakout", version = "1.0.0" }

function M.on_init(ctx, params)          -- required; returns the state table
  return { n = params.n or 20, qty = params.qty or 1, prices = {}, pending = nil }
end

function M.on_trade(ctx, st, t)          -- t: the trade (valid during this call only)
  local px = t:price()
  local hi, lo = -math.huge, math.huge
  for _, p in ipairs(st.prices) do hi = math.max(hi, p); lo = math.min(lo, p) end
  table.insert(st.prices, px)
  if #st.prices > st.n then table.remove(st.prices, 1) end
  if #st.prices < st.n or st.pending then return end

  local pos = ctx:position(t:symbol())
  if px > hi and pos == 0 then
    local id, err = ctx:buy(t:symbol(), st.qty)           -- market order
    if id then st.pending = id else ctx:log("warn", "buy refused: %s", err) end
  elseif px < lo and pos > 0 then
    st.pending = ctx:sell(t:symbol(), pos)
  end
end

function M.on_order(ctx, st, o)          -- accepted / rejected / cancelled / ...
  if o:id() == st.pending and o:kind() ~= "accepted" then st.pending = nil end
  if o:kind() == "rejected" then ctx:log("warn", "rejected: %s (%d)", o:reason(), o:code()) end
end

function M.on_fill(ctx, st, f)
  if f:order_id() == st.pending then st.pending = nil end
end

function M.on_stop(ctx, st) return { prices = st.prices } end      -- snapshot

function M.on_reload(ctx, snap, params)                               -- new version
  local st = M.on_init(ctx, params)
  st.prices = snap.prices
  return st
end

return M
