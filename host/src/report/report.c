/* report.c — see report.h. The renderer reads back the CSV files the run
 * (or an earlier one) wrote, line by line: statistics are computed online
 * (perf_stats.h), charts keep a bounded downsample (report_chart.h), so its
 * memory does not depend on the run's length. Series are read twice: the
 * first pass gives the ranges and the mean return, the second draws and
 * takes the deviations. */
#include "report.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "report_calendar.h"
#include "report_chart.h"
#include "report_model.h"
#include "report_page.h"
#include "report_decide.h"
#include "report_tca.h"
#include "util.h"
#include "web_assets.h"

#define GROW(arr, n, cap)                                        \
    do {                                                         \
        if ((n) == (cap)) {                                      \
            (cap) = (cap) ? (cap)*2 : 64;                        \
            (arr) = qts_xrealloc((arr), (cap) * sizeof(*(arr))); \
        }                                                        \
    } while (0)

#define MAX_PRICE_CHARTS 8
/* Up to this many fills, a price chart shows each; above, per time bucket
 * counts and mean prices of buys and sells (docs/adr/0025). */
#define MAX_FILL_POINTS 2000
/* The trade list's rows (the first ones; trades.csv has them all). */
#define MAX_TRADE_ROWS 5000

void qts_report_meta_default(struct qts_report_meta *m)
{
    m->title = "qts run";
    m->interrupted = NULL;
    qts_perf_params_default(&m->perf);
}

#define fx qts_report_fx
#define html_text qts_report_html_text
#define fmt_time qts_report_fmt_time
#define fmt_duration qts_report_fmt_duration

/* ------------------------------------------------------------- file input */

struct rd_strat {
    uint32_t id;
    char name[64]; /* "" = unknown (a run directory older than names) */
    int64_t realized, unrealized, fees, net, n_fills, n_trades, turnover;
    int64_t wins; /* from trades.csv */
    double cash;  /* pass 2: its cash flows so far (PnL per strategy) */
};

/* A fill kept for the price chart (few fills) */
struct rd_fill {
    int64_t ts;
    double px, qty;
    int side; /* +1 buy, -1 sell */
    uint32_t strat;
};

/* Buys and sells of one time bucket (many fills) */
struct rd_fbucket {
    int64_t x; /* last fill's time */
    int64_t n_buy, n_sell;
    double buy_px, sell_px; /* sums, for the means */
};

/* An instrument seen in prices.csv or fills.csv, with its chart. */
struct rd_inst {
    uint32_t id;
    char symbol[QTS_SYMBOL_MAX];
    size_t n_px, n_fills;
    bool charted;
    struct qts_series px;
    struct rd_fill *fills; /* owned: n_fills <= MAX_FILL_POINTS */
    size_t nf;
    struct rd_fbucket *buckets; /* owned: QTS_CHART_BUCKETS, else */
    double last_px, mult;       /* pass 2: mark and contract multiplier */
};

/* One row of the trade list */
struct rd_trade {
    uint32_t strat;
    char symbol[QTS_SYMBOL_MAX];
    char qty[32];
    int dir;
    int64_t open, close, pnl, fees;
};

struct run {
    char title[128];
    char interrupted[128]; /* "" = the run reached its end */
    int64_t initial_cash;
    struct qts_perf_params pp;
    struct qts_perf_acc acc;
    int pass; /* 1: counts and ranges, 2: deviations and charts */
    /* equity.csv */
    size_t n_eq;
    int64_t x0, x1, last_ts;
    double peak;
    struct qts_series s_eq, s_dd;
    struct qts_calendar cal;
    /* fills.csv, trades.csv */
    size_t n_fills, n_trades;
    int64_t fees;
    struct rd_strat *strat;
    size_t n_strat, cap_strat;
    struct rd_inst *inst; /* sorted by id */
    size_t n_inst, cap_inst;
    struct rd_trade *trades; /* owned: the first MAX_TRADE_ROWS */
    size_t n_trows, cap_trows;
    /* pass 2: PnL per strategy, fills.csv read alongside prices.csv */
    struct qts_grid g_strat;
    double *pos; /* owned: n_strat x n_inst positions */
    struct csv *fcur;
    bool fcur_has; /* fcur holds a fill not applied yet */
    int64_t fcur_ts;
};

static void run_free(struct run *r)
{
    for (size_t i = 0; i < r->n_inst; i++) {
        qts_series_free(&r->inst[i].px);
        qts_free_all(r->inst[i].fills, r->inst[i].buckets);
    }
    qts_series_free(&r->s_eq);
    qts_series_free(&r->s_dd);
    qts_grid_free(&r->g_strat);
    qts_calendar_free(&r->cal);
    qts_free_all(r->strat, r->inst, r->trades, r->pos);
}

static struct rd_inst *inst_find(struct run *r, uint32_t id)
{
    for (size_t i = 0; i < r->n_inst; i++)
        if (r->inst[i].id == id)
            return &r->inst[i];
    return NULL;
}

