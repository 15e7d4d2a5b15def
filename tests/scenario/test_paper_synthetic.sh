#!/usr/bin/env bash
# Paper trading on the shipped synthetic feed: the host pulls the feed from
# its loop at the feed's rate in real time (about 200 events/s here), the
# strategy trades on it through broker_paper, `qts status` shows the events
# growing while it runs, and SIGTERM stops it in order with exit 0 and the
# fills in the run's files. A paper run with no market data source is
# refused at start. In a replay, replay.speed (or the feed's own speed)
# paces the same data at a multiple of real time without changing a fill.
set -u
. "$(dirname "$0")/scenario_lib.sh"
trap 'rm -rf "$dir"' EXIT

# write_ema <mode> <feeds section> [more YAML]: an ema_cross configuration
# in $dir/qts.yaml
write_ema() {
    cat >"$dir/qts.yaml" <<YAML
mode: $1
paths: {var_dir: $dir/var}
plugins: {dir: $plugins}
instruments:
  - {symbol: SYNTH, tick_size: "0.01"}
$2
broker: {plugin: broker_paper, config: {allow_short: true}}
account: {initial_cash: "1000000"}
strategies:
  dir: $(cd "$(dirname "$0")/../.." && pwd)/strategies
  list:
    - {name: ema, file: ema_cross.lua, symbols: [SYNTH],
       params: {symbol: SYNTH, fast: 3, slow: 8, qty: 1, allow_short: true}}
${3:-}
YAML
}

events_now() {
    "$qts" status -c "$dir/qts.yaml" --json 2>/dev/null | grep -o '"events":[0-9]*' | head -1 | grep -o '[0-9]*$'
}

write_ema paper "feeds:
  - {name: md, plugin: feed_synthetic, config: {symbols: SYNTH, rate: 200, seed: 7}}"
start_host
sleep 1
e1=$(events_now)
sleep 1
e2=$(events_now)
sleep 1
kill -TERM "$host_pid"
wait "$host_pid"
rc=$?
host_pid=
trap 'rm -rf "$dir"' EXIT
fills=$(($(wc -l <"$dir/var/runs/latest/fills.csv" 2>/dev/null || echo 1) - 1))
echo "events at 1 s: ${e1:-none}, at 2 s: ${e2:-none}; exit $rc; fills $fills"
if [ "$rc" -ne 0 ]; then
    echo "FAIL: SIGTERM: exit $rc, expected 0 (orderly stop)"; tail -5 "$dir/run.err"; failed=1
elif [ -z "$e1" ] || [ -z "$e2" ] || [ "$e2" -le "$e1" ]; then
    echo "FAIL: qts status: events did not grow (${e1:-none} then ${e2:-none})"; failed=1
elif [ "$e2" -gt 2000 ]; then
    echo "FAIL: $e2 events in about 2 s: the feed is not paced at 200 events/s"; failed=1
elif [ "$fills" -le 0 ]; then
    echo "FAIL: no fills in runs/latest/fills.csv"; tail -5 "$dir/run.err"; failed=1
elif ! grep -q "polling 1 feed(s)" "$dir/run.err"; then
    echo "FAIL: no log line about the polled feed"; failed=1
else
    echo "ok: paper on feed_synthetic: events grow at its rate, fills written, exit 0"
fi

# no feed at all with the simulated broker: refused at start
rm -rf "$dir/var"
write_ema paper "feeds: []"
"$qts" run -c "$dir/qts.yaml" >"$dir/out" 2>"$dir/err"
rc=$?
if [ "$rc" -eq 0 ] || ! grep -q "no market data would arrive: no feed is configured" "$dir/err"; then
    echo "FAIL: a paper run without a feed: exit $rc"; tail -3 "$dir/err"; failed=1
else
    echo "ok: a paper run without a feed is refused at start (exit $rc)"
fi

# replay_ms <replay.speed> <feed config>: replays 200 events spread over
# about 1.9 s of data time (rate 100); prints the wall time in ms
replay_ms() {
    write_ema replay "feeds:
  - {name: md, plugin: feed_synthetic, config: {symbols: SYNTH, rate: 100, events: 200, seed: 7$2}}" \
        "replay: {speed: $1}"
    rm -rf "$dir/var"
    local t0 rc
    t0=$(date +%s%N)
    "$qts" run -c "$dir/qts.yaml" >"$dir/out" 2>"$dir/err"
    rc=$?
    [ "$rc" -eq 0 ] || { echo "FAIL: replay at speed $1 exited $rc" >&2; tail -3 "$dir/err" >&2; }
    echo $((($(date +%s%N) - t0) / 1000000))
}
paced=$(replay_ms 2 "")
cp "$dir/var/runs/latest/fills.csv" "$dir/fills.paced"
own=$(replay_ms max ", speed: 4")
echo "replay of 1.9 s of data: replay.speed 2 $paced ms; the feed's speed 4 $own ms"
if [ "$paced" -lt 800 ]; then
    echo "FAIL: 1.9 s of data at replay.speed 2 took $paced ms (at least 0.9 s expected)"; failed=1
elif [ "$own" -lt 350 ]; then
    echo "FAIL: 1.9 s of data at the feed's speed 4 took $own ms (at least 0.45 s expected)"; failed=1
elif ! cmp -s "$dir/fills.paced" "$dir/var/runs/latest/fills.csv"; then
    echo "FAIL: pacing changed the fills"; failed=1
else
    echo "ok: replay.speed and the feed's own speed pace a replay; the fills do not change"
fi
exit $failed
