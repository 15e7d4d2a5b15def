/* cmd_runs.c — `qts runs`: the run directories under var/runs with their
 * headline figures (summary.json), newest first; with --store, the runs a
 * store holds, from its `runs` table (one row per run of the host: written
 * at start, closed at the end; docs/storage.md). */
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "cmd_store.h"
#include "qts/qts_store.h"
#include "report_chart.h"
#include "report_compare.h"
#include "util.h"

#define RUNS_USAGE                                                                      \
    "usage: qts runs [--runs DIR] [--limit N]\n"                                        \
    "       qts runs --store SPEC [--schema NAME] [--limit N]\n"                        \
    "\n"                                                                                \
    "Without --store: the run directories, newest first, with their headline\n"         \
    "figures from summary.json: run id (* = runs/latest), mode, first and last\n"       \
    "event (data time in a replay), closed trades, fills, win rate, total return,\n"    \
    "max drawdown, Sharpe and equity at the end; a run without summary.json is\n"       \
    "running or was killed.\n"                                                          \
    "  --runs DIR     the runs folder (default $QTS_VAR_DIR/runs, else var/runs)\n"     \
    "\n"                                                                                \
    "With --store: the runs recorded in the store, newest first: run id, host, mode,\n" \
    "status (running, done, stopped; a run killed before its end stays running),\n"     \
    "start (UTC wall clock), events, orders accepted, orders rejected, fills, and\n"    \
    "the event time of its first and last event (data time in a replay).\n"             \
    "\n"                                                                                \
    "  --store SPEC   sqlite:PATH (default sqlite:var/qts.db), postgres:CONNINFO, or\n" \
    "                 postgres (connection string from the secret pg_conninfo)\n"       \
    "  --schema NAME  PostgreSQL: the schema the tables are in\n"                       \
    "  --limit N      at most N runs (default 20; 0 = all)\n"

