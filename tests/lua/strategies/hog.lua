-- Keeps everything it is given: exceeds any memory limit eventually.
local M = {}
function M.on_init(ctx) return { keep = {} } end
function M.on_trade(ctx, st, t)
  for i = 1, 2000 do st.keep[#st.keep + 1] = { i, t:price(), "padding" .. i } end
end
return M
