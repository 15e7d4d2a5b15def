#!/usr/bin/env bash
# Every example configuration in docs/ is a promise: each ```yaml block of
# docs/*.md and docs/*/*.md that is a whole configuration (it has `mode:`
# `instruments:` and a `feeds:` or `broker:` section) is taken from the page as written and
# checked with `qts check` (plugins from the build, strategies from the
# repository). A replay example on synthetic data also runs: `qts run`, its
# feed limited to 2000 events, must exit 0 with a summary.json. Examples
# that need a network, a venue account or a data file are checked only; the
# test says so for each. docs/backtesting.md's example is run by
# test_bars_doc_example.
set -u
. "$(dirname "$0")/scenario_lib.sh"
root=$(cd "$(dirname "$0")/../.." && pwd)
trap 'rm -rf "$dir"' EXIT
command -v python3 >/dev/null || { echo "SKIP: python3 is needed to read the pages"; exit 77; }
failed=0
fail() { echo "FAIL: $*"; failed=1; }

# one file per example: <page>_<line>.yaml, with the paths a reader's
# checkout would resolve made absolute
python3 - "$root" "$dir" "$plugins" <<'PY'
import glob, os, re, sys
root, out, plugins = sys.argv[1:]
for page in sorted(glob.glob(root + "/docs/*.md") + glob.glob(root + "/docs/*/*.md")):
    text = open(page).read()
    for m in re.finditer(r"^( *)```ya?ml\n(.*?)^ *```", text, re.S | re.M):
        ind = len(m.group(1))
        body = "".join(l[ind:] + "\n" for l in m.group(2).splitlines())
        if "mode:" not in body or "instruments:" not in body or not ("feeds:" in body or "broker:" in body):
            continue
        body = body.replace("../build/plugins", plugins).replace("../strategies", root + "/strategies")
        if not re.search(r"^plugins:", body, re.M):
            body += "plugins: {dir: %s}\n" % plugins
        line = text[:m.start()].count("\n") + 1
        name = "%s_%d.yaml" % (os.path.relpath(page, root + "/docs").replace("/", "_")[:-3], line)
        open(os.path.join(out, name), "w").write(body)
PY
n=0
for y in "$dir"/*.yaml; do
    [ -e "$y" ] || continue
    n=$((n + 1))
    ex=$(basename "$y" .yaml)
    case $ex in backtesting_*) continue ;; esac # test_bars_doc_example runs it on its bar file
    if ! (cd "$dir" && "$qts" check -c "$y" >"$dir/$ex.check" 2>&1); then
        fail "$ex: qts check refused it"; tail -5 "$dir/$ex.check"; continue
    fi
    if grep -q "^mode: replay" "$y" && grep -q "feed_synthetic" "$y"; then
        # a short run: the synthetic feed stops after 2000 events
        python3 - "$y" <<'PY'
import re, sys
p = sys.argv[1]
s = open(p).read()
s = re.sub(r"events: \d+", "events: 2000", s)
if "events:" not in s:
    s = re.sub(r"config: \{", "config: {events: 2000, ", s, count=1)
s = s.replace("var_dir: ../var", "var_dir: var")
open(p, "w").write(s)
PY
        (cd "$dir" && timeout 120 "$qts" run -c "$y" >"$dir/$ex.out" 2>"$dir/$ex.err")
        rc=$?
        if [ $rc -ne 0 ] || ! grep -q "^summary " "$dir/$ex.out"; then
            fail "$ex: qts run exited $rc"; tail -5 "$dir/$ex.err"
        else
            echo "ok: $ex: qts check and a short qts run"
        fi
    else
        echo "ok: $ex: qts check (not run: it needs a network, an account or a data file)"
    fi
done
[ $n -ge 4 ] || fail "only $n example configurations found in docs/"
exit $failed
