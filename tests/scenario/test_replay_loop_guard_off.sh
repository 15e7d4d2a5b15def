#!/usr/bin/env bash
# strategies.replay_loop_guard: false JIT-compiles the strategies' code in a
# replay: the default configuration's fills, trades and summary are the
# same bytes as with the guard on.
set -u
. "$(dirname "$0")/scenario_lib.sh"
trap 'rm -rf "$dir"' EXIT
src=${QTS_SOURCE_DIR:?}
sed "s|dir: ../strategies|dir: $src/strategies|" "$src/config/qts.yaml" >"$dir/guard.yaml"
sed "s|dir: ../strategies|dir: $src/strategies\n  replay_loop_guard: false|" "$src/config/qts.yaml" >"$dir/jit.yaml"
grep -q "replay_loop_guard: false" "$dir/jit.yaml" || { echo "FAIL: config not written"; exit 1; }
for c in guard jit; do
    if ! QTS_DEMO_EVENTS=100000 QTS_VAR_DIR="$dir/var-$c" "$qts" run -c "$dir/$c.yaml" \
        >"$dir/$c.out" 2>"$dir/$c.err"; then
        echo "FAIL: qts run -c $c.yaml"; tail -n 20 "$dir/$c.err"; exit 1
    fi
done
for f in fills.csv trades.csv summary.json; do
    cmp "$dir/var-guard/runs/latest/$f" "$dir/var-jit/runs/latest/$f" ||
        { echo "FAIL: $f differs with the loop guard off"; exit 1; }
done
echo "ok: $(($(wc -l <"$dir/var-jit/runs/latest/fills.csv") - 1)) fills, the same with the guard off"
