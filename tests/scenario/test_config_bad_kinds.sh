#!/usr/bin/env bash
# Input the configuration loader used to crash on or to replace silently, as
# a user meets it: `plugins: 5` (a scalar where a mapping belongs) with a
# broker named without a path, and `account.initial_cash: 1e32` or an amount
# past the 64-bit cash range. `qts check` and `qts run` exit 2 with
# file:line:col; a running host refuses the same file on SIGHUP and on
# `qts reload config` and keeps running.
set -u
. "$(dirname "$0")/scenario_lib.sh"
pid=
cleanup() {
    [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    rm -rf "$dir"
}
trap cleanup EXIT
failed=0

# bad_config <top-level YAML appended after a good file>
bad_config() {
    write_config "taker_fee_bps: 5" "${feed:-      events: 100}"
    sed -i '/^plugins:/,/^  dir:/d' "$dir/qts.yaml"  # plugins: comes from $1
    printf '%s\n' "$1" >>"$dir/qts.yaml"
}

# expect_refused <command> <text the error must contain>
expect_refused() {
    local cmd=$1 want=$2
    "$qts" "$cmd" -c "$dir/qts.yaml" >"$dir/out" 2>"$dir/err"
    local rc=$?
    if [ "$rc" -ne 2 ]; then
        echo "FAIL: qts $cmd exited $rc (139 = crash), expected 2"; cat "$dir/err"; failed=1
    elif ! grep -qF -- "$want" "$dir/err"; then
        echo "FAIL: qts $cmd: no '$want' in:"; cat "$dir/err"; failed=1
    else
        echo "ok: qts $cmd: $want"
    fi
}

bad_config "plugins: 5"
for cmd in check run; do
    expect_refused "$cmd" "qts.yaml:16:10: plugins: expected a mapping, got '5'"
done

bad_config "plugins: {dir: $plugins}
account:
  initial_cash: 1e32"
for cmd in check run; do
    expect_refused "$cmd" "qts.yaml:18:17: account.initial_cash: expected a decimal number such as \"0.01\", got '1e32'"
done

bad_config "plugins: {dir: $plugins}
account:
  initial_cash: 100000000000000000000000000000000"
for cmd in check run; do
    expect_refused "$cmd" "account.initial_cash: expected an amount of at most 9223372036854.775807 with at most 6 decimals"
done

# a running host: the same files are refused, and it keeps running
feed="      events: 0
      rate: 20
      speed: 1"
bad_config "plugins: {dir: $plugins}"
"$qts" run -c "$dir/qts.yaml" >"$dir/run.out" 2>"$dir/run.err" &
pid=$!
for _ in $(seq 100); do
    [ -S "$dir/var/qts.sock" ] && break
    sleep 0.1
done
if [ ! -S "$dir/var/qts.sock" ]; then
    echo "FAIL: the host did not start"; cat "$dir/run.err"; exit 1
fi
bad_config "plugins: 5"
out=$("$qts" reload config -c "$dir/qts.yaml" 2>&1)
rc=$?
# 2: the command checks the file itself before asking the host
if [ "$rc" -ne 2 ] || ! grep -qF "plugins: expected a mapping, got '5'" <<<"$out"; then
    echo "FAIL: qts reload config exited $rc, expected 2 and the error in:"; echo "$out"; failed=1
else
    echo "ok: qts reload config refused plugins: 5"
fi
kill -HUP "$pid"
sleep 1
if ! kill -0 "$pid" 2>/dev/null; then
    echo "FAIL: the host died after SIGHUP with plugins: 5"; tail -5 "$dir/run.err"; failed=1
    pid=
else
    echo "ok: the host survived SIGHUP with plugins: 5"
fi
if ! "$qts" status -s "$dir/var/qts.sock" >/dev/null 2>&1; then
    echo "FAIL: qts status fails after the refused reloads"; failed=1
fi
exit $failed
