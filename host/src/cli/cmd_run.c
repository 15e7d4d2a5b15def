/* cmd_run.c — `qts run`: load and check everything like `check`, then run
 * the engine (engine.h) and write the run directory. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "cmd_common.h"
#include "settings.h"
#include "engine.h"
#include "log.h"
#include "run_id.h"
#include "qts/qts_types.h"
#include "util.h"

static const char run_usage[] =
    "usage: qts run [-c FILE] [-v]\n"
    "\n"
    "Loads the configuration FILE (default " QTS_DEFAULT_CONFIG "), checks every file it\n"
    "names like `qts check`, then runs it: in replay mode until the data ends, in\n"
    "paper and live mode until SIGINT or SIGTERM. The run's files (summary.json,\n"
    "report.html, fills.csv, equity.csv, ...) go to <paths.var_dir>/runs/<run id>/\n"
    "(run id: start time in UTC and a random suffix); runs/latest links to the newest.\n"
    "The log goes to the run directory's qts.log (or log.file) and to standard error;\n"
    "while the progress bar shows on a terminal, standard error gets warnings and\n"
    "errors only (the first 10 warnings). The checks print one line unless one fails.\n"
    "\n" QTS__CMD_CONFIG_USAGE_OPTIONS
    "  -v, --verbose       the full check summary, and every log line on the terminal\n"
    "\n"
    "exit codes: 0 success, 1 runtime failure (or orders left working at a stop), 2 configuration\n"
    "errors or unusable files, 130/143 a replay stopped by SIGINT/SIGTERM\n";

/* mkdir -p */
static int make_dirs(const char *path)
{
    char buf[1024];
    if (qts_strlcpy(buf, path, sizeof buf) >= sizeof buf)
        return -ENAMETOOLONG;
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST)
            return -errno;
        *p = '/';
    }
    return mkdir(buf, 0755) != 0 && errno != EEXIST ? -errno : 0;
}

/* The one-line form of the check summary (qts__cmd_summary prints the
 * whole of it with -v or when a file is missing or unusable). */
static void preflight_line(const struct qts_settings *s, const char *path)
{
    size_t n_on = 0;
    for (size_t i = 0; i < s->n_strategies; i++)
        n_on += s->strategies[i].enabled;
    printf("checked        %s: %s, %zu feed%s, broker %s, %zu strateg%s, every file usable (-v: "
           "details)\n",
           path, qts_mode_name(s->mode), s->n_feeds, s->n_feeds == 1 ? "" : "s",
           s->broker.plugin ? s->broker.plugin : "-", n_on, n_on == 1 ? "y" : "ies");
}

/* The final summary's per-strategy lines, from the run's strategies.csv
 * (strategy ids are given to the enabled strategies in configuration
 * order, from 1). */
static void strategy_lines(const struct qts_settings *s, const char *run_dir)
{
    char path[1100];
    snprintf(path, sizeof path, "%s/strategies.csv", run_dir);
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    char line[512];
    bool head = true;
    while (fgets(line, sizeof line, f)) {
        unsigned id;
        double realized, unrealized, fees, pnl;
        unsigned long long fills, trades;
        if (head) {
            head = false;
            continue;
        }
        if (sscanf(line, "%u,%lf,%lf,%lf,%lf,%llu,%llu", &id, &realized, &unrealized, &fees, &pnl,
                   &fills, &trades) != 7)
            continue;
        const char *name = "?";
        for (size_t i = 0, k = 0; i < s->n_strategies; i++)
            if (s->strategies[i].enabled && ++k == id)
                name = s->strategies[i].name;
        printf("  %-12s pnl %12.2f   trades %6llu   fills %6llu   fees %.2f\n", name, pnl, trades,
               fills, fees);
    }
    fclose(f);
}

static int run_run(int argc, char **argv)
{
    /* -v / --verbose is this command's own; the rest is the common -c */
    bool verbose = false;
    char *args[64];
    int n_args = 0;
    for (int i = 0; i < argc && n_args < (int)QTS_ARRAY_LEN(args); i++) {
        if (i > 0 && (strcmp(argv[i], "-v") == 0 || strcmp(argv[i], "--verbose") == 0))
            verbose = true;
        else
            args[n_args++] = argv[i];
    }
    argc = n_args;
    argv = args;
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
    char *sum_text = NULL;
    size_t sum_len = 0;
    FILE *sum = verbose ? NULL : open_memstream(&sum_text, &sum_len);
    qts__cmd_summary(sum ? sum : stdout, c, &f);
    if (sum) {
        fclose(sum);
        if (f.bad || f.missing)
            fputs(sum_text, stdout);
        else
            preflight_line(s, path);
        free(sum_text);
    }
    if (f.bad || f.missing) {
        fprintf(stderr, "qts run: %d unusable and %d missing file%s named by %s (see above)\n",
                f.bad, f.missing, f.bad + f.missing == 1 ? "" : "s", path);
        qts_config_unref(c);
        return QTS_EXIT_USAGE;
    }
    fflush(stdout);
    /* The run id is made here so that the log can go to the run's
     * directory from the first line (the engine takes it as given). */
    char run_id[QTS_RUN_ID_MAX], log_path[1200] = "";
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    qts_run_id_make(run_id, (int64_t)now.tv_sec * 1000000000 + now.tv_nsec);
    if (!(s->log_file && *s->log_file)) {
        char dir[1100];
        snprintf(dir, sizeof dir, "%s/runs/%s", s->var_dir, run_id);
        snprintf(log_path, sizeof log_path, "%s/qts.log", dir);
        if (make_dirs(dir) != 0 || qts_log_set_file(log_path) != 0)
            log_path[0] = '\0'; /* the engine says why when it creates the directory */
    }
    bool tty = isatty(STDERR_FILENO) != 0;
    if (tty && !verbose) {
        char where[1300];
        snprintf(where, sizeof where, "%s, or -v", log_path[0] ? log_path : s->log_file);
        qts_log_quiet_terminal(QTS_LOG_WARN, 10, where);
    }
    qts_log_start();
    struct qts_engine_opts opts = {.progress = stderr, .progress_is_tty = tty, .run_name = run_id};
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
    qts_log_quiet_terminal(QTS_LOG_TRACE, 0, NULL);
    qts_log_set_file(NULL);
    if (rc != 0) {
        qts_config_unref(c);
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
    strategy_lines(s, run_dir);
    qts_config_unref(c);
    printf("report         %s/report.html\n", run_dir);
    printf("summary        %s/summary.json\n", run_dir);
    if (log_path[0])
        printf("log            %s\n", log_path);
    if (exit_status > 128)
        printf("interrupted    by signal %d: the files cover the events processed\n",
               exit_status - 128);
    else if (exit_status)
        printf("stop           orders still working at the broker: see %s/stop.json\n", run_dir);
    return exit_status ? exit_status : QTS_EXIT_OK;
}

QTS_COMMAND(qts_cmd_run, "run", "load a configuration and run it", run_usage, run_run);
