/* report_tca.c — see report_tca.h. */
#include "report_tca.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "report_select.h"
#include "util.h"

/* tca.csv columns used here (tca.c writes them in this order) */
enum {
    C_SYMBOL = 2,
    C_STRATEGY = 1,
    C_ALGO = 6,
    C_AGGR = 8,
    C_FILLED = 10,
    C_ARRIVAL = 12,
    C_SLIP_DEC = 18,
    C_SLIP_ARR = 19,
    C_LAT = 22,
    C_FILL_RATIO = 23,
    C_MK1 = 27,
    C_PRED = 36,
    C_QUALITY = 40,
    C_TICK = 42,
    C_MIN_FIELDS = 43,
};

struct trow {
    char symbol[32];
    int algo;
    unsigned strategy;
    bool aggressive;
    double filled, arrival, slip_dec, slip_arr, lat, fill_ratio, mk[3], pred, quality, tick;
};

struct agg {
    size_t n, filled;
    double slip, q, fr, lat;
    size_t n_slip, n_q, n_fr, n_lat;
};

#define HIST_BINS 12
static const double hist_edges[HIST_BINS + 1] = {-INFINITY, -20, -10, -5, -2, -1,      0,
                                                 1,         2,   5,   10, 20, INFINITY};

struct dist {
    size_t n;
    double mean, p10, p50, p90;
    size_t hist[HIST_BINS];
};

struct pred_stats {
    size_t n, n_ticks;
    double mae_bps, med_bps, med_ticks, mean_pred, mean_real;
};

struct sym_agg {
    char symbol[32];
    struct agg g;
};

struct strat_agg {
    unsigned id;
    char name[64]; /* "" = shown by id */
    struct agg g;
};

/* Everything the section prints, computed while reading the file: sums
 * and counts in file order (so the figures are those of the rows in a
 * list), percentiles by exact selection over further passes
 * (report_select.h). Memory: the groups (symbols, strategies) and the
 * selection's buffers, not the rows. */
struct qts_report_tca {
    size_t n;
    struct agg all, by_algo[4];
    struct sym_agg *syms; /* first-seen order */
    size_t n_syms, cap_syms;
    struct strat_agg *strats; /* ascending id once loaded */
    size_t n_strats, cap_strats;
    struct dist d;
    double mk_s[3], mk_w[3];
    struct pred_stats ps;
};

static double field_num(const char *s)
{
    if (!*s)
        return NAN;
    char *end;
    double v = strtod(s, &end);
    return *end ? NAN : v;
}

/* One data line into r; the number of fields (fewer than C_MIN_FIELDS:
 * r untouched). The line is cut up in place. */
static int parse_row(char *line, struct trow *r)
{
    line[strcspn(line, "\r\n")] = '\0';
    char *fld[64];
    int n = 0;
    for (char *p = line; p && n < 64;) {
        fld[n++] = p;
        p = strchr(p, ',');
        if (p)
            *p++ = '\0';
    }
    if (n < C_MIN_FIELDS)
        return n;
    qts_strlcpy(r->symbol, fld[C_SYMBOL], sizeof r->symbol);
    r->strategy = (unsigned)strtoul(fld[C_STRATEGY], NULL, 10);
    r->algo = atoi(fld[C_ALGO]);
    r->aggressive = atoi(fld[C_AGGR]) != 0;
    r->filled = field_num(fld[C_FILLED]);
    r->arrival = field_num(fld[C_ARRIVAL]);
    r->slip_dec = field_num(fld[C_SLIP_DEC]);
    r->slip_arr = field_num(fld[C_SLIP_ARR]);
    r->lat = field_num(fld[C_LAT]);
    r->fill_ratio = field_num(fld[C_FILL_RATIO]);
    for (int k = 0; k < 3; k++)
        r->mk[k] = field_num(fld[C_MK1 + k]);
    r->pred = field_num(fld[C_PRED]);
    r->quality = field_num(fld[C_QUALITY]);
    r->tick = field_num(fld[C_TICK]);
    return n;
}

/* A mean's sum and count take only finite values (NaN: not known). */
static void add_finite(double *sum, size_t *n, double v)
{
    if (isfinite(v)) {
        *sum += v;
        (*n)++;
    }
}

