# cluster_lib.sh — sourced by the scenario tests of the shared cache tier
# (docs/cache.md, docs/operations.md "Several hosts"): hosts in paper mode
# on the synthetic feed, each writing to the Redis of scripts/with-services.
# Skips (exit 77) without QTS_REDIS_URL or redis-cli.
. "$(dirname "$0")/scenario_lib.sh"
if [ -z "${QTS_REDIS_URL:-}" ] || ! command -v redis-cli >/dev/null; then
    echo "SKIP: needs a Redis server (run under scripts/with-services) and redis-cli"
    rm -rf "$dir"
    exit 77
fi
strategies_dir=$(cd "$(dirname "$0")/../.." && pwd)/strategies
rcli() { redis-cli -u "$QTS_REDIS_URL" "$@"; }
# a namespace of this test's own: parallel tests on one Redis never meet
ns="t$$x$RANDOM"
shared="$ns:shared:"

# write_host <name> <symbol> [extra YAML] [redis url]: $dir/<name>/qts.yaml,
# a paper host named <name> (prefix $ns:<name>:) trading <symbol> with the
# market maker, a shared budget and cluster claims.
write_host() {
    local name=$1 sym=$2 extra=${3:-} url=${4:-$QTS_REDIS_URL}
    mkdir -p "$dir/$name"
    cat >"$dir/$name/qts.yaml" <<YAML
mode: paper
host_id: $name
paths: {var_dir: $dir/$name/var}
plugins: {dir: $plugins}
instruments:
  - {symbol: $sym, tick_size: "0.01"}
feeds:
  - {name: md, plugin: feed_synthetic, config: {symbols: $sym, rate: 400, seed: $((RANDOM % 1000 + 1))}}
broker: {plugin: broker_paper, config: {allow_short: true}}
account: {initial_cash: "1000000"}
cache:
  plugin: cache_redis
  config: {url: "$url", prefix: "$ns:$name:", shared_prefix: "$shared",
           budget_lease_ttl_ms: 3000}
cluster: {claim: true, ttl_ms: 1500}
strategies:
  dir: $strategies_dir
  list:
    - {name: mm_$name, file: market_maker.lua, symbols: [$sym],
       params: {symbol: $sym, qty: 1, half_spread: 1, max_position: 50}}
$extra
YAML
}

# start <name>: runs host <name> in the background (pid in pid_<name>)
# until its admin socket is up.
start() {
    local name=$1
    "$qts" run -c "$dir/$name/qts.yaml" >"$dir/$name/run.out" 2>"$dir/$name/run.err" &
    eval "pid_$name=$!"
    for _ in $(seq 100); do
        [ -S "$dir/$name/var/qts.sock" ] && return 0
        sleep 0.1
    done
    echo "FAIL: host $name did not start"; cat "$dir/$name/run.err"; exit 1
}
# stop <name>: SIGTERM and wait; the exit status in $stopped_rc
stop() {
    local p
    eval "p=\${pid_$1:-}"
    stopped_rc=
    [ -n "$p" ] || return 0
    kill -TERM "$p" 2>/dev/null
    wait "$p" 2>/dev/null
    stopped_rc=$?
    eval "pid_$1="
}
cleanup_hosts() {
    for v in $(compgen -v pid_); do
        [ -n "${!v}" ] && kill -KILL "${!v}" 2>/dev/null && wait "${!v}" 2>/dev/null
    done
    rcli --scan --pattern "$ns:*" 2>/dev/null | xargs -r -n 500 redis-cli -u "$QTS_REDIS_URL" UNLINK >/dev/null
    rm -rf "$dir"
}
trap cleanup_hosts EXIT
