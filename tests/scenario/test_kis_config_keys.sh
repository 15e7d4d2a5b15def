#!/usr/bin/env bash
# broker_kis declares its config: keys like every plugin: `qts check` on a
# file whose broker_kis slot misspells a key exits 2 and names the place and
# the likely key, and accepts the file once the key is spelt right.
set -u
. "$(dirname "$0")/scenario_lib.sh"
trap 'rm -rf "$dir"' EXIT
failed=0

if [ ! -e "$plugins/broker_kis.so" ]; then
    echo "skip: broker_kis not built"; exit 0
fi

write_config "rest_ulr: http://127.0.0.1:9" "      events: 100" broker_kis
"$qts" check -c "$dir/qts.yaml" >"$dir/out" 2>"$dir/err"
rc=$?
want="qts.yaml:17:5: broker.config.rest_ulr: unknown key 'rest_ulr' (did you mean 'rest_url'?)"
if [ "$rc" -ne 2 ]; then
    echo "FAIL: qts check exited $rc, expected 2"; cat "$dir/out" "$dir/err"; failed=1
elif ! grep -qF -- "$want" "$dir/err"; then
    echo "FAIL: no '$want' in:"; cat "$dir/err"; failed=1
else
    echo "ok: $want"
fi

write_config "rest_url: http://127.0.0.1:9" "      events: 100" broker_kis
if ! "$qts" check -c "$dir/qts.yaml" >"$dir/out" 2>&1; then
    echo "FAIL: qts check refused a good file:"; cat "$dir/out"; failed=1
fi
exit $failed
