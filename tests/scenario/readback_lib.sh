# readback_lib.sh — sourced by test_store_readback_{sqlite,postgres}.sh
# (after scenario_lib.sh): what the host reads back from its store, checked
# as a user would (run files, log lines, SQL). The caller sets:
#   store_yaml       the `store:` section's plugin and config lines
#   feed_store_conf  the config map of a feed_store slot reading that store
#   q                a function running one SQL query, rows as a|b|c
#   ts_sql           SQL turning a time column ($1) into ns since the epoch
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
pid=
fail() {
    echo "FAIL: $*"
    for f in "$dir"/*.err; do [ -f "$f" ] && { echo "== $f"; grep -v ' DEBUG ' "$f" | tail -n 12; }; done
    failed=1
}
cp "$here"/readback_once.lua "$here"/readback_history.lua "$here"/readback_limits.lua "$dir/"

# write_cfg MODE FEED_LINE STRATEGY_LINE [MORE STORE LINES]
write_cfg() {
    cat >"$dir/qts.yaml.new" <<YAML
mode: $1
host_id: rb
log: {level: info}
paths: {var_dir: $dir/var}
plugins: {dir: $plugins}
instruments:
  - {symbol: SYNTH, tick_size: "0.01"}
  - {symbol: HIST, tick_size: "0.01"}
  - {symbol: FS, px_exp: 2, qty_exp: 5, tick_size: "0.01", lot_size: "0.00001", min_qty: "0.00001"}
feeds:
  - $2
broker:
  plugin: broker_paper
  config: {seed: 1, order_latency_ns: 1000000, maker_fee_bps: 1, taker_fee_bps: 5, allow_short: true}
store:
$store_yaml
${4:-}
account: {initial_cash: "100000"}
strategies:
  dir: $dir
  list:
    - $3
YAML
    mv "$dir/qts.yaml.new" "$dir/qts.yaml"
}

n=0
# start: `qts run` in the background ($pid, $dir/runN.out/.err)
start() {
    n=$((n + 1))
    "$qts" run -c "$dir/qts.yaml" >"$dir/run$n.out" 2>"$dir/run$n.err" &
    pid=$!
}
# wait_for SECONDS WHAT COMMAND...: until the command succeeds
wait_for() {
    local secs=$1 what=$2
    shift 2
    for _ in $(seq $((secs * 10))); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    fail "not within $secs s: $what"
    return 1
}
latest_run() { basename "$(readlink -f "$dir/var/runs/latest")"; }
pos_of() { q "SELECT CAST(qty AS INTEGER) FROM positions WHERE run_id = '$1' AND symbol = '$2'"; }
pos_is() { [ "$(pos_of "$1" SYNTH)" = "$2" ]; }
# new_run_since RUN: runs/latest is another run, its restore.json written
new_run_since() {
    local r
    r=$(latest_run)
    [ -n "$r" ] && [ "$r" != "$1" ] && test -s "$dir/var/runs/$r/restore.json"
}
restore_get() { # restore_get RUN EXPR: EXPR over the run's restore.json (d)
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' \
        "$dir/var/runs/$1/restore.json" "$2"
}

# 1. kill -9 of a paper run, restart: its positions come back from the store
check_restore() {
    local paper="name: demo
    plugin: feed_synthetic
    config: {symbols: SYNTH, events: 0, rate: 200, speed: 1}"
    local once='{name: once, file: readback_once.lua, symbols: [SYNTH], params: {qty: 3}}'
    write_cfg paper "$paper" "$once"
    start
    wait_for 20 "the first paper run's directory" new_run_since none || return
    local run1
    run1=$(latest_run)
    wait_for 30 "the first run's position in the store" pos_is $run1 3 || return
    kill -KILL "$pid"; wait "$pid" 2>/dev/null; pid=
    echo "ok: paper run $run1 bought 3 SYNTH (positions row), then kill -9"

    start
    wait_for 20 "the restarted run" new_run_since $run1 || return
    local run2
    run2=$(latest_run)
    [ "$(restore_get "$run2" "d['from_run']")" = "$run1" ] || fail "run $run2 restored from '$(restore_get "$run2" "d['from_run']")', expected $run1"
    [ "$(restore_get "$run2" "[(p['symbol'], p['qty']) for p in d['positions']]")" = "[('SYNTH', 3)]" ] ||
        fail "restore.json positions: $(cat "$dir/var/runs/$run2/restore.json")"
    grep -q "restore: position symbol=SYNTH qty=3 .* from run $run1" "$dir/run$n.err" || fail "no restore log line"
    # the restarted strategy buys 3 again: the account holds 6
    wait_for 30 "run $run2 holding 3 restored + 3 bought" pos_is $run2 6 || return
    kill -TERM "$pid"; wait "$pid" 2>/dev/null || fail "SIGTERM: exit $?"; pid=
    [ "$(q "SELECT count(*) FROM fills WHERE run_id = '$run2'")" = 1 ] ||
        fail "run $run2: the restored position must not be a fill in the store"
    echo "ok: restarted run $run2 restored 3 SYNTH from $run1 (restore.json, log, positions row 6 after its own buy)"

    # a replay never inherits a paper account's positions
    write_cfg replay "name: demo
    plugin: feed_synthetic
    config: {symbols: SYNTH, events: 500}" "$once"
    "$qts" run -c "$dir/qts.yaml" >"$dir/replay.out" 2>"$dir/replay.err" || fail "replay exited $?"
    local run3
    run3=$(latest_run)
    [ "$(restore_get "$run3" "d['from_run']")" = None ] || fail "the replay restored from $(restore_get "$run3" "d['from_run']")"
    [ "$(pos_of "$run3" SYNTH)" = 3 ] || fail "replay $run3 holds $(pos_of "$run3" SYNTH) SYNTH, expected its own 3"
    echo "ok: replay $run3 restored nothing ($(restore_get "$run3" "d['why']")) and holds its own 3"

    # the next paper run continues the paper lineage, past the replay
    write_cfg paper "$paper" "$once"
    start
    wait_for 20 "the third paper run" new_run_since $run3 || return
    local run4
    run4=$(latest_run)
    [ "$(restore_get "$run4" "d['from_run']")" = "$run2" ] || fail "run $run4 restored from $(restore_get "$run4" "d['from_run']"), expected $run2"
    wait_for 30 "run $run4 holding 6 restored + 3 bought" pos_is $run4 9 || return
    kill -TERM "$pid"; wait "$pid" 2>/dev/null; pid=
    echo "ok: paper run $run4 restored 6 from paper run $run2, not from replay $run3"

    write_cfg paper "$paper" "$once" "  restore: off"
    start
    wait_for 20 "a run with store.restore: off" new_run_since $run4 || return
    local run5
    run5=$(latest_run)
    [ "$(restore_get "$run5" "d['from_run']")" = None ] || fail "store.restore: off restored from a run"
    kill -TERM "$pid"; wait "$pid" 2>/dev/null; pid=
    echo "ok: store.restore: off restores nothing"
}

# 2. ctx:history: the bars an earlier run wrote, up to the strategy's time
check_history() {
    local t1=1699900000000000000 t2=1700000000000000000
    local hist='{name: hist, file: readback_history.lua, symbols: [HIST]}'
    write_cfg replay "name: demo
    plugin: feed_synthetic
    config: {symbols: HIST, events: 3000, rate: 5, start_time_ns: $t1}" "$hist"
    "$qts" run -c "$dir/qts.yaml" >"$dir/hist1.out" 2>"$dir/hist1.err" || { fail "history run 1 exited $?"; return; }
    local nbars last_close last_t
    nbars=$(q "SELECT count(*) FROM ohlcv_1m WHERE symbol = 'HIST'")
    [ "$nbars" -ge 5 ] || { fail "the first run wrote $nbars 1-minute bars of HIST"; return; }
    last_close=$(printf '%.2f' "$(q "SELECT close FROM ohlcv_1m WHERE symbol = 'HIST' ORDER BY bucket DESC LIMIT 1")")
    last_t=$(q "SELECT $(ts_sql bucket) / 1000000000 FROM ohlcv_1m WHERE symbol = 'HIST' ORDER BY bucket DESC LIMIT 1")
    grep -q "history 1m n=0 " "$dir/hist1.err" || fail "run 1 saw history before any was written"
    write_cfg replay "name: demo
    plugin: feed_synthetic
    config: {symbols: HIST, events: 100, rate: 5, start_time_ns: $t2}" "$hist"
    "$qts" run -c "$dir/qts.yaml" >"$dir/hist2.out" 2>"$dir/hist2.err" || { fail "history run 2 exited $?"; return; }
    local nd
    nd=$(q "SELECT count(*) FROM ohlcv_1d WHERE symbol = 'HIST' AND $(ts_sql time) + 86400000000000 <= $t2")
    grep -q "history 1m n=$nbars first=[0-9]* last=$last_t last_close=$last_close 1d n=$nd\$" "$dir/hist2.err" ||
        fail "ctx:history: want n=$nbars last=$last_t last_close=$last_close 1d n=$nd; got: $(grep -o 'history 1m n=.*' "$dir/hist2.err" | head -1)"
    grep -q "history 1m n=3 gives 3 ending at $last_t; 5m: interval must be \"1m\" or \"1d\"" "$dir/hist2.err" ||
        fail "ctx:history(.., 3) / bad interval: $(grep -o 'history 1m n=3.*' "$dir/hist2.err")"
    echo "ok: ctx:history gave the $nbars 1-minute bars (last close $last_close) and $nd daily bar(s) an earlier run wrote"
}

# 3. a backtest fed from tick_data (feed_store) equals the backtest of the file
check_feed_store() {
    python3 - "$dir/trades.csv" <<'PY'
import random, sys
random.seed(7)
t, px = 1723075200000, 60000.0
with open(sys.argv[1], 'w') as f:
    f.write('time,price,qty\n')
    for i in range(4000):
        t += random.randint(50, 900)
        px = max(1.0, px + random.choice([-1, 1]) * random.randint(0, 300) / 100)
        f.write('%d,%.2f,%.5f\n' % (t, px, random.randint(1, 200) / 1000))
PY
    local lim='{name: lim, file: readback_limits.lua, symbols: [FS]}'
    write_cfg replay "{name: file, plugin: feed_replay, config: {files: [$dir/trades.csv], symbol: FS, symbols: ['FS:2:5']}}" "$lim" "  ticks: trades"
    "$qts" run -c "$dir/qts.yaml" >"$dir/fs1.out" 2>"$dir/fs1.err" || { fail "the file's backtest exited $?"; return; }
    local r1 d1 d2
    r1=$(latest_run) d1=$(readlink -f "$dir/var/runs/latest")
    [ "$(q "SELECT count(*) FROM tick_data WHERE run_id = '$r1'")" = 4000 ] || fail "tick_data holds $(q "SELECT count(*) FROM tick_data WHERE run_id = '$r1'") rows of $r1"
    write_cfg replay "{name: db, plugin: feed_store, config: {$feed_store_conf, run: \"$r1\"}}" "$lim"
    "$qts" run -c "$dir/qts.yaml" >"$dir/fs2.out" 2>"$dir/fs2.err" || { fail "the store's backtest exited $?"; return; }
    d2=$(readlink -f "$dir/var/runs/latest")
    local nf
    nf=$(($(wc -l <"$d1/fills.csv") - 1))
    [ "$nf" -ge 20 ] || fail "the file's backtest made only $nf fills"
    grep -q "4000 events (4000 trades" "$dir/fs2.out" || fail "the store's backtest: $(grep '^run' "$dir/fs2.out")"
    cmp -s "$d1/fills.csv" "$d2/fills.csv" || fail "fills.csv differ: $(diff "$d1/fills.csv" "$d2/fills.csv" | head -5)"
    cmp -s "$d1/trades.csv" "$d2/trades.csv" || fail "trades.csv differ"
    echo "ok: a backtest fed from tick_data (feed_store, run $r1) made the same $nf fills as the file's"
}
