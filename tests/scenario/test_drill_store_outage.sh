#!/usr/bin/env bash
# Drill: PostgreSQL and Redis stop in the middle of a run and come back.
# The host trades on; afterwards every fill of the run is in PostgreSQL's
# fills and t_ledger exactly once, Redis holds the run's final position,
# and `qts run` exits 0. The drill starts its own servers (stopping the
# shared ones would disturb the tests running beside it).
set -u
. "$(dirname "$0")/scenario_lib.sh"
pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
redis_server=$(command -v redis-server || true)
if [ -z "$pg_bin" ] || [ -z "$redis_server" ]; then
    echo "skipped: needs the PostgreSQL server and redis-server (make test installs them)"
    rm -rf "$dir"
    exit 77
fi
chmod 755 "$dir"
pg_port=$((20000 + RANDOM % 10000))
redis_port=$((30000 + RANDOM % 10000))
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
pid=
cleanup() {
    [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
    as_pg "$pg_bin/pg_ctl" -D "$dir/pg" -m immediate stop >/dev/null 2>&1
    redis-cli -p "$redis_port" shutdown nosave >/dev/null 2>&1
    rm -rf "$dir"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; echo "--- run.err (last 30 lines)"; tail -n 30 "$dir/run.err"; exit 1; }

mkdir -p "$dir/pg" "$dir/pgsock"
[ "$(id -u)" -eq 0 ] && chown postgres:postgres "$dir/pg" "$dir/pgsock"
pg_start() {
    as_pg "$pg_bin/pg_ctl" -D "$dir/pg" -l "$dir/pgsock/pg.log" -w -t 60 \
        -o "-p $pg_port -k $dir/pgsock -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
}
redis_start() {
    "$redis_server" --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no \
        --daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" --dir "$dir"
    for _ in $(seq 50); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && return 0; sleep 0.1; done
    return 1
}
as_pg "$pg_bin/initdb" -D "$dir/pg" -U postgres -A trust --no-sync >"$dir/initdb.log" 2>&1 ||
    { cat "$dir/initdb.log"; echo "FAIL: initdb"; exit 1; }
pg_start || { echo "FAIL: PostgreSQL did not start"; exit 1; }
as_pg "$pg_bin/createdb" -h "$dir/pgsock" -p "$pg_port" -U postgres drill
redis_start || { echo "FAIL: Redis did not start"; exit 1; }
conninfo="host=127.0.0.1 port=$pg_port user=postgres dbname=drill connect_timeout=2"
psql_q() { psql "$conninfo" -XAtq -c "$1"; }

# about 20 s of market at 2,000 events a second of real time, two trading
# strategies; the servers go away from 5 s to 10 s
cat >"$dir/qts.yaml" <<YAML
mode: replay
host_id: drill
paths:
  var_dir: $dir/var
plugins:
  dir: $plugins
instruments:
  - {symbol: BTCUSDT, px_exp: 2, qty_exp: 5, tick_size: "0.01", lot_size: "0.00001", min_qty: "0.00001"}
feeds:
  - name: demo
    plugin: feed_synthetic
    config: {symbols: BTCUSDT, seed: 42, rate: 50, speed: 40, events: 40000, start_price: "60000",
             px_exp: 2, qty_exp: 5, tick: "0.01", lot: "0.001"}
broker:
  plugin: broker_paper
  config: {seed: 1, order_latency_ns: 1000000, allow_short: true}
store:
  plugin: store_postgres
  config: {conninfo: "$conninfo", connect_timeout_s: 1, statement_timeout_ms: 2000}
cache:
  plugin: cache_redis
  config: {host: 127.0.0.1, port: $redis_port, host_id: drill, breaker_open_ms: 1000}
account: {initial_cash: "100000"}
strategies:
  dir: ${QTS_SOURCE_DIR:-.}/strategies
  list:
    - {name: ema, file: ema_cross.lua, symbols: [BTCUSDT], params: {symbol: BTCUSDT, fast: 5, slow: 20, qty: 0.01}}
    - {name: mm, file: market_maker.lua, symbols: [BTCUSDT],
       params: {symbol: BTCUSDT, qty: 0.002, half_spread: 1, max_position: 0.01}}
risk: {pool: swing}
YAML

"$qts" run -c "$dir/qts.yaml" >"$dir/run.out" 2>"$dir/run.err" &
pid=$!
sleep 5
kill -0 "$pid" 2>/dev/null || fail "the run ended before the outage (too short to drill)"
as_pg "$pg_bin/pg_ctl" -D "$dir/pg" -m fast stop >/dev/null || fail "could not stop PostgreSQL"
redis-cli -p "$redis_port" shutdown nosave >/dev/null 2>&1
echo "drill: PostgreSQL and Redis stopped at 5 s"
sleep 5
kill -0 "$pid" 2>/dev/null || fail "the run ended during the outage"
pg_start || fail "PostgreSQL did not restart"
redis_start || fail "Redis did not restart"
echo "drill: PostgreSQL and Redis back at 10 s"
# the host's long-lived keys come back while it runs (re-sent before half
# their TTL: pos:{sym} lives 1 s, so it is looked for during the run)
redis_pos=
while kill -0 "$pid" 2>/dev/null && [ -z "$redis_pos" ]; do
    key=$(redis-cli -p "$redis_port" --scan --pattern '*pos:BTCUSDT' | head -n 1)
    [ -n "$key" ] && redis_pos=$(redis-cli -p "$redis_port" --raw hgetall "$key" | tr '\n' ' ')
    sleep 0.2
done
wait "$pid"
rc=$?
pid=
[ "$rc" -eq 0 ] || fail "qts run exited $rc"

run=$dir/var/runs/latest
fills=$(($(wc -l <"$run/fills.csv") - 1))
[ "$fills" -gt 20 ] || fail "only $fills fills: the drill needs a trading run"
db_fills=$(psql_q "SELECT count(*) FROM fills WHERE host_id = 'drill'")
db_distinct=$(psql_q "SELECT count(DISTINCT (order_id, fill_id)) FROM fills WHERE host_id = 'drill'")
db_ledger=$(psql_q "SELECT count(*) FROM t_ledger")
echo "fills: run $fills, PostgreSQL fills $db_fills (distinct $db_distinct), t_ledger $db_ledger"
[ "$db_fills" = "$fills" ] || fail "PostgreSQL holds $db_fills fills, the run made $fills"
[ "$db_distinct" = "$fills" ] || fail "duplicate fills in PostgreSQL"
[ "$db_ledger" = "$fills" ] || fail "t_ledger holds $db_ledger rows, the run made $fills fills"
grep -qi "spill\|unreachable\|reconnect\|connection" "$dir/run.err" ||
    fail "the log does not mention the store outage"

[ -n "$redis_pos" ] || fail "no pos:BTCUSDT key in Redis after it came back"
echo "redis pos:BTCUSDT after the outage: $redis_pos"
echo "ok: nothing lost or duplicated across a PostgreSQL and Redis outage"
exit 0
