#!/usr/bin/env bash
# Two hosts on one PostgreSQL database (docs/operations.md "Several hosts",
# docs/adr/0022-shared-tier.md): maintenance and the rollup refresh run on
# one host at a time under an advisory lock, and the rollups cover every
# host's rows. Runs in a private schema (the locks are per schema).
# 1. while another session holds both locks, host pa's replay skips every
#    turn and says so once per task, naming the holder; no turn of it is in
#    qts_maintenance_log;
# 2. pa and pb replay at the same time on different instruments: no two
#    turns of one task ever overlap (qts_maintenance_log), and hourly_pnl
#    and daily_metrics hold the rows of both hosts, summing to each host's
#    ledger (pa's first run included: its skipped turns were done by later
#    turns).
set -u
. "$(dirname "$0")/scenario_lib.sh"
. "$(dirname "$0")/pg_schema_lib.sh"
command -v timeout >/dev/null || { echo "skipped: needs timeout(1)"; exit 77; }

# write_host <name> <symbol> <seed>
write_host() {
    mkdir -p "$dir/$1"
    cat >"$dir/$1/qts.yaml" <<YAML
mode: replay
host_id: $1
paths: {var_dir: $dir/$1/var}
plugins: {dir: $plugins}
instruments:
  - {symbol: $2, px_exp: 2, qty_exp: 5, tick_size: "0.01", lot_size: "0.00001", min_qty: "0.00001"}
feeds:
  - name: md
    plugin: feed_synthetic
    config: {symbols: $2, seed: $3, rate: 5, events: 30000, start_price: "60000",
             px_exp: 2, qty_exp: 5, tick: "0.01", lot: "0.001"}
broker: {plugin: broker_paper, config: {seed: 1, allow_short: true}}
store:
  plugin: store_postgres
  config: {conninfo: "$QTS_PG_CONNINFO", schema: $schema, host_id: $1}
account: {initial_cash: "100000"}
strategies:
  dir: ${QTS_SOURCE_DIR:-.}/strategies
  list:
    - {name: mm_$1, file: market_maker.lua, symbols: [$2],
       params: {symbol: $2, qty: 0.002, half_spread: 3, max_position: 0.01}}
risk: {pool: swing, max_order_qty: 1}
YAML
}
write_host pa AAAUSD 11
write_host pb BBBUSD 22
# the schema exists before the holder locks it (migrate runs at start)
"$qts" migrate --store "postgres:$QTS_PG_CONNINFO" --schema "$schema" >/dev/null 2>&1 ||
    { echo "FAIL: qts migrate"; exit 1; }

# 1. another session holds both locks (the keys store_postgres uses)
holder_sql="SET search_path TO $schema;
SELECT pg_advisory_lock(7175002, hashtext(current_schema())), pg_advisory_lock(7175003, hashtext(current_schema()));
SELECT pg_sleep(600);"
PGAPPNAME=test-holder psql "$QTS_PG_CONNINFO" -XAtq -c "$holder_sql" >/dev/null 2>&1 &
holder=$!
for _ in $(seq 50); do
    [ "$(psql "$QTS_PG_CONNINFO" -XAtq -c "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid) WHERE l.locktype = 'advisory' AND l.granted AND a.application_name = 'test-holder'")" = 2 ] && break
    sleep 0.1
done
timeout 120 "$qts" run -c "$dir/pa/qts.yaml" >"$dir/pa/run1.out" 2>"$dir/pa/run1.err"
rc=$?
# the backend sleeps on after its client is gone: end it (its locks go with it)
psql "$QTS_PG_CONNINFO" -XAtq -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'test-holder'" >/dev/null
wait "$holder" 2>/dev/null
[ $rc -eq 0 ] || { echo "FAIL: pa's first run exited $rc"; tail -5 "$dir/pa/run1.err"; exit 1; }
for task in maintenance "rollup refresh"; do
    n=$(grep -c "store_postgres $task skipped: another host holds the lock, holder=test-holder" "$dir/pa/run1.err")
    if [ "$n" = 1 ]; then
        echo "ok: $task skipped while another session held the lock: $(grep -o "store_postgres $task skipped.*holder=test-holder ([^)]*)" "$dir/pa/run1.err")"
    else
        echo "FAIL: $n '$task skipped' lines naming test-holder"; grep store_postgres "$dir/pa/run1.err" | head -5; failed=1
    fi
