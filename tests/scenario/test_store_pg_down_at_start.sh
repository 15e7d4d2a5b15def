#!/usr/bin/env bash
# PostgreSQL down when the host starts: `qts run` starts and trades anyway,
# its records spill to the journal; when the server comes up (3 s into an
# 8 s paced replay) the writer applies the migrations, replays the journal
# and writes directly again. Afterwards PostgreSQL holds every fill of the
# run exactly once, the run's row says done, and nothing is left in the
# journal. The test starts its own server (it must be down at first).
set -u
. "$(dirname "$0")/scenario_lib.sh"
. "$(dirname "$0")/store_run_lib.sh"
pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
if [ -z "$pg_bin" ] || ! command -v psql >/dev/null || ! command -v python3 >/dev/null; then
    echo "skipped: needs the PostgreSQL server, psql and python3 (make test installs them)"
    rm -rf "$dir"
    exit 77
fi
chmod 755 "$dir"
pg_port=$((20000 + RANDOM % 10000))
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
pid=
cleanup() {
    [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
    as_pg "$pg_bin/pg_ctl" -D "$dir/pg" -m immediate stop >/dev/null 2>&1
    rm -rf "$dir"
}
trap cleanup EXIT
mkdir -p "$dir/pg" "$dir/pgsock"
[ "$(id -u)" -eq 0 ] && chown postgres:postgres "$dir/pg" "$dir/pgsock"
as_pg "$pg_bin/initdb" -D "$dir/pg" -U postgres -A trust --no-sync >"$dir/initdb.log" 2>&1 ||
    { cat "$dir/initdb.log"; echo "FAIL: initdb"; exit 1; }
conninfo="host=127.0.0.1 port=$pg_port user=postgres dbname=postgres connect_timeout=1"
q() { psql "$conninfo" -XAtq -c "$1"; }
store_yaml="  plugin: store_postgres
  config: {conninfo: \"$conninfo\", connect_timeout_s: 1, statement_timeout_ms: 2000}"
write_store_config 16000 none
# paced: 16,000 events at 50 per second of data time, 40 times real time = 8 s
sed -i 's/lot: "0.001"}/lot: "0.001", speed: 40}/' "$dir/qts.yaml"

"$qts" run -c "$dir/qts.yaml" >"$dir/run.out" 2>"$dir/run.err" &
pid=$!
sleep 3
kill -0 "$pid" 2>/dev/null || { fail "qts run ended with PostgreSQL down (exit $(wait $pid; echo $?))"; exit 1; }
grep -q "store unreachable at start" "$dir/run.err" || fail "no 'store unreachable at start' in the log"
as_pg "$pg_bin/pg_ctl" -D "$dir/pg" -l "$dir/pgsock/pg.log" -w -t 60 \
    -o "-p $pg_port -k $dir/pgsock -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null ||
    { fail "PostgreSQL did not start"; exit 1; }
echo "PostgreSQL up at 3 s"
wait "$pid"
rc=$?
pid=
[ "$rc" -eq 0 ] || { fail "qts run exited $rc"; exit 1; }
run_dir=$(readlink -f "$dir/var/runs/latest")
run=$(basename "$run_dir")
grep -q "migrations applied" "$dir/run.err" || fail "the writer did not migrate when the server came up"
fills=$(summary_get "$run_dir" "d['counts']['fills']")
db_fills=$(q "SELECT count(*) FROM fills WHERE run_id = '$run'")
distinct=$(q "SELECT count(DISTINCT (order_id, fill_id)) FROM fills WHERE run_id = '$run'")
echo "fills: run $fills, PostgreSQL $db_fills (distinct $distinct)"
[ "$fills" -gt 10 ] || fail "only $fills fills: the test needs a trading run"
[ "$db_fills" = "$fills" ] || fail "PostgreSQL holds $db_fills fills, the run made $fills"
[ "$distinct" = "$fills" ] || fail "duplicate fills in PostgreSQL"
[ "$(q "SELECT status FROM runs WHERE run_id = '$run'")" = done ] || fail "the run's row is not done"
[ ! -s "$dir/var/store.journal" ] || fail "records left in the journal"
[ "$failed" = 0 ] && echo "ok: started with PostgreSQL down, migrated when it came up, nothing lost or duplicated"
exit $failed
