#!/usr/bin/env bash
# The web dashboard as an operator uses it, in Debian's headless Chromium:
# a paper host with http.listen and the secret http_token holds one
# position and two working orders (dashboard_orders.lua); the page, updated
# over its WebSocket, shows the same positions and orders as
# `qts status --json`; a state-changing request without the token is
# refused (401) and changes nothing; clicking the kill switch and then its
# confirmation stops trading, checked through `qts status --json` (kill on,
# trading not allowed, no working order) and on the page itself; a resume
# with an empty approval is refused, one with a reason releases the switch.
# QTS_DASHBOARD_SCREENSHOT=FILE saves the page (docs/images/dashboard.png).
set -u
. "$(dirname "$0")/scenario_lib.sh"
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; failed=1; }
for tool in chromium curl python3; do
    command -v $tool >/dev/null || { echo "SKIP: $tool is not installed (scripts/setup installs chromium)"; exit 77; }
done
here=$(cd "$(dirname "$0")" && pwd)
# cdp COMMAND ARG: one request to the DevTools session (dashboard_cdp.py,
# started below as a coprocess), its one-line answer on standard output;
# fails on an "error: ..." answer. Not in a pipe or $(...): a subshell does
# not inherit the coprocess' descriptors.
cdp() {
    local answer
    echo "$*" >&"${CDP[1]}"
    IFS= read -r -t 30 answer <&"${CDP[0]}" || { echo "no answer from dashboard_cdp.py" >&2; return 1; }
    case $answer in error:*) echo "$answer" >&2; return 1 ;; esac
    echo "$answer"
}

cat >"$dir/qts.yaml" <<YAML
mode: paper
paths: {var_dir: $dir/var}
plugins: {dir: $plugins}
http: {listen: "0"}   # a bare port: 127.0.0.1, any free port
instruments:
  - {symbol: SYNTH, tick_size: "0.01"}
feeds:
  - {name: md, plugin: feed_synthetic, config: {symbols: SYNTH, rate: 200, seed: 7}}
broker: {plugin: broker_paper}
strategies:
  dir: $here
  list:
    - {name: resting, file: dashboard_orders.lua, symbols: [SYNTH], params: {symbol: SYNTH}}
YAML
token=tok-$RANDOM$RANDOM
export QTS_SECRET_HTTP_TOKEN=$token
start_host
unset QTS_SECRET_HTTP_TOKEN
port=
for _ in $(seq 50); do
    port=$(grep -o 'http dashboard on http://127.0.0.1:[0-9]*' "$dir/run.err" | grep -o '[0-9]*$')
    [ -n "$port" ] && break
    sleep 0.1
done
[ -n "$port" ] || { fail "no 'http dashboard on' log line"; cat "$dir/run.err"; exit 1; }
grep -q 'kill and resume need the token' "$dir/run.err" || fail "the log does not say commands need the token"
grep -q "$token" "$dir/run.err" && fail "the token is in the log"

# status_py EXPR: EXPR over r = the "result" of `qts status --json`
status_py() {
    "$qts" status -c "$dir/qts.yaml" --json 2>/dev/null |
        python3 -c 'import json, sys; r = json.load(sys.stdin)["result"]; print('"$1"')'
}
for _ in $(seq 100); do
    [ "$(status_py 'r["working_orders"]')" = 2 ] && [ "$(status_py 'r["positions_open"]')" = 1 ] && break
    sleep 0.1
done
[ "$(status_py 'r["working_orders"]')" = 2 ] || fail "the host does not hold 2 working orders: $(status_py 'r["orders"]')"

# Chromium, headless, its DevTools port chosen by itself
chromium --headless=new --no-sandbox --disable-gpu --remote-debugging-port=0 \
    --user-data-dir="$dir/chrome" --window-size=1400,1000 about:blank >"$dir/chrome.log" 2>&1 &
chrome_pid=$!
trap 'kill $chrome_pid 2>/dev/null; wait $chrome_pid 2>/dev/null; stop_host' EXIT
cdp_port=
for _ in $(seq 100); do
    cdp_port=$(head -1 "$dir/chrome/DevToolsActivePort" 2>/dev/null)
    [ -n "$cdp_port" ] && break
    sleep 0.1
done
[ -n "$cdp_port" ] || { fail "chromium did not start"; tail -5 "$dir/chrome.log"; exit 1; }
coproc CDP { python3 "$here/dashboard_cdp.py" "$cdp_port" 2>"$dir/cdp.log"; }
cdp open "http://127.0.0.1:$port/#token=$token" >/dev/null

# the page, once its WebSocket is live and a push has been rendered
page_json() {
    cdp eval '(() => { const t = (id) => [...document.querySelectorAll("#" + id + " tbody tr")].map((tr) => [...tr.cells].map((c) => c.textContent)); return {live: document.getElementById("conn").textContent, safety: document.getElementById("safety").textContent, kill: document.getElementById("kill").style.display !== "none", positions: t("positions"), orders: t("orders"), chart: !!document.querySelector("#chart canvas")}; })()'
}
for _ in $(seq 100); do
    page_json >"$dir/page.json" 2>"$dir/cdp.err" && grep -q '"live": "live"' "$dir/page.json" &&
        grep -q '"chart": true' "$dir/page.json" && break
    sleep 0.1
