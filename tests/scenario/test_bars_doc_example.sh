#!/usr/bin/env bash
# docs/backtesting.md is a promise: its configuration and its strategy,
# taken from the page as they are written, run on a made-up CSV of daily
# bars with bars only and the default risk settings. The run exits 0, trades
# long and short, refuses nothing, is flat at the end (on_end), and its
# fills are at next opens (or the last close).
set -u
. "$(dirname "$0")/scenario_lib.sh"
root=$(cd "$(dirname "$0")/../.." && pwd)
trap '[ -n "${KEEP:-}" ] || rm -rf "$dir"' EXIT
command -v python3 >/dev/null || { echo "SKIP: python3 is needed to write the bar file"; exit 77; }
failed=0
fail() { echo "FAIL: $*"; failed=1; }
doc=$root/docs/backtesting.md

# the first ```yaml and ```lua blocks of the page
awk '/^```yaml$/ { on = 1; next } /^```$/ { if (on) exit } on' "$doc" >"$dir/backtest.yaml"
awk '/^```lua$/ { on = 1; next } /^```$/ { if (on) exit } on' "$doc" >"$dir/cross.lua"
[ -s "$dir/backtest.yaml" ] && [ -s "$dir/cross.lua" ] || { fail "no yaml or lua block in $doc"; exit 1; }
echo "plugins: {dir: $plugins}" >>"$dir/backtest.yaml"

python3 - "$dir/goog_daily.csv" <<'PY'
import datetime, math, sys
d, prev, rows, i = datetime.date(2012, 1, 2), 300.0, [], 0
while len(rows) < 250:
    if d.weekday() < 5:
        c = 300 + 40 * math.sin(i / 15.0) + 0.1 * i + 4 * math.sin(i * 1.3)
        o = prev + 2 * math.sin(i * 2.1)
        rows.append("%s,%.2f,%.2f,%.2f,%.2f,%d" % (d.isoformat(), o, max(o, c) + 2, min(o, c) - 2, c, 2000000 + i))
        prev, i = c, i + 1
    d += datetime.timedelta(days=1)
open(sys.argv[1], "w").write("date,open,high,low,close,volume\n" + "\n".join(rows) + "\n")
PY

(cd "$dir" && "$qts" check -c backtest.yaml >check.out 2>&1) || { fail "qts check refused the page's configuration"; cat "$dir/check.out"; }
(cd "$dir" && "$qts" run -c backtest.yaml >out 2>log)
rc=$?
[ "$rc" -eq 0 ] || { fail "qts run exited $rc"; tail -20 "$dir/log"; }
run=$dir/var/runs/latest
grep -q " 0 rejected" "$dir/out" || fail "orders refused: $(grep '^orders' "$dir/out")"
grep -q ",long," "$run/trades.csv" && grep -q ",short," "$run/trades.csv" || fail "expected long and short trades"
[ "$(tail -1 "$run/fills.csv" | awk -F, '{ print $16 }')" = "0" ] || fail "not flat after on_end"
grep -Eq "GR117|AN010|FS107|GR064|LOCKDOWN" "$dir/log" && fail "risk codes: $(grep -E 'GR117|AN010|FS107|GR064|LOCKDOWN' "$dir/log" | head -2)"
awk -F, 'NR == FNR { if (FNR > 1) { ok[$2] = 1; last = $5 } next }
         FNR > 1 && !($9 in ok) && $9 != last { print "fill at " $9 " is no bar open"; bad = 1 }
         END { exit bad }' "$dir/goog_daily.csv" "$run/fills.csv" || fail "fills off the bar opens"
for f in fills.csv trades.csv decisions.csv summary.json report.html; do
    [ -s "$run/$f" ] || fail "the run has no $f"
done
[ "$failed" -eq 0 ] && echo "ok: docs/backtesting.md's example runs on bars with the default settings ($(($(wc -l <"$run/fills.csv") - 1)) fills)"

# the page's second example: the same configuration on a month of real
# 1-minute bars (BTC-PERP, January 2022): the file, bar_period_s and the
# quantity decimals (the volumes have four) changed, as the page says
ftx=$root/../shared/data/bars/ftx_btc-perp_20211231-20220201_1m.csv
if [ -f "$ftx" ]; then
    sed -e "s|files: goog_daily.csv|files: $ftx|" -e 's|bar_period_s: 86400 .*|bar_period_s: 60|' \
        -e 's|GOOG:2:0|GOOG:2:4|' -e 's|qty_exp: 0,|qty_exp: 4,|' \
        "$dir/backtest.yaml" >"$dir/minute.yaml"
    rm -rf "$dir/var"
    (cd "$dir" && "$qts" run -c minute.yaml >out.m 2>log.m)
    rc=$?
    [ "$rc" -eq 0 ] || { fail "the minute example: qts run exited $rc"; tail -5 "$dir/log.m"; }
    grep -q " 0 rejected" "$dir/out.m" || fail "the minute example: orders refused: $(grep '^orders' "$dir/out.m")"
    grep -Eq "GR117|AN010|FS107|GR064|LOCKDOWN" "$dir/log.m" &&
        fail "the minute example: risk codes: $(grep -E 'GR117|AN010|FS107|GR064|LOCKDOWN' "$dir/log.m" | head -2)"
    n=$(($(wc -l <"$dir/var/runs/latest/fills.csv") - 1))
    [ "$n" -gt 10 ] || fail "the minute example: only $n fills"
    [ "$failed" -eq 0 ] && echo "ok: the page's minute example runs on a month of 1-minute bars ($n fills, 0 rejected)"
else
    echo "note: ../shared/data/bars absent: the minute example is skipped"
fi
exit $failed
