/* report.c — see report.h. The renderer reads back the CSV files it (or an
 * earlier run) wrote; everything it prints is derived from them. */
#include "report.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "json.h"
#include "report_tca.h"
#include "util.h"

#define GROW(arr, n, cap)                                        \
    do {                                                         \
        if ((n) == (cap)) {                                      \
            (cap) = (cap) ? (cap)*2 : 64;                        \
            (arr) = qts_xrealloc((arr), (cap) * sizeof(*(arr))); \
        }                                                        \
    } while (0)

void qts_report_meta_default(struct qts_report_meta *m)
{
    m->title = "qts run";
    qts_perf_params_default(&m->perf);
}

/* ------------------------------------------------------------- file output */

struct wfile {
    FILE *f;
    char path[1024];
    char tmp[1040];
};

static int mkdir_p(const char *dir, struct qts_err *err)
{
    char buf[1024];
    if (qts_strlcpy(buf, dir, sizeof buf) >= sizeof buf)
        return qts_err_set(err, QTS_EINVAL, "run directory path too long");
    for (char *p = buf + 1;; p++) {
        if (*p == '/' || *p == '\0') {
            char c = *p;
            *p = '\0';
            if (mkdir(buf, 0755) != 0 && errno != EEXIST)
                return qts_err_set(err, QTS_EIO, "%s: %s", buf, strerror(errno));
            *p = c;
            if (c == '\0')
                break;
        }
    }
    return 0;
}

static int wopen(struct wfile *w, const char *dir, const char *name, struct qts_err *err)
{
    snprintf(w->path, sizeof w->path, "%s/%s", dir, name);
    snprintf(w->tmp, sizeof w->tmp, "%s.tmp", w->path);
    w->f = fopen(w->tmp, "w");
    if (!w->f)
        return qts_err_set(err, QTS_EIO, "%s: %s", w->tmp, strerror(errno));
    return 0;
}

/* Close and move into place, so a reader never sees half a file. */
static int wclose(struct wfile *w, struct qts_err *err)
{
    bool bad = ferror(w->f) != 0;
    if (fclose(w->f) != 0)
        bad = true;
    w->f = NULL;
    if (bad || rename(w->tmp, w->path) != 0) {
        remove(w->tmp);
        return qts_err_set(err, QTS_EIO, "%s: write failed", w->path);
    }
    return 0;
}

/* CSV fields we write never need quoting: separators become '_'. */
static void csv_clean(char *dst, size_t cap, const char *src)
{
    size_t i = 0;
    for (; src[i] && i + 1 < cap; i++) {
        char c = src[i];
        dst[i] = (c == ',' || c == '"' || c == '\n' || c == '\r') ? '_' : c;
    }
    dst[i] = '\0';
}

static const char *fx(char *buf, size_t cap, int64_t v, unsigned exp)
{
    qts_format_fixed(buf, cap, v, exp);
    return buf;
}