static void agg_add(struct agg *a, const struct trow *r)
{
    a->n++;
    if (r->filled > 0)
        a->filled++;
    add_finite(&a->slip, &a->n_slip, r->slip_dec);
    add_finite(&a->q, &a->n_q, r->quality);
    add_finite(&a->fr, &a->n_fr, r->fill_ratio);
    add_finite(&a->lat, &a->n_lat, r->lat);
}

/* The values whose percentiles the section prints, of one row (NaN: the
 * row has none): slippage against the decision; the absolute prediction
 * error of an aggressive filled order, in bps and in ticks. */
enum { S_SLIP, S_ERR_BPS, S_ERR_TICKS, S_SERIES };

static void series_of(const struct trow *r, double v[S_SERIES])
{
    v[S_SLIP] = isfinite(r->slip_dec) ? r->slip_dec : NAN;
    v[S_ERR_BPS] = v[S_ERR_TICKS] = NAN;
    if (!r->aggressive || !(r->filled > 0) || !isfinite(r->pred) || !isfinite(r->slip_arr))
        return;
    double e = fabs(r->pred - r->slip_arr);
    v[S_ERR_BPS] = e;
    if (r->tick > 0 && r->arrival > 0)
        v[S_ERR_TICKS] = e * r->arrival / 1e4 / r->tick;
}

/* Pass 1: every sum, count and group. */
static void take_row(struct qts_report_tca *t, const struct trow *r)
{
    t->n++;
    agg_add(&t->all, r);
    if (r->algo >= 0 && r->algo < 4)
        agg_add(&t->by_algo[r->algo], r);
    size_t k = 0;
    while (k < t->n_syms && strcmp(t->syms[k].symbol, r->symbol) != 0)
        k++;
    if (k == t->n_syms) {
        if (t->n_syms == t->cap_syms) {
            t->cap_syms = t->cap_syms ? t->cap_syms * 2 : 4;
            t->syms = qts_xrealloc(t->syms, t->cap_syms * sizeof *t->syms);
        }
        memset(&t->syms[k], 0, sizeof t->syms[k]);
        qts_strlcpy(t->syms[k].symbol, r->symbol, sizeof t->syms[k].symbol);
        t->n_syms++;
    }
    agg_add(&t->syms[k].g, r);
    k = 0;
    while (k < t->n_strats && t->strats[k].id != r->strategy)
        k++;
    if (k == t->n_strats) {
        if (t->n_strats == t->cap_strats) {
            t->cap_strats = t->cap_strats ? t->cap_strats * 2 : 4;
            t->strats = qts_xrealloc(t->strats, t->cap_strats * sizeof *t->strats);
        }
        memset(&t->strats[k], 0, sizeof t->strats[k]);
        t->strats[k].id = r->strategy;
        t->n_strats++;
    }
    agg_add(&t->strats[k].g, r);
    double s = r->slip_dec;
    if (isfinite(s)) {
        t->d.n++;
        t->d.mean += s;
        for (int b = 0; b < HIST_BINS; b++)
            if (s >= hist_edges[b] && s < hist_edges[b + 1]) {
                t->d.hist[b]++;
                break;
            }
    }
    for (int m = 0; m < 3; m++)
        if (isfinite(r->mk[m]) && r->filled > 0) {
            t->mk_s[m] += r->mk[m] * r->filled;
            t->mk_w[m] += r->filled;
        }
    double v[S_SERIES];
    series_of(r, v);
    if (isfinite(v[S_ERR_BPS])) {
        t->ps.n++;
        t->ps.mae_bps += v[S_ERR_BPS];
        t->ps.mean_pred += r->pred;
        t->ps.mean_real += r->slip_arr;
    }
    if (isfinite(v[S_ERR_TICKS]))
        t->ps.n_ticks++;
}

