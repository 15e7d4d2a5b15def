/* report_chart.h — the data behind report.html's charts (drawn in the
 * browser by uPlot, report_page.c), kept bounded whatever the run's length:
 *
 * - a series (equity, drawdown, a price) is cut into QTS_CHART_BUCKETS
 *   equal time buckets over the run; a bucket keeps its first, lowest,
 *   highest and last point in time order (spikes stay visible), so a
 *   series costs at most 4 x QTS_CHART_BUCKETS points;
 * - a grid (per-strategy PnL, overlaid) keeps one value per bucket and
 *   series: the last one, on a shared time axis;
 * - both are written as compact JSON arrays: times in seconds (ms
 *   precision), values with 9 significant digits, null for no value.
 * The x range must be known before the first point (the renderer reads a
 * file twice). Also the text formatting shared by the report's pages.
 * Internal to the report subsystem.
 */
#ifndef QTS_REPORT_CHART_H
#define QTS_REPORT_CHART_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define QTS_CHART_BUCKETS 1000

/* The bucket of time x in [x0, x1] (0 .. QTS_CHART_BUCKETS-1). */
int qts_chart_bucket(int64_t x0, int64_t x1, int64_t x);

struct qts_series {
    int64_t x0, x1;
    bool group; /* more than 4 points per bucket: decimate */
    int64_t *x; /* owned: kept points */
    double *y;
    size_t n, cap;
    size_t idx; /* points added */
    /* the open bucket: its first, lowest, highest and last points */
    bool open;
    int bucket;
    size_t i_idx[4];
    int64_t i_x[4];
    double i_y[4];
};

/* n_total: how many points will be added (decides the decimation). */
void qts_series_begin(struct qts_series *s, int64_t x0, int64_t x1, size_t n_total);
void qts_series_add(struct qts_series *s, int64_t x, double y);
void qts_series_end(struct qts_series *s);
/* {"x":[...],"y":[...]} */
void qts_series_json(FILE *f, const struct qts_series *s);
void qts_series_free(struct qts_series *s);

/* n series on one time axis, one value per bucket. */
struct qts_grid {
    int64_t x0, x1;
    size_t n_series;
    int64_t *x;  /* owned: per bucket, the last time seen (INT64_MIN = none) */
    double *val; /* owned: n_series x QTS_CHART_BUCKETS, NAN = none */
};

void qts_grid_init(struct qts_grid *g, int64_t x0, int64_t x1, size_t n_series);
void qts_grid_set(struct qts_grid *g, size_t series, int64_t x, double v);
/* "x":[...],"y":[[...],...] (the fields, no braces: the caller's object
 * goes on); buckets with no value at all are left out */
void qts_grid_json_fields(FILE *f, const struct qts_grid *g);
void qts_grid_free(struct qts_grid *g);

/* JSON numbers: a time in seconds with ms, a value (null when not finite). */
void qts_chart_json_time(FILE *f, int64_t ts_ns);
void qts_chart_json_num(FILE *f, double v);

/* Formatting shared with the report pages. */
void qts_report_fmt_time(char *buf, size_t cap, int64_t ts_ns);
void qts_report_fmt_duration(char *buf, size_t cap, int64_t ns);
void qts_report_html_text(FILE *f, const char *s);

#endif /* QTS_REPORT_CHART_H */
