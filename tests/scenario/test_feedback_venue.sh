#!/usr/bin/env bash
# The simulated venue and the live side price an order alike
# (docs/feedback.md, "The paper broker"): a first run on a synthetic book
# with the paper venue's impact law 40 * (q/V)^0.6 teaches the host that law
# (fitted k and beta checked); a second run prices the venue with the
# learned file (`impact_model: learned`) and restores the same model on the
# host (feedback.load): the host's prediction for each order matches what
# the venue then charged it (slippage vs arrival, per order).
set -u
. "$(dirname "$0")/scenario_lib.sh"
trap 'rm -rf "$dir"' EXIT
cp "$(dirname "$0")/feedback_walker.lua" "$dir/walker.lua"

# write_run <broker keys> <feed seed> <feedback section>
write_run() {
    cat >"$dir/qts.yaml" <<YAML
mode: replay
paths: {var_dir: $dir/var}
plugins: {dir: $plugins}
instruments:
  - {symbol: SYNTH, px_exp: 4, tick_size: "0.0001"}
feeds:
  - {name: md, plugin: feed_synthetic,
     config: {symbols: SYNTH, events: 40000, seed: $2, depth: 20, px_exp: 4, tick: "0.0001"}}
broker: {plugin: broker_paper, config: {allow_short: true, $1}}
account: {initial_cash: "10000000"}
feedback: $3
strategies:
  dir: $dir
  list:
    - {name: walk, file: walker.lua, symbols: [SYNTH],
       params: {symbol: SYNTH, qty: 40, large: 200, large_every: 3, every: 40}}
YAML
}

write_run "impact_model: power, impact_coef_bps: 40, impact_exponent: 0.6" 3 "{save: true}"
"$qts" run -c "$dir/qts.yaml" >"$dir/run.out" 2>"$dir/run.err" || {
    echo "FAIL: the first run failed"; tail -5 "$dir/run.err"; exit 1; }
model=$dir/var/feedback/impact_model.txt
fit=$(sed -n 's/^SYNTH n=[0-9.e+-]* k=\([0-9.e+-]*\) beta=\([0-9.e+-]*\) .*/\1 \2/p' "$model")
echo "venue law k=40 beta=0.6; learned: ${fit:-none}"
if ! awk -v f="$fit" 'BEGIN{split(f, a, " "); exit !(a[1] > 36 && a[1] < 46 && a[2] > 0.55 && a[2] < 0.65)}'; then
    echo "FAIL: the host did not learn the venue's law:"; cat "$model"; exit 1
fi
cp "$model" "$dir/learned.txt"

write_run "impact_model: learned, impact_file: $dir/learned.txt" 5 "{load: true, save: false}"
"$qts" run -c "$dir/qts.yaml" >"$dir/run.out" 2>"$dir/run.err" || {
    echo "FAIL: the second run failed"; tail -5 "$dir/run.err"; exit 1; }
# tca.csv: 11 qty_filled, 20 slip_arrival_bps, 37 pred_slip_bps, 39 pred_default
read -r n pred real mae < <(awk -F, 'NR>1 && $39==0 && $11>0 {n++; p+=$37; r+=$20;
    d=$37-$20; e+=d>0?d:-d} END{if(n) print n, p/n, r/n, e/n; else print 0, 0, 0, 0}' \
    "$dir/var/runs/latest/tca.csv")
echo "second run: $n orders predicted with the restored law: mean predicted $pred bps," \
     "mean charged $real bps, mean absolute difference $mae bps"
if [ "$n" -lt 20 ]; then
    echo "FAIL: too few orders predicted with the restored model"; failed=1
elif ! awk -v p="$pred" -v r="$real" -v e="$mae" 'BEGIN{exit !(e < 0.1 && (p-r)^2 < (0.05*r)^2)}'; then
    echo "FAIL: the venue's learned law and the host's prediction disagree"; failed=1
else
    echo "ok: the simulated venue with the learned law charges what the host predicts"
fi
exit $failed
