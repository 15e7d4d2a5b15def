#!/usr/bin/env bash
# A running host refuses a reloaded file whose plugin config: has a misspelt
# key, as it refuses a misspelt host key: `qts reload config` says where and
# what was meant, and the running configuration stays.
set -u
. "$(dirname "$0")/scenario_lib.sh"
# an endless feed at 20 events a second of real time
feed="      events: 0
      rate: 20
      speed: 1"

write_config "taker_fee_bps: 5" "$feed"
start_host

write_config "tacker_fee_bps: 5" "$feed"
out=$("$qts" reload config -c "$dir/qts.yaml" 2>&1)
rc=$?
want="qts.yaml:19:5: broker.config.tacker_fee_bps: unknown key 'tacker_fee_bps' (did you mean 'taker_fee_bps'?)"
if [ "$rc" -ne 1 ] || ! grep -qF -- "$want" <<<"$out"; then
    echo "FAIL: qts reload config exited $rc, expected 1 and '$want' in:"; echo "$out"; exit 1
fi
echo "ok: reload refused: $want"

write_config "taker_fee_bps: 6" "$feed"
if ! out=$("$qts" reload config -c "$dir/qts.yaml" 2>&1); then
    echo "FAIL: a good file was refused:"; echo "$out"; exit 1
fi
echo "ok: a good file reloads"
exit 0
