#!/usr/bin/env bash
# Issue #20: TWAP orders whose slices the venue refuses (here: broker_paper's
# price band, tighter than the order's limit) end REJECTED with the venue's
# reason. The run exits 0, the safety state stays NORMAL (no FS090, no
# LOCKDOWN), and the rejection with its reason is in the log and the store.
set -u
. "$(dirname "$0")/scenario_lib.sh"
trap '[ -n "${KEEP:-}" ] || rm -rf "$dir"' EXIT
failed=0
fail() { echo "FAIL: $*"; failed=1; }

write_config "price_band_bps: 10" "      symbols: SYNTH
      events: 3000
      rate: 50
      seed: 7"
cp "$(dirname "$0")/algo_reject_twap.lua" "$dir/"
cat >>"$dir/qts.yaml" <<YAML
store:
  plugin: store_sqlite
  config:
    path: qts.db
strategies:
  dir: $dir
  list:
    - name: twap
      file: algo_reject_twap.lua
      symbols: [SYNTH]
      params: {symbol: SYNTH}
YAML

"$qts" run -c "$dir/qts.yaml" >"$dir/out" 2>"$dir/log"
rc=$?
[ "$rc" -eq 0 ] || { fail "qts run exited $rc"; tail -20 "$dir/log"; }

# both orders rejected with the venue's reason, in the host's log and in
# what the strategy was told
n=$(grep -c "order rejected by the venue .*reason=rejected by the venue: price outside the price band" "$dir/log")
[ "$n" -eq 2 ] || fail "expected 2 venue rejections in the log, got $n"
n=$(grep -c "kind=rejected code=-19 reason=rejected by the venue: price outside the price band" "$dir/log")
[ "$n" -eq 2 ] || fail "expected the strategy to hear 2 rejections, got $n"

# the safety state never left NORMAL: no FS090, no transition
grep -q "FS090" "$dir/log" && fail "FS090 raised: $(grep FS090 "$dir/log" | head -2)"
grep -Eq "safety .*state=NORMAL->" "$dir/log" && fail "safety state left NORMAL: $(grep -E 'state=NORMAL->' "$dir/log" | head -2)"
grep -Eq "LOCKDOWN|state=FAIL" "$dir/log" && fail "safety tripped"

# the store has the REJECTED order events (event 2) with the reason
rows=$(sqlite3 "$dir/var/qts.db" "select count(*) from order_events where event = 2 and reason = 'rejected by the venue: price outside the price band'")
[ "$rows" = "2" ] || fail "expected 2 REJECTED order events in the store, got '$rows'"
# and no slice after the first of each order reached the broker
kids=$(sqlite3 "$dir/var/qts.db" "select count(distinct client_order_id) from order_events")
[ "$rows" = "2" ] && [ "$kids" -le 2 ] || fail "more slices than orders were sent ($kids)"

[ "$failed" -eq 0 ] && echo "ok: TWAP slices refused by the venue -> REJECTED, safety NORMAL"
exit $failed
