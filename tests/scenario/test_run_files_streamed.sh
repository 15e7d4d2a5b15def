#!/usr/bin/env bash
# The run directory, as a user reads it after `qts run`: the series the run
# streamed while it went (equity.csv, prices.csv, fills.csv, trades.csv)
# are in place with one row per sample / fill / closed trade, no .tmp file
# is left, report.html embeds bounded chart data (at most 4 points per
# time bucket, 1000 buckets) and `qts report` on the finished directory renders the same
# summary.json and report.html.
set -u
. "$(dirname "$0")/scenario_lib.sh"
trap 'rm -rf "$dir"' EXIT
failed=0
fail() { echo "FAIL: $*"; failed=1; }

# 200 000 events over ~4000 s of data, one equity sample a second: the
# default configuration with the demo market's rate raised from 0.15 to 25
# steps a second (a step is a book change, after a repricing diff when the
# price has moved: about 50 events a second)
root=$(cd "$(dirname "$0")/../.." && pwd)
sed -e 's/^      rate: 0\.15 .*/      rate: 25/' -e "s#\.\./strategies#$root/strategies#" \
    config/qts.yaml >"$dir/qts.yaml"
grep -q '^      rate: 25$' "$dir/qts.yaml" || fail "no rate: 0.15 line in config/qts.yaml to change"
QTS_DEMO_EVENTS=200000 QTS_VAR_DIR="$dir/var" QTS_PLUGIN_DIR="$plugins" \
    "$qts" run -c "$dir/qts.yaml" >"$dir/out" 2>&1 || { fail "qts run exited $?"; cat "$dir/out"; }
run="$dir/var/runs/latest"
for f in run.csv equity.csv prices.csv fills.csv trades.csv strategies.csv tca.csv \
    execution.json summary.json report.html; do
    [ -s "$run/$f" ] || fail "$f missing or empty"
done
ls "$run" | grep -q '\.tmp$' && fail "a .tmp file is left: $(ls "$run")"

rows() { echo $(($(wc -l <"$run/$1") - 1)); }
count() { grep -o "\"$1\": [0-9]*" "$run/summary.json" | head -1 | grep -o '[0-9]*$'; }
eq=$(rows equity.csv)
# at most one sample per data second (a second without an event has none),
# in time order, over the ~4000 s the data covers (about 54 events a second)
span=$(awk -F, 'NR == 2 { first = $1 } NR > 1 { if ($1 <= last) bad = 1; last = $1 }
    END { print bad ? -1 : int((last - first) / 1e9) }' "$run/equity.csv")
[ "$span" -ge 0 ] || fail "equity.csv timestamps are not increasing"
if [ "$span" -lt 3000 ] || [ "$span" -gt 4500 ]; then fail "equity.csv spans $span s, expected ~4000"; fi
if [ "$eq" -lt $((span * 9 / 10)) ] || [ "$eq" -gt $((span + 2)) ]; then fail "equity.csv has $eq rows over $span s"; fi
[ "$eq" = "$(count equity_samples)" ] || fail "equity.csv $eq rows, summary says $(count equity_samples)"
px=$(rows prices.csv)
if [ "$px" -gt "$eq" ] || [ "$px" -lt $((eq - 5)) ]; then fail "prices.csv has $px rows for $eq samples"; fi
[ "$(rows fills.csv)" = "$(count fills)" ] || fail "fills.csv rows $(rows fills.csv) != summary $(count fills)"
[ "$(rows trades.csv)" = "$(count trades)" ] || fail "trades.csv rows $(rows trades.csv) != summary $(count trades)"
[ "$(rows fills.csv)" -gt 0 ] || fail "no fill in the run"
echo "ok: rows equity=$eq prices=$px fills=$(rows fills.csv) trades=$(rows trades.csv)"

# charts: equity, drawdown and a price chart with its fills; series are
# kept whole up to 4000 points, beyond that at most 4 per time bucket
for want in '{"eq":{"x":[' '"dd":{"x":[' '{"sym":"BTCUSDT"' '"fills":{"mode":"points"' 'Fills on price: '; do
    grep -qF "$want" "$run/report.html" || fail "report.html lacks $want"
done
pts=$(grep -o '{"eq":{"x":\[[^]]*\]' "$run/report.html" | tr ',' '\n' | wc -l)
if { [ "$eq" -le 4000 ] && [ "$pts" -ne "$eq" ]; } || [ "$pts" -gt 4000 ] || [ "$pts" -lt 1000 ]; then
    fail "equity series has $pts points for $eq samples (want all up to 4000, else 1000..4000)"
fi
echo "ok: equity chart $pts points for $eq samples"

# `qts report` on the finished run renders the same bytes
cp "$run/report.html" "$dir/report.before"
cp "$run/summary.json" "$dir/summary.before"
"$qts" report "$run" >"$dir/out" 2>&1 || { fail "qts report exited $?"; cat "$dir/out"; }
cmp -s "$run/report.html" "$dir/report.before" || fail "qts report: report.html differs"
cmp -s "$run/summary.json" "$dir/summary.before" || fail "qts report: summary.json differs"

# a malformed streamed file is named with its line by `qts report`
sed -i '3s/.*/12,abc,1,0/' "$run/equity.csv"
if "$qts" report "$run" >"$dir/out" 2>&1; then fail "qts report accepted a bad equity.csv"; fi
grep -qF "equity.csv:3" "$dir/out" || { fail "no equity.csv:3 in:"; cat "$dir/out"; }

[ "$failed" = 0 ] && echo "all ok"
exit "$failed"
