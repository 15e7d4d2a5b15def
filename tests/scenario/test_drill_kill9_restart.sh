#!/usr/bin/env bash
# Drill (issue #20): `kill -9` of a paper host with limit orders resting at
# the KIS mock (tests/fixtures/kis_mock.py), then a restart on the same
# configuration and var_dir.
#
# What docs/operations.md (start-up sync) and docs/execution.md
# (Reconciliation) promise, and what is checked here:
# - no orphan: the orders the killed run left working carry this host's
#   prefix; the restarted host's start-up reconciliation finds them
#   (STRAY_ORDER) and sends their cancels before any strategy starts; every
#   order the mock still works afterwards is one the restarted host knows
#   (`qts status` counts as many working orders as the mock works);
# - no duplicate: the restart does not adopt the old orders; the restarted
#   strategy starts from scratch and places its three orders again, and the
#   old three end cancelled: the mock counts 6 orders, 3 cancels and 3
#   working (the 3 new ones);
# - SIGTERM with orders working: the host cancels them, waits for the
#   mock's acknowledgements, writes stop.json and exits 0 (docs/safety.md,
#   orderly stop);
# - the safety state is kept: `qts kill`, then kill -9, then a restart: the
#   kill switch is still on, no new order reaches the mock;
# - the time from process start to the first order acknowledged after the
#   restart (the shell's launch time against the host's log timestamp of
#   the first acknowledgement) is printed.
set -u
. "$(dirname "$0")/scenario_lib.sh"
mock_py="$(cd "$(dirname "$0")/.." && pwd)/fixtures/kis_mock.py"
pid= mock_pid=
trap '[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null; [ -n "$mock_pid" ] && kill "$mock_pid" 2>/dev/null; rm -rf "$dir"' EXIT
fail() {
    echo "FAIL: $*"
    for f in "$dir"/run*.err; do echo "== $f"; grep -v ' DEBUG ' "$f" | tail -n 20; done
    [ -f "$dir/mock/stats.json" ] && echo "== mock: $(cat "$dir/mock/stats.json")"
    exit 1
}

if ! command -v python3 >/dev/null 2>&1 || ! command -v openssl >/dev/null 2>&1; then
    echo "skip: python3 or openssl absent (the KIS mock needs both)"; exit 77
fi
# the mock needs only Python's standard library and the openssl command
if ! python3 -c 'import http.server, json, subprocess' 2>/dev/null; then
    echo "skip: python3 lacks modules the KIS mock needs (http.server)"; exit 77
fi
if [ ! -e "$plugins/broker_kis.so" ]; then
    echo "skip: broker_kis not built"; exit 77
fi

# the mock: orders rest unfilled (--fill-qty 0); ports and pid on its first line
mkdir -p "$dir/mock"
python3 "$mock_py" --env vts --token-interval 1 --rate 20 --tick 0.1 --ping 0.3 \
    --fill-qty 0 --state-dir "$dir/mock" >"$dir/mock.out" 2>"$dir/mock.err" &
mock_pid=$!
for _ in $(seq 100); do
    [ -s "$dir/mock.out" ] && break
    kill -0 "$mock_pid" 2>/dev/null || break
    sleep 0.1
done
read -r rest_port ws_port _ <"$dir/mock.out" 2>/dev/null
if [ -z "${ws_port:-}" ]; then
    echo "skip: the KIS mock did not start (missing Python modules?):"
    cat "$dir/mock.err"
    exit 77
fi
export QTS_SECRET_KIS_APP_KEY=PSmockappkey0000000000000000000000000
export QTS_SECRET_KIS_APP_SECRET=mocksecret QTS_SECRET_KIS_ACCOUNT=50000000-01
export QTS_SECRET_KIS_HTS_ID=mockuser
unset http_proxy HTTP_PROXY all_proxy ALL_PROXY

# three limit buys below the market, once per run (the strategy keeps no
# state across runs: a restart places them again)
cat >"$dir/rest.lua" <<'LUA'
local M = {}
function M.on_init(ctx, params) return { n = 0 } end
function M.on_trade(ctx, st, t)
  while st.n < 3 do
    ctx:buy('005930', 5, 71000 - 100 * st.n)
    st.n = st.n + 1
  end
