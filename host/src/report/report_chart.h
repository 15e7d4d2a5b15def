/* report_chart.h — the SVG charts of report.html, drawn from series that
 * are read once and never held: a polyline keeps, per pixel column, the
 * first, lowest, highest and last point in time order (so spikes stay
 * visible) once the series has more than 4 points per column, so a chart
 * costs at most 4 x 864 points whatever the run's length. The y range must
 * be known before the first point (the renderer reads a series twice).
 * Internal to the report subsystem.
 */
#ifndef QTS_REPORT_CHART_H
#define QTS_REPORT_CHART_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Plot area: x from the data's time range, y from the value range. */
struct qts_chart {
    int64_t x0, x1;
    double y0, y1;
};

/* Set the ranges; a flat y range opens a band around it. */
void qts_chart_setup(struct qts_chart *c, int64_t x0, int64_t x1, double y0, double y1);
/* <figure>, caption, frame, grid and axis labels (yfmt: printf of a double). */
void qts_chart_begin(const struct qts_chart *c, FILE *f, const char *label, const char *yfmt);
void qts_chart_end(FILE *f);
/* Pixel coordinates of a point. */
double qts_chart_x(const struct qts_chart *c, int64_t x);
double qts_chart_y(const struct qts_chart *c, double y);

/* A polyline built point by point into a memory buffer (bounded). */
struct qts_polyline {
    struct qts_chart c;
    const char *cls; /* borrowed literal: CSS class */
    bool area;       /* closed down to y = 0 at both ends */
    bool group;      /* more points than 4 per column: downsample */
    FILE *out;       /* owned memory stream */
    char *buf;       /* owned: the element's text once ended */
    size_t len;
    size_t idx; /* points added */
    int64_t last_x;
    /* the open pixel column: its first, lowest, highest and last points */
    bool open;
    int col;
    size_t i_idx[4];
    int64_t i_x[4];
    double i_y[4];
};

/* n_total: how many points will be added (decides the downsample). */
void qts_polyline_begin(struct qts_polyline *l, const struct qts_chart *c, const char *cls,
                        bool area, size_t n_total);
void qts_polyline_add(struct qts_polyline *l, int64_t x, double y);
/* Finish the element: l->buf/l->len ("" when no point was added). */
void qts_polyline_end(struct qts_polyline *l);
void qts_polyline_free(struct qts_polyline *l);

/* Formatting shared with the report pages. */
void qts_report_fmt_time(char *buf, size_t cap, int64_t ts_ns);
void qts_report_fmt_duration(char *buf, size_t cap, int64_t ns);
void qts_report_html_text(FILE *f, const char *s);

#endif /* QTS_REPORT_CHART_H */
