/* report_tca.c — see report_tca.h. */
#include "report_tca.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

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

struct qts_report_tca {
    struct trow *v;
    size_t n, cap;
};

static double field_num(const char *s)
{
    if (!*s)
        return NAN;
    char *end;
    double v = strtod(s, &end);
    return *end ? NAN : v;
}

int qts_report_tca_load(const char *dir, struct qts_report_tca **out, struct qts_err *err)
{
    *out = NULL;
    char path[1100];
    snprintf(path, sizeof path, "%s/tca.csv", dir);
    FILE *f = fopen(path, "r");
    if (!f)
        return errno == ENOENT ? 0 : qts_err_set(err, QTS_EIO, "cannot read %s", path);
    struct qts_report_tca *t = qts_xcalloc(1, sizeof *t);
    char line[8192];
    int lineno = 0, rc = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        if (lineno == 1)
            continue; /* header */
        line[strcspn(line, "\r\n")] = '\0';
        char *fld[64];
        int n = 0;
        for (char *p = line; p && n < 64;) {
            fld[n++] = p;
            p = strchr(p, ',');
            if (p)
                *p++ = '\0';
        }
        if (n < C_MIN_FIELDS) {
            rc = qts_err_set(err, QTS_EPARSE, "%s:%d: %d fields, need %d", path, lineno, n,
                             (int)C_MIN_FIELDS);
            break;
        }
        if (t->n == t->cap) {
            t->cap = t->cap ? t->cap * 2 : 64;
            t->v = qts_xrealloc(t->v, t->cap * sizeof *t->v);
        }
        struct trow *r = &t->v[t->n++];
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
    }
    fclose(f);
    if (rc != 0) {
        qts_report_tca_free(t);
        return rc;
    }
    *out = t;
    return 0;
}

void qts_report_tca_free(struct qts_report_tca *t)
{
    if (!t)
        return;
    free(t->v);
    free(t);
}

/* ------------------------------------------------------------- statistics */

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Quantile by linear interpolation of a sorted array. */
static double quant(const double *v, size_t n, double q)
{
    if (n == 0)
        return NAN;
    double pos = q * (double)(n - 1);
    size_t i = (size_t)pos;
    if (i + 1 >= n)
        return v[n - 1];
    return v[i] + (pos - (double)i) * (v[i + 1] - v[i]);
}

struct agg {
    size_t n, filled;
    double slip, q, fr, lat;
    size_t n_slip, n_q, n_fr, n_lat;
};

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

/* The aggregate of the rows of one group: algo (< 0: any), symbol (NULL:
 * any) and strategy (< 0: any) select it. */
static struct agg agg_where(const struct qts_report_tca *t, int algo, const char *symbol,
                            long long strategy)
{
    struct agg g = {0};
    for (size_t i = 0; i < t->n; i++) {
        const struct trow *r = &t->v[i];
        if ((algo < 0 || r->algo == algo) && (!symbol || strcmp(r->symbol, symbol) == 0) &&
            (strategy < 0 || r->strategy == (unsigned)strategy))
            agg_add(&g, r);
    }
    return g;
}

static double mean(double s, size_t n) { return n ? s / (double)n : NAN; }

struct pred_stats {
    size_t n;
    double mae_bps, med_bps, med_ticks, mean_pred, mean_real;
};

