#!/usr/bin/env bash
# report.html in a real browser (Debian's chromium, headless, offline): the
# charts are drawn (uPlot canvases in the DOM after the scripts ran) and
# the page logs no console error and no uncaught exception; the same for
# the page of `qts report --compare`. Skips (77) without chromium.
set -u
. "$(dirname "$0")/scenario_lib.sh"
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; failed=1; }

browser=$(command -v chromium || command -v chromium-browser) ||
    { echo "SKIP: chromium is not installed (scripts/setup installs Debian's chromium)"; exit 77; }

QTS_DEMO_EVENTS=60000 QTS_VAR_DIR="$dir/var" QTS_PLUGIN_DIR="$plugins" \
    "$qts" run -c config/qts.yaml >"$dir/out" 2>&1 || { cat "$dir/out"; fail "qts run exited $?"; exit 1; }
run=$(readlink -f "$dir/var/runs/latest")

# open <page> <min canvases> <what>
open_page() {
    # no network: the page must not need any (--proxy-server to nowhere)
    timeout 90 "$browser" --headless=new --no-sandbox --disable-gpu --no-first-run \
        --user-data-dir="$dir/profile" --proxy-server=127.0.0.1:9 --window-size=1100,3000 \
        --enable-logging=stderr --v=0 --virtual-time-budget=3000 \
        --dump-dom "file://$1" >"$dir/dom.html" 2>"$dir/console.log" ||
        { fail "$3: chromium exited $?"; tail -5 "$dir/console.log"; return; }
    local n
    n=$(grep -o '<canvas' "$dir/dom.html" | wc -l)
    [ "$n" -ge "$2" ] || fail "$3: $n chart canvases in the DOM, want at least $2"
    grep -q 'class="uplot' "$dir/dom.html" || fail "$3: no uPlot chart in the DOM"
    if grep -E 'CONSOLE|Uncaught' "$dir/console.log" | grep -v 'source: devtools' >"$dir/errors"; [ -s "$dir/errors" ]; then
        fail "$3: console output:"; cat "$dir/errors"
    fi
    echo "$3: $n canvases, console clean"
}

# equity, drawdown, PnL per strategy, fills on price
open_page "$run/report.html" 4 "report.html"
grep -q 'u-legend' "$dir/dom.html" || fail "report.html: no chart legend"
grep -q '>ema<' "$dir/dom.html" || fail "report.html: the PnL per strategy legend does not name ema"

# a run with many fills (a run directory written as the host writes one,
# then `qts report`): the price chart shows per-bucket buy/sell means and a
# bar chart of the counts, and the page is still clean
dense="$dir/dense"
mkdir -p "$dense"
python3 - "$dense" <<'PY'
import sys, math
d = sys.argv[1]
t0, n, step = 1700000000 * 10**9, 20000, 10**9
open(d + "/run.csv", "w").write("key,value\ntitle,dense\ninitial_cash,100000.000000\n"
    "period_ns,86400000000000\nperiods_per_year,365.250000\nrisk_free_annual,0.000000\ncagr_min_days,30\n")
eq = open(d + "/equity.csv", "w"); px = open(d + "/prices.csv", "w"); fl = open(d + "/fills.csv", "w")
eq.write("ts_ns,equity,cash,gross_exposure\n"); px.write("ts_ns,instrument,symbol,px\n")
fl.write("ts_ns,order_id,fill_id,strategy_id,tag,instrument,symbol,side,px,qty,is_maker,notional,fee,"
         "realized,cash_after,pos_after,strat_pos_after,strategy\n")
pos = 0
for i in range(n):
    ts = t0 + i * step; p = 100 + 5 * math.sin(i / 900.0)
    eq.write("%d,%.6f,100000.000000,0.000000\n" % (ts, 100000 + p - 100))
    px.write("%d,0,SYN,%.2f\n" % (ts, p))
    if i % 4 == 0:  # 5000 fills
        side = "buy" if (i // 4) % 2 == 0 else "sell"; pos += 1 if side == "buy" else -1
        fl.write("%d,%d,1,1,t,0,SYN,%s,%.2f,1,0,%.6f,0.010000,0.000000,100000.000000,%d,%d,mm\n"
                 % (ts + 1, i + 1, side, p, p, pos, pos))
open(d + "/trades.csv", "w").write("strategy_id,instrument,symbol,dir,open_ts_ns,close_ts_ns,max_qty,"
    "realized,fees,pnl,strategy\n1,0,SYN,long,%d,%d,1,0.500000,0.020000,0.480000,mm\n" % (t0 + 1, t0 + 4 * step + 1))
open(d + "/strategies.csv", "w").write("strategy_id,realized,unrealized,fees,net_pnl,n_fills,n_trades,"
    "turnover,strategy\n1,0.500000,0.000000,50.000000,-49.500000,5000,1,500000.000000,mm\n")
PY
"$qts" report "$dense" >/dev/null 2>"$dir/dense.err" || { fail "qts report on the dense run: $(cat "$dir/dense.err")"; }
grep -q '"mode":"buckets","n":5000' "$dense/report.html" || fail "5000 fills are not drawn per bucket"
# equity, drawdown, PnL per strategy, price with bucket means, counts
open_page "$dense/report.html" 5 "report.html, 5000 fills"
grep -q 'Fills per time bucket: SYN' "$dir/dom.html" || fail "no fill count chart for the dense run"

sleep 1.1 # a second run: run ids carry the start second
QTS_DEMO_EVENTS=30000 QTS_VAR_DIR="$dir/var" QTS_PLUGIN_DIR="$plugins" \
    "$qts" run -c config/qts.yaml >"$dir/out2" 2>&1 || fail "second qts run exited $?"
run2=$(readlink -f "$dir/var/runs/latest")
page=$("$qts" report --compare "$run" "$run2" | tail -1)
[ -s "$page" ] || { fail "qts report --compare wrote no page ($page)"; exit 1; }
open_page "$page" 1 "compare page"

[ "$failed" = 0 ] && echo "all ok"
exit "$failed"
