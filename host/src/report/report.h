/* report.h — run output: CSV files, summary.json and a self-contained
 * report.html in a run directory.
 *
 * The rows that grow with the run (equity.csv, prices.csv, fills.csv,
 * trades.csv) are streamed: qts_run_files_attach() makes the portfolio hand
 * each row to the writer as it is produced, and the row goes to
 * <name>.tmp at once (nothing is kept in memory). qts_run_files_finish()
 * writes run.csv and strategies.csv, moves the streamed files into place
 * and renders. qts_report_render() reads only those files and writes
 * summary.json and report.html, so `qts report RUN_DIR` and the end of a run
 * produce the same bytes. The renderer too holds no series: statistics are
 * computed online (perf_stats.h) and charts keep a bounded downsample. Nothing in the output depends on the current time
 * or the machine: times are the data's, floats use fixed formats.
 * File formats: docs/portfolio.md ("Run directory").
 */
#ifndef QTS_REPORT_H
#define QTS_REPORT_H

#include <stdbool.h>
#include <stdint.h>

#include "bus_sub.h"
#include "perf_stats.h"
#include "portfolio.h"
#include "qts/qts_err.h"

struct qts_report_meta {
    const char *title;           /* borrowed; "" or NULL = "qts run" */
    const char *mode;            /* borrowed; NULL = not written (qts runs shows "-") */
    struct qts_perf_params perf; /* statistics parameters */
    /* borrowed; NULL = the run reached its end. Else why it stopped early
     * ("SIGTERM"): run.csv and summary.json say so. */
    const char *interrupted;
};

void qts_report_meta_default(struct qts_report_meta *m);

#include "report_io.h"

/* A run's streamed files. Embed it (zeroed) in something that outlives the
 * run; fields are private to run_files.c. */
struct qts_run_files {
    char dir[1024];
    struct qts_portfolio *pf; /* borrowed: attached to */
    bool opened;              /* the .tmp files exist (first row or finish) */
    int err_code;             /* first write error, 0 = none */
    char err_msg[256];
    struct qts_wfile equity, prices, fills, trades, decisions;
    /* The name of strategy `id` (borrowed, valid for the run), NULL when
     * unknown; NULL function = ids only. Set after attach. */
    const char *(*strategy_name)(void *ctx, uint32_t id);
    void *name_ctx; /* borrowed */
};

/* Stream `pf`'s rows into `dir` (created, parents too, at the first row).
 * `pf` borrowed: must outlive finish/discard; its listener is replaced. */
void qts_run_files_attach(struct qts_run_files *rf, const char *dir, struct qts_portfolio *pf);

/* The run is over: the held-back equity sample is written, run.csv and
 * strategies.csv too, every file moved into place and the report rendered.
 * Detaches from the portfolio. Returns 0 or QTS_EIO (err says which file;
 * a write error during the run is reported here). */
int qts_run_files_finish(struct qts_run_files *rf, const struct qts_report_meta *meta,
                         struct qts_err *err);

/* One row of decisions.csv (the decision records, bus_sub.h). `d` borrowed
 * for the call. */
void qts_run_files_decision(struct qts_run_files *rf, const struct qts_decision *d);

/* Detach and remove the .tmp files (a run that is not written). */
void qts_run_files_discard(struct qts_run_files *rf);

/* Re-read the data files of `dir` and write summary.json and report.html.
 * Returns 0, QTS_ENOENT (a file is missing), QTS_EPARSE (a malformed line;
 * err has file:line) or QTS_EIO. */
int qts_report_render(const char *dir, struct qts_err *err);

#endif /* QTS_REPORT_H */