int qts_report_write_run(const char *dir, const struct qts_portfolio *pf,
                         const struct qts_report_meta *meta, struct qts_err *err)
{
    struct qts_report_meta def;
    if (!meta) {
        qts_report_meta_default(&def);
        meta = &def;
    }
    int rc = mkdir_p(dir, err);
    if (rc)
        return rc;
    struct wfile w;
    char a[48], b[48], c[48], d[48], e[48], s1[QTS_SYMBOL_MAX], t1[QTS_TAG_MAX];

    if ((rc = wopen(&w, dir, "run.csv", err)))
        return rc;
    char title[128];
    csv_clean(title, sizeof title, meta->title && meta->title[0] ? meta->title : "qts run");
    fprintf(w.f,
            "key,value\ntitle,%s\ninitial_cash,%s\nperiod_ns,%" PRId64
            "\nperiods_per_year,%.6f\nrisk_free_annual,%.6f\ncagr_min_days,%" PRId64 "\n",
            title, fx(a, sizeof a, qts_portfolio_initial_cash(pf), QTS_CASH_EXP),
            meta->perf.period_ns, meta->perf.periods_per_year, meta->perf.risk_free_annual,
            meta->perf.cagr_min_days);
    if (meta->interrupted && meta->interrupted[0]) { /* a run stopped before its end */
        char why[128];
        csv_clean(why, sizeof why, meta->interrupted);
        fprintf(w.f, "interrupted,%s\n", why);
    }
    if ((rc = wclose(&w, err)))
        return rc;

    const struct qts_equity_point *ec;
    size_t n = qts_portfolio_equity_curve(pf, &ec);
    if ((rc = wopen(&w, dir, "equity.csv", err)))
        return rc;
    fprintf(w.f, "ts_ns,equity,cash,gross_exposure\n");
    for (size_t i = 0; i < n; i++)
        fprintf(w.f, "%" PRId64 ",%s,%s,%s\n", ec[i].ts_ns,
                fx(a, sizeof a, ec[i].equity, QTS_CASH_EXP),
                fx(b, sizeof b, ec[i].cash, QTS_CASH_EXP),
                fx(c, sizeof c, ec[i].gross_exposure, QTS_CASH_EXP));
    if ((rc = wclose(&w, err)))
        return rc;

    const struct qts_price_point *pp;
    n = qts_portfolio_prices(pf, &pp);
    if ((rc = wopen(&w, dir, "prices.csv", err)))
        return rc;
    fprintf(w.f, "ts_ns,instrument,symbol,px\n");
    for (size_t i = 0; i < n; i++) {
        csv_clean(s1, sizeof s1, qts_portfolio_symbol(pf, pp[i].instrument));
        fprintf(w.f, "%" PRId64 ",%" PRIu32 ",%s,%s\n", pp[i].ts_ns, pp[i].instrument, s1,
                fx(a, sizeof a, pp[i].px, pp[i].px_exp));
    }
    if ((rc = wclose(&w, err)))
        return rc;

    const struct qts_ledger_entry *l;
    n = qts_portfolio_ledger(pf, &l);
    if ((rc = wopen(&w, dir, "fills.csv", err)))
        return rc;
    fprintf(w.f, "ts_ns,order_id,fill_id,strategy_id,tag,instrument,symbol,side,px,qty,"
                 "is_maker,notional,fee,realized,cash_after,pos_after,strat_pos_after\n");
    for (size_t i = 0; i < n; i++) {
        csv_clean(s1, sizeof s1, qts_portfolio_symbol(pf, l[i].instrument));
        csv_clean(t1, sizeof t1, l[i].tag);
        char f1[48], f2[48], f3[48];
        fprintf(w.f,
                "%" PRId64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu32 ",%s,%" PRIu32
                ",%s,%s,%s,%s,%d,%s,%s,%s,%s,%s,%s\n",
                l[i].ts_ns, l[i].order_id, l[i].fill_id, l[i].strategy_id, t1, l[i].instrument, s1,
                l[i].side == QTS_SIDE_BUY ? "buy" : "sell", fx(a, sizeof a, l[i].px, l[i].px_exp),
                fx(b, sizeof b, l[i].qty, l[i].qty_exp), l[i].is_maker,
                fx(c, sizeof c, l[i].notional, QTS_CASH_EXP),
                fx(d, sizeof d, l[i].fee, QTS_CASH_EXP),
                fx(e, sizeof e, l[i].realized, QTS_CASH_EXP),
                fx(f1, sizeof f1, l[i].cash_after, QTS_CASH_EXP),
                fx(f2, sizeof f2, l[i].pos_after, l[i].qty_exp),
                fx(f3, sizeof f3, l[i].strat_pos_after, l[i].qty_exp));
    }
    if ((rc = wclose(&w, err)))
        return rc;

    const struct qts_trade_rt *t;
    n = qts_portfolio_trades(pf, &t);
    if ((rc = wopen(&w, dir, "trades.csv", err)))
        return rc;
    fprintf(w.f, "strategy_id,instrument,symbol,dir,open_ts_ns,close_ts_ns,max_qty,realized,"
                 "fees,pnl\n");
    for (size_t i = 0; i < n; i++) {
        csv_clean(s1, sizeof s1, qts_portfolio_symbol(pf, t[i].instrument));
        fprintf(w.f, "%" PRIu32 ",%" PRIu32 ",%s,%s,%" PRId64 ",%" PRId64 ",%s,%s,%s,%s\n",
                t[i].strategy_id, t[i].instrument, s1, t[i].dir > 0 ? "long" : "short",
                t[i].open_ts_ns, t[i].close_ts_ns, fx(a, sizeof a, t[i].max_qty, t[i].qty_exp),
                fx(b, sizeof b, t[i].realized, QTS_CASH_EXP),
                fx(c, sizeof c, t[i].fees, QTS_CASH_EXP), fx(d, sizeof d, t[i].pnl, QTS_CASH_EXP));
    }
    if ((rc = wclose(&w, err)))
        return rc;

    struct qts_strategy_stats *ss;
    n = qts_portfolio_strategy_stats(pf, &ss);
    if ((rc = wopen(&w, dir, "strategies.csv", err))) {
        free(ss);
        return rc;
    }
    fprintf(w.f, "strategy_id,realized,unrealized,fees,net_pnl,n_fills,n_trades,turnover\n");
    for (size_t i = 0; i < n; i++)
        fprintf(w.f, "%" PRIu32 ",%s,%s,%s,%s,%" PRId64 ",%" PRId64 ",%s\n", ss[i].strategy_id,
                fx(a, sizeof a, ss[i].realized, QTS_CASH_EXP),
                fx(b, sizeof b, ss[i].unrealized, QTS_CASH_EXP),
                fx(c, sizeof c, ss[i].fees, QTS_CASH_EXP),
                fx(d, sizeof d, ss[i].net_pnl, QTS_CASH_EXP), ss[i].n_fills, ss[i].n_trades,
                fx(e, sizeof e, ss[i].turnover, QTS_CASH_EXP));
    free(ss);
    if ((rc = wclose(&w, err)))
        return rc;
    return qts_report_render(dir, err);
}