/* Read the data lines of `path` into `fn`; 0, QTS_EPARSE or QTS_EIO. */
static int read_rows(const char *path, void (*fn)(void *ctx, const struct trow *r), void *ctx,
                     struct qts_err *err)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return qts_err_set(err, QTS_EIO, "cannot read %s", path);
    char line[8192];
    int lineno = 0, rc = 0;
    while (fgets(line, sizeof line, f)) {
        if (++lineno == 1)
            continue; /* header */
        struct trow r;
        int n = parse_row(line, &r);
        if (n < C_MIN_FIELDS) {
            rc = qts_err_set(err, QTS_EPARSE, "%s:%d: %d fields, need %d", path, lineno, n,
                             (int)C_MIN_FIELDS);
            break;
        }
        fn(ctx, &r);
    }
    if (!rc && ferror(f))
        rc = qts_err_set(err, QTS_EIO, "cannot read %s", path);
    fclose(f);
    return rc;
}

static void take_cb(void *ctx, const struct trow *r) { take_row(ctx, r); }

/* The order statistics the percentiles need: ranks i and i + 1 of the
 * linear interpolation (below), per series. */
#define MAX_TARGETS 10
struct targets {
    struct qts_sel sel[MAX_TARGETS];
    int series[MAX_TARGETS];
    size_t n;
};

static void sel_cb(void *ctx, const struct trow *r)
{
    struct targets *ts = ctx;
    double v[S_SERIES];
    series_of(r, v);
    for (size_t i = 0; i < ts->n; i++)
        if (isfinite(v[ts->series[i]]))
            qts_sel_feed(&ts->sel[i], v[ts->series[i]]);
}

/* Quantile q of n values by linear interpolation of the sorted values:
 * pos = q (n - 1), v[i] + (pos - i) (v[i+1] - v[i]). Adds the ranks it
 * needs to ts and returns the index of the first (the second, if any,
 * follows it). */
static size_t want_quant(struct targets *ts, int series, size_t n, double q)
{
    size_t first = ts->n;
    size_t i = (size_t)(q * (double)(n - 1));
    if (i + 1 >= n)
        i = n - 1;
    ts->series[ts->n] = series;
    qts_sel_init(&ts->sel[ts->n++], i);
    if (i + 1 < n) {
        ts->series[ts->n] = series;
        qts_sel_init(&ts->sel[ts->n++], i + 1);
    }
    return first;
}

static double quant_of(const struct targets *ts, size_t first, size_t n, double q)
{
    double pos = q * (double)(n - 1);
    size_t i = (size_t)pos;
    if (i + 1 >= n)
        return ts->sel[first].value;
    double a = ts->sel[first].value, b = ts->sel[first + 1].value;
    return a + (pos - (double)i) * (b - a);
}

static int percentiles(struct qts_report_tca *t, const char *path, struct qts_err *err)
{
    struct targets ts;
    ts.n = 0;
    static const double dq[3] = {0.1, 0.5, 0.9};
    size_t at_slip[3] = {0}, at_bps = 0, at_ticks = 0;
    if (t->d.n)
        for (int k = 0; k < 3; k++)
            at_slip[k] = want_quant(&ts, S_SLIP, t->d.n, dq[k]);
    if (t->ps.n)
        at_bps = want_quant(&ts, S_ERR_BPS, t->ps.n, 0.5);
    if (t->ps.n_ticks)
        at_ticks = want_quant(&ts, S_ERR_TICKS, t->ps.n_ticks, 0.5);
    int rc = 0;
    for (int pass = 0; ts.n && rc == 0; pass++) {
        if ((rc = read_rows(path, sel_cb, &ts, err)) != 0)
            break;
        bool all = true;
        for (size_t i = 0; i < ts.n && rc == 0; i++) {
            int r = qts_sel_end_pass(&ts.sel[i]);
            if (r < 0 || pass > 16)
                rc = qts_err_set(err, QTS_EPARSE, "%s changed while the report read it", path);
            all = all && r == 1;
        }
        if (all)
            break;
    }
    if (rc == 0) {
        if (t->d.n) {
            t->d.p10 = quant_of(&ts, at_slip[0], t->d.n, dq[0]);
            t->d.p50 = quant_of(&ts, at_slip[1], t->d.n, dq[1]);
            t->d.p90 = quant_of(&ts, at_slip[2], t->d.n, dq[2]);
        }
        if (t->ps.n)
            t->ps.med_bps = quant_of(&ts, at_bps, t->ps.n, 0.5);
        t->ps.med_ticks = t->ps.n_ticks ? quant_of(&ts, at_ticks, t->ps.n_ticks, 0.5) : NAN;
    }
    for (size_t i = 0; i < ts.n; i++)
        qts_sel_free(&ts.sel[i]);
    return rc;
}

