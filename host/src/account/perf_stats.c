/* perf_stats.c — see perf_stats.h and docs/portfolio.md. */
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

void qts_perf_acc_init(struct qts_perf_acc *a, const struct qts_perf_params *params)
{
    memset(a, 0, sizeof *a);
    if (params)
        a->pp = *params;
    else
        qts_perf_params_default(&a->pp);
    a->pass = 1;
    a->uw_start = -1;
}

/* The return from the previous grid time to one whose equity is e. */
static void grid_return(struct qts_perf_acc *a, double e)
{
    if (a->wiped)
        return;
    if (a->grid_prev <= 0) {
        a->wiped = true; /* returns undefined after a wipe-out */
        return;
    }
    double r = e / a->grid_prev - 1.0;
    a->grid_prev = e;
    a->k++;
    if (a->pass == 1) {
        a->sum += r;
    } else {
        double rf = a->pp.risk_free_annual / a->pp.periods_per_year;
        a->sumsq += (r - a->mean) * (r - a->mean);
        double dn = r - rf < 0 ? r - rf : 0;
        a->down += dn * dn;
    }
}

/* Grid times strictly before `before` take the last sample's equity (the
 * last sample at or before them). */
static void grid_until(struct qts_perf_acc *a, int64_t before)
{
    if (a->pp.period_ns <= 0)
        return;
    while (a->next_b < before) {
        grid_return(a, (double)a->last_eq);
        a->next_b += a->pp.period_ns;
    }
}

static void drawdown_point(struct qts_perf_acc *a, int64_t ts, int64_t eq)
{
    struct qts_perf *o = &a->out;
    if (eq >= a->peak) {
        if (a->uw_start >= 0 && ts - a->uw_start > o->max_dd_duration_ns)
            o->max_dd_duration_ns = ts - a->uw_start;
        a->uw_start = -1;
        a->peak = eq;
        a->peak_ns = ts;
        return;
    }
    if (a->uw_start < 0)
        a->uw_start = a->peak_ns;
    if (a->peak > 0) {
        double dd = 1.0 - (double)eq / (double)a->peak;
        if (dd > o->max_drawdown) {
            o->max_drawdown = dd;
            o->max_dd_peak_ns = a->peak_ns;
            o->max_dd_trough_ns = ts;
        }
    }
}

static void exposure_point(struct qts_perf_acc *a, int64_t ts, int64_t eq, int64_t gross)
{
    int64_t span = a->last_ts - a->first_ts;
    double ratio = eq > 0 ? (double)gross / (double)eq : 0;
    if (span <= 0) {
        double w = 1.0 / (double)a->n;
        a->wsum += ratio * w;
        if (gross != 0)
            a->tin += w;
        return;
    }
    if (a->has_prev) {
        double w = (double)(ts - a->prev_ts);
        a->wsum += a->prev_ratio * w;
        if (a->prev_in)
            a->tin += w;
    }
    a->has_prev = true;
    a->prev_ts = ts;
    a->prev_ratio = ratio;
    a->prev_in = gross != 0;
}

void qts_perf_acc_point(struct qts_perf_acc *a, int64_t ts, int64_t eq, int64_t gross)
{
    if (a->pass == 2) {
        if (a->n2 == 0) {
            a->grid_prev = (double)eq;
            a->next_b = ts + a->pp.period_ns;
        } else {
            grid_until(a, ts);
        }
        a->n2++;
        a->last_eq = eq;
        a->has_gross = true;
        exposure_point(a, ts, eq, gross);
        return;
    }
    if (a->n == 0) {
        a->first_ts = ts;
        a->first_eq = eq;
        a->peak = eq;
        a->peak_ns = ts;
        a->grid_prev = (double)eq;
        a->next_b = ts + a->pp.period_ns;
    } else {
        if (ts < a->last_ts)
            a->bad = true;
        grid_until(a, ts);
    }
    a->n++;
    a->last_ts = ts;
    a->last_eq = eq;
    drawdown_point(a, ts, eq);
}

/* Grid times up to and including the last sample's. */
static void grid_close(struct qts_perf_acc *a)
{
    if (a->pp.period_ns > 0 && a->n)
        grid_until(a, a->last_ts + 1);
}

void qts_perf_acc_second_pass(struct qts_perf_acc *a)
{
    grid_close(a);
    a->mean = a->k ? a->sum / (double)a->k : 0;
    a->pass = 2;
    a->k = 0;
    a->wiped = false;
    a->n2 = 0;
}
void qts_perf_acc_trade(struct qts_perf_acc *a, int64_t pnl)
{
    a->n_trades++;
    if (pnl > 0) {
        a->n_wins++;
        a->gross_win += pnl;
        a->run = 0;
    } else if (pnl < 0) {
        a->n_losses++;
        a->gross_loss += pnl;
        if (++a->run > a->max_consec)
            a->max_consec = a->run;
    } else {
        a->run = 0;
    }
}

