#!/usr/bin/env bash
# `qts status` for people and /metrics' per-strategy and queue series, on a
# paper host with a cache (cache_memory) and a store (store_sqlite) that
# holds one position and two working orders (dashboard_orders.lua):
# - `qts status` prints the summary (host and mode, safety, pnl, the
#   position, both working orders with their limits, the strategy, the
#   feed), the same facts as `qts status --json`, and no JSON;
# - after `qts kill` its safety line says the switch is on, by whom, why;
# - /metrics has qts_lua_callback_seconds for the strategy with a count,
#   qts_strategy_events_total, qts_store_queue_depth, qts_cache_queue_depth
#   and qts_cache_up 1, and promtool accepts the page when installed;
# - without the secret http_token the dashboard refuses commands (403), and
#   its WebSocket refuses pages of other sites (Origin).
set -u
. "$(dirname "$0")/scenario_lib.sh"
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; failed=1; }
command -v curl >/dev/null || { echo "SKIP: curl is not installed"; exit 77; }
here=$(cd "$(dirname "$0")" && pwd)

cat >"$dir/qts.yaml" <<YAML
mode: paper
host_id: desk-7
paths: {var_dir: $dir/var}
plugins: {dir: $plugins}
http: {listen: "127.0.0.1:0"}
instruments:
  - {symbol: SYNTH, tick_size: "0.01"}
feeds:
  - {name: md, plugin: feed_synthetic, config: {symbols: SYNTH, rate: 200, seed: 7}}
broker: {plugin: broker_paper}
cache: {plugin: cache_memory}
store: {plugin: store_sqlite, config: {path: qts.db}}
strategies:
  dir: $here
  list:
    - {name: resting, file: dashboard_orders.lua, symbols: [SYNTH], params: {symbol: SYNTH}}
YAML
start_host
for _ in $(seq 100); do
    "$qts" status -c "$dir/qts.yaml" >"$dir/status" 2>&1
    grep -q '^working orders (2)$' "$dir/status" && break
    sleep 0.1
done
cat "$dir/status"
grep -q '^host       desk-7  mode paper  run [0-9]' "$dir/status" || fail "no host line"
grep -q '^safety     NORMAL, trading allowed$' "$dir/status" || fail "no safety line"
grep -q '^pnl        equity [0-9.]*  total -\?[0-9.]*  realized' "$dir/status" || fail "no pnl line"
grep -q '^positions (1 open)$' "$dir/status" || fail "no positions header"
grep -Eq '^  SYNTH +2 +[0-9.]+ +[0-9.]+ +-?[0-9.]+$' "$dir/status" || fail "no SYNTH position of 2"
grep -q '^working orders (2)$' "$dir/status" || fail "not 2 working orders"
"$qts" status -c "$dir/qts.yaml" --json >"$dir/status.json"
n=0
for id_limit in $(python3 -c 'import json, sys
for o in json.load(open(sys.argv[1]))["result"]["orders"]: print(str(o["id"]) + ":" + o["limit"])' "$dir/status.json"); do
    grep -Eq "^  ${id_limit%%:*} +1 +SYNTH .* ${id_limit##*:} +MONITORING$" "$dir/status" ||
        fail "order ${id_limit%%:*} (limit ${id_limit##*:}) not listed as in --json"
    n=$((n + 1))
done
[ "$n" = 2 ] || fail "qts status --json lists $n orders, not 2"
grep -Eq '^  resting +running +events [0-9]+  errors 0$' "$dir/status" || fail "no strategy line"
grep -Eq '^  md +running$' "$dir/status" || fail "no feed line"
grep -q '[{}]' "$dir/status" && fail "the summary prints JSON"
echo "ok: qts status prints the summary"

"$qts" kill -c "$dir/qts.yaml" --by drill --reason "status test" >/dev/null || fail "qts kill"
"$qts" status -c "$dir/qts.yaml" >"$dir/status" 2>&1
grep -q '^safety     NORMAL, trading NOT allowed, KILL SWITCH ON by drill (uid [0-9]* [a-z]*): status test$' "$dir/status" ||
    fail "the summary does not show the kill: $(grep safety "$dir/status")"

port=$(grep -o 'serving /metrics on 127.0.0.1:[0-9]*' "$dir/run.err" | grep -o '[0-9]*$')
sleep 1.2 # the page is rendered once a second
curl -sf "http://127.0.0.1:$port/metrics" >"$dir/page" || fail "no /metrics"
grep -Eq '^qts_lua_callback_seconds_count\{strategy="resting"\} [1-9][0-9]*$' "$dir/page" ||
    fail "no Lua callback time for the strategy: $(grep lua_callback "$dir/page" | tail -2)"
grep -q '^qts_lua_callback_seconds_bucket{strategy="resting",le="+Inf"}' "$dir/page" || fail "no +Inf bucket"
grep -Eq '^qts_strategy_events_total\{strategy="resting"\} [1-9]' "$dir/page" || fail "no strategy events"
grep -Eq '^qts_strategy_errors_total\{strategy="resting"\} 0$' "$dir/page" || fail "no strategy errors"
grep -Eq '^qts_store_queue_depth [0-9]+$' "$dir/page" || fail "no store queue depth"
grep -Eq '^qts_cache_queue_depth [0-9]+$' "$dir/page" || fail "no cache queue depth"
grep -q '^qts_cache_up 1$' "$dir/page" || fail "the cache is not up on /metrics"
grep -Eq '^qts_cache_writes_total\{outcome="ok"\} [1-9]' "$dir/page" || fail "no cache writes"
if command -v promtool >/dev/null; then
    promtool check metrics <"$dir/page" >"$dir/promtool" 2>&1 || { fail "promtool check metrics"; cat "$dir/promtool"; }
fi
echo "ok: /metrics has the per-strategy, store and cache series"

# the dashboard without the secret http_token: read-only; its WebSocket
# only for pages of this server
grep -q 'kill and resume off (no secret http_token)' "$dir/run.err" || fail "the log does not say the dashboard is read-only"
code=$(curl -s -o "$dir/post" -w '%{http_code}' -X POST -H 'Authorization: Bearer x' -d '{"reason":"r"}' "http://127.0.0.1:$port/api/resume")
[ "$code" = 403 ] && grep -q 'http_token' "$dir/post" || fail "a POST without the secret answered $code: $(cat "$dir/post")"
[ "$("$qts" status -c "$dir/qts.yaml" --json | grep -o '"kill":[a-z]*' | head -1)" = '"kill":true' ] || fail "the refused resume released the switch"
ws() {
    curl -s -o /dev/null --max-time 2 -w '%{http_code}' -H 'Connection: Upgrade' -H 'Upgrade: websocket' \
        -H 'Sec-WebSocket-Version: 13' -H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==' \
        -H 'Sec-WebSocket-Protocol: qts-push' "$@" "http://127.0.0.1:$port/ws"
}
[ "$(ws -H "Origin: http://127.0.0.1:$port")" = 101 ] || fail "the page's own WebSocket is refused"
[ "$(ws -H 'Origin: http://elsewhere.example')" = 101 ] && fail "a WebSocket from another site's page is accepted"
echo "ok: the dashboard is read-only without its token and its WebSocket same-origin"
exit $failed