end
return M
LUA
cat >"$dir/qts.yaml" <<YAML
mode: paper
host_id: drill
log: {level: debug}
paths: {var_dir: $dir/var}
plugins: {dir: $plugins}
risk: {stale_ms: 600000, stale_trip_ms: 600000}
instruments:
  - {symbol: "005930", venue: krx, px_exp: 0, qty_exp: 0, tick_size: "1", lot_size: "1", min_qty: "1"}
broker:
  plugin: broker_kis
  config:
    env: vts
    rest_url: "http://127.0.0.1:$rest_port"
    ws_url: "ws://127.0.0.1:$ws_port/tryitout"
    token_cache: "$dir/var/kis-token.json"
    state_file: "$dir/var/kis-orders.jsonl"
    enforce_sessions: false
    rate_per_s: 10
    trades: "005930"
    books: "005930"
    ws_reconnect_min_ms: 50
    token_min_interval_s: 1
account: {initial_cash: "10000000"}
strategies:
  dir: $dir
  list:
    - {name: rest, file: rest.lua, symbols: ["005930"]}
YAML

n=0
t_launch=
start() {
    n=$((n + 1))
    t_launch=$(date +%s.%N)
    "$qts" run -c "$dir/qts.yaml" >"$dir/run$n.out" 2>"$dir/run$n.err" &
    pid=$!
}
crash() { kill -KILL "$pid"; wait "$pid" 2>/dev/null; pid=; }
stop() { kill -TERM "$pid"; wait "$pid" 2>/dev/null; local rc=$?; pid=; return $rc; }
# mock KEY: a counter from the mock's stats.json
mock() {
    python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get(sys.argv[2], -1))' \
        "$dir/mock/stats.json" "$1" 2>/dev/null || echo -1
}
# wait_for SECONDS WHAT CONDITION...: until the shell condition holds
wait_for() {
    local secs=$1 what=$2
    shift 2
    for _ in $(seq $((secs * 10))); do
        "$@" && return 0
        [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null && fail "host $n exited: $what"
        sleep 0.1
    done
    fail "not within $secs s: $what"
}
acks() { grep -c ' DEBUG report clordid=drill-[0-9]* type=1 ' "$dir/run$n.err"; }
status_get() {
    local st
    st=$("$qts" status -c "$dir/qts.yaml" --json 2>/dev/null) || return 1
    python3 -c 'import json,sys; r=json.loads(sys.argv[2])["result"]; print(eval(sys.argv[1]))' \
        "$1" "$st"
}

# 1. three orders working at the mock, then kill -9
start
wait_for 30 "three orders working at the mock" \
    bash -c "[ \"\$(python3 -c 'import json;print(json.load(open(\"$dir/mock/stats.json\"))[\"working\"])' 2>/dev/null)\" = 3 ]"
wait_for 10 "three acknowledgements in the log" bash -c "[ \$(grep -c ' DEBUG report clordid=drill-[0-9]* type=1 ' $dir/run$n.err) -ge 3 ]"
old_odnos=$(mock working_odnos)
crash
[ "$(mock orders)" = 3 ] || fail "mock orders after the first run: $(mock orders)"
echo "ok: 3 orders working at the mock ($old_odnos), host killed with kill -9"

# 2. restart: the old three are cancelled by the start-up reconciliation,
#    the strategy places three new ones; the mock never works more than three
start
wait_for 30 "the restarted host's three orders acknowledged" \
    bash -c "[ \$(grep -c ' DEBUG report clordid=drill-[0-9]* type=1 ' $dir/run$n.err) -ge 3 ]"
wait_for 10 "the old orders cancelled and three new ones working" \
    bash -c "[ \"\$(python3 -c 'import json;s=json.load(open(\"$dir/mock/stats.json\"));print(s[\"working\"], s[\"cancels\"], s[\"orders\"])')\" = '3 3 6' ]"
new_odnos=$(mock working_odnos)
python3 - "$old_odnos" "$new_odnos" <<'PY' || fail "orders of the killed run still work: old $old_odnos now $new_odnos"
import ast, sys
old, new = ast.literal_eval(sys.argv[1]), ast.literal_eval(sys.argv[2])
sys.exit(1 if set(old) & set(new) or len(new) != 3 else 0)
PY
# kind=2: STRAY_ORDER (open at the broker, our prefix, unknown here)
strays=$(grep -c 'reconcile difference kind=2 ' "$dir/run$n.err")
[ "$strays" = 3 ] || fail "$strays STRAY_ORDER lines in the restarted host's log, expected 3"
# the cancels went out before the strategy started
first_cancel=$(grep -n 'reconcile difference kind=2 ' "$dir/run$n.err" | head -1 | cut -d: -f1)
strat_start=$(grep -n 'strategy started name=rest' "$dir/run$n.err" | head -1 | cut -d: -f1)
[ -n "$strat_start" ] && [ "$first_cancel" -lt "$strat_start" ] ||
    fail "the strays were not handled before the strategy started"
working=$(status_get 'r["working_orders"]')
[ "$working" = 3 ] || fail "qts status counts $working working orders, the mock 3"
# time to trading: launch -> first acknowledgement in the log
first_ack=$(grep -m1 ' DEBUG report clordid=drill-[0-9]* type=1 ' "$dir/run$n.err" | cut -d' ' -f1)
sync_ms=$(grep -m1 'startup: sync done in' "$dir/run$n.err" | sed 's/.*sync done in \([0-9]*\) ms.*/\1/')
ttt=$(python3 -c 'import sys,datetime as d
t=d.datetime.strptime(sys.argv[2],"%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=d.timezone.utc).timestamp()
print(round((t-float(sys.argv[1]))*1000))' "$t_launch" "$first_ack")
echo "ok: restarted: old orders $old_odnos cancelled as strays, new $new_odnos working; mock orders 6, cancels 3, working 3"
echo "drill: time to trading after kill -9: ${ttt} ms from process start to the first order acknowledged (start-up sync ${sync_ms} ms)"

# 3. SIGTERM with orders working: every cancel reaches the mock and is
#    acknowledged before the host exits 0, and stop.json says so
t_term=$(date +%s%N)
stop || fail "SIGTERM with three orders working: exit $?"
term_ms=$((($(date +%s%N) - t_term) / 1000000))
[ "$(mock working)" = 0 ] || fail "orders still working at the mock after SIGTERM: $(mock working_odnos)"
[ "$(mock cancels)" = 6 ] || fail "mock cancels after SIGTERM: $(mock cancels), expected 6"
grep -q '"all_cancelled":true' "$dir/var/runs/latest/stop.json" ||
    fail "stop.json: $(cat "$dir/var/runs/latest/stop.json" 2>&1)"
echo "ok: SIGTERM cancelled the three working orders at the mock and exited 0 in ${term_ms} ms"

# 4. the kill switch survives kill -9: trade again, pull it, crash, restart
start
wait_for 30 "three orders working again" \
    bash -c "[ \"\$(python3 -c 'import json;print(json.load(open(\"$dir/mock/stats.json\"))[\"working\"])' 2>/dev/null)\" = 3 ]"
out=$("$qts" kill -c "$dir/qts.yaml" --by drill --reason "drill" 2>&1) || fail "qts kill: $out"
wait_for 10 "the kill's cancels confirmed" bash -c "[ \"\$(python3 -c 'import json;print(json.load(open(\"$dir/mock/stats.json\"))[\"working\"])')\" = 0 ]"
crash
orders_before=$(mock orders)
start
wait_for 30 "the restarted host answering" status_get 'r["mode"]'
[ "$(status_get 'r["safety"]["kill"]')" = True ] || fail "the kill switch is off after kill -9"
[ "$(status_get 'r["safety"]["trading_allowed"]')" = False ] || fail "trading allowed after the restart"
sleep 2 # trades arrive every 0.1 s: the strategy tries to buy
[ "$(mock orders)" = "$orders_before" ] || fail "a killed host sent orders: $(mock orders) > $orders_before"
[ "$(mock working)" = 0 ] || fail "orders working at the mock: $(mock working_odnos)"
stop || fail "the killed host did not stop cleanly"
echo "ok: the kill switch survived kill -9; no order sent ($orders_before at the mock), none working"
exit 0
