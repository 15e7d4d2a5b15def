/* cmd_runs.c — `qts runs`: the runs a store holds, newest first, from its
 * `runs` table (one row per run of the host: written at start, closed at
 * the end; docs/storage.md). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "cli.h"
#include "cmd_store.h"
#include "qts/qts_store.h"

#define RUNS_USAGE                                                                      \
    "usage: qts runs [--store SPEC] [--schema NAME] [--limit N]\n"                      \
    "\n"                                                                                \
    "Lists the runs recorded in the store, newest first: run id, host, mode,\n"         \
    "status (running, done, stopped; a run killed before its end stays running),\n"    \
    "start (UTC wall clock), events, orders accepted, orders rejected, fills, and\n"    \
    "the event time of its first and last event (data time in a replay).\n"            \
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

static int run_runs(int argc, char **argv)
{
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
        printf("%-24s %-10s %-6s %-8s %-20s %9s %7s %8s %7s  %s\n", "RUN", "HOST", "MODE",
               "STATUS", "STARTED", "EVENTS", "ORDERS", "REJECTED", "FILLS", "DATA FROM .. TO");
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

QTS_COMMAND(qts_cmd_runs, "runs", "list the runs recorded in the store", RUNS_USAGE, run_runs);
