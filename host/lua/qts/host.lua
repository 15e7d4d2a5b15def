-- qts/host.lua: the host side of a strategy's lua_State. Loaded once per
-- state by lua_strategy.c: declares the FFI types (qts.ffi_cdefs), attaches
-- the event accessors (ffi.metatype, permanent for the state), builds ctx,
-- the sandbox environment, and the lifecycle entry points C calls:
-- load, start, reload, stop. Strategies never see this module.
local ffi = require("ffi")
require("qts.ffi_cdefs")
local C = ffi.C
-- Captured here, before any strategy environment exists: the prelude's own
-- FFI. Strategies get no ffi at all (docs/security.md).
local cast, typeof, ffi_string = ffi.cast, ffi.typeof, ffi.string
local qts = require("qts")
local dispatch = require("qts.dispatch")
local E = require("qts.enums")

local P10 = {}
for i = 0, 18 do P10[i] = 10 ^ i end

local SIDE_NAME = E.names(E.SIDE)
local OE_KIND = E.names(E.OE)
local EV_NAME = E.names(E.EV)

local H = {}

------------------------------------------------------------------ instruments
local S -- struct qts_lua_strategy * of this state
local SYM_BY_ID, ID_BY_SYM, INST_N = {}, {}, 0
local instp = ffi.new("const struct qts_instrument *[1]")

local function refresh_instruments()
  local n = C.qts_ffi_instrument_count(S)
  for i = INST_N, n - 1 do
    if C.qts_ffi_instrument_at(S, i, instp) == 0 then
      local ins = instp[0]
      local name = ffi.string(ins.symbol)
      SYM_BY_ID[ins.id] = { name = name, id = ins.id, px_exp = ins.px_exp, qty_exp = ins.qty_exp,
                            tick = tonumber(ins.tick_size) / P10[ins.px_exp],
                            lot = tonumber(ins.lot_size) / P10[ins.qty_exp] }
      ID_BY_SYM[name] = SYM_BY_ID[ins.id]
    end
  end
  INST_N = n
end

local function inst_by_sym(sym)
  local i = ID_BY_SYM[sym]
  if not i then refresh_instruments(); i = ID_BY_SYM[sym] end
  return i
end

local function sym_of(id)
  local i = SYM_BY_ID[id]
  if not i then refresh_instruments(); i = SYM_BY_ID[id] end
  return i and i.name or nil
end

------------------------------------------------------------------ event views
local function hdr_methods(t)
  t.symbol = function(e) return sym_of(e.h.instrument) end
  t.instrument = function(e) return e.h.instrument end
  t.time = function(e) return tonumber(e.h.ts_exch_ns) * 1e-9 end
  t.time_ns = function(e) return e.h.ts_exch_ns end
  t.seq = function(e) return tonumber(e.h.seq) end
  t.kind_name = function(e) return EV_NAME[e.h.type] end
  return t
end

-- Strategy views (docs/security.md): what a callback receives is a const
-- reference to one of these prefixes of the host's structs. They hold no
-- array or pointer field, so every field a strategy can name is in bounds
-- and read-only; the methods below reach the rest (levels, tag, reason)
-- through the prelude's own casts to the full types.
ffi.cdef[[
struct qts_sv_trade { struct qts_ev_hdr h; int64_t px; int64_t qty_; uint64_t trade_id;
                      uint8_t aggressor; };
struct qts_sv_book { struct qts_ev_hdr h; uint64_t first_update_id; uint64_t last_update_id;
                     uint64_t prev_update_id; uint32_t n_bids_; uint32_t n_asks_; };
struct qts_sv_order { struct qts_ev_hdr h; uint64_t order_id_; uint32_t strategy_id;
                      uint8_t kind_; uint8_t side_; uint8_t state; uint8_t reserved0;
                      int32_t code_; int32_t reserved1; int64_t filled_qty_;
                      int64_t leaves_qty_; int64_t avg_px; };
struct qts_sv_fill { struct qts_ev_hdr h; uint64_t order_id_; uint32_t strategy_id;
                     uint8_t side_; uint8_t is_maker_; uint16_t reserved0; int64_t px;
                     int64_t qty_; int64_t fee_; uint64_t fill_id; };
]]
local BOOK_P = typeof("const struct qts_book_update *")
local ORDER_P = typeof("const struct qts_order_event *")
local FILL_P = typeof("const struct qts_fill *")

