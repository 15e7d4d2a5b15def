#!/usr/bin/env bash
# The feedback loop as a user sees it (docs/feedback.md): a strategy sends
# market orders that walk a thin synthetic book (4 levels a side) and the
# host learns their cost (the model file, tca.csv's pred_default turning 0);
# a restart with feedback.load restores the model (the first order is
# predicted with it); algo "auto" sends a small order direct and splits a
# large one; a cost budget shrinks an order and an edge below the predicted
# cost defers one, each a "feedback" line of decisions.csv; an entry's
# stated confidence, net of its predicted cost, falls below Decide's
# entry threshold and the entry is refused (GR031).
set -u
. "$(dirname "$0")/scenario_lib.sh"
trap 'rm -rf "$dir"' EXIT
cp "$(dirname "$0")/feedback_walker.lua" "$dir/walker.lua"

# write_walker <strategy params> <feedback section> [var dir]
write_walker() {
    cat >"$dir/qts.yaml" <<YAML
mode: replay
paths: {var_dir: ${3:-$dir/var}}
plugins: {dir: $plugins}
instruments:
  - {symbol: SYNTH, tick_size: "0.01"}
feeds:
  - {name: md, plugin: feed_synthetic, config: {symbols: SYNTH, events: 20000, seed: 3, depth: 4}}
broker: {plugin: broker_paper, config: {allow_short: true}}
account: {initial_cash: "10000000"}
feedback: $2
${4:-}
strategies:
  dir: $dir
  list:
    - {name: walk, file: walker.lua, symbols: [SYNTH], params: $1}
YAML
}

run() {
    "$qts" run -c "$dir/qts.yaml" >"$dir/run.out" 2>"$dir/run.err"
    local rc=$?
    if [ "$rc" -ne 0 ]; then
        echo "FAIL: qts run exited $rc"; tail -5 "$dir/run.err"; exit 1
    fi
}

# column <name> <csv>: the values of one column (header names it)
column() {
    awk -F, -v c="$1" 'NR==1{for(i=1;i<=NF;i++) if($i==c) k=i; next} {print $k}' "$2"
}

# 1. learning from book-walking orders
write_walker "{symbol: SYNTH, qty: 40, every: 50}" "{save: true}"
run
tca=$dir/var/runs/latest/tca.csv
walked=$(column fills "$tca" | awk '$1>=2' | wc -l)
fitted=$(column pred_default "$tca" | awk '$1==0' | wc -l)
model=$dir/var/feedback/impact_model.txt
n=$(sed -n 's/^SYNTH n=\([0-9.]*\) .*/\1/p' "$model" 2>/dev/null)
echo "orders that walked the book: $walked; predicted with the fitted law: $fitted; model n=${n:-none}"
if [ "$walked" -lt 3 ]; then
    echo "FAIL: the orders did not walk the book (fills >= 2 in $walked rows)"; failed=1
elif [ -z "$n" ] || ! awk -v n="$n" 'BEGIN{exit !(n >= 5)}'; then
    echo "FAIL: the model did not learn from them:"; cat "$model"; failed=1
elif [ "$fitted" -lt 10 ]; then
    echo "FAIL: only $fitted rows predicted with the fitted law"; failed=1
elif ! grep -q '^SYNTH/buy/direct .*conf=0\.[0-9]' "$model"; then
    echo "FAIL: no per side/algorithm fit with its confidence in the model file:"; cat "$model"
    failed=1
else
    echo "ok: the model fits on book-walking orders"
fi

# 2. a restart restores the model: the first order is predicted with it
write_walker "{symbol: SYNTH, qty: 40, every: 50}" "{load: true, save: true}"
run
first=$(column pred_default "$dir/var/runs/latest/tca.csv" | head -1)
if [ "$first" != 0 ]; then
    echo "FAIL: after a restart the first order was predicted with the defaults"; failed=1
elif ! grep -q "impact model restored" "$dir/run.err"; then
    echo "FAIL: no 'impact model restored' log line"; tail -5 "$dir/run.err"; failed=1
else
    echo "ok: a restart restores the model (first order predicted with it)"
fi

# 3. algo auto: direct for a small order, split for a large one (the
# defaults' law: min_samples high keeps it for the whole run)
write_walker "{symbol: SYNTH, qty: 2, large: 400, large_every: 4, every: 50, algo: auto}" \
    "{save: false, min_samples: 100000}" "$dir/var3"
