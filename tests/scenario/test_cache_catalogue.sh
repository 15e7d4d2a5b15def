#!/usr/bin/env bash
# Every key of the cache catalogue (docs/cache.md) is written by a running
# paper host to a real Redis with its TTL, read with redis-cli as another
# process would: price:{sym} (with the day's volume), book:{sym}:bid/ask,
# pos:{sym}, ord:{id} (with the limit price), risk:account (refreshed
# every second), strat:{id}, hb. `qts status --from-redis` shows working
# orders only, positions, risk and the strategy.
set -u
. "$(dirname "$0")/cluster_lib.sh"

write_host h1 SYNTH
start h1
sleep 3
p="$ns:h1:"

# key_ttl <key> <max ttl ms>: present with 0 < PTTL <= max (a few tries: the
# short-lived keys are rewritten at the feed's rate)
key_ttl() {
    local t
    for _ in $(seq 40); do
        t=$(rcli PTTL "$p$1")
        if [ "$t" -gt 0 ] 2>/dev/null && [ "$t" -le "$2" ]; then
            echo "ok: $1 PTTL $t ms (at most $2)"; return 0
        fi
        sleep 0.05
    done
    echo "FAIL: $1: PTTL ${t:-none}, expected 1..$2"; failed=1
}
key_ttl price:SYNTH 100
key_ttl book:SYNTH:bid 50
key_ttl book:SYNTH:ask 50
key_ttl risk:account 5000
key_ttl strat:mm_h1 60000
key_ttl hb 1500
ord=$(rcli --scan --pattern "${p}ord:*" | head -1)
key_ttl "${ord#$p}" 60000
pos_ok=0
for _ in $(seq 60); do
    [ "$(rcli EXISTS "${p}pos:SYNTH")" = 1 ] && pos_ok=1 && break
    sleep 0.1
done
if [ $pos_ok = 1 ]; then key_ttl pos:SYNTH 1000; else echo "FAIL: no pos:SYNTH (no fill?)"; failed=1; fi

# fields filled
vol=$(rcli HGET "${p}price:SYNTH" volume)
[ -n "$vol" ] && [ "$vol" != 0 ] && echo "ok: price volume $vol" || { echo "FAIL: price volume '$vol'"; failed=1; }
bid=$(rcli ZREVRANGE "${p}book:SYNTH:bid" 0 0 WITHSCORES | tr '\n' ' ')
[ -n "$bid" ] && echo "ok: best bid level $bid" || { echo "FAIL: empty book:SYNTH:bid"; failed=1; }
# the market maker's orders are limit orders: every ord:* has its limit
# price and the quantity asked (1), finished ones too
rcli --scan --pattern "${p}ord:*" | sed 's/^/HMGET /; s/$/ status limit_price qty/' | rcli |
    paste - - - >"$dir/ords"
nz=$(awk '$2 != 0 && $3 == 1' "$dir/ords" | wc -l)
all=$(wc -l <"$dir/ords")
[ "$all" -gt 0 ] && [ "$nz" = "$all" ] && echo "ok: $all ord:* keys with limit_price and qty, e.g. $(head -1 "$dir/ords" | tr '\t' ' ')" ||
    { echo "FAIL: ord limit_price/qty: $nz of $all"; sort "$dir/ords" | uniq -c | head; failed=1; }
a=$(rcli HGET "${p}risk:account" updated_at); sleep 1.5; b=$(rcli HGET "${p}risk:account" updated_at)
[ -n "$a" ] && [ "$b" -gt "$a" ] 2>/dev/null && echo "ok: risk:account refreshed ($a -> $b)" || { echo "FAIL: risk:account not refreshed ($a -> $b)"; failed=1; }
for f in exposure_used daily_pnl trade_count remaining_limit max_exposure_pct daily_loss_limit safety_state; do
    [ -n "$(rcli HGET "${p}risk:account" $f)" ] || { echo "FAIL: risk:account has no $f"; failed=1; }
done
[ "$(rcli HGET "${p}strat:mm_h1" active)" = 1 ] && [ "$(rcli HGET "${p}strat:mm_h1" half_spread)" = 1 ] &&
    echo "ok: strat:mm_h1 active with its parameters" || { echo "FAIL: strat:mm_h1: $(rcli HGETALL "${p}strat:mm_h1" | tr '\n' ' ')"; failed=1; }

# qts status --from-redis: working orders only, positions, risk, strategies
# (a few tries until a quote is working at that moment)
for _ in $(seq 20); do
    "$qts" status --from-redis --redis "$QTS_REDIS_URL" --prefix "$p" --shared-prefix "$shared" >"$dir/st" 2>&1
    rc=$?
    grep -q "^working orders (0)" "$dir/st" || break
    sleep 0.1
done
[ "$(rcli --scan --pattern "${p}ord:*" | wc -l)" -gt "$(sed -n 's/^working orders (\([0-9]*\))/\1/p' "$dir/st")" ] &&
    echo "ok: finished orders' ord:* keys are in Redis but not listed as working" ||
    { echo "FAIL: no finished ord:* keys to leave out"; failed=1; }
bad=$(sed -n '/^working orders/,/^$/p' "$dir/st" | grep -cE ' (FILLED|CANCELLED|REJECTED|EXPIRED|FAILED|ESCAPED) ')
if [ $rc -ne 0 ] || [ "$bad" -ne 0 ] || ! grep -q "^strategies (1)" "$dir/st" ||
    grep -q "^working orders (0)" "$dir/st" || ! grep -q "mm_h1 *active=1" "$dir/st" || ! grep -q "safety_state" "$dir/st"; then
    echo "FAIL: qts status --from-redis (exit $rc, $bad finished orders listed):"; cat "$dir/st"; failed=1
else
    echo "ok: qts status --from-redis: $(grep -E '^(positions|working orders|strategies)' "$dir/st" | tr '\n' ' ')"
fi
stop h1
[ "$stopped_rc" = 0 ] || { echo "FAIL: h1 exit $stopped_rc"; tail -5 "$dir/h1/run.err"; failed=1; }
# deleted at the stop; when the connection was down at that moment (a
# command timeout on a loaded machine) it goes after its TTL (1500 ms)
if [ "$(rcli EXISTS "${p}hb")" = 0 ]; then
    echo "ok: hb deleted at a clean stop"
elif grep -q "redis unavailable" "$dir/h1/run.err" && sleep 1.6 && [ "$(rcli EXISTS "${p}hb")" = 0 ]; then
    echo "ok: hb gone within its TTL after the stop (the connection was down at the stop: $(grep -o 'redis unavailable what=[a-z ]*' "$dir/h1/run.err" | tail -1))"
else
    echo "FAIL: hb left: $(rcli HGETALL "${p}hb" | tr '\n' ' ') PTTL $(rcli PTTL "${p}hb")"; grep -E "WARN|ERROR" "$dir/h1/run.err" | tail -3; failed=1
fi
exit $failed
