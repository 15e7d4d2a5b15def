#!/usr/bin/env bash
# The report as a user reads it: the default configuration (a short demo)
# gives a report.html that names the strategies of config/qts.yaml, lists
# as many trades as trades.csv has rows, has a monthly-returns row per month
# of equity.csv, embeds its chart data and uPlot (no URL to load), and
# `qts report` rewrites it byte for byte. The CSV files and summary.json
# carry the strategy names too.
set -u
. "$(dirname "$0")/scenario_lib.sh"
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; failed=1; }

QTS_DEMO_EVENTS=60000 QTS_VAR_DIR="$dir/var" QTS_PLUGIN_DIR="$plugins" \
    "$qts" run -c config/qts.yaml >"$dir/out" 2>&1 || { cat "$dir/out"; fail "qts run exited $?"; exit 1; }
run=$(readlink -f "$dir/var/runs/latest")
[ -s "$run/report.html" ] || { fail "no report.html in $run"; exit 1; }

# the enabled strategies of the default configuration, in order
names=$(python3 - <<'PY'
import re
names, on = [], False
for line in open("config/qts.yaml"):
    if re.match(r"^strategies:", line): on = True; continue
    if on and re.match(r"^\S", line): break
    m = re.match(r"^\s+- name:\s*(\S+)", line)
    if on and m: names.append(m.group(1))
print(" ".join(names))
PY
)
[ -n "$names" ] || fail "no strategy names found in config/qts.yaml"

python3 - "$run" $names <<'PY' || failed=1
import csv, html.parser, json, sys, os, datetime
run, names = sys.argv[1], sys.argv[2:]
bad = []
def check(ok, what):
    if not ok: bad.append(what)

class P(html.parser.HTMLParser):
    """Tables by class: a list of rows, each a list of cell texts."""
    def __init__(self):
        super().__init__(); self.tables = {}; self.cur = None; self.row = None
        self.cell = None; self.data_el = False; self.data = ""; self.scripts = 0
        self.attrs = {}
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table":
            self.cur = self.tables.setdefault(a.get("class", ""), []); self.attrs[a.get("class", "")] = a
        elif tag == "tr" and self.cur is not None: self.row = []
        elif tag in ("td", "th") and self.row is not None: self.cell = ""
        elif tag == "script":
            self.scripts += 1
            self.data_el = a.get("id") == "qts-data"
            check("src" not in a, "a script loads a URL")
        elif tag in ("link", "img", "iframe"): bad.append("external element <%s>" % tag)
    def handle_endtag(self, tag):
        if tag in ("td", "th") and self.cell is not None: self.row.append(self.cell.strip()); self.cell = None
        elif tag == "tr" and self.row is not None: self.cur.append(self.row); self.row = None
        elif tag == "table": self.cur = None
        elif tag == "script": self.data_el = False
    def handle_data(self, d):
        if self.cell is not None: self.cell += d
        if self.data_el: self.data += d

p = P(); p.feed(open(os.path.join(run, "report.html"), encoding="utf-8").read())

# strategies: the per-strategy table names each configured one
strat_rows = p.tables.get("strategies", [])[1:]
check([r[0] for r in strat_rows] == names, "per-strategy table names %s, want %s" % ([r[0] for r in strat_rows], names))

# trade list: as many rows as trades.csv, each naming a configured strategy
trades = list(csv.DictReader(open(os.path.join(run, "trades.csv"))))
rows = p.tables.get("trades", [])[1:]
check(len(trades) > 0, "no trade in trades.csv (the demo should trade)")
check(len(rows) == len(trades), "trade list has %d rows, trades.csv %d" % (len(rows), len(trades)))
check(p.attrs.get("trades", {}).get("data-trades") == str(len(trades)), "data-trades differs from trades.csv")
check(all(r[1] in names for r in rows), "a trade row names no configured strategy")
check(all(t["strategy"] in names for t in trades), "trades.csv: a strategy column is not a configured name")
for r, t in zip(rows, trades):
    check(r[9] == t["pnl"] and r[3] == t["dir"], "trade %s: PnL/side %s/%s, trades.csv %s/%s" % (r[0], r[9], r[3], t["pnl"], t["dir"]))
    break

# monthly table: a row per UTC month of equity.csv
months = sorted({datetime.datetime.fromtimestamp(int(l.split(",")[0]) / 1e9, datetime.timezone.utc).strftime("%Y-%m")
                 for l in list(open(os.path.join(run, "equity.csv")))[1:]})
mrows = p.tables.get("monthly", [])[1:]
check([r[0] for r in mrows] == months, "monthly rows %s, want %s" % ([r[0] for r in mrows], months))
check(len(p.tables.get("daily", [])) == 1 + len(months), "daily table rows differ from months")

# chart data: parses, equity series bounded, names per strategy
d = json.loads(p.data)
check(0 < len(d["eq"]["x"]) <= 4000 and len(d["eq"]["x"]) == len(d["eq"]["y"]), "equity series size %d" % len(d["eq"]["x"]))
check(d["strat"]["names"] == names, "chart strategy names %s" % d["strat"]["names"])
check(len(d["inst"]) >= 1 and d["inst"][0]["sym"] == "BTCUSDT", "no BTCUSDT price chart")
check(p.scripts >= 3, "uPlot, the data and the chart script are not all inlined")

# summary.json and the other CSV files
s = json.load(open(os.path.join(run, "summary.json")))
check([x.get("name") for x in s["strategies"]] == names, "summary.json names %s" % [x.get("name") for x in s["strategies"]])
fills = list(csv.reader(open(os.path.join(run, "fills.csv"))))
check(fills[0][-1] == "strategy" and fills[0][16] == "strat_pos_after", "fills.csv header: %s" % fills[0])
check(all(r[-1] in names for r in fills[1:]), "fills.csv: a strategy column is not a configured name")
st = list(csv.DictReader(open(os.path.join(run, "strategies.csv"))))
check([r["strategy"] for r in st] == names, "strategies.csv names %s" % [r["strategy"] for r in st])
for b in bad: print("FAIL:", b)
if not bad: print("ok: report names %s, %d trades listed, %d month rows" % (names, len(rows), len(mrows)))
sys.exit(1 if bad else 0)
PY

# re-rendering gives the same bytes
cp "$run/report.html" "$dir/before.html"
"$qts" report "$run" >/dev/null || fail "qts report exited $?"
cmp -s "$run/report.html" "$dir/before.html" || fail "qts report wrote different bytes"

[ "$failed" = 0 ] && echo "all ok"
exit "$failed"
