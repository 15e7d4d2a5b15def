/* report_compare.h — two finished runs side by side (`qts report
 * --compare A B`): their headline figures from summary.json (and each
 * strategy's net PnL, matched by name) as a terminal table and as an HTML
 * page with both equity curves overlaid on one time axis (equity.csv, one
 * value per time bucket: report_chart.h). Reads only the run directories;
 * writes only the page (under a .tmp name, then moved into place).
 */
#ifndef QTS_REPORT_COMPARE_H
#define QTS_REPORT_COMPARE_H

#include <stdbool.h>
#include <stdio.h>

#include "qts/qts_err.h"

/* dir_a, dir_b: run directories (borrowed). The table goes to `table`
 * (NULL = none), the page to out_html; when out_html is "" it becomes
 * <folder holding B>/compare-<A>-<B>.html (written back, cap bytes).
 * Returns 0, QTS_ENOENT (a run
 * directory or its summary.json/equity.csv is missing), QTS_EPARSE (a
 * malformed file: err names it) or QTS_EIO. */
int qts_report_compare(const char *dir_a, const char *dir_b, char *out_html, size_t cap,
                       FILE *table, struct qts_err *err);

/* The headline figures of one run directory, for `qts runs`: from
 * summary.json (written at the run's end) and run.csv's mode. A figure the
 * run does not define is NAN. */
struct qts_run_headline {
    char mode[16];           /* "replay", "paper", "live"; "-" when run.csv has none */
    bool finished;           /* summary.json exists: the run reached its end or stopped */
    bool interrupted;        /* stopped before the end of its data (SIGTERM, a kill) */
    double start_ns, end_ns; /* first and last event (data time in a replay) */
    double equity_end, total_return, max_drawdown, sharpe, win_rate, trades, fills;
};

/* dir: a run directory (borrowed). Returns 0 (h filled; h->finished false
 * when summary.json is absent: a running or killed run), or QTS_EPARSE /
 * QTS_EIO with err set. */
int qts_report_headline(const char *dir, struct qts_run_headline *h, struct qts_err *err);

#endif
