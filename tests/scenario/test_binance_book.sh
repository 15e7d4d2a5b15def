#!/usr/bin/env bash
# feed_binance against the local Binance server (captured spot and USD-M
# messages): the book the feed rebuilds from the snapshot and the diff
# stream equals every bookTicker that carries the same update id; a
# skipped update id and a dropped connection each lead to a logged gap or
# reconnect, a new snapshot, and a matching book again; a stall loses
# nothing; a session renewed before the venue's time limit resyncs too.
set -u
. "$(dirname "$0")/scenario_lib.sh"
. "$(dirname "$0")/binance_lib.sh"
trap 'stop_server; rm -rf "$dir"' EXIT
spot="$bdata/spot_btcusdt_20240808.gz $bdata/spot_btcusdt_20240809.gz"
btc='  - {symbol: BTCUSDT, px_exp: 2, qty_exp: 8, tick_size: "0.01", lot_size: "0.00001"}'

# check <name> <min checks> <min snapshots> <min gaps>: the closing line
check() {
    local line checks differ gaps snaps
    line=$(book_line BTCUSDT)
    checks=$(echo "$line" | sed -n 's/.*against \([0-9]*\) bookTicker.*/\1/p')
    differ=$(echo "$line" | sed -n 's/.*, \([0-9]*\) differ.*/\1/p')
    gaps=$(echo "$line" | sed -n 's/.*; \([0-9]*\) gap(s).*/\1/p')
    snaps=$(echo "$line" | sed -n 's/.*, \([0-9]*\) snapshot(s).*/\1/p')
    echo "$1: ${line:-no closing line} (exit $rc)"
    if [ "$rc" -ne 0 ] || [ -z "$line" ]; then
        echo "FAIL: $1: exit $rc"; tail -5 "$dir/run.err"; failed=1
    elif [ "$differ" -ne 0 ] || [ "$checks" -lt "$2" ]; then
        echo "FAIL: $1: $checks checks, $differ differ"; grep differs "$dir/run.err" | head -3; failed=1
    elif [ "$snaps" -lt "$3" ] || [ "$gaps" -lt "$4" ]; then
        echo "FAIL: $1: $snaps snapshots, $gaps gaps (want >= $3, >= $4)"; failed=1
    else
        echo "ok: $1"
    fi
}

# 1. the stream as recorded (as fast as it is read)
start_server --speed 0 --max-messages 60000 $spot
write_binance spot BTCUSDT "$btc"
run_until_end
stop_server
check "spot BTCUSDT, 60000 messages" 500 1 0
# the server pings every second; libwebsockets answers with a pong
if ! grep -q "pongs received: [1-9]" "$dir/srv.log"; then
    echo "FAIL: the feed answered none of the server's pings"; tail -3 "$dir/srv.log"; failed=1
fi

# (fewer checks than in 1: bookTickers that arrive while a book resynchronises
# have no book to be checked against; under the sanitizers the resync is slower)
# 2. one depth diff left out: a gap, logged, and a resync
start_server --speed 0 --max-messages 60000 --skip-at 20000 $spot
write_binance spot BTCUSDT "$btc"
run_until_end
stop_server
check "one update id skipped" 200 2 1
if ! grep -q "BTCUSDT: depth gap (expected U=" "$dir/run.err"; then
    echo "FAIL: the skipped update id was not logged as a gap"; failed=1
fi

# 3. the connection dropped: reconnect, every book resynchronises
start_server --speed 0 --max-messages 60000 --drop-after 20000 $spot
write_binance spot BTCUSDT "$btc"
run_until_end
stop_server
check "connection dropped" 200 2 0
if ! grep -q "connection lost" "$dir/run.err" || ! grep -q "client connected (2)" "$dir/srv.log"; then
    echo "FAIL: the drop was not logged, or the feed did not reconnect"; failed=1
fi

# 4. the server stalls for 2 s: nothing is lost, no resync is needed
start_server --speed 0 --max-messages 40000 --stall-at 20000 --stall-ms 2000 $spot
write_binance spot BTCUSDT "$btc"
run_until_end
stop_server
check "a 2 s stall" 400 1 0
if ! grep -q "stall: 2000 ms" "$dir/srv.log"; then
    echo "FAIL: the server did not stall"; failed=1
fi

# 5. sessions renewed before the venue's limit (24 h at Binance; 1 s here)
start_server --speed 40 --max-messages 30000 $spot
write_binance spot BTCUSDT "$btc"
sed -i 's/reconnect_min_ms: 100}/reconnect_min_ms: 100, session_max_s: 1}/' "$dir/qts.yaml"
run_until_end
stop_server
check "sessions renewed every second" 300 2 0
if ! grep -q "client connected (2)" "$dir/srv.log"; then
    echo "FAIL: the session was not renewed"; failed=1
fi

# 6. USD-M futures: pu continuity
start_server --market usdm --speed 0 --max-messages 40000 "$bdata/usdm_btcusdt_20240808.gz"
write_binance usdm BTCUSDT '  - {symbol: BTCUSDT, px_exp: 1, qty_exp: 3, tick_size: "0.1", lot_size: "0.001"}'
run_until_end
stop_server
check "USD-M BTCUSDT, 40000 messages" 100 1 0
exit $failed
