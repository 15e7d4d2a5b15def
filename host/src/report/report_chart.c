/* report_chart.c — see report_chart.h. */
#include "report_chart.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util.h"

void qts_report_fmt_time(char *buf, size_t cap, int64_t ts_ns)
{
    time_t s = (time_t)(ts_ns >= 0 ? ts_ns / 1000000000 : (ts_ns - 999999999) / 1000000000);
    struct tm tm;
    if (!gmtime_r(&s, &tm)) {
        snprintf(buf, cap, "%" PRId64, ts_ns);
        return;
    }
    strftime(buf, cap, "%Y-%m-%d %H:%M:%S UTC", &tm);
}

void qts_report_fmt_duration(char *buf, size_t cap, int64_t ns)
{
    int64_t s = ns / 1000000000;
    int64_t ms = (ns / 1000000) % 1000;
    snprintf(buf, cap, "%" PRId64 "d %02" PRId64 ":%02" PRId64 ":%02" PRId64 ".%03" PRId64,
             s / 86400, s / 3600 % 24, s / 60 % 60, s % 60, ms);
}

void qts_report_html_text(FILE *f, const char *s)
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

int qts_chart_bucket(int64_t x0, int64_t x1, int64_t x)
{
    if (x1 <= x0 || x <= x0)
        return 0;
    if (x >= x1)
        return QTS_CHART_BUCKETS - 1;
    /* in double: (x - x0) * BUCKETS could overflow int64 over long spans */
    int b = (int)((double)(x - x0) / (double)(x1 - x0) * QTS_CHART_BUCKETS);
    return b < 0 ? 0 : b >= QTS_CHART_BUCKETS ? QTS_CHART_BUCKETS - 1 : b;
}

void qts_chart_json_time(FILE *f, int64_t ts_ns)
{
    /* seconds with milliseconds, in integers (no rounding surprises) */
    int64_t ms = ts_ns >= 0 ? ts_ns / 1000000 : -((-ts_ns + 999999) / 1000000);
    int64_t s = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
    int64_t r = ms - s * 1000;
    if (r)
        fprintf(f, "%" PRId64 ".%03" PRId64, s, r);
    else
        fprintf(f, "%" PRId64, s);
}

void qts_chart_json_num(FILE *f, double v)
{
    if (!isfinite(v))
        fputs("null", f);
    else
        fprintf(f, "%.9g", v);
}

static void series_push(struct qts_series *s, int64_t x, double y)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 256;
        s->x = qts_xrealloc(s->x, s->cap * sizeof *s->x);
        s->y = qts_xrealloc(s->y, s->cap * sizeof *s->y);
    }
    s->x[s->n] = x;
    s->y[s->n++] = y;
}

void qts_series_begin(struct qts_series *s, int64_t x0, int64_t x1, size_t n_total)
{
    memset(s, 0, sizeof *s);
    s->x0 = x0;
    s->x1 = x1;
    s->group = n_total > (size_t)QTS_CHART_BUCKETS * 4;
}

/* The open bucket's first, lowest, highest and last points, in time order,
 * each once. */
static void bucket_emit(struct qts_series *s)
{
    size_t lo = s->i_idx[1], hi = s->i_idx[2];
    int order[4] = {0, lo < hi ? 1 : 2, lo < hi ? 2 : 1, 3};
    size_t last = (size_t)-1;
    for (int k = 0; k < 4; k++) {
        int p = order[k];
        if (s->i_idx[p] == last)
            continue;
        last = s->i_idx[p];
        series_push(s, s->i_x[p], s->i_y[p]);
    }
    s->open = false;
}

void qts_series_add(struct qts_series *s, int64_t x, double y)
{
    if (!s->group) {
        series_push(s, x, y);
        s->idx++;
        return;
    }
    int b = qts_chart_bucket(s->x0, s->x1, x);
    if (s->open && b == s->bucket) {
        size_t k = s->idx;
        if (y < s->i_y[1]) {
            s->i_idx[1] = k, s->i_x[1] = x, s->i_y[1] = y;
        }
        if (y > s->i_y[2]) {
            s->i_idx[2] = k, s->i_x[2] = x, s->i_y[2] = y;
        }
        s->i_idx[3] = k, s->i_x[3] = x, s->i_y[3] = y;
    } else {
        if (s->open)
            bucket_emit(s);
        s->open = true;
        s->bucket = b;
        for (int p = 0; p < 4; p++) {
            s->i_idx[p] = s->idx;
            s->i_x[p] = x;
            s->i_y[p] = y;
        }
    }
    s->idx++;
}

void qts_series_end(struct qts_series *s)
{
    if (s->open)
        bucket_emit(s);
}

void qts_series_json(FILE *f, const struct qts_series *s)
{
    fputs("{\"x\":[", f);
    for (size_t i = 0; i < s->n; i++) {
        if (i)
            fputc(',', f);
        qts_chart_json_time(f, s->x[i]);
    }
    fputs("],\"y\":[", f);
    for (size_t i = 0; i < s->n; i++) {
        if (i)
            fputc(',', f);
        qts_chart_json_num(f, s->y[i]);
    }
    fputs("]}", f);
}

void qts_series_free(struct qts_series *s)
{
    qts_free_all(s->x, s->y);
    memset(s, 0, sizeof *s);
}

void qts_grid_init(struct qts_grid *g, int64_t x0, int64_t x1, size_t n_series)
{
    memset(g, 0, sizeof *g);
    g->x0 = x0;
    g->x1 = x1;
    g->n_series = n_series;
    g->x = qts_xmalloc(QTS_CHART_BUCKETS * sizeof *g->x);
    for (size_t b = 0; b < QTS_CHART_BUCKETS; b++)
        g->x[b] = INT64_MIN;
    size_t n = (n_series ? n_series : 1) * QTS_CHART_BUCKETS;
    g->val = qts_xmalloc(n * sizeof *g->val);
    for (size_t i = 0; i < n; i++)
        g->val[i] = NAN;
}

void qts_grid_set(struct qts_grid *g, size_t series, int64_t x, double v)
{
    if (series >= g->n_series)
        return;
    int b = qts_chart_bucket(g->x0, g->x1, x);
    if (x > g->x[b])
        g->x[b] = x;
    g->val[series * QTS_CHART_BUCKETS + (size_t)b] = v;
}

void qts_grid_json_fields(FILE *f, const struct qts_grid *g)
{
    fputs("\"x\":[", f);
    bool first = true;
    for (size_t b = 0; b < QTS_CHART_BUCKETS; b++) {
        if (g->x[b] == INT64_MIN)
            continue;
        if (!first)
            fputc(',', f);
        first = false;
        qts_chart_json_time(f, g->x[b]);
    }
    fputs("],\"y\":[", f);
    for (size_t s = 0; s < g->n_series; s++) {
        fputs(s ? ",[" : "[", f);
        first = true;
        for (size_t b = 0; b < QTS_CHART_BUCKETS; b++) {
            if (g->x[b] == INT64_MIN)
                continue;
            if (!first)
                fputc(',', f);
            first = false;
            qts_chart_json_num(f, g->val[s * QTS_CHART_BUCKETS + b]);
        }
        fputc(']', f);
    }
    fputc(']', f);
}

void qts_grid_free(struct qts_grid *g)
{
    qts_free_all(g->x, g->val);
    memset(g, 0, sizeof *g);
}
