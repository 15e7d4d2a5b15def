#!/usr/bin/env bash
# LOCKDOWN survives kill -9 (issue #20). The user-reachable way in tested
# here is the fail-safe start: an unreadable safety.json starts the host in
# LOCKDOWN with the kill switch on (docs/safety.md, "Persistence"); after
# kill -9 and a restart it is still locked, and only `qts resume --approve`
# lets the strategy trade again.
set -u
. "$(dirname "$0")/persist_lib.sh"

mkdir -p "$dir/var"
# LOCKDOWN: an unreadable state file starts locked (fail-safe), and the
# lock survives kill -9 like the kill switch
printf '{"version":"1","state":"NORM' >"$state"
start
expect_blocked LOCKDOWN "fail-safe LOCKDOWN: $state unreadable"
ls "$state".bad-* >/dev/null 2>&1 || fail "the corrupt file was not kept aside"
grep -q "starting in LOCKDOWN" "$dir/run$n.err" || fail "no fail-safe message in the log"
crash
start
expect_blocked LOCKDOWN "restored from $state at "
sleep 2
[ "$(status_get 'r["fills"]')" = 0 ] || fail "a locked host made fills"
out=$("$qts" resume -c "$dir/qts.yaml" --by tester --approve "state file checked" 2>&1) ||
    fail "qts resume --approve: $out"
[ "$(status_get 'r["safety"]["state"]')" = NORMAL ] || fail "resume did not leave LOCKDOWN"
wait_fills "after leaving LOCKDOWN"
stop
grep -q '"state":"NORMAL"' "$state" || fail "safety.json after leaving LOCKDOWN: $(cat "$state")"
echo "ok: LOCKDOWN survived kill -9 and left only with an approval"
exit 0
