#!/usr/bin/env bash
# `qts report --compare A B` on two runs of the default configuration (a
# shorter and a longer demo): the terminal table shows both runs' headline
# figures as summary.json has them and each strategy's net PnL by name; the
# page has both equity curves; runs are named by id (under QTS_VAR_DIR) or
# by directory; a missing run is a clear error, exit 1; bad usage exits 2.
set -u
. "$(dirname "$0")/scenario_lib.sh"
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; failed=1; }

run_demo() {
    QTS_DEMO_EVENTS=$1 QTS_VAR_DIR="$dir/var" QTS_PLUGIN_DIR="$plugins" \
        "$qts" run -c config/qts.yaml >"$dir/out.$1" 2>&1 || { cat "$dir/out.$1"; fail "run $1 exited $?"; exit 1; }
    readlink -f "$dir/var/runs/latest"
}
a=$(run_demo 20000)
sleep 1.1 # run ids carry the start second
b=$(run_demo 40000)
ida=$(basename "$a") idb=$(basename "$b")

# by id, looked up under $QTS_VAR_DIR/runs
QTS_VAR_DIR="$dir/var" "$qts" report --compare "$ida" "$idb" >"$dir/table" 2>"$dir/err" ||
    { fail "--compare by id exited $?"; cat "$dir/err"; }
cat "$dir/table"
page="$dir/var/runs/compare-$ida-$idb.html"
[ "$(tail -1 "$dir/table")" = "$page" ] || fail "last line is not the page's path: $(tail -1 "$dir/table")"
head -1 "$dir/table" | grep -q "$ida .*$idb" || fail "the header does not name both runs"

python3 - "$a" "$b" "$dir/table" "$page" <<'PY' || failed=1
import json, sys
a, b, table, page = sys.argv[1:]
sa, sb = (json.load(open(d + "/summary.json")) for d in (a, b))
rows = {l[:26].strip(): l[26:].split() for l in open(table).read().splitlines()[1:-1]}
bad = []
def row(label):
    r = rows.get(label)
    if r is None: bad.append("no row %r" % label)
    return r or ["?", "?"]
ta, tb = row("closed trades")[:2]
if (ta, tb) != (str(sa["counts"]["trades"]), str(sb["counts"]["trades"])):
    bad.append("closed trades %s %s, summaries %s %s" % (ta, tb, sa["counts"]["trades"], sb["counts"]["trades"]))
for k, s in ((0, sa), (1, sb)):
    got = float(row("equity at end")[k]); want = s["stats"]["equity_end"]
    if abs(got - want) > 1e-6 * abs(want): bad.append("equity at end %s, summary %s" % (got, want))
for st in sa["strategies"]:
    r = row("net PnL " + st["name"])
    if r[0] != "n/a" and abs(float(r[0]) - st["net_pnl"]) > 1e-3: bad.append("net PnL %s: %s vs %s" % (st["name"], r[0], st["net_pnl"]))
extra = [k for k in rows if k.startswith("net PnL strategy ")]
if extra: bad.append("unnamed strategy rows: %s" % extra)
html = open(page).read()
start = html.index('id="qts-data"'); data = html[html.index(">", start) + 1: html.index("</script>", start)]
d = json.loads(data)["cmp"]
if d["names"] != [a.rsplit("/", 1)[1], b.rsplit("/", 1)[1]]: bad.append("page series %s" % d["names"])
if len(d["y"]) != 2 or not any(v is not None for v in d["y"][0]) or not any(v is not None for v in d["y"][1]):
    bad.append("the page lacks an equity curve")
for x in bad: print("FAIL:", x)
sys.exit(1 if bad else 0)
PY

# by directory, with --out
"$qts" report --compare "$a" "$b" --out "$dir/cmp.html" >/dev/null || fail "--compare by directory exited $?"
[ -s "$dir/cmp.html" ] || fail "--out: no page"

# a missing run: exit 1, named; bad usage: exit 2
"$qts" report --compare "$a" "$dir/var/runs/nope" >/dev/null 2>"$dir/err"; rc=$?
[ "$rc" = 1 ] && grep -q "nope" "$dir/err" || fail "missing run: exit $rc, $(cat "$dir/err")"
"$qts" report --compare "$a" >/dev/null 2>&1; rc=$?
[ "$rc" = 2 ] || fail "one run: exit $rc, want 2"

[ "$failed" = 0 ] && echo "all ok"
exit "$failed"