run
dec=$dir/var3/runs/latest/decisions.csv
small=$(grep ',feedback,adjusted,' "$dec" | awk -F, '$8=="2"' | grep -c '"algo auto: direct"')
large=$(grep ',feedback,adjusted,' "$dec" | awk -F, '$8=="400"' | grep -c '"algo auto: twap in')
split=$(column children "$dir/var3/runs/latest/tca.csv" | awk '$1>=2' | wc -l)
echo "algo auto: small orders direct $small, large orders split $large, rows with children >= 2: $split"
if [ "$small" -lt 3 ] || [ "$large" -lt 3 ] || [ "$split" -lt 3 ]; then
    echo "FAIL: algo auto did not pick direct for small and a split for large orders"
    grep feedback "$dec" | head -5; failed=1
else
    echo "ok: algo auto picks direct for small and twap for large orders"
fi

# 4. a cost budget shrinks an order; an edge below the cost defers one
write_walker "{symbol: SYNTH, qty: 400, every: 50}" \
    "{save: false, min_samples: 100000, cost_budget_bps: {walk: 1.5}}" "$dir/var4"
run
dec=$dir/var4/runs/latest/decisions.csv
shrunk=$(grep -c ',feedback,shrunk,' "$dec")
line=$(grep ',feedback,shrunk,' "$dec" | head -1)
echo "size cap: $shrunk orders shrunk; first: ${line:0:200}"
if [ "$shrunk" -lt 3 ] || ! echo "$line" | grep -q 'pred_cost_bps'; then
    echo "FAIL: no size cap with its prediction in decisions.csv"; failed=1
else
    echo "ok: the cost budget shrinks orders (decisions.csv)"
fi
write_walker "{symbol: SYNTH, qty: 40, every: 50, edge_bps: 0.2}" "{save: false}" "$dir/var5"
run
dec=$dir/var5/runs/latest/decisions.csv
deferred=$(grep -c ',feedback,deferred,' "$dec")
sent=$(($(wc -l <"$dir/var5/runs/latest/tca.csv") - 1))
echo "timing: $deferred orders deferred, $sent sent"
if [ "$deferred" -lt 3 ] || [ "$sent" -lt 5 ]; then
    echo "FAIL: an edge below the predicted cost did not defer entries (or nothing was sent)"
    failed=1
elif ! grep ',feedback,deferred,' "$dec" | head -1 | grep -q 'edge_bps.*:0.2'; then
    echo "FAIL: the deferral's record lacks the edge:"; grep deferred "$dec" | head -1; failed=1
else
    echo "ok: an entry is deferred while its predicted cost exceeds the stated edge"
fi

# 5b. confidence net of the predicted cost: entries of confidence 0.72
# with an edge of 1.6 bps (above the predicted cost, so not deferred) lose
# part of their confidence once the law is fitted and fall below the
# BALANCED entry threshold 0.7 of the Decide stage (GR031); exits pass
write_walker "{symbol: SYNTH, qty: 40, every: 50, edge_bps: 1.6, confidence: 0.72}" "{save: false}" \
    "$dir/var7" "decide: {operating_state: {initial: BALANCED}}"
run
dec=$dir/var7/runs/latest/decisions.csv
adj=$(grep -c ',feedback,adjusted,.*confidence 0.7200 -> 0.6' "$dec")
refused=$(grep ',decide,rejected,' "$dec" | grep -c 'confidence 0.6[0-9] below the BALANCED entry threshold 0.70')
first=$(grep ',feedback,adjusted,.*confidence 0.7200' "$dec" | head -1)
echo "confidence: $adj entries adjusted below 0.7, $refused refused by Decide; first: ${first:0:160}"
if [ "$adj" -lt 3 ] || [ "$refused" -lt 3 ]; then
    echo "FAIL: the net confidence did not reach Decide's threshold"; grep -E 'feedback|decide' "$dec" | head -5
    failed=1
elif ! echo "$first" | grep -q '""confidence"":0\.[0-9]'; then
    echo "FAIL: the record lacks the model's confidence"; failed=1
else
    echo "ok: an entry's confidence net of its predicted cost is what Decide's threshold sees"
fi

# 5. bad input: a budget for a strategy that does not exist
write_walker "{symbol: SYNTH, qty: 40, every: 50}" "{cost_budget_bps: {nobody: 3}}" "$dir/var6"
expect_refused run "feedback.cost_budget_bps.nobody: no enabled strategy of that name"
exit $failed
