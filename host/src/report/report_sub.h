/* report_sub.h — the run's files (report.h) as a bus subscriber
 * (bus_sub.h). Built at wiring time, it attaches the run-file writer to the
 * portfolio, so equity.csv, prices.csv, fills.csv and trades.csv grow row
 * by row during the run (as <name>.tmp). At the end of the run the files
 * are moved into place, run.csv and strategies.csv written and summary.json
 * and report.html rendered. Registered last, so every other subscriber has
 * finished the run (tca.csv is in place).
 */
#ifndef QTS_REPORT_SUB_H
#define QTS_REPORT_SUB_H

#include "bus_sub.h"
#include "report.h"

struct qts_portfolio;

struct qts_report_pub {
    struct qts_portfolio *pf; /* borrowed: the writer is its listener */
    const char *title;        /* borrowed: the report's title (the host id) */
    const char *mode;         /* borrowed: "replay", "paper" or "live" (run.csv) */
    const char *run_dir;      /* borrowed: where the run's files go */
    /* the name of strategy `id` (borrowed, valid for the run) or NULL: the
     * CSV files, summary.json and report.html name strategies with it */
    const char *(*strategy_name)(void *ctx, uint32_t id);
    void *name_ctx;             /* borrowed */
    struct qts_run_files files; /* the streamed files (report.h) */
};

/* `pub` borrowed: must outlive the bus and the portfolio's last row. */
struct qts_bus_sub qts_report_sub(struct qts_report_pub *pub);

#endif /* QTS_REPORT_SUB_H */
