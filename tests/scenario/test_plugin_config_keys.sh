#!/usr/bin/env bash
# A plugin's config: is checked like the host's own keys, as a user meets it:
# `qts check` and `qts run` on a file with a misspelt broker_paper key, or a
# value of the wrong type, exit 2 and name the place and the likely key.
set -u
. "$(dirname "$0")/scenario_lib.sh"
trap 'rm -rf "$dir"' EXIT
rejected="qts: configuration $dir/qts.yaml rejected: 1 error"

write_config "tacker_fee_bps: 5"
for cmd in check run; do
    expect_refused "$cmd" "qts.yaml:17:5: broker.config.tacker_fee_bps: unknown key 'tacker_fee_bps' (did you mean 'taker_fee_bps'?)" "$rejected"
done

write_config "taker_fee_bps: five"
for cmd in check run; do
    expect_refused "$cmd" "qts.yaml:17:20: broker.config.taker_fee_bps: expected a number, got 'five'" "$rejected"
done

# the same file with the key spelt right is accepted
write_config "taker_fee_bps: 5"
if ! "$qts" check -c "$dir/qts.yaml" >"$dir/out" 2>&1; then
    echo "FAIL: qts check refused a good file:"; cat "$dir/out"; failed=1
fi
exit $failed
