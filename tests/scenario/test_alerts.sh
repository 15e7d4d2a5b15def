#!/usr/bin/env bash
# Alerts as an operator receives them: a paper host with a Telegram chat
# (the Bot API at a local stand-in, tests/tools/http_sink.py) and a webhook
# sends "kill switch ON" when `qts kill` is pulled, the resume with its
# approval, and a stop summary at SIGTERM; alerts close together leave in
# one message; the bot token (a secret from the environment) is never in
# the log. A Telegram chat without a token is refused at start.
set -u
. "$(dirname "$0")/scenario_lib.sh"
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; failed=1; }
token="123456:SECRET-token-never-logged"

python3 "$(dirname "$0")/../tools/http_sink.py" "$dir/port" "$dir/sink.log" &
sink_pid=$!
for _ in $(seq 50); do [ -s "$dir/port" ] && break; sleep 0.1; done
port=$(cat "$dir/port")

cat >"$dir/qts.yaml" <<YAML
mode: paper
host_id: alert-host
paths: {var_dir: $dir/var}
plugins: {dir: $plugins}
alerts:
  telegram_chat: "4242"
  telegram_api: "http://127.0.0.1:$port"
  webhook_url: "http://127.0.0.1:$port/hook"
  min_interval_ms: 500
instruments:
  - {symbol: SYNTH, tick_size: "0.01"}
feeds:
  - {name: md, plugin: feed_synthetic, config: {symbols: SYNTH, rate: 200, seed: 7}}
broker: {plugin: broker_paper}
strategies:
  dir: $(cd "$(dirname "$0")/../.." && pwd)/strategies
  list:
    - {name: ema, file: ema_cross.lua, symbols: [SYNTH], params: {symbol: SYNTH, fast: 3, slow: 8, qty: 1}}
YAML

expect_refused run "alerts.telegram_chat is set but the bot token is not"

export QTS_SECRET_TELEGRAM_TOKEN="$token"
start_host
trap 'kill $sink_pid 2>/dev/null; stop_host' EXIT
sleep 0.5
"$qts" kill -c "$dir/qts.yaml" --reason "drill" --by tester >/dev/null || fail "qts kill exited $?"
"$qts" resume -c "$dir/qts.yaml" --approve "drill over" --by tester >/dev/null || fail "qts resume exited $?"
for _ in $(seq 50); do grep -q 'approved by tester' "$dir/sink.log" 2>/dev/null && break; sleep 0.1; done
kill -TERM "$host_pid"; wait "$host_pid"; rc=$?; host_pid=
[ "$rc" = 0 ] || fail "SIGTERM: exit $rc"

tg=$(grep -c "\"/bot$token/sendMessage\"" "$dir/sink.log")
wh=$(grep -c '"/hook"' "$dir/sink.log")
grep "/bot$token/sendMessage" "$dir/sink.log" | grep -q 'kill switch ON by tester.*: drill' ||
    fail "no Telegram message for the kill: $(cat "$dir/sink.log")"
grep "/bot$token/sendMessage" "$dir/sink.log" | grep -q '4242' || fail "the chat id is not in the message"
grep '"/hook"' "$dir/sink.log" | grep -q 'released, approved by tester.*: drill over' ||
    fail "no webhook alert for the resume"
grep '"/hook"' "$dir/sink.log" | grep -q 'host stopped' || fail "no stop summary"
grep '"/hook"' "$dir/sink.log" | grep -q 'alert-host' || fail "the webhook does not name the host"
# kill and resume came within 500 ms: at most kill, then (resume + stop) batches
[ "$tg" -le 3 ] || fail "$tg Telegram messages for 3 alerts close together: not batched"
if grep -rqF "$token" "$dir/run.err" "$dir/run.out" "$dir/var" 2>/dev/null; then
    fail "the bot token is in the host's output or files"
fi
echo "ok: telegram $tg messages, webhook $wh; the token is in no log"
[ "$failed" = 0 ] && echo "all ok"
exit "$failed"
