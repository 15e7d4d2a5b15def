-- limit orders around the last print, one at a time: fills come from later
-- prints crossing them (a trades-only market has no book to take from)
local M = {}
function M.on_init(ctx, params) return { n = 0 } end
function M.on_trade(ctx, st, t)
  st.n = st.n + 1
  if st.pending or st.n % 10 ~= 0 then return end
  local pos = ctx:position(t:symbol())
  if pos <= 0 then
    st.pending = ctx:buy(t:symbol(), 0.01, t:price() - 0.5)
  else
    st.pending = ctx:sell(t:symbol(), pos, t:price() + 0.5)
  end
end
function M.on_order(ctx, st, o)
  if o:id() == st.pending and o:kind() ~= "accepted" then st.pending = nil end
end
function M.on_fill(ctx, st, f)
  if f:order_id() == st.pending and ctx:position(f:symbol()) ~= 0 then st.pending = nil end
end
return M
