-- qts.indicators: technical indicators for strategies, computed in C
-- (host/src/market/) through the qts_ffi_ind_* entry points. There is
-- no pure-Lua fallback: if the host does not export the entry points,
-- requiring this module fails.
--
--   local ind = require("qts.indicators")
--   local fast = ind.ema(12)
--   local v = fast:push(price)   -- the value, NaN while warming up
--   if fast:ready() then ... fast:value() ... end
--
-- Objects own their C state (freed by the garbage collector). Constructors
-- raise on invalid parameters (a programming error in on_init); push and
-- the accessors never raise for well-typed arguments.
local ffi = require("ffi")
local C = ffi.C

-- Declared once per lua_State (cdefs are permanent): the view layout
-- mirrors struct qts_ind_view in host/src/indicators.h. The functions take
-- the view pointer: it is the first member of the C handle, so the same
-- address.
if not pcall(ffi.typeof, "struct qts_ind_view") then
  ffi.cdef[[
struct qts_ind_view {
  uint32_t struct_size;
  int32_t kind;
  int32_t is_ready;
  int32_t n_out;
  double out[5];
};
int qts_ffi_ind_new(int kind, int n1, int n2, int n3, double k,
                    struct qts_ind_view **out);
void qts_ffi_ind_free(struct qts_ind_view *ind);
int qts_ffi_ind_push(struct qts_ind_view *ind, double x);
int qts_ffi_ind_push_bar(struct qts_ind_view *ind, double open, double high,
                         double low, double close, double volume);
int qts_ffi_ind_layout(int which);
]]
end

local floor, type, error, setmetatable = math.floor, type, error, setmetatable
local push1, push_bar, free = C.qts_ffi_ind_push, C.qts_ffi_ind_push_bar, C.qts_ffi_ind_free

local M = {}

-- Kind numbers: enum qts_ind_kind in host/src/indicators.h.
local K = {
  sma = 1, ema = 2, wma = 3, rsi = 4, rsi_simple = 5, macd = 6, atr = 7,
  atr_simple = 8, bollinger = 9, vwap = 10, obv = 11, adx = 12, cci = 13,
  stoch = 14, willr = 15, roc = 16, kama = 17, mfi = 18,
}
M.kinds = K

-- Each object's owned C handle, kept out of the object itself: a strategy
-- holding the object must not reach the raw view (its out[] array indexes
-- without bounds). Weak keys: the handle dies with its object.
local HANDLE = setmetatable({}, { __mode = "k" })
local N_OUT = 5 -- the length of struct qts_ind_view.out

-- Methods shared by every kind.
local base = {}
function base:value() return HANDLE[self].out[0] end
function base:ready() return HANDLE[self].is_ready ~= 0 end
-- Output i (0 = main), NaN until defined; nil past the view's outputs.
function base:out(i)
  if type(i) ~= "number" or i < 0 or i >= N_OUT or i ~= floor(i) then return nil end
  return HANDLE[self].out[i]
end
-- Any kind accepts a whole bar: single-value kinds use the close, VWAP
-- (open+high+low+close)/4 and the volume.
function base:push_bar(o, h, l, c, v)
  local p = HANDLE[self]
  push_bar(p, o, h, l, c, v or 0)
  return p.out[0]
end

local function class(push, extra)
  local methods = { push = push }
  for k, f in pairs(base) do methods[k] = f end
  for k, i in pairs(extra or {}) do
    methods[k] = function(self) return HANDLE[self].out[i] end
  end
  return { __index = methods, __metatable = false }
end

local function push_x(self, x)
  local p = HANDLE[self]
  push1(p, x)
  return p.out[0]
end
local function push_pv(self, px, vol)
  local p = HANDLE[self]
  push_bar(p, px, px, px, px, vol)
  return p.out[0]
end
local function push_hlc(self, h, l, c)
  local p = HANDLE[self]
  push_bar(p, c, h, l, c, 0)
  return p.out[0]
