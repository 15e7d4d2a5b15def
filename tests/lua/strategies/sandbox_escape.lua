local M = {}
function M.on_init(ctx)
  io.open("/tmp/qts-should-not-exist", "w")   -- line 3
  return {}
end
return M
