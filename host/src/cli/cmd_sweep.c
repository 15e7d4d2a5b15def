/* cmd_sweep.c — `qts sweep`: one replay per parameter set of a grid, in
 * parallel processes, and a ranked table of their statistics.
 *
 * Each set runs in a child process (fork, no exec: the child loads the
 * configuration with the set's values over the file's, runs the engine and
 * exits with `qts run`'s exit code). Its run directory is an ordinary one,
 * <var_dir>/runs/<sweep id>-<set>[-is|-oos]; its store, admin socket and
 * journal go to a private var_dir under the sweep's directory
 * (v/<set>[i|o]), so runs side by side share no file. The table (sweep/sweep_table.h) is written once
 * every child has ended. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "cmd_common.h"
#include "engine.h"
#include "log.h"
#include "md_common.h"
#include "report_io.h"
#include "run_id.h"
#include "settings.h"
#include "sweep_grid.h"
#include "sweep_table.h"
#include "util.h"

static const char sweep_usage[] =
    "usage: qts sweep [-c FILE] --param STRATEGY.KEY=VALUES [--param ...]\n"
    "                 [--jobs N] [--split DATE] [--rank STAT]\n"
    "\n"
    "Runs the replay of FILE (default " QTS_DEFAULT_CONFIG ") once per parameter set\n"
    "of the grid, in parallel processes, and writes a ranked table of their\n"
    "statistics to <paths.var_dir>/sweeps/<sweep id>/sweep.csv and sweep.html.\n"
    "Each run is an ordinary run directory, <paths.var_dir>/runs/<sweep id>-<set>.\n"
    "\n"
    "options:\n"
    "  -c, --config FILE   configuration file (mode: replay)\n"
    "  --param S.K=VALUES  strategy S's params.K: a list 20,40,80, a range\n"
    "                      START:STOP:STEP (5:30:5), or one value; repeatable,\n"
    "                      the grid is every combination\n"
    "  --jobs N            runs at a time (default: one per core)\n"
    "  --split DATE        each set runs twice: in-sample before DATE, out-of-sample\n"
    "                      from DATE on (every feed must take start and end keys,\n"
    "                      as feed_replay does); ranked by the in-sample statistic\n"
    "  --rank STAT         total_return, cagr, sharpe (default), sortino, max_drawdown\n"
    "                      (lowest first), win_rate, profit_factor, exposure, fees,\n"
    "                      equity_end, trades or fills\n"
    "\n"
    "exit codes: 0 every run succeeded, 1 a run failed (the table says which),\n"
    "2 usage or configuration errors\n";

struct job {
    size_t row, sample; /* rows[row].run[sample] */
    pid_t pid;
};

struct sweep {
    const char *cfg_path; /* borrowed from argv */
    struct qts_sweep_grid grid;
    const char *split; /* borrowed; NULL = no split */
    char **feeds;      /* borrowed from the settings: feed slot names */
    size_t n_feeds;
    char dir[1024];  /* <var_dir>/sweeps/<sweep id> */
    char runs[1024]; /* <var_dir>/runs */
};

/* The values a run of `set` sets over the file's: the set's parameters, its
 * private var_dir and, with a split, each feed's start or end. Owned texts
 * in `own` (freed by the caller), `sets` filled; returns the count. */
static size_t make_sets(const struct sweep *sw, size_t set, int sample, const char *var_dir,
                        struct qts_config_set *sets, char **own)
{
    size_t n = 0, o = 0;
    for (size_t a = 0; a < sw->grid.n_axes; a++)
        sets[n++] =
            (struct qts_config_set){sw->grid.axes[a].path, qts_sweep_grid_value(&sw->grid, set, a)};
    if (var_dir)
        sets[n++] = (struct qts_config_set){"paths.var_dir", var_dir};
    for (size_t i = 0; sw->split && i < sw->n_feeds; i++) {
        char path[256], val[64];
        snprintf(path, sizeof path, "feeds.%s.config.%s", sw->feeds[i],
                 sample == 0 ? "end" : "start");
        /* in-sample ends just before the split's midnight; out-of-sample
         * starts on it (a date alone as `end` would take the whole day in) */
        snprintf(val, sizeof val, sample == 0 ? "%s 00:00:00" : "%s", sw->split);
        own[o++] = qts_xstrdup(path);
        own[o++] = qts_xstrdup(val);
        sets[n++] = (struct qts_config_set){own[o - 2], own[o - 1]};
    }
    own[o] = NULL;
    return n;
}

