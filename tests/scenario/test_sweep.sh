#!/usr/bin/env bash
# `qts sweep` as a user runs it: a grid of 4 parameter sets of an EMA
# crossover over a CSV file, run in parallel processes. Each row of
# sweep.csv must equal a single `qts run` of the same parameters (the
# statistics of its summary.json; the whole summary.json is the same
# file), each run is an ordinary run directory, the table is ranked, and
# --split runs each set in-sample and out-of-sample.
set -u
. "$(dirname "$0")/scenario_lib.sh"
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; failed=1; }

# conf <file> <fast> <slow>: the demo's synthetic market (trades and a book)
# and its EMA crossover with those periods
conf() {
    cat >"$dir/$1" <<YAML
mode: replay
paths: {var_dir: $dir/var}
plugins: {dir: $plugins}
instruments:
  - {symbol: BTCUSDT, venue: synthetic, px_exp: 2, qty_exp: 5, tick_size: "0.01", lot_size: "0.00001", min_qty: "0.00001"}
feeds:
  - name: demo
    plugin: feed_synthetic
    config: {symbols: BTCUSDT, seed: 42, rate: 50, events: 30000, start_price: "60000", px_exp: 2, qty_exp: 5, tick: "0.01", lot: "0.001"}
broker: {plugin: broker_paper, config: {seed: 1, order_latency_ns: 1000000, taker_fee_bps: 5, allow_short: true}}
account: {initial_cash: "100000"}
strategies:
  dir: $PWD/strategies
  list:
    - {name: ema, file: ema_cross.lua, symbols: [BTCUSDT], params: {symbol: BTCUSDT, fast: $2, slow: $3, qty: 0.01}}
risk: {pool: swing}
replay: {speed: max}
YAML
}
conf sweep.yaml 20 80

"$qts" sweep -c "$dir/sweep.yaml" --param ema.fast=5:10:5 --param ema.slow=20,40 --jobs 2 \
    --rank total_return >"$dir/out" 2>"$dir/err"
rc=$?
[ "$rc" = 0 ] || { fail "qts sweep exited $rc"; cat "$dir/out" "$dir/err"; }
csv=$(awk '$1 == "table" { print $2 }' "$dir/out")
[ -f "$csv" ] || { fail "no sweep.csv named in the output: $(cat "$dir/out")"; exit 1; }
html=$(awk '$1 == "report" { print $2 }' "$dir/out")
grep -q '<section id="sweep"><h2>Parameter sweep</h2>' "$html" || fail "sweep.html has no sweep section"
rows=$(($(wc -l <"$csv") - 1))
[ "$rows" = 4 ] || fail "sweep.csv has $rows rows, want 4"
head -1 "$csv" | grep -q '^rank,set,ema.fast,ema.slow,run_id,status,total_return,' || fail "header: $(head -1 "$csv")"
echo "ok: qts sweep ran 4 sets: $(awk -F, 'NR > 1 { printf "%s/%s ", $3, $4 }' "$csv")"

# each row equals a single run with the same parameters
stat() { # stat <summary.json> <key>: the value as written there
    sed -n "s/.*\"$2\": \([^,}]*\).*/\1/p" "$1" | head -1
}
n_same=0
while IFS=, read -r rank set fast slow run_id status total_return cagr sharpe sortino mdd win pf expo fees eq trades fills; do
    [ "$rank" = rank ] && continue
    [ "$status" = ok ] || fail "set $set: status $status"
    sweep_run="$dir/var/runs/$run_id"
    [ -f "$sweep_run/summary.json" ] && [ -f "$sweep_run/report.html" ] && [ -f "$sweep_run/fills.csv" ] ||
        fail "set $set: $sweep_run is not an ordinary run directory"
    conf "single.yaml" "$fast" "$slow"
    "$qts" run -c "$dir/single.yaml" >"$dir/single.out" 2>&1 || fail "single run $fast/$slow exited $?"
    single=$(readlink -f "$dir/var/runs/latest")
    for k in total_return:$total_return max_drawdown:$mdd fees:$fees equity_end:$eq exposure:$expo \
        trades:$trades fills:$fills; do
        want=$(stat "$single/summary.json" "${k%%:*}")
        [ "$want" = "${k#*:}" ] || fail "set $set ($fast/$slow): ${k%%:*} ${k#*:} in sweep.csv, $want in a single run"
    done
    cmp -s "$sweep_run/summary.json" "$single/summary.json" || fail "set $set: summary.json differs from a single run"
    n_same=$((n_same + 1))
