/* perf_stats.c — see perf_stats.h and docs/performance.md. */
#include "perf_stats.h"

#include <math.h>
#include <string.h>

#include "qts/qts_err.h"
#include "qts/qts_types.h"

void qts_perf_params_default(struct qts_perf_params *p)
{
    p->period_ns = QTS_NS_PER_DAY;
    p->periods_per_year = QTS_DAYS_PER_YEAR;
    p->risk_free_annual = 0.0;
    p->cagr_min_days = 30;
}

static double cash_d(int64_t v) { return qts_fixed_to_double(v, QTS_CASH_EXP); }

/* Last sample at or before t (samples sorted; t >= ts[0]). */
static size_t sample_at(const int64_t *ts, size_t n, size_t from, int64_t t)
{
    size_t i = from;
    while (i + 1 < n && ts[i + 1] <= t)
        i++;
    return i;
}

static void drawdown(const int64_t *ts, const int64_t *eq, size_t n, struct qts_perf *o)
{
    int64_t peak = eq[0], peak_ns = ts[0];
    int64_t uw_start = -1; /* start of the current underwater period */
    for (size_t i = 0; i < n; i++) {
        if (eq[i] >= peak) {
            if (uw_start >= 0 && ts[i] - uw_start > o->max_dd_duration_ns)
                o->max_dd_duration_ns = ts[i] - uw_start;
            uw_start = -1;
            peak = eq[i];
            peak_ns = ts[i];
            continue;
        }
        if (uw_start < 0)
            uw_start = peak_ns;
        if (peak > 0) {
            double dd = 1.0 - (double)eq[i] / (double)peak;
            if (dd > o->max_drawdown) {
                o->max_drawdown = dd;
                o->max_dd_peak_ns = peak_ns;
                o->max_dd_trough_ns = ts[i];
            }
        }
    }
    if (uw_start >= 0 && ts[n - 1] - uw_start > o->max_dd_duration_ns)
        o->max_dd_duration_ns = ts[n - 1] - uw_start;
}

static void ratios(const struct qts_perf_params *pp, const int64_t *ts, const int64_t *eq, size_t n,
                   struct qts_perf *o)
{
    if (pp->period_ns <= 0)
        return;
    double sum = 0, sumsq = 0, down = 0;
    size_t k = 0, at = 0;
    double rf = pp->risk_free_annual / pp->periods_per_year;
    double prev = (double)eq[0];
    double rets_sum_for_mean = 0;
    /* two passes over the grid: mean first, then deviations */
    for (int pass = 0; pass < 2; pass++) {
        at = 0;
        k = 0;
        prev = (double)eq[0];
        double mean = pass ? rets_sum_for_mean : 0;
        for (int64_t b = ts[0] + pp->period_ns; b <= ts[n - 1]; b += pp->period_ns) {
            at = sample_at(ts, n, at, b);
            double e = (double)eq[at];
            if (prev <= 0)
                return; /* returns undefined after a wipe-out */
            double r = e / prev - 1.0;
            prev = e;
            k++;
            if (pass == 0) {
                sum += r;
            } else {
                sumsq += (r - mean) * (r - mean);
                double dn = r - rf < 0 ? r - rf : 0;
                down += dn * dn;
            }
        }
        if (pass == 0) {
            if (k == 0)
                return;
            rets_sum_for_mean = sum / (double)k;
        }
    }
    o->n_returns = k;
    double mean = rets_sum_for_mean;
    double ann = sqrt(pp->periods_per_year);
    if (k >= 2) {
        double sd = sqrt(sumsq / (double)(k - 1));
        o->vol_annual = sd * ann;
        if (sd > 0) {
            o->has_sharpe = true;
            o->sharpe = (mean - rf) / sd * ann;
        }
        double dd = sqrt(down / (double)k);
        if (dd > 0) {
            o->has_sortino = true;
            o->sortino = (mean - rf) / dd * ann;
        }
    }
}

int qts_perf_compute(const struct qts_perf_params *params, const int64_t *ts_ns,
                     const int64_t *equity, const int64_t *gross_exposure, size_t n_points,
                     const struct qts_perf_trade *trades, size_t n_trades, size_t n_fills,
                     int64_t fees, struct qts_perf *o)
{
    struct qts_perf_params def;
    if (!params) {
        qts_perf_params_default(&def);
        params = &def;
    }
    memset(o, 0, sizeof *o);
    if (n_points == 0)
        return QTS_EINVAL;
    for (size_t i = 1; i < n_points; i++)
        if (ts_ns[i] < ts_ns[i - 1])
            return QTS_EINVAL;

    o->start_ns = ts_ns[0];
    o->end_ns = ts_ns[n_points - 1];
    o->equity_start = cash_d(equity[0]);
    o->equity_end = cash_d(equity[n_points - 1]);
    if (equity[0] > 0)
        o->total_return = (double)equity[n_points - 1] / (double)equity[0] - 1.0;
    double days = (double)(o->end_ns - o->start_ns) / (double)QTS_NS_PER_DAY;
    if (equity[0] > 0 && equity[n_points - 1] > 0 && days > 0 &&
        days >= (double)params->cagr_min_days) {
        o->has_cagr = true;
        o->cagr =
            pow((double)equity[n_points - 1] / (double)equity[0], QTS_DAYS_PER_YEAR / days) - 1.0;
    }
    drawdown(ts_ns, equity, n_points, o);
    ratios(params, ts_ns, equity, n_points, o);

    /* exposure: each sample holds until the next one */
    if (gross_exposure) {
        int64_t span = o->end_ns - o->start_ns;
        double wsum = 0, tin = 0;
        for (size_t i = 0; i < n_points; i++) {
            double ratio = equity[i] > 0 ? (double)gross_exposure[i] / (double)equity[i] : 0;
            double w = span > 0 ? (i + 1 < n_points ? (double)(ts_ns[i + 1] - ts_ns[i]) : 0)
                                : 1.0 / (double)n_points;
            wsum += ratio * w;
            if (gross_exposure[i] != 0)
                tin += w;
        }
        o->exposure = span > 0 ? wsum / (double)span : wsum;
        o->time_in_market = span > 0 ? tin / (double)span : tin;
    }

    o->n_trades = n_trades;
    int64_t gross_win = 0, gross_loss = 0;
    size_t run = 0;
    for (size_t i = 0; i < n_trades; i++) {
        if (trades[i].pnl > 0) {
            o->n_wins++;
            gross_win += trades[i].pnl;
            run = 0;
        } else if (trades[i].pnl < 0) {
            o->n_losses++;
            gross_loss += trades[i].pnl;
            if (++run > o->max_consec_losses)
                o->max_consec_losses = run;
        } else {
            run = 0;
        }
    }
    if (n_trades) {
        o->has_win_rate = true;
        o->win_rate = (double)o->n_wins / (double)n_trades;
    }
    if (o->n_losses) {
        o->has_profit_factor = true;
        o->profit_factor = (double)gross_win / (double)-gross_loss;
    } else if (o->n_wins) {
        o->profit_factor_infinite = true;
    }
    o->avg_win = o->n_wins ? cash_d(gross_win) / (double)o->n_wins : 0;
    o->avg_loss = o->n_losses ? cash_d(gross_loss) / (double)o->n_losses : 0;
    o->n_fills = n_fills;
    o->fees = cash_d(fees);
    return 0;
}
