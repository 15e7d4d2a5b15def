-- Places one 0.001 buy per trade at the trade price, tagged with a running
-- count, so tests can check which events the strategy saw and in what order.
local M = { api = 1 }
function M.on_init(ctx, params)
  return { n = 0, fills = 0, version = 1 }
end
function M.on_trade(ctx, st, t)
  st.n = st.n + 1
  local id, err = ctx:order{ symbol = t:symbol(), side = "buy", qty = 0.001,
                             limit = t:price(), tag = "v" .. st.version .. ":" .. st.n }
  assert(id, err)
end
function M.on_fill(ctx, st, f) st.fills = st.fills + 1 end
function M.on_stop(ctx, st) return { n = st.n, fills = st.fills } end
return M
