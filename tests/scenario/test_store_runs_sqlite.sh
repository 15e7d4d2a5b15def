#!/usr/bin/env bash
# Two replays into one SQLite store (store.ticks: trades): each run keeps
# every fill under its run id, `qts runs` lists both, and SQL over the store
# reproduces each run's summary (fills, per-strategy realized PnL from
# strategy_performance, hourly_pnl summing to the ledger, ohlcv_1m equal to
# bars computed from tick_data).
set -u
. "$(dirname "$0")/scenario_lib.sh"
. "$(dirname "$0")/store_run_lib.sh"
trap 'rm -rf "$dir"' EXIT
command -v sqlite3 >/dev/null || { echo "skipped: needs the sqlite3 shell"; exit 77; }
command -v python3 >/dev/null || { echo "skipped: needs python3 (reads summary.json)"; exit 77; }
db=$dir/var/qts.db
store_yaml="  plugin: store_sqlite
  config: {path: qts.db}"
q() { sqlite3 "$db" "$1"; }
bucket_sql="(time - time % 60000000000)"

write_store_config 30000 trades
run_once || exit 1
run1=$run dir1=$run_dir
run_once || exit 1
run2=$run dir2=$run_dir
[ "$run1" != "$run2" ] || fail "two runs got the same id"
check_run "$run1" "$dir1"
check_run "$run2" "$dir2"
check_bars "$run2"
total=$(q "SELECT count(*) FROM fills")
want=$(( $(summary_get "$dir1" "d['counts']['fills']") + $(summary_get "$dir2" "d['counts']['fills']") ))
[ "$total" = "$want" ] || fail "the store holds $total fills, the two runs made $want"
echo "ok: two runs into one database keep all $total fills"

"$qts" runs --store "sqlite:$db" >"$dir/runs.out" 2>"$dir/runs.err" || fail "qts runs exited $?"
for r in "$run1" "$run2"; do
    grep -q "^$r .* replay done " "$dir/runs.out" || { fail "qts runs does not list $r as done"; cat "$dir/runs.out"; }
done
[ "$(head -2 "$dir/runs.out" | tail -1 | cut -d' ' -f1)" = "$run2" ] || fail "qts runs: newest run not first"
echo "ok: qts runs lists both runs, newest first"
exit $failed
