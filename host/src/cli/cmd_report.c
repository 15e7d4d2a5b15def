/* cmd_report.c — `qts report RUN_DIR`: re-render summary.json and
 * report.html from the data files of a run directory. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "report.h"

static int run_report(int argc, char **argv)
{
    if (argc != 2 || argv[1][0] == '-') {
        fprintf(stderr, "usage: qts report RUN_DIR\n");
        return QTS_EXIT_USAGE;
    }
    struct qts_err err;
    qts_err_clear(&err);
    int rc = qts_report_render(argv[1], &err);
    if (rc) {
        fprintf(stderr, "qts report: %s\n", err.msg[0] ? err.msg : qts_strerror(rc));
        return QTS_EXIT_FAILURE;
    }
    printf("%s/report.html\n", argv[1]);
    return QTS_EXIT_OK;
}

QTS_COMMAND(qts_cmd_report, "report", "write report.html and summary.json of a run directory",
            "usage: qts report RUN_DIR\n\n"
            "Reads run.csv, equity.csv, prices.csv, fills.csv, trades.csv and\n"
            "strategies.csv from RUN_DIR and writes RUN_DIR/summary.json and\n"
            "RUN_DIR/report.html (self-contained: no network needed to view it).\n"
            "The same input always gives the same bytes. Formulas: docs/portfolio.md.\n",
            run_report);