local function px(e, v) return tonumber(v) / P10[e.h.px_exp] end
local function qty(e, v) return tonumber(v) / P10[e.h.qty_exp] end

ffi.metatype("struct qts_ev_hdr", { __index = {
  symbol = function(h) return sym_of(h.instrument) end,
  time = function(h) return tonumber(h.ts_exch_ns) * 1e-9 end,
  kind_name = function(h) return EV_NAME[h.type] end,
} })

ffi.metatype("struct qts_sv_trade", { __index = hdr_methods {
  price = function(e) return px(e, e.px) end,
  qty = function(e) return qty(e, e.qty_) end,
  side = function(e) return SIDE_NAME[e.aggressor] end,
} })

ffi.metatype("struct qts_quote", { __index = hdr_methods {
  bid = function(e) return px(e, e.bid_px) end,
  ask = function(e) return px(e, e.ask_px) end,
  bid_qty = function(e) return qty(e, e.bid_qty_) end,
  ask_qty = function(e) return qty(e, e.ask_qty_) end,
  mid = function(e) return (px(e, e.bid_px) + px(e, e.ask_px)) * 0.5 end,
  spread = function(e) return px(e, e.ask_px) - px(e, e.bid_px) end,
} })

local BOOK_METHODS = hdr_methods {
  n_bids = function(e) return e.n_bids_ end,
  n_asks = function(e) return e.n_asks_ end,
  -- i is 1-based; returns price, qty or nil past the last level
  bid = function(e, i)
    i = i or 1
    if i < 1 or i > e.n_bids_ then return nil end
    local l = cast(BOOK_P, e).bids[i - 1]
    return px(e, l.px), qty(e, l.qty)
  end,
  ask = function(e, i)
    i = i or 1
    if i < 1 or i > e.n_asks_ then return nil end
    local l = cast(BOOK_P, e).asks[i - 1]
    return px(e, l.px), qty(e, l.qty)
  end,
  mid = function(e)
    if e.n_bids_ == 0 or e.n_asks_ == 0 then return nil end
    local b = cast(BOOK_P, e)
    return (px(e, b.bids[0].px) + px(e, b.asks[0].px)) * 0.5
  end,
  is_snapshot = function(e) return bit.band(e.h.flags, E.BOOK_SNAPSHOT) ~= 0 end,
}
ffi.metatype("struct qts_book_update", { __index = BOOK_METHODS })
ffi.metatype("struct qts_sv_book", { __index = BOOK_METHODS })

ffi.metatype("struct qts_bar", { __index = hdr_methods {
  open = function(e) return px(e, e.open_) end,
  high = function(e) return px(e, e.high_) end,
  low = function(e) return px(e, e.low_) end,
  close = function(e) return px(e, e.close_) end,
  volume = function(e) return qty(e, e.volume_) end,
  period = function(e) return tonumber(e.period_ns) * 1e-9 end,
} })

ffi.metatype("struct qts_sv_order", { __index = hdr_methods {
  id = function(e) return tonumber(e.order_id_) end,
  order_id = function(e) return tonumber(e.order_id_) end,
  kind = function(e) return OE_KIND[e.kind_] or "unknown" end,
  reason = function(e) return ffi_string(cast(ORDER_P, e).reason_) end,
  code = function(e) return e.code_ end,
  side = function(e) return SIDE_NAME[e.side_] end,
  filled_qty = function(e) return qty(e, e.filled_qty_) end,
  leaves_qty = function(e) return qty(e, e.leaves_qty_) end,
  avg_price = function(e) return px(e, e.avg_px) end,
  tag = function(e) return ffi_string(cast(ORDER_P, e).tag_) end,
} })

