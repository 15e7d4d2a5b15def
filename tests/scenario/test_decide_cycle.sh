#!/usr/bin/env bash
# The cycle (docs/decide.md, "The cycle"), as a user sees it in a replay:
#  1. two strategies that set cycle_ms = 500 run on_cycle every 500 ms of
#     data time, at the same instants (multiples of 500 ms); the snapshot
#     holds the latest price, the strategy's position, the pools' budgets
#     and its indicators; what they ask in one cycle is decided together
#     (their opposite orders are netted); each cycle is a row of
#     cycles.csv with its stage timings; an event-driven strategy beside
#     them keeps trading; decide.json counts the cycles;
#  2. an on_cycle slower than its budget raises AN040, three in a row
#     FS060 (the host stops trading: later orders are rejected);
#  3. a module with cycle_ms but no on_cycle does not start, with a reason.
set -u
. "$(dirname "$0")/scenario_lib.sh"
[ -n "${KEEP:-}" ] || trap 'rm -rf "$dir"' EXIT; echo "dir $dir"
mkdir -p "$dir/strategies"

check() { # label got expected
    if [ "$2" = "$3" ]; then echo "ok: $1: $2"; else echo "FAIL: $1: got '$2', expected '$3'"; failed=1; fi
}
has() { # label file text
    if grep -qF -- "$3" "$2"; then echo "ok: $1"; else echo "FAIL: $1: no '$3' in $2"; failed=1; fi
}
run_host() { # label
    rm -rf "$dir/var"
    "$qts" run -c "$dir/qts.yaml" >"$dir/out.$1" 2>&1 || { echo "FAIL: qts run ($1) exited $?"; tail -20 "$dir/out.$1"; exit 1; }
    run="$dir/var/runs/latest"
}

# A cycle strategy: on every other cycle it buys (side = buy) or sells 1,
# and it logs what the snapshot showed.
cat >"$dir/strategies/cycler.lua" <<'LUA'
local ind = require("qts.indicators")
local M = { cycle_ms = 500 }
function M.on_init(ctx, params)
  return { side = params.side, indicators = { ema = ind.ema(5) } }
end
function M.on_trade(ctx, st, t) st.indicators.ema:push(t:price()) end
function M.on_cycle(ctx, st, snap)
  local px = snap.prices.SYNTH
  if snap.cycle == 3 then
    ctx:log("warn", "snap cycle=%d price=%s position=%s scalp_available=%s ema=%s state=%s",
            snap.cycle, tostring(px ~= nil and px > 0), tostring(snap.positions.SYNTH or 0),
            tostring(snap.pools and snap.pools.scalp.available > 0),
            tostring(snap.indicators.ema ~= nil), snap.operating_state)
  end
  if px and snap.cycle % 2 == 1 then
    ctx:order({symbol = "SYNTH", side = st.side, qty = 1, tag = "c" .. snap.cycle})
  end
end
return M
LUA
# An event-driven strategy: buys once.
cat >"$dir/strategies/once.lua" <<'LUA'
local M = {}
function M.on_init(ctx) return {} end
function M.on_trade(ctx, st, t)
  if not st.done then st.done = true; ctx:buy("SYNTH", 2, nil, {tag = "once"}) end
end
return M
LUA

# --- 1. every cycle_ms of data time, decided together ---
write_config "taker_fee_bps: 5" "      events: 20000"
cat >>"$dir/qts.yaml" <<YAML
risk: {pool: scalp}
strategies:
  dir: $dir/strategies
  list:
    - {name: buyer, file: cycler.lua, symbols: [SYNTH], params: {side: buy}}
    - {name: seller, file: cycler.lua, symbols: [SYNTH], params: {side: sell}}
    - {name: once, file: once.lua, symbols: [SYNTH]}
decide:
  pools: {}
YAML
run_host every
csv="$run/cycles.csv"
[ -s "$csv" ] || { echo "FAIL: no cycles.csv"; ls "$run"; exit 1; }
check "cycles.csv header" "$(head -1 "$csv")" \
    "strategy,cycle,due_ns,ts_ns,snapshot_us,strategy_us,decide_us,total_us,budget_us,intents,over_budget"
n_buy=$(grep -c '^buyer,' "$csv"); n_sell=$(grep -c '^seller,' "$csv")
check "both strategies ran as many cycles" "$n_buy" "$n_sell"
# the data's span, from the fills' and the cycles' own clock: first and last
# market event are not in a run file, so the cycles check themselves: due
# times are consecutive multiples of 500 ms, each ran at or after its due
# time and before the next one
awk -F, 'NR > 1 && $1 == "buyer" {
    if ($3 % 500000000 != 0) { print "FAIL: due " $3 " not a multiple of 500 ms"; bad = 1 }
    if (prev && $3 - prev != 500000000) { print "FAIL: due " $3 " is " ($3 - prev) " ns after the last"; bad = 1 }
    if ($4 < $3 || $4 - $3 >= 500000000) { print "FAIL: cycle " $2 " ran at " $4 ", due " $3; bad = 1 }
    prev = $3 }
    END { exit bad }' "$csv" && echo "ok: due every 500 ms of data time, run on time" || failed=1
