#!/usr/bin/env bash
# The default configuration's demo market (feed_synthetic calibrated to
# Binance BTCUSDT, docs/market-data.md "The demo market") makes the example
# strategies win and lose: the full default run (a million events, about a
# month of market) has every statistic of summary.json defined (Sharpe,
# Sortino, CAGR, win rate), a win rate strictly between 0 and 100 %, and
# each example strategy both winning and losing trades.
set -u
. "$(dirname "$0")/scenario_lib.sh"
trap 'rm -rf "$dir"' EXIT

QTS_VAR_DIR="$dir/var" "$qts" run -c config/qts.yaml >"$dir/out" 2>"$dir/err"
rc=$?
if [ $rc -ne 0 ]; then
    echo "FAIL: qts run -c config/qts.yaml exited $rc"; tail -5 "$dir/err"; exit 1
fi
python3 - "$dir/var/runs/latest" <<'PY' || exit 1
import csv, json, sys
run = sys.argv[1]
s = json.load(open(run + "/summary.json"))
st, bad = s["stats"], []
for k in ("sharpe", "sortino", "cagr", "win_rate", "profit_factor", "max_drawdown"):
    if st.get(k) is None:
        bad.append(k + " is not defined")
w = st.get("win_rate") or 0
if not 0 < w < 1:
    bad.append("win rate %s is not strictly between 0 and 1" % w)
trades = list(csv.DictReader(open(run + "/trades.csv")))
for sid in ("1", "2", "3"):
    pnl = [float(t["pnl"]) for t in trades if t["strategy_id"] == sid]
    if not any(p > 0 for p in pnl) or not any(p < 0 for p in pnl):
        bad.append("strategy %s: %d trades, not both wins and losses" % (sid, len(pnl)))
days = (s["end_ns"] - s["start_ns"]) / 86400e9
print("summary: %.1f days, %d trades, win rate %.3f, sharpe %.2f, sortino %.2f, cagr %.4f"
      % (days, len(trades), w, st["sharpe"] or 0, st["sortino"] or 0, st["cagr"] or 0))
for b in bad:
    print("FAIL: " + b)
sys.exit(1 if bad else 0)
PY
echo "ok: the default run's statistics are all defined and its strategies win and lose"
