#!/usr/bin/env bash
# Issue #17: broker_paper's bar fill rules (docs/paper-broker.md "Bars") on
# hand-made 1-minute bars: limit and stop orders fill at the open when a bar
# gaps through their price, at their price when the range reaches it; stops
# and market orders pay the slippage (1 tick here), limits never; a market
# order larger than the volume cap fills partly on each bar; with
# bar_fill: close a market order fills at the signal bar's close. A stop on
# trade data (no bars) is refused with the venue's reason, which reaches the
# strategy unchanged with its code.
set -u
. "$(dirname "$0")/scenario_lib.sh"
here=$(cd "$(dirname "$0")" && pwd)
trap '[ -n "${KEEP:-}" ] || rm -rf "$dir"' EXIT
failed=0
fail() { echo "FAIL: $*"; failed=1; }

#            open   high   low    close  volume
cat >"$dir/bars.csv" <<CSV
time,open,high,low,close,volume
2024-03-01T10:00:00Z,100.00,101.00,99.00,100.00,1000
2024-03-01T10:01:00Z,96.00,97.00,95.00,96.50,1000
2024-03-01T10:02:00Z,97.00,99.00,96.00,98.00,1000
2024-03-01T10:03:00Z,104.00,105.00,103.00,104.00,1000
2024-03-01T10:04:00Z,104.00,106.00,102.00,103.00,30
2024-03-01T10:05:00Z,103.00,104.00,102.00,103.00,30
2024-03-01T10:06:00Z,103.00,104.00,102.00,103.00,1000
CSV

# run_plan <name> <plan> <extra broker config line> [data file] [format]
run_plan() {
    mkdir -p "$dir/$1"
    cat >"$dir/$1/qts.yaml" <<YAML
mode: replay
paths: {var_dir: $dir/$1/var}
plugins: {dir: $plugins}
instruments: [{symbol: TEST, px_exp: 2, qty_exp: 0, tick_size: "0.01"}]
feeds:
  - name: md
    plugin: feed_replay
    config:
      files: ${4:-$dir/bars.csv}
      format: ${5:-csv-bars}
      symbol: TEST
      symbols: "TEST:2:0"
broker:
  plugin: broker_paper
  config:
    allow_short: true
    maker_fee_bps: 0
    taker_fee_bps: 0
    slippage_ticks: 1
    $3
strategies:
  dir: $here
  list:
    - name: orders
      file: bars_orders.lua
      symbols: [TEST]
      params: {symbol: TEST, plan: "$2"}
YAML
    "$qts" run -c "$dir/$1/qts.yaml" >"$dir/$1/out" 2>"$dir/$1/log" ||
        { fail "$1: qts run exited $?"; tail -5 "$dir/$1/log"; }
    # tag,side,px,qty per fill, in the order of the file
    tail -n +2 "$dir/$1/var/runs/latest/fills.csv" | awk -F, '{ print $5 "," $8 "," $9 "," $10 }' |
        sed 's/^[0-9]*://' >"$dir/$1/got"
}

# placed on the first bar's close, filled from the second bar on
run_plan gaps "1:A:buy:limit:98.00:10;1:B:buy:limit:95.50:10;1:C:buy:stop:103.00:10;1:D:sell:stop:96.50:5;1:E:sell:limit:98.50:5;1:F:buy:stop:98.80:3;4:G:buy:market:0:40" "bar_volume_cap: 0.5"
cat >"$dir/gaps/want" <<TXT
A,buy,96.00,10
B,buy,95.50,10
D,sell,95.99,5
E,sell,98.50,5
F,buy,98.81,3
C,buy,104.01,10
G,buy,104.01,15
G,buy,103.01,15
G,buy,103.01,10
TXT
if diff "$dir/gaps/want" "$dir/gaps/got" >"$dir/gaps/diff"; then
    echo "ok: limit and stop fills on gaps and ranges, slippage, volume cap with partial fills"
else
    fail "bar fills (want < > got):"; cat "$dir/gaps/diff"
fi

# bar_fill: close: the market order takes the signal bar's close (+1 tick)
run_plan close "1:H:buy:market:0:7" "bar_fill: close
    initial_cash: 5000"
echo "H,buy,100.01,7" >"$dir/close/want"
if diff "$dir/close/want" "$dir/close/got" >/dev/null; then
    echo "ok: bar_fill close fills at the signal bar's close"
else
    fail "bar_fill close: got $(cat "$dir/close/got")"
fi
# the venue's cash: account.initial_cash (default 100000) unless its config says
grep -q "broker_paper started .*initial_cash=100000.000000 bar_fill=next_open" "$dir/gaps/log" ||
    fail "the venue did not start with account.initial_cash"
grep -q "broker_paper started .*initial_cash=5000.000000 bar_fill=close" "$dir/close/log" ||
    fail "the venue's own initial_cash was not used"

# a stop on trade data: the venue's reason and code reach the strategy
printf 'time,price,qty\n1709287200,100.00,5\n1709287201,100.50,5\n1709287202,101.00,5\n' >"$dir/trades.csv"
run_plan stop_ticks "1:S:buy:stop:100.80:1" "" "$dir/trades.csv" csv-trades
if grep -q "bars_orders order S rejected: rejected by the venue: stop orders are simulated on bar data only (-19)" "$dir/stop_ticks/log"; then
    echo "ok: the venue's reject reason and code reach the strategy"
else
    fail "the strategy did not hear the venue's reason: $(grep -i 'bars_orders\|reject' "$dir/stop_ticks/log" | head -3)"
fi
exit $failed