/* ------------------------------------------------------------- file input */

struct rd_equity {
    int64_t ts, equity, cash, gross;
};
struct rd_price {
    int64_t ts;
    uint32_t inst;
    double px;
};
struct rd_fill {
    int64_t ts;
    uint32_t inst;
    int side;
    double px;
};
struct rd_strat {
    uint32_t id;
    int64_t realized, unrealized, fees, net, n_fills, n_trades, turnover;
    int64_t wins; /* from trades.csv */
};
struct rd_inst {
    uint32_t id;
    char symbol[QTS_SYMBOL_MAX];
};

struct run {
    char title[128];
    char interrupted[128]; /* "" = the run reached its end */
    int64_t initial_cash;
    struct qts_perf_params pp;
    struct rd_equity *eq;
    size_t n_eq, cap_eq;
    struct rd_price *px;
    size_t n_px, cap_px;
    struct rd_fill *fills;
    size_t n_fills, cap_fills;
    int64_t fees;
    struct qts_perf_trade *trades;
    uint32_t *trade_strat; /* strategy of each trade */
    size_t n_trades, cap_trades, cap_trade_strat;
    struct rd_strat *strat;
    size_t n_strat, cap_strat;
    struct rd_inst *inst; /* sorted by id */
    size_t n_inst, cap_inst;
};

static void run_free(struct run *r)
{
    qts_free_all(r->eq, r->px, r->fills, r->trades, r->trade_strat, r->strat, r->inst);
}

static void inst_note(struct run *r, uint32_t id, const char *sym)
{
    size_t i = 0;
    while (i < r->n_inst && r->inst[i].id < id)
        i++;
    if (i < r->n_inst && r->inst[i].id == id)
        return;
    GROW(r->inst, r->n_inst, r->cap_inst);
    memmove(&r->inst[i + 1], &r->inst[i], (r->n_inst - i) * sizeof *r->inst);
    r->n_inst++;
    r->inst[i].id = id;
    qts_strlcpy(r->inst[i].symbol, sym, sizeof r->inst[i].symbol);
}

#define MAX_FIELDS 20

struct csv {
    char *buf;
    char *p;
    const char *path;
    int line;
    char *f[MAX_FIELDS];
    int nf;
};

