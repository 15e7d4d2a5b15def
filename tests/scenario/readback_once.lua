-- one market buy of params.qty at the first trade, once per run (the
-- scenario tests of reading back: restored positions add up across runs)
local M = {}
function M.on_init(ctx, params) return { done = false } end
function M.on_trade(ctx, st, t)
  if not st.done then
    st.done = true
    ctx:buy(t:symbol(), tonumber(ctx:param("qty", 3)))
  end
end
return M
