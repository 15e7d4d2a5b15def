# persist_lib.sh — sourced by the safety persistence scenarios
# (test_kill_persists.sh, test_lockdown_persists.sh): a long replay with a
# trading strategy and a SQLite store, and helpers that start, crash and
# stop the host and read `qts status`.
. "$(dirname "$0")/scenario_lib.sh"
pid=
# a host left running by a failed check is killed, never waited for long
trap '[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null; rm -rf "$dir"' EXIT
fail() {
    echo "FAIL: $*"
    for f in "$dir"/run*.err; do echo "== $f"; tail -n 15 "$f"; done
    exit 1
}

# an endless feed at 200 events a second of real time, a strategy that
# trades on every crossing of two short averages, a SQLite store (the lines
# after the broker's go in as they are)
write_config "allow_short: true
store:
  plugin: store_sqlite
  config:
    path: qts.db
account:
  initial_cash: \"100000\"
strategies:
  dir: $PWD/strategies
  list:
    - name: ema
      file: ema_cross.lua
      symbols: [SYNTH]
      params: {symbol: SYNTH, fast: 2, slow: 5, qty: 1, allow_short: true}" "      symbols: SYNTH
      events: 0
      rate: 200
      speed: 1"
state="$dir/var/safety.json"
n=0

# snap: ask the host once (`qts status --json`) into $st;
# get EXPR: EXPR over that reply's "result" (r)
st=
snap() { st=$("$qts" status -c "$dir/qts.yaml" --json 2>/dev/null); }
get() {
    python3 -c 'import json,sys; r=json.loads(sys.argv[2])["result"]; print(eval(sys.argv[1]))' \
        "$1" "$st"
}
status_get() { snap && get "$1"; }

# start: a host in the background, answering on its socket (a socket file
# left by kill -9 answers nothing, so ask, do not test the file)
start() {
    n=$((n + 1))
    "$qts" run -c "$dir/qts.yaml" >"$dir/run$n.out" 2>"$dir/run$n.err" &
    pid=$!
    for _ in $(seq 40); do
        "$qts" status -c "$dir/qts.yaml" >/dev/null 2>&1 && return 0
        kill -0 "$pid" 2>/dev/null || fail "host $n exited at start"
        sleep 0.1
    done
    fail "host $n did not answer on its socket"
}

# wait_fills: until the running host has made a fill (about 40 s)
wait_fills() {
    for _ in $(seq 60); do
        snap && [ "$(get 'r["fills"]')" -gt 0 ] 2>/dev/null && return 0
        sleep 0.2
    done
    fail "no fill within 30 s: $1"
}

# expect_blocked STATE SOURCE: a fresh status says STATE, kill switch on,
# trading not allowed, and safety_source starting with SOURCE
expect_blocked() {
    snap
    [ "$(get 'r["safety"]["state"]')" = "$1" ] || fail "state is not $1: $st"
    [ "$(get 'r["safety"]["kill"]')" = True ] || fail "the kill switch is off: $st"
    [ "$(get 'r["safety"]["trading_allowed"]')" = False ] || fail "trading allowed: $st"
    src=$(get 'r["safety"]["safety_source"]')
    case "$src" in "$2"*) ;; *) fail "safety_source is '$src', expected '$2...'" ;; esac
}

crash() { kill -KILL "$pid"; wait "$pid" 2>/dev/null; pid=; }
stop() { kill -TERM "$pid"; wait "$pid" 2>/dev/null; pid=; }

