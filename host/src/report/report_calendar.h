/* report_calendar.h — daily and monthly returns of a run, from its equity
 * samples (UTC days and months): a period's return is its last equity over
 * the previous period's last equity (the run's first equity for the
 * first period), minus one. Memory: one entry per day the run covers.
 * Internal to the report subsystem.
 */
#ifndef QTS_REPORT_CALENDAR_H
#define QTS_REPORT_CALENDAR_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct qts_cal_day {
    int32_t y, m, d;    /* UTC calendar date */
    double first, last; /* equity at its first and last sample */
    int64_t n_trades;   /* trades closed that day */
};

struct qts_calendar {
    double start;             /* the run's first equity */
    struct qts_cal_day *days; /* owned, in time order */
    size_t n, cap;
};

void qts_calendar_init(struct qts_calendar *c);
/* Equity samples in time order. */
void qts_calendar_point(struct qts_calendar *c, int64_t ts_ns, double equity);
/* A trade closed at ts_ns (counted on its day, if the run covers it). */
void qts_calendar_trade(struct qts_calendar *c, int64_t ts_ns);
/* The monthly table (one row per month) and the daily grid (a row per
 * month, a column per day of the month), as HTML. */
void qts_calendar_html(FILE *f, const struct qts_calendar *c);
void qts_calendar_free(struct qts_calendar *c);

#endif