done
grep -q '"live": "live"' "$dir/page.json" || fail "the page's WebSocket is not live: $(cat "$dir/page.json" "$dir/cdp.err")"
grep -q '"chart": true' "$dir/page.json" || fail "no equity chart (uPlot canvas) on the page"
[ -n "${QTS_DASHBOARD_SCREENSHOT:-}" ] && cdp shot "$QTS_DASHBOARD_SCREENSHOT" >/dev/null

# the same positions and orders as `qts status --json` (the page and the
# CLI read one status object; the page is at most a second older)
same=
for _ in $(seq 30); do
    page_json >"$dir/page.json"
    "$qts" status -c "$dir/qts.yaml" --json >"$dir/status.json"
    same=$(python3 - "$dir/page.json" "$dir/status.json" <<'PY'
import json, sys
page = json.load(open(sys.argv[1]))
r = json.load(open(sys.argv[2]))["result"]
want_pos = sorted([p["symbol"], p["qty"]] for p in r["positions"])
got_pos = sorted([row[0], row[1]] for row in page["positions"])
want_ord = sorted([str(o["id"]), o["symbol"], o["side"], o["qty"], o["limit"]] for o in r["orders"])
got_ord = sorted([row[0], row[2], row[3], row[4], row[6]] for row in page["orders"])
print("yes" if want_pos == got_pos and want_ord == got_ord and len(want_ord) == 2
      else f"no: page {got_pos} {got_ord}, status {want_pos} {want_ord}")
PY
)
    [ "$same" = yes ] && break
    sleep 0.3
done
[ "$same" = yes ] && echo "ok: the dashboard shows the positions and orders of qts status --json" ||
    fail "the dashboard and qts status disagree: $same"

# without the token: refused, nothing changes
code=$(curl -s -o "$dir/noauth" -w '%{http_code}' -X POST -d '{"reason":"x"}' "http://127.0.0.1:$port/api/kill")
[ "$code" = 401 ] || fail "a kill without the token answered $code: $(cat "$dir/noauth")"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer wrong" -d '{}' "http://127.0.0.1:$port/api/kill")
[ "$code" = 401 ] || fail "a kill with a wrong token answered $code"
[ "$(status_py 'r["safety"]["kill"]')" = False ] || fail "a refused request pulled the kill switch"

# the kill switch: the button asks first; the confirmation pulls it
cdp eval 'document.getElementById("by").value = "chromium-test"' >/dev/null
cdp click kill-btn >/dev/null
[ "$(status_py 'r["safety"]["kill"]')" = False ] || fail "the kill button acted without its confirmation"
cdp click kill-confirm >/dev/null || fail "no confirmation to click"
for _ in $(seq 50); do
    [ "$(status_py 'r["safety"]["kill"]')" = True ] && [ "$(status_py 'r["working_orders"]')" = 0 ] && break
    sleep 0.1
done
[ "$(status_py 'r["safety"]["kill"]')" = True ] || fail "the confirmed kill did not pull the switch"
[ "$(status_py 'r["safety"]["trading_allowed"]')" = False ] || fail "trading still allowed after the kill"
[ "$(status_py 'r["working_orders"]')" = 0 ] || fail "orders still working after the kill"
status_py 'r["safety_cause"]["kill_by"]' | grep -q 'chromium-test (dashboard 127.0.0.1)' ||
    fail "the kill is not recorded with who: $(status_py 'r["safety_cause"]')"
grep -q 'dashboard command from=dashboard 127.0.0.1' "$dir/run.err" || fail "no log line for the dashboard's command"
"$qts" status -c "$dir/qts.yaml" | grep -q 'KILL SWITCH ON by chromium-test' || fail "qts status does not show the kill"
for _ in $(seq 30); do
    page_json >"$dir/page.json" && grep -q '"kill": true' "$dir/page.json" && break
    sleep 0.1
done
grep -q '"kill": true' "$dir/page.json" && grep -q '"orders": \[\]' "$dir/page.json" ||
    fail "the page does not show the kill: $(cat "$dir/page.json")"
echo "ok: the confirmed kill switch on the page stopped trading"

# resume: the approval the CLI asks for (a reason) or nothing
cdp click resume-btn >/dev/null
cdp eval 'document.getElementById("answer").textContent' >"$dir/answer"
grep -q 'needs an approval reason' "$dir/answer" || fail "an empty approval was not refused on the page: $(cat "$dir/answer")"
code=$(curl -s -o "$dir/resume" -w '%{http_code}' -X POST -H "Authorization: Bearer $token" -d '{"reason":""}' "http://127.0.0.1:$port/api/resume")
[ "$code" = 409 ] && grep -q 'non-empty reason' "$dir/resume" || fail "a resume without a reason answered $code: $(cat "$dir/resume")"
[ "$(status_py 'r["safety"]["kill"]')" = True ] || fail "an unapproved resume released the switch"
cdp eval 'document.getElementById("resume-reason").value = "drill over"' >/dev/null
cdp click resume-btn >/dev/null
for _ in $(seq 50); do
    [ "$(status_py 'r["safety"]["kill"]')" = False ] && break
    sleep 0.1
done
[ "$(status_py 'r["safety"]["trading_allowed"]')" = True ] || fail "the approved resume did not release the switch"
[ "$(status_py 'r["safety"]["last_approval"]["reason"]')" = "drill over" ] || fail "the approval is not recorded"
echo "ok: resume from the page needs an approval and is recorded"

exit $failed
