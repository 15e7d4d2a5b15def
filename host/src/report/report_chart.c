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

#define CW 960
#define CH 240
#define ML 80
#define MR 16
#define MT 12
#define MB 28

double qts_chart_x(const struct qts_chart *c, int64_t x)
{
    double span = (double)(c->x1 - c->x0);
    return ML + (span > 0 ? (double)(x - c->x0) / span : 0.5) * (CW - ML - MR);
}

double qts_chart_y(const struct qts_chart *c, double y)
{
    double span = c->y1 - c->y0;
    return MT + (span > 0 ? (c->y1 - y) / span : 0.5) * (CH - MT - MB);
}

void qts_chart_setup(struct qts_chart *c, int64_t x0, int64_t x1, double y0, double y1)
{
    c->x0 = x0;
    c->x1 = x1;
    if (y1 <= y0) { /* flat series: open a band around it */
        double pad = fabs(y0) > 0 ? fabs(y0) * 0.01 : 1.0;
        y0 -= pad;
        y1 += pad;
    }
    c->y0 = y0;
    c->y1 = y1;
}

void qts_chart_begin(const struct qts_chart *c, FILE *f, const char *label, const char *yfmt)
{
    double y0 = c->y0, y1 = c->y1;
    fprintf(f, "<figure><figcaption>");
    qts_report_html_text(f, label);
    fprintf(f,
            "</figcaption>\n<svg viewBox=\"0 0 %d %d\" "
            "width=\"%d\" height=\"%d\">\n",
            CW, CH, CW, CH);
    fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" class=\"frame\"/>\n", ML, MT,
            CW - ML - MR, CH - MT - MB);
    for (int i = 0; i <= 4; i++) {
        double v = y0 + (y1 - y0) * i / 4.0;
        double y = qts_chart_y(c, v);
        char lab[64];
        snprintf(lab, sizeof lab, yfmt, v);
        fprintf(f,
                "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" class=\"grid\"/>"
                "<text x=\"%d\" y=\"%.1f\" class=\"yl\">%s</text>\n",
                ML, y, CW - MR, y, ML - 4, y + 4, lab);
    }
    char t0[48], t1[48];
    qts_report_fmt_time(t0, sizeof t0, c->x0);
    qts_report_fmt_time(t1, sizeof t1, c->x1);
    fprintf(f,
            "<text x=\"%d\" y=\"%d\" class=\"xl\">%s</text>"
            "<text x=\"%d\" y=\"%d\" class=\"xr\">%s</text>\n",
            ML, CH - 8, t0, CW - MR, CH - 8, t1);
}

void qts_chart_end(FILE *f) { fputs("</svg></figure>\n", f); }

void qts_polyline_begin(struct qts_polyline *l, const struct qts_chart *c, const char *cls,
                        bool area, size_t n_total)
{
    memset(l, 0, sizeof *l);
    l->c = *c;
    l->cls = cls;
    l->area = area;
    l->group = n_total > (size_t)(CW - ML - MR) * 4;
    l->out = open_memstream(&l->buf, &l->len);
    if (!l->out)
        qts__panic(__FILE__, __LINE__, "out of memory (chart buffer)");
}

/* The open column's first, lowest, highest and last points, in time order,
 * each once. */
static void column_emit(struct qts_polyline *l)
{
    size_t lo = l->i_idx[1], hi = l->i_idx[2];
    int order[4] = {0, lo < hi ? 1 : 2, lo < hi ? 2 : 1, 3};
    size_t last = (size_t)-1;
    for (int k = 0; k < 4; k++) {
        int p = order[k];
        if (l->i_idx[p] == last)
            continue;
        last = l->i_idx[p];
        fprintf(l->out, "%.1f,%.1f ", qts_chart_x(&l->c, l->i_x[p]), qts_chart_y(&l->c, l->i_y[p]));
    }
    l->open = false;
}

void qts_polyline_add(struct qts_polyline *l, int64_t x, double y)
{
    if (l->idx == 0) {
        fprintf(l->out, "<polyline class=\"%s\" points=\"", l->cls);
        if (l->area)
            fprintf(l->out, "%.1f,%.1f ", qts_chart_x(&l->c, x), qts_chart_y(&l->c, 0));
    }
    int col = (int)(qts_chart_x(&l->c, x) - ML);
    if (l->open && l->group && col == l->col) {
        size_t k = l->idx;
        if (y < l->i_y[1]) {
            l->i_idx[1] = k, l->i_x[1] = x, l->i_y[1] = y;
        }
        if (y > l->i_y[2]) {
            l->i_idx[2] = k, l->i_x[2] = x, l->i_y[2] = y;
        }
        l->i_idx[3] = k, l->i_x[3] = x, l->i_y[3] = y;
    } else {
        if (l->open)
            column_emit(l);
        l->open = true;
        l->col = col;
        for (int p = 0; p < 4; p++) {
            l->i_idx[p] = l->idx;
            l->i_x[p] = x;
            l->i_y[p] = y;
        }
    }
    l->idx++;
    l->last_x = x;
}

void qts_polyline_end(struct qts_polyline *l)
{
    if (l->idx) {
        if (l->open)
            column_emit(l);
        if (l->area)
            fprintf(l->out, "%.1f,%.1f", qts_chart_x(&l->c, l->last_x), qts_chart_y(&l->c, 0));
        fputs("\"/>\n", l->out);
    }
    fclose(l->out);
    l->out = NULL;
}

void qts_polyline_free(struct qts_polyline *l)
{
    if (l->out)
        fclose(l->out);
    free(l->buf);
    memset(l, 0, sizeof *l);
}
