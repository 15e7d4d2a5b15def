/* portfolio.h — positions, cash, fees, realized/unrealized PnL, the fill
 * ledger (t_ledger), closed round-trip trades and the equity curve.
 *
 * The rows that accumulate with data time and fills (ledger entries, closed
 * trades, equity and price samples) are not kept: each is handed once to
 * the listener (qts_portfolio_set_listener), which streams them to the run's
 * files. Memory stays flat however long the run; only the running totals,
 * the positions and the newest equity sample live here.
 *
 * Money is exact: every amount is int64 in cash units (QTS_CASH_EXP). A
 * fill's notional px * qty is rounded once, half away from zero, to cash
 * units; realized PnL is taken from the position's cost basis (average-cost
 * method) in the same units, so the identity
 *     equity = cash + sum(market value)
 *            = initial_cash + realized + unrealized - fees
 * holds exactly at every fill (docs/portfolio.md).
 *
 * Positions are kept per (strategy, instrument) and per instrument. Shorts
 * are negative quantities; a fill that crosses zero closes the old side at
 * its cost basis and opens the rest on the other side at the fill price.
 *
 * Single-threaded: the core loop owns the portfolio.
 */
#ifndef QTS_PORTFOLIO_H
#define QTS_PORTFOLIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "qts/qts_types.h"

/* One row of the ledger: one per applied fill, with running totals. */
struct qts_ledger_entry {
    int64_t ts_ns;
    uint64_t order_id;
    uint64_t fill_id;
    uint32_t strategy_id;
    uint32_t instrument;
    uint8_t side; /* enum qts_side */
    uint8_t is_maker;
    uint8_t px_exp;
    uint8_t qty_exp;
    int64_t px;
    int64_t qty;             /* positive */
    int64_t notional;        /* cash units, rounded px*qty, positive */
    int64_t fee;             /* cash units */
    int64_t realized;        /* realized PnL of this fill, gross of fees */
    int64_t cash_after;      /* account cash after the fill */
    int64_t pos_after;       /* instrument position after the fill */
    int64_t strat_pos_after; /* (strategy, instrument) position after */
    char tag[QTS_TAG_MAX];
};

/* A position bucket: per instrument, or per (strategy, instrument). */
struct qts_position {
    uint32_t strategy_id; /* UINT32_MAX for the per-instrument total */
    uint32_t instrument;
    uint8_t px_exp;
    uint8_t qty_exp;
    int64_t qty;        /* signed */
    int64_t cost_basis; /* cash units, signed like qty (short: negative) */
    int64_t realized;   /* cash units, gross of fees */
    int64_t fees;       /* cash units */
    int64_t n_fills;
    int64_t bought_qty;
    int64_t sold_qty;
    /* round trip in progress (position left zero) */
    int64_t trip_open_ts_ns;
    int64_t trip_realized;
    int64_t trip_fees;
    int64_t trip_max_qty; /* largest |qty| during the trip */
    int8_t trip_dir;      /* +1 long, -1 short, 0 flat */
    int64_t turnover;     /* sum of fill notionals, cash units */
    int64_t n_trips;      /* closed round trips (strategy buckets only) */
};

/* A closed round trip: from flat to flat (a flip closes one and opens the
 * next) for one (strategy, instrument). */
struct qts_trade_rt {
    uint32_t strategy_id;
    uint32_t instrument;
    int8_t dir; /* +1 long, -1 short */
    uint8_t qty_exp;
    int64_t open_ts_ns;
    int64_t close_ts_ns;
    int64_t max_qty;  /* largest absolute position held */
    int64_t realized; /* gross, cash units */
    int64_t fees;     /* cash units, flip fills split by quantity */
    int64_t pnl;      /* realized - fees */
};

/* One sample of the equity curve. */
struct qts_equity_point {
    int64_t ts_ns;
    int64_t equity; /* cash units */
    int64_t cash;
    int64_t gross_exposure; /* sum |market value|, cash units */
};

/* A mark price recorded with an equity sample (for price charts). */
struct qts_price_point {
    int64_t ts_ns;
    uint32_t instrument;
    uint8_t px_exp;
    int64_t px;
};

/* Per-strategy attribution (computed on demand). */
struct qts_strategy_stats {
    uint32_t strategy_id;
    int64_t realized;
    int64_t unrealized;
    int64_t fees;
    int64_t net_pnl; /* realized + unrealized - fees */
    int64_t n_fills;
    int64_t n_trades; /* closed round trips */
    int64_t turnover; /* sum of notionals */
};

struct qts_portfolio;

/* New portfolio with `initial_cash` cash units. Owned: qts_portfolio_free. */
struct qts_portfolio *qts_portfolio_new(int64_t initial_cash);
void qts_portfolio_free(struct qts_portfolio *pf);

/* Notional of px*qty in cash units, rounded half away from zero. */
int64_t qts_cash_notional(int64_t px, unsigned px_exp, int64_t qty, unsigned qty_exp);

/* Optional display name for an instrument (copied); used by reports. */
void qts_portfolio_set_symbol(struct qts_portfolio *pf, uint32_t instrument, const char *symbol);
/* Symbol of an instrument, "" when unknown. Borrowed, valid until the next
 * call that changes the portfolio. */
