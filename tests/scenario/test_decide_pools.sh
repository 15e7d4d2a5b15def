#!/usr/bin/env bash
# Capital pools and the operating state, as a user sees them in a run:
#  1. a pool running out: an entry larger than what is left is shrunk
#     (decisions.csv: decide,shrunk,GR061), then one that cannot fit a
#     single unit is rejected by PreCheck with GR061 (the strategy's
#     on_order gets code 61); the position never exceeds the pool; resting
#     orders reserve their pool the same way;
#  2. a LOCKED pool refuses its strategies' orders, and only theirs;
#  3. a drawdown moves BALANCED -> DEFENSIVE (log, ctx:operating_state(),
#     decide.json) and the DEFENSIVE threshold (0.9) blocks an entry of
#     confidence 0.8 with GR031, while a confident entry and an exit pass;
#  4. `qts status` of a running host shows the operating state and pools.
set -u
. "$(dirname "$0")/scenario_lib.sh"
trap 'rm -rf "$dir"' EXIT
mkdir -p "$dir/strategies"

check() { # label got expected
    if [ "$2" = "$3" ]; then echo "ok: $1: $2"; else echo "FAIL: $1: got '$2', expected '$3'"; failed=1; fi
}
has() { # label file text
    if grep -qF -- "$3" "$2"; then echo "ok: $1"; else echo "FAIL: $1: no '$3' in $2"; failed=1; fi
}
run_host() { # label
    rm -rf "$dir/var"
    "$qts" run -c "$dir/qts.yaml" >"$dir/out.$1" 2>&1 || { echo "FAIL: qts run ($1) exited $?"; tail -20 "$dir/out.$1"; exit 1; }
    run="$dir/var/runs/latest"
}
last_pos() { awk -F, -v s="$1" 'NR > 1 && $4 == s { p = $17 } END { print p + 0 }' "$run/fills.csv"; }

# A strategy that buys `qty` on a trade whenever nothing of its own is
# pending, `times` times, and logs every rejection with its code.
cat >"$dir/strategies/hungry.lua" <<'LUA'
local M = {}
function M.on_init(ctx, params) return { n = 0, qty = params.qty, times = params.times } end
function M.on_trade(ctx, st, t)
  if st.pending or st.n >= st.times then return end
  st.n = st.n + 1
  st.pending = ctx:buy("SYNTH", st.qty)
end
function M.on_order(ctx, st, o)
  if o:kind() ~= "accepted" then st.pending = nil end
  if o:kind() == "rejected" then ctx:log("warn", "%s rejected: %s (%d)", ctx.name, o:reason(), o:code()) end
end
return M
LUA

# --- 1. a pool runs out: shrunk, then GR061 ---
write_config "taker_fee_bps: 5" "      events: 400"
cat >>"$dir/qts.yaml" <<YAML
risk: {pool: scalp}     # a replay's preset default is portfolio
strategies:
  dir: $dir/strategies
  list:
    - {name: hungry, file: hungry.lua, symbols: [SYNTH], params: {qty: 6, times: 5}}
decide:
  pools: {}
  operating_state:
    allocation:
      balanced: {scalp: 0.01, swing: 0.5, portfolio: 0.2}   # scalp: 1000 of 100000
YAML
run_host exhaust
has "an entry shrunk to the pool" "$run/decisions.csv" ",decide,shrunk,"
has "the shrink names GR061" "$run/decisions.csv" "scalp pool has"
has "then PreCheck rejects with GR061" "$run/decisions.csv" ",precheck,rejected,"
grep ',precheck,rejected,' "$run/decisions.csv" | grep -q GR061 || { echo "FAIL: the rejection is not GR061"; failed=1; }
has "the strategy hears code 61" "$dir/out.exhaust" "(61)"
pos=$(last_pos 1)
[ "$pos" -ge 6 ] && [ "$pos" -le 10 ] && echo "ok: position $pos within the 1000 pool at ~100" ||
    { echo "FAIL: position $pos (want 6..10)"; failed=1; }
grep -q '"scalp":{"state":"ACTIVE"' "$run/decide.json" || { echo "FAIL: decide.json:"; cat "$run/decide.json"; failed=1; }

