#!/usr/bin/env bash
# The kill switch survives kill -9 (issue #20): `qts kill` through the admin
# socket, kill -9, restart: `qts status` says killed, trading not allowed,
# where the state came from, and the strategy makes no fill until
# `qts resume --approve`; then it trades again.
set -u
. "$(dirname "$0")/persist_lib.sh"

# 1. trade, pull the kill switch, crash
start
wait_fills "before the kill"
out=$("$qts" kill -c "$dir/qts.yaml" --by tester --reason "scenario kill" 2>&1) ||
    fail "qts kill: $out"
grep -q '"kill":true' "$state" || fail "safety.json does not hold the kill: $(cat "$state")"
crash
echo "ok: killed through the socket, saved, crashed with kill -9"

# 2. restart: still killed, says so and why, no fill
start
expect_blocked NORMAL "restored from $state at "
grep -q "trading stays blocked until" "$dir/run$n.err" || fail "no restore warning in the log"
sleep 2
snap
[ "$(get 'r["fills"]')" = 0 ] || fail "a killed host made fills"
[ "$(get 'r["risk"]["rejected"].get("GR101", 0) > 0')" = True ] ||
    fail "the strategy's orders were not refused with GR101"
stop
[ "$(wc -l <"$dir/var/runs/latest/fills.csv")" -eq 1 ] ||
    fail "fills.csv of the killed run has fills: $(cat "$dir/var/runs/latest/fills.csv")"
row=$(sqlite3 "$dir/var/qts.db" "SELECT value FROM config WHERE key = 'SAFETY_STATE'")
case "$row" in *kill=on*kill_by=tester*) ;; *) fail "store row SAFETY_STATE is '$row'" ;; esac
echo "ok: restarted killed ($src); no fill; store row: $row"

# 3. an orderly restart keeps it too; resume needs an approval, then trading resumes
start
expect_blocked NORMAL "restored from $state at "
"$qts" resume -c "$dir/qts.yaml" >/dev/null 2>&1
[ $? -eq 2 ] || fail "qts resume without --approve was not a usage error"
[ "$(status_get 'r["safety"]["kill"]')" = True ] || fail "an unapproved resume released the switch"
out=$("$qts" resume -c "$dir/qts.yaml" --by tester --approve "checked the positions" 2>&1) ||
    fail "qts resume --approve: $out"
[ "$(status_get 'r["safety"]["trading_allowed"]')" = True ] || fail "trading not allowed after resume"
wait_fills "after the approved resume"
[ "$(get 'r["safety"]["last_approval"]["reason"]')" = "checked the positions" ] ||
    fail "the approval is not shown"
grep -q '"kill":false' "$state" && grep -q '"approval_reason":"checked the positions"' "$state" ||
    fail "safety.json after resume: $(cat "$state")"
stop
[ "$(wc -l <"$dir/var/runs/latest/fills.csv")" -gt 1 ] || fail "no fill in the resumed run's files"
echo "ok: resumed with an approval, trading again"

exit 0
