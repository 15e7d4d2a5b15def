#!/usr/bin/env bash
# The Decide stage in summary.json and report.html (docs/decide.md, "What a
# user reads"): two strategies of one pool buy 5 and sell 3 on one event
# (3 crossed internally), a third, in a LOCKED pool, is refused. summary.json
# has a "decide" object with the counters, the savings (fees and the
# half-spread impact estimate), the operating state and pools, and the
# decisions per strategy, agreeing with decisions.csv; report.html has the
# Decide section; `qts report` rebuilds both the same.
set -u
. "$(dirname "$0")/scenario_lib.sh"
[ -n "${KEEP:-}" ] || trap 'rm -rf "$dir"' EXIT
mkdir -p "$dir/strategies"
cat >"$dir/strategies/once.lua" <<'LUA'
local M = {}
function M.on_init(ctx, params) return { side = params.side, qty = params.qty } end
function M.on_trade(ctx, st, t)
  if not st.done then st.done = true; ctx:order({symbol = "SYNTH", side = st.side, qty = st.qty}) end
end
return M
LUA
write_config "taker_fee_bps: 5
    allow_short: true" "      events: 200"
cat >>"$dir/qts.yaml" <<YAML
strategies:
  dir: $dir/strategies
  list:
    - {name: buyer, file: once.lua, symbols: [SYNTH], params: {side: buy, qty: 5}, risk: {pool: scalp}}
    - {name: seller, file: once.lua, symbols: [SYNTH], params: {side: sell, qty: 3}, risk: {pool: scalp}}
    - {name: frozen, file: once.lua, symbols: [SYNTH], params: {side: buy, qty: 1}, risk: {pool: portfolio}}
decide:
  pools:
    portfolio: {state: LOCKED}
YAML
"$qts" run -c "$dir/qts.yaml" >"$dir/out" 2>&1 || { echo "FAIL: qts run exited $?"; tail -20 "$dir/out"; exit 1; }
run="$dir/var/runs/latest"
check_summary() { # label
python3 - "$run" "$1" <<'PY'
import csv, json, sys
run, label = sys.argv[1], sys.argv[2]
bad = []
def want(cond, what):
    print(("ok: " if cond else "FAIL: ") + label + ": " + what)
    if not cond: bad.append(what)
s = json.load(open(run + "/summary.json"))
d = s.get("decide")
want(d is not None and list(s)[-1] == "decide", "summary.json ends with a decide object")
if d is None: sys.exit(1)
want(d["intents"] == 3 and d["netted"] == 2 and d["internal_fills"] == 2 and d["refused"] == 1,
     "counters: 3 intents, 2 netted, 2 internal fills, 1 refused")
want(abs(d["crossed_notional"] - 3 * 100) < 5, "crossed notional about 3 x 100: %.2f" % d["crossed_notional"])
want(abs(d["fees_saved"] - d["crossed_notional"] * 2 * 5 / 10000) < 0.011, "fees saved = crossed x 2 x 5 bps: %.2f" % d["fees_saved"])
want(d["impact_saved"] > 0, "impact saved (half spread, both legs) > 0: %.2f" % d["impact_saved"])
st = d["state"]
want(st["operating_state"] == "BALANCED" and st["pools"]["portfolio"]["state"] == "LOCKED",
     "operating state and the locked pool")
per = {p["strategy_id"]: p for p in d["per_strategy"]}
rows = [r for r in csv.reader(open(run + "/decisions.csv"))][1:]
for sid in (1, 2, 3):
    mine = [r for r in rows if r[1] == str(sid)]
    got = per.get(sid, {})
    exp = {"netted": sum(r[9] == "decide" and r[10] == "netted" for r in mine),
           "refused": sum(r[9] == "decide" and r[10] == "rejected" for r in mine),
           "precheck_accepted": sum(r[9] == "precheck" and r[10] == "accepted" for r in mine)}
    want(all(got.get(k) == v for k, v in exp.items()), "strategy %d's decisions %s" % (sid, exp))
want(per[1]["netted"] == 1 and per[1]["precheck_accepted"] == 1 and per[2]["precheck_accepted"] == 0
     and per[3]["refused"] == 1, "buyer: netted and the rest sent; seller crossed in full; frozen refused")
sys.exit(1 if bad else 0)
PY
}
check_summary run || failed=1
grep -q '<h2>Decide</h2>' "$run/report.html" && grep -q '<td>portfolio</td><td>LOCKED' "$run/report.html" &&
    echo "ok: report.html has the Decide section and the pools" || { echo "FAIL: report.html"; failed=1; }
cp "$run/summary.json" "$dir/summary.first"
"$qts" report "$run" >"$dir/report.out" 2>&1 || { echo "FAIL: qts report exited $?"; cat "$dir/report.out"; failed=1; }
check_summary "qts report" || failed=1
cmp -s "$run/summary.json" "$dir/summary.first" && echo "ok: qts report rebuilds the same summary.json" ||
    { echo "FAIL: summary.json differs after qts report"; failed=1; }
[ "$(grep -c '<h2>Decide</h2>' "$run/report.html")" = 1 ] && echo "ok: one Decide section after qts report" ||
    { echo "FAIL: Decide sections: $(grep -c '<h2>Decide</h2>' "$run/report.html")"; failed=1; }
exit $failed