int qts_report_tca_load(const char *dir, struct qts_report_tca **out, struct qts_err *err)
{
    *out = NULL;
    char path[1100];
    snprintf(path, sizeof path, "%s/tca.csv", dir);
    FILE *probe = fopen(path, "r");
    if (!probe)
        return errno == ENOENT ? 0 : qts_err_set(err, QTS_EIO, "cannot read %s", path);
    fclose(probe);
    struct qts_report_tca *t = qts_xcalloc(1, sizeof *t);
    int rc = read_rows(path, take_cb, t, err);
    if (rc == 0) {
        if (t->d.n) {
            t->d.mean /= (double)t->d.n;
        } else {
            t->d.mean = t->d.p10 = t->d.p50 = t->d.p90 = NAN;
        }
        if (t->ps.n) {
            t->ps.mae_bps /= (double)t->ps.n;
            t->ps.mean_pred /= (double)t->ps.n;
            t->ps.mean_real /= (double)t->ps.n;
        }
        for (size_t i = 1; i < t->n_strats; i++) /* insertion sort: few strategies */
            for (size_t j = i; j > 0 && t->strats[j - 1].id > t->strats[j].id; j--) {
                struct strat_agg x = t->strats[j];
                t->strats[j] = t->strats[j - 1];
                t->strats[j - 1] = x;
            }
        rc = percentiles(t, path, err);
    }
    if (rc != 0) {
        qts_report_tca_free(t);
        return rc;
    }
    *out = t;
    return 0;
}

void qts_report_tca_name(struct qts_report_tca *t, unsigned id, const char *name)
{
    for (size_t k = 0; t && k < t->n_strats; k++)
        if (t->strats[k].id == id) {
            /* the HTML cell takes it as it is: leave out markup characters */
            size_t j = 0;
            for (const char *c = name; *c && j + 1 < sizeof t->strats[k].name; c++)
                if (*c != '<' && *c != '>' && *c != '&' && *c != '"')
                    t->strats[k].name[j++] = *c;
            t->strats[k].name[j] = '\0';
        }
}

void qts_report_tca_free(struct qts_report_tca *t)
{
    if (!t)
        return;
    free(t->syms);
    free(t->strats);
    free(t);
}

static double mean(double s, size_t n) { return n ? s / (double)n : NAN; }

static void markouts(const struct qts_report_tca *t, double out[3])
{
    for (int k = 0; k < 3; k++)
        out[k] = t->mk_w[k] > 0 ? t->mk_s[k] / t->mk_w[k] : NAN;
}

static void num(FILE *f, double v)
{
    if (isfinite(v))
        fprintf(f, "%.6g", v);
    else
        fputs("null", f);
}

static const char *algo_name(int a)
{
    static const char *const n[] = {"direct", "twap", "vwap", "iceberg"};
    return a >= 0 && a < 4 ? n[a] : "other";
}

static void json_agg(FILE *f, const struct agg *a)
{
    fprintf(f, "\"orders\": %zu, \"filled\": %zu, \"avg_slippage_bps\": ", a->n, a->filled);
    num(f, mean(a->slip, a->n_slip));
    fputs(", \"avg_quality\": ", f);
    num(f, mean(a->q, a->n_q));
    fputs(", \"avg_fill_ratio\": ", f);
    num(f, mean(a->fr, a->n_fr));
    fputs(", \"avg_fill_latency_ms\": ", f);
    num(f, mean(a->lat, a->n_lat));
}

