#!/usr/bin/env bash
# A quiet terminal: `qts run` of the default configuration on a terminal
# (a pseudo-terminal from script(1), as `make run` has) prints one check
# line, at most 10 warnings and a pointer to the rest, the progress bar, and
# a summary naming each strategy with its PnL and trades: at most ~30 lines
# in all. The INFO lines are in the run's qts.log; -v shows everything.
set -u
. "$(dirname "$0")/scenario_lib.sh"
trap 'rm -rf "$dir"' EXIT
command -v script >/dev/null || { echo "SKIP: script(1) (util-linux) is not installed"; exit 77; }
failed=0
fail() { echo "FAIL: $*"; failed=1; }

# the terminal's lines: carriage returns redraw the progress bar in place
lines() { tr '\r' '\n' <"$1" | sed 's/\x1b\[K//g' | grep -v '^replay ' | grep -cv '^[[:space:]]*$'; }

QTS_DEMO_EVENTS=100000 QTS_VAR_DIR="$dir/var" \
    script -qec "'$qts' run -c config/qts.yaml" /dev/null >"$dir/tty" 2>&1
rc=$?
n=$(lines "$dir/tty")
run=$(readlink -f "$dir/var/runs/latest")
[ $rc -eq 0 ] || fail "qts run exited $rc"
[ "$n" -le 30 ] && echo "ok: $n lines on the terminal" || { fail "$n lines on the terminal"; cat "$dir/tty"; }
grep -q "^checked  *config/qts.yaml: replay, 1 feed" "$dir/tty" || fail "no one-line check summary"
for s in ema rsi mm; do
    grep -Eq "^  $s +pnl +-?[0-9.]+ +trades +[0-9]+" "$dir/tty" || fail "no summary line for $s"
done
[ "$(grep -c ' INFO ' "$dir/tty")" -eq 0 ] || fail "INFO lines on the terminal"
grep -q " INFO .*strategy added name=ema" "$run/qts.log" || fail "no INFO lines in $run/qts.log"
grep -q "^log  *$run/qts.log" "$dir/tty" || fail "the summary does not name the log"

# -v: the full check summary and every log line on the terminal
QTS_DEMO_EVENTS=2000 QTS_VAR_DIR="$dir/var" \
    script -qec "'$qts' run -c config/qts.yaml -v" /dev/null >"$dir/tty-v" 2>&1
grep -q "ok (compiles)" "$dir/tty-v" && grep -q " INFO .*strategy added" "$dir/tty-v" &&
    echo "ok: -v shows the check summary and the INFO lines" || fail "-v is not verbose"

# a missing strategy file: the full summary says which, exit 2
sed "s#file: rsi_scalp.lua#file: nowhere.lua#" config/qts.yaml >"$dir/bad.yaml"
sed -i "s#\.\./strategies#$PWD/strategies#; s#\.\./build/plugins#$plugins#" "$dir/bad.yaml"
QTS_VAR_DIR="$dir/var" "$qts" run -c "$dir/bad.yaml" >"$dir/out" 2>"$dir/err"
rc=$?
[ $rc -eq 2 ] && grep -q "nowhere.lua" "$dir/out" && echo "ok: a missing file prints the full summary" ||
    fail "a missing strategy file: exit $rc, $(cat "$dir/out" "$dir/err" | tail -5)"
exit $failed