/* The instrument's entry (created sorted; the first symbol seen stays). */
static struct rd_inst *inst_note(struct run *r, uint32_t id, const char *sym)
{
    size_t i = 0;
    while (i < r->n_inst && r->inst[i].id < id)
        i++;
    if (i < r->n_inst && r->inst[i].id == id)
        return &r->inst[i];
    GROW(r->inst, r->n_inst, r->cap_inst);
    memmove(&r->inst[i + 1], &r->inst[i], (r->n_inst - i) * sizeof *r->inst);
    r->n_inst++;
    struct rd_inst *in = &r->inst[i];
    memset(in, 0, sizeof *in);
    in->id = id;
    in->mult = 1;
    qts_strlcpy(in->symbol, sym, sizeof in->symbol);
    return in;
}

#define MAX_FIELDS 20

/* One CSV file read a line at a time. */
struct csv {
    FILE *fp;
    char *buf; /* owned: the current line */
    size_t cap;
    const char *path;
    int line;
    char *f[MAX_FIELDS];
    int nf;
};

/* Next line split on ','; returns false at the end. */
static bool csv_next(struct csv *c)
{
    ssize_t n = getline(&c->buf, &c->cap, c->fp);
    if (n <= 0)
        return false;
    if (c->buf[n - 1] == '\n')
        c->buf[n - 1] = '\0';
    c->line++;
    c->nf = 0;
    char *s = c->buf;
    for (;;) {
        if (c->nf < MAX_FIELDS)
            c->f[c->nf++] = s;
        char *comma = strchr(s, ',');
        if (!comma)
            break;
        *comma = '\0';
        s = comma + 1;
    }
    return true;
}

static int csv_bad(const struct csv *c, struct qts_err *err, const char *what)
{
    return qts_err_set(err, QTS_EPARSE, "%s:%d: %s", c->path, c->line, what);
}

static bool p_i64(const char *s, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end)
        return false;
    *out = v;
    return true;
}

static bool p_cash(const char *s, int64_t *out)
{
    return qts_parse_fixed(s, strlen(s), QTS_CASH_EXP, out) == 0;
}

static bool p_dbl(const char *s, double *out)
{
    char *end;
    *out = strtod(s, &end);
    return end != s && !*end && isfinite(*out);
}

/* Read one CSV of the run directory; `row` parses a data line. */
static int read_csv(const char *dir, const char *name, int min_fields, struct run *r,
                    int (*row)(struct run *r, struct csv *c, struct qts_err *err),
                    struct qts_err *err)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    struct csv c;
    memset(&c, 0, sizeof c);
    c.path = path;
    c.fp = fopen(path, "rb");
    if (!c.fp)
        return qts_err_set(err, errno == ENOENT ? QTS_ENOENT : QTS_EIO, "%s: %s", path,
                           strerror(errno));
    int rc = 0;
    if (!csv_next(&c))
        rc = csv_bad(&c, err, "missing header");
    while (!rc && csv_next(&c)) {
        if (c.nf == 1 && c.f[0][0] == '\0')
            continue; /* blank line */
        if (c.nf < min_fields)
            rc = csv_bad(&c, err, "too few fields");
        else
            rc = row(r, &c, err);
    }
    if (!rc && ferror(c.fp))
        rc = qts_err_set(err, QTS_EIO, "%s: read error", path);
    fclose(c.fp);
    free(c.buf);
    return rc;
}

static int row_run(struct run *r, struct csv *c, struct qts_err *err)
{
    const char *k = c->f[0], *v = c->f[1];
    bool ok = true;
    if (strcmp(k, "title") == 0)
        qts_strlcpy(r->title, v, sizeof r->title);
    else if (strcmp(k, "interrupted") == 0)
        qts_strlcpy(r->interrupted, v, sizeof r->interrupted);
    else if (strcmp(k, "initial_cash") == 0)
        ok = p_cash(v, &r->initial_cash);
    else if (strcmp(k, "period_ns") == 0)
        ok = p_i64(v, &r->pp.period_ns);
    else if (strcmp(k, "periods_per_year") == 0)
        ok = p_dbl(v, &r->pp.periods_per_year);
    else if (strcmp(k, "risk_free_annual") == 0)
        ok = p_dbl(v, &r->pp.risk_free_annual);
    else if (strcmp(k, "cagr_min_days") == 0)
        ok = p_i64(v, &r->pp.cagr_min_days);
    return ok ? 0 : csv_bad(c, err, "bad value");
}

/* equity.csv. Pass 1: statistics' first pass, the time range, the
 * calendar. Pass 2: deviations, exposure, the equity and drawdown series. */
static int row_equity(struct run *r, struct csv *c, struct qts_err *err)
{
    int64_t ts, equity, cash, gross;
    if (!p_i64(c->f[0], &ts) || !p_cash(c->f[1], &equity) || !p_cash(c->f[2], &cash) ||
        !p_cash(c->f[3], &gross))
        return csv_bad(c, err, "bad number");
    if (r->pass == 1 && r->n_eq && ts < r->last_ts)
        return csv_bad(c, err, "time goes backwards");
    qts_perf_acc_point(&r->acc, ts, equity, gross);
    double y = qts_fixed_to_double(equity, QTS_CASH_EXP);
    if (r->pass == 2) {
        r->peak = fmax(r->peak, y);
        qts_series_add(&r->s_eq, ts, y);
        qts_series_add(&r->s_dd, ts, r->peak > 0 ? -(1.0 - y / r->peak) * 100.0 : 0);
        return 0;
    }
    if (!r->n_eq)
        r->x0 = ts;
    r->x1 = r->last_ts = ts;
    r->n_eq++;
    qts_calendar_point(&r->cal, ts, y);
    return 0;
}

