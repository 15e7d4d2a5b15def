/* report.h — run output: CSV files, summary.json and a self-contained
 * report.html in a run directory.
 *
 * qts_report_write_run() writes the run's data files (run.csv, equity.csv,
 * prices.csv, fills.csv, trades.csv, strategies.csv) from a portfolio, then
 * renders. qts_report_render() reads only those files and writes
 * summary.json and report.html, so `qts report RUN_DIR` and the end of a run
 * produce the same bytes. Nothing in the output depends on the current time
 * or the machine: times are the data's, floats use fixed formats.
 * File formats: docs/performance.md ("Run directory").
 */
#ifndef QTS_REPORT_H
#define QTS_REPORT_H

#include <stdint.h>

#include "perf_stats.h"
#include "portfolio.h"
#include "qts/qts_err.h"

struct qts_report_meta {
    const char *title;           /* borrowed; "" or NULL = "qts run" */
    struct qts_perf_params perf; /* statistics parameters */
    /* borrowed; NULL = the run reached its end. Else why it stopped early
     * ("SIGTERM"): run.csv and summary.json say so. */
    const char *interrupted;
};

void qts_report_meta_default(struct qts_report_meta *m);

/* Write every file of a run into `dir` (created if missing, parents too).
 * `pf` and `meta` borrowed. Returns 0 or QTS_EIO (err says which file). */
int qts_report_write_run(const char *dir, const struct qts_portfolio *pf,
                         const struct qts_report_meta *meta, struct qts_err *err);

/* Re-read the data files of `dir` and write summary.json and report.html.
 * Returns 0, QTS_ENOENT (a file is missing), QTS_EPARSE (a malformed line;
 * err has file:line) or QTS_EIO. */
int qts_report_render(const char *dir, struct qts_err *err);

#endif /* QTS_REPORT_H */
