#!/usr/bin/env bash
# SIGTERM stops a replay: a long replay of the default configuration gets
# SIGTERM after about a second; it exits soon after with 143, its files in
# runs/latest cover what it processed, summary.json says "interrupted", and
# the log says so. SIGINT the same with 130.
set -u
. "$(dirname "$0")/scenario_lib.sh"
trap 'rm -rf "$dir"' EXIT
failed=0

# run_and_signal <signal> <expected exit code>
run_and_signal() {
    local sig=$1 want=$2
    rm -rf "$dir/var"
    QTS_DEMO_EVENTS=50000000 QTS_VAR_DIR="$dir/var" "$qts" run -c config/qts.yaml \
        >"$dir/out" 2>"$dir/err" &
    local pid=$!
    # a second into the replay itself (start-up on a loaded machine varies)
    for _ in $(seq 300); do
        grep -q "risk host ready" "$dir/err" && break
        sleep 0.1
    done
    sleep 1
    local t0 rc
    t0=$(date +%s%N)
    kill "-$sig" "$pid"
    wait "$pid"
    rc=$?
    local ms=$((($(date +%s%N) - t0) / 1000000))
    echo "SIG$sig: exit $rc after $ms ms"
    local summary="$dir/var/runs/latest/summary.json"
    if [ "$rc" -ne "$want" ]; then
        echo "FAIL: SIG$sig: exit code $rc, expected $want"; tail -5 "$dir/err"; failed=1
    elif [ "$ms" -gt 10000 ]; then
        echo "FAIL: SIG$sig: the replay took $ms ms to stop"; failed=1
    elif ! grep -q "\"interrupted\": \"SIG$sig\"" "$summary" 2>/dev/null; then
        echo "FAIL: SIG$sig: summary.json does not say it was interrupted"; head -5 "$summary"; failed=1
    elif ! [ -s "$dir/var/runs/latest/fills.csv" ] || ! [ -s "$dir/var/runs/latest/report.html" ]; then
        echo "FAIL: SIG$sig: fills.csv or report.html missing"; failed=1
    elif ! grep -q "replay interrupted by SIG$sig after [0-9]* events" "$dir/err"; then
        echo "FAIL: SIG$sig: no log line about the interruption"; tail -5 "$dir/err"; failed=1
    elif ! grep -q "^interrupted " "$dir/out"; then
        echo "FAIL: SIG$sig: the run's printout does not say it was interrupted"; failed=1
    else
        echo "ok: SIG$sig stops the replay with its files written"
    fi
}

run_and_signal TERM 143
run_and_signal INT 130

# a replay that reaches its end says nothing of an interruption
rm -rf "$dir/var"
QTS_DEMO_EVENTS=2000 QTS_VAR_DIR="$dir/var" "$qts" run -c config/qts.yaml >"$dir/out" 2>"$dir/err"
rc=$?
if [ "$rc" -ne 0 ] || grep -q interrupted "$dir/var/runs/latest/summary.json"; then
    echo "FAIL: a complete replay: exit $rc or summary.json says interrupted"; failed=1
else
    echo "ok: a complete replay exits 0 and is not marked interrupted"
fi
exit $failed