ffi.metatype("struct qts_sv_fill", { __index = hdr_methods {
  order_id = function(e) return tonumber(e.order_id_) end,
  price = function(e) return px(e, e.px) end,
  qty = function(e) return qty(e, e.qty_) end,
  signed_qty = function(e)
    local q = qty(e, e.qty_)
    return e.side_ == E.SIDE.sell and -q or q
  end,
  side = function(e) return SIDE_NAME[e.side_] end,
  fee = function(e) return tonumber(e.fee_) / P10[E.CASH_EXP] end,
  is_maker = function(e) return e.is_maker_ ~= 0 end,
  tag = function(e) return ffi_string(cast(FILL_P, e).tag_) end,
} })

------------------------------------------------------------------ ctx
local errp = ffi.new("const char *[1]")
local idp = ffi.new("uint64_t[1]")
local i64p = ffi.new("int64_t[1]")
local acct = ffi.new("int64_t[2]") -- cash, equity in cash units
local bookp = ffi.new("const struct qts_book_update *[1]")
local intent = ffi.new("struct qts_order_intent")
local ORD_TYPE, TIF, ALGO, LEVEL = E.ORD, E.TIF, E.ALGO, E.LOG
local LIMIT, STOP, DIRECT, ICEBERG = E.ORD.limit, E.ORD.stop, E.ALGO.direct, E.ALGO.iceberg

local Ctx = {}
Ctx.__index = Ctx

local floor = math.floor
local SIDE = E.SIDE
local INTENT_SIZE = ffi.sizeof(intent)
local function to_fixed(x, e) return floor(x * P10[e] + 0.5) end

-- The one place where an order is built; `o` (may be nil) holds the
-- optional fields. Scalars first so ctx:buy/sell allocate nothing.
local function place(symbol, side_name, q, lim, o)
  local ins = inst_by_sym(symbol)
  if not ins then return nil, "unknown symbol " .. tostring(symbol) end
  local side = SIDE[side_name]
  if not side then return nil, "side must be \"buy\" or \"sell\"" end
  q = tonumber(q)
  if not q or q <= 0 then return nil, "qty must be a positive number" end
  local typ = ORD_TYPE[(o and o.type) or (lim and "limit" or "market")]
  if not typ then return nil, "type must be \"market\", \"limit\" or \"stop\"" end
  lim = lim and tonumber(lim)
  if typ == LIMIT and (not lim or lim <= 0) then return nil, "limit order needs a positive limit" end
  local stop = typ == STOP and tonumber(o.stop)
  if typ == STOP and (not stop or stop <= 0) then return nil, "stop order needs a positive stop" end
  local tif = TIF[(o and o.tif) or "gtc"]
  if not tif then return nil, "unknown tif " .. tostring(o.tif) end
  local algo = ALGO[(o and o.algo) or "direct"]
  if not algo then return nil, "unknown algo " .. tostring(o.algo) end
  ffi.fill(intent, INTENT_SIZE)
  intent.instrument = ins.id
  intent.side, intent.type, intent.tif, intent.algo = side, typ, tif, algo
  intent.qty = to_fixed(q, ins.qty_exp)
  if intent.qty <= 0 then return nil, "qty rounds to zero" end
  if typ == LIMIT then intent.px = to_fixed(lim, ins.px_exp) end
  if typ == STOP then intent.px = to_fixed(stop, ins.px_exp) end
  if algo ~= DIRECT then
    if o.duration then intent.algo_duration_ns = math.floor(o.duration * 1e9) end
    if o.slices then intent.algo_slices = o.slices end
    if o.display_qty then intent.algo_display_qty = to_fixed(o.display_qty, ins.qty_exp) end
    if algo == ICEBERG and intent.algo_display_qty <= 0 then
      return nil, "iceberg needs display_qty"
    end
  end
  if o and o.tag then ffi.copy(intent.tag, tostring(o.tag):sub(1, 23)) end
  if o and o.edge_bps then
    local edge = tonumber(o.edge_bps)
    if not edge or edge < 0 then return nil, "edge_bps must be a number >= 0" end
    intent.edge_bps = edge
  end
  if o and o.confidence ~= nil then
    local c = tonumber(o.confidence)
    if not c or c < 0 or c > 1 then return nil, "confidence must be a number from 0 to 1" end
    intent.confidence_bp = math.max(1, math.floor(c * 10000 + 0.5))
  end
  local rc = C.qts_ffi_order(S, intent, idp, errp)
  if rc ~= 0 then return nil, ffi.string(errp[0]) end
  return tonumber(idp[0])