static void fmt_time(char *out, size_t cap, int64_t ns)
{
    if (ns == QTS_STORE_NULL) {
        snprintf(out, cap, "-");
        return;
    }
    time_t t = (time_t)(ns / 1000000000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void fmt_count(char *out, size_t cap, int64_t v)
{
    if (v == QTS_STORE_NULL)
        snprintf(out, cap, "-");
    else
        snprintf(out, cap, "%" PRId64, v);
}

static int print_run(void *arg, const struct qts_store_record *rec)
{
    size_t *n = arg;
    if (rec->kind != QTS_REC_RUN)
        return 0;
    const struct qts_store_run *r = (const struct qts_store_run *)(const void *)rec;
    char start[32], from[32], to[32], ev[24], ord[24], rej[24], fil[24];
    fmt_time(start, sizeof start, r->started_ns);
    fmt_time(from, sizeof from, r->data_from_ns);
    fmt_time(to, sizeof to, r->data_to_ns);
    fmt_count(ev, sizeof ev, r->events);
    fmt_count(ord, sizeof ord, r->orders);
    fmt_count(rej, sizeof rej, r->rejected);
    fmt_count(fil, sizeof fil, r->fills);
    printf("%-24s %-10s %-6s %-8s %-20s %9s %7s %8s %7s  %s .. %s\n", r->run_id, r->host_id,
           r->mode, r->status, start, ev, ord, rej, fil, from, to);
    (*n)++;
    return 0;
}

static int newest_first(const void *a, const void *b)
{
    return strcmp(*(char *const *)b, *(char *const *)a);
}

static void fig(char *out, size_t cap, double v, int pct)
{
    if (isnan(v))
        snprintf(out, cap, "-");
    else if (pct)
        snprintf(out, cap, "%.2f%%", v * 100);
    else
        snprintf(out, cap, "%.2f", v);
}

/* The run directories under `runs`, newest first (run ids sort by their
 * start time), at most `limit` (0 = all). */
static int list_run_dirs(const char *runs, long limit)
{
    DIR *d = opendir(runs);
    if (!d) {
        fprintf(stderr, "qts runs: %s: %s (no run yet? `qts run` writes runs there)\n", runs,
                strerror(errno));
        return QTS_EXIT_FAILURE;
    }
    char **ids = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.' || strcmp(de->d_name, "latest") == 0)
            continue;
        char path[PATH_MAX + 300];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", runs, de->d_name);
        if (lstat(path, &st) != 0 || !S_ISDIR(st.st_mode))
            continue;
        if (n == cap)
            ids = qts_xrealloc(ids, (cap = cap ? cap * 2 : 32) * sizeof *ids);
        ids[n++] = qts_xstrdup(de->d_name);
    }
    closedir(d);
    qsort(ids, n, sizeof *ids, newest_first);
    char latest[PATH_MAX] = "", link[PATH_MAX + 16];
    snprintf(link, sizeof link, "%s/latest", runs);
    ssize_t ll = readlink(link, latest, sizeof latest - 1);
    latest[ll > 0 ? ll : 0] = '\0';
    const char *latest_id = strrchr(latest, '/') ? strrchr(latest, '/') + 1 : latest;
    printf("%-25s %-6s %-23s %-23s %7s %7s %8s %9s %8s %7s %14s\n", "RUN", "MODE", "FROM", "TO",
           "TRADES", "FILLS", "WIN", "RETURN", "MAX DD", "SHARPE", "EQUITY");
    int rc = QTS_EXIT_OK;
    for (size_t i = 0; i < n; i++) {
        if (limit == 0 || (long)i < limit) {
            char path[PATH_MAX + 300];
            snprintf(path, sizeof path, "%s/%s", runs, ids[i]);
            struct qts_run_headline h;
            struct qts_err e;
            char id[300];
            snprintf(id, sizeof id, "%s%s", ids[i], strcmp(ids[i], latest_id) == 0 ? " *" : "");
            if (qts_report_headline(path, &h, &e) != 0) {
                printf("%-25s %s\n", id, e.msg);
                rc = QTS_EXIT_FAILURE;
            } else if (!h.finished) {
                printf("%-25s %-6s (no summary.json: running, or killed before its end)\n", id,
                       h.mode);
            } else {
                char from[32], to[32], win[16], ret[16], dd[16], sh[16], eq[24];
                qts_report_fmt_time(from, sizeof from, (int64_t)h.start_ns);
                qts_report_fmt_time(to, sizeof to, (int64_t)h.end_ns);
                fig(win, sizeof win, h.win_rate, 1);
                fig(ret, sizeof ret, h.total_return, 1);
                fig(dd, sizeof dd, h.max_drawdown, 1);
                fig(sh, sizeof sh, h.sharpe, 0);
                fig(eq, sizeof eq, h.equity_end, 0);
                printf("%-25s %-6s %-23s %-23s %7.0f %7.0f %8s %9s %8s %7s %14s%s\n", id, h.mode,
                       from, to, isnan(h.trades) ? 0.0 : h.trades, isnan(h.fills) ? 0.0 : h.fills,
                       win, ret, dd, sh, eq, h.interrupted ? "  (stopped early)" : "");
            }
        }
        free(ids[i]);
    }
    free(ids);
    if (n == 0)
        printf("(no runs in %s)\n", runs);
    return rc;
}

static int run_runs(int argc, char **argv)
{
    /* without --store/--schema: the run directories */
    bool from_store = false;
    const char *runs = NULL, *limit_arg = NULL;
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--store") == 0 || strcmp(argv[i], "--schema") == 0)
            from_store = true;
    if (!from_store) {
        for (int i = 1; i < argc; i++) {
            if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
                runs = argv[++i];
            } else if (strcmp(argv[i], "--limit") == 0 && i + 1 < argc) {
                limit_arg = argv[++i];
            } else {
                fprintf(stderr, "qts runs: unexpected argument '%s'\n%s", argv[i], RUNS_USAGE);
                return QTS_EXIT_USAGE;
            }
        }
        char *end = NULL;
        long limit = limit_arg ? strtol(limit_arg, &end, 10) : 20;
        if (limit_arg && (*end || limit < 0)) {
            fprintf(stderr, "qts runs: --limit %s: expected a whole number >= 0\n", limit_arg);
            return QTS_EXIT_USAGE;
        }
        char var_runs[PATH_MAX - 64];
        if (!runs) {
            const char *var = getenv("QTS_VAR_DIR");
            snprintf(var_runs, sizeof var_runs, "%s/runs", var && var[0] ? var : "var");
            runs = var_runs;
        }
        return list_run_dirs(runs, limit);
    }
    struct qts__store_args a; /* extra: --limit */
    int rc = qts__store_args_parse(argc, argv, 1, "--limit", RUNS_USAGE, &a);
    if (rc != 0)
        return rc;
    char *end = NULL;
    long limit = a.extra ? strtol(a.extra, &end, 10) : 20;
    if (a.extra && (*end || limit < 0)) {
        fprintf(stderr, "qts runs: --limit %s: expected a whole number >= 0\n", a.extra);
        return QTS_EXIT_USAGE;
    }
    struct qts_store_plugin *p;
    struct qts_err e;
    rc = qts__store_open("runs", &a, NULL, &p, &e);
    if (rc != 0)
        return rc;
    const struct qts_store_port *port = qts_store_plugin_port(p);
    /* the schema first: an older database gains its runs table (empty) */
    rc = port->ops->migrate(port->self, &e);
    struct qts_store_query q = {.struct_size = sizeof q,
                                .kind = QTS_Q_RUNS,
                                .from_ns = INT64_MIN + 1,
                                .to_ns = INT64_MAX,
                                .limit = (uint32_t)limit};
    size_t n = 0;
    if (rc >= 0) {
        printf("%-24s %-10s %-6s %-8s %-20s %9s %7s %8s %7s  %s\n", "RUN", "HOST", "MODE", "STATUS",
               "STARTED", "EVENTS", "ORDERS", "REJECTED", "FILLS", "DATA FROM .. TO");
        rc = port->ops->query ? port->ops->query(port->self, &q, print_run, &n, &e)
                              : qts_err_set(&e, QTS_EUNSUPPORTED, "the store cannot be queried");
    }
    qts_store_plugin_close(p);
    if (rc < 0) {
        fprintf(stderr, "qts runs: %s\n", e.msg);
        return QTS_EXIT_FAILURE;
    }
    if (n == 0)
        printf("(no runs recorded)\n");
    return QTS_EXIT_OK;
}

QTS_COMMAND(qts_cmd_runs, "runs", "list the runs with their headline figures", RUNS_USAGE,
            run_runs);