done <"$csv"
[ "$n_same" = 4 ] && echo "ok: the 4 rows equal 4 single runs (statistics and summary.json)"

# ranked: total_return never rises down the table
awk -F, 'NR > 2 && $7 > last { bad = 1 } NR > 1 { last = $7 } END { exit bad }' "$csv" ||
    fail "not ranked by total_return: $(cut -d, -f1-7 "$csv")"
distinct=$(awk -F, 'NR > 1 { print $7 }' "$csv" | sort -u | wc -l)
[ "$distinct" -gt 1 ] || fail "every set gave the same total_return: the grid did not reach the strategy"
echo "ok: ranked by total_return ($distinct distinct values)"

# --split: in-sample before the date, out-of-sample from it on. Quotes and
# trades every 250 ms from 2024-01-01 23:50 to 00:06:40, through feed_replay
# (which takes start and end); the split is at midnight.
awk 'BEGIN { print "time,price,qty"
    for (i = 0; i < 4000; i++)
        printf "%d,%.2f,1\n", 1704152400000 + i * 250, 100 + 5 * sin(i / 60) }' >"$dir/trades.csv"
sed -e '/plugin: feed_synthetic/d' -e 's/venue: synthetic/venue: replay/' \
    -e "s|    config: {symbols: BTCUSDT, seed: 42.*|    plugin: feed_replay\n    config: {files: $dir/trades.csv, symbol: BTCUSDT, symbols: \"BTCUSDT:2:5\"}|" \
    "$dir/sweep.yaml" >"$dir/split.yaml"
"$qts" sweep -c "$dir/split.yaml" --param ema.fast=5 --param ema.slow=20,40 --split 2024-01-02 \
    --jobs 2 >"$dir/out" 2>"$dir/err" || { fail "sweep --split exited $?"; cat "$dir/out" "$dir/err"; tail -5 "$dir"/var/sweeps/*/logs/*-001-is.log; }
csv=$(awk '$1 == "table" { print $2 }' "$dir/out")
head -1 "$csv" 2>/dev/null | grep -q 'is_run_id,is_status,is_total_return' &&
    head -1 "$csv" | grep -q 'oos_run_id,oos_status,oos_total_return' || fail "split header: $(head -1 "$csv" 2>&1)"
split_ns=1704153600000000000
while IFS=, read -r rank set fast slow is_run rest; do
    [ "$rank" = rank ] && continue
    oos_run=$(echo "$rest" | cut -d, -f14)
    is_end=$(sed -n 's/.*"end_ns": \([0-9]*\).*/\1/p' "$dir/var/runs/$is_run/summary.json")
    oos_start=$(sed -n 's/.*"start_ns": \([0-9]*\).*/\1/p' "$dir/var/runs/$oos_run/summary.json")
    awk -v a="$is_end" -v b="$oos_start" -v s="$split_ns" 'BEGIN { exit !(a != "" && b != "" && a < s && b >= s) }' ||
        fail "split set $set: in-sample ends $is_end, out-of-sample starts $oos_start, split $split_ns"
    n_split=$((${n_split:-0} + 1))
done <"${csv:-/dev/null}"
[ "${n_split:-0}" = 2 ] && echo "ok: --split runs each set in-sample (data before the date) and out-of-sample (from it on)"

# bad input: clear errors, exit 2, nothing run
"$qts" sweep -c "$dir/sweep.yaml" --param nosuch.fast=1,2 >"$dir/out" 2>"$dir/err"
rc=$?
[ "$rc" = 2 ] && grep -q "no item named 'nosuch'" "$dir/err" || fail "unknown strategy: exit $rc, $(cat "$dir/err")"
"$qts" sweep -c "$dir/sweep.yaml" --param ema.fast=5:1:1 >"$dir/out" 2>"$dir/err"
rc=$?
[ "$rc" = 2 ] && grep -q "STOP >= START" "$dir/err" || fail "bad range: exit $rc, $(cat "$dir/err")"
"$qts" help | grep -q '^  sweep ' || fail "qts help does not list sweep"
echo "ok: a wrong strategy name and a bad range are refused"

[ "$failed" = 0 ] && echo "all ok"
exit "$failed"
