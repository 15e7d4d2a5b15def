-- exec_children: a test strategy (tests/scenario/test_store_exec_*.sh).
-- On the 50th trade a TWAP market buy in 4 slices over 20 s; on the 400th
-- an iceberg limit sell (marketable, 0.5 % under the last trade) shown
-- 0.01 at a time. Logs each order's outcome.
local M = { api = 1, name = "exec_children", version = "1.0.0" }

function M.on_init(ctx, params)
  return { symbol = params.symbol, n = 0 }
end

function M.on_trade(ctx, st, t)
  st.n = st.n + 1
  if st.n == 50 then
    local id, err = ctx:order{ symbol = st.symbol, side = "buy", qty = 0.04, type = "market",
                               algo = "twap", slices = 4, duration = 20, tag = "twap" }
    if not id then ctx:log("warn", "twap refused: %s", err) end
  elseif st.n == 400 then
    local px = math.floor(t:price() * 0.995 * 100) / 100
    local id, err = ctx:order{ symbol = st.symbol, side = "sell", qty = 0.03, type = "limit",
                               limit = px, algo = "iceberg", display_qty = 0.01, tag = "ice" }
    if not id then ctx:log("warn", "iceberg refused: %s", err) end
  end
end

function M.on_order(ctx, st, o)
  ctx:log("info", "exec order %s kind=%s code=%d", tostring(o:id()), o:kind(), o:code())
end

return M
