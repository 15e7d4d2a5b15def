-- Reports its account mirror after every fill through order tags, read by
-- tests/lua/test_lua_cash_exact.c: "c<cash units>", "e<equity units>" (exact
-- integers of 10^-6 currency units) and "n<ok|bad>": whether the numbers
-- ctx:cash()/ctx:equity() are those units divided by 10^6.
local M = {}
local function digits(u) return (tostring(u):gsub("U?LL$", "")) end
function M.on_init(ctx) return {} end
function M.on_fill(ctx, st, f)
  local c, e = ctx:cash_units(), ctx:equity_units()
  local same = ctx:cash() == tonumber(c) / 1e6 and ctx:equity() == tonumber(e) / 1e6
  ctx:sell("BTCUSDT", 1, 100, { tag = "c" .. digits(c) })
  ctx:sell("BTCUSDT", 1, 100, { tag = "e" .. digits(e) })
  ctx:sell("BTCUSDT", 1, 100, { tag = same and "nok" or "nbad" })
end
return M
