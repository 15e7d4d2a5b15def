#!/usr/bin/env bash
# A replay strategy stuck in `while true do end` (docs/lua-runtime.md,
# docs/adr/0006): the replay runs its strategies on the core thread, so the
# strategy's instruction limit must end the callback. The user sees the
# strategy failed with a clear log line, the run finishes with exit 0, and
# the other strategies' fills and trades are exactly those of a run without
# the stuck one.
set -u
. "$(dirname "$0")/scenario_lib.sh"
trap 'rm -rf "$dir"' EXIT
failed=0
src=$(cd "$(dirname "$0")/../.." && pwd)

mkdir -p "$dir/strategies"
cp "$src/strategies/ema_cross.lua" "$src/strategies/rsi_scalp.lua" "$dir/strategies/"
cat >"$dir/strategies/loop.lua" <<'LUA'
-- Watches 50 trades without trading, then never returns.
local M = {}
function M.on_init(ctx) return { n = 0 } end
function M.on_trade(ctx, st, t)
  st.n = st.n + 1
  if st.n == 50 then
    while true do end
  end
end
return M
LUA

# write_run_config <name> <extra strategy entry lines>: $dir/<name>.yaml
write_run_config() {
    cat >"$dir/$1.yaml" <<YAML
mode: replay
paths:
  var_dir: $dir/var-$1
plugins:
  dir: $plugins
instruments:
  - symbol: BTCUSDT
    px_exp: 2
    qty_exp: 5
    tick_size: "0.01"
    lot_size: "0.00001"
    min_qty: "0.00001"
feeds:
  - name: demo
    plugin: feed_synthetic
    config:
      symbols: BTCUSDT
      seed: 7
      rate: 50
      events: 40000
      start_price: "60000"
      px_exp: 2
      qty_exp: 5
      tick: "0.01"
      lot: "0.001"
broker:
  plugin: broker_paper
  config:
    seed: 1
    allow_short: true
account:
  initial_cash: "100000"
risk:
  pool: swing
strategies:
  dir: $dir/strategies
  workers: 2
  list:
    - name: ema
      file: ema_cross.lua
      symbols: [BTCUSDT]
      params: {symbol: BTCUSDT, fast: 5, slow: 20, qty: 0.01}
    - name: rsi
      file: rsi_scalp.lua
      symbols: [BTCUSDT]
      params: {symbol: BTCUSDT, n: 14, qty: 0.005}
$2
YAML
}

write_run_config with_loop "    - name: loop
      file: loop.lua
      symbols: [BTCUSDT]"
write_run_config without_loop ""

"$qts" run -c "$dir/with_loop.yaml" >"$dir/with.out" 2>"$dir/with.err"
rc=$?
if [ "$rc" -ne 0 ]; then
    echo "FAIL: the run with the stuck strategy exited $rc"; tail -20 "$dir/with.err"; failed=1
fi
if grep -q "strategy failed name=loop id=3 .*instruction limit" "$dir/with.err"; then
    echo "ok: the stuck strategy failed on its instruction limit"
else
    echo "FAIL: no 'strategy failed name=loop ... instruction limit' line:"; tail -20 "$dir/with.err"
    failed=1
fi
if grep -q "loop.lua:7: instruction limit exceeded" "$dir/with.err"; then
    echo "ok: the log names the line it was stuck on"
else
    echo "FAIL: no 'loop.lua:7: instruction limit exceeded' in the log"; failed=1
fi

"$qts" run -c "$dir/without_loop.yaml" >"$dir/without.out" 2>"$dir/without.err" || {
    echo "FAIL: the run without the stuck strategy failed"; tail -20 "$dir/without.err"; failed=1
}
for f in fills.csv trades.csv; do
    a=$dir/var-with_loop/runs/latest/$f b=$dir/var-without_loop/runs/latest/$f
    if [ ! -s "$a" ] || [ "$(wc -l <"$a")" -lt 2 ]; then
        echo "FAIL: $f of the run with the stuck strategy is empty"; failed=1
    elif cmp -s "$a" "$b"; then
        echo "ok: $f identical to the run without the stuck strategy ($(($(wc -l <"$a") - 1)) rows)"
    else
        echo "FAIL: $f differs from the run without the stuck strategy"; diff "$a" "$b" | head; failed=1
    fi
done
exit $failed
