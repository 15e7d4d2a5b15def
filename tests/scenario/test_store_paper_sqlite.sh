#!/usr/bin/env bash
# A paper run (the synthetic feed paced in real time, stopped with SIGTERM)
# into a SQLite store: SQL reproduces its summary as for a replay (fills,
# per-strategy realized PnL from strategy_performance, hourly_pnl summing to
# the ledger) and ohlcv_1m equals the bars computed from the trade prints it
# wrote to tick_data (store.ticks auto: trades and quotes in paper).
set -u
. "$(dirname "$0")/scenario_lib.sh"
. "$(dirname "$0")/store_run_lib.sh"
trap '[ -n "${pid:-}" ] && kill -TERM $pid 2>/dev/null; rm -rf "$dir"' EXIT
command -v sqlite3 >/dev/null || { echo "skipped: needs the sqlite3 shell"; exit 77; }
command -v python3 >/dev/null || { echo "skipped: needs python3 (reads summary.json)"; exit 77; }
db=$dir/var/qts.db
store_yaml="  plugin: store_sqlite
  config: {path: qts.db}"
q() { sqlite3 "$db" "$1"; }
bucket_sql="(time - time % 60000000000)"

feed_rate=3000 write_store_config 100000000 auto
sed -i 's/^mode: replay$/mode: paper/' "$dir/qts.yaml"
"$qts" run -c "$dir/qts.yaml" >"$dir/run.out" 2>"$dir/run.err" &
pid=$!
sleep 12
kill -TERM $pid
wait $pid || fail "the paper run exited $? on SIGTERM"
pid=
run_dir=$(readlink -f "$dir/var/runs/latest")
run=$(basename "$run_dir")
[ "$(q "SELECT mode FROM runs WHERE run_id = '$run'")" = paper ] || fail "run $run is not recorded as paper"
check_run "$run" "$run_dir"   # a paper run ends with SIGTERM: done
check_bars "$run"
n=$(q "SELECT count(*) FROM tick_data WHERE run_id = '$run' AND kind = 2")
[ "$n" -gt 0 ] || fail "no top-of-book rows in tick_data for a paper run"
[ "$failed" = 0 ] && echo "ok: paper run $run: SQL reproduces its summary"
exit $failed
