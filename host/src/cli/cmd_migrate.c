/* cmd_migrate.c — `qts migrate`: apply the store's numbered migrations, and
 * with --from copy an SQLite store's rows into the migrated store. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "cmd_store.h"
#include "log.h"
#include "qts/qts_store.h"
#include "store_writer.h" /* struct qts_store_port */
#include "util.h"

#define MIGRATE_USAGE                                                                    \
    "usage: qts migrate [--store SPEC] [--host-id ID] [--schema NAME]\n"                 \
    "                   [--timescaledb auto|off|require]\n"                              \
    "\n"                                                                                 \
    "Applies the numbered, forward-only migrations of the store (sql/sqlite/ or\n"       \
    "sql/postgres/), each in its own transaction, and records them in\n"                 \
    "schema_migrations. Re-running is a no-op. A database written by a newer qts is\n"   \
    "refused. On PostgreSQL the first migrate checks for the timescaledb extension\n"    \
    "(auto: use it when available; off; require: fail without it).\n"                    \
    "\n"                                                                                 \
    "  --store SPEC   sqlite:PATH (default sqlite:var/qts.db), postgres:CONNINFO, or\n"  \
    "                 postgres (connection string from the secret pg_conninfo:\n"        \
    "                 $QTS_SECRET_PG_CONNINFO)\n"                                        \
    "  --host-id ID   host id written on rows (default qts)\n"                           \
    "  --schema NAME  PostgreSQL: keep every table in this schema (created if needed)\n" \
    "  --from SPEC    then copy every row the host id wrote in the store SPEC (an\n"     \
    "                 SQLite store: sqlite:PATH) into the migrated store, table by\n"    \
    "                 table, and refresh its rollups; rows already there are kept\n"

/* The tables a store's records go to, in the order they are copied. */
static const char *const copy_tables[] = {
    "runs",         "strategies",     "risk_configs",  "config",    "account_history",
    "positions",    "orders",         "order_events",  "fills",     "t_ledger",
    "decision_log", "execution_logs", "feedback_data", "tick_data", "ohlcv_1m",
    "ohlcv_1d"};

#define COPY_BATCH 2000

/* Records of one table on their way to the target, in batches. */
struct copy {
    const struct qts_store_port *dst;
    union qts_store_any *buf; /* owned, COPY_BATCH */
    const struct qts_store_record **recs;
    size_t n;
    uint64_t rows;
    struct qts_err *e;
};

static int copy_flush(struct copy *c)
{
    if (c->n == 0)
        return 0;
    int rc = c->dst->ops->write_batch(c->dst->self, c->recs, c->n, c->e);
    c->rows += rc == 0 ? c->n : 0;
    c->n = 0;
    return rc;
}

static int copy_row(void *arg, const struct qts_store_record *rec)
{
    struct copy *c = arg;
    memcpy(&c->buf[c->n], rec, rec->struct_size);
    c->recs[c->n] = &c->buf[c->n].h;
    return ++c->n == COPY_BATCH ? copy_flush(c) : 0;
}

/* Copy every record table of `src` into `dst` (already migrated). */
static int copy_store(const struct qts_store_port *src, const struct qts_store_port *dst,
                      struct qts_err *e)
{
    if (!src->ops->export_table ||
        src->ops->struct_size <= offsetof(struct qts_store_ops, export_table))
        return qts_err_set(e, QTS_EUNSUPPORTED, "the --from store cannot export its rows");
    struct copy c = {.dst = dst, .e = e};
    c.buf = qts_xcalloc(COPY_BATCH, sizeof *c.buf);
    c.recs = qts_xcalloc(COPY_BATCH, sizeof *c.recs);
    int rc = 0;
    for (size_t i = 0; i < sizeof copy_tables / sizeof copy_tables[0] && rc == 0; i++) {
        c.rows = 0;
        rc = src->ops->export_table(src->self, copy_tables[i], copy_row, &c, e);
        if (rc == 0)
            rc = copy_flush(&c);
        if (rc == 0)
            printf("qts migrate: %-16s %llu rows copied\n", copy_tables[i],
                   (unsigned long long)c.rows);
    }
    free(c.buf);
    free(c.recs);
    if (rc == 0 && dst->ops->refresh_rollups) {
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        rc =
            dst->ops->refresh_rollups(dst->self, (int64_t)now.tv_sec * 1000000000 + now.tv_nsec, e);
    }
    return rc;
}

static int run_migrate(int argc, char **argv)
{
    /* --from SPEC is taken out first: the shared parser knows one extra */
    const char *from = NULL;
    char **args = qts_xcalloc((size_t)argc + 1, sizeof *args);
    int nargs = 0;
    for (int i = 0; i < argc; i++) {
        if (i > 0 && strcmp(argv[i], "--from") == 0 && i + 1 < argc)
            from = argv[++i];
        else
            args[nargs++] = argv[i];
    }
    struct qts__store_args a; /* extra: --timescaledb */
    int rc = qts__store_args_parse(nargs, args, 1, "--timescaledb", MIGRATE_USAGE, &a);
    free(args);
    if (rc != 0)
        return rc;
    struct qts_store_plugin *p;
    struct qts_err e;
    rc = qts__store_open("migrate", &a, "timescaledb", &p, &e);
    if (rc != 0)
        return rc;
    const struct qts_store_port *port = qts_store_plugin_port(p);
    rc = port->ops->migrate(port->self, &e);
    if (rc < 0) {
        qts_store_plugin_close(p);
        fprintf(stderr, "qts migrate: %s\n", e.msg);
        return rc == QTS_ECONFIG ? QTS_EXIT_USAGE : QTS_EXIT_FAILURE;
    }
    if (rc == 0)
        printf("qts migrate: database is up to date\n");
    else
        printf("qts migrate: applied %d migration(s)\n", rc);
    if (from) {
        struct qts__store_args sa = {.spec = from, .host_id = a.host_id};
        struct qts_store_plugin *sp;
        rc = qts__store_open("migrate", &sa, NULL, &sp, &e);
        if (rc != 0) {
            qts_store_plugin_close(p);
            return rc;
        }
        const struct qts_store_port *src = qts_store_plugin_port(sp);
        rc = src->ops->migrate(src->self, &e); /* an older file gets the current schema first */
        if (rc >= 0)
            rc = copy_store(src, port, &e);
        qts_store_plugin_close(sp);
        if (rc < 0) {
            qts_store_plugin_close(p);
            fprintf(stderr, "qts migrate: copying from %s: %s\n", from, e.msg);
            return QTS_EXIT_FAILURE;
        }
        printf("qts migrate: every table copied from %s\n", from);
    }
    qts_store_plugin_close(p);
    return QTS_EXIT_OK;
}

QTS_COMMAND(qts_cmd_migrate, "migrate", "create or upgrade the database schema", MIGRATE_USAGE,
            run_migrate);
