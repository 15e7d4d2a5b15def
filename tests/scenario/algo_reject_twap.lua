-- algo_reject_twap: a test strategy (tests/scenario/test_algo_reject.sh).
-- Places a TWAP buy 1 % under the last trade on the first trade it sees and
-- another on the 200th: the test's broker has a tighter price band, so the
-- venue refuses every slice. Logs the outcome of each order.
local M = { api = 1, name = "algo_reject_twap", version = "1.0.0" }

function M.on_init(ctx, params)
  return { symbol = params.symbol, n = 0, placed = 0 }
end

function M.on_trade(ctx, st, t)
  st.n = st.n + 1
  if st.n ~= 1 and st.n ~= 200 then return end
  local px = math.floor(t:price() * 0.99 * 100) / 100
  local id, err = ctx:order{ symbol = st.symbol, side = "buy", qty = 3, type = "limit",
                             limit = px, algo = "twap", slices = 3, duration = 30,
                             tag = "twap" .. st.n }
  if id then st.placed = st.placed + 1 else ctx:log("warn", "order refused: %s", err) end
end

function M.on_order(ctx, st, o)
  ctx:log("info", "twap order %s kind=%s code=%d reason=%s", tostring(o:id()), o:kind(),
          o:code(), o:reason())
end

return M
