#!/usr/bin/env bash
# /metrics as an operator uses it: a paper host with http.listen serves the
# Prometheus text format, `promtool check metrics` accepts the page, a real
# Prometheus server scrapes the host and a PromQL query returns the run's
# order count (5, from a strategy that places five orders); the figures
# agree with `qts status`; an unknown path is 404, a POST 405; a malformed
# http.listen is refused at start with exit 2 and the key named.
set -u
. "$(dirname "$0")/scenario_lib.sh"
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; failed=1; }
for tool in prometheus promtool curl; do
    command -v $tool >/dev/null || { echo "SKIP: $tool is not installed (scripts/setup installs it)"; exit 77; }
done

write_metrics_config() {
    cat >"$dir/qts.yaml" <<YAML
mode: paper
paths: {var_dir: $dir/var}
plugins: {dir: $plugins}
http: {listen: "$1"}
instruments:
  - {symbol: SYNTH, tick_size: "0.01"}
feeds:
  - {name: md, plugin: feed_synthetic, config: {symbols: SYNTH, rate: 200, seed: 7}}
broker: {plugin: broker_paper}
strategies:
  dir: $(cd "$(dirname "$0")" && pwd)
  list:
    - {name: five, file: five_orders.lua, symbols: [SYNTH], params: {symbol: SYNTH}}
YAML
}

write_metrics_config "127.0.0.1:nope"
expect_refused run "http.listen" "not address:port"

write_metrics_config "127.0.0.1:0"
start_host
port=
for _ in $(seq 50); do
    port=$(grep -o 'serving /metrics on 127.0.0.1:[0-9]*' "$dir/run.err" | grep -o '[0-9]*$')
    [ -n "$port" ] && break
    sleep 0.1
done
[ -n "$port" ] || { fail "no 'serving /metrics' log line"; cat "$dir/run.err"; exit 1; }
url="http://127.0.0.1:$port/metrics"

# the page, checked by promtool
for _ in $(seq 100); do
    curl -sf "$url" >"$dir/page" && grep -q '^qts_orders_total 5$' "$dir/page" && break
    sleep 0.1
done
grep -q '^qts_orders_total 5$' "$dir/page" || fail "qts_orders_total is not 5: $(grep orders_total "$dir/page")"
promtool check metrics <"$dir/page" >"$dir/promtool" 2>&1 || { fail "promtool check metrics"; cat "$dir/promtool"; }
for series in qts_info qts_events_total qts_fills_total qts_safety_state qts_kill_switch \
    qts_pipeline_stage_seconds_bucket qts_process_resident_memory_bytes qts_process_open_fds; do
    grep -q "^$series[{ ]" "$dir/page" || fail "no $series on the page"
done
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/nope")" = 404 ] || fail "unknown path not 404"
[ "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$url")" = 405 ] || fail "POST not 405"
echo "ok: /metrics on port $port passes promtool"

# a real Prometheus server scrapes it every second
pport=$((40000 + RANDOM % 20000))
cat >"$dir/prometheus.yml" <<YAML
global: {scrape_interval: 1s, evaluation_interval: 1s}
scrape_configs:
  - job_name: qts
    static_configs: [{targets: ["127.0.0.1:$port"]}]
YAML
prometheus --config.file="$dir/prometheus.yml" --storage.tsdb.path="$dir/tsdb" \
    --web.listen-address="127.0.0.1:$pport" >"$dir/prometheus.log" 2>&1 &
prom_pid=$!
trap 'kill $prom_pid 2>/dev/null; stop_host' EXIT
got=
for _ in $(seq 150); do
    got=$(curl -s "http://127.0.0.1:$pport/api/v1/query?query=qts_orders_total" |
        python3 -c 'import json,sys
r = json.load(sys.stdin)["data"]["result"]
print(r[0]["value"][1] if r else "")' 2>/dev/null)
    [ -n "$got" ] && break
    sleep 0.2
done
[ "$got" = 5 ] || { fail "PromQL qts_orders_total gave '${got:-nothing}', want 5"; tail -5 "$dir/prometheus.log"; }
fills=$(curl -s "http://127.0.0.1:$pport/api/v1/query?query=qts_fills_total" |
    python3 -c 'import json,sys; r = json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else "")')
echo "ok: Prometheus scraped the host: qts_orders_total=$got qts_fills_total=$fills"

# the same figures as qts status
status_fills=$("$qts" status -c "$dir/qts.yaml" --json | grep -o '"fills":[0-9]*' | head -1 | grep -o '[0-9]*$')
curl -sf "$url" >"$dir/page2"
page_fills=$(sed -n 's/^qts_fills_total \([0-9]*\)$/\1/p' "$dir/page2")
[ -n "$status_fills" ] && [ "$status_fills" = "$page_fills" ] ||
    fail "qts status says $status_fills fills, /metrics $page_fills"
kill $prom_pid 2>/dev/null
wait $prom_pid 2>/dev/null
[ "$failed" = 0 ] && echo "all ok"
exit "$failed"
