/* report_sub.h — the run's files (report.h) as a bus subscriber
 * (bus_sub.h): at the end of a run summary.json, the CSV files and
 * report.html are written from the portfolio. Registered last, so every
 * other subscriber has finished the run (tca.csv is in place).
 */
#ifndef QTS_REPORT_SUB_H
#define QTS_REPORT_SUB_H

#include "bus_sub.h"

struct qts_portfolio;

struct qts_report_pub {
    const struct qts_portfolio *pf; /* borrowed */
    const char *title;              /* borrowed: the report's title (the host id) */
};

struct qts_bus_sub qts_report_sub(struct qts_report_pub *pub);

#endif /* QTS_REPORT_SUB_H */
