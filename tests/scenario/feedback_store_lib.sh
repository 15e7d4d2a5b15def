# feedback_store_lib.sh — sourced by test_feedback_store_*.sh after
# scenario_lib.sh: the learned cost model saved in the store and restored
# from it (docs/feedback.md, "Persistence"). The caller sets store_yaml (the
# `store:` section, indented two spaces) and q (one SQL query -> rows a|b|c).
cp "$(dirname "$0")/feedback_walker.lua" "$dir/walker.lua"
fail() { echo "FAIL: $*"; echo "--- run.err (last 10 lines)"; tail -n 10 "$dir/run.err" 2>/dev/null; failed=1; }

# write_walker <feedback section>
write_walker() {
    cat >"$dir/qts.yaml" <<YAML
mode: replay
host_id: fbstore
paths: {var_dir: $dir/var}
plugins: {dir: $plugins}
instruments:
  - {symbol: SYNTH, tick_size: "0.01"}
feeds:
  - {name: md, plugin: feed_synthetic, config: {symbols: SYNTH, events: 20000, seed: 3, depth: 4}}
broker: {plugin: broker_paper, config: {allow_short: true}}
store:
$store_yaml
account: {initial_cash: "10000000"}
feedback: $1
strategies:
  dir: $dir
  list:
    - {name: walk, file: walker.lua, symbols: [SYNTH], params: {symbol: SYNTH, qty: 40, every: 50}}
YAML
}

run() {
    "$qts" run -c "$dir/qts.yaml" >"$dir/run.out" 2>"$dir/run.err"
    local rc=$?
    [ "$rc" -eq 0 ] || { fail "qts run exited $rc"; exit 1; }
    run_dir=$(readlink -f "$dir/var/runs/latest")
}

# column <name> <csv>: the values of one column (header names it)
column() {
    awk -F, -v c="$1" 'NR==1{for(i=1;i<=NF;i++) if($i==c) k=i; next} {print $k}' "$2"
}

# summary_model <python expression over m = summary.json's feedback_model>
summary_model() {
    python3 -c "import json,sys; m=json.load(open(sys.argv[1]))['feedback_model']; print($1)" \
        "$run_dir/summary.json"
}

# 1. run 1 learns: every key of the model is a row of impact_models, and
# summary.json shows the fitted law with its confidence
write_walker "{save: true}"
run
rows=$(q "SELECT model_key, n, k, beta, confidence FROM impact_models ORDER BY model_key")
echo "impact_models after run 1:"; echo "$rows" | sed 's/^/  /'
key=$(echo "$rows" | awk -F'|' '$1=="SYNTH/buy/direct" && $2>=5 && $3>0 && $5>0 && $5<1' | wc -l)
file_n=$(sed -n 's|^SYNTH/buy/direct n=\([0-9.e+-]*\) .*|\1|p' "$dir/var/feedback/impact_model.txt")
db_n=$(echo "$rows" | awk -F'|' '$1=="SYNTH/buy/direct"{print $2}')
conf=$(summary_model "[k['confidence'] for k in m['keys'] if k['key']=='SYNTH/buy/direct' and k['fitted']][0]")
restored=$(summary_model "m['restored']")
if [ "$key" != 1 ]; then
    fail "no fitted SYNTH/buy/direct row (n >= 5, 0 < confidence < 1) in impact_models"
elif ! awk -v a="$file_n" -v b="$db_n" 'BEGIN{exit !(a == b && a > 0)}'; then
    fail "the store (n=$db_n) and the model file (n=$file_n) disagree"
elif ! awk -v c="$conf" 'BEGIN{exit !(c > 0 && c < 1)}' || [ "$restored" != none ]; then
    fail "summary.json feedback_model: confidence '$conf', restored '$restored'"
else
    echo "ok: run 1 wrote its fitted model to the store (n=$db_n) and summary.json (confidence $conf)"
fi

# 2. run 2, model file gone: the model comes back from the store and the
# first order is predicted with the fitted law
rm -f "$dir/var/feedback/impact_model.txt"
write_walker "{load: true, save: true}"
run
first=$(column pred_default "$run_dir/tca.csv" | head -1)
restored=$(summary_model "m['restored']")
if ! grep -q "impact model restored from the store" "$dir/run.err"; then
    fail "no 'impact model restored from the store' log line"
elif [ "$first" != 0 ]; then
    fail "after the restart the first order was predicted with the defaults (pred_default=$first)"
elif [ "${restored%% *}" != store ]; then
    fail "summary.json says the model was restored from '$restored'"
else
    echo "ok: run 2 restored the model from the store ($restored); its first order used the fitted law"
fi
n2=$(q "SELECT n FROM impact_models WHERE model_key = 'SYNTH/buy/direct'")
if ! awk -v a="$n2" -v b="$db_n" 'BEGIN{exit !(a > b)}'; then
    fail "run 2 did not go on learning from the restored state (n $db_n -> $n2)"
else
    echo "ok: run 2 learned on from the restored state (n $db_n -> $n2)"
fi

# 3. a damaged row is skipped with a clear warning; the rest is restored
q "UPDATE impact_models SET fill_counts = 'garbage' WHERE model_key = 'SYNTH'" >/dev/null
run
if ! grep -q "impact model row 'SYNTH' in the store is malformed, skipped" "$dir/run.err"; then
    fail "no warning about the damaged row"
elif [ "$(column pred_default "$run_dir/tca.csv" | head -1)" != 0 ]; then
    fail "the undamaged keys were not restored"
else
    echo "ok: a damaged row is skipped with a warning, the other keys are restored"
fi
