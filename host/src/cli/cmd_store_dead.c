/* cmd_store_dead.c — `qts store dead` and `qts store replay-dead`: the
 * records a store refused during a run (the writer's dead-letter journal,
 * <var_dir>/store.journal.dead), counted, and written again once the cause
 * is fixed (dead_letters.h; docs/storage.md "Refused records"). */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cmd_store.h"
#include "dead_letters.h"

#define DEFAULT_DEAD "var/store.journal.dead"

#define STORE_USAGE                                                                      \
    "usage: qts store dead [--journal PATH]\n"                                           \
    "       qts store replay-dead [--store SPEC] [--host-id ID] [--schema NAME]\n"       \
    "                             [--journal PATH]\n"                                    \
    "\n"                                                                                 \
    "dead         how many records the store refused are kept in the dead-letter\n"      \
    "             journal (exit 0 when none, 1 when some)\n"                             \
    "replay-dead  write them to the store again, in order; what it takes leaves the\n"   \
    "             journal, what it still refuses stays (exit 0 when none is left).\n"    \
    "             Idempotent: a record already in the store is not written twice.\n"     \
    "             Run it with the host stopped.\n"                                       \
    "\n"                                                                                 \
    "  --journal PATH  the dead-letter journal (default " DEFAULT_DEAD ",\n"             \
    "                  that is <paths.var_dir>/store.journal.dead)\n"                    \
    "  --store SPEC    sqlite:PATH (default sqlite:var/qts.db), postgres:CONNINFO, or\n" \
    "                  postgres (connection string from the secret pg_conninfo)\n"       \
    "  --host-id ID    the host_id of the rows (the run's store host_id; default qts)\n" \
    "  --schema NAME   PostgreSQL: the schema the tables are in\n"

static int dead_count(int argc, char **argv)
{
    struct qts__store_args a;
    int rc = qts__store_args_parse(argc, argv, 2, "--journal", STORE_USAGE, &a);
    if (rc != 0)
        return rc;
    const char *path = a.extra ? a.extra : DEFAULT_DEAD;
    struct qts_err e;
    qts_err_clear(&e);
    int64_t n = qts_dead_letters_count(path, &e);
    if (n < 0) {
        fprintf(stderr, "qts store dead: %s\n", e.msg);
        return QTS_EXIT_FAILURE;
    }
    printf("%lld dead letters in %s\n", (long long)n, path);
    return n ? QTS_EXIT_FAILURE : QTS_EXIT_OK;
}

static int replay_dead(int argc, char **argv)
{
    struct qts__store_args a;
    int rc = qts__store_args_parse(argc, argv, 2, "--journal", STORE_USAGE, &a);
    if (rc != 0)
        return rc;
    const char *path = a.extra ? a.extra : DEFAULT_DEAD;
    struct qts_err e;
    qts_err_clear(&e);
    int64_t n = qts_dead_letters_count(path, &e);
    if (n < 0) {
        fprintf(stderr, "qts store replay-dead: %s\n", e.msg);
        return QTS_EXIT_FAILURE;
    }
    if (n == 0) {
        printf("no dead letters in %s\n", path);
        return QTS_EXIT_OK;
    }
    struct qts_store_plugin *p;
    rc = qts__store_open("store replay-dead", &a, NULL, &p, &e);
    if (rc != 0)
        return rc;
    const struct qts_store_port *port = qts_store_plugin_port(p);
    struct qts_dead_letters_stats st;
    rc = port->ops->migrate(port->self, &e); /* the schema the records expect */
    if (rc >= 0)
        rc = qts_dead_letters_replay(port, path, &st, &e);
    qts_store_plugin_close(p);
    if (rc < 0) {
        fprintf(stderr, "qts store replay-dead: %s (the journal is unchanged)\n", e.msg);
        return QTS_EXIT_FAILURE;
    }
    printf("replayed %llu of %llu dead letters from %s; %llu still refused%s\n",
           (unsigned long long)st.written, (unsigned long long)st.found, path,
           (unsigned long long)st.refused, st.refused ? " (kept in the journal)" : "");
    return st.refused ? QTS_EXIT_FAILURE : QTS_EXIT_OK;
}

static int run_store(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "dead") == 0)
        return dead_count(argc, argv);
    if (argc >= 2 && strcmp(argv[1], "replay-dead") == 0)
        return replay_dead(argc, argv);
    fprintf(stderr, "%s", STORE_USAGE);
    return QTS_EXIT_USAGE;
}

QTS_COMMAND(qts_cmd_store, "store", "the store's dead letters: count, replay", STORE_USAGE,
            run_store);