# --- 1b. resting orders reserve their pool: limits far below the market ---
cat >"$dir/strategies/resting.lua" <<'LUA'
local M = {}
function M.on_init(ctx) return { n = 0, k = 0 } end
function M.on_trade(ctx, st, t)
  st.k = st.k + 1
  if st.k % 3 ~= 0 or st.n >= 3 then return end
  st.n = st.n + 1
  ctx:buy("SYNTH", 6, 97, {tag = "rest" .. st.n})   -- 3 % down: rests here
end
function M.on_order(ctx, st, o)
  if o:kind() == "rejected" then ctx:log("warn", "%s rejected: %s (%d)", o:tag(), o:reason(), o:code()) end
end
return M
LUA
write_config "taker_fee_bps: 5" "      events: 400"
cat >>"$dir/qts.yaml" <<YAML
risk: {pool: scalp}     # a replay's preset default is portfolio
strategies:
  dir: $dir/strategies
  list:
    - {name: resting, file: resting.lua, symbols: [SYNTH]}
decide:
  pools: {}
  operating_state:
    allocation:
      balanced: {scalp: 0.01, swing: 0.5, portfolio: 0.2}   # scalp: 1000 of 100000
YAML
run_host resting
check "resting: the second order shrunk to what the first left" \
    "$(grep ',decide,shrunk,' "$run/decisions.csv" | cut -d, -f3,12)" "rest2,4"
check "resting: the third rejected by PreCheck" \
    "$(grep ',precheck,rejected,' "$run/decisions.csv" | cut -d, -f3,14)" "rest3,GR061"
grep -q '"scalp":{"state":"ACTIVE","lock_code":"","allocation":0.01,"capital":1000.00,"invested":0.00,"reserved":970.00' "$run/decide.json" ||
    { echo "FAIL: decide.json:"; cat "$run/decide.json"; failed=1; }

# --- 2. a LOCKED pool blocks its strategies only ---
write_config "taker_fee_bps: 5" "      events: 200"
cat >>"$dir/qts.yaml" <<YAML
risk: {pool: scalp}     # a replay's preset default is portfolio
strategies:
  dir: $dir/strategies
  list:
    - {name: free, file: hungry.lua, symbols: [SYNTH], params: {qty: 1, times: 1}}
    - {name: locked, file: hungry.lua, symbols: [SYNTH], params: {qty: 1, times: 1},
       risk: {pool: portfolio}}
decide:
  pools:
    portfolio: {state: LOCKED}
YAML
run_host locked
check "the free strategy's position" "$(last_pos 1)" 1
check "the locked strategy's position" "$(last_pos 2)" 0
check "the locked strategy's refusal" \
    "$(grep ',decide,rejected,' "$run/decisions.csv" | cut -d, -f2,14,15)" '2,GR061,"portfolio pool is LOCKED"'
has "the locked strategy hears why" "$dir/out.locked" "locked rejected: GR061: portfolio pool is LOCKED (61)"
check "no order of the locked strategy reached PreCheck" \
    "$(awk -F, '$2 == 2 && $10 == "precheck"' "$run/decisions.csv" | wc -l)" 0

# --- 3. BALANCED -> DEFENSIVE; the threshold blocks a low-confidence entry ---
cat >"$dir/strategies/careful.lua" <<'LUA'
local M = {}
-- one step per trade while nothing is pending: an entry, then (in
-- DEFENSIVE) a timid entry, a confident entry, an exit
local steps = {
  {side = "buy", qty = 10, confidence = 0.8, tag = "first"},
  {side = "buy", qty = 1, confidence = 0.8, tag = "timid"},
  {side = "buy", qty = 1, confidence = 0.95, tag = "sure"},
  {side = "sell", qty = 11, confidence = 0.1, tag = "exit"},
}
function M.on_init(ctx) return { i = 0 } end
function M.on_trade(ctx, st, t)
  if st.pending or st.i >= #steps then return end
  st.i = st.i + 1
  local s = steps[st.i]
  ctx:log("info", "step %s in %s", s.tag, ctx:operating_state())
  st.pending = ctx:order({symbol = "SYNTH", side = s.side, qty = s.qty,
                          confidence = s.confidence, tag = s.tag})
