/* cmd_migrate.c — `qts migrate`: apply the store's numbered migrations. */
#include <stdio.h>

#include "cli.h"
#include "cmd_store.h"
#include "log.h"

#define MIGRATE_USAGE                                                                   \
    "usage: qts migrate [--store SPEC] [--host-id ID] [--schema NAME]\n"                \
    "                   [--timescaledb auto|off|require]\n"                             \
    "\n"                                                                                \
    "Applies the numbered, forward-only migrations of the store (sql/sqlite/ or\n"      \
    "sql/postgres/), each in its own transaction, and records them in\n"                \
    "schema_migrations. Re-running is a no-op. A database written by a newer qts is\n"  \
    "refused. On PostgreSQL the first migrate checks for the timescaledb extension\n"   \
    "(auto: use it when available; off; require: fail without it).\n"                   \
    "\n"                                                                                \
    "  --store SPEC   sqlite:PATH (default sqlite:var/qts.db), postgres:CONNINFO, or\n" \
    "                 postgres (connection string from the secret pg_conninfo:\n"       \
    "                 $QTS_SECRET_PG_CONNINFO)\n"                                       \
    "  --host-id ID   host id written on rows (default qts)\n"                          \
    "  --schema NAME  PostgreSQL: keep every table in this schema (created if needed)\n"

static int run_migrate(int argc, char **argv)
{
    struct qts__store_args a; /* extra: --timescaledb */
    int rc = qts__store_args_parse(argc, argv, 1, "--timescaledb", MIGRATE_USAGE, &a);
    if (rc != 0)
        return rc;
    struct qts_store_plugin *p;
    struct qts_err e;
    rc = qts__store_open("migrate", &a, "timescaledb", &p, &e);
    if (rc != 0)
        return rc;
    const struct qts_store_port *port = qts_store_plugin_port(p);
    rc = port->ops->migrate(port->self, &e);
    qts_store_plugin_close(p);
    if (rc < 0) {
        fprintf(stderr, "qts migrate: %s\n", e.msg);
        return rc == QTS_ECONFIG ? QTS_EXIT_USAGE : QTS_EXIT_FAILURE;
    }
    if (rc == 0)
        printf("qts migrate: database is up to date\n");
    else
        printf("qts migrate: applied %d migration(s)\n", rc);
    return QTS_EXIT_OK;
}

QTS_COMMAND(qts_cmd_migrate, "migrate", "create or upgrade the database schema", MIGRATE_USAGE,
            run_migrate);