static void free_own(char **own)
{
    for (size_t i = 0; own[i]; i++)
        free(own[i]);
}

/* The child: one run, its output in `log_path`. Returns the exit code. */
static int child_run(const struct sweep *sw, size_t set, int sample, const char *run_id)
{
    char var_dir[1200], run_dir[1200], log_path[1200];
    /* short: the admin socket's path in it must fit a sockaddr_un */
    snprintf(var_dir, sizeof var_dir, "%s/v/%zu%s", sw->dir, set + 1,
             !sw->split    ? ""
             : sample == 0 ? "i"
                           : "o");
    snprintf(run_dir, sizeof run_dir, "%s/%s", sw->runs, run_id);
    snprintf(log_path, sizeof log_path, "%s/logs/%s.log", sw->dir, run_id);
    int fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return QTS_EXIT_FAILURE;
    dup2(fd, STDOUT_FILENO);
    dup2(fd, STDERR_FILENO);
    close(fd);
    struct qts_err err;
    if (qts_report_mkdir_p(var_dir, &err) != 0 || qts_report_mkdir_p(run_dir, &err) != 0) {
        fprintf(stderr, "qts sweep: %s\n", err.msg);
        return QTS_EXIT_FAILURE;
    }
    struct qts_config_set sets[64 + 2 * 16];
    char *own[2 * 16 + 1];
    size_t n = make_sets(sw, set, sample, var_dir, sets, own);
    struct qts_config *c = qts__cmd_load_checked_with(sw->cfg_path, sets, n);
    free_own(own);
    if (!c)
        return QTS_EXIT_USAGE;
    const struct qts_settings *s = qts_config_settings(c);
    qts_log_set_level(s->log_level);
    qts_log_start();
    struct qts_engine_opts opts = {.run_name = run_id, .run_dir = run_dir};
    struct qts_engine *e = NULL;
    qts_err_clear(&err);
    int rc = qts_engine_new(c, &opts, &e, &err);
    if (rc == 0)
        rc = qts_engine_run(e, &err);
    int status = rc == 0 && e ? qts_engine_exit_status(e) : 0;
    if (e)
        qts_engine_free(e);
    qts_log_stop();
    qts_config_unref(c);
    if (rc != 0) {
        fprintf(stderr, "qts sweep: run %s: %s\n", run_id, err.msg[0] ? err.msg : qts_strerror(rc));
        return rc == QTS_ECONFIG ? QTS_EXIT_USAGE : QTS_EXIT_FAILURE;
    }
    fprintf(stderr, "run %s done: %s/summary.json\n", run_id, run_dir);
    return status;
}

/* Check the configuration with the first set's values (a wrong strategy
 * name or key is said once, here, not by every child). */
static int check_first(struct sweep *sw, struct qts_config **out)
{
    struct qts_config_set sets[64 + 2 * 16];
    char *own[2 * 16 + 1];
    int rc = QTS_EXIT_OK;
    for (int sample = 0; sample < (sw->split ? 2 : 1) && rc == QTS_EXIT_OK; sample++) {
        size_t n = make_sets(sw, 0, sample, NULL, sets, own);
        struct qts_config *c = qts__cmd_load_checked_with(sw->cfg_path, sets, n);
        free_own(own);
        if (!c) {
            rc = QTS_EXIT_USAGE;
            break;
        }
        FILE *null = fopen("/dev/null", "w");
        struct qts__cmd_findings f;
        qts__cmd_summary(null ? null : stdout, c, &f);
        if (null)
            fclose(null);
        if (f.bad || f.missing || qts_config_settings(c)->mode != QTS_MODE_REPLAY) {
            fprintf(stderr,
                    f.bad || f.missing
                        ? "qts sweep: %s names unusable or missing files (see `qts check`)\n"
                        : "qts sweep: %s is not a replay (mode: replay): a sweep replays data\n",
                    sw->cfg_path);
            qts_config_unref(c);
            rc = QTS_EXIT_USAGE;
            break;
        }
        if (sample == 0)
            *out = c;
        else
            qts_config_unref(c);
    }
    return rc;
}