end
function M.on_order(ctx, st, o)
  if o:kind() ~= "accepted" then st.pending = nil end
  if o:kind() == "rejected" then ctx:log("warn", "%s rejected: %s (%d)", o:tag(), o:reason(), o:code()) end
end
return M
LUA
write_config "taker_fee_bps: 5" "      events: 400"
cat >>"$dir/qts.yaml" <<YAML
risk: {pool: scalp}     # a replay's preset default is portfolio
strategies:
  dir: $dir/strategies
  list:
    - {name: careful, file: careful.lua, symbols: [SYNTH]}
decide:
  operating_state:
    initial: BALANCED
    drawdown_balanced: 0.0000001
    drawdown_defensive: 0.000001   # the first fill's fee (5 bps of ~1000) is a drawdown of ~5e-6
YAML
run_host states
has "the first entry in BALANCED" "$dir/out.states" "step first in BALANCED"
has "the state moved" "$dir/out.states" "operating state BALANCED -> DEFENSIVE"
has "the strategy reads DEFENSIVE" "$dir/out.states" "step timid in DEFENSIVE"
has "the timid entry is refused" "$dir/out.states" "timid rejected: GR031: confidence 0.80 below the DEFENSIVE entry threshold 0.90 (31)"
check "decisions: the refusal" "$(grep ',decide,rejected,' "$run/decisions.csv" | cut -d, -f3,14)" "timid,GR031"
check "the confident entry and the exit went out" \
    "$(awk -F, '$10 == "precheck" && $11 == "accepted" { print $3 }' "$run/decisions.csv" | tr '\n' ' ')" "first sure exit "
check "flat at the end" "$(last_pos 1)" 0
grep -q '"operating_state":"DEFENSIVE","threshold":0.9,"transitions":1' "$run/decide.json" ||
    { echo "FAIL: decide.json:"; cat "$run/decide.json"; failed=1; }

# --- `qts status` of a running (paper) host shows the state and the pools ---
cat >"$dir/qts.yaml" <<YAML
mode: paper
paths: {var_dir: $dir/var}
plugins: {dir: $plugins}
instruments:
  - {symbol: SYNTH, tick_size: "0.01"}
feeds:
  - {name: md, plugin: feed_synthetic, config: {symbols: SYNTH, rate: 200, seed: 7}}
broker: {plugin: broker_paper}
strategies:
  dir: $dir/strategies
  list:
    - {name: locked, file: hungry.lua, symbols: [SYNTH], params: {qty: 1, times: 1},
       risk: {pool: portfolio}}
decide:
  pools:
    portfolio: {state: LOCKED}
  operating_state: {initial: AGGRESSIVE}
YAML
rm -rf "$dir/var"
start_host
sleep 1
"$qts" status -c "$dir/qts.yaml" --json >"$dir/status" 2>&1 || { echo "FAIL: qts status"; cat "$dir/status"; failed=1; }
has "status: the operating state" "$dir/status" '"operating_state":"AGGRESSIVE","threshold":0.6'
has "status: the locked pool" "$dir/status" '"portfolio":{"state":"LOCKED"'
has "status: the scalp pool's share" "$dir/status" '"scalp":{"state":"ACTIVE","lock_code":"","allocation":0.7'
has "status: the refused intent" "$dir/status" '"refused":1'
kill -TERM "$host_pid"; wait "$host_pid"; host_pid=
trap 'rm -rf "$dir"' EXIT

# --- bad configuration: a clear error, nothing run ---
write_config "taker_fee_bps: 5"
cat >>"$dir/qts.yaml" <<YAML
decide:
  pools:
    scalp: {state: SLEEPING}
YAML
if "$qts" run -c "$dir/qts.yaml" >"$dir/out.bad" 2>&1; then echo "FAIL: a bad pool state was accepted"; failed=1; fi
has "a bad pool state is named" "$dir/out.bad" "decide.pools.scalp.state: ACTIVE, PAUSED or LOCKED"

[ "$failed" = 0 ] && echo "all ok"
exit "$failed"
