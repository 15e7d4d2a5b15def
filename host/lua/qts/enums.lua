-- qts/enums.lua: the C enum values the host prelude speaks, by lower-case
-- name (the C member without its prefix): the one place where host/lua/qts/
-- spells them as numbers. Hand-written from host/include/qts/qts_types.h,
-- and qts_plugin.h; tests/lua/test_lua_enums.c compares every
-- entry with the compiled C value and every table with the members the C
-- enum declares, so a renumbered, added or removed member fails the build's
-- tests. Strategies never see this module (they get names: "buy", "limit").
local E = {}

E.EV = {            -- enum qts_event_type, QTS_EV_*  (NONE omitted)
  trade = 1, quote = 2, book = 3, bar = 4, order = 5, fill = 6, timer = 7, feedback = 8,
}

E.SIDE = {          -- enum qts_side, QTS_SIDE_*  (NONE omitted)
  buy = 1, sell = 2,
}

E.ORD = {           -- enum qts_ord_type, QTS_ORD_*
  market = 1, limit = 2, stop = 3,
}

E.TIF = {           -- enum qts_tif, QTS_TIF_*
  gtc = 0, ioc = 1, fok = 2, day = 3, post = 4,
}

E.ALGO = {          -- enum qts_algo, QTS_ALGO_*
  direct = 0, twap = 1, vwap = 2, iceberg = 3, auto = 4,
}

E.OE = {            -- enum qts_order_event_kind, QTS_OE_*
  accepted = 1, rejected = 2, cancelled = 3, complete = 4, escaped = 5, failed = 6,
  expired = 7, replaced = 8,
}

E.OS = {            -- enum qts_order_state, QTS_OS_*
  new = 0, pending_send = 1, accepted = 2, partially_filled = 3, filled = 4,
  cancel_pending = 5, cancelled = 6, rejected = 7, expired = 8, unknown = 9,
}

E.LOG = {           -- enum qts_log_level, QTS_LOG_*  (FATAL omitted: not for strategies)
  trace = 0, debug = 1, info = 2, warn = 3, error = 4,
}

E.BOOK_SNAPSHOT = 1 -- QTS_BOOK_SNAPSHOT, flag bit of struct qts_ev_hdr.flags
E.CASH_EXP = 6      -- QTS_CASH_EXP: cash amounts are integers of 10^-6 currency units

-- name -> number tables above; number -> name for the ones the prelude prints
function E.names(t)
  local r = {}
  for k, v in pairs(t) do r[v] = k end
  return r
end

return E
