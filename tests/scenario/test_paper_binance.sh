#!/usr/bin/env bash
# config/paper-binance.yaml as shipped, pointed at the local Binance server
# (QTS_BINANCE_WS / QTS_BINANCE_REST) which plays the spot BTCUSDT capture
# at 20 times its recorded pace: the example strategies place orders and
# broker_paper fills them on the live book; `qts status` and the log say
# the run is live; SIGTERM stops it with exit 0 and the run's report.
set -u
. "$(dirname "$0")/scenario_lib.sh"
. "$(dirname "$0")/binance_lib.sh"
trap 'stop_server; [ -n "$host_pid" ] && kill -9 "$host_pid" 2>/dev/null; rm -rf "$dir"' EXIT
start_server --speed 20 "$bdata/spot_btcusdt_20240808.gz" "$bdata/spot_btcusdt_20240809.gz"
export QTS_BINANCE_WS=ws://127.0.0.1:$port QTS_BINANCE_REST=http://127.0.0.1:$port
export QTS_VAR_DIR=$dir/var QTS_PLUGIN_DIR=$plugins
cfg=$root/config/paper-binance.yaml
"$qts" run -c "$cfg" >"$dir/run.out" 2>"$dir/run.err" &
host_pid=$!
for _ in $(seq 100); do
    [ -S "$dir/var/qts.sock" ] && break
    sleep 0.1
done
sleep 12
"$qts" status -c "$cfg" --json >"$dir/status" 2>&1
kill -TERM "$host_pid"
wait "$host_pid"
rc=$?
host_pid=
run=$dir/var/runs/latest
fills=$(($(wc -l <"$run/fills.csv" 2>/dev/null || echo 1) - 1))
orders=$(grep -c . "$run/decisions.csv" 2>/dev/null || echo 0)
events=$(grep -o '"events":[0-9]*' "$dir/status" | head -1 | grep -o '[0-9]*$')
echo "exit $rc; events at 12 s ${events:-none}; decisions $orders; fills $fills"
if [ "$rc" -ne 0 ]; then
    echo "FAIL: SIGTERM: exit $rc, expected 0"; tail -5 "$dir/run.err"; failed=1
elif ! grep -q '"mode":"paper"' "$dir/status" || [ -z "$events" ] || [ "$events" -le 1000 ]; then
    echo "FAIL: qts status does not show a paper run with live events:"; head -20 "$dir/status"; failed=1
elif ! grep -q "live: connected to ws://127.0.0.1:$port" "$dir/run.err" ||
    ! grep -q "BTCUSDT: book synchronised from a snapshot" "$dir/run.err"; then
    echo "FAIL: the log does not say the feed is live and synchronised"; failed=1
elif [ "$fills" -le 0 ]; then
    echo "FAIL: no fills in $run/fills.csv"; tail -5 "$dir/run.err"; failed=1
elif [ ! -s "$run/summary.json" ] || [ ! -s "$run/report.html" ]; then
    echo "FAIL: no summary.json or report.html in the run directory"; ls "$run"; failed=1
else
    echo "ok: paper trading on the live Binance stream: orders filled, report written, exit 0"
fi

# a paper run with no source of market data is refused at start
rm -rf "$dir/var"
sed -e '/^feeds:/,/^broker:/{/^broker:/!d}' -e "s#\.\./strategies#$root/strategies#" "$cfg" \
    >"$dir/nofeed.yaml"
"$qts" run -c "$dir/nofeed.yaml" >"$dir/out" 2>"$dir/err"
rc=$?
if [ "$rc" -eq 0 ] || ! grep -q "mode paper: no market data would arrive" "$dir/err"; then
    echo "FAIL: a paper run without a feed: exit $rc"; tail -3 "$dir/err"; failed=1
else
    echo "ok: a paper run without a data source is refused at start (exit $rc): $(grep -o 'no market data would arrive[^;]*' "$dir/err" | head -1)"
fi
exit $failed
