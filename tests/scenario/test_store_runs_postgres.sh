#!/usr/bin/env bash
# Two replays into one PostgreSQL store (store.ticks: trades): each run
# keeps every fill under its run id, `qts runs` lists both, and SQL
# reproduces each run's summary (fills, per-strategy realized PnL from
# strategy_performance, hourly_pnl summing to the ledger, ohlcv_1m equal to
# bars computed from tick_data). Runs in a private schema.
set -u
. "$(dirname "$0")/scenario_lib.sh"
. "$(dirname "$0")/store_run_lib.sh"
command -v python3 >/dev/null || { echo "skipped: needs python3 (reads summary.json)"; rm -rf "$dir"; exit 77; }
. "$(dirname "$0")/pg_schema_lib.sh"

write_store_config 30000 trades
run_once || exit 1
run1=$run dir1=$run_dir
run_once || exit 1
run2=$run dir2=$run_dir
check_run "$run1" "$dir1"
check_run "$run2" "$dir2"
check_bars "$run1"
total=$(q "SELECT count(*) FROM fills")
want=$(( $(summary_get "$dir1" "d['counts']['fills']") + $(summary_get "$dir2" "d['counts']['fills']") ))
[ "$total" = "$want" ] || fail "the store holds $total fills, the two runs made $want"
echo "ok: two runs into one database keep all $total fills"

"$qts" runs --store "postgres:$QTS_PG_CONNINFO" --schema "$schema" >"$dir/runs.out" 2>"$dir/runs.err" ||
    fail "qts runs exited $?"
for r in "$run1" "$run2"; do
    grep -q "^$r .* replay done " "$dir/runs.out" || { fail "qts runs does not list $r as done"; cat "$dir/runs.out" "$dir/runs.err"; }
done
echo "ok: qts runs lists both runs"
exit $failed
