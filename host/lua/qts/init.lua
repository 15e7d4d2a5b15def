-- qts (host prelude, module "qts"): what strategies get from require("qts").
-- Pure helpers plus the indicator constructors from qts.indicators when that
-- module is installed. No ffi.cdef here (see qts.ffi_cdefs).
local qts = { api = 1 }

-- a copy: the host's own table (qts.enums) stays out of strategies' reach
local SIDE = require("qts.enums").SIDE
qts.SIDE = { buy = SIDE.buy, sell = SIDE.sell }

-- "1m" / "5s" / "1h" / "1d" / number of seconds -> seconds (number) or nil.
function qts.timeframe(tf)
  if type(tf) == "number" then return tf end
  if type(tf) ~= "string" then return nil end
  local n, u = tf:match("^(%d+)([smhd])$")
  if not n then return nil end
  local mult = { s = 1, m = 60, h = 3600, d = 86400 }
  return tonumber(n) * mult[u]
end

-- Round x to a multiple of step (a tick size), towards the nearest.
function qts.round_to(x, step)
  if not step or step <= 0 then return x end
  return math.floor(x / step + 0.5) * step
end

local ok, ind = pcall(require, "qts.indicators")
if ok and type(ind) == "table" then
  for k, v in pairs(ind) do
    if qts[k] == nil then qts[k] = v end
  end
end

return qts
