/* report_calendar.c — see report_calendar.h. */
#include "report_calendar.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util.h"

void qts_calendar_init(struct qts_calendar *c)
{
    memset(c, 0, sizeof *c);
    c->start = NAN;
}

static void ymd(int64_t ts_ns, int32_t *y, int32_t *m, int32_t *d)
{
    time_t s = (time_t)(ts_ns >= 0 ? ts_ns / 1000000000 : (ts_ns - 999999999) / 1000000000);
    struct tm tm;
    if (!gmtime_r(&s, &tm))
        memset(&tm, 0, sizeof tm);
    *y = tm.tm_year + 1900;
    *m = tm.tm_mon + 1;
    *d = tm.tm_mday;
}

void qts_calendar_point(struct qts_calendar *c, int64_t ts_ns, double equity)
{
    int32_t y, m, d;
    ymd(ts_ns, &y, &m, &d);
    if (isnan(c->start))
        c->start = equity;
    struct qts_cal_day *last = c->n ? &c->days[c->n - 1] : NULL;
    if (!last || last->y != y || last->m != m || last->d != d) {
        if (c->n == c->cap) {
            c->cap = c->cap ? c->cap * 2 : 64;
            c->days = qts_xrealloc(c->days, c->cap * sizeof *c->days);
        }
        last = &c->days[c->n++];
        *last = (struct qts_cal_day){.y = y, .m = m, .d = d, .first = equity};
    }
    last->last = equity;
}

void qts_calendar_trade(struct qts_calendar *c, int64_t ts_ns)
{
    int32_t y, m, d;
    ymd(ts_ns, &y, &m, &d);
    /* trades close in time order, mostly on the last days: search back */
    for (size_t i = c->n; i-- > 0;) {
        struct qts_cal_day *k = &c->days[i];
        if (k->y == y && k->m == m && k->d == d) {
            k->n_trades++;
            return;
        }
        if (k->y < y || (k->y == y && (k->m < m || (k->m == m && k->d < d))))
            return;
    }
}

static void pct_cell(FILE *f, double r)
{
    if (!isfinite(r)) {
        fputs("<td></td>", f);
        return;
    }
    /* green for gains, red for losses; the shade grows to 2 % */
    double a = fmin(fabs(r) / 0.02, 1.0) * 0.45;
    fprintf(f, "<td style=\"background:rgba(%s,%.2f)\">%.3f %%</td>",
            r >= 0 ? "26,150,65" : "215,25,28", a, r * 100);
}

void qts_calendar_html(FILE *f, const struct qts_calendar *c)
{
    fputs("<h2 id=\"monthly\">Monthly returns</h2>\n<table class=\"monthly\">\n"
          "<tr><th>month</th><th>equity at start</th><th>equity at end</th><th>PnL</th>"
          "<th>return</th><th>trades closed</th><th>days</th></tr>\n",
          f);
    double prev = c->start;
    for (size_t i = 0; i < c->n;) {
        size_t j = i;
        int64_t trades = 0;
        while (j < c->n && c->days[j].y == c->days[i].y && c->days[j].m == c->days[i].m)
            trades += c->days[j++].n_trades;
        double end = c->days[j - 1].last;
        fprintf(f, "<tr><td>%04d-%02d</td><td>%.2f</td><td>%.2f</td><td>%.2f</td>", c->days[i].y,
                c->days[i].m, prev, end, end - prev);
        pct_cell(f, prev != 0 ? end / prev - 1 : NAN);
        fprintf(f, "<td>%" PRId64 "</td><td>%zu</td></tr>\n", trades, j - i);
        prev = end;
        i = j;
    }
    fputs("</table>\n", f);

    fputs("<h2 id=\"daily\">Daily returns</h2>\n<table class=\"daily\">\n<tr><th>month</th>", f);
    for (int d = 1; d <= 31; d++)
        fprintf(f, "<th>%d</th>", d);
    fputs("</tr>\n", f);
    prev = c->start;
    for (size_t i = 0; i < c->n;) {
        fprintf(f, "<tr><td>%04d-%02d</td>", c->days[i].y, c->days[i].m);
        int32_t y = c->days[i].y, m = c->days[i].m;
        for (int d = 1; d <= 31; d++) {
            if (i < c->n && c->days[i].y == y && c->days[i].m == m && c->days[i].d == d) {
                double end = c->days[i].last;
                pct_cell(f, prev != 0 ? end / prev - 1 : NAN);
                prev = end;
                i++;
            } else {
                fputs("<td></td>", f);
            }
        }
        fputs("</tr>\n", f);
    }
    fputs("</table>\n", f);
}

void qts_calendar_free(struct qts_calendar *c)
{
    free(c->days);
    memset(c, 0, sizeof *c);
}
