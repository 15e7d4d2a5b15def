/* perf_stats.h — performance statistics of a run, from the equity curve and
 * the closed round-trip trades. Every formula is written in
 * docs/portfolio.md; this header only names the results.
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

/* The same statistics computed online, so a run's series never has to be
 * held in memory: the equity samples are fed twice, in time order (the
 * standard deviation is the two-pass one: mean first, then deviations, which
 * keeps every figure bit-identical to qts_perf_compute), the closed trades
 * once in closing order. Nothing here grows with the number of samples.
 *
 *   qts_perf_acc_init; qts_perf_acc_point for every sample;
 *   qts_perf_acc_second_pass; qts_perf_acc_point for every sample again;
 *   qts_perf_acc_trade for every trade (any time); qts_perf_acc_finish.
 */
struct qts_perf_acc {
    struct qts_perf_params pp;
    int pass;       /* 1 or 2 */
    bool bad;       /* time went backwards in pass 1 */
    bool has_gross; /* exposure fed (pass 2) */
    size_t n, n2;   /* samples seen in pass 1, pass 2 */
    int64_t first_ts, last_ts, first_eq, last_eq;
    int64_t peak, peak_ns, uw_start; /* drawdown */
    /* period returns on the grid first_ts + k * period_ns */
    int64_t next_b;
    double grid_prev; /* equity at the previous grid time */
    size_t k;
    bool wiped; /* equity <= 0 before a return: returns undefined */
    double sum, mean, sumsq, down;
    /* pass 2 exposure: each sample holds until the next one */
    bool has_prev;
    int64_t prev_ts;
    double prev_ratio;
    bool prev_in;
    double wsum, tin;
    /* trades */
    size_t n_trades, n_wins, n_losses, run, max_consec;
    int64_t gross_win, gross_loss;
    struct qts_perf out; /* drawdown results build up here */
};

void qts_perf_acc_init(struct qts_perf_acc *a, const struct qts_perf_params *params);
/* One equity sample (cash units); gross_exposure is used in pass 2 only. */
void qts_perf_acc_point(struct qts_perf_acc *a, int64_t ts_ns, int64_t equity,
                        int64_t gross_exposure);
/* Pass 1 is complete; feed the same samples again. */
void qts_perf_acc_second_pass(struct qts_perf_acc *a);
void qts_perf_acc_trade(struct qts_perf_acc *a, int64_t pnl);
/* Returns 0, or QTS_EINVAL when no sample was fed or time went backwards. */
int qts_perf_acc_finish(struct qts_perf_acc *a, size_t n_fills, int64_t fees, struct qts_perf *out);

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
