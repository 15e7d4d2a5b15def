local M = {}
function M.on_init(ctx)
  while true do end
end
return M