static size_t strat_index(const struct run *r, uint32_t id)
{
    for (size_t k = 0; k < r->n_strat; k++)
        if (r->strat[k].id == id)
            return k;
    return SIZE_MAX;
}

/* A fill's effect on its strategy's cash and position (PnL per strategy). */
static int apply_fill(struct run *r, struct csv *c, struct qts_err *err)
{
    int64_t id, sid;
    double px, qty, notional, fee, spos;
    if (!p_i64(c->f[5], &id) || !p_i64(c->f[3], &sid) || !p_dbl(c->f[8], &px) ||
        !p_dbl(c->f[9], &qty) || !p_dbl(c->f[11], &notional) || !p_dbl(c->f[12], &fee) ||
        !p_dbl(c->f[16], &spos))
        return csv_bad(c, err, "bad number");
    size_t k = strat_index(r, (uint32_t)sid);
    size_t i = 0;
    while (i < r->n_inst && r->inst[i].id != (uint32_t)id)
        i++;
    if (k == SIZE_MAX || i == r->n_inst)
        return 0;
    struct rd_inst *in = &r->inst[i];
    if (px > 0 && qty > 0 && notional > 0)
        in->mult = notional / (px * qty);
    if (!(in->last_px > 0))
        in->last_px = px;
    bool buy = strcmp(c->f[7], "buy") == 0;
    r->strat[k].cash += (buy ? -notional : notional) - fee;
    r->pos[k * r->n_inst + i] = spos;
    return 0;
}

/* Apply every fill up to time `ts` (fills.csv is in time order). */
static int fills_until(struct run *r, int64_t ts, struct qts_err *err)
{
    struct csv *c = r->fcur;
    for (;;) {
        if (!r->fcur_has) {
            if (!csv_next(c))
                return 0;
            if (c->nf == 1 && c->f[0][0] == '\0')
                continue;
            if (c->nf < 17 || !p_i64(c->f[0], &r->fcur_ts))
                return csv_bad(c, err, "bad fill");
            r->fcur_has = true;
        }
        if (r->fcur_ts > ts)
            return 0;
        r->fcur_has = false;
        int rc = apply_fill(r, c, err);
        if (rc)
            return rc;
    }
}

/* Every strategy's PnL at time ts: cash flows plus positions at the marks. */
static void strat_sample(struct run *r, int64_t ts)
{
    for (size_t k = 0; k < r->n_strat; k++) {
        double v = r->strat[k].cash;
        for (size_t i = 0; i < r->n_inst; i++) {
            double q = r->pos[k * r->n_inst + i];
            if (q != 0)
                v += q * r->inst[i].last_px * r->inst[i].mult;
        }
        qts_grid_set(&r->g_strat, k, ts, v);
    }
}

/* prices.csv. Pass 1: instruments, counts. Pass 2: the price series, the
 * marks of the PnL per strategy. */
static int row_price(struct run *r, struct csv *c, struct qts_err *err)
{
    int64_t ts, id;
    double px;
    if (!p_i64(c->f[0], &ts) || !p_i64(c->f[1], &id) || !p_dbl(c->f[3], &px) || id < 0 ||
        id > UINT32_MAX)
        return csv_bad(c, err, "bad number");
    if (r->pass == 2) {
        int rc = fills_until(r, ts, err);
        if (rc)
            return rc;
        struct rd_inst *in = inst_find(r, (uint32_t)id);
        if (in) {
            in->last_px = px;
            if (in->charted)
                qts_series_add(&in->px, ts, px);
        }
        strat_sample(r, ts);
        return 0;
    }
    struct rd_inst *in = inst_note(r, (uint32_t)id, c->f[2]);
    in->n_px++;
    return 0;
}

/* fills.csv. Pass 1: count, fees. Pass 2: the fills of the price charts
 * (each one, or per time bucket when there are many). */
static int row_fill(struct run *r, struct csv *c, struct qts_err *err)
{
    int64_t ts, id, fee, sid;
    double px, qty;
    if (!p_i64(c->f[0], &ts) || !p_i64(c->f[5], &id) || !p_dbl(c->f[8], &px) ||
        !p_dbl(c->f[9], &qty) || !p_cash(c->f[12], &fee) || !p_i64(c->f[3], &sid) || id < 0 ||
        id > UINT32_MAX || sid < 0 || sid > UINT32_MAX)
        return csv_bad(c, err, "bad number");
    if (r->pass == 1) {
        r->fees += fee;
        r->n_fills++;
        struct rd_inst *in = inst_note(r, (uint32_t)id, c->f[6]);
        in->n_fills++;
        return 0;
    }
    struct rd_inst *in = inst_find(r, (uint32_t)id);
    if (!in || !in->charted)
        return 0;
    int side = strcmp(c->f[7], "buy") == 0 ? 1 : -1;
    if (in->fills) {
        if (in->nf < in->n_fills)
            in->fills[in->nf++] = (struct rd_fill){
                .ts = ts, .px = px, .qty = qty, .side = side, .strat = (uint32_t)sid};
        return 0;
    }
    struct rd_fbucket *b = &in->buckets[qts_chart_bucket(r->x0, r->x1, ts)];
    b->x = ts > b->x ? ts : b->x;
    if (side > 0) {
        b->n_buy++;
        b->buy_px += px;
    } else {
        b->n_sell++;
        b->sell_px += px;
    }
    return 0;
}