static void ratios(const struct qts_perf_acc *a, struct qts_perf *o)
{
    if (a->pp.period_ns <= 0 || a->pass != 2 || a->wiped || a->k == 0)
        return;
    size_t k = a->k;
    double rf = a->pp.risk_free_annual / a->pp.periods_per_year;
    o->n_returns = k;
    double ann = sqrt(a->pp.periods_per_year);
    if (k >= 2) {
        double sd = sqrt(a->sumsq / (double)(k - 1));
        o->vol_annual = sd * ann;
        if (sd > 0) {
            o->has_sharpe = true;
            o->sharpe = (a->mean - rf) / sd * ann;
        }
        double dd = sqrt(a->down / (double)k);
        if (dd > 0) {
            o->has_sortino = true;
            o->sortino = (a->mean - rf) / dd * ann;
        }
    }
}

int qts_perf_acc_finish(struct qts_perf_acc *a, size_t n_fills, int64_t fees, struct qts_perf *out)
{
    memset(out, 0, sizeof *out);
    if (a->n == 0 || a->bad)
        return QTS_EINVAL;
    grid_close(a);
    struct qts_perf *o = out;
    *o = a->out; /* the drawdown figures */
    if (a->uw_start >= 0 && a->last_ts - a->uw_start > o->max_dd_duration_ns)
        o->max_dd_duration_ns = a->last_ts - a->uw_start;
    o->start_ns = a->first_ts;
    o->end_ns = a->last_ts;
    o->equity_start = cash_d(a->first_eq);
    o->equity_end = cash_d(a->last_eq);
    if (a->first_eq > 0)
        o->total_return = (double)a->last_eq / (double)a->first_eq - 1.0;
    double days = (double)(o->end_ns - o->start_ns) / (double)QTS_NS_PER_DAY;
    if (a->first_eq > 0 && a->last_eq > 0 && days > 0 && days >= (double)a->pp.cagr_min_days) {
        o->has_cagr = true;
        o->cagr = pow((double)a->last_eq / (double)a->first_eq, QTS_DAYS_PER_YEAR / days) - 1.0;
    }
    ratios(a, o);
    if (a->has_gross) {
        int64_t span = o->end_ns - o->start_ns;
        if (span > 0 && a->has_prev) { /* the last sample holds for no time */
            a->wsum += a->prev_ratio * 0.0;
            a->has_prev = false;
        }
        o->exposure = span > 0 ? a->wsum / (double)span : a->wsum;
        o->time_in_market = span > 0 ? a->tin / (double)span : a->tin;
    }
    o->n_trades = a->n_trades;
    o->n_wins = a->n_wins;
    o->n_losses = a->n_losses;
    o->max_consec_losses = a->max_consec;
    if (a->n_trades) {
        o->has_win_rate = true;
        o->win_rate = (double)a->n_wins / (double)a->n_trades;
    }
    if (a->n_losses) {
        o->has_profit_factor = true;
        o->profit_factor = (double)a->gross_win / (double)-a->gross_loss;
    } else if (a->n_wins) {
        o->profit_factor_infinite = true;
    }
    o->avg_win = a->n_wins ? cash_d(a->gross_win) / (double)a->n_wins : 0;
    o->avg_loss = a->n_losses ? cash_d(a->gross_loss) / (double)a->n_losses : 0;
    o->n_fills = n_fills;
    o->fees = cash_d(fees);
    return 0;
}

int qts_perf_compute(const struct qts_perf_params *params, const int64_t *ts_ns,
                     const int64_t *equity, const int64_t *gross_exposure, size_t n_points,
                     const struct qts_perf_trade *trades, size_t n_trades, size_t n_fills,
                     int64_t fees, struct qts_perf *o)
{
    struct qts_perf_acc a;
    qts_perf_acc_init(&a, params);
    for (size_t i = 0; i < n_points; i++)
        qts_perf_acc_point(&a, ts_ns[i], equity[i], 0);
    qts_perf_acc_second_pass(&a);
    for (size_t i = 0; i < n_points; i++)
        qts_perf_acc_point(&a, ts_ns[i], equity[i], gross_exposure ? gross_exposure[i] : 0);
    a.has_gross = gross_exposure != NULL;
    for (size_t i = 0; i < n_trades; i++)
        qts_perf_acc_trade(&a, trades[i].pnl);
    return qts_perf_acc_finish(&a, n_fills, fees, o);
}
