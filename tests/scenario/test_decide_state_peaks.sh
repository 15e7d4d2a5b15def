#!/usr/bin/env bash
# An operating-state change is not a drawdown: stepping BALANCED ->
# AGGRESSIVE gives the swing pool a smaller share of the equity, and that
# smaller capital must not read as a loss against the pool's old peak. The
# default demo's month of market with the default 3-day dwell steps up to
# AGGRESSIVE; no pool may be locked by FS082 for it (it was: a 43 % "drawdown"
# locked swing and stopped every demo strategy).
set -u
. "$(dirname "$0")/scenario_lib.sh"
trap 'rm -rf "$dir"' EXIT

# the default configuration with the default dwell, 400k events (~12 days)
sed -e '/^ *min_dwell: 90d/d' config/qts.yaml >"$dir/qts.yaml"
sed -i -e "s#^  var_dir: .*#  var_dir: $dir/var#" \
    -e "s#^  dir: \${QTS_PLUGIN_DIR.*#  dir: $plugins#" \
    -e "s#^  dir: \.\./strategies#  dir: $PWD/strategies#" "$dir/qts.yaml"
QTS_DEMO_EVENTS=400000 "$qts" run -c "$dir/qts.yaml" >"$dir/out" 2>"$dir/err"
rc=$?
if [ $rc -ne 0 ]; then
    echo "FAIL: qts run exited $rc"; tail -5 "$dir/err"; exit 1
fi
log="$dir/var/runs/latest/qts.log"
[ -s "$log" ] || log="$dir/err"
if ! grep -q "operating state BALANCED -> AGGRESSIVE" "$log"; then
    echo "FAIL: the run never stepped up to AGGRESSIVE (the test needs it)"; exit 1
fi
if grep -q "FS082" "$log"; then
    echo "FAIL: a pool was locked by FS082 after the state change:"
    grep "FS082" "$log" | head -3; exit 1
fi
echo "ok: BALANCED -> AGGRESSIVE moved the pools' peaks with their capital (no FS082)"