static int row_trade(struct run *r, struct csv *c, struct qts_err *err)
{
    int64_t sid, pnl, fees, t_open, t_close;
    if (!p_cash(c->f[9], &pnl) || !p_cash(c->f[8], &fees) || !p_i64(c->f[0], &sid) ||
        !p_i64(c->f[4], &t_open) || !p_i64(c->f[5], &t_close) || sid < 0 || sid > UINT32_MAX)
        return csv_bad(c, err, "bad number");
    qts_perf_acc_trade(&r->acc, pnl);
    r->n_trades++;
    qts_calendar_trade(&r->cal, t_close);
    for (size_t k = 0; k < r->n_strat; k++)
        if (r->strat[k].id == (uint32_t)sid && pnl > 0)
            r->strat[k].wins++;
    if (r->n_trows < MAX_TRADE_ROWS) {
        GROW(r->trades, r->n_trows, r->cap_trows);
        struct rd_trade *t = &r->trades[r->n_trows++];
        t->strat = (uint32_t)sid;
        qts_strlcpy(t->symbol, c->f[2], sizeof t->symbol);
        qts_strlcpy(t->qty, c->f[6], sizeof t->qty);
        t->dir = strcmp(c->f[3], "short") == 0 ? -1 : 1;
        t->open = t_open;
        t->close = t_close;
        t->pnl = pnl;
        t->fees = fees;
    }
    return 0;
}

static int row_strat(struct run *r, struct csv *c, struct qts_err *err)
{
    struct rd_strat s;
    memset(&s, 0, sizeof s);
    int64_t id;
    if (!p_i64(c->f[0], &id) || id < 0 || id > UINT32_MAX || !p_cash(c->f[1], &s.realized) ||
        !p_cash(c->f[2], &s.unrealized) || !p_cash(c->f[3], &s.fees) || !p_cash(c->f[4], &s.net) ||
        !p_i64(c->f[5], &s.n_fills) || !p_i64(c->f[6], &s.n_trades) ||
        !p_cash(c->f[7], &s.turnover))
        return csv_bad(c, err, "bad number");
    s.id = (uint32_t)id;
    if (c->nf > 8) /* the name column (older run directories have none) */
        qts_strlcpy(s.name, c->f[8], sizeof s.name);
    GROW(r->strat, r->n_strat, r->cap_strat);
    r->strat[r->n_strat++] = s;
    return 0;
}

/* A strategy's label: its name, else "strategy <id>". */
static const char *strat_label(const struct run *r, uint32_t id, char *buf, size_t cap)
{
    size_t k = strat_index(r, id);
    if (k != SIZE_MAX && r->strat[k].name[0])
        return r->strat[k].name;
    snprintf(buf, cap, "strategy %" PRIu32, id);
    return buf;
}

/* ------------------------------------------------------------ formatting */

/* A double in JSON: fixed significant digits, null when absent/non-finite. */
static void json_num(FILE *f, bool has, double v)
{
    if (!has || !isfinite(v))
        fputs("null", f);
    else
        fprintf(f, "%.10g", v);
}

static void json_cash(FILE *f, int64_t v)
{
    char b[48];
    fputs(fx(b, sizeof b, v, QTS_CASH_EXP), f);
}

/* ------------------------------------------------------------------ render */

static void row(FILE *f, const char *k, const char *v)
{
    fputs("<tr><td>", f);
    html_text(f, k);
    fputs("</td><td>", f);
    html_text(f, v);
    fputs("</td></tr>\n", f);
}

static void rowf(FILE *f, const char *k, bool has, const char *fmt, double v, const char *absent)
{
    char b[64];
    if (has && isfinite(v))
        snprintf(b, sizeof b, fmt, v);
    else
        snprintf(b, sizeof b, "%s", absent);
    row(f, k, b);
}

static void write_stats_table(FILE *f, const struct run *r, const struct qts_perf *p)
{
    char b[96], b2[64];
    fputs("<table>\n<tr><th>statistic</th><th>value</th></tr>\n", f);
    fmt_time(b, sizeof b, p->start_ns);
    row(f, "start", b);
    fmt_time(b, sizeof b, p->end_ns);
    row(f, "end", b);
    row(f, "initial cash", fx(b, sizeof b, r->initial_cash, QTS_CASH_EXP));
    rowf(f, "equity at start", true, "%.2f", p->equity_start, "");
    rowf(f, "equity at end", true, "%.2f", p->equity_end, "");
    rowf(f, "total return", true, "%.4f %%", p->total_return * 100, "");
    snprintf(b2, sizeof b2, "n/a (run shorter than %" PRId64 " days)", r->pp.cagr_min_days);
    rowf(f, "CAGR", p->has_cagr, "%.4f %%", p->cagr * 100, b2);
    rowf(f, "max drawdown", true, "%.4f %%", p->max_drawdown * 100, "");
    fmt_duration(b, sizeof b, p->max_dd_duration_ns);
    row(f, "max drawdown duration", b);
    fmt_duration(b2, sizeof b2, r->pp.period_ns);
    snprintf(b, sizeof b, "%zu returns of %s", p->n_returns, b2);
    row(f, "return period", b);
    rowf(f, "Sharpe (annualised)", p->has_sharpe, "%.4f", p->sharpe, "n/a");
    rowf(f, "Sortino (annualised)", p->has_sortino, "%.4f", p->sortino, "n/a");
    rowf(f, "volatility (annualised)", p->n_returns >= 2, "%.4f %%", p->vol_annual * 100, "n/a");
    snprintf(b, sizeof b, "%zu", p->n_trades);
    row(f, "closed trades", b);
    rowf(f, "win rate", p->has_win_rate, "%.2f %%", p->win_rate * 100, "n/a");
    rowf(f, "profit factor", p->has_profit_factor, "%.4f", p->profit_factor,
         p->profit_factor_infinite ? "infinite (no losing trade)" : "n/a");
    rowf(f, "average win", p->n_wins > 0, "%.6f", p->avg_win, "n/a");
    rowf(f, "average loss", p->n_losses > 0, "%.6f", p->avg_loss, "n/a");
    snprintf(b, sizeof b, "%zu", p->max_consec_losses);
    row(f, "max consecutive losses", b);
    rowf(f, "exposure (mean gross / equity)", true, "%.4f %%", p->exposure * 100, "");
    rowf(f, "time in market", true, "%.4f %%", p->time_in_market * 100, "");
    snprintf(b, sizeof b, "%zu", p->n_fills);
    row(f, "fills", b);
    row(f, "fees", fx(b, sizeof b, r->fees, QTS_CASH_EXP));
    fputs("</table>\n", f);
}

