#!/usr/bin/env bash
# The Decide stage nets opposite intents of one pool, as a user sees it in
# a run: two strategies in one pool ask opposite quantities on the same
# event (buy 5, sell 3) -> one order of 2 reaches the venue, the 3
# overlap is an internal cross at the decision price with zero fee, each
# strategy's position and PnL are its own and exact, and the account's PnL
# is their sum. Put in different pools, the same two intents are two venue
# orders and nothing is netted.
set -u
. "$(dirname "$0")/scenario_lib.sh"
trap 'rm -rf "$dir"' EXIT

mkdir -p "$dir/strategies"
side_strategy() { # name side qty
    cat >"$dir/strategies/$1.lua" <<LUA
local M = {}
function M.on_init(ctx) return { done = false } end
function M.on_trade(ctx, st, t)
  if st.done then return end
  st.done = true
  ctx:order({symbol = "SYNTH", side = "$2", qty = $3})
end
function M.on_fill(ctx, st, f)
  ctx:log("info", "$1 position %.4f", ctx:position("SYNTH"))
end
return M
LUA
}
side_strategy buyer buy 5
side_strategy seller sell 3

run_case() { # <seller's pool> <label>
    rm -rf "$dir/var"
    write_config "taker_fee_bps: 5
    allow_short: true" "      events: 200"
    cat >>"$dir/qts.yaml" <<YAML
strategies:
  dir: $dir/strategies
  list:
    - {name: buyer, file: buyer.lua, symbols: [SYNTH], risk: {pool: scalp}}
    - {name: seller, file: seller.lua, symbols: [SYNTH], risk: {pool: $1}}
YAML
    "$qts" run -c "$dir/qts.yaml" >"$dir/out.$2" 2>&1 || { echo "FAIL: qts run ($2) exited $?"; tail -20 "$dir/out.$2"; exit 1; }
    run="$dir/var/runs/latest"
}
# column of a CSV by header name
col() { awk -F, -v c="$2" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == c) k = i; next } { print $k }' "$1"; }
venue_orders() { grep -c ',precheck,accepted,' "$run/decisions.csv"; }
last_pos() { # strategy id -> its position after its last fill
    awk -F, -v s="$1" 'NR > 1 && $4 == s { p = $17 } END { print p }' "$run/fills.csv"
}
# summary.json gives the equity to 10 significant digits: agree within 1e-5
near() { awk -v a="$2" -v b="$3" -v l="$1" 'BEGIN { d = a - b; if (d < 0) d = -d
    if (d <= 1e-5) print "ok: " l ": " a " ~ " b; else { print "FAIL: " l ": " a " vs " b; exit 1 } }' || failed=1; }
check() { # label what got expected
    if [ "$2" = "$3" ]; then echo "ok: $1: $2"; else echo "FAIL: $1: got '$2', expected '$3'"; failed=1; fi
}
sum_pnl() { grep -o '"net_pnl": [-0-9.]*' "$run/summary.json" | awk '{ s += $2 } END { printf "%.6f", s }'; }
account_pnl() {
    awk -F'[:,]' '/"equity_start"/ { a = $2 } /"equity_end"/ { b = $2 } END { printf "%.6f", b - a }' "$run/summary.json"
}

# --- one pool (both scalp): netted ---
run_case scalp same
check "one pool: orders at the venue" "$(venue_orders)" 1
check "one pool: the venue order is the buyer's remainder" \
    "$(grep ',precheck,accepted,' "$run/decisions.csv" | cut -d, -f2,6,12)" "1,buy,2"
check "one pool: netted decision records" "$(grep -c ',decide,netted,' "$run/decisions.csv")" 2
check "one pool: internal fills (fee 0)" \
    "$(awk -F, 'NR > 1 && $13 + 0 == 0 && $3 > 4e18' "$run/fills.csv" | wc -l)" 2
# the two internal legs: same price, 0.3 each, opposite sides
check "one pool: cross legs" \
    "$(awk -F, 'NR > 1 && $3 > 4e18 { print $4 ":" $8 ":" $10 }' "$run/fills.csv" | sort | tr '\n' ' ')" \
    "1:buy:3 2:sell:3 "
check "one pool: cross legs at one price" \
    "$(awk -F, 'NR > 1 && $3 > 4e18 { print $9 }' "$run/fills.csv" | sort -u | wc -l)" 1
check "one pool: buyer position" "$(last_pos 1)" 5
check "one pool: seller position" "$(last_pos 2)" -3
grep -qF "buyer position 5.0000" "$dir/out.same" || { echo "FAIL: the buyer's ctx:position is not 5"; failed=1; }
grep -qF "seller position -3.0000" "$dir/out.same" || { echo "FAIL: the seller's ctx:position is not -3"; failed=1; }
near "one pool: account PnL = sum of strategies" "$(account_pnl)" "$(sum_pnl)"
check "one pool: seller paid no fee" \
    "$(grep -o '"strategy_id": 2, [^}]*"fees": [0-9.]*' "$run/summary.json" | grep -o '[0-9.]*$')" 0.000000
grep -q '"internal_fills":2' "$run/decide.json" || { echo "FAIL: decide.json:"; cat "$run/decide.json"; failed=1; }
grep -q '"fees_saved":0.00' "$run/decide.json" && { echo "FAIL: no fees saved in decide.json"; failed=1; }

# --- different pools (seller in swing): not netted ---
run_case swing apart
check "two pools: orders at the venue" "$(venue_orders)" 2
check "two pools: netted records" "$(grep -c ',decide,netted,' "$run/decisions.csv")" 0
check "two pools: internal fills" "$(awk -F, 'NR > 1 && $3 > 4e18' "$run/fills.csv" | wc -l)" 0
check "two pools: buyer position" "$(last_pos 1)" 5
check "two pools: seller position" "$(last_pos 2)" -3
near "two pools: account PnL = sum of strategies" "$(account_pnl)" "$(sum_pnl)"

[ "$failed" = 0 ] && echo "all ok"
exit "$failed"
