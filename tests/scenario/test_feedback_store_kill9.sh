#!/usr/bin/env bash
# The learned cost model survives kill -9 (docs/feedback.md, "Persistence"):
# a paper host on a paced synthetic market learns from book-walking orders
# and writes each fit to the SQLite store as it goes; it is killed with
# SIGKILL (no end of run: no model file), restarted on the same var_dir,
# and restores the model from the store; its first order is predicted with
# the restored law.
set -u
. "$(dirname "$0")/scenario_lib.sh"
command -v sqlite3 >/dev/null || { echo "skipped: needs sqlite3"; rm -rf "$dir"; exit 77; }
cp "$(dirname "$0")/feedback_walker.lua" "$dir/walker.lua"
cat >"$dir/qts.yaml" <<YAML
mode: paper
host_id: fbkill
paths: {var_dir: $dir/var}
plugins: {dir: $plugins}
instruments:
  - {symbol: SYNTH, tick_size: "0.01"}
feeds:
  - {name: md, plugin: feed_synthetic, config: {symbols: SYNTH, rate: 2000, seed: 3, depth: 4}}
broker: {plugin: broker_paper, config: {allow_short: true}}
store: {plugin: store_sqlite}
account: {initial_cash: "10000000"}
strategies:
  dir: $dir
  list:
    - {name: walk, file: walker.lua, symbols: [SYNTH], params: {symbol: SYNTH, qty: 40, every: 50}}
YAML
q() { sqlite3 -cmd ".timeout 3000" "$dir/var/qts.db" "$1" 2>/dev/null; }

start_host
n=
for _ in $(seq 300); do
    n=$(q "SELECT n FROM impact_models WHERE model_key = 'SYNTH/buy/direct' AND n >= 6")
    [ -n "$n" ] && break
    sleep 0.1
done
kill -KILL "$host_pid"; wait "$host_pid" 2>/dev/null
[ -n "$n" ] || { echo "FAIL: no fitted row in impact_models while the host ran"; cat "$dir/run.err" | tail -5; exit 1; }
rows=$(q "SELECT count(*) FROM impact_models")
echo "killed with SIGKILL after the store had SYNTH/buy/direct n=$n ($rows keys)"
if [ -e "$dir/var/feedback/impact_model.txt" ]; then
    echo "FAIL: a model file exists although the run never ended"; failed=1
fi

rm -f "$dir/var/qts.sock"
start_host
for _ in $(seq 100); do
    grep -q "impact model restored from the store" "$dir/run.err" && break
    sleep 0.1
done
sleep 3 # some orders
kill -TERM "$host_pid"; wait "$host_pid" 2>/dev/null
host_pid=
first=$(awk -F, 'NR==2{print $39}' "$dir/var/runs/latest/tca.csv")
if ! grep -q "impact model restored from the store ($rows keys)" "$dir/run.err"; then
    echo "FAIL: the restart did not restore the model from the store"; grep feedback "$dir/run.err" | tail -3
    failed=1
elif [ "$first" != 0 ]; then
    echo "FAIL: the restarted host predicted its first order with the defaults (pred_default='$first')"
    failed=1
else
    echo "ok: the model learned before kill -9 came back from the store; the first order used it"
fi
rm -rf "$dir"
exit $failed
