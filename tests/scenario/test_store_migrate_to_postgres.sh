#!/usr/bin/env bash
# `qts migrate --from sqlite:PATH --store postgres:...` moves what a run
# wrote into SQLite to PostgreSQL (docs/storage.md, "Moving from SQLite to
# PostgreSQL"): a trading replay into SQLite (store.ticks: trades), then
# the copy into a private schema: every record table holds as many rows of
# the host in both, the rollups say the same realized PnL, and a second
# copy adds nothing.
set -u
. "$(dirname "$0")/scenario_lib.sh"
. "$(dirname "$0")/store_run_lib.sh"
command -v sqlite3 >/dev/null || { echo "skipped: needs the sqlite3 shell"; rm -rf "$dir"; exit 77; }
. "$(dirname "$0")/pg_schema_lib.sh"
db=$dir/var/qts.db
store_yaml="  plugin: store_sqlite
  config: {path: qts.db}"
pq() { q "$1"; }
sq() { sqlite3 "$db" "$1"; }

write_store_config 20000 trades
run_once || exit 1
fills=$(sq "SELECT count(*) FROM fills")
[ "$fills" -gt 20 ] || fail "the replay made only $fills fills"

migrate() {
    "$qts" migrate --store "postgres:$QTS_PG_CONNINFO" --schema "$schema" --host-id sc \
        --from "sqlite:$db" >"$dir/migrate.out" 2>"$dir/migrate.err" ||
        { fail "qts migrate --from exited $?: $(cat "$dir/migrate.err")"; return 1; }
}
tables="runs strategies risk_configs positions orders order_events fills t_ledger decision_log
        tick_data ohlcv_1m ohlcv_1d feedback_data execution_logs config account_history"
compare() {
    local t where s p
    for t in $tables; do
        where="WHERE host_id = 'sc'"
        case $t in ohlcv_*) where= ;; esac
        s=$(sq "SELECT count(*) FROM $t $where")
        p=$(pq "SELECT count(*) FROM $t $where")
        [ "$s" = "$p" ] || fail "$1: $t holds $s rows in SQLite, $p in PostgreSQL"
        printf '%s=%s ' "$t" "$p"
    done
    echo
}
migrate || exit 1
echo "counts after the copy: $(compare "first copy")"
grep -q "every table copied from sqlite:$db" "$dir/migrate.out" || fail "no final line: $(cat "$dir/migrate.out")"
want=$(printf '%.4f' "$(sq "SELECT coalesce(sum(total_pnl), 0) FROM strategy_performance WHERE host_id = 'sc'")")
got=$(printf '%.4f' "$(pq "SELECT coalesce(sum(total_pnl), 0) FROM strategy_performance WHERE host_id = 'sc'")")
[ "$want" = "$got" ] || fail "strategy_performance: SQLite $want, PostgreSQL $got"
hs=$(printf '%.4f' "$(pq "SELECT coalesce(sum(realized_pnl), 0) FROM hourly_pnl WHERE host_id = 'sc'")")
[ "$hs" = "$got" ] || fail "hourly_pnl sums to $hs in PostgreSQL, strategy_performance to $got"
for v in "fills:sum(price * qty)" "fills:sum(fee)" "tick_data:sum(price * volume)" "orders:sum(filled_qty)"; do
    t=${v%%:*} e=${v#*:}
    a=$(printf '%.6f' "$(sq "SELECT $e FROM $t WHERE host_id = 'sc'")")
    b=$(printf '%.6f' "$(pq "SELECT $e FROM $t WHERE host_id = 'sc'")")
    [ "$a" = "$b" ] || fail "$t $e: SQLite $a, PostgreSQL $b"
done
[ "$(pq "SELECT status FROM runs WHERE run_id = '$run'")" = done ] || fail "the run's row did not come along"
echo "ok: $fills fills and every other table moved with equal counts and equal sums; rollups rebuilt (realized $got)"
migrate || exit 1
compare "second copy" >/dev/null
echo "ok: a second qts migrate --from adds nothing"
exit $failed
