#!/usr/bin/env bash
# Run history as a user reads it: two runs of the default configuration
# leave two run directories; `qts runs` lists them newest first with the
# mode, the closed trades and fills of each summary.json and `*` on the one
# runs/latest points to; a run directory without summary.json (a run killed
# before its end) is listed as such, not skipped; a missing folder is a
# clear error.
set -u
. "$(dirname "$0")/scenario_lib.sh"
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; failed=1; }

for n in 20000 40000; do
    QTS_VAR_DIR="$dir/var" QTS_DEMO_EVENTS=$n "$qts" run -c config/qts.yaml >"$dir/out" 2>"$dir/err" ||
        { echo "FAIL: qts run ($n events) exited $?"; tail -5 "$dir/err"; exit 1; }
    sleep 1 # run ids are named by their start second
done
mkdir "$dir/var/runs/20000101-000000-dead00" # a run killed before it wrote anything
QTS_VAR_DIR="$dir/var" "$qts" runs >"$dir/runs" 2>"$dir/runs.err" || fail "qts runs exited $?"
cat "$dir/runs"
python3 - "$dir/var/runs" "$dir/runs" <<'PY' || failed=1
import json, os, sys
runs, out = sys.argv[1], open(sys.argv[2]).read().splitlines()
ids = sorted((d for d in os.listdir(runs) if d != "latest"), reverse=True)
latest = os.path.basename(os.readlink(runs + "/latest"))
bad = []
rows = out[1:]
if [r.split()[0] for r in rows] != ids:
    bad.append("rows %s, expected run ids newest first %s" % ([r.split()[0] for r in rows], ids))
for r in rows:
    f = r.split()
    if f[0] == "20000101-000000-dead00":
        if "killed" not in r:
            bad.append("the run without summary.json is not marked: " + r)
        continue
    s = json.load(open("%s/%s/summary.json" % (runs, f[0])))
    if (f[1] == "*") != (f[0] == latest):
        bad.append("latest marker wrong on " + r)
    if f[1] == "*":
        f.pop(1)
    if f[1] != "replay":
        bad.append("mode %s, expected replay" % f[1])
    trades, fills = int(f[8]), int(f[9])
    if (trades, fills) != (s["counts"]["trades"], s["counts"]["fills"]):
        bad.append("%s: trades/fills %d/%d, summary.json %s/%s" % (f[0], trades, fills,
                   s["counts"]["trades"], s["counts"]["fills"]))
for b in bad:
    print("FAIL: " + b)
sys.exit(1 if bad else 0)
PY
"$qts" runs --runs "$dir/nothing" >/dev/null 2>"$dir/err2"
rc=$?
[ $rc -eq 1 ] && grep -q "nothing: No such file" "$dir/err2" || fail "a missing runs folder: exit $rc, $(cat "$dir/err2")"
[ $failed -eq 0 ] && echo "ok: qts runs lists the run directories with their headline figures"
exit $failed
