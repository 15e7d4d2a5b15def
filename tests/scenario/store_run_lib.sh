# store_run_lib.sh — sourced by the store scenario tests (after
# scenario_lib.sh): a trading replay written to a store, and the checks a
# user would make with SQL afterwards. The caller sets:
#   store_yaml  the `store:` section (YAML, indented two spaces under store:)
#   store_spec  the same store for `qts runs --store` (and --schema via runs_args)
#   q           a function running one SQL query and printing rows as a|b|c
#   bucket_sql  the SQL expression of a tick's minute from tick_data.time,
#               in the unit ohlcv_1m.bucket uses
fail() { echo "FAIL: $*"; echo "--- run.err (last 20 lines)"; tail -n 20 "$dir/run.err" 2>/dev/null; failed=1; }

# write_store_config <events> <store.ticks> (feed_rate: events per second
# of data time, default 50)
write_store_config() {
    cat >"$dir/qts.yaml" <<YAML
mode: replay
host_id: sc
paths:
  var_dir: $dir/var
plugins:
  dir: $plugins
instruments:
  - {symbol: BTCUSDT, px_exp: 2, qty_exp: 5, tick_size: "0.01", lot_size: "0.00001", min_qty: "0.00001"}
feeds:
  - name: demo
    plugin: feed_synthetic
    config: {symbols: BTCUSDT, seed: 42, rate: ${feed_rate:-50}, events: $1, start_price: "60000",
             px_exp: 2, qty_exp: 5, tick: "0.01", lot: "0.001"}
broker:
  plugin: broker_paper
  config: {seed: 1, order_latency_ns: 1000000, maker_fee_bps: 1, taker_fee_bps: 5, allow_short: true}
store:
$store_yaml
  ticks: $2
account: {initial_cash: "100000"}
strategies:
  dir: ${QTS_SOURCE_DIR:-.}/strategies
  list:
    - {name: ema, file: ema_cross.lua, symbols: [BTCUSDT], params: {symbol: BTCUSDT, fast: 20, slow: 80, qty: 0.01}}
    - {name: rsi, file: rsi_scalp.lua, symbols: [BTCUSDT], params: {symbol: BTCUSDT, n: 14, qty: 0.005}}
    - {name: mm, file: market_maker.lua, symbols: [BTCUSDT],
       params: {symbol: BTCUSDT, qty: 0.002, half_spread: 3, max_position: 0.01}}
risk: {pool: swing, max_order_qty: 1}
YAML
}

# run_once: one replay; sets $run (its id) and $run_dir
run_once() {
    "$qts" run -c "$dir/qts.yaml" >"$dir/run.out" 2>"$dir/run.err" || { fail "qts run exited $?"; return 1; }
    run_dir=$(readlink -f "$dir/var/runs/latest")
    run=$(basename "$run_dir")
}

# summary_get <run dir> <python expression over d>
summary_get() {
    python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1/summary.json"
}