void qts_report_tca_json(FILE *f, const struct qts_report_tca *t)
{
    const struct dist d = t->d;
    double mk[3];
    markouts(t, mk);
    fputs(",\n  \"tca\": {", f);
    json_agg(f, &t->all);
    fprintf(f, ",\n    \"slippage_bps\": {\"n\": %zu, \"mean\": ", d.n);
    num(f, d.mean);
    fputs(", \"p10\": ", f);
    num(f, d.p10);
    fputs(", \"p50\": ", f);
    num(f, d.p50);
    fputs(", \"p90\": ", f);
    num(f, d.p90);
    fputs(", \"hist_edges\": [-20, -10, -5, -2, -1, 0, 1, 2, 5, 10, 20], \"hist\": [", f);
    for (int b = 0; b < HIST_BINS; b++)
        fprintf(f, "%s%zu", b ? ", " : "", d.hist[b]);
    fputs("]},\n    \"markout_bps\": {\"1s\": ", f);
    num(f, mk[0]);
    fputs(", \"10s\": ", f);
    num(f, mk[1]);
    fputs(", \"60s\": ", f);
    num(f, mk[2]);
    fputs("},\n    \"by_algo\": [", f);
    bool first = true;
    for (int a = 0; a < 4; a++) {
        const struct agg *g = &t->by_algo[a];
        if (!g->n)
            continue;
        fprintf(f, "%s{\"algo\": \"%s\", ", first ? "" : ", ", algo_name(a));
        json_agg(f, g);
        fputc('}', f);
        first = false;
    }
    fputs("],\n    \"by_symbol\": [", f);
    for (size_t k = 0; k < t->n_syms; k++) {
        fprintf(f, "%s{\"symbol\": \"%s\", ", k ? ", " : "", t->syms[k].symbol);
        json_agg(f, &t->syms[k].g);
        fputc('}', f);
    }
    fputs("],\n    \"by_strategy\": [", f);
    for (size_t k = 0; k < t->n_strats; k++) {
        fprintf(f, "%s{\"strategy_id\": %u, ", k ? ", " : "", t->strats[k].id);
        json_agg(f, &t->strats[k].g);
        fputc('}', f);
    }
    const struct pred_stats ps = t->ps;
    fprintf(f, "],\n    \"prediction\": {\"n\": %zu, \"mean_predicted_bps\": ", ps.n);
    num(f, ps.n ? ps.mean_pred : NAN);
    fputs(", \"mean_realized_bps\": ", f);
    num(f, ps.n ? ps.mean_real : NAN);
    fputs(", \"mae_bps\": ", f);
    num(f, ps.n ? ps.mae_bps : NAN);
    fputs(", \"median_abs_err_bps\": ", f);
    num(f, ps.n ? ps.med_bps : NAN);
    fputs(", \"median_abs_err_ticks\": ", f);
    num(f, ps.med_ticks);
    fputs("}\n  }", f);
}

static void cell(FILE *f, double v, const char *fmt)
{
    if (isfinite(v)) {
        fputs("<td>", f);
        fprintf(f, fmt, v);
        fputs("</td>", f);
    } else {
        fputs("<td>n/a</td>", f);
    }
}

static void html_agg_row(FILE *f, const char *key, const struct agg *g)
{
    fprintf(f, "<tr><td>%s</td><td>%zu</td><td>%zu</td>", key, g->n, g->filled);
    cell(f, mean(g->slip, g->n_slip), "%.3f");
    cell(f, mean(g->q, g->n_q), "%.4f");
    cell(f, mean(g->fr, g->n_fr), "%.4f");
    cell(f, mean(g->lat, g->n_lat), "%.3f");
    fputs("</tr>\n", f);
}

static const char AGG_HEAD[] = "<tr><th>%s</th><th>orders</th><th>filled</th><th>avg slippage "
                               "(bps)</th><th>avg quality</th><th>avg fill ratio</th><th>avg "
                               "fill latency (ms)</th></tr>\n";