static int run_sweep(int argc, char **argv)
{
    struct sweep sw = {.cfg_path = QTS_DEFAULT_CONFIG};
    long jobs = sysconf(_SC_NPROCESSORS_ONLN);
    const char *rank_name = "sharpe";
    struct qts_err err;
    int rc = QTS_EXIT_OK;
    for (int i = 1; i < argc && rc == QTS_EXIT_OK; i++) {
        const char *a = argv[i];
        bool has = i + 1 < argc;
        if ((strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0) && has) {
            sw.cfg_path = argv[++i];
        } else if (strcmp(a, "--param") == 0 && has) {
            if (qts_sweep_grid_add(&sw.grid, argv[++i], &err) != 0) {
                fprintf(stderr, "qts sweep: %s\n", err.msg);
                rc = QTS_EXIT_USAGE;
            }
        } else if (strcmp(a, "--jobs") == 0 && has) {
            char *end;
            jobs = strtol(argv[++i], &end, 10);
            if (*end || jobs < 1 || jobs > 256) {
                fprintf(stderr, "qts sweep: --jobs %s: expected 1..256\n", argv[i]);
                rc = QTS_EXIT_USAGE;
            }
        } else if (strcmp(a, "--split") == 0 && has) {
            sw.split = argv[++i];
            int64_t t;
            if (strlen(sw.split) != 10 || qts_md_parse_time(sw.split, 10, &t) != 0) {
                fprintf(stderr, "qts sweep: --split %s: expected a date, 2024-01-02\n", sw.split);
                rc = QTS_EXIT_USAGE;
            }
        } else if (strcmp(a, "--rank") == 0 && has) {
            rank_name = argv[++i];
            if (qts_sweep_stat_index(rank_name) < 0) {
                fprintf(stderr, "qts sweep: --rank %s: not a statistic of the table\n%s", rank_name,
                        sweep_usage);
                rc = QTS_EXIT_USAGE;
            }
        } else {
            fprintf(stderr, "qts sweep: unexpected argument '%s'\n%s", a, sweep_usage);
            rc = QTS_EXIT_USAGE;
        }
    }
    if (rc == QTS_EXIT_OK && sw.grid.n_axes == 0) {
        fprintf(stderr, "qts sweep: at least one --param is needed\n%s", sweep_usage);
        rc = QTS_EXIT_USAGE;
    }
    if (rc == QTS_EXIT_OK && sw.grid.n_axes > 64) {
        fprintf(stderr, "qts sweep: at most 64 --param\n");
        rc = QTS_EXIT_USAGE;
    }
    if (rc != QTS_EXIT_OK) {
        qts_sweep_grid_free(&sw.grid);
        return rc;
    }

    /* the feeds' names come from a configuration loaded without the split */
    const char *split = sw.split;
    sw.split = NULL;
    struct qts_config *c = NULL;
    rc = check_first(&sw, &c);
    if (rc == QTS_EXIT_OK) {
        const struct qts_settings *s = qts_config_settings(c);
        sw.n_feeds = s->n_feeds < 16 ? s->n_feeds : 16;
        sw.feeds = qts_xcalloc(sw.n_feeds ? sw.n_feeds : 1, sizeof *sw.feeds);
        for (size_t i = 0; i < sw.n_feeds; i++)
            sw.feeds[i] = s->feeds[i].name;
        sw.split = split;
        if (split) { /* again with the split: every feed must take start/end */
            struct qts_config *c2 = NULL;
            rc = check_first(&sw, &c2);
            if (c2)
                qts_config_unref(c2);
        }
    }
    if (rc != QTS_EXIT_OK) {
        if (c)
            qts_config_unref(c);
        free(sw.feeds);
        qts_sweep_grid_free(&sw.grid);
        return rc;
    }
    const struct qts_settings *s = qts_config_settings(c);
    char sweep_id[32], rid[QTS_RUN_ID_MAX];
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    qts_run_id_make(rid, (int64_t)now.tv_sec * 1000000000 + now.tv_nsec);
    snprintf(sweep_id, sizeof sweep_id, "sweep-%.24s", rid);
    char cwd[512] = "";
    if (s->var_dir[0] != '/' && !getcwd(cwd, sizeof cwd))
        cwd[0] = '\0';
    snprintf(sw.runs, sizeof sw.runs, "%s%s%s/runs", cwd, cwd[0] ? "/" : "", s->var_dir);
    snprintf(sw.dir, sizeof sw.dir, "%s%s%s/sweeps/%s", cwd, cwd[0] ? "/" : "", s->var_dir,
             sweep_id);
    char logs[1100];
    snprintf(logs, sizeof logs, "%s/logs", sw.dir);
    if (qts_report_mkdir_p(logs, &err) != 0 || qts_report_mkdir_p(sw.runs, &err) != 0) {
        fprintf(stderr, "qts sweep: %s\n", err.msg);
        rc = QTS_EXIT_FAILURE;
    }

    size_t samples = sw.split ? 2 : 1, n_rows = sw.grid.n_sets;
    struct qts_sweep_row *rows = qts_xcalloc(n_rows, sizeof *rows);
    struct job *running = qts_xcalloc((size_t)jobs, sizeof *running);
    size_t n_running = 0, next = 0, total = n_rows * samples, done = 0;
    for (size_t r = 0; r < n_rows; r++)
        for (size_t k = 0; k < samples; k++) {
            rows[r].set = r;
            rows[r].run[k].exit_code = -1;
            snprintf(rows[r].run[k].run_id, sizeof rows[r].run[k].run_id, "%s-%03zu%.4s", sweep_id,
                     r + 1,
                     !sw.split ? ""
                     : k == 0  ? "-is"
                               : "-oos");
        }
    if (rc == QTS_EXIT_OK)
        printf("sweep          %s: %zu parameter sets, %zu runs, %ld at a time\n", sweep_id, n_rows,
               total, jobs);
    fflush(NULL);
    while (rc == QTS_EXIT_OK && done < total) {
        while (next < total && n_running < (size_t)jobs) {
            size_t r = next / samples, k = next % samples;
            next++;
            pid_t pid = fork();
            if (pid == 0)
                _exit(child_run(&sw, r, (int)k, rows[r].run[k].run_id));
            if (pid < 0) {
                fprintf(stderr, "qts sweep: fork: %s\n", strerror(errno));
                rows[r].run[k].exit_code = QTS_EXIT_FAILURE;
                done++;
                continue;
            }
            running[n_running++] = (struct job){.row = r, .sample = k, .pid = pid};
        }
        if (n_running == 0)
            continue;
        int wst;
        pid_t pid = waitpid(-1, &wst, 0);
        if (pid < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        for (size_t j = 0; j < n_running; j++) {
            if (running[j].pid != pid)
                continue;
            struct qts_sweep_run *run = &rows[running[j].row].run[running[j].sample];
            run->exit_code = WIFEXITED(wst) ? WEXITSTATUS(wst) : 128 + WTERMSIG(wst);
            char run_dir[1200];
            snprintf(run_dir, sizeof run_dir, "%s/%s", sw.runs, run->run_id);
            if (run->exit_code == 0 && qts_sweep_read_summary(run_dir, run, &err) != 0)
                fprintf(stderr, "qts sweep: %s\n", err.msg);
            done++;
            printf("run %zu/%zu      %s %s\n", done, total, run->run_id,
                   run->exit_code == 0 ? "ok" : "FAILED (see its log)");
            fflush(stdout);
            running[j] = running[--n_running];
            break;
        }
    }

    bool all_ok = rc == QTS_EXIT_OK;
    for (size_t r = 0; r < n_rows; r++)
        for (size_t k = 0; k < samples; k++)
            all_ok &= rows[r].run[k].exit_code == 0 && rows[r].run[k].has_stats;
    if (rc == QTS_EXIT_OK) {
        if (qts_sweep_write(sw.dir, "../../runs", &sw.grid, rows, n_rows,
                            qts_sweep_stat_index(rank_name), sw.split != NULL, sw.split,
                            &err) != 0) {
            fprintf(stderr, "qts sweep: %s\n", err.msg);
            rc = QTS_EXIT_FAILURE;
        } else {
            printf("best           set %zu:", rows[0].set + 1);
            for (size_t a = 0; a < sw.grid.n_axes; a++)
                printf(" %s=%s", sw.grid.axes[a].name,
                       qts_sweep_grid_value(&sw.grid, rows[0].set, a));
            printf("  %s%s %s\n", sw.split ? "in-sample " : "", rank_name,
                   rows[0].run[0].has_stats ? rows[0].run[0].text[qts_sweep_stat_index(rank_name)]
                                            : "-");
            printf("table          %s/sweep.csv\n", sw.dir);
            printf("report         %s/sweep.html\n", sw.dir);
            if (!all_ok) {
                printf("failed         some runs failed: their logs are in %s/logs\n", sw.dir);
                rc = QTS_EXIT_FAILURE;
            }
        }
    }
    free(running);
    free(rows);
    free(sw.feeds);
    qts_config_unref(c);
    qts_sweep_grid_free(&sw.grid);
    return rc;
}

QTS_COMMAND(qts_cmd_sweep, "sweep", "run a replay over a grid of strategy parameters", sweep_usage,
            run_sweep);
