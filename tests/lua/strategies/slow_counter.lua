-- Counts fills and quotes. Its first quote is slow (busy for 0.2 s of CPU)
-- so the core runs ahead; an "accepted" order event makes it report the
-- counts as order quantities: buy qty = fills seen, sell qty = quotes seen.
local M = {}
function M.on_init(ctx) return { fills = 0, quotes = 0, slow = true } end
function M.on_quote(ctx, st, q)
  st.quotes = st.quotes + 1
  if st.slow then
    st.slow = false
    local t = os.clock()
    while os.clock() - t < 0.2 do end
  end
end
function M.on_fill(ctx, st, f) st.fills = st.fills + 1 end
function M.on_order(ctx, st, o)
  if o:kind() == "accepted" then
    ctx:buy("BTCUSDT", st.fills, 1, { tag = "fills" })
    ctx:sell("BTCUSDT", st.quotes, 1, { tag = "quotes" })
  end
end
return M
