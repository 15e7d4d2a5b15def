/* cmd_report.c — `qts report RUN_DIR`: re-render summary.json and
 * report.html from the data files of a run directory; `qts report
 * --compare A B`: two runs side by side (report_compare.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "report.h"
#include "report_compare.h"
#include "util.h"

#define USAGE                     \
    "usage: qts report RUN_DIR\n" \
    "       qts report --compare A B [--out FILE] [--runs DIR]\n"

/* A run given as a directory, or as a run id under the runs folder:
 * --runs DIR, else $QTS_VAR_DIR/runs, else var/runs. */
static void resolve_run(char *out, size_t cap, const char *arg, const char *runs)
{
    struct stat st;
    if (strchr(arg, '/') || (stat(arg, &st) == 0 && S_ISDIR(st.st_mode)) || !runs) {
        qts_strlcpy(out, arg, cap);
        return;
    }
    snprintf(out, cap, "%s/%s", runs, arg);
}

static int run_compare(int argc, char **argv)
{
    const char *runs = NULL, *run[2] = {NULL, NULL};
    char out[1024] = "";
    int n = 0;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--out") == 0 && i + 1 < argc)
            qts_strlcpy(out, argv[++i], sizeof out);
        else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc)
            runs = argv[++i];
        else if (argv[i][0] != '-' && n < 2)
            run[n++] = argv[i];
        else
            n = 3; /* an unknown option or a third run */
    }
    if (n != 2) {
        fputs(USAGE, stderr);
        return QTS_EXIT_USAGE;
    }
    char var_runs[1024];
    if (!runs) {
        const char *var = getenv("QTS_VAR_DIR");
        snprintf(var_runs, sizeof var_runs, "%s/runs", var && var[0] ? var : "var");
        runs = var_runs;
    }
    char a[1100], b[1100];
    resolve_run(a, sizeof a, run[0], runs);
    resolve_run(b, sizeof b, run[1], runs);
    struct qts_err err;
    qts_err_clear(&err);
    int rc = qts_report_compare(a, b, out, sizeof out, stdout, &err);
    if (rc) {
        fprintf(stderr, "qts report: %s\n", err.msg[0] ? err.msg : qts_strerror(rc));
        return QTS_EXIT_FAILURE;
    }
    printf("%s\n", out);
    return QTS_EXIT_OK;
}

static int run_report(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "--compare") == 0)
        return run_compare(argc, argv);
    if (argc != 2 || argv[1][0] == '-') {
        fputs(USAGE, stderr);
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

QTS_COMMAND(qts_cmd_report, "report", "write a run's report.html; compare two runs",
            USAGE "\n"
                  "qts report RUN_DIR reads run.csv, equity.csv, prices.csv, fills.csv,\n"
                  "trades.csv and strategies.csv from RUN_DIR and writes RUN_DIR/summary.json\n"
                  "and RUN_DIR/report.html (self-contained: no network needed to view it).\n"
                  "The same input always gives the same bytes. Formulas: docs/portfolio.md.\n"
                  "\n"
                  "qts report --compare A B prints the headline figures of two finished runs\n"
                  "side by side (and each strategy's net PnL, matched by name), and writes an\n"
                  "HTML page with the same table and both equity curves on one chart: FILE\n"
                  "with --out, else compare-<A>-<B>.html in the folder holding B. A and B are\n"
                  "run directories or run ids; an id is looked up in DIR (--runs), else in\n"
                  "$QTS_VAR_DIR/runs, else in var/runs.\n",
            run_report);