static void pred_stats(const struct qts_report_tca *t, struct pred_stats *ps)
{
    memset(ps, 0, sizeof *ps);
    double *eb = qts_xmalloc((t->n + 1) * sizeof *eb), *et = qts_xmalloc((t->n + 1) * sizeof *et);
    size_t nt = 0;
    for (size_t i = 0; i < t->n; i++) {
        const struct trow *r = &t->v[i];
        if (!r->aggressive || !(r->filled > 0) || !isfinite(r->pred) || !isfinite(r->slip_arr))
            continue;
        double e = fabs(r->pred - r->slip_arr);
        eb[ps->n++] = e;
        ps->mae_bps += e;
        ps->mean_pred += r->pred;
        ps->mean_real += r->slip_arr;
        if (r->tick > 0 && r->arrival > 0)
            et[nt++] = e * r->arrival / 1e4 / r->tick;
    }
    if (ps->n) {
        ps->mae_bps /= (double)ps->n;
        ps->mean_pred /= (double)ps->n;
        ps->mean_real /= (double)ps->n;
        qsort(eb, ps->n, sizeof *eb, cmp_dbl);
        ps->med_bps = quant(eb, ps->n, 0.5);
    }
    if (nt) {
        qsort(et, nt, sizeof *et, cmp_dbl);
        ps->med_ticks = quant(et, nt, 0.5);
    } else {
        ps->med_ticks = NAN;
    }
    free(eb);
    free(et);
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

/* Distinct strategy ids, ascending. */
static size_t strategies(const struct qts_report_tca *t, unsigned **out)
{
    unsigned *v = qts_xmalloc((t->n + 1) * sizeof *v);
    size_t n = 0;
    for (size_t i = 0; i < t->n; i++) {
        size_t k = 0;
        while (k < n && v[k] != t->v[i].strategy)
            k++;
        if (k == n)
            v[n++] = t->v[i].strategy;
    }
    for (size_t i = 1; i < n; i++) /* insertion sort: few strategies */
        for (size_t j = i; j > 0 && v[j - 1] > v[j]; j--) {
            unsigned x = v[j];
            v[j] = v[j - 1];
            v[j - 1] = x;
        }
    *out = v;
    return n;
}

/* Distinct keys in first-seen order. */
static size_t symbols(const struct qts_report_tca *t, const char ***out)
{
    const char **v = qts_xmalloc((t->n + 1) * sizeof *v);
    size_t n = 0;
    for (size_t i = 0; i < t->n; i++) {
        size_t k = 0;
        while (k < n && strcmp(v[k], t->v[i].symbol) != 0)
            k++;
        if (k == n)
            v[n++] = t->v[i].symbol;
    }
    *out = v;
    return n;
}

#define HIST_BINS 12
static const double hist_edges[HIST_BINS + 1] = {-INFINITY, -20, -10, -5, -2, -1,      0,
                                                 1,         2,   5,   10, 20, INFINITY};

struct dist {
    size_t n;
    double mean, p10, p50, p90;
    size_t hist[HIST_BINS];
};

static void slip_dist(const struct qts_report_tca *t, struct dist *d)
{
    memset(d, 0, sizeof *d);
    double *v = qts_xmalloc((t->n + 1) * sizeof *v);
    for (size_t i = 0; i < t->n; i++) {
        double s = t->v[i].slip_dec;
        if (!isfinite(s))
            continue;
        v[d->n++] = s;
        d->mean += s;
        for (int b = 0; b < HIST_BINS; b++)
            if (s >= hist_edges[b] && s < hist_edges[b + 1]) {
                d->hist[b]++;
                break;
            }
    }
    if (d->n) {
        d->mean /= (double)d->n;
        qsort(v, d->n, sizeof *v, cmp_dbl);
        d->p10 = quant(v, d->n, 0.1);
        d->p50 = quant(v, d->n, 0.5);
        d->p90 = quant(v, d->n, 0.9);
    } else {
        d->mean = d->p10 = d->p50 = d->p90 = NAN;
    }
    free(v);
}

static void markouts(const struct qts_report_tca *t, double out[3])
{
    for (int k = 0; k < 3; k++) {
        double s = 0, w = 0;
        for (size_t i = 0; i < t->n; i++)
            if (isfinite(t->v[i].mk[k]) && t->v[i].filled > 0) {
                s += t->v[i].mk[k] * t->v[i].filled;
                w += t->v[i].filled;
            }
        out[k] = w > 0 ? s / w : NAN;
    }
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
    struct dist d;
    slip_dist(t, &d);
    double mk[3];
    markouts(t, mk);
    struct agg all = {0};
    for (size_t i = 0; i < t->n; i++)
        agg_add(&all, &t->v[i]);
    fputs(",\n  \"tca\": {", f);
    json_agg(f, &all);
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
        struct agg g = agg_where(t, a, NULL, -1);
        if (!g.n)
            continue;
        fprintf(f, "%s{\"algo\": \"%s\", ", first ? "" : ", ", algo_name(a));
        json_agg(f, &g);
        fputc('}', f);
        first = false;
    }
    fputs("],\n    \"by_symbol\": [", f);
    const char **syms;
    size_t ns = symbols(t, &syms);
    for (size_t k = 0; k < ns; k++) {
        struct agg g = agg_where(t, -1, syms[k], -1);
        fprintf(f, "%s{\"symbol\": \"%s\", ", k ? ", " : "", syms[k]);
        json_agg(f, &g);
        fputc('}', f);
    }
    free(syms);
    fputs("],\n    \"by_strategy\": [", f);
    unsigned *st;
    size_t nst = strategies(t, &st);
    for (size_t k = 0; k < nst; k++) {
        struct agg g = agg_where(t, -1, NULL, st[k]);
        fprintf(f, "%s{\"strategy_id\": %u, ", k ? ", " : "", st[k]);
        json_agg(f, &g);
        fputc('}', f);
    }
    free(st);
    struct pred_stats ps;
    pred_stats(t, &ps);
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
    struct dist d;
    slip_dist(t, &d);
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
        struct agg g = agg_where(t, a, NULL, -1);
        if (g.n)
            html_agg_row(f, algo_name(a), &g);
    }
    fputs("</table>\n<h3>Quality by symbol</h3>\n<table>\n", f);
    fprintf(f, AGG_HEAD, "symbol");
    const char **syms;
    size_t ns = symbols(t, &syms);
    for (size_t k = 0; k < ns; k++) {
        struct agg g = agg_where(t, -1, syms[k], -1);
        char key[40];
        size_t j = 0;
        for (const char *c = syms[k]; *c && j + 1 < sizeof key; c++)
            if (*c != '<' && *c != '>' && *c != '&' && *c != '"')
                key[j++] = *c;
        key[j] = '\0';
        html_agg_row(f, key, &g);
    }
    free(syms);
    fputs("</table>\n<h3>Quality by strategy</h3>\n<table>\n", f);
    fprintf(f, AGG_HEAD, "strategy");
    unsigned *st;
    size_t nst = strategies(t, &st);
    for (size_t k = 0; k < nst; k++) {
        struct agg g = agg_where(t, -1, NULL, st[k]);
        char key[16];
        snprintf(key, sizeof key, "%u", st[k]);
        html_agg_row(f, key, &g);
    }
    free(st);
    struct pred_stats ps;
    pred_stats(t, &ps);
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