done
n=$(q "SELECT count(*) FROM qts_maintenance_log")
[ "$n" = 0 ] && echo "ok: no turn ran while the locks were held" || { echo "FAIL: $n turns logged while the locks were held"; failed=1; }
l1=$(q "SELECT count(*) FROM t_ledger WHERE host_id = 'pa'")
h1=$(q "SELECT count(*) FROM hourly_pnl WHERE host_id = 'pa'")
echo "pa's first run: $l1 ledger rows, $h1 hourly_pnl rows (its refreshes were skipped)"

# 2. both hosts at once
timeout 120 "$qts" run -c "$dir/pa/qts.yaml" >"$dir/pa/run2.out" 2>"$dir/pa/run2.err" &
pa=$!
timeout 120 "$qts" run -c "$dir/pb/qts.yaml" >"$dir/pb/run.out" 2>"$dir/pb/run.err" &
pb=$!
wait $pa; rca=$?
wait $pb; rcb=$?
[ $rca -eq 0 ] && [ $rcb -eq 0 ] || { echo "FAIL: concurrent runs exited $rca/$rcb"; tail -3 "$dir/pa/run2.err" "$dir/pb/run.err"; exit 1; }
q "SELECT task, host_id, count(*) FROM qts_maintenance_log GROUP BY 1, 2 ORDER BY 1, 2" >"$dir/turns"
echo "turns (task|host|count): $(tr '\n' ' ' <"$dir/turns")"
overlap=$(q "SELECT count(*) FROM qts_maintenance_log a JOIN qts_maintenance_log b ON a.task = b.task
             AND a.id < b.id AND a.started_at < b.finished_at AND b.started_at < a.finished_at")
turns=$(q "SELECT count(*) FROM qts_maintenance_log")
if [ "$overlap" = 0 ] && [ "$turns" -gt 2 ]; then
    echo "ok: $turns turns, no two of one task overlap"
else
    echo "FAIL: $overlap overlapping turns of $turns"; failed=1
fi
skips=$(cat "$dir/pa/run2.err" "$dir/pb/run.err" | grep -c "skipped: another host holds the lock")
echo "skipped turns logged in the concurrent runs (first per task and host): $skips"
[ "$(grep -c "store_postgres rollup refresh: this host took the lock" "$dir/pa/run2.err" "$dir/pb/run.err" | awk -F: '{s += $2} END {print s}')" -ge 1 ] &&
    echo "ok: log: $(grep -h "this host took the lock" "$dir/pa/run2.err" "$dir/pb/run.err" | head -1 | grep -o 'store_postgres.*')" ||
    { echo "FAIL: no 'took the lock' log line"; failed=1; }

# rollups over both hosts, equal to each host's ledger
for h in pa pb; do
    ledger=$(q "SELECT round(coalesce(sum(realized_pnl), 0), 6), count(*) FROM t_ledger WHERE host_id = '$h'")
    hourly=$(q "SELECT round(coalesce(sum(realized_pnl), 0), 6), coalesce(sum(trades), 0) FROM hourly_pnl WHERE host_id = '$h'")
    daily=$(q "SELECT round(coalesce(sum(realized_pnl), 0), 6), coalesce(sum(trades), 0) FROM daily_metrics WHERE host_id = '$h'")
    if [ "${ledger#*|}" -gt 0 ] && [ "$hourly" = "$ledger" ] && [ "$daily" = "$ledger" ]; then
        echo "ok: host $h: hourly_pnl and daily_metrics = its ledger (pnl|fills $ledger)"
    else
        echo "FAIL: host $h: ledger $ledger, hourly_pnl $hourly, daily_metrics $daily"; failed=1
    fi
done
exit $failed