/* The charts' data, as one JSON object (report_page.h). */
static void write_chart_data(FILE *f, const struct run *r)
{
    fputs("<script id=\"qts-data\" type=\"application/json\">{\"eq\":", f);
    qts_series_json(f, &r->s_eq);
    fputs(",\n\"dd\":", f);
    qts_series_json(f, &r->s_dd);
    fputs(",\n\"strat\":{\"names\":[", f);
    for (size_t k = 0; k < r->n_strat; k++) {
        char b[32];
        if (k)
            fputc(',', f);
        qts_report_js_str(f, strat_label(r, r->strat[k].id, b, sizeof b));
    }
    fputs("],", f);
    if (r->n_strat && r->g_strat.x) {
        qts_grid_json_fields(f, &r->g_strat);
    } else {
        fputs("\"x\":[],\"y\":[]", f);
    }
    fputs("},\n\"inst\":[", f);
    bool first = true;
    for (size_t i = 0; i < r->n_inst; i++) {
        const struct rd_inst *in = &r->inst[i];
        if (!in->charted)
            continue;
        fputs(first ? "{\"sym\":" : ",\n{\"sym\":", f);
        first = false;
        qts_report_js_str(f, in->symbol[0] ? in->symbol : "?");
        fprintf(f, ",\"id\":%" PRIu32 ",\"px\":", in->id);
        qts_series_json(f, &in->px);
        if (in->fills) {
            fputs(",\"fills\":{\"mode\":\"points\",\"x\":[", f);
            for (size_t j = 0; j < in->nf; j++) {
                fputs(j ? "," : "", f);
                qts_chart_json_time(f, in->fills[j].ts);
            }
            fputs("],\"y\":[", f);
            for (size_t j = 0; j < in->nf; j++) {
                fputs(j ? "," : "", f);
                qts_chart_json_num(f, in->fills[j].px);
            }
            fputs("],\"side\":[", f);
            for (size_t j = 0; j < in->nf; j++)
                fprintf(f, "%s%d", j ? "," : "", in->fills[j].side);
            fputs("],\"q\":[", f);
            for (size_t j = 0; j < in->nf; j++) {
                fputs(j ? "," : "", f);
                qts_chart_json_num(f, in->fills[j].qty);
            }
            fputs("],\"s\":[", f);
            for (size_t j = 0; j < in->nf; j++) {
                size_t k = strat_index(r, in->fills[j].strat);
                fprintf(f, "%s%ld", j ? "," : "", k == SIZE_MAX ? -1L : (long)k);
            }
            fputs("]}}", f);
            continue;
        }
        /* buckets: x, counts and mean prices of the buckets with fills */
        fprintf(f, ",\"fills\":{\"mode\":\"buckets\",\"n\":%zu", in->n_fills);
        static const char *const keys[] = {"x", "buy", "sell", "bpx", "spx"};
        for (int key = 0; key < 5; key++) {
            fprintf(f, ",\"%s\":[", keys[key]);
            bool f1 = true;
            for (size_t b = 0; b < QTS_CHART_BUCKETS; b++) {
                const struct rd_fbucket *k = &in->buckets[b];
                if (!k->n_buy && !k->n_sell)
                    continue;
                fputs(f1 ? "" : ",", f);
                f1 = false;
                switch (key) {
                case 0: qts_chart_json_time(f, k->x); break;
                case 1: fprintf(f, "%" PRId64, k->n_buy); break;
                case 2: fprintf(f, "%" PRId64, k->n_sell); break;
                case 3: qts_chart_json_num(f, k->n_buy ? k->buy_px / (double)k->n_buy : NAN); break;
                default: qts_chart_json_num(f, k->n_sell ? k->sell_px / (double)k->n_sell : NAN);
                }
            }
            fputc(']', f);
        }
        fputs("}}", f);
    }
    fputs("]}</script>\n", f);
}