# check_run <run id> <run dir> [status, default done]: what SQL says
# about one run equals its summary
check_run() {
    local id=$1 rd=$2 want_status=${3:-done} failed_before=$failed
    failed=0
    local fills db_fills status
    fills=$(summary_get "$rd" "d['counts']['fills']")
    db_fills=$(q "SELECT count(*) FROM fills WHERE run_id = '$id'")
    [ "$fills" -gt 20 ] || fail "run $id made only $fills fills: too few to check"
    [ "$db_fills" = "$fills" ] || fail "run $id: fills table holds $db_fills rows, summary says $fills"
    [ "$(q "SELECT count(*) FROM t_ledger WHERE run_id = '$id'")" = "$fills" ] ||
        fail "run $id: t_ledger rows differ from the fill count"
    status=$(q "SELECT status || ' ' || fills FROM runs WHERE run_id = '$id'")
    [ "$status" = "$want_status $fills" ] || fail "run $id: runs row says '$status', expected '$want_status $fills'"
    # per-strategy realized PnL: strategy_performance (rollup of t_ledger) = summary
    local sid want got
    for sid in $(summary_get "$rd" "' '.join(str(s['strategy_id']) for s in d['strategies'])"); do
        want=$(summary_get "$rd" "'%.5f' % [s for s in d['strategies'] if s['strategy_id']==$sid][0]['realized']")
        got=$(q "SELECT coalesce(sum(total_pnl), 0) FROM strategy_performance
                 WHERE run_id = '$id' AND strategy LIKE '$sid:%'")
        got=$(printf '%.5f' "$got")
        [ "$got" = "$want" ] || fail "run $id strategy $sid: strategy_performance says $got, summary $want"
    done
    # hourly_pnl sums to the ledger's realized total
    local hourly ledger
    hourly=$(printf '%.6f' "$(q "SELECT coalesce(sum(realized_pnl), 0) FROM hourly_pnl WHERE run_id = '$id'")")
    ledger=$(printf '%.6f' "$(q "SELECT coalesce(sum(realized_pnl), 0) FROM t_ledger WHERE run_id = '$id'")")
    [ "$hourly" = "$ledger" ] || fail "run $id: hourly_pnl sums to $hourly, t_ledger to $ledger"
    [ "$(q "SELECT count(*) FROM t_ledger WHERE run_id = '$id' AND realized_pnl IS NULL")" = 0 ] ||
        fail "run $id: t_ledger rows without realized_pnl"
    # every intent's decision, every order's final state, the position,
    # the configuration it ran with
    local decisions orders
    decisions=$(q "SELECT count(*) FROM decision_log WHERE run_id = '$id'")
    orders=$(q "SELECT count(*) FROM orders WHERE run_id = '$id'")
    [ "$decisions" -gt 0 ] || fail "run $id: no decision_log rows"
    [ "$orders" -gt 0 ] || fail "run $id: no orders rows"
    [ "$(q "SELECT count(*) FROM positions WHERE run_id = '$id'")" -ge 1 ] || fail "run $id: no positions row"
    # the running configuration: 11 strategy parameters, the risk limit set
    [ "$(q "SELECT count(*) FROM strategies WHERE run_id = '$id'")" = 11 ] ||
        fail "run $id: strategies holds $(q "SELECT count(*) FROM strategies WHERE run_id = '$id'") parameters, the configuration 11"
    [ "$(q "SELECT value || ' ' || value_type FROM strategies WHERE run_id = '$id' AND strategy_id = 'ema' AND param_name = 'fast'")" = "20 int" ] ||
        fail "run $id: strategies row ema.fast is not '20 int'"
    [ "$(printf '%g' "$(q "SELECT value FROM risk_configs WHERE run_id = '$id' AND config_key = 'risk.max_order_qty'")")" = 1 ] ||
        fail "run $id: risk_configs has no risk.max_order_qty = 1"
    [ "$failed" = 0 ] &&
        echo "ok: run $id: $db_fills fills, $decisions decisions, $orders orders; PnL by strategy and hour agree with summary.json"
    [ "$failed_before" = 0 ] || failed=1
}

# check_bars <run id>: ohlcv_1m equals the bars computed here from the
# run's trade prints in tick_data (count, volume, high, low, open, close)
check_bars() {
    local id=$1 n_bars n_ticks bad
    n_ticks=$(q "SELECT count(*) FROM tick_data WHERE run_id = '$id' AND kind = 1")
    [ "$n_ticks" -gt 100 ] || { fail "run $id: only $n_ticks trade prints in tick_data"; return; }
    n_bars=$(q "SELECT count(DISTINCT $bucket_sql) FROM tick_data WHERE run_id = '$id' AND kind = 1")
    bad=$(q "WITH t AS (SELECT $bucket_sql AS b, time, rec_id, price, volume FROM tick_data
                        WHERE run_id = '$id' AND kind = 1 AND symbol = 'BTCUSDT'),
                  x AS (SELECT b, count(*) AS n, sum(volume) AS v, max(price) AS hi, min(price) AS lo,
                               (SELECT price FROM t t2 WHERE t2.b = t.b ORDER BY time, rec_id LIMIT 1) AS o,
                               (SELECT price FROM t t2 WHERE t2.b = t.b ORDER BY time DESC, rec_id DESC LIMIT 1) AS c
                        FROM t GROUP BY b)
             SELECT count(*) FROM x LEFT JOIN ohlcv_1m m ON m.symbol = 'BTCUSDT' AND m.bucket = x.b
             WHERE m.bucket IS NULL OR m.tick_count <> x.n OR abs(m.volume - x.v) > 0.000000001 OR m.high <> x.hi
                OR m.low <> x.lo OR m.open <> x.o OR m.close <> x.c")
    [ "$bad" = 0 ] || { fail "run $id: $bad of $n_bars minutes of ohlcv_1m differ from tick_data"; return; }
    echo "ok: run $id: $n_bars ohlcv_1m bars equal the bars computed from its $n_ticks trade prints"
}
