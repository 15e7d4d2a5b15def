#!/usr/bin/env bash
# replay.speed paces a replay: 200 synthetic events spread over 2 s of data
# time (rate 100) replayed at `speed: 2` take at least about 1 s of wall
# time, the same events at `speed: max` are not held back; both runs give
# the same fills. A feed's own `speed` replaces replay.speed for it.
set -u
. "$(dirname "$0")/scenario_lib.sh"
trap 'rm -rf "$dir"' EXIT

# run_ms <replay.speed> <feed config>: runs the replay, prints its wall ms
run_ms() {
    cat >"$dir/qts.yaml" <<YAML
mode: replay
paths: {var_dir: $dir/var}
plugins: {dir: $plugins}
instruments:
  - {symbol: SYNTH, tick_size: "0.01"}
feeds:
  - {name: md, plugin: feed_synthetic, config: {symbols: SYNTH, rate: 100, events: 200, seed: 7$2}}
broker: {plugin: broker_paper, config: {allow_short: true}}
strategies:
  dir: $PWD/strategies
  list:
    - {name: ema, file: ema_cross.lua, symbols: [SYNTH],
       params: {symbol: SYNTH, fast: 3, slow: 8, qty: 1, allow_short: true}}
replay: {speed: $1}
YAML
    rm -rf "$dir/var"
    local t0 rc
    t0=$(date +%s%N)
    "$qts" run -c "$dir/qts.yaml" >"$dir/out" 2>"$dir/err"
    rc=$?
    [ "$rc" -eq 0 ] || { echo "FAIL: replay at speed $1 exited $rc" >&2; tail -3 "$dir/err" >&2; }
    echo $((($(date +%s%N) - t0) / 1000000))
}

paced=$(run_ms 2 "")
cp "$dir/var/runs/latest/fills.csv" "$dir/fills.paced"
fast=$(run_ms max "")
own=$(run_ms max ", speed: 4")
echo "speed 2: $paced ms; max: $fast ms; feed speed 4: $own ms"
if [ "$paced" -lt 900 ]; then
    echo "FAIL: 2 s of data at replay.speed 2 took $paced ms (at least 1 s expected)"; failed=1
elif [ "$own" -lt 400 ]; then
    echo "FAIL: 2 s of data at the feed's speed 4 took $own ms (at least 0.5 s expected)"; failed=1
elif ! cmp -s "$dir/fills.paced" "$dir/var/runs/latest/fills.csv"; then
    echo "FAIL: pacing changed the fills"; failed=1
else
    echo "ok: replay.speed and the feed's speed pace the replay; the fills do not change"
fi
exit $failed
