/* test_perf_stats.c — performance formulas (docs/portfolio.md) against
 * values computed by hand for a six-day equity series and six trades. */
#include "test_support.h"

#include <math.h>

#include "perf_stats.h"
#include "qts/qts_err.h"

#define DAY QTS_NS_PER_DAY
#define M 1000000LL /* one currency unit in cash units */

static const int64_t TS[] = {0, DAY, 2 * DAY, 3 * DAY, 4 * DAY, 5 * DAY};
static const int64_t EQ[] = {100 * M, 110 * M, 99 * M, 108900000, 120 * M, 114 * M};
static const int64_t GX[] = {0, 50 * M, 50 * M, 0, 60 * M, 60 * M};
static const struct qts_perf_trade TR[] = {{10 * M}, {-5 * M}, {3 * M}, {-2 * M}, {-1 * M}, {0}};

static void test_equity_statistics(void **state)
{
    (void)state;
    struct qts_perf_params pp;
    qts_perf_params_default(&pp);
    struct qts_perf p;
    assert_int_equal(qts_perf_compute(&pp, TS, EQ, GX, 6, TR, 6, 17, 1234567, &p), 0);
    assert_float_equal(p.total_return, 0.14, 1e-12);
    /* daily returns .1, -.1, .1, .1019283747, -.05 */
    assert_int_equal(p.n_returns, 5);
    assert_true(p.has_sharpe);
    /* mean .0303856749 / sample sd .0978173647 * sqrt(365.25) */
    assert_float_equal(p.sharpe, 5.936740163754148, 1e-9);
    assert_true(p.has_sortino);
    /* downside deviation sqrt((.1^2 + .05^2) / 5) */
    assert_float_equal(p.sortino, 11.61432555566882, 1e-9);
    assert_float_equal(p.vol_annual, 1.8694380185871076, 1e-9);
    /* 110 -> 99 is the deepest fall; under water from day 1 to day 4 */
    assert_float_equal(p.max_drawdown, 0.1, 1e-12);
    assert_int_equal(p.max_dd_peak_ns, DAY);
    assert_int_equal(p.max_dd_trough_ns, 2 * DAY);
    assert_int_equal(p.max_dd_duration_ns, 3 * DAY);
    /* five days: CAGR is not meaningful at the default 30-day minimum */
    assert_false(p.has_cagr);
    /* exposure: (0 + 50/110 + 50/99 + 0 + 60/120) / 5 days */
    assert_float_equal(p.exposure, 0.2919191919191919, 1e-12);
    assert_float_equal(p.time_in_market, 0.6, 1e-12);
    /* trades: +10 -5 +3 -2 -1 0 */
    assert_int_equal(p.n_trades, 6);
    assert_int_equal(p.n_wins, 2);
    assert_int_equal(p.n_losses, 3);
    assert_float_equal(p.win_rate, 2.0 / 6.0, 1e-12);
    assert_true(p.has_profit_factor);
    assert_float_equal(p.profit_factor, 13.0 / 8.0, 1e-12);
    assert_float_equal(p.avg_win, 6.5, 1e-12);
    assert_float_equal(p.avg_loss, -8.0 / 3.0, 1e-12);
    assert_int_equal(p.max_consec_losses, 2);
    assert_int_equal(p.n_fills, 17);
    assert_float_equal(p.fees, 1.234567, 1e-12);

    pp.cagr_min_days = 1;
    assert_int_equal(qts_perf_compute(&pp, TS, EQ, GX, 6, TR, 6, 17, 0, &p), 0);
    assert_true(p.has_cagr);
    assert_float_equal(p.cagr, pow(1.14, 365.25 / 5.0) - 1.0, 1e-6);
}

static void test_unrecovered_drawdown_and_edge_cases(void **state)
{
    (void)state;
    struct qts_perf p;
    /* never recovers: duration runs to the end of the series */
    const int64_t ts[] = {0, 10, 20, 30};
    const int64_t eq[] = {100 * M, 90 * M, 80 * M, 95 * M};
    assert_int_equal(qts_perf_compute(NULL, ts, eq, NULL, 4, NULL, 0, 0, 0, &p), 0);
    assert_float_equal(p.max_drawdown, 0.2, 1e-12);
    assert_int_equal(p.max_dd_duration_ns, 30);
    assert_false(p.has_sharpe); /* no whole day in the series */
    assert_false(p.has_win_rate);
    assert_false(p.has_profit_factor);
    /* only winners: profit factor infinite, flagged */
    const struct qts_perf_trade w[] = {{5}, {7}};
    assert_int_equal(qts_perf_compute(NULL, ts, eq, NULL, 4, w, 2, 2, 0, &p), 0);
    assert_false(p.has_profit_factor);
    assert_true(p.profit_factor_infinite);
    assert_float_equal(p.win_rate, 1.0, 0);
    /* bad input */
    const int64_t back[] = {10, 5};
    assert_int_equal(qts_perf_compute(NULL, back, eq, NULL, 2, NULL, 0, 0, 0, &p), QTS_EINVAL);
    assert_int_equal(qts_perf_compute(NULL, ts, eq, NULL, 0, NULL, 0, 0, 0, &p), QTS_EINVAL);
}

static void test_period_resampling(void **state)
{
    (void)state;
    /* hourly returns on a series sampled every 20 minutes: the value at each
     * hour boundary is the last sample at or before it */
    const int64_t H = 3600LL * 1000000000LL, m20 = H / 3;
    int64_t ts[10];
    int64_t eq[10];
    for (int i = 0; i < 10; i++) {
        ts[i] = i * m20;
        eq[i] = (100 + i) * M;
    }
    struct qts_perf_params pp;
    qts_perf_params_default(&pp);
    pp.period_ns = H;
    pp.periods_per_year = 365.25 * 24;
    struct qts_perf p;
    assert_int_equal(qts_perf_compute(&pp, ts, eq, NULL, 10, NULL, 0, 0, 0, &p), 0);
    assert_int_equal(p.n_returns, 3); /* 100 -> 103 -> 106 -> 109 */
    double r1 = 103.0 / 100 - 1, r2 = 106.0 / 103 - 1, r3 = 109.0 / 106 - 1;
    double mean = (r1 + r2 + r3) / 3;
    double sd = sqrt(
        ((r1 - mean) * (r1 - mean) + (r2 - mean) * (r2 - mean) + (r3 - mean) * (r3 - mean)) / 2);
    assert_float_equal(p.sharpe, mean / sd * sqrt(365.25 * 24), 1e-6);
    assert_false(p.has_sortino); /* no return below zero */
}

QTS_TEST_MAIN(test_equity_statistics, test_unrecovered_drawdown_and_edge_cases,
              test_period_resampling)