void qts_report_tca_html(FILE *f, const struct qts_report_tca *t)
{
    const struct dist d = t->d;
    fprintf(f,
            "<h2>Transaction costs</h2>\n<p>%zu orders; slippage against the decision mid, "
            "positive = adverse (docs/feedback.md).</p>\n",
            t->n);
    /* slippage distribution: a bar chart of the histogram */
    size_t mx = 1;
    for (int b = 0; b < HIST_BINS; b++)
        if (d.hist[b] > mx)
            mx = d.hist[b];
    static const char *const lab[HIST_BINS] = {"<-20", "-20", "-10", "-5", "-2", "-1",
                                               "0",    "1",   "2",   "5",  "10", ">=20"};
    fputs("<figure><figcaption>Slippage distribution (bps, bins from the label up)"
          "</figcaption><svg viewBox=\"0 0 960 200\" width=\"960\" height=\"200\">\n",
          f);
    for (int b = 0; b < HIST_BINS; b++) {
        double h = 160.0 * (double)d.hist[b] / (double)mx;
        fprintf(f,
                "<rect x=\"%d\" y=\"%.1f\" width=\"64\" height=\"%.1f\" fill=\"#4a7\"/>"
                "<text x=\"%d\" y=\"195\" font-size=\"11\">%s</text>"
                "<text x=\"%d\" y=\"%.1f\" font-size=\"10\">%zu</text>\n",
                20 + b * 78, 175 - h, h, 26 + b * 78, lab[b], 26 + b * 78, 172 - h, d.hist[b]);
    }
    fputs("</svg></figure>\n<table>\n<tr><th>slippage (bps)</th><th>mean</th><th>p10</th>"
          "<th>median</th><th>p90</th></tr>\n<tr><td>against decision</td>",
          f);
    cell(f, d.mean, "%.3f");
    cell(f, d.p10, "%.3f");
    cell(f, d.p50, "%.3f");
    cell(f, d.p90, "%.3f");
    fputs("</tr>\n</table>\n", f);
    double mk[3];
    markouts(t, mk);
    fputs("<h3>Markouts</h3>\n<p>Mid after each fill against the fill price, quantity-weighted; "
          "positive = the price moved our way.</p>\n<table>\n<tr><th>horizon</th><th>1 s</th>"
          "<th>10 s</th><th>60 s</th></tr>\n<tr><td>markout (bps)</td>",
          f);
    for (int k = 0; k < 3; k++)
        cell(f, mk[k], "%.3f");
    fputs("</tr>\n</table>\n<h3>Quality by algorithm</h3>\n<table>\n", f);
    fprintf(f, AGG_HEAD, "algorithm");
    for (int a = 0; a < 4; a++) {
        if (t->by_algo[a].n)
            html_agg_row(f, algo_name(a), &t->by_algo[a]);
    }
    fputs("</table>\n<h3>Quality by symbol</h3>\n<table>\n", f);
    fprintf(f, AGG_HEAD, "symbol");
    for (size_t k = 0; k < t->n_syms; k++) {
        char key[40];
        size_t j = 0;
        for (const char *c = t->syms[k].symbol; *c && j + 1 < sizeof key; c++)
            if (*c != '<' && *c != '>' && *c != '&' && *c != '"')
                key[j++] = *c;
        key[j] = '\0';
        html_agg_row(f, key, &t->syms[k].g);
    }
    fputs("</table>\n<h3>Quality by strategy</h3>\n<table>\n", f);
    fprintf(f, AGG_HEAD, "strategy");
    for (size_t k = 0; k < t->n_strats; k++) {
        char key[96];
        if (t->strats[k].name[0])
            snprintf(key, sizeof key, "%s (%u)", t->strats[k].name, t->strats[k].id);
        else
            snprintf(key, sizeof key, "%u", t->strats[k].id);
        html_agg_row(f, key, &t->strats[k].g);
    }
    const struct pred_stats ps = t->ps;
    fprintf(f,
            "</table>\n<h3>Predicted against realized slippage</h3>\n<p>Aggressive orders; "
            "prediction made at the decision, realized against the arrival mid.</p>\n"
            "<table>\n<tr><th>orders</th><th>mean predicted (bps)</th><th>mean realized "
            "(bps)</th><th>mean abs error (bps)</th><th>median abs error (bps)</th>"
            "<th>median abs error (ticks)</th></tr>\n<tr><td>%zu</td>",
            ps.n);
    cell(f, ps.n ? ps.mean_pred : NAN, "%.4f");
    cell(f, ps.n ? ps.mean_real : NAN, "%.4f");
    cell(f, ps.n ? ps.mae_bps : NAN, "%.4f");
    cell(f, ps.n ? ps.med_bps : NAN, "%.4f");
    cell(f, ps.med_ticks, "%.3f");
    fputs("</tr>\n</table>\n", f);
}
