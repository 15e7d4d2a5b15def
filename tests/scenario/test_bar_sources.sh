#!/usr/bin/env bash
# Several data sources in one replay, as a user writes them: feed_replay in
# two feed slots and one slot with files of different formats, merged by
# time; start, end and limit; CSV bars with date-only times (daily bars);
# in on_bar, ctx:now() is the bar's close. The strategy logs every event it
# sees; the test checks the order and the counts from that log.
set -u
. "$(dirname "$0")/scenario_lib.sh"
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; failed=1; }

# every event: kind, symbol, its time, ctx:now() (seconds, integers)
cat >"$dir/probe.lua" <<'LUA'
local M = { api = 1, name = "probe", version = "1" }
function M.on_init(ctx, params) return {} end
local function log(ctx, kind, ev, extra)
  ctx:log("info", "EV %s %s %d %d %s", kind, ev:symbol(), math.floor(ev:time() + 0.5),
          math.floor(ctx:now() + 0.5), extra or "")
end
function M.on_bar(ctx, st, b) log(ctx, "bar", b, tostring(b:period())) end
function M.on_trade(ctx, st, t) log(ctx, "trade", t) end
return M
LUA

# conf <file> <feeds block>: a replay of AAA and BBB bars through the probe
conf() {
    cat >"$dir/$1" <<YAML
mode: replay
paths: {var_dir: $dir/var}
plugins: {dir: $plugins}
instruments:
  - {symbol: AAA, venue: replay, px_exp: 2, qty_exp: 0, tick_size: "0.01", lot_size: "1", min_qty: "1"}
  - {symbol: BBB, venue: replay, px_exp: 2, qty_exp: 0, tick_size: "0.01", lot_size: "1", min_qty: "1"}
  - {symbol: CCC, venue: replay, px_exp: 1, qty_exp: 8, tick_size: "0.1", lot_size: "0.00000001", min_qty: "0.00000001"}
feeds:
$2
broker: {plugin: broker_paper}
strategies:
  dir: $dir
  list:
    - {name: p, file: probe.lua, symbols: [AAA, BBB, CCC], params: {}}
replay: {speed: max}
YAML
}
# run_conf <file>: check then run; both must succeed. Events in $dir/ev.
run_conf() {
    "$qts" check -c "$dir/$1" >"$dir/check.out" 2>&1 || { fail "qts check $1 exited $?"; tail -5 "$dir/check.out"; }
    "$qts" run -c "$dir/$1" >"$dir/run.out" 2>"$dir/run.err" || { fail "qts run $1 exited $?"; tail -5 "$dir/run.err"; }
    grep -o 'EV .*' "$dir/run.err" | sed 's/ strategy=.*//; s/ *$//' >"$dir/ev"
}
# in_order: the events' delivery times (a bar at its close) never go back
in_order() { awk '{ t = $1 == "EV" ? $5 : 0 } t < last { bad++ } { last = t } END { exit bad > 0 }' "$dir/ev"; }

# 1-minute bars of AAA at even minutes, of BBB at odd minutes (closes interleave)
{
    echo "time,open,high,low,close,volume"
    for m in 0 2 4 6 8; do printf '2024-01-02 10:%02d:00,10,11,9,10.5,100\n' $m; done
} >"$dir/a.csv"
{
    echo "timestamp,open,high,low,close,volume"
    for m in 1 3 5 7 9; do printf '2024-01-02 10:%02d:00,20,21,19,20.5,100\n' $m; done
} >"$dir/b.csv"

