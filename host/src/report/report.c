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
#include "report_chart.h"
#include "report_decide.h"
#include "report_tca.h"
#include "util.h"

#define GROW(arr, n, cap)                                        \
    do {                                                         \
        if ((n) == (cap)) {                                      \
            (cap) = (cap) ? (cap)*2 : 64;                        \
            (arr) = qts_xrealloc((arr), (cap) * sizeof(*(arr))); \
        }                                                        \
    } while (0)

#define MAX_PRICE_CHARTS 8
#define MAX_MARKERS 5000

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
    int64_t realized, unrealized, fees, net, n_fills, n_trades, turnover;
    int64_t wins; /* from trades.csv */
};

/* An instrument seen in prices.csv or fills.csv, with its chart. */
struct rd_inst {
    uint32_t id;
    char symbol[QTS_SYMBOL_MAX];
    size_t n_px, n_fills;
    double lo, hi; /* price range over prices and fills */
    bool charted;
    struct qts_chart chart;
    struct qts_polyline line;
    FILE *marks; /* owned memory stream: fill markers */
    char *marks_buf;
    size_t marks_len;
    size_t stride, seen;
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
    double lo, hi, peak, ddmin;
    struct qts_chart c_eq, c_dd;
    struct qts_polyline l_eq, l_dd;
    /* fills.csv, trades.csv */
    size_t n_fills;
    int64_t fees;
    struct rd_strat *strat;
    size_t n_strat, cap_strat;
    struct rd_inst *inst; /* sorted by id */
    size_t n_inst, cap_inst;
};

static void run_free(struct run *r)
{
    for (size_t i = 0; i < r->n_inst; i++) {
        qts_polyline_free(&r->inst[i].line);
        if (r->inst[i].marks)
            fclose(r->inst[i].marks);
        free(r->inst[i].marks_buf);
    }
    qts_polyline_free(&r->l_eq);
    qts_polyline_free(&r->l_dd);
    qts_free_all(r->strat, r->inst);
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
    in->lo = INFINITY;
    in->hi = -INFINITY;
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

/* equity.csv. Pass 1: statistics' first pass, the chart ranges. Pass 2:
 * deviations, exposure, the equity and drawdown charts. */
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
    r->peak = fmax(r->peak, y);
    double dd = r->peak > 0 ? -(1.0 - y / r->peak) * 100.0 : 0;
    if (r->pass == 2) {
        qts_polyline_add(&r->l_eq, ts, y);
        qts_polyline_add(&r->l_dd, ts, dd);
        return 0;
    }
    if (!r->n_eq)
        r->x0 = ts;
    r->x1 = r->last_ts = ts;
    r->n_eq++;
    r->lo = fmin(r->lo, y);
    r->hi = fmax(r->hi, y);
    r->ddmin = fmin(r->ddmin, dd);
    return 0;
}

/* prices.csv. Pass 1: instruments, counts and ranges. Pass 2: the charts. */
static int row_price(struct run *r, struct csv *c, struct qts_err *err)
{
    int64_t ts, id;
    double px;
    if (!p_i64(c->f[0], &ts) || !p_i64(c->f[1], &id) || !p_dbl(c->f[3], &px) || id < 0 ||
        id > UINT32_MAX)
        return csv_bad(c, err, "bad number");
    if (r->pass == 2) {
        struct rd_inst *in = inst_find(r, (uint32_t)id);
        if (in && in->charted)
            qts_polyline_add(&in->line, ts, px);
        return 0;
    }
    struct rd_inst *in = inst_note(r, (uint32_t)id, c->f[2]);
    in->n_px++;
    in->lo = fmin(in->lo, px);
    in->hi = fmax(in->hi, px);
    return 0;
}

/* fills.csv. Pass 1: count, fees, price ranges. Pass 2: markers (at most
 * MAX_MARKERS per chart, evenly strided). */
static int row_fill(struct run *r, struct csv *c, struct qts_err *err)
{
    int64_t ts, id, fee;
    double px;
    if (!p_i64(c->f[0], &ts) || !p_i64(c->f[5], &id) || !p_dbl(c->f[8], &px) ||
        !p_cash(c->f[12], &fee) || id < 0 || id > UINT32_MAX)
        return csv_bad(c, err, "bad number");
    if (r->pass == 1) {
        r->fees += fee;
        r->n_fills++;
        struct rd_inst *in = inst_note(r, (uint32_t)id, c->f[6]);
        in->n_fills++;
        in->lo = fmin(in->lo, px);
        in->hi = fmax(in->hi, px);
        return 0;
    }
    struct rd_inst *in = inst_find(r, (uint32_t)id);
    if (!in || !in->charted || in->seen++ % in->stride)
        return 0;
    double x = qts_chart_x(&in->chart, ts), y = qts_chart_y(&in->chart, px);
    if (strcmp(c->f[7], "buy") == 0)
        fprintf(in->marks, "<path class=\"buy\" d=\"M%.1f %.1fl-4 7h8z\"/>\n", x, y);
    else
        fprintf(in->marks, "<path class=\"sell\" d=\"M%.1f %.1fl-4 -7h8z\"/>\n", x, y);
    return 0;
}

