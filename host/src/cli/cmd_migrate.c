/* cmd_migrate.c — `qts migrate`: apply the store's numbered migrations. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "log.h"
#include "store_plugin.h"

#define MIGRATE_USAGE                                                                   \
    "usage: qts migrate [--store SPEC] [--host-id ID] [--schema NAME]\n"                  \
    "                   [--timescaledb auto|off|require]\n"                              \
    "\n"                                                                                \
    "Applies the numbered, forward-only migrations of the store (sql/sqlite/ or\n"      \
    "sql/postgres/), each in its own transaction, and records them in\n"                \
    "schema_migrations. Re-running is a no-op. A database written by a newer qts is\n"  \
    "refused. On PostgreSQL the first migrate checks for the timescaledb extension\n"   \
    "(auto: use it when available; off; require: fail without it).\n"                  \
    "\n"                                                                                \
    "  --store SPEC   sqlite:PATH (default sqlite:var/qts.db), postgres:CONNINFO, or\n" \
    "                 postgres (connection string from the secret pg_conninfo:\n"       \
    "                 $QTS_SECRET_PG_CONNINFO)\n"                                         \
    "  --host-id ID   host id written on rows (default qts)\n"                          \
    "  --schema NAME  PostgreSQL: keep every table in this schema (created if needed)\n"

static int run_migrate(int argc, char **argv)
{
    const char *spec = "sqlite:var/qts.db", *host_id = NULL, *tsdb = NULL, *schema = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--store") == 0 && i + 1 < argc)
            spec = argv[++i];
        else if (strcmp(argv[i], "--host-id") == 0 && i + 1 < argc)
            host_id = argv[++i];
        else if (strcmp(argv[i], "--schema") == 0 && i + 1 < argc)
            schema = argv[++i];
        else if (strcmp(argv[i], "--timescaledb") == 0 && i + 1 < argc)
            tsdb = argv[++i];
        else {
            fprintf(stderr, "%s", MIGRATE_USAGE);
            return QTS_EXIT_USAGE;
        }
    }
    const char *kv[8];
    size_t n = 0;
    if (host_id) {
        kv[n++] = "host_id";
        kv[n++] = host_id;
    }
    if (tsdb) {
        kv[n++] = "timescaledb";
        kv[n++] = tsdb;
    }
    if (schema) {
        kv[n++] = "schema";
        kv[n++] = schema;
    }
    kv[n] = NULL;
    struct qts_store_plugin *p;
    struct qts_err e;
    qts_err_clear(&e);
    int rc = qts_store_plugin_open_spec(spec, kv, &p, &e);
    if (rc) {
        fprintf(stderr, "qts migrate: %s\n", e.msg);
        return rc == QTS_ECONFIG ? QTS_EXIT_USAGE : QTS_EXIT_FAILURE;
    }
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

const struct qts_command qts_cmd_migrate = {
    .name = "migrate",
    .summary = "create or upgrade the database schema",
    .usage = MIGRATE_USAGE,
    .run = run_migrate,
};