static int csv_open(struct csv *c, const char *path, struct qts_err *err)
{
    memset(c, 0, sizeof *c);
    c->path = path;
    FILE *f = fopen(path, "rb");
    if (!f)
        return qts_err_set(err, errno == ENOENT ? QTS_ENOENT : QTS_EIO, "%s: %s", path,
                           strerror(errno));
    size_t cap = 1 << 16, n = 0;
    c->buf = qts_xmalloc(cap);
    for (;;) {
        if (n + 1 >= cap)
            c->buf = qts_xrealloc(c->buf, cap *= 2);
        size_t k = fread(c->buf + n, 1, cap - n - 1, f);
        if (k == 0)
            break;
        n += k;
    }
    bool bad = ferror(f) != 0;
    fclose(f);
    c->buf[n] = '\0';
    c->p = c->buf;
    if (bad) {
        free(c->buf);
        c->buf = NULL;
        return qts_err_set(err, QTS_EIO, "%s: read error", path);
    }
    return 0;
}

/* Next line split on ','; returns false at the end. */
static bool csv_next(struct csv *c)
{
    if (!*c->p)
        return false;
    char *line = c->p;
    char *nl = strchr(line, '\n');
    if (nl) {
        *nl = '\0';
        c->p = nl + 1;
    } else {
        c->p = line + strlen(line);
    }
    c->line++;
    c->nf = 0;
    char *s = line;
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
    int rc = csv_open(&c, path, err);
    if (rc)
        return rc;
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

static int row_equity(struct run *r, struct csv *c, struct qts_err *err)
{
    struct rd_equity e;
    if (!p_i64(c->f[0], &e.ts) || !p_cash(c->f[1], &e.equity) || !p_cash(c->f[2], &e.cash) ||
        !p_cash(c->f[3], &e.gross))
        return csv_bad(c, err, "bad number");
    if (r->n_eq && e.ts < r->eq[r->n_eq - 1].ts)
        return csv_bad(c, err, "time goes backwards");
    GROW(r->eq, r->n_eq, r->cap_eq);
    r->eq[r->n_eq++] = e;
    return 0;
}

static int row_price(struct run *r, struct csv *c, struct qts_err *err)
{
    struct rd_price p;
    int64_t inst;
    if (!p_i64(c->f[0], &p.ts) || !p_i64(c->f[1], &inst) || !p_dbl(c->f[3], &p.px) || inst < 0 ||
        inst > UINT32_MAX)
        return csv_bad(c, err, "bad number");
    p.inst = (uint32_t)inst;
    inst_note(r, p.inst, c->f[2]);
    GROW(r->px, r->n_px, r->cap_px);
    r->px[r->n_px++] = p;
    return 0;
}

static int row_fill(struct run *r, struct csv *c, struct qts_err *err)
{
    struct rd_fill f;
    int64_t inst, fee;
    if (!p_i64(c->f[0], &f.ts) || !p_i64(c->f[5], &inst) || !p_dbl(c->f[8], &f.px) ||
        !p_cash(c->f[12], &fee) || inst < 0 || inst > UINT32_MAX)
        return csv_bad(c, err, "bad number");
    f.inst = (uint32_t)inst;
    f.side = strcmp(c->f[7], "buy") == 0 ? QTS_SIDE_BUY : QTS_SIDE_SELL;
    r->fees += fee;
    inst_note(r, f.inst, c->f[6]);
    GROW(r->fills, r->n_fills, r->cap_fills);
    r->fills[r->n_fills++] = f;
    return 0;
}

static int row_trade(struct run *r, struct csv *c, struct qts_err *err)
{
    struct qts_perf_trade t;
    int64_t sid;
    if (!p_cash(c->f[9], &t.pnl) || !p_i64(c->f[0], &sid) || sid < 0 || sid > UINT32_MAX)
        return csv_bad(c, err, "bad number");
    GROW(r->trade_strat, r->n_trades, r->cap_trade_strat);
    GROW(r->trades, r->n_trades, r->cap_trades);
    r->trade_strat[r->n_trades] = (uint32_t)sid;
    r->trades[r->n_trades++] = t;
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

static void fmt_time(char *buf, size_t cap, int64_t ts_ns)
{
    time_t s = (time_t)(ts_ns >= 0 ? ts_ns / 1000000000 : (ts_ns - 999999999) / 1000000000);
    struct tm tm;
    if (!gmtime_r(&s, &tm)) {
        snprintf(buf, cap, "%" PRId64, ts_ns);
        return;
    }
    strftime(buf, cap, "%Y-%m-%d %H:%M:%S UTC", &tm);
}

static void fmt_duration(char *buf, size_t cap, int64_t ns)
{
    int64_t s = ns / 1000000000;
    int64_t ms = (ns / 1000000) % 1000;
    snprintf(buf, cap, "%" PRId64 "d %02" PRId64 ":%02" PRId64 ":%02" PRId64 ".%03" PRId64,
             s / 86400, s / 3600 % 24, s / 60 % 60, s % 60, ms);
}

static void html_text(FILE *f, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '&': fputs("&amp;", f); break;
        case '"': fputs("&quot;", f); break;
        default: fputc(*s, f);
        }
    }
}

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

