# exec_log_lib.sh — sourced by test_store_exec_logs_{sqlite,postgres}.sh
# (after scenario_lib.sh and, for PostgreSQL, pg_schema_lib.sh): a replay
# whose strategy sends a TWAP parent and an iceberg parent, then the checks
# a user makes with SQL: each parent with its child orders in `orders`, and
# each pipeline stage of each order with its timing in `execution_logs`.
# The caller sets store_yaml and q (as for store_run_lib.sh).
fail() { echo "FAIL: $*"; echo "--- run.err (last 20 lines)"; tail -n 20 "$dir/run.err" 2>/dev/null; failed=1; }

exec_log_run() {
    cp "$(dirname "$0")/exec_children.lua" "$dir/"
    cat >"$dir/qts.yaml" <<YAML
mode: replay
host_id: ex
paths:
  var_dir: $dir/var
plugins:
  dir: $plugins
instruments:
  - {symbol: BTCUSDT, px_exp: 2, qty_exp: 5, tick_size: "0.01", lot_size: "0.00001", min_qty: "0.00001"}
feeds:
  - name: demo
    plugin: feed_synthetic
    config: {symbols: BTCUSDT, seed: 42, rate: 50, events: 6000, start_price: "60000",
             px_exp: 2, qty_exp: 5, tick: "0.01", lot: "0.001"}
broker:
  plugin: broker_paper
  config: {seed: 1, order_latency_ns: 1000000, maker_fee_bps: 1, taker_fee_bps: 5}
store:
$store_yaml
account: {initial_cash: "100000"}
strategies:
  dir: $dir
  list:
    - {name: ex, file: exec_children.lua, symbols: [BTCUSDT], params: {symbol: BTCUSDT}}
YAML
    "$qts" run -c "$dir/qts.yaml" >"$dir/run.out" 2>"$dir/run.err" || { fail "qts run exited $?"; return 1; }
    run=$(basename "$(readlink -f "$dir/var/runs/latest")")
}

exec_log_check() {
    local parents twap ice n
    parents=$(q "SELECT count(*) FROM orders WHERE run_id = '$run' AND child_no = 0")
    [ "$parents" = 2 ] || fail "expected 2 parent orders, the store has $parents"
    # the TWAP parent: 4 SLICE children, filled, adding up to the parent
    twap=$(q "SELECT order_id FROM orders WHERE run_id = '$run' AND child_no = 0 AND strategy_tag LIKE '%:twap'")
    [ -n "$twap" ] || { fail "no TWAP parent row"; return; }
    n=$(q "SELECT count(*) FROM orders WHERE run_id = '$run' AND order_id = $twap AND child_no > 0
           AND child_role = 'SLICE' AND state = 4 AND client_order_id LIKE 'ex-%'")
    [ "$n" = 4 ] || fail "TWAP order $twap: $n filled SLICE children, expected 4"
    [ "$(q "SELECT (SELECT filled_qty FROM orders WHERE run_id = '$run' AND order_id = $twap AND child_no = 0)
                 = (SELECT sum(filled_qty) FROM orders WHERE run_id = '$run' AND order_id = $twap AND child_no > 0)")" \
        = "$(q "SELECT 1 = 1")" ] || fail "TWAP order $twap: its children's fills do not add up to the parent's"
    [ "$(q "SELECT count(*) FROM orders WHERE run_id = '$run' AND order_id = $twap AND child_no > 0 AND sent_at IS NULL")" = 0 ] ||
        fail "TWAP children without sent_at"
    # the iceberg parent: 0.03 shown 0.01 at a time -> 3 children
    ice=$(q "SELECT order_id FROM orders WHERE run_id = '$run' AND child_no = 0 AND strategy_tag LIKE '%:ice'")
    [ -n "$ice" ] || { fail "no iceberg parent row"; return; }
    n=$(q "SELECT count(*) FROM orders WHERE run_id = '$run' AND order_id = $ice AND child_no > 0")
    [ "$n" -ge 3 ] || fail "iceberg order $ice: $n children, expected at least 3"
    echo "ok: TWAP parent $twap with its 4 slices, iceberg parent $ice with $n children, in orders"
    # execution_logs: the parents' local stages under their order id, each
    # child's send and acknowledgement under its client order id, timed
    local o st
    for o in "$twap" "$ice"; do
        for st in PRECHECK SPLIT FILL; do
            n=$(q "SELECT count(*) FROM execution_logs WHERE run_id = '$run' AND order_id = '$o'
                   AND stage = '$st' AND success AND latency_ms IS NOT NULL AND latency_ms >= 0")
            [ "$n" = 1 ] || fail "order $o: $n execution_logs rows for stage $st, expected 1"
        done
    done
    n=$(q "SELECT count(*) FROM orders o JOIN execution_logs l ON l.run_id = o.run_id
             AND l.order_id = o.client_order_id AND l.stage = 'SEND'
           WHERE o.run_id = '$run' AND o.order_id = $twap AND o.child_no > 0 AND l.success")
    [ "$n" = 4 ] || fail "TWAP order $twap: $n SEND rows for its children, expected 4"
    n=$(q "SELECT count(*) FROM orders o JOIN execution_logs l ON l.run_id = o.run_id
             AND l.order_id = o.client_order_id AND l.stage = 'ACK'
           WHERE o.run_id = '$run' AND o.order_id = $twap AND o.child_no > 0 AND l.latency_ms > 0")
    [ "$n" = 4 ] || fail "TWAP order $twap: $n ACK rows with a venue round trip, expected 4"
    # the TWAP's FILL stage spans its 20 s horizon (data time in a replay)
    n=$(q "SELECT count(*) FROM execution_logs WHERE run_id = '$run' AND order_id = '$twap'
           AND stage = 'FILL' AND latency_ms >= 15000")
    [ "$n" = 1 ] || fail "TWAP order $twap: FILL stage shorter than its 15 s of slices"
    [ "$failed" = 0 ] &&
        echo "ok: execution_logs: $(q "SELECT count(*) FROM execution_logs WHERE run_id = '$run'") rows, every stage of both orders and their children timed"
}