# --- the same plugin in two feed slots, merged by time
conf two.yaml "  - {name: fa, plugin: feed_replay, config: {files: $dir/a.csv, symbol: AAA, symbols: \"AAA:2:0\"}}
  - {name: fb, plugin: feed_replay, config: {files: $dir/b.csv, symbol: BBB, symbols: \"BBB:2:0\"}}"
run_conf two.yaml
n=$(wc -l <"$dir/ev")
syms=$(awk '{ printf "%s", substr($3, 1, 1) }' "$dir/ev")
[ "$n" = 10 ] || fail "two slots: $n events seen, want 10"
[ "$syms" = ABABABABAB ] || fail "two slots: symbols in order $syms, want ABABABABAB"
in_order || fail "two slots: times go back: $(cat "$dir/ev")"
grep -q '^run .* 10 events (0 trades, 0 quotes, 0 book updates, 10 bars)' "$dir/run.out" ||
    fail "two slots: run line $(grep '^run' "$dir/run.out")"
echo "ok: feed_replay in two slots, 10 bars merged by time ($syms)"

# --- ctx:now() in on_bar is the close: open + 60 s
bad=$(awk '$2 == "bar" && $5 != $4 + 60 { n++ } END { print n + 0 }' "$dir/ev")
[ "$bad" = 0 ] || fail "ctx:now() in on_bar is not open + period on $bad bars: $(head -3 "$dir/ev")"
echo "ok: ctx:now() in on_bar is the bar's close"

# --- one slot, a bar file and a trade file (format auto by header), merged
printf 'time,price,qty\n2024-01-02 10:00:30,10.10,5\n2024-01-02 10:02:30,10.20,5\n2024-01-02 10:20:00,10.30,5\n' >"$dir/t.csv"
conf mixed.yaml "  - {name: fa, plugin: feed_replay, config: {files: \"$dir/a.csv,$dir/t.csv\", symbol: AAA, symbols: \"AAA:2:0\"}}"
run_conf mixed.yaml
kinds=$(awk '{ printf "%s", substr($2, 1, 1) }' "$dir/ev")
[ "$kinds" = tbtbbbbt ] || fail "mixed slot: kinds in order $kinds, want tbtbbbbt"
in_order || fail "mixed slot: times go back: $(cat "$dir/ev")"
grep -q 'format=csv-bars' "$dir/run.err" && grep -q 'format=csv-trades' "$dir/run.err" ||
    fail "mixed slot: the log does not name both formats"
echo "ok: one slot with a bar file and a trade file ($kinds)"

# --- start, end (excluded) and limit
conf window.yaml "  - {name: fa, plugin: feed_replay, config: {files: $dir/a.csv, symbol: AAA, symbols: \"AAA:2:0\", start: \"2024-01-02 10:02:00\", end: \"2024-01-02 10:08:00\"}}
  - {name: fb, plugin: feed_replay, config: {files: $dir/b.csv, symbol: BBB, symbols: \"BBB:2:0\", limit: 2}}"
run_conf window.yaml
a=$(awk '$3 == "AAA" { printf "%s ", $4 % 3600 / 60 }' "$dir/ev")
b=$(awk '$3 == "BBB" { printf "%s ", $4 % 3600 / 60 }' "$dir/ev")
[ "$a" = "2 4 6 " ] || fail "start/end: AAA minutes '$a', want '2 4 6 '"
[ "$b" = "1 3 " ] || fail "limit 2: BBB minutes '$b', want '1 3 '"
in_order || fail "window: times go back"
grep -q 'limit reached' "$dir/run.err" || fail "limit: no 'limit reached' in the log"
echo "ok: start/end keep AAA minutes $a; limit 2 keeps BBB minutes $b"

# --- a date alone and end as a date: daily bars, the whole end day
printf ',Open,High,Low,Close,Volume\n2024-01-02,10,11,9,10.5,100\n2024-01-03,10,11,9,10.6,100\n2024-01-04,10,11,9,10.7,100\n2024-01-05,10,11,9,10.8,100\n' >"$dir/daily.csv"
conf daily.yaml "  - {name: fa, plugin: feed_replay, config: {files: $dir/daily.csv, symbol: AAA, symbols: \"AAA:2:0\", end: 2024-01-04}}"
run_conf daily.yaml
n=$(wc -l <"$dir/ev")
bad=$(awk '$5 != $4 + 86400 || $6 != 86400 { n++ } END { print n + 0 }' "$dir/ev")
[ "$n" = 3 ] || fail "daily: $n bars up to end 2024-01-04, want 3"
[ "$bad" = 0 ] || fail "daily: period or close time wrong: $(cat "$dir/ev")"
echo "ok: date-only CSV: daily bars (period 86400, known at the next midnight), end includes its day"

# --- bad values are refused with the key named
conf bad.yaml "  - {name: fa, plugin: feed_replay, config: {files: $dir/a.csv, symbol: AAA, start: \"02/01/2024\"}}"
"$qts" run -c "$dir/bad.yaml" >/dev/null 2>"$dir/err"
rc=$?
[ "$rc" != 0 ] && grep -q "start '02/01/2024'" "$dir/err" || fail "a bad start: exit $rc, $(tail -2 "$dir/err")"
printf 'when,what\n1,2\n' >"$dir/odd.csv"
conf odd.yaml "  - {name: fa, plugin: feed_replay, config: {files: $dir/odd.csv, symbol: AAA}}"
"$qts" run -c "$dir/odd.yaml" >"$dir/out" 2>"$dir/err"
rc=$?
[ "$rc" = 2 ] && grep -q "cannot tell the format" "$dir/out" || fail "an unknown CSV: exit $rc, $(tail -2 "$dir/err")"
# qts check agrees: it opens the slot's files as the plugin will
"$qts" check -c "$dir/odd.yaml" >"$dir/out" 2>&1
rc=$?
[ "$rc" = 2 ] && grep -q "data $dir/odd.csv: BAD: .*cannot tell the format" "$dir/out" ||
    fail "qts check of an unknown CSV: exit $rc, $(grep -i data "$dir/out")"
conf gone.yaml "  - {name: fa, plugin: feed_replay, config: {files: \"$dir/a.csv,$dir/gone.csv\", symbol: AAA}}"
"$qts" check -c "$dir/gone.yaml" >"$dir/out" 2>&1
rc=$?
[ "$rc" = 2 ] && grep -q "data $dir/gone.csv: MISSING" "$dir/out" && grep -q "data $dir/a.csv: ok" "$dir/out" ||
    fail "qts check of a missing data file: exit $rc, $(grep -i data "$dir/out")"
echo "ok: a bad start and a CSV of unknown columns are refused; qts check names a bad or missing data file"

# --- real data: FXCM GBP/USD bid and ask minute bars (same times) in two slots
data=../shared/data/bars
if [ -f "$data/fxcm_gbpusd-m1-bid-2012.csv" ] && [ -f "$data/fxcm_gbpusd-m1-ask-2012.csv" ]; then
    conf real.yaml "  - {name: bid, plugin: feed_replay, config: {files: $PWD/$data/fxcm_gbpusd-m1-bid-2012.csv, symbol: AAA, symbols: \"AAA:5:0\", start: 2012-02-01, end: 2012-02-01}}
  - {name: ask, plugin: feed_replay, config: {files: $PWD/$data/fxcm_gbpusd-m1-ask-2012.csv, symbol: BBB, symbols: \"BBB:5:0\", limit: 1000}}"
    sed -i 's/px_exp: 2, qty_exp: 0, tick_size: "0.01"/px_exp: 5, qty_exp: 0, tick_size: "0.00001"/' "$dir/real.yaml"
    run_conf real.yaml
    want=$(awk -F, 'NR > 1 && substr($1, 1, 10) == "2012-02-01"' "$data/fxcm_gbpusd-m1-bid-2012.csv" | wc -l)
    got=$(awk '$3 == "AAA"' "$dir/ev" | wc -l)
    ask=$(awk '$3 == "BBB"' "$dir/ev" | wc -l)
    [ "$got" = "$want" ] || fail "real: $got bid bars on 2012-02-01, want $want"
    [ "$ask" = 1000 ] || fail "real: $ask ask bars, want 1000 (limit)"
    in_order || fail "real: times go back"
    echo "ok: real data: $got FXCM bid bars of 2012-02-01 and $ask ask bars in two slots, in time order"
else
    echo "note: ../shared/data/bars absent: the real-data part is skipped"
fi

# --- real data nearly nine years apart: GOOG daily bars (Feb 2013) in one slot, FTX
# minute bars (2021-12-31) in another. The risk loop once ticked every period
# across the gap (2.5e9 ticks: the run never ended); now the gap costs nothing.
if [ -f "$data/goog_daily_2004_2013.csv" ] && [ -f "$data/ftx_btc-perp_20211231-20220201_1m.csv" ]; then
    conf gap.yaml "  - {name: goog, plugin: feed_replay, config: {files: $PWD/$data/goog_daily_2004_2013.csv, symbol: AAA, symbols: \"AAA:2:0\", start: 2013-02-01}}
  - {name: ftx, plugin: feed_replay, config: {files: $PWD/$data/ftx_btc-perp_20211231-20220201_1m.csv, symbol: CCC, symbols: \"CCC:1:8\", limit: 100}}"
    start_s=$(date +%s)
    real_qts=$qts
    printf '#!/bin/sh\nexec timeout 60 %s "$@"\n' "$real_qts" >"$dir/qts60" && chmod +x "$dir/qts60"
    qts=$dir/qts60 run_conf gap.yaml
    took=$(($(date +%s) - start_s))
    goog=$(awk '$3 == "AAA"' "$dir/ev" | wc -l)
    ftx=$(awk '$3 == "CCC"' "$dir/ev" | wc -l)
    want=$(grep -c '^2013-0[23]' "$data/goog_daily_2004_2013.csv")
    [ "$goog" = "$want" ] && [ "$ftx" = 100 ] || fail "gap: $goog GOOG bars (want $want), $ftx FTX bars (want 100)"
    in_order || fail "gap: times go back"
    echo "ok: two feeds nearly nine years apart: $goog + $ftx bars in $took s"
fi

[ "$failed" = 0 ] && echo "all ok"
exit "$failed"
