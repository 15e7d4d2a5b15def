#!/usr/bin/env bash
# soak.sh — a long paper run under load (bench/configs/soak.yaml: the
# synthetic feed at 50 000 events/s in real time, the three example
# strategies trading through broker_paper), watching the process for leaks.
#
#   bash bench/soak.sh [build dir]      (`make soak`)
#
# SOAK_SECONDS (default 3600) is the whole run; the first SOAK_WARMUP
# seconds (default 300, at most a third of the run) fill the caches, the
# books and the order history up to their retention, so the start figures
# are taken after them. Every SOAK_SAMPLE seconds (default 5) it reads the
# resident set (VmRSS in /proc/<pid>/status) and the open descriptors
# (/proc/<pid>/fd). At the end it stops the host with SIGTERM (an orderly
# stop) and prints one JSON line: events, orders, fills, RSS and fds at the
# start (after the warm-up) and at the end, the RSS drift and the aims
# (drift <= 1 %, no fd growth) with whether they were met. Exit 0 when the
# host ran and stopped with 0, whatever the figures.
set -u
build=${1:-build}
qts=$build/qts
[ -x "$qts" ] || { echo "soak: no $qts (build first)" >&2; exit 2; }
seconds=${SOAK_SECONDS:-3600}
warmup=${SOAK_WARMUP:-300}
[ "$warmup" -gt $((seconds / 3)) ] && warmup=$((seconds / 3))
sample=${SOAK_SAMPLE:-5}
config=bench/configs/soak.yaml
var=$(mktemp -d)
export QTS_VAR_DIR=$var QTS_PLUGIN_DIR=${QTS_PLUGIN_DIR:-$PWD/$build/plugins}
trap 'rm -rf "$var"' EXIT

"$qts" run -c "$config" >"$var/run.out" 2>"$var/run.err" &
pid=$!
for _ in $(seq 300); do
    [ -S "$var/qts.sock" ] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
done
if ! [ -S "$var/qts.sock" ]; then
    echo "soak: the host did not start" >&2; cat "$var/run.err" >&2; exit 1
fi

rss_kb() { sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$pid/status"; }
fds() { find "/proc/$pid/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }
# status_num <key> [<section>]: a number from `qts status --json`
status_num() {
    "$qts" status -c "$config" --json 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)["result"]
for k in sys.argv[1:]:
    d = d[k]
print(d)' "$@"
}

t0=$(date +%s)
sleep "$warmup"
rss0=$(rss_kb) fd0=$(fds) ev0=$(status_num events)
rss_max=$rss0 fd_max=$fd0
while [ $(($(date +%s) - t0)) -lt "$seconds" ] && kill -0 "$pid" 2>/dev/null; do
    sleep "$sample"
    r=$(rss_kb) f=$(fds)
    [ -n "$r" ] && [ "$r" -gt "$rss_max" ] && rss_max=$r
    [ -n "$f" ] && [ "$f" -gt "$fd_max" ] && fd_max=$f
    [ -n "${SOAK_VERBOSE:-}" ] && echo "soak: t=$(($(date +%s) - t0))s rss=${r}kB fds=$f" >&2
done
rss1=$(rss_kb) fd1=$(fds)
t1=$(date +%s)
events=$(status_num events) fills=$(status_num fills)
orders=$(status_num exec orders submitted)
kill -TERM "$pid"
wait "$pid"
rc=$?
python3 - "$seconds" "$warmup" "$((t1 - t0))" "$events" "$ev0" "$orders" "$fills" \
    "$rss0" "$rss1" "$rss_max" "$fd0" "$fd1" "$fd_max" "$rc" <<'PY'
import json, sys
(seconds, warmup, ran, events, ev0, orders, fills, rss0, rss1, rss_max, fd0, fd1, fd_max,
 rc) = map(int, sys.argv[1:])
drift = 100.0 * (rss1 - rss0) / rss0 if rss0 else None
measured = max(ran - warmup, 1)
print(json.dumps({
    "bench": "soak", "seconds": ran, "warmup_s": warmup,
    "events": events, "events_per_s": round((events - ev0) / measured),
    "orders": orders, "fills": fills,
    "rss_start_kb": rss0, "rss_end_kb": rss1, "rss_max_kb": rss_max,
    "rss_drift_pct": round(drift, 3) if drift is not None else None,
    "fd_start": fd0, "fd_end": fd1, "fd_max": fd_max,
    "aim_rss_drift_pct_max": 1.0, "aim_fd_growth_max": 0,
    "rss_aim_met": drift is not None and drift <= 1.0,
    "fd_aim_met": fd_max <= fd0,
    "exit_code": rc}))
PY
exit "$rc"
