/* report_decide.h — the Decide part of a run's summary.json and report.html
 * (docs/decide.md, "What a user reads"): the stage's counters and savings,
 * the operating state, the pools, the cycles and the capital moves, as the
 * run's decide.json has them, and the decisions per strategy counted from
 * decisions.csv. A run without decide.json is left as it is.
 */
#ifndef QTS_REPORT_DECIDE_H
#define QTS_REPORT_DECIDE_H

#include "qts/qts_err.h"

/* After summary.json and report.html are written in `dir`: adds
 * `"decide": {...}` as the last member of summary.json and a "Decide"
 * section before the end of report.html's body (both rewritten in place
 * through a .tmp). 0, or QTS_EIO/QTS_EPARSE with err set. */
int qts_report_decide(const char *dir, struct qts_err *err);

#endif /* QTS_REPORT_DECIDE_H */
