-- qts/dispatch.lua: the per-batch dispatcher. The host calls the function
-- returned by make() once per batch (one lua_pcall); it pulls events with
-- qts_ffi_next_event() until the batch is empty and routes each to the
-- strategy's callback as a borrowed, const cdata reference to one of the
-- host's array-free views (qts.host, "strategy views"): no pointer for
-- arithmetic, no field out of bounds, nothing writable. After a callback
-- raises, C calls it again: the cursor has already moved past the failing
-- event, so the rest of the batch is delivered exactly once. Each callback
-- is called from a local of its own name, so tracebacks say 'on_trade'.
local ffi = require("ffi")
local C = ffi.C
local cast = ffi.cast
local EV = require("qts.enums").EV
local TRADE, QUOTE, BOOK, BAR = EV.trade, EV.quote, EV.book, EV.bar
local ORDER, FILL, TIMER, FEEDBACK = EV.order, EV.fill, EV.timer, EV.feedback

local timer_p = ffi.typeof("const struct qts_timer_event *")
-- the strategy views are declared by qts.host, which loads this module
-- first: their types are looked up when make() runs
local trade_p, quote_p, book_p, bar_p, order_p, fill_p

local M = {}

-- `slot` is the host's table { S = strategy pointer, M = module, st = state,
-- ctx = ctx }; read on every batch so a reload takes effect at the next one.
function M.make(slot)
  trade_p = ffi.typeof("const struct qts_sv_trade *")
  quote_p = ffi.typeof("const struct qts_quote *")
  book_p = ffi.typeof("const struct qts_sv_book *")
  bar_p = ffi.typeof("const struct qts_bar *")
  order_p = ffi.typeof("const struct qts_sv_order *")
  fill_p = ffi.typeof("const struct qts_sv_fill *")
  local S = slot.S
  return function()
    local mod, st, ctx = slot.M, slot.st, slot.ctx
    local on_trade, on_quote, on_book, on_bar = mod.on_trade, mod.on_quote, mod.on_book, mod.on_bar
    local on_order, on_fill, on_timer, on_feedback = mod.on_order, mod.on_fill, mod.on_timer, mod.on_feedback
    while true do
      local ev = C.qts_ffi_next_event(S)
      if ev == nil then return end
      local t = ev.type
      if t == QUOTE then
        if on_quote then on_quote(ctx, st, cast(quote_p, ev)[0]) end
      elseif t == TRADE then
        if on_trade then on_trade(ctx, st, cast(trade_p, ev)[0]) end
      elseif t == BOOK then
        if on_book then on_book(ctx, st, cast(book_p, ev)[0]) end
      elseif t == BAR then
        if on_bar then on_bar(ctx, st, cast(bar_p, ev)[0]) end
      elseif t == ORDER then
        if on_order then on_order(ctx, st, cast(order_p, ev)[0]) end
      elseif t == FILL then
        if on_fill then on_fill(ctx, st, cast(fill_p, ev)[0]) end
      elseif t == TIMER then
        local te = cast(timer_p, ev)
        local id = tonumber(te.timer_id)
        if id == slot.cycle_id then
          slot.cycle() -- the cycle (qts.host): snapshot, then on_cycle
        elseif on_timer then on_timer(ctx, st, id) end
      elseif t == FEEDBACK then
        if on_feedback then on_feedback(ctx, st, ev[0]) end
      end
    end
  end
end

return M