static void write_trade_list(FILE *f, const struct run *r)
{
    fprintf(f, "<h2 id=\"trades\">Trades</h2>\n<p class=\"note\">%zu closed trades", r->n_trades);
    if (r->n_trows < r->n_trades)
        fprintf(f, "; the first %zu are listed, trades.csv has them all", r->n_trows);
    fputs(". Click a heading to sort.</p>\n<table class=\"trades\" data-trades=\"", f);
    fprintf(f,
            "%zu\"><thead><tr><th>#</th><th>strategy</th><th>symbol</th><th>side</th>"
            "<th>entry</th><th>exit</th><th>duration</th><th>max quantity</th>"
            "<th>fees</th><th>PnL</th></tr></thead>\n<tbody>\n",
            r->n_trades);
    for (size_t i = 0; i < r->n_trows; i++) {
        const struct rd_trade *t = &r->trades[i];
        char lb[32], t0[48], t1[48], du[48], a[48], b[48];
        qts_report_fmt_time(t0, sizeof t0, t->open);
        qts_report_fmt_time(t1, sizeof t1, t->close);
        qts_report_fmt_duration(du, sizeof du, t->close - t->open);
        fprintf(f, "<tr><td>%zu</td><td>", i + 1);
        html_text(f, strat_label(r, t->strat, lb, sizeof lb));
        fputs("</td><td>", f);
        html_text(f, t->symbol);
        fprintf(f,
                "</td><td>%s</td><td data-v=\"%" PRId64 "\">%s</td><td data-v=\"%" PRId64
                "\">%s</td><td data-v=\"%" PRId64 "\">%s</td><td>",
                t->dir > 0 ? "long" : "short", t->open, t0, t->close, t1, t->close - t->open, du);
        html_text(f, t->qty);
        fprintf(f, "</td><td>%s</td><td>%s</td></tr>\n", fx(a, sizeof a, t->fees, QTS_CASH_EXP),
                fx(b, sizeof b, t->pnl, QTS_CASH_EXP));
    }
    fputs("</tbody></table>\n", f);
}

static int write_html(const char *dir, const struct run *r, const struct qts_perf *p,
                      const struct qts_report_tca *tca, struct qts_err *err)
{
    struct qts_wfile w;
    int rc = qts_wfile_open(&w, dir, "report.html", err);
    if (rc)
        return rc;
    FILE *f = w.f;
    qts_report_page_head(f, r->title);
    fputs("<h1>", f);
    html_text(f, r->title);
    fputs("</h1>\n<nav><a href=\"#stats\">statistics</a><a href=\"#strategies\">strategies</a>"
          "<a href=\"#trades\">trades</a><a href=\"#monthly\">monthly</a>"
          "<a href=\"#daily\">daily</a></nav>\n"
          "<p class=\"note\">Charts: drag to zoom, wheel to zoom, shift+drag to pan, double "
          "click to reset; click a legend entry to hide or show its line.</p>\n"
          "<div class=\"chart\" id=\"c-eq\"></div>\n<div class=\"chart\" id=\"c-dd\"></div>\n"
          "<div class=\"chart\" id=\"c-strat\"></div>\n",
          f);
    size_t k = 0;
    for (size_t i = 0; i < r->n_inst; i++)
        if (r->inst[i].charted) {
            fprintf(f, "<div class=\"chart\" id=\"c-px-%zu\"></div>\n", k);
            if (!r->inst[i].fills)
                fprintf(f, "<div class=\"chart\" id=\"c-px-%zu-n\"></div>\n", k);
            k++;
        }
    fputs("<h2 id=\"stats\">Statistics</h2>\n", f);
    write_stats_table(f, r, p);
    fputs("<h2 id=\"strategies\">Per strategy</h2>\n<table class=\"strategies\">\n"
          "<tr><th>strategy</th><th>id</th><th>realized</th>"
          "<th>unrealized</th><th>fees</th><th>net PnL</th><th>fills</th><th>trades</th>"
          "<th>turnover</th><th>win rate</th></tr>\n",
          f);
    for (size_t i = 0; i < r->n_strat; i++) {
        const struct rd_strat *s = &r->strat[i];
        char a[48], b[48], c[48], d[48], e[48], wr[32], lb[32];
        if (s->n_trades > 0)
            snprintf(wr, sizeof wr, "%.2f %%", 100.0 * (double)s->wins / (double)s->n_trades);
        else
            snprintf(wr, sizeof wr, "n/a");
        fputs("<tr><td>", f);
        html_text(f, strat_label(r, s->id, lb, sizeof lb));
        fprintf(f,
                "</td><td>%" PRIu32 "</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td>"
                "<td>%" PRId64 "</td><td>%" PRId64 "</td><td>%s</td><td>%s</td></tr>\n",
                s->id, fx(a, sizeof a, s->realized, QTS_CASH_EXP),
                fx(b, sizeof b, s->unrealized, QTS_CASH_EXP),
                fx(c, sizeof c, s->fees, QTS_CASH_EXP), fx(d, sizeof d, s->net, QTS_CASH_EXP),
                s->n_fills, s->n_trades, fx(e, sizeof e, s->turnover, QTS_CASH_EXP), wr);
    }
    fputs("</table>\n", f);
    write_trade_list(f, r);
    qts_calendar_html(f, &r->cal);
    if (tca) /* execution feedback: TCA section (report_tca.h) */
        qts_report_tca_html(f, tca);
    fprintf(f,
            "<p class=\"note\">Formulas: docs/portfolio.md. Data: the CSV files next to this "
            "page. Charts: uPlot %s (MIT), inlined.</p>\n",
            QTS_WEB_UPLOT_VERSION);
    write_chart_data(f, r);
    qts_report_page_script(f);
    fputs("</body></html>\n", f);
    return qts_wfile_close(&w, err);
}

