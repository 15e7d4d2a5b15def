#!/usr/bin/env bash
# Issue #17: a month's worth of trading days in miniature: three sessions of
# 1-minute bars (09:30-16:00, nights between) traded by a crossover with the
# default risk and execution settings (no risk: or execution: section at
# all). Staleness is measured against the bars' own interval and a replay's
# data clock, so nothing is refused or flagged for staleness (no GR117,
# AN010, FS107, no LOCKDOWN), no order times out waiting for its bar, and
# every fill is at the open of the bar after its signal (or, for the last
# one, the final close).
set -u
. "$(dirname "$0")/scenario_lib.sh"
here=$(cd "$(dirname "$0")" && pwd)
trap '[ -n "${KEEP:-}" ] || rm -rf "$dir"' EXIT
command -v python3 >/dev/null || { echo "SKIP: python3 is needed to write the bar file"; exit 77; }
failed=0
fail() { echo "FAIL: $*"; failed=1; }

python3 - "$dir/minute.csv" <<'PY'
import datetime, math, sys
rows, prev, i = [], 50.0, 0
for day in (4, 5, 6):
    t = datetime.datetime(2024, 3, day, 9, 30)
    for m in range(390):
        c = 50 + 2 * math.sin(i / 25.0) + 0.4 * math.sin(i * 1.3)
        o = prev
        rows.append("%s,%.2f,%.2f,%.2f,%.2f,%d" % (t.strftime("%Y-%m-%dT%H:%M:%SZ"), o,
                    max(o, c) + 0.05, min(o, c) - 0.05, c, 500 + i % 300))
        prev, i, t = c, i + 1, t + datetime.timedelta(minutes=1)
open(sys.argv[1], "w").write("time,open,high,low,close,volume\n" + "\n".join(rows) + "\n")
PY

cat >"$dir/qts.yaml" <<YAML
mode: replay
paths: {var_dir: $dir/var}
plugins: {dir: $plugins}
instruments: [{symbol: TEST, px_exp: 2, qty_exp: 0, tick_size: "0.01"}]
feeds:
  - name: md
    plugin: feed_replay
    config:
      files: $dir/minute.csv
      format: csv-bars
      symbol: TEST
      symbols: "TEST:2:0"
broker:
  plugin: broker_paper
  config:
    allow_short: true
strategies:
  dir: $here
  list:
    - name: cross
      file: bars_cross.lua
      symbols: [TEST]
      params: {symbol: TEST, fast: 10, slow: 40, fraction: 0.9}   # room for the fees
YAML

"$qts" run -c "$dir/qts.yaml" >"$dir/out" 2>"$dir/log"
rc=$?
[ "$rc" -eq 0 ] || { fail "qts run exited $rc"; tail -20 "$dir/log"; }
run=$dir/var/runs/latest

fills=$(($(wc -l <"$run/fills.csv") - 1))
[ "$fills" -ge 10 ] || fail "expected a busy crossover, got $fills fills"
grep -q " 0 rejected" "$dir/out" || fail "orders rejected: $(grep '^orders' "$dir/out")"
codes=$(grep -Eo "GR117|AN010|FS107|GR064|FS092|LOCKDOWN" "$dir/log" | sort | uniq -c)
[ -z "$codes" ] || fail "staleness or timeout codes with default settings: $codes"
if grep -q ",rejected," "$run/decisions.csv" 2>/dev/null; then
    fail "decisions.csv has rejected orders: $(grep ',rejected,' "$run/decisions.csv" | head -2)"
fi
# every fill price is some bar's open (next-open rule) or the last close (on_end)
awk -F, 'NR == FNR { if (FNR > 1) { ok[$2] = 1; last = $5 } next }
         FNR > 1 && !($9 in ok) && $9 != last { print "fill at " $9 " is no bar open"; bad = 1 }
         END { exit bad }' "$dir/minute.csv" "$run/fills.csv" || fail "fills off the bar opens"
[ "$failed" -eq 0 ] && echo "ok: 1-minute bars, default settings: $fills fills at next opens, nothing refused or stale"
exit $failed
