-- walker: every `every` trades, an aggressive order of params.qty that
-- walks the thin book; alternate sides so the position stays small.
local M = { api = 1, name = "walker", version = "1.0.0" }

function M.on_init(ctx, params)
  return { sym = params.symbol, qty = params.qty or 1, every = params.every or 20,
           algo = params.algo, edge = params.edge_bps, n = 0, k = 0, limit = params.limit,
           large = params.large, large_every = params.large_every or 4,
           confidence = params.confidence }
end

function M.on_trade(ctx, st, t)
  st.n = st.n + 1
  if st.n % st.every ~= 0 then return end
  st.k = st.k + 1
  local side = (st.k % 2 == 1) and "buy" or "sell"
  local q = st.qty
  if st.large and st.k % st.large_every == 0 then q = st.large end
  local o = { symbol = st.sym, side = side, qty = q, type = "market",
              algo = st.algo, edge_bps = st.edge, confidence = st.confidence, tag = "walk" }
  if st.limit then
    o.type = "limit"
    local px = t:price()
    o.limit = side == "buy" and px * (1 + st.limit / 1e4) or px * (1 - st.limit / 1e4)
  end
  local id, err = ctx:order(o)
  if not id then ctx:log("warn", "order refused: %s", err) end
end

return M