end

function Ctx:order(o)
  if type(o) ~= "table" then return nil, "order expects a table" end
  return place(o.symbol, o.side, o.qty, o.limit, o)
end

function Ctx:buy(symbol, q, limit, opts) return place(symbol, "buy", q, limit, opts) end
function Ctx:sell(symbol, q, limit, opts) return place(symbol, "sell", q, limit, opts) end

function Ctx:cancel(id)
  if type(id) ~= "number" then return nil, "cancel expects an order id" end
  local rc = C.qts_ffi_cancel(S, id, errp)
  if rc ~= 0 then return nil, ffi.string(errp[0]) end
  return true
end

-- The host's operating state (docs/decide.md): "AGGRESSIVE", "BALANCED"
-- or "DEFENSIVE"; BALANCED when no operating state is configured.
local OP_STATES = {[0] = "AGGRESSIVE", "BALANCED", "DEFENSIVE"}
function Ctx:operating_state() return OP_STATES[C.qts_ffi_operating_state(S)] or "BALANCED" end

function Ctx:position(symbol)
  local ins = inst_by_sym(symbol)
  if not ins then return nil, "unknown symbol " .. tostring(symbol) end
  C.qts_ffi_position(S, ins.id, i64p)
  return tonumber(i64p[0]) / P10[ins.qty_exp]
end