static int write_summary(const char *dir, const struct run *r, const struct qts_perf *p,
                         const struct qts_report_tca *tca, struct qts_err *err)
{
    struct qts_wfile w;
    int rc = qts_wfile_open(&w, dir, "summary.json", err);
    if (rc)
        return rc;
    FILE *f = w.f;
    fputs("{\n  \"title\": ", f);
    qts_json_write_str(f, r->title);
    if (r->interrupted[0]) { /* only then: a complete run's summary is unchanged */
        fputs(",\n  \"interrupted\": ", f);
        qts_json_write_str(f, r->interrupted);
    }
    fprintf(f, ",\n  \"start_ns\": %" PRId64 ",\n  \"end_ns\": %" PRId64, p->start_ns, p->end_ns);
    fputs(",\n  \"initial_cash\": ", f);
    json_cash(f, r->initial_cash);
    fputs(",\n  \"params\": {\"period_ns\": ", f);
    fprintf(f, "%" PRId64 ", \"periods_per_year\": ", r->pp.period_ns);
    json_num(f, true, r->pp.periods_per_year);
    fputs(", \"risk_free_annual\": ", f);
    json_num(f, true, r->pp.risk_free_annual);
    fprintf(f, ", \"cagr_min_days\": %" PRId64 "},\n  \"stats\": {\n", r->pp.cagr_min_days);
    struct {
        const char *k;
        bool has;
        double v;
    } st[] = {
        {"equity_start", true, p->equity_start},
        {"equity_end", true, p->equity_end},
        {"total_return", true, p->total_return},
        {"cagr", p->has_cagr, p->cagr},
        {"max_drawdown", true, p->max_drawdown},
        {"sharpe", p->has_sharpe, p->sharpe},
        {"sortino", p->has_sortino, p->sortino},
        {"vol_annual", p->n_returns >= 2, p->vol_annual},
        {"win_rate", p->has_win_rate, p->win_rate},
        {"profit_factor", p->has_profit_factor, p->profit_factor},
        {"avg_win", p->n_wins > 0, p->avg_win},
        {"avg_loss", p->n_losses > 0, p->avg_loss},
        {"exposure", true, p->exposure},
        {"time_in_market", true, p->time_in_market},
    };
    for (size_t i = 0; i < QTS_ARRAY_LEN(st); i++) {
        fprintf(f, "    \"%s\": ", st[i].k);
        json_num(f, st[i].has, st[i].v);
        fputs(",\n", f);
    }
    fprintf(f, "    \"profit_factor_infinite\": %s,\n",
            p->profit_factor_infinite ? "true" : "false");
    fprintf(f,
            "    \"max_drawdown_peak_ns\": %" PRId64 ",\n    \"max_drawdown_trough_ns\": %" PRId64
            ",\n    \"max_drawdown_duration_ns\": %" PRId64 ",\n",
            p->max_dd_peak_ns, p->max_dd_trough_ns, p->max_dd_duration_ns);
    fprintf(f, "    \"n_returns\": %zu,\n    \"max_consecutive_losses\": %zu,\n    \"fees\": ",
            p->n_returns, p->max_consec_losses);
    json_cash(f, r->fees);
    fprintf(f,
            "\n  },\n  \"counts\": {\"fills\": %zu, \"trades\": %zu, \"wins\": %zu, "
            "\"losses\": %zu, \"equity_samples\": %zu, \"strategies\": %zu},\n",
            p->n_fills, p->n_trades, p->n_wins, p->n_losses, r->n_eq, r->n_strat);
    fputs("  \"strategies\": [", f);
    for (size_t i = 0; i < r->n_strat; i++) {
        const struct rd_strat *s = &r->strat[i];
        fprintf(f, "%s\n    {\"strategy_id\": %" PRIu32, i ? "," : "", s->id);
        if (s->name[0]) {
            fputs(", \"name\": ", f);
            qts_json_write_str(f, s->name);
        }
        fputs(", \"realized\": ", f);
        json_cash(f, s->realized);
        fputs(", \"unrealized\": ", f);
        json_cash(f, s->unrealized);
        fputs(", \"fees\": ", f);
        json_cash(f, s->fees);
        fputs(", \"net_pnl\": ", f);
        json_cash(f, s->net);
        fprintf(f,
                ", \"fills\": %" PRId64 ", \"trades\": %" PRId64 ", \"wins\": %" PRId64
                ", \"win_rate\": ",
                s->n_fills, s->n_trades, s->wins);
        json_num(f, s->n_trades > 0, s->n_trades > 0 ? (double)s->wins / (double)s->n_trades : 0);
        fputs(", \"turnover\": ", f);
        json_cash(f, s->turnover);
        fputs("}", f);
    }
    fputs(r->n_strat ? "\n  ]" : "]", f);
    if (tca) /* execution feedback: TCA section (report_tca.h) */
        qts_report_tca_json(f, tca);
    qts_report_model_json(f, dir); /* the learned cost model (report_model.h) */
    fputs("\n}\n", f);
    return qts_wfile_close(&w, err);
}

