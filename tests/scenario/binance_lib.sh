# binance_lib.sh — sourced by the feed_binance scenario tests after
# scenario_lib.sh: the local Binance server (tests/tools/binance_server.py)
# on the captures of ../shared/data/binance, and a paper configuration that
# points feed_binance at it. Skips (77) when the captures are absent.
root=$(cd "$(dirname "$0")/../.." && pwd)
bdata=$root/../shared/data/binance
if [ ! -f "$bdata/spot_btcusdt_20240808.gz" ]; then
    echo "skip: ../shared/data/binance is absent (the Binance captures the local server serves)"
    exit 77
fi
srv_pid=

# start_server <options and files>: the server in the background, its port
# in $port, its log in $dir/srv.log
start_server() {
    rm -f "$dir/port"
    python3 "$root/tests/tools/binance_server.py" --port-file "$dir/port" "$@" 2>"$dir/srv.log" &
    srv_pid=$!
    for _ in $(seq 200); do
        [ -s "$dir/port" ] && break
        sleep 0.1
    done
    port=$(cat "$dir/port" 2>/dev/null)
    [ -n "$port" ] || { echo "FAIL: the local Binance server did not start"; cat "$dir/srv.log"; exit 1; }
}
stop_server() {
    [ -n "$srv_pid" ] && kill "$srv_pid" 2>/dev/null && wait "$srv_pid" 2>/dev/null
    srv_pid=
}

# write_binance <market> <symbols> <instruments lines> [strategies section]
write_binance() {
    cat >"$dir/qts.yaml" <<YAML
mode: paper
paths: {var_dir: $dir/var}
plugins: {dir: $plugins}
instruments:
$3
feeds:
  - {name: md, plugin: feed_binance,
     config: {market: $1, symbols: "$2", ws_url: "ws://127.0.0.1:$port",
              rest_url: "http://127.0.0.1:$port", reconnect_min_ms: 100}}
broker: {plugin: broker_paper, config: {allow_short: true}}
account: {initial_cash: "1000000"}
${4:-}
YAML
}

# run_until_end [seconds]: qts run until the server has sent its last
# message (or the time is up), then SIGTERM; exit code in $rc
run_until_end() {
    "$qts" run -c "$dir/qts.yaml" >"$dir/run.out" 2>"$dir/run.err" &
    local q=$!
    for _ in $(seq $((${1:-60} * 10))); do
        grep -q "end of data" "$dir/srv.log" && break
        kill -0 "$q" 2>/dev/null || break
        sleep 0.1
    done
    sleep 0.5
    kill -TERM "$q" 2>/dev/null
    wait "$q"
    rc=$?
}

# book_line <symbol>: the feed's closing line for the symbol
book_line() {
    grep -o "$1: [0-9]* frames; book checked against [0-9]* bookTicker(s), [0-9]* differ; [0-9]* gap(s), [0-9]* snapshot(s)" "$dir/run.err" | tail -1
}