end
local function push_hlcv(self, h, l, c, v)
  local p = HANDLE[self]
  push_bar(p, c, h, l, c, v)
  return p.out[0]
end

local MT_X = class(push_x)
local MT = {
  macd = class(push_x, { macd = 0, signal = 1, hist = 2 }),
  bollinger = class(push_x, { middle = 0, upper = 1, lower = 2, bandwidth = 3,
                              percent_b = 4 }),
  vwap = class(push_pv), obv = class(push_pv),
  atr = class(push_hlc), atr_simple = class(push_hlc), cci = class(push_hlc),
  willr = class(push_hlc),
  adx = class(push_hlc, { adx = 0, plus_di = 1, minus_di = 2 }),
  stoch = class(push_hlc, { k = 0, d = 1 }),
  mfi = class(push_hlcv),
}

local outp = ffi.new("struct qts_ind_view *[1]")

local function int_arg(name, what, v)
  if type(v) ~= "number" or v ~= floor(v) then
    error(("qts.%s: %s must be an integer, got %s"):format(name, what, tostring(v)), 3)
  end
  return v
end

local function new(name, n1, n2, n3, k)
  local rc = C.qts_ffi_ind_new(K[name], n1, n2, n3, k, outp)
  if rc ~= 0 then
    error(("qts.%s: invalid parameters (%s, %s, %s, %s)"):format(
      name, tostring(n1), tostring(n2), tostring(n3), tostring(k)), 3)
  end
  local h = ffi.gc(outp[0], free)
  outp[0] = nil
  local obj = setmetatable({}, MT[name] or MT_X)
  HANDLE[obj] = h
  return obj
end

local function period_ctor(name, default)
  return function(n)
    return new(name, int_arg(name, "n", n or default), 0, 0, 0)
  end
end

M.sma = period_ctor("sma")
M.ema = period_ctor("ema")
M.wma = period_ctor("wma")
M.rsi = period_ctor("rsi", 14)               -- Wilder
M.rsi_simple = period_ctor("rsi_simple", 14)
M.atr = period_ctor("atr", 14)               -- Wilder
M.atr_simple = period_ctor("atr_simple", 14)
M.vwap = period_ctor("vwap")                 -- rolling, over n pushes
M.adx = period_ctor("adx", 14)
M.cci = period_ctor("cci", 20)
M.willr = period_ctor("willr", 14)
M.roc = period_ctor("roc", 12)
M.mfi = period_ctor("mfi", 14)

function M.obv() return new("obv", 0, 0, 0, 0) end

function M.macd(fast, slow, signal)
  return new("macd", int_arg("macd", "fast", fast or 12), int_arg("macd", "slow", slow or 26),
             int_arg("macd", "signal", signal or 9), 0)
end

function M.bollinger(n, k)
  k = k or 2
  if type(k) ~= "number" then error("qts.bollinger: k must be a number", 2) end
  return new("bollinger", int_arg("bollinger", "n", n or 20), 0, 0, k)
end

function M.stoch(n, k_smooth, d_smooth)
  return new("stoch", int_arg("stoch", "n", n or 14), int_arg("stoch", "k_smooth", k_smooth or 3),
             int_arg("stoch", "d_smooth", d_smooth or 3), 0)
end

function M.kama(n, fast, slow)
  return new("kama", int_arg("kama", "n", n or 10), int_arg("kama", "fast", fast or 2),
             int_arg("kama", "slow", slow or 30), 0)
end

-- Copies the constructors into `t` (the host prelude's qts table), so
-- strategies write qts.ema(12).
function M.install(t)
  for _, name in ipairs({ "sma", "ema", "wma", "rsi", "rsi_simple", "macd", "atr",
                          "atr_simple", "bollinger", "vwap", "obv", "adx", "cci",
                          "stoch", "willr", "roc", "kama", "mfi" }) do
    t[name] = M[name]
  end
  return t
end

return M