[ "$n_buy" -ge 10 ] && echo "ok: $n_buy cycles" || { echo "FAIL: only $n_buy cycles"; failed=1; }
check "both strategies' cycles at the same instants" \
    "$(grep '^buyer,' "$csv" | cut -d, -f3 | md5sum)" "$(grep '^seller,' "$csv" | cut -d, -f3 | md5sum)"
awk -F, 'NR > 1 { if ($5 == "" || $6 == "" || $7 == "" || $8 + 0.2 < $5 + $6 + $7 || $9 != 500000) bad = 1 }
    END { exit bad }' "$csv" && echo "ok: stage timings and the budget in every row" ||
    { echo "FAIL: timings:"; head -5 "$csv"; failed=1; }
check "intents counted on odd cycles" "$(awk -F, '$1 == "buyer" && $2 == 3 { print $10 }' "$csv")" 1
# cycle 1's orders crossed: each strategy's snapshot shows its own position
has "the buyer's snapshot" "$dir/out.every" "strategy=buyer snap cycle=3 price=true position=1 scalp_available=true ema=true state=BALANCED"
has "the seller's snapshot" "$dir/out.every" "strategy=seller snap cycle=3 price=true position=-1 scalp_available=true ema=true state=BALANCED"
# one cycle's intents are decided together: the buyer's and the seller's
# orders of a cycle cross inside the scalp pool
nets=$(grep -c ',decide,netted,' "$run/decisions.csv")
[ "$nets" -ge 2 ] && echo "ok: $nets netted records (a cycle's intents decided together)" ||
    { echo "FAIL: no netting between the cycle strategies"; failed=1; }
check "the cycle strategies end flat together" \
    "$(awk -F, 'NR > 1 && ($4 == 1 || $4 == 2) { n++ } END { print n % 2 }' "$run/fills.csv")" 0
has "the event-driven strategy still trades" "$run/fills.csv" ",once,"
grep -q "\"cycles\":{\"cycles\":$((n_buy + n_sell)),\"over_budget\":0,\"fs060\":0" "$run/decide.json" &&
    echo "ok: decide.json counts the cycles" || { echo "FAIL: decide.json:"; cat "$run/decide.json"; failed=1; }

# --- 2. a slow on_cycle: AN040, then FS060 ---
cat >"$dir/strategies/slow.lua" <<'LUA'
local M = { cycle_ms = 100, cycle_budget_ms = 25 }
function M.on_init(ctx) return {} end
function M.on_cycle(ctx, st, snap)
  if snap.cycle >= 3 and snap.cycle <= 6 then      -- 4 slow cycles in a row
    local t = os.clock()
    while os.clock() - t < 0.06 do end              -- 60 ms of work
  end
  if snap.cycle == 9 then ctx:buy("SYNTH", 1, nil, {tag = "after"}) end
end
function M.on_order(ctx, st, o)
  if o:kind() == "rejected" then ctx:log("warn", "after rejected: %s", o:reason()) end
end
return M
LUA
write_config "taker_fee_bps: 5" "      events: 5000"
cat >>"$dir/qts.yaml" <<YAML
strategies:
  dir: $dir/strategies
  list:
    - {name: slow, file: slow.lua, symbols: [SYNTH]}
YAML
run_host slow
csv="$run/cycles.csv"
# (a loaded machine may push another cycle over 25 ms: only these must be)
check "the slow cycles are over budget" \
    "$(awk -F, 'NR > 1 && $11 == 1 && $2 >= 3 && $2 <= 6 { printf "%s ", $2 }' "$csv")" "3 4 5 6 "
has "AN040 in the log" "$dir/out.slow" "AN040"
has "FS060 in the log" "$dir/out.slow" "FS060"
grep -Eq '"over_budget":([4-9]|[1-9][0-9]+),"fs060":[1-9]' "$run/decide.json" && echo "ok: decide.json: over budget, FS060" ||
    { echo "FAIL: decide.json:"; cat "$run/decide.json"; failed=1; }
has "after FS060 the host does not trade" "$dir/out.slow" "after rejected"
check "no fill after FS060" "$(awk 'END { print NR - 1 }' "$run/fills.csv")" 0

# --- 3. cycle_ms without on_cycle ---
cat >"$dir/strategies/nocycle.lua" <<'LUA'
return { cycle_ms = 100, on_init = function() return {} end }
LUA
write_config "taker_fee_bps: 5" "      events: 100"
cat >>"$dir/qts.yaml" <<YAML
strategies:
  dir: $dir/strategies
  list:
    - {name: nocycle, file: nocycle.lua}
YAML
"$qts" run -c "$dir/qts.yaml" >"$dir/out.nocycle" 2>&1
has "cycle_ms without on_cycle is refused" "$dir/out.nocycle" "cycle_ms needs an on_cycle function"

exit $failed
