#!/usr/bin/env bash
# Paper trading on a recording: feed_replay plays the spot BTCUSDT Binance
# capture against broker_paper at real time by default and at replay.speed
# times real time when replay.speed is a number (a dry run on a past
# market). `qts status` counts the events; the faster run sees many more in
# the same wall time.
set -u
. "$(dirname "$0")/scenario_lib.sh"
trap "cp -r \"$dir\" /tmp/keep_rs; rm -rf \"$dir\"" EXIT
data=$(cd "$(dirname "$0")/../.." && pwd)/../shared/data/binance
if [ ! -f "$data/spot_btcusdt_20240808.gz" ]; then
    echo "skip: ../shared/data/binance is absent (the Binance capture this test replays)"
    exit 77
fi

# events_after <replay section>: a paper run on the capture; writes the
# events counted by `qts status` after about 1.5 s to $dir/events (not
# printed: a command substitution's subshell would run the EXIT trap)
events_after() {
    rm -rf "$dir/var"
    cat >"$dir/qts.yaml" <<YAML
mode: paper
paths: {var_dir: $dir/var}
plugins: {dir: $plugins}
instruments:
  - {symbol: BTCUSDT, px_exp: 2, qty_exp: 8, tick_size: "0.01", lot_size: "0.00001"}
feeds:
  - {name: md, plugin: feed_replay,
     config: {files: "$data/spot_btcusdt_20240808.gz", format: binance, symbols: "BTCUSDT:2:8"}}
broker: {plugin: broker_paper}
account: {initial_cash: "1000000"}
$1
YAML
    start_host
    sleep 1.5
    "$qts" status -c "$dir/qts.yaml" --json 2>/dev/null |
        grep -o '"events":[0-9]*' | head -1 | grep -o '[0-9]*$' >"$dir/events"
    kill -TERM "$host_pid"
    wait "$host_pid"
    local rc=$?
    host_pid=
    trap 'rm -rf "$dir"' EXIT
    [ "$rc" -eq 0 ] || { echo "FAIL: SIGTERM: exit $rc"; tail -3 "$dir/run.err"; failed=1; }
}

events_after ""
real=$(cat "$dir/events")
events_after "replay: {speed: 30}"
fast=$(cat "$dir/events")
echo "events after 1.5 s: real time ${real:-none}, replay.speed 30 ${fast:-none}"
if [ -z "$real" ] || [ -z "$fast" ] || [ "$real" -le 0 ]; then
    echo "FAIL: qts status gave no event count"; failed=1
elif [ "$fast" -lt $((real * 8)) ]; then
    echo "FAIL: replay.speed 30 did not play the recording faster ($fast vs $real events)"; failed=1
elif [ "$real" -gt 5000 ]; then
    echo "FAIL: $real events in 1.5 s at real time: the recording is not paced"; failed=1
else
    echo "ok: replay.speed paces feed_replay in a paper run"
fi
exit $failed
