#!/usr/bin/env bash
# Run directories and decision records, as a user meets them: each `qts run`
# keeps its own directory under var/runs/<run id>, runs/latest links to the
# newest, a `latest` directory left by an older host is kept aside, and the
# run's decisions.csv has one PreCheck row per order the strategies asked for.
set -u
. "$(dirname "$0")/scenario_lib.sh"
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; failed=1; }

runs="$dir/var/runs"
# an older host wrote into a real runs/latest directory
mkdir -p "$runs/latest" && echo old >"$runs/latest/summary.json"

run_demo() {
    QTS_DEMO_EVENTS=20000 QTS_VAR_DIR="$dir/var" QTS_PLUGIN_DIR="$plugins" \
        "$qts" run -c config/qts.yaml >"$dir/out.$1" 2>&1 || { fail "run $1 exited $?"; cat "$dir/out.$1"; }
}
run_demo 1
sleep 1.1 # run ids carry the start second: a later run sorts after
run_demo 2

ids=$(cd "$runs" && ls -d 2*-* 2>/dev/null)
[ "$(echo "$ids" | wc -w)" = 2 ] || fail "expected 2 run directories, found: $(ls "$runs")"
newest=$(echo "$ids" | sort | tail -1)
[ -L "$runs/latest" ] || fail "runs/latest is not a symbolic link"
[ "$(readlink "$runs/latest")" = "$newest" ] || fail "latest -> $(readlink "$runs/latest"), want $newest"
aside=$(cd "$runs" && ls -d latest-* 2>/dev/null)
[ -n "$aside" ] && [ "$(cat "$runs/$aside/summary.json")" = old ] ||
    fail "the old latest directory was not kept aside: $(ls "$runs")"
for id in $ids; do
    [ -s "$runs/$id/summary.json" ] || fail "$id has no summary.json"
    grep -qF "runs/$id/summary.json" "$dir"/out.* || fail "no run printed the path of $id"
done
echo "ok: run directories $(echo $ids) latest=$newest aside=$aside"

# decisions.csv: one precheck row per order asked, rejections with a code
d="$runs/latest/decisions.csv"
asked=$(awk '$1 == "orders" { print $2 }' "$dir/out.2")
rows=$(($(wc -l <"$d") - 1))
[ "$rows" -gt 0 ] && [ "$rows" = "$asked" ] || fail "decisions.csv has $rows rows, $asked orders asked"
head -1 "$d" | grep -q '^ts_ns,strategy_id,tag,instrument,symbol,side,type,qty_asked,px_asked,stage,outcome,' ||
    fail "decisions.csv header: $(head -1 "$d")"
bad=$(awk -F, 'NR > 1 && $10 != "precheck" { n++ } NR > 1 && $11 == "accepted" && $16 == 0 { n++ }
    NR > 1 && $11 == "rejected" && $14 == "" { n++ } END { print n + 0 }' "$d")
[ "$bad" = 0 ] || fail "$bad decisions.csv rows lack a stage, an order id or a code"
echo "ok: decisions.csv $rows rows for $asked orders"

# the usage text says where runs go
"$qts" run --help 2>&1 | grep -q "runs/<run id>" || fail "qts run --help does not name runs/<run id>"
[ "$failed" = 0 ] && echo "all ok"
exit "$failed"
