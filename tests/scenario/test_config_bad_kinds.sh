#!/usr/bin/env bash
# Input the configuration loader used to crash on or to replace silently, as
# a user meets it: `plugins: 5` (a scalar where a mapping belongs) with a
# broker named without a path, and `account.initial_cash: 1e32` or an amount
# past the 64-bit cash range. `qts check` and `qts run` exit 2 with
# file:line:col; a running host refuses the same file on SIGHUP and on
# `qts reload config` and keeps running.
set -u
. "$(dirname "$0")/scenario_lib.sh"
trap 'rm -rf "$dir"' EXIT

# bad_config <top-level YAML that replaces the plugins: section>
bad_config() {
    write_config "taker_fee_bps: 5" "${feed:-      events: 100}"
    sed -i '/^plugins:/,/^  dir:/d' "$dir/qts.yaml"
    printf '%s\n' "$1" >>"$dir/qts.yaml"
}

cash="plugins: {dir: $plugins}
account:
  initial_cash:"
# each case: the YAML, then the message `qts check` and `qts run` must give
cases=(
    "plugins: 5"
    "qts.yaml:16:10: plugins: expected a mapping, got '5'"
    "$cash 1e32"
    "qts.yaml:18:17: account.initial_cash: expected a decimal number such as \"0.01\", got '1e32'"
    "$cash 100000000000000000000000000000000"
    "qts.yaml:18:17: account.initial_cash: expected an amount of at most 9223372036854.775807 with at most 6 decimals"
)
for ((i = 0; i < ${#cases[@]}; i += 2)); do
    bad_config "${cases[i]}"
    for cmd in check run; do
        expect_refused "$cmd" "${cases[i + 1]}"
    done
done

# a running host: the same file is refused, and the host keeps running
feed="      events: 0
      rate: 20
      speed: 1"
bad_config "plugins: {dir: $plugins}"
start_host
bad_config "plugins: 5"
out=$("$qts" reload config -c "$dir/qts.yaml" 2>&1)
rc=$?
# 2: the command checks the file itself before asking the host
if [ "$rc" -ne 2 ] || ! grep -qF "plugins: expected a mapping, got '5'" <<<"$out"; then
    echo "FAIL: qts reload config exited $rc, expected 2 and the error in:"; echo "$out"; failed=1
else
    echo "ok: qts reload config refused plugins: 5"
fi
kill -HUP "$host_pid"
sleep 1
if ! kill -0 "$host_pid" 2>/dev/null; then
    echo "FAIL: the host died after SIGHUP with plugins: 5"; tail -5 "$dir/run.err"; failed=1
    host_pid=
elif ! grep -qF "plugins: expected a mapping, got '5'" "$dir/run.err"; then
    echo "FAIL: the host did not log why it refused the SIGHUP reload"; tail -5 "$dir/run.err"
    failed=1
else
    echo "ok: the host survived SIGHUP with plugins: 5 and logged why"
fi
if ! "$qts" status -s "$dir/var/qts.sock" >/dev/null 2>&1; then
    echo "FAIL: qts status fails after the refused reloads"; failed=1
fi
exit $failed
