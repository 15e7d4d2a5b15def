#!/usr/bin/env bash
# Issue #17: a moving-average crossover on a CSV of daily bars (made here,
# weekdays only), with nothing but bars and the default risk settings: fills
# at the next bar's open, whole shares sized from the equity, long and
# short, no fees, on_start and on_end (which flattens at the last close).
# The fills must equal the ones bars_expect.py computes from the same file
# by the rules of docs/backtesting.md, and the venue starts with
# account.initial_cash (the broker's config says nothing about cash).
set -u
. "$(dirname "$0")/scenario_lib.sh"
here=$(cd "$(dirname "$0")" && pwd)
trap '[ -n "${KEEP:-}" ] || rm -rf "$dir"' EXIT
command -v python3 >/dev/null || { echo "SKIP: python3 is needed to compute the expected fills"; exit 77; }
failed=0
fail() { echo "FAIL: $*"; failed=1; }

# 160 weekdays of a made-up series: a slow wave, a drift and some noise; each
# bar opens near the previous close (small gaps)
python3 - "$dir/daily.csv" <<'PY'
import datetime, math, sys
d, prev, rows, i = datetime.date(2020, 1, 1), 100.0, [], 0
while len(rows) < 160:
    if d.weekday() < 5:
        c = 100 + 12 * math.sin(i / 9.0) + 0.03 * i + 1.5 * math.sin(i * 1.7)
        o = prev + 0.8 * math.sin(i * 2.3)
        h = max(o, c) + 0.7 + 0.3 * math.sin(i)
        l = min(o, c) - 0.6 - 0.2 * math.cos(i)
        rows.append("%s,%.2f,%.2f,%.2f,%.2f,%d" % (d.isoformat(), o, h, l, c, 10000 + (i * 37) % 5000))
        prev, i = c, i + 1
    d += datetime.timedelta(days=1)
open(sys.argv[1], "w").write("date,open,high,low,close,volume\n" + "\n".join(rows) + "\n")
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
      files: $dir/daily.csv
      format: csv-bars
      symbol: TEST
      symbols: "TEST:2:0"
      bar_period_s: 86400
broker:
  plugin: broker_paper
  config:
    allow_short: true
    maker_fee_bps: 0
    taker_fee_bps: 0
account:
  initial_cash: "100000"
strategies:
  dir: $here
  list:
    - name: cross
      file: bars_cross.lua
      symbols: [TEST]
      params: {symbol: TEST, fast: 5, slow: 20}
YAML

"$qts" run -c "$dir/qts.yaml" >"$dir/out" 2>"$dir/log"
rc=$?
[ "$rc" -eq 0 ] || { fail "qts run exited $rc"; tail -20 "$dir/log"; }
run=$dir/var/runs/latest

python3 "$here/bars_expect.py" "$dir/daily.csv" 5 20 >"$dir/want"
tail -n +2 "$run/fills.csv" | awk -F, '{ print $8 "," $9 "," $10 }' >"$dir/got"
if ! diff "$dir/want" "$dir/got" >"$dir/diff"; then
    fail "fills differ from the independent computation (want < > got):"; cat "$dir/diff"
fi
n=$(wc -l <"$dir/want")
[ "$n" -ge 5 ] || fail "the made-up series should give several crosses, got $n fills"

# long and short trades, the position flat at the end (on_end flattened)
grep -q ",long," "$run/trades.csv" || fail "no long trade in trades.csv"
grep -q ",short," "$run/trades.csv" || fail "no short trade in trades.csv"
last_pos=$(tail -1 "$run/fills.csv" | awk -F, '{ print $16 }')
[ "$last_pos" = "0" ] || fail "position after the last fill is '$last_pos', expected 0 (on_end)"
grep -q "bars_cross on_end reason=end of data" "$dir/log" || fail "on_end was not called"
grep -q "bars_cross started equity=100000.00" "$dir/log" || fail "on_start was not called with the account's cash"

# default risk settings: nothing refused, no staleness code
grep -q "rejected" "$dir/out" && ! grep -q "0 rejected" "$dir/out" && fail "orders rejected: $(grep orders "$dir/out")"
grep -Eq "GR117|AN010|FS107|GR064|LOCKDOWN" "$dir/log" && fail "risk or execution codes raised: $(grep -E 'GR117|AN010|FS107|GR064|LOCKDOWN' "$dir/log" | head -3)"
if [ -s "$run/decisions.csv" ] && grep -q ",rejected," "$run/decisions.csv"; then
    fail "decisions.csv has rejected orders"
fi

# one starting cash: the venue's is the account's (its config says nothing)
grep -q "broker_paper started .*initial_cash=100000.000000 bar_fill=next_open" "$dir/log" ||
    fail "the venue did not start with account.initial_cash: $(grep 'broker_paper started' "$dir/log")"
[ "$failed" -eq 0 ] && echo "ok: daily-bar crossover fills at next open equal the independent computation ($n fills)"
exit $failed