static int row_trade(struct run *r, struct csv *c, struct qts_err *err)
{
    int64_t sid, pnl;
    if (!p_cash(c->f[9], &pnl) || !p_i64(c->f[0], &sid) || sid < 0 || sid > UINT32_MAX)
        return csv_bad(c, err, "bad number");
    qts_perf_acc_trade(&r->acc, pnl);
    for (size_t k = 0; k < r->n_strat; k++)
        if (r->strat[k].id == (uint32_t)sid && pnl > 0)
            r->strat[k].wins++;
    return 0;
}

static int row_strat(struct run *r, struct csv *c, struct qts_err *err)
{
    struct rd_strat s;
    int64_t id;
    if (!p_i64(c->f[0], &id) || id < 0 || id > UINT32_MAX || !p_cash(c->f[1], &s.realized) ||
        !p_cash(c->f[2], &s.unrealized) || !p_cash(c->f[3], &s.fees) || !p_cash(c->f[4], &s.net) ||
        !p_i64(c->f[5], &s.n_fills) || !p_i64(c->f[6], &s.n_trades) ||
        !p_cash(c->f[7], &s.turnover))
        return csv_bad(c, err, "bad number");
    s.id = (uint32_t)id;
    s.wins = 0;
    GROW(r->strat, r->n_strat, r->cap_strat);
    r->strat[r->n_strat++] = s;
    return 0;
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

static const char CSS[] =
    "body{font:14px/1.4 sans-serif;margin:24px;color:#222;max-width:1000px}"
    "h1{font-size:20px}h2{font-size:16px;margin-top:28px}"
    "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 8px;"
    "text-align:right}th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}"
    "figure{margin:16px 0}figcaption{font-weight:bold;margin-bottom:4px}"
    ".frame{fill:none;stroke:#999}.grid{stroke:#eee}"
    ".yl{font-size:11px;text-anchor:end;fill:#555}.xl{font-size:11px;fill:#555}"
    ".xr{font-size:11px;text-anchor:end;fill:#555}"
    ".eq{fill:none;stroke:#1f5fa8;stroke-width:1.2}.dd{fill:#e8a0a0;stroke:#b03030}"
    ".px{fill:none;stroke:#666;stroke-width:1}.buy{fill:#1a9641}.sell{fill:#d7191c}";

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

static int write_html(const char *dir, const struct run *r, const struct qts_perf *p,
                      const struct qts_report_tca *tca, struct qts_err *err)
{
    struct qts_wfile w;
    int rc = qts_wfile_open(&w, dir, "report.html", err);
    if (rc)
        return rc;
    FILE *f = w.f;
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>", f);
    html_text(f, r->title);
    fprintf(f, "</title>\n<style>%s</style></head><body>\n<h1>", CSS);
    html_text(f, r->title);
    fputs("</h1>\n", f);
    qts_chart_begin(&r->c_eq, f, "Equity", "%.2f");
    fwrite(r->l_eq.buf, 1, r->l_eq.len, f);
    qts_chart_end(f);
    qts_chart_begin(&r->c_dd, f, "Drawdown (%)", "%.2f");
    fwrite(r->l_dd.buf, 1, r->l_dd.len, f);
    qts_chart_end(f);
    for (size_t i = 0; i < r->n_inst; i++) {
        const struct rd_inst *in = &r->inst[i];
        if (!in->charted)
            continue;
        char label[96];
        snprintf(label, sizeof label, "Fills on price: %s (instrument %" PRIu32 ")",
                 in->symbol[0] ? in->symbol : "?", in->id);
        qts_chart_begin(&in->chart, f, label, "%.6g");
        fwrite(in->line.buf, 1, in->line.len, f);
        fwrite(in->marks_buf, 1, in->marks_len, f);
        qts_chart_end(f);
    }
    fputs("<h2>Statistics</h2>\n", f);
    write_stats_table(f, r, p);
    fputs("<h2>Per strategy</h2>\n<table>\n<tr><th>strategy</th><th>realized</th>"
          "<th>unrealized</th><th>fees</th><th>net PnL</th><th>fills</th><th>trades</th>"
          "<th>turnover</th><th>win rate</th></tr>\n",
          f);
    for (size_t i = 0; i < r->n_strat; i++) {
        const struct rd_strat *s = &r->strat[i];
        char a[48], b[48], c[48], d[48], e[48], wr[32];
        if (s->n_trades > 0)
            snprintf(wr, sizeof wr, "%.2f %%", 100.0 * (double)s->wins / (double)s->n_trades);
        else
            snprintf(wr, sizeof wr, "n/a");
        fprintf(f,
                "<tr><td>%" PRIu32 "</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td>"
                "<td>%" PRId64 "</td><td>%" PRId64 "</td><td>%s</td><td>%s</td></tr>\n",
                s->id, fx(a, sizeof a, s->realized, QTS_CASH_EXP),
                fx(b, sizeof b, s->unrealized, QTS_CASH_EXP),
                fx(c, sizeof c, s->fees, QTS_CASH_EXP), fx(d, sizeof d, s->net, QTS_CASH_EXP),
                s->n_fills, s->n_trades, fx(e, sizeof e, s->turnover, QTS_CASH_EXP), wr);
    }
    fputs("</table>\n", f);
    if (tca) /* execution feedback: TCA section (report_tca.h) */
        qts_report_tca_html(f, tca);
    fputs("<p>Formulas: docs/portfolio.md. Data: the CSV files next to this "
          "page.</p>\n</body></html>\n",
          f);
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
        fprintf(f, "%s\n    {\"strategy_id\": %" PRIu32 ", \"realized\": ", i ? "," : "", s->id);
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
    fputs("\n}\n", f);
    return qts_wfile_close(&w, err);
}

/* Charts are set up once the first passes have given their ranges. */
static void charts_begin(struct run *r)
{
    int64_t x0 = r->n_eq ? r->x0 : 0, x1 = r->n_eq ? r->x1 : 1;
    qts_chart_setup(&r->c_eq, x0, x1, r->n_eq ? r->lo : 0, r->n_eq ? r->hi : 1);
    qts_chart_setup(&r->c_dd, x0, x1, r->ddmin, 0);
    qts_polyline_begin(&r->l_eq, &r->c_eq, "eq", false, r->n_eq);
    qts_polyline_begin(&r->l_dd, &r->c_dd, "dd", true, r->n_eq);
    r->peak = -INFINITY;
    for (size_t i = 0; i < r->n_inst && i < MAX_PRICE_CHARTS; i++) {
        struct rd_inst *in = &r->inst[i];
        in->charted = true;
        qts_chart_setup(&in->chart, x0, x1, isfinite(in->lo) ? in->lo : 0,
                        isfinite(in->hi) ? in->hi : 1);
        qts_polyline_begin(&in->line, &in->chart, "px", false, in->n_px);
        in->stride = in->n_fills > MAX_MARKERS ? (in->n_fills + MAX_MARKERS - 1) / MAX_MARKERS : 1;
        in->marks = open_memstream(&in->marks_buf, &in->marks_len);
        if (!in->marks)
            qts__panic(__FILE__, __LINE__, "out of memory (chart buffer)");
    }
}

static void charts_end(struct run *r)
{
    qts_polyline_end(&r->l_eq);
    qts_polyline_end(&r->l_dd);
    for (size_t i = 0; i < r->n_inst; i++) {
        struct rd_inst *in = &r->inst[i];
        if (!in->charted)
            continue;
        qts_polyline_end(&in->line);
        fclose(in->marks);
        in->marks = NULL;
    }
}

int qts_report_render(const char *dir, struct qts_err *err)
{
    struct run r;
    memset(&r, 0, sizeof r);
    qts_perf_params_default(&r.pp);
    qts_strlcpy(r.title, "qts run", sizeof r.title);
    r.lo = INFINITY;
    r.hi = r.peak = -INFINITY;
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
        (rc = read_csv(dir, "prices.csv", 4, &r, row_price, err)) ||
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
    if (rc == 0 && (rc = write_summary(dir, &r, &p, tca, err)) == 0)
        rc = write_html(dir, &r, &p, tca, err);
    if (rc == 0) /* the Decide stage's part, from decide.json (report_decide.c) */
        rc = qts_report_decide(dir, err);
    qts_report_tca_free(tca);
out:
    run_free(&r);
    return rc;
}
