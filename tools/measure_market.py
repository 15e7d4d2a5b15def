#!/usr/bin/env python3
"""measure_market.py - the figures the synthetic demo market is calibrated to.

Reads Binance raw WebSocket captures (docs/market-data.md, "Binance
captures": one `<recv ns> <JSON>` line per message, gzip) of one symbol and
prints, as JSON and as a short table:
  - the trade rate (trades per second of exchange time),
  - the trade size distribution (median, mean, percentiles, in the
    instrument's quantity),
  - the spread in ticks (share of bookTicker messages at 1, 2, 3+ ticks),
  - the top-of-book depth (median and mean of best bid and best ask sizes),
  - the stdev of 1-minute and 1-second log returns of the mid (bookTicker),
    the 1-second one also scaled to a minute (x sqrt(60)), since a short
    capture holds few minutes.
Usage: tools/measure_market.py [--tick 0.01] FILE.gz [FILE.gz ...]
Files of one capture are read in the order given (their times follow on).
"""
import argparse
import gzip
import json
import math
import statistics
import sys


def pct(sorted_v, p):
    if not sorted_v:
        return float("nan")
    k = min(len(sorted_v) - 1, max(0, int(round(p / 100.0 * (len(sorted_v) - 1)))))
    return sorted_v[k]


def stdev_returns(mids, step_ns):
    """Stdev of log returns of the last mid in each step_ns bucket."""
    last = {}
    for t, m in mids:
        last[t // step_ns] = m
    keys = sorted(last)
    rets = [math.log(last[b] / last[a]) for a, b in zip(keys, keys[1:]) if b == a + 1]
    return (statistics.pstdev(rets) if len(rets) > 1 else float("nan")), len(rets)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tick", type=float, default=0.01, help="price tick (BTCUSDT spot: 0.01)")
    ap.add_argument("files", nargs="+")
    a = ap.parse_args()
    trades, sizes, spreads, bq, aq, mids = [], [], [], [], [], []
    for path in a.files:
        with gzip.open(path, "rt") as f:
            for line in f:
                sp = line.find(" ")
                if sp < 0:
                    continue
                recv_ns = int(line[:sp])
                msg = json.loads(line[sp + 1:])
                stream, d = msg.get("stream", ""), msg.get("data")
                if stream.endswith("@trade"):
                    trades.append(d["T"])
                    sizes.append(float(d["q"]))
                elif stream.endswith("@bookTicker"):
                    b, ak = float(d["b"]), float(d["a"])
                    spreads.append(int(round((ak - b) / a.tick)))
                    bq.append(float(d["B"]))
                    aq.append(float(d["A"]))
                    # bookTicker has no exchange time: the receive clock
                    mids.append((recv_ns, 0.5 * (b + ak)))
    if not trades or not mids:
        sys.exit("measure_market: no trades or bookTicker messages in the files")
    span_s = (trades[-1] - trades[0]) / 1000.0
    sizes.sort()
    sp_n = len(spreads)
    top = sorted(bq + aq)
    r60, n60 = stdev_returns(mids, 60 * 10**9)
    r1, n1 = stdev_returns(mids, 10**9)
    out = {
        "span_s": round(span_s, 1),
        "trades": len(trades),
        "trade_rate_per_s": round(len(trades) / span_s, 2),
        "trade_size_median": pct(sizes, 50),
        "trade_size_mean": round(statistics.mean(sizes), 5),
        "trade_size_p90": pct(sizes, 90),
        "trade_size_p99": pct(sizes, 99),
        "spread_1_tick_share": round(sum(1 for s in spreads if s == 1) / sp_n, 4),
        "spread_2_ticks_share": round(sum(1 for s in spreads if s == 2) / sp_n, 4),
        "spread_3plus_ticks_share": round(sum(1 for s in spreads if s >= 3) / sp_n, 4),
        "top_qty_median": pct(top, 50),
        "top_qty_mean": round(statistics.mean(top), 5),
        "mid_price_mean": round(statistics.mean(m for _, m in mids), 2),
        "ret_1m_stdev_bps": round(r60 * 1e4, 3),
        "ret_1m_samples": n60,
        "ret_1s_stdev_bps": round(r1 * 1e4, 3),
        "ret_1s_samples": n1,
        "ret_1s_scaled_to_1m_bps": round(r1 * math.sqrt(60) * 1e4, 3),
    }
    json.dump(out, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
