/* perf_stats.h — performance statistics of a run, from the equity curve and
 * the closed round-trip trades. Every formula is written in
 * docs/performance.md; this header only names the results.
 *
 * Inputs are borrowed for the call. Results are plain doubles; a statistic
 * that is not meaningful for the input (too few returns, zero variance, a
 * run shorter than the CAGR minimum) has its has_* flag false.
 */
#ifndef QTS_PERF_STATS_H
#define QTS_PERF_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define QTS_NS_PER_DAY INT64_C(86400000000000)
#define QTS_DAYS_PER_YEAR 365.25 /* calendar basis: venues that trade every day */

struct qts_perf_params {
    int64_t period_ns;       /* return period for Sharpe/Sortino; default 1 day */
    double periods_per_year; /* annualisation; default 365.25 days / period */
    double risk_free_annual; /* default 0 */
    int64_t cagr_min_days;   /* CAGR only for runs at least this long; default 30 */
};

/* One closed trade as perf_stats sees it (net PnL in cash units). */
struct qts_perf_trade {
    int64_t pnl; /* net of fees */
};

struct qts_perf {
    int64_t start_ns, end_ns;
    double equity_start, equity_end; /* currency units */
    double total_return;             /* E_end / E_start - 1 */
    bool has_cagr;
    double cagr;
    double max_drawdown;    /* fraction, >= 0 */
    int64_t max_dd_peak_ns; /* peak before the deepest trough */
    int64_t max_dd_trough_ns;
    int64_t max_dd_duration_ns; /* longest time below a previous peak */
    size_t n_returns;           /* period returns used */
    bool has_sharpe;
    double sharpe;
    bool has_sortino;
    double sortino;
    double vol_annual;       /* sample stdev of period returns * sqrt(ppy) */
    size_t n_trades;         /* closed round trips */
    size_t n_wins, n_losses; /* pnl > 0, pnl < 0 (0 counts as neither) */
    bool has_win_rate;
    double win_rate;             /* n_wins / n_trades */
    bool has_profit_factor;      /* false without trades or without losses */
    bool profit_factor_infinite; /* wins but no loss */
    double profit_factor;        /* gross wins / |gross losses| */
    double avg_win, avg_loss;    /* currency units; 0 when none */
    size_t max_consec_losses;
    double exposure;       /* time-weighted mean of gross exposure / equity */
    double time_in_market; /* share of time with a non-zero exposure */
    size_t n_fills;
    double fees; /* currency units */
};

/* Defaults described in the struct comment. */
void qts_perf_params_default(struct qts_perf_params *p);

/* Compute the statistics. ts_ns/equity/gross_exposure: n_points samples in
 * time order (equity and exposure in cash units; gross_exposure may be
 * NULL). trades: n_trades closed trades. fees: total fees in cash units.
 * Returns 0, or QTS_EINVAL when n_points is 0 or time goes backwards. */
int qts_perf_compute(const struct qts_perf_params *params, const int64_t *ts_ns,
                     const int64_t *equity, const int64_t *gross_exposure, size_t n_points,
                     const struct qts_perf_trade *trades, size_t n_trades, size_t n_fills,
                     int64_t fees, struct qts_perf *out);

#endif /* QTS_PERF_STATS_H */
