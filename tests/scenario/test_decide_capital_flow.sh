#!/usr/bin/env bash
# Promotion and demotion of capital between the pools (docs/decide.md,
# "Capital flow"), on the run's clock, as a user sees them in a replay:
# a scalp strategy long and a swing strategy short on one market; at each
# check (every 2 s of data time here) the scalp pool's profit above the
# level is partly promoted to swing, and the swing pool's drawdown demotes
# part of it to scalp. Each move is a decision record (stage capital), a
# log line, and decide.json's counts and pools' moved_in; the moves add up
# to zero and the strategies' fills are not touched. A capital_flow
# without pools is refused at start.
set -u
. "$(dirname "$0")/scenario_lib.sh"
[ -n "${KEEP:-}" ] || trap 'rm -rf "$dir"' EXIT
mkdir -p "$dir/strategies"

check() { # label got expected
    if [ "$2" = "$3" ]; then echo "ok: $1: $2"; else echo "FAIL: $1: got '$2', expected '$3'"; failed=1; fi
}
has() { # label file text
    if grep -qF -- "$3" "$2"; then echo "ok: $1"; else echo "FAIL: $1: no '$3' in $2"; failed=1; fi
}

cat >"$dir/strategies/hold.lua" <<'LUA'
local M = {}
function M.on_init(ctx, params) return { side = params.side } end
function M.on_trade(ctx, st, t)
  if not st.done then st.done = true; ctx:order({symbol = "SYNTH", side = st.side, qty = 8}) end
end
return M
LUA
write_config "taker_fee_bps: 0" "      events: 20000
      seed: 3
      vol_ticks: 2"
cat >>"$dir/qts.yaml" <<YAML
strategies:
  dir: $dir/strategies
  list:
    - {name: long, file: hold.lua, symbols: [SYNTH], params: {side: buy}, risk: {pool: scalp}}
    - {name: short, file: hold.lua, symbols: [SYNTH], params: {side: sell}, risk: {pool: swing}}
decide:
  pools: {}
  operating_state:
    allocation:
      balanced: {scalp: 0.01, swing: 0.01, portfolio: 0.5}
  capital_flow:
    check_every: 2s
    scalp_to_swing: {min_profit: 0.00001, share: 0.5, min_trades: 0, max_drawdown: 1}
    swing_to_scalp: {drawdown: 0.001, share: 0.3}
YAML
"$qts" run -c "$dir/qts.yaml" >"$dir/out" 2>&1 || { echo "FAIL: qts run exited $?"; tail -20 "$dir/out"; exit 1; }
run="$dir/var/runs/latest"
dec="$run/decisions.csv"
n_up=$(grep -c ',capital,promoted,' "$dec"); n_down=$(grep -c ',capital,demoted,' "$dec")
[ "$n_up" -ge 1 ] && echo "ok: $n_up promotions scalp -> swing" || { echo "FAIL: no promotion"; failed=1; }
[ "$n_down" -ge 1 ] && echo "ok: $n_down demotions swing -> scalp" || { echo "FAIL: no demotion"; failed=1; }
check "promotions go scalp -> swing" "$(grep ',capital,promoted,' "$dec" | cut -d, -f2,3 | sort -u)" "0,scalp->swing"
check "demotions go swing -> scalp" "$(grep ',capital,demoted,' "$dec" | cut -d, -f2,3 | sort -u)" "0,swing->scalp"
# on the run's clock: the first check is at the first 2 s boundary after the first event
first=$(grep ',capital,' "$dec" | head -1 | cut -d, -f1)
check "the first check at the first 2 s mark of data time" "$((first / 2000000000 * 2000000000))" 1700000002000000000
check "checks only on the 2 s grid" \
    "$(grep ',capital,' "$dec" | awk -F, '{ print ($1 % 2000000000 < 100000000) }' | sort -u)" 1
has "the log says why" "$dir/out" "capital promotion scalp -> swing:"
python3 - "$run" <<'PY' || failed=1
import csv, json, sys
run = sys.argv[1]
rows = [r for r in csv.reader(open(run + "/decisions.csv")) if len(r) > 10 and r[9] == "capital"]
up = json.loads([r for r in rows if r[10] == "promoted"][0][16])
want = round((up["accumulated_profit"] - up["min_profit"]) * up["share"], 2)
ok = abs(up["amount"] - want) <= 0.011
print(("ok" if ok else "FAIL") + ": promotion = (profit - level) x share: %.2f vs %.2f" % (up["amount"], want))
d = json.load(open(run + "/decide.json"))
st = d["state"]
n_up = sum(r[10] == "promoted" for r in rows); n_down = sum(r[10] == "demoted" for r in rows)
ok2 = st["promotions"] == n_up and st["demotions"] == n_down
print(("ok" if ok2 else "FAIL") + ": decide.json counts %d/%d" % (st["promotions"], st["demotions"]))
moved = sum(p["moved_in"] for p in st["pools"].values())
ok3 = abs(moved) < 0.011 and st["pools"]["scalp"]["moved_in"] > 0
print(("ok" if ok3 else "FAIL") + ": moves add up to zero (%.2f), scalp gained" % moved)
s = json.load(open(run + "/summary.json"))
ok4 = s["decide"]["state"]["promotions"] == n_up
print(("ok" if ok4 else "FAIL") + ": summary.json decide shows the promotions")
sys.exit(0 if ok and ok2 and ok3 and ok4 else 1)
PY
check "the strategies' own fills untouched" "$(awk 'END { print NR - 1 }' "$run/fills.csv")" 2

# capital_flow needs pools
write_config "taker_fee_bps: 0"
cat >>"$dir/qts.yaml" <<YAML
decide:
  operating_state: {}
  capital_flow: {check_every: 1d}
YAML
expect_refused run "decide.capital_flow: needs decide.pools"
write_config "taker_fee_bps: 0"
cat >>"$dir/qts.yaml" <<YAML
decide:
  pools: {}
  capital_flow: {scalp_to_swing: {share: 2}}
YAML
expect_refused run "decide.capital_flow.scalp_to_swing.share: a fraction between 0 and 1"
exit $failed
