/* cmd_import.c — `qts import sheets DIR`: load the original system's sheet
 * exports into the store, all-or-nothing (sheet_import.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "clock.h"
#include "log.h"
#include "cmd_store.h"
#include "sheet_import.h"
#include "util.h"

#define IMPORT_USAGE                                                                     \
    "usage: qts import sheets DIR [--store SPEC] [--host-id ID] [--schema NAME]\n"       \
    "                             [--strategy-id ID]\n"                                  \
    "\n"                                                                                 \
    "Imports CSV exports of the original sheets found in DIR: Position.csv,\n"           \
    "T_Ledger.csv, History.csv (daily account equity), Strategy.csv (param_name,\n"      \
    "value, description), Config_Local.csv, Config_Scalp.csv, Config_Swing.csv.\n"       \
    "Columns are matched by header name. Every row is checked first; if any row is\n"    \
    "bad, each problem is printed as file:line: column: why and nothing is written.\n"   \
    "Otherwise everything is written in one transaction. Re-running the same files\n"    \
    "changes nothing (ledger rows are keyed by a hash of the row; the other tables\n"    \
    "are upserts by key). The schema is migrated first if needed.\n"                     \
    "\n"                                                                                 \
    "  --store SPEC       sqlite:PATH (default sqlite:var/qts.db), postgres:CONNINFO,\n" \
    "                     or postgres (secret pg_conninfo: $QTS_SECRET_PG_CONNINFO)\n"   \
    "  --host-id ID       host id written on rows (default qts)\n"                       \
    "  --schema NAME      PostgreSQL: the schema holding the tables\n"                   \
    "  --strategy-id ID   strategy of Strategy.csv rows without a strategy_id column\n"  \
    "                     (default DEFAULT)\n"

static int run_import(int argc, char **argv)
{
    if (argc < 3 || strcmp(argv[1], "sheets") != 0) {
        fprintf(stderr, "%s", IMPORT_USAGE);
        return QTS_EXIT_USAGE;
    }
    const char *dir = argv[2];
    struct qts__store_args a; /* extra: --strategy-id */
    int rc = qts__store_args_parse(argc, argv, 3, "--strategy-id", IMPORT_USAGE, &a);
    if (rc != 0)
        return rc;
    int64_t now = qts_wall_ns();
    struct qts_sheet_import imp;
    rc = qts_sheet_import_load(dir, a.extra, now, &imp);
    if (rc == QTS_ENOENT) {
        fprintf(stderr, "qts import: no sheet export (Position.csv, T_Ledger.csv, ...) in %s\n",
                dir);
        qts_sheet_import_free(&imp);
        return QTS_EXIT_USAGE;
    }
    if (imp.n_errors) {
        for (size_t i = 0; i < imp.n_errors; i++)
            fprintf(stderr, "%s\n", imp.errors[i]);
        fprintf(stderr, "qts import: %zu bad row(s); nothing imported\n", imp.n_errors);
        qts_sheet_import_free(&imp);
        return QTS_EXIT_FAILURE;
    }
    struct qts_store_plugin *p;
    struct qts_err e;
    rc = qts__store_open("import", &a, NULL, &p, &e); /* strategy_id is not a store option */
    if (rc != 0) {
        qts_sheet_import_free(&imp);
        return rc;
    }
    const struct qts_store_port *port = qts_store_plugin_port(p);
    rc = port->ops->migrate(port->self, &e);
    if (rc >= 0 && imp.n > 0) {
        /* one batch = one transaction: all or nothing */
        const struct qts_store_record **v = qts_xmalloc(imp.n * sizeof *v);
        for (size_t i = 0; i < imp.n; i++) {
            imp.recs[i].h.rec_id = (uint64_t)now + i;
            v[i] = &imp.recs[i].h;
        }
        rc = port->ops->write_batch(port->self, v, imp.n, &e);
        free(v);
    }
    qts_store_plugin_close(p);
    if (rc < 0) {
        fprintf(stderr, "qts import: %s; nothing imported\n", e.msg);
        qts_sheet_import_free(&imp);
        return QTS_EXIT_FAILURE;
    }
    for (size_t i = 0; i < imp.n_files; i++)
        printf("qts import: %-17s %zu row(s)\n", imp.files[i].file, imp.files[i].rows);
    qts_sheet_import_free(&imp);
    return QTS_EXIT_OK;
}

QTS_COMMAND(qts_cmd_import, "import", "import the original system's sheet exports (CSV)",
            IMPORT_USAGE, run_import);