const char *qts_portfolio_symbol(const struct qts_portfolio *pf, uint32_t instrument);

/* Apply one fill (borrowed; copied into the ledger). Uses f->h.instrument,
 * px_exp, qty_exp, ts_exch_ns. Returns 0, or QTS_EINVAL for a fill with
 * qty <= 0, px <= 0, an unknown side or exponents that disagree with earlier
 * fills of the instrument. The fill also marks the instrument at its price. */
int qts_portfolio_apply_fill(struct qts_portfolio *pf, const struct qts_fill *f);

/* Mark an instrument at `px` (its last price) for unrealized PnL. Marks of
 * instruments without a position are remembered for when one opens. */
void qts_portfolio_mark(struct qts_portfolio *pf, uint32_t instrument, int64_t px, unsigned px_exp);

/* Where the accumulating rows go. Every pointer handed to a callback is
 * borrowed for the call. Any callback may be NULL. */
struct qts_portfolio_listener {
    /* one per applied fill, in order */
    void (*on_ledger)(void *ctx, const struct qts_ledger_entry *e);
    /* one per closed round trip, in closing order */
    void (*on_trade)(void *ctx, const struct qts_trade_rt *t);
    /* one per equity sample, once it is final (a later sample has another
     * timestamp, or qts_portfolio_flush_sample); px: the marked instruments'
     * prices at that sample, sorted by instrument (borrowed for the call;
     * NULL when n_px is 0) */
    void (*on_sample)(void *ctx, const struct qts_equity_point *e, const struct qts_price_point *px,
                      size_t n_px);
    void *ctx; /* borrowed: outlives the portfolio or the next set_listener */
};

/* Install (copied) or remove (NULL) the listener. Rows produced while none
 * is installed are counted but go nowhere. */
void qts_portfolio_set_listener(struct qts_portfolio *pf, const struct qts_portfolio_listener *l);

/* Take an equity sample at ts_ns (the caller decides the cadence). A sample
 * with the same ts_ns as the newest one replaces it, so the newest sample
 * is held back until a later timestamp (or flush_sample) makes it final.
 * Every marked instrument's price is recorded with it. */
void qts_portfolio_sample(struct qts_portfolio *pf, int64_t ts_ns);

/* Hand the held-back sample to the listener now (end of a run). A later
 * sample at the same ts_ns is then a new row. */
void qts_portfolio_flush_sample(struct qts_portfolio *pf);

/* Sample on a fixed grid: when ts_ns has reached the next multiple of
 * interval_ns since the first sample, append one sample stamped ts_ns.
 * The first call always samples. Returns 1 when it sampled, else 0. */
int qts_portfolio_sample_every(struct qts_portfolio *pf, int64_t ts_ns, int64_t interval_ns);

int64_t qts_portfolio_initial_cash(const struct qts_portfolio *pf);
int64_t qts_portfolio_cash(const struct qts_portfolio *pf);
int64_t qts_portfolio_fees(const struct qts_portfolio *pf);
int64_t qts_portfolio_realized(const struct qts_portfolio *pf);
int64_t qts_portfolio_unrealized(const struct qts_portfolio *pf);
int64_t qts_portfolio_equity(const struct qts_portfolio *pf);
int64_t qts_portfolio_gross_exposure(const struct qts_portfolio *pf);
/* Last mark of an instrument (0 if none). */
int64_t qts_portfolio_last_px(const struct qts_portfolio *pf, uint32_t instrument);

/* Position of an instrument (all strategies) or of one strategy in it.
 * Returns NULL when never traded. Borrowed until the next apply_fill. */
const struct qts_position *qts_portfolio_position(const struct qts_portfolio *pf,
                                                  uint32_t instrument);
const struct qts_position *qts_portfolio_strategy_position(const struct qts_portfolio *pf,
                                                           uint32_t strategy_id,
                                                           uint32_t instrument);
/* Average price of a position in its price units (cost basis / qty,
 * rounded half away from zero); 0 when flat. */
int64_t qts_position_avg_px(const struct qts_position *p);

/* Unrealized PnL of a position at its instrument's last mark. */
int64_t qts_portfolio_position_unrealized(const struct qts_portfolio *pf,
                                          const struct qts_position *p);

/* Instrument positions, strategy positions (sorted by strategy, instrument). */
size_t qts_portfolio_positions(const struct qts_portfolio *pf, const struct qts_position **out);
size_t qts_portfolio_strategy_positions(const struct qts_portfolio *pf,
                                        const struct qts_position **out);

/* Rows produced so far: ledger entries (fills applied), closed round trips,
 * equity samples taken (a replaced sample counts once). */
size_t qts_portfolio_n_fills(const struct qts_portfolio *pf);
size_t qts_portfolio_n_trades(const struct qts_portfolio *pf);
size_t qts_portfolio_n_samples(const struct qts_portfolio *pf);
/* The newest equity sample (held back or not); false before the first. */
bool qts_portfolio_last_sample(const struct qts_portfolio *pf, struct qts_equity_point *out);

/* Per-strategy attribution, sorted by strategy id. `out` owned by the
 * caller (free()); returns the count. */
size_t qts_portfolio_strategy_stats(const struct qts_portfolio *pf,
                                    struct qts_strategy_stats **out);

#endif /* QTS_PORTFOLIO_H */