/* ----------------------------------------------------------------- charts */

#define CW 960
#define CH 240
#define ML 80
#define MR 16
#define MT 12
#define MB 28

struct chart {
    FILE *f;
    int64_t x0, x1;
    double y0, y1;
};

static double cx(const struct chart *c, int64_t x)
{
    double span = (double)(c->x1 - c->x0);
    return ML + (span > 0 ? (double)(x - c->x0) / span : 0.5) * (CW - ML - MR);
}

static double cy(const struct chart *c, double y)
{
    double span = c->y1 - c->y0;
    return MT + (span > 0 ? (c->y1 - y) / span : 0.5) * (CH - MT - MB);
}

static void chart_begin(struct chart *c, FILE *f, const char *label, int64_t x0, int64_t x1,
                        double y0, double y1, const char *yfmt)
{
    c->f = f;
    c->x0 = x0;
    c->x1 = x1;
    if (y1 <= y0) { /* flat series: open a band around it */
        double pad = fabs(y0) > 0 ? fabs(y0) * 0.01 : 1.0;
        y0 -= pad;
        y1 += pad;
    }
    c->y0 = y0;
    c->y1 = y1;
    fprintf(f, "<figure><figcaption>");
    html_text(f, label);
    fprintf(f,
            "</figcaption>\n<svg viewBox=\"0 0 %d %d\" "
            "width=\"%d\" height=\"%d\">\n",
            CW, CH, CW, CH);
    fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" class=\"frame\"/>\n", ML, MT,
            CW - ML - MR, CH - MT - MB);
    for (int i = 0; i <= 4; i++) {
        double v = y0 + (y1 - y0) * i / 4.0;
        double y = cy(c, v);
        char lab[64];
        snprintf(lab, sizeof lab, yfmt, v);
        fprintf(f,
                "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" class=\"grid\"/>"
                "<text x=\"%d\" y=\"%.1f\" class=\"yl\">%s</text>\n",
                ML, y, CW - MR, y, ML - 4, y + 4, lab);
    }
    char t0[48], t1[48];
    fmt_time(t0, sizeof t0, x0);
    fmt_time(t1, sizeof t1, x1);
    fprintf(f,
            "<text x=\"%d\" y=\"%d\" class=\"xl\">%s</text>"
            "<text x=\"%d\" y=\"%d\" class=\"xr\">%s</text>\n",
            ML, CH - 8, t0, CW - MR, CH - 8, t1);
}

static void chart_end(struct chart *c) { fputs("</svg></figure>\n", c->f); }

/* Polyline of (x[i], y[i]). Long series keep, per pixel column, the first,
 * lowest, highest and last point in time order, so spikes survive. */
static void chart_line(struct chart *c, const int64_t *x, const double *y, size_t n,
                       const char *cls, bool area)
{
    if (!n)
        return;
    FILE *f = c->f;
    fprintf(f, "<polyline class=\"%s\" points=\"", cls);
    if (area)
        fprintf(f, "%.1f,%.1f ", cx(c, x[0]), cy(c, 0));
    int cols = CW - ML - MR;
    size_t i = 0;
    while (i < n) {
        int col = (int)(cx(c, x[i]) - ML);
        size_t j = i, lo = i, hi = i;
        while (j + 1 < n && (int)(cx(c, x[j + 1]) - ML) == col && n > (size_t)cols * 4) {
            j++;
            if (y[j] < y[lo])
                lo = j;
            if (y[j] > y[hi])
                hi = j;
        }
        size_t pts[4] = {i, lo < hi ? lo : hi, lo < hi ? hi : lo, j};
        size_t last = (size_t)-1;
        for (int k = 0; k < 4; k++) {
            if (pts[k] == last)
                continue;
            last = pts[k];
            fprintf(f, "%.1f,%.1f ", cx(c, x[pts[k]]), cy(c, y[pts[k]]));
        }
        i = j + 1;
    }
    if (area)
        fprintf(f, "%.1f,%.1f", cx(c, x[n - 1]), cy(c, 0));
    fputs("\"/>\n", f);
}