/* Charts are set up once the first passes have given the time range and
 * the counts. */
static void charts_begin(struct run *r)
{
    int64_t x0 = r->n_eq ? r->x0 : 0, x1 = r->n_eq ? r->x1 : 1;
    qts_series_begin(&r->s_eq, x0, x1, r->n_eq);
    qts_series_begin(&r->s_dd, x0, x1, r->n_eq);
    qts_grid_init(&r->g_strat, x0, x1, r->n_strat);
    r->pos = qts_xmalloc((r->n_strat * r->n_inst + 1) * sizeof *r->pos);
    for (size_t i = 0; i < r->n_strat * r->n_inst; i++)
        r->pos[i] = 0;
    r->peak = -INFINITY;
    for (size_t i = 0; i < r->n_inst; i++) {
        struct rd_inst *in = &r->inst[i];
        in->charted = i < MAX_PRICE_CHARTS;
        if (!in->charted)
            continue;
        qts_series_begin(&in->px, x0, x1, in->n_px);
        if (in->n_fills <= MAX_FILL_POINTS)
            in->fills = qts_xmalloc((in->n_fills + 1) * sizeof *in->fills);
        else
            in->buckets = qts_xcalloc(QTS_CHART_BUCKETS, sizeof *in->buckets);
    }
}

static void charts_end(struct run *r)
{
    qts_series_end(&r->s_eq);
    qts_series_end(&r->s_dd);
    for (size_t i = 0; i < r->n_inst; i++)
        if (r->inst[i].charted)
            qts_series_end(&r->inst[i].px);
}

/* Pass 2 of prices.csv with fills.csv read alongside (PnL per strategy). */
static int read_prices_and_fills(const char *dir, struct run *r, struct qts_err *err)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/fills.csv", dir);
    struct csv c;
    memset(&c, 0, sizeof c);
    c.path = path;
    c.fp = fopen(path, "rb");
    if (!c.fp)
        return qts_err_set(err, QTS_EIO, "%s: %s", path, strerror(errno));
    csv_next(&c); /* the header (checked by the first pass) */
    r->fcur = &c;
    r->fcur_has = false;
    int rc = read_csv(dir, "prices.csv", 4, r, row_price, err);
    if (!rc) { /* fills after the last mark */
        int64_t last = r->x1;
        if ((rc = fills_until(r, INT64_MAX, err)) == 0 && r->n_eq)
            strat_sample(r, last);
    }
    r->fcur = NULL;
    fclose(c.fp);
    free(c.buf);
    return rc;
}

int qts_report_render(const char *dir, struct qts_err *err)
{
    struct run r;
    memset(&r, 0, sizeof r);
    qts_perf_params_default(&r.pp);
    qts_strlcpy(r.title, "qts run", sizeof r.title);
    r.peak = -INFINITY;
    qts_calendar_init(&r.cal);
    int rc;
    if ((rc = read_csv(dir, "run.csv", 2, &r, row_run, err)))
        goto out;
    qts_perf_acc_init(&r.acc, &r.pp);
    r.pass = 1;
    if ((rc = read_csv(dir, "equity.csv", 4, &r, row_equity, err)) ||
        (rc = read_csv(dir, "prices.csv", 4, &r, row_price, err)) ||
        (rc = read_csv(dir, "fills.csv", 17, &r, row_fill, err)) ||
        (rc = read_csv(dir, "strategies.csv", 8, &r, row_strat, err)) ||
        (rc = read_csv(dir, "trades.csv", 10, &r, row_trade, err)))
        goto out;
    charts_begin(&r);
    qts_perf_acc_second_pass(&r.acc);
    r.pass = 2;
    if ((rc = read_csv(dir, "equity.csv", 4, &r, row_equity, err)) ||
        (rc = read_prices_and_fills(dir, &r, err)) ||
        (rc = read_csv(dir, "fills.csv", 17, &r, row_fill, err)))
        goto out;
    charts_end(&r);

    struct qts_perf p;
    memset(&p, 0, sizeof p);
    if (r.n_eq) {
        rc = qts_perf_acc_finish(&r.acc, r.n_fills, r.fees, &p);
        if (rc) {
            qts_err_set(err, rc, "%s/equity.csv: cannot compute statistics", dir);
            goto out;
        }
    } else {
        /* no equity sample: statistics of a run that never started */
        p.n_fills = r.n_fills;
        p.n_trades = r.acc.n_trades;
        p.fees = qts_fixed_to_double(r.fees, QTS_CASH_EXP);
        p.equity_start = p.equity_end = qts_fixed_to_double(r.initial_cash, QTS_CASH_EXP);
    }
    struct qts_report_tca *tca = NULL;
    rc = qts_report_tca_load(dir, &tca, err);
    for (size_t k = 0; rc == 0 && k < r.n_strat; k++)
        if (r.strat[k].name[0])
            qts_report_tca_name(tca, r.strat[k].id, r.strat[k].name);
    if (rc == 0 && (rc = write_summary(dir, &r, &p, tca, err)) == 0)
        rc = write_html(dir, &r, &p, tca, err);
    if (rc == 0) /* the Decide stage's part, from decide.json (report_decide.c) */
        rc = qts_report_decide(dir, err);
    qts_report_tca_free(tca);
out:
    run_free(&r);
    return rc;
}
