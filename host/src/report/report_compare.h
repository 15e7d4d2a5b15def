/* report_compare.h — two finished runs side by side (`qts report
 * --compare A B`): their headline figures from summary.json (and each
 * strategy's net PnL, matched by name) as a terminal table and as an HTML
 * page with both equity curves overlaid on one time axis (equity.csv, one
 * value per time bucket: report_chart.h). Reads only the run directories;
 * writes only the page (under a .tmp name, then moved into place).
 */
#ifndef QTS_REPORT_COMPARE_H
#define QTS_REPORT_COMPARE_H

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

#endif