-- The account mirror is exact integers of 10^-CASH_EXP currency units (the
-- portfolio's arithmetic); *_units() return them as int64 cdata, cash() and
-- equity() as numbers, converted here and only here.
local CASH_SCALE = P10[E.CASH_EXP]
function Ctx:cash_units() C.qts_ffi_account(S, acct, acct + 1); return acct[0] end
function Ctx:equity_units() C.qts_ffi_account(S, acct, acct + 1); return acct[1] end
function Ctx:cash() C.qts_ffi_account(S, acct, acct + 1); return tonumber(acct[0]) / CASH_SCALE end
function Ctx:equity() C.qts_ffi_account(S, acct, acct + 1); return tonumber(acct[1]) / CASH_SCALE end

-- Quantity that `fraction` (default 1) of the equity (of = "equity", the
-- default) or of the free cash (of = "cash") buys at `price`, rounded down
-- to whole lots of the symbol; 0 when not even one lot fits.
function Ctx:size(symbol, price, fraction, of)
  local ins = inst_by_sym(symbol)
  if not ins then return nil, "unknown symbol " .. tostring(symbol) end
  price, fraction = tonumber(price), tonumber(fraction or 1)
  if not price or price <= 0 then return nil, "size needs a positive price" end
  if not fraction or fraction < 0 then return nil, "fraction must be >= 0" end
  of = of or "equity"
  if of ~= "equity" and of ~= "cash" then return nil, "of must be \"equity\" or \"cash\"" end
  C.qts_ffi_account(S, acct, acct + 1)
  local base = tonumber(of == "cash" and acct[0] or acct[1]) / CASH_SCALE
  if base <= 0 then return 0 end
  local lot = (ins.lot and ins.lot > 0) and ins.lot or 1 / P10[ins.qty_exp]
  -- the small term absorbs binary rounding (100000 / 100 must give 1000 lots)
  local lots = floor(base * fraction / price / lot + 1e-9)
  return lots * lot
end

function Ctx:book(symbol, depth)
  local ins = inst_by_sym(symbol)
  if not ins then return nil, "unknown symbol " .. tostring(symbol) end
  if C.qts_ffi_book(S, ins.id, bookp) ~= 0 then return nil, "no book yet" end
  local b = bookp[0]
  depth = depth or 5
  local r = { bids = {}, asks = {} }
  for i = 1, math.min(depth, b.n_bids_) do r.bids[i] = { b:bid(i) } end
  for i = 1, math.min(depth, b.n_asks_) do r.asks[i] = { b:ask(i) } end
  return r
end

local barbuf = ffi.new("struct qts_bar[256]")
function Ctx:bars(symbol, timeframe, n)
  local ins = inst_by_sym(symbol)
  if not ins then return nil, "unknown symbol " .. tostring(symbol) end
  local secs = qts.timeframe(timeframe)
  if not secs then return nil, "bad timeframe " .. tostring(timeframe) end
  n = math.min(n or 1, 256)
  local got = C.qts_ffi_bars(S, ins.id, secs * 1e9, barbuf, n)
  local r = {}
  for i = 0, got - 1 do
    local b = barbuf[i]
    r[i + 1] = { time = b:time(), open = b:open(), high = b:high(), low = b:low(),
                 close = b:close(), volume = b:volume() }
  end
  return r
end

-- Warm-up bars from the store (read at start, docs/strategy-api.md):
-- interval "1m" or "1d", the newest n that closed by ctx:now(), oldest first.
local HISTORY_MAX = 100000
function Ctx:history(symbol, interval, n)
  local ins = inst_by_sym(symbol)
  if not ins then return nil, "unknown symbol " .. tostring(symbol) end
  local secs = (interval == "1m" and 60) or (interval == "1d" and 86400) or nil
  if not secs then return nil, "interval must be \"1m\" or \"1d\"" end
  n = math.floor(tonumber(n) or 1)
  if n < 1 then return {} end
  n = math.min(n, HISTORY_MAX)
  local buf = ffi.new("struct qts_bar[?]", n)
  local got = C.qts_ffi_history(S, ins.id, secs * 1e9, buf, n)
  local r = {}
  for i = 0, got - 1 do
    local b = buf[i]
    r[i + 1] = { time = b:time(), open = b:open(), high = b:high(), low = b:low(),
                 close = b:close(), volume = b:volume() }
  end
  return r
end

function Ctx:set_timer(seconds, every)
  if type(seconds) ~= "number" or seconds < 0 then return nil, "seconds must be >= 0" end
  local rc = C.qts_ffi_set_timer(S, seconds * 1e9, every and seconds * 1e9 or 0, idp)
  if rc ~= 0 then return nil, "too many timers" end
  return tonumber(idp[0])
end

function Ctx:cancel_timer(id) return C.qts_ffi_cancel_timer(S, id) == 0 end

function Ctx:param(name, default)
  local v = self.params[name]
  if v == nil then return default end
  return v
end

function Ctx:log(level, fmt, ...)
  local lv = LEVEL[level]
  if not lv then lv, fmt = LEVEL.info, level end
  local ok, msg = pcall(string.format, tostring(fmt), ...)
  C.qts_ffi_log(S, lv, ok and msg or tostring(fmt))
end

function Ctx:now() return C.qts_ffi_now(S) end

-- Static facts about a symbol: { name, id, px_exp, qty_exp, tick, lot }.
function Ctx:instrument(symbol)
  local ins = inst_by_sym(symbol)
  if not ins then return nil, "unknown symbol " .. tostring(symbol) end
  return ins
end

-- Execution feedback (docs/feedback.md). `what` may be an instrument id
-- (ev:instrument() in on_feedback) or a symbol; opts: qty (expected
-- slippage/impact for that quantity), distance (ticks from the touch) and
-- horizon (seconds) for the fill probability of a passive order.
local fbbuf = ffi.new("struct qts_feedback_summary")
local function num(v) v = tonumber(v); if v ~= v then return nil end return v end
function Ctx:feedback(what, opts)
  local ins = type(what) == "number" and SYM_BY_ID[what] or inst_by_sym(what)
  if not ins and type(what) == "number" then refresh_instruments(); ins = SYM_BY_ID[what] end
  if not ins then return nil, "unknown symbol " .. tostring(what) end
  opts = opts or {}
  if C.qts_ffi_feedback(S, ins.id, tonumber(opts.qty) or 0, tonumber(opts.distance) or 0,
                        tonumber(opts.horizon) or 10, fbbuf) ~= 0 then
    return nil, "no feedback available"
  end
  local b = fbbuf
  return {
    symbol = ins.name, samples = b.sample_count, is_default = b.is_default ~= 0,
    slippage_bps = b.avg_slippage_bps, impact_bps = b.avg_market_impact_bps,
    quality = b.avg_quality_score, fill_latency_ms = b.avg_fill_latency_ms,
    fill_ratio = b.avg_fill_ratio, volatility = b.volatility, spread_bps = b.spread_bps,
    depth = b.depth, model_fitted = b.model_fitted ~= 0,
    expected_slippage_bps = num(b.expected_slippage_bps),
    expected_impact_bps = num(b.expected_impact_bps),
    fill_prob = num(b.fill_prob), model_k = num(b.model_k), model_beta = num(b.model_beta),
    recent_volume = b.recent_volume,
  }
end

------------------------------------------------------------------ sandbox
local SAFE = { "assert", "error", "ipairs", "next", "pairs", "pcall", "select", "tonumber",
               "tostring", "type", "unpack", "xpcall", "rawequal", "rawget", "rawset",
               "setmetatable", "getmetatable", "_VERSION" }
local SAFE_LIBS = { "string", "table", "math", "bit", "coroutine" }

-- No bytecode anywhere in this state: string.dump is gone from the real
-- string table too, which strings reach as their metatable's __index
-- (getmetatable("").__index), and that metatable is locked.
string.dump = nil
getmetatable("").__metatable = false
-- ctx's metatable (the methods) can neither be read nor replaced.
Ctx.__metatable = false

local function copy(t) local r = {} for k, v in pairs(t) do r[k] = v end return r end

local strategy_dir
local lib_cache = {}
local NO_FFI = "ffi is not available to strategies (raw memory access); "
               .. "use Lua tables, see docs/security.md"

-- Source text only: mode "t" refuses a bytecode chunk whatever its first
-- bytes, and a reader function is drained to one string first.
local function load_text(chunk, name)
  if type(chunk) == "function" then
    local parts = {}
    while true do
      local piece = chunk()
      if piece == nil or piece == "" then break end
      if type(piece) ~= "string" then return nil, "load: reader must return strings" end
      parts[#parts + 1] = piece
    end
    chunk = table.concat(parts)
  end
  if type(chunk) ~= "string" then return nil, "load: source text expected" end
  if chunk:byte(1) == 27 then return nil, "binary chunks are not accepted" end
  return load(chunk, name, "t")
end

local function make_env()
  local env = {}
  for _, k in ipairs(SAFE) do env[k] = _G[k] end
  for _, k in ipairs(SAFE_LIBS) do env[k] = copy(_G[k]) end
  env.os = { time = os.time, clock = os.clock, date = os.date, difftime = os.difftime }
  -- a global `ffi` that says why instead of "attempt to index a nil value"
  env.ffi = setmetatable({}, {
    __index = function(_, k) error("ffi." .. tostring(k) .. ": " .. NO_FFI, 2) end,
    __newindex = function() error(NO_FFI, 2) end, __metatable = false })
  env.print = function(...)
    local t = {}
    for i = 1, select("#", ...) do t[i] = tostring((select(i, ...))) end
    C.qts_ffi_log(S, LEVEL.info, table.concat(t, "\t"))
  end
  env.collectgarbage = function(opt, arg)
    opt = opt or "collect"
    if opt ~= "count" and opt ~= "collect" and opt ~= "step" then
      error("collectgarbage: only \"count\", \"collect\" and \"step\"", 2)
    end
    if opt == "step" and arg ~= nil and type(arg) ~= "number" then
      error("collectgarbage: step size must be a number", 2)
    end
    return collectgarbage(opt, arg)
  end
  env.loadstring = function(chunk, name)
    local f, e = load_text(chunk, name)
    if not f then return nil, e end
    setfenv(f, env)
    return f
  end
  env.load = function(chunk, name, mode)
    if mode ~= nil and mode ~= "t" then return nil, "load: only mode \"t\" (source text)" end
    return env.loadstring(chunk, name)
  end
  env.require = function(name)
    if name == "qts" then return qts end
    if name == "ffi" then error("require ffi: " .. NO_FFI, 2) end
    if type(name) == "string" and name:match("^qts%.[%w_]+$") and name ~= "qts.host"
       and name ~= "qts.ffi_cdefs" and name ~= "qts.dispatch" and name ~= "qts.enums" then
      return require(name)
    end
    if type(name) ~= "string" or not name:match("^[%w_]+$") then
      error("require: only qts modules and strategies/lib/<name>.lua", 2)
    end
    if lib_cache[name] ~= nil then return lib_cache[name] end
    local f, e = loadfile(strategy_dir .. "/lib/" .. name .. ".lua", "t")
    if not f then error("require " .. name .. ": " .. e, 2) end
    setfenv(f, env)
    local r = f(name)
    if r == nil then r = true end
    lib_cache[name] = r
    return r
  end
  env._G = env
  return env
end

------------------------------------------------------------------ lifecycle
local slot = {}
local PARAMS = {}

local function compile(path)
  local f, e = loadfile(path, "t") -- source only: a bytecode file is refused
  if not f then return nil, e end
  setfenv(f, make_env())
  local ok, m = pcall(f)
  if not ok then return nil, tostring(m) end
  if type(m) ~= "table" then return nil, path .. ": strategy must return a module table" end
  if type(m.on_init) ~= "function" then return nil, path .. ": module has no on_init function" end
  if m.api ~= nil and m.api ~= 1 then return nil, path .. ": unsupported api " .. tostring(m.api) end
  return m
end

-- C calls these (lua_strategy.c), each under lua_pcall with a traceback.
function H.setup(sp, path, params, name, id)
  S = ffi.cast("struct qts_lua_strategy *", sp)
  slot.S = S
  strategy_dir = path:match("^(.*)/[^/]*$") or "."
  for k, v in pairs(params) do
    if v == "true" then v = true elseif v == "false" then v = false
    else v = tonumber(v) or v end
    PARAMS[k] = v
  end
  slot.ctx = setmetatable({ params = PARAMS, name = name, id = id }, Ctx)
  refresh_instruments()
  return dispatch.make(slot)
end

function H.start(path)
  local m, e = compile(path)
  if not m then error(e, 0) end
  local st = m.on_init(slot.ctx, PARAMS)
  if type(st) ~= "table" then error(path .. ": on_init must return the state table", 0) end
  slot.M, slot.st = m, st
  -- once per run, before the first event (not on a reload)
  if m.on_start then m.on_start(slot.ctx, st) end
end

-- The run is ending ("end of data" in a replay, "stop" on a stop): the
-- strategy's last word; its orders still reach the venue.
function H.finish(reason)
  if slot.M and slot.M.on_end then slot.M.on_end(slot.ctx, slot.st, reason) end
end

-- Swap in a new version. Returns true or false, message; the old module and
-- state stay untouched until the new on_reload/on_init succeeded.
function H.reload(path)
  local m, e = compile(path)
  if not m then return false, e end
  local snap
  if slot.M.on_stop then
    local ok, r = xpcall(function() return slot.M.on_stop(slot.ctx, slot.st) end, debug.traceback)
    if not ok then return false, "old on_stop: " .. tostring(r) end
    snap = r
  end
  local ok, st = xpcall(function()
    if m.on_reload then return m.on_reload(slot.ctx, snap, PARAMS) end
    return m.on_init(slot.ctx, PARAMS)
  end, debug.traceback)
  if not ok then return false, tostring(st) end
  if type(st) ~= "table" then return false, path .. ": on_reload must return the state table" end
  slot.M, slot.st = m, st
  lib_cache = {}
  return true
end

function H.stop()
  if slot.M and slot.M.on_stop then return slot.M.on_stop(slot.ctx, slot.st) end
end

return H
