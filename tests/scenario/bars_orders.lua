-- bars_orders: places a fixed list of orders on given bars, for the venue's
-- bar fill rules (test_bars_gaps.sh). params.plan: "<bar>:<tag>:<side>:<type>:<price>:<qty>"
-- entries separated by ";" (bars counted from 1; price 0 for market).
local M = { api = 1, name = "bars_orders" }

function M.on_init(ctx, p)
  local plan = {}
  for e in tostring(p.plan):gmatch("[^;]+") do
    local bar, tag, side, typ, px, qty = e:match("^(%d+):(%w+):(%a+):(%a+):([%d.]+):(%d+)$")
    assert(bar, "bad plan entry " .. e)
    plan[#plan + 1] = { bar = tonumber(bar), tag = tag, side = side, type = typ,
                        px = tonumber(px), qty = tonumber(qty) }
  end
  return { sym = p.symbol, plan = plan, n = 0 }
end

function M.on_bar(ctx, st, b)
  st.n = st.n + 1
  for _, o in ipairs(st.plan) do
    if o.bar == st.n then
      local id, err = ctx:order{ symbol = st.sym, side = o.side, qty = o.qty, type = o.type,
                                 limit = o.type == "limit" and o.px or nil,
                                 stop = o.type == "stop" and o.px or nil, tag = o.tag }
      if not id then ctx:log("warn", "bars_orders %s refused: %s", o.tag, err) end
    end
  end
end

function M.on_order(ctx, st, o)
  local k = o:kind()
  if k == "rejected" or k == "failed" then
    ctx:log("warn", "bars_orders order %s %s: %s (%d)", o:tag(), k, o:reason(), o:code())
  end
end

-- trades count like bars (the stop-on-trades case)
function M.on_trade(ctx, st, t) M.on_bar(ctx, st, t) end

return M
