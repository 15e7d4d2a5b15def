#!/usr/bin/env python3
# bars_expect.py <bars.csv> <fast> <slow>: the fills test_bars_daily_cross.sh
# expects of tests/scenario/bars_cross.lua, one "side,px,qty" line each.
# The crossover's fills computed from the bar file alone, by the rules of
# docs/backtesting.md: signal on a bar's close, market order filled at the
# next bar's open, all of the equity in whole shares at the signal close,
# long above / short below, no fees; at the end a waiting order and the
# on_end flattening fill at the last close. Prices in cents (exact).
import csv, sys
fast, slow = int(sys.argv[2]), int(sys.argv[3])
bars = [(int(round(float(r["open"]) * 100)), int(round(float(r["close"]) * 100)))
        for r in csv.DictReader(open(sys.argv[1]))]
cash, pos, pending, closes, fills = 100000 * 100, 0, None, [], []
def fill(q, px):
    global cash, pos
    cash -= q * px
    pos += q
    fills.append(("buy" if q > 0 else "sell", px, abs(q)))
for i, (o, c) in enumerate(bars):
    closes.append(c)
    if len(closes) >= slow and pending is None:
        f = sum(closes[-fast:]) / fast
        s = sum(closes[-slow:]) / slow
        n = (cash + pos * c) // c
        target = n if f > s else -n
        if not (pos != 0 and (pos > 0) == (target > 0)) and target != pos:
            pending = (target - pos, i)
    if pending is not None and pending[1] < i:
        fill(pending[0], o)
        pending = None
last = bars[-1][1]
if pending is not None:
    fill(pending[0], last)
if pos != 0:
    fill(-pos, last)
for side, px, q in fills:
    print("%s,%d.%02d,%d" % (side, px // 100, px % 100, q))
