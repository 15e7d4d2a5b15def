#!/usr/bin/env bash
# Two paper hosts on different instruments share one Redis and one
# exposure budget (docs/operations.md, "Several hosts"):
# - under both hosts' concurrent order flow the shared counter never passes
#   the limit (sampled from Redis), and neither do the positions the fills
#   built (both hosts' fills.csv replayed in time order);
# - `qts status --cluster` shows both hosts, their positions and the global
#   exposure;
# - a third host naming an instrument a live host owns is refused at start;
# - host h1 killed (SIGKILL: no goodbye): its heartbeat goes after its TTL,
#   its budget reservation is given back after the lease TTL, and its
#   instrument can be claimed again.
set -u
. "$(dirname "$0")/cluster_lib.sh"

limit=500 # currency; the counter is in micro-units
limit_u=$((limit * 1000000))
budget="shared_budget: {key: acct, limit: \"$limit\", policy: refuse}"
write_host h1 SYNTHA "$budget"
write_host h2 SYNTHB "$budget"
start h1
start h2

# the shared counter, sampled while both trade
max=0
for _ in $(seq 40); do
    v=$(rcli GET "${shared}acct")
    [ -n "$v" ] && [ "$v" -gt "$max" ] && max=$v
    sleep 0.1
done
held1=$(rcli HGET "${shared}acct:hosts" "$ns:h1:")
held2=$(rcli HGET "${shared}acct:hosts" "$ns:h2:")
if [ "$max" -gt 0 ] && [ "$max" -le "$limit_u" ] && [ -n "$held1" ] && [ -n "$held2" ]; then
    echo "ok: shared counter peaked at $max <= $limit_u (h1 holds $held1, h2 holds $held2)"
else
    echo "FAIL: shared counter peak $max (limit $limit_u), h1 '$held1' h2 '$held2'"; failed=1
fi

# qts status --cluster from another process
"$qts" status --cluster --redis "$QTS_REDIS_URL" --prefix "$ns:" --shared-prefix "$shared" >"$dir/cl" 2>&1
rc=$?
if [ $rc -eq 0 ] && grep -q "2 live hosts" "$dir/cl" && grep -q "^host h1 " "$dir/cl" &&
    grep -q "^host h2 " "$dir/cl" && grep -q "^global exposure" "$dir/cl" &&
    grep -qE "inst:SYNTHA +h1" "$dir/cl" && grep -qE "inst:SYNTHB +h2" "$dir/cl"; then
    echo "ok: qts status --cluster: $(grep -E '^(cluster|host|global)' "$dir/cl" | cut -c1-60 | tr '\n' ';')"
else
    echo "FAIL: qts status --cluster (exit $rc):"; cat "$dir/cl"; failed=1
fi

# overlapping ownership: h3 names SYNTHA, which h1 owns
write_host h3 SYNTHA
"$qts" run -c "$dir/h3/qts.yaml" >"$dir/h3/out" 2>"$dir/h3/err"
rc=$?
if [ $rc -ne 0 ] && grep -q "own:inst:SYNTHA is held by host h1" "$dir/h3/err"; then
    echo "ok: h3 on h1's instrument refused at start (exit $rc): $(grep -o 'cluster: .*held by host h1' "$dir/h3/err" | head -1)"
else
    echo "FAIL: h3 on SYNTHA: exit $rc"; tail -3 "$dir/h3/err"; failed=1
fi
[ "$(rcli GET "${shared}own:strat:mm_h3")" = "" ] && echo "ok: the refused host left no claim" ||
    { echo "FAIL: h3's strategy claim left behind"; failed=1; }

stop h1
stop h2
# from the fills: both hosts' positions valued at their fill prices never
# pass the limit together (fills.csv of each run, merged in time order)
for h in h1 h2; do
    f=$(ls "$dir/$h"/var/runs/*/fills.csv | head -1)
    head -1 "$f" >"$dir/$h.hdr"
    echo "$h: $(($(wc -l <"$f") - 1)) fills" >&2
    tail -n +2 "$f" | sed "s/^/$h,/"
done | sort -t, -k2 >"$dir/allfills"
cols=$(cat "$dir/h1.hdr" "$dir/h2.hdr" | head -1)
peak=$(awk -F, -v cols="$cols" '
    BEGIN { n = split(cols, c, ","); for (i = 1; i <= n; i++) ix[c[i]] = i + 1 }
    { h = $1; pos[h] = $(ix["pos_after"]); px[h] = $(ix["px"]); g = 0
      for (k in pos) g += (pos[k] < 0 ? -pos[k] : pos[k]) * px[k]
      if (g > peak) peak = g }
    END { printf "%.2f", peak + 0 }' "$dir/allfills")
nf=$(wc -l <"$dir/allfills")
if [ "$nf" -gt 0 ] && [ "$peak" != 0.00 ] && awk -v p="$peak" -v l="$limit" 'BEGIN { exit !(p <= l * 1.02) }'; then
    echo "ok: $nf fills of both hosts: gross exposure peaked at $peak <= $limit (prices moving 2 % allowed)"
else
    echo "FAIL: fills: $nf, gross exposure peak $peak, limit $limit"; head -3 "$dir/allfills"; failed=1
fi

# again, and this time h1 dies without a word
start h1
start h2
sleep 2
kill -KILL "$pid_h1"; wait "$pid_h1" 2>/dev/null; pid_h1=
killed_at=$(date +%s%N)
sleep 2 # heartbeat TTL 1.5 s
[ "$(rcli EXISTS "$ns:h1:hb")" = 0 ] && echo "ok: h1's heartbeat gone 2 s after the kill" ||
    { echo "FAIL: h1's heartbeat still there"; failed=1; }
"$qts" status --cluster --redis "$QTS_REDIS_URL" --prefix "$ns:" --shared-prefix "$shared" >"$dir/cl2" 2>&1
grep -q "1 live host$" "$dir/cl2" && ! grep -q "^host h1 " "$dir/cl2" && echo "ok: qts status --cluster shows h2 alone" ||
    { echo "FAIL: cluster after the kill:"; cat "$dir/cl2"; failed=1; }
# lease TTL 3 s: h2's next renewal gives h1's holding back
released=
for _ in $(seq 60); do
    if [ -z "$(rcli HGET "${shared}acct:hosts" "$ns:h1:")" ]; then released=$(( ($(date +%s%N) - killed_at) / 1000000 )); break; fi
    sleep 0.1
done
# the counter and h2's holding read in one atomic step
read -r used held2 < <(rcli EVAL "return {redis.call('GET', KEYS[1]), redis.call('HGET', KEYS[2], ARGV[1])}" \
    2 "${shared}acct" "${shared}acct:hosts" "$ns:h2:" | tr '\n' ' ')
if [ -n "$released" ] && [ "$used" = "$held2" ]; then
    echo "ok: h1's reservation given back $released ms after the kill; the counter ($used) is h2's alone"
else
    echo "FAIL: h1's reservation: released '${released}', counter $used, h2 holds $held2"; failed=1
fi
# h1's instrument is free again
rm -rf "$dir/h3/var"
start h3
grep -q "cluster: host h3 owns" "$dir/h3/run.err" && echo "ok: a new host takes SYNTHA once h1's claim expired" ||
    { echo "FAIL: h3 could not take SYNTHA"; tail -3 "$dir/h3/run.err"; failed=1; }
stop h3
stop h2
[ "$stopped_rc" = 0 ] || { echo "FAIL: h2 exit $stopped_rc"; failed=1; }

exit $failed
