/* report_tca.h — the TCA section of the run report: reads <dir>/tca.csv
 * (tca.h writes it) and prints the section of summary.json and of
 * report.html. Output depends only on the file, with fixed float formats,
 * so the same rows give the same bytes. docs/feedback.md ("Reports").
 */
#ifndef QTS_REPORT_TCA_H
#define QTS_REPORT_TCA_H

#include <stdio.h>

#include "qts/qts_err.h"

struct qts_report_tca;

/* *out is NULL (and 0 returned) when the run has no tca.csv. Returns 0,
 * QTS_EPARSE (err has file:line) or QTS_EIO. */
int qts_report_tca_load(const char *dir, struct qts_report_tca **out, struct qts_err *err);
void qts_report_tca_free(struct qts_report_tca *t);
/* Name strategy `id` in the HTML tables (`name` copied; NULL t: no-op). */
void qts_report_tca_name(struct qts_report_tca *t, unsigned id, const char *name);
/* `,\n  "tca": {...}` — written after the last member of summary.json. */
void qts_report_tca_json(FILE *f, const struct qts_report_tca *t);
/* <h2>Transaction costs</h2> and its tables and charts. */
void qts_report_tca_html(FILE *f, const struct qts_report_tca *t);

#endif /* QTS_REPORT_TCA_H */