static void chart_equity(FILE *f, const struct run *r, int64_t x0, int64_t x1)
{
    size_t n = r->n_eq;
    int64_t *x = qts_xmalloc((n ? n : 1) * sizeof *x);
    double *y = qts_xmalloc((n ? n : 1) * sizeof *y);
    double *dd = qts_xmalloc((n ? n : 1) * sizeof *dd);
    double lo = INFINITY, hi = -INFINITY, peak = -INFINITY, ddmin = 0;
    for (size_t i = 0; i < n; i++) {
        x[i] = r->eq[i].ts;
        y[i] = qts_fixed_to_double(r->eq[i].equity, QTS_CASH_EXP);
        lo = fmin(lo, y[i]);
        hi = fmax(hi, y[i]);
        peak = fmax(peak, y[i]);
        dd[i] = peak > 0 ? -(1.0 - y[i] / peak) * 100.0 : 0;
        ddmin = fmin(ddmin, dd[i]);
    }
    struct chart c;
    chart_begin(&c, f, "Equity", x0, x1, n ? lo : 0, n ? hi : 1, "%.2f");
    chart_line(&c, x, y, n, "eq", false);
    chart_end(&c);
    chart_begin(&c, f, "Drawdown (%)", x0, x1, ddmin, 0, "%.2f");
    chart_line(&c, x, dd, n, "dd", true);
    chart_end(&c);
    free(x);
    free(y);
    free(dd);
}

#define MAX_PRICE_CHARTS 8
#define MAX_MARKERS 5000

static void chart_fills(FILE *f, const struct run *r, const struct rd_inst *in, int64_t x0,
                        int64_t x1)
{
    size_t np = 0, nf = 0;
    for (size_t i = 0; i < r->n_px; i++)
        np += r->px[i].inst == in->id;
    for (size_t i = 0; i < r->n_fills; i++)
        nf += r->fills[i].inst == in->id;
    int64_t *x = qts_xmalloc((np ? np : 1) * sizeof *x);
    double *y = qts_xmalloc((np ? np : 1) * sizeof *y);
    double lo = INFINITY, hi = -INFINITY;
    size_t k = 0;
    for (size_t i = 0; i < r->n_px; i++) {
        if (r->px[i].inst != in->id)
            continue;
        x[k] = r->px[i].ts;
        y[k] = r->px[i].px;
        lo = fmin(lo, y[k]);
        hi = fmax(hi, y[k]);
        k++;
    }
    for (size_t i = 0; i < r->n_fills; i++) {
        if (r->fills[i].inst != in->id)
            continue;
        lo = fmin(lo, r->fills[i].px);
        hi = fmax(hi, r->fills[i].px);
    }
    char label[96];
    snprintf(label, sizeof label, "Fills on price: %s (instrument %" PRIu32 ")",
             in->symbol[0] ? in->symbol : "?", in->id);
    struct chart c;
    chart_begin(&c, f, label, x0, x1, isfinite(lo) ? lo : 0, isfinite(hi) ? hi : 1, "%.6g");
    chart_line(&c, x, y, np, "px", false);
    size_t stride = nf > MAX_MARKERS ? (nf + MAX_MARKERS - 1) / MAX_MARKERS : 1;
    size_t seen = 0;
    for (size_t i = 0; i < r->n_fills; i++) {
        const struct rd_fill *fl = &r->fills[i];
        if (fl->inst != in->id || seen++ % stride)
            continue;
        double px = cx(&c, fl->ts), py = cy(&c, fl->px);
        if (fl->side == QTS_SIDE_BUY)
            fprintf(f, "<path class=\"buy\" d=\"M%.1f %.1fl-4 7h8z\"/>\n", px, py);
        else
            fprintf(f, "<path class=\"sell\" d=\"M%.1f %.1fl-4 -7h8z\"/>\n", px, py);
    }
    chart_end(&c);
    free(x);
    free(y);
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
    struct wfile w;
    int rc = wopen(&w, dir, "report.html", err);
    if (rc)
        return rc;
    FILE *f = w.f;
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>", f);
    html_text(f, r->title);
    fprintf(f, "</title>\n<style>%s</style></head><body>\n<h1>", CSS);
    html_text(f, r->title);
    fputs("</h1>\n", f);
    int64_t x0 = r->n_eq ? r->eq[0].ts : 0, x1 = r->n_eq ? r->eq[r->n_eq - 1].ts : 1;
    chart_equity(f, r, x0, x1);
    for (size_t i = 0; i < r->n_inst && i < MAX_PRICE_CHARTS; i++)
        chart_fills(f, r, &r->inst[i], x0, x1);
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
    fputs("<p>Formulas: docs/performance.md. Data: the CSV files next to this "
          "page.</p>\n</body></html>\n",
          f);
    return wclose(&w, err);
}

