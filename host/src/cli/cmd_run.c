/* cmd_run.c — `qts run`: load and check everything like `check`, then run
 * the engine (engine.h) and write the run directory. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cmd_common.h"
#include "settings.h"
#include "engine.h"
#include "log.h"
#include "qts/qts_types.h"
#include "util.h"

static const char run_usage[] =
    "usage: qts run [-c FILE]\n"
    "\n"
    "Loads the configuration FILE (default " QTS_DEFAULT_CONFIG "), checks every file it\n"
    "names like `qts check`, then runs it: in replay mode until the data ends, in\n"
    "paper and live mode until SIGINT or SIGTERM. The run's files (summary.json,\n"
    "report.html, fills.csv, equity.csv, ...) go to <paths.var_dir>/runs/<run id>/\n"
    "(run id: start time in UTC and a random suffix); runs/latest links to the newest.\n"
    "\n" QTS__CMD_CONFIG_USAGE_OPTIONS "\n"
    "exit codes: 0 success, 1 runtime failure (or orders left working at a stop), 2 configuration\n"
    "errors or unusable files, 130/143 a replay stopped by SIGINT/SIGTERM\n";

static int run_run(int argc, char **argv)
{
    const char *path;
    struct qts_config *c;
    int rc = qts__cmd_load_args(argc, argv, run_usage, &path, &c);
    if (rc != 0)
        return rc;
    const struct qts_settings *s = qts_config_settings(c);
    qts_log_set_level(s->log_level);
    if (s->log_file && *s->log_file)
        qts_log_set_file(s->log_file);
    struct qts__cmd_findings f;
    qts__cmd_summary(stdout, c, &f);
    if (f.bad || f.missing) {
        fprintf(stderr, "qts run: %d unusable and %d missing file%s named by %s (see above)\n",
                f.bad, f.missing, f.bad + f.missing == 1 ? "" : "s", path);
        qts_config_unref(c);
        return QTS_EXIT_USAGE;
    }
    fflush(stdout);
    qts_log_start();
    struct qts_engine_opts opts = {.progress = stderr,
                                   .progress_is_tty = isatty(STDERR_FILENO) != 0};
    struct qts_engine *e = NULL;
    struct qts_err err;
    qts_err_clear(&err);
    rc = qts_engine_new(c, &opts, &e, &err);
    if (rc != 0) {
        qts_log_stop();
        fprintf(stderr, "qts run: %s\n", err.msg[0] ? err.msg : qts_strerror(rc));
        qts_config_unref(c);
        return rc == QTS_ECONFIG ? QTS_EXIT_USAGE : QTS_EXIT_FAILURE;
    }
    rc = qts_engine_run(e, &err);
    struct qts_engine_stats st;
    qts_engine_get_stats(e, &st);
    int exit_status = rc == 0 ? qts_engine_exit_status(e) : 0; /* 130/143: interrupted */
    char run_dir[1024];
    snprintf(run_dir, sizeof run_dir, "%s", qts_engine_run_dir(e));
    qts_engine_free(e);
    qts_log_stop();
    qts_config_unref(c);
    if (rc != 0) {
        fprintf(stderr, "qts run: %s\n", err.msg[0] ? err.msg : qts_strerror(rc));
        return QTS_EXIT_FAILURE;
    }
    double secs = (double)st.wall_ns / 1e9;
    char eq[64], init[64];
    qts_format_fixed(eq, sizeof eq, st.equity, QTS_CASH_EXP);
    qts_format_fixed(init, sizeof init, st.initial_cash, QTS_CASH_EXP);
    printf("run            %" PRIu64 " events (%" PRIu64 " trades, %" PRIu64 " quotes, %" PRIu64
           " book updates, %" PRIu64 " bars) in %.2f s, %.2f M events/s\n",
           st.events, st.trades, st.quotes, st.books, st.bars, secs,
           secs > 0 ? (double)st.events / secs / 1e6 : 0.0);
    printf("orders         %" PRIu64 " asked, %" PRIu64 " rejected, %" PRIu64 " fills\n",
           st.intents, st.rejected, st.fills);
    printf("equity         %s (started with %s)\n", eq, init);
    printf("report         %s/report.html\n", run_dir);
    printf("summary        %s/summary.json\n", run_dir);
    if (exit_status > 128)
        printf("interrupted    by signal %d: the files cover the events processed\n",
               exit_status - 128);
    else if (exit_status)
        printf("stop           orders still working at the broker: see %s/stop.json\n", run_dir);
    return exit_status ? exit_status : QTS_EXIT_OK;
}

QTS_COMMAND(qts_cmd_run, "run", "load a configuration and run it", run_usage, run_run);
