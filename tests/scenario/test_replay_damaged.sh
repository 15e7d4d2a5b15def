#!/usr/bin/env bash
# Damaged market data, as a user meets it: a CSV trades file with a few bad
# lines replays (exit 0) with a warning that gives the count; a file that is
# mostly garbage fails the run (exit 1) with the file, the counts and the
# share, instead of passing for a replay of the market (feed_replay's
# max_bad_share).
set -u
. "$(dirname "$0")/scenario_lib.sh"
trap 'rm -rf "$dir"' EXIT
failed=0

# write_replay <csv file> [extra feed config line]
write_replay() {
    cat >"$dir/qts.yaml" <<YAML
mode: replay
paths: {var_dir: $dir/var}
plugins: {dir: $plugins}
instruments: [{symbol: SYNTH, px_exp: 2, qty_exp: 4, tick_size: "0.01"}]
feeds:
  - name: md
    plugin: feed_replay
    config:
      files: $1
      format: csv-trades
      symbol: SYNTH
      symbols: "SYNTH:2:4"
${2:-}
broker:
  plugin: broker_paper
YAML
}

# good_rows <n> <first time>: trade rows one second apart
good_rows() {
    awk -v n="$1" -v t="$2" 'BEGIN { for (i = 0; i < n; i++) printf "%d,%d.%02d,0.5\n", t + i, 100 + i % 7, i % 100 }'
}

# a few bad lines among 3000 good ones: replayed, with a warning and the count
{
    echo "time,price,qty"
    good_rows 1000 1700000000
    echo "1700001000,12x.5,1"
    good_rows 1000 1700001001
    echo "1700002001,not a row"
    echo "1700002002,-5,1"
    good_rows 1000 1700002003
} >"$dir/few_bad.csv"
write_replay "$dir/few_bad.csv"
"$qts" run -c "$dir/qts.yaml" >"$dir/out" 2>"$dir/err"
rc=$?
if [ "$rc" -ne 0 ]; then
    echo "FAIL: a file with 3 bad lines of 3003: exit $rc, expected 0"; cat "$dir/err"; failed=1
elif ! grep -q "WARN.*file done path=$dir/few_bad.csv events=3000 malformed=3 " "$dir/err"; then
    echo "FAIL: no warning with the count of bad lines:"; cat "$dir/err"; failed=1
elif ! grep -q "malformed record skipped: $dir/few_bad.csv:1002:" "$dir/err"; then
    echo "FAIL: the bad line is not named:"; cat "$dir/err"; failed=1
elif [ ! -s "$dir/var/runs/latest/summary.json" ]; then
    echo "FAIL: no run files"; failed=1
else
    echo "ok: 3 bad lines of 3003: exit 0, warned with the count"
fi

# mostly garbage: 5 good rows, 20000 unreadable ones
{
    echo "time,price,qty"
    good_rows 5 1700000000
    awk 'BEGIN { for (i = 0; i < 20000; i++) printf "\x01garbage %d\n", i }'
} >"$dir/garbage.csv"
write_replay "$dir/garbage.csv"
"$qts" run -c "$dir/qts.yaml" >"$dir/out" 2>"$dir/err"
rc=$?
if [ "$rc" -eq 0 ]; then
    echo "FAIL: a mostly unreadable file replayed with exit 0"; cat "$dir/err" | tail -5; failed=1
elif ! grep -q "ERROR.*file $dir/garbage.csv: 20000 of 20005 records unreadable (99.98%, max_bad_share 0.1%)" "$dir/err"; then
    echo "FAIL: no error with file, counts and share:"; tail -5 "$dir/err"; failed=1
elif ! grep -q "qts run: feed md failed" "$dir/err"; then
    echo "FAIL: the run's failure does not name the feed:"; tail -3 "$dir/err"; failed=1
elif [ "$(grep -c 'malformed record skipped' "$dir/err")" -gt 40 ]; then
    echo "FAIL: bad records are not rate-limited in the log"; failed=1
else
    echo "ok: 20000 bad lines of 20005: exit $rc, the error gives the counts"
fi

# the limit is the user's: max_bad_share 1 accepts the same file
write_replay "$dir/garbage.csv" "      max_bad_share: 1"
if ! "$qts" run -c "$dir/qts.yaml" >"$dir/out" 2>"$dir/err"; then
    echo "FAIL: max_bad_share 1 still failed:"; tail -3 "$dir/err"; failed=1
else
    echo "ok: max_bad_share 1 accepts it"
fi

exit $failed