static int write_summary(const char *dir, const struct run *r, const struct qts_perf *p,
                         const struct qts_report_tca *tca, struct qts_err *err)
{
    struct wfile w;
    int rc = wopen(&w, dir, "summary.json", err);
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
    return wclose(&w, err);
}

int qts_report_render(const char *dir, struct qts_err *err)
{
    struct run r;
    memset(&r, 0, sizeof r);
    qts_perf_params_default(&r.pp);
    qts_strlcpy(r.title, "qts run", sizeof r.title);
    int rc;
    if ((rc = read_csv(dir, "run.csv", 2, &r, row_run, err)) ||
        (rc = read_csv(dir, "equity.csv", 4, &r, row_equity, err)) ||
        (rc = read_csv(dir, "prices.csv", 4, &r, row_price, err)) ||
        (rc = read_csv(dir, "fills.csv", 17, &r, row_fill, err)) ||
        (rc = read_csv(dir, "trades.csv", 10, &r, row_trade, err)) ||
        (rc = read_csv(dir, "strategies.csv", 8, &r, row_strat, err)))
        goto out;

    for (size_t i = 0; i < r.n_trades; i++)
        for (size_t k = 0; k < r.n_strat; k++)
            if (r.strat[k].id == r.trade_strat[i] && r.trades[i].pnl > 0)
                r.strat[k].wins++;
    size_t n = r.n_eq;
    struct qts_perf p;
    memset(&p, 0, sizeof p);
    if (n) {
        int64_t *ts = qts_xmalloc(n * sizeof *ts), *eq = qts_xmalloc(n * sizeof *eq),
                *gx = qts_xmalloc(n * sizeof *gx);
        for (size_t i = 0; i < n; i++) {
            ts[i] = r.eq[i].ts;
            eq[i] = r.eq[i].equity;
            gx[i] = r.eq[i].gross;
        }
        rc = qts_perf_compute(&r.pp, ts, eq, gx, n, r.trades, r.n_trades, r.n_fills, r.fees, &p);
        free(ts);
        free(eq);
        free(gx);
        if (rc) {
            qts_err_set(err, rc, "%s/equity.csv: cannot compute statistics", dir);
            goto out;
        }
    } else {
        /* no equity sample: statistics of a run that never started */
        p.n_fills = r.n_fills;
        p.n_trades = r.n_trades;
        p.fees = qts_fixed_to_double(r.fees, QTS_CASH_EXP);
        p.equity_start = p.equity_end = qts_fixed_to_double(r.initial_cash, QTS_CASH_EXP);
    }
    struct qts_report_tca *tca = NULL;
    rc = qts_report_tca_load(dir, &tca, err);
    if (rc == 0 && (rc = write_summary(dir, &r, &p, tca, err)) == 0)
        rc = write_html(dir, &r, &p, tca, err);
    qts_report_tca_free(tca);
out:
    run_free(&r);
    return rc;
}
