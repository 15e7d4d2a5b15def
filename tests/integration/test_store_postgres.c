/* test_store_postgres.c — the real store_postgres.so against the private
 * PostgreSQL 15 of scripts/with-services: migrations (from empty, re-run,
 * newer version refused, TimescaleDB detection falling back), every table's
 * round trip, warm start, rollups against a direct GROUP BY, partitions
 * created ahead and dropped by retention with a given "now", and the
 * database stopped in the middle of a replay: every record exactly once. */
#include "test_support.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <fcntl.h>

#include "cli.h"
#include "log.h"
#include "store_cases.h"
#include "store_plugin.h"
#include "store_writer.h"
#include "util.h"

#define NS INT64_C(1000000000)

struct fx {
    struct store_case_ctx c; /* first: the shared store_test_* cases take the fixture */
    PGconn *db;
};

static const char *conninfo(void) { return getenv("QTS_PG_CONNINFO"); }

/* Every table of this run lives in its own schema, dropped at the end, so
 * the test never touches anything else in the database it is pointed at. */
static char g_schema[64];

/* (Re)connects *db (owned; finished first if set) in UTC with this run's
 * schema first on the search path. */
static void pq_reconnect(PGconn **db)
{
    if (*db)
        PQfinish(*db);
    *db = PQconnectdb(conninfo());
    char set[160];
    snprintf(set, sizeof set,
             "SET TIME ZONE 'UTC'; SET client_min_messages = warning; "
             "SET search_path TO %s, public",
             g_schema);
    PQclear(PQexec(*db, set));
}

static int pq_scalar(void *arg, const char *sql, char *out, size_t cap)
{
    PGconn **db = arg;
    out[0] = '\0';
    if (!*db || PQstatus(*db) != CONNECTION_OK)
        pq_reconnect(db);
    PGresult *r = PQexec(*db, sql);
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK && PQstatus(*db) != CONNECTION_OK) {
        /* the server was restarted (outage test): reconnect once */
        PQclear(r);
        pq_reconnect(db);
        r = PQexec(*db, sql);
        st = PQresultStatus(r);
    }
    int rc = 0;
    if (st == PGRES_TUPLES_OK) {
        if (PQntuples(r) > 0 && !PQgetisnull(r, 0, 0))
            qts_strlcpy(out, PQgetvalue(r, 0, 0), cap);
    } else if (st != PGRES_COMMAND_OK) {
        fprintf(stderr, "postgres: %s: %s", sql, PQresultErrorMessage(r));
        rc = -1;
    }
    PQclear(r);
    return rc;
}

static struct qts_store_plugin *open_host(const struct store_case_ctx *c, const char *host_id,
                                          const char *extra_key, const char *extra_val)
{
    (void)c;
    const char *kv[] = {"conninfo", conninfo(), "host_id", host_id, "schema",
                        g_schema,   extra_key,  extra_val, NULL};
    return sc_plugin_open("store_postgres", kv);
}

static int setup_plain(void **state)
{
    struct fx *f = qts_xcalloc(1, sizeof *f);
    f->c.tmpdir = qts_test_tmpdir();
    f->c.open_host = open_host;
    f->c.scalar = pq_scalar;
    f->c.db = &f->db;
    char buf[8];
    /* a fresh schema per test */
    char sql[256];
    snprintf(sql, sizeof sql, "DROP SCHEMA IF EXISTS %s CASCADE; CREATE SCHEMA %s", g_schema,
             g_schema);
    if (pq_scalar(&f->db, sql, buf, sizeof buf) != 0)
        fail_msg("cannot reset the schema");
    sc_reopen(&f->c, NULL, NULL);
    f->c.sql_ohlcv_1m_mismatch =
        "SELECT count(*) FROM (SELECT symbol, date_trunc('minute', time) AS b, max(price) AS h, "
        "min(price) AS l, sum(volume) AS v, count(*) AS n FROM tick_data WHERE kind = 1 GROUP BY "
        "1, 2) g "
        "LEFT JOIN ohlcv_1m o ON o.symbol = g.symbol AND o.bucket = g.b WHERE o.high IS DISTINCT "
        "FROM g.h "
        "OR o.low IS DISTINCT FROM g.l OR o.volume IS DISTINCT FROM g.v OR o.tick_count IS "
        "DISTINCT FROM g.n";
    f->c.sql_ohlcv_1d_mismatch = "SELECT count(*) FROM (SELECT symbol, date_trunc('day', time, "
                                 "'Asia/Seoul') AS b, max(price) AS h, "
                                 "min(price) AS l, sum(volume) AS v, (array_agg(price ORDER BY "
                                 "time, rec_id))[1] AS o1 FROM tick_data "
                                 "WHERE kind = 1 GROUP BY 1, 2) g LEFT JOIN ohlcv_1d o ON o.symbol "
                                 "= g.symbol AND o.time = g.b "
                                 "WHERE o.high IS DISTINCT FROM g.h OR o.low IS DISTINCT FROM g.l "
                                 "OR o.volume IS DISTINCT FROM g.v "
                                 "OR o.open IS DISTINCT FROM g.o1";
    f->c.sql_ledger_rollup_mismatch =
        "SELECT (SELECT count(*) FROM (SELECT host_id, date_trunc('hour', timestamp) AS h, "
        "coalesce(strategy_tag, '') AS t, count(*) AS n, sum(CASE WHEN side = 'BUY' THEN amount "
        "ELSE 0 END) AS b, "
        "sum(CASE WHEN side = 'SELL' THEN amount ELSE 0 END) AS s, sum(fee) AS f, "
        "coalesce(sum(realized_pnl), 0) AS p FROM t_ledger GROUP BY 1, 2, 3) g LEFT JOIN "
        "hourly_pnl o "
        "ON o.host_id = g.host_id AND o.hour = g.h AND o.strategy_tag = g.t WHERE o.trades IS "
        "DISTINCT FROM g.n "
        "OR o.buy_amount IS DISTINCT FROM g.b OR o.sell_amount IS DISTINCT FROM g.s OR o.fees IS "
        "DISTINCT FROM g.f "
        "OR o.realized_pnl IS DISTINCT FROM g.p)"
        " + (SELECT count(*) FROM (SELECT host_id, (timestamp AT TIME ZONE 'Asia/Seoul')::date AS "
        "d, "
        "count(*) AS n, sum(fee) AS f, count(DISTINCT symbol) AS k FROM t_ledger GROUP BY 1, 2) g "
        "LEFT JOIN daily_metrics o ON o.host_id = g.host_id AND o.day = g.d WHERE o.trades IS "
        "DISTINCT FROM g.n "
        "OR o.fees IS DISTINCT FROM g.f OR o.symbols IS DISTINCT FROM g.k)"
        " + (SELECT count(*) FROM (SELECT host_id, (timestamp AT TIME ZONE 'Asia/Seoul')::date AS "
        "d, "
        "coalesce(strategy_tag, '') AS t, count(*) AS n, coalesce(sum(realized_pnl), 0) AS p FROM "
        "t_ledger "
        "GROUP BY 1, 2, 3) g LEFT JOIN strategy_performance o ON o.host_id = g.host_id AND o.as_of "
        "= g.d "
        "AND o.strategy = g.t WHERE o.trades IS DISTINCT FROM g.n OR o.total_pnl IS DISTINCT FROM "
        "g.p)";
    f->c.sql_spoil_bucket = "UPDATE ohlcv_1m SET high = high + 1000 WHERE symbol = 'AAA' AND "
                            "bucket = to_timestamp(1795482000)";
    f->c.sql_spoiled_count =
        "SELECT count(*) FROM ohlcv_1m WHERE symbol = 'AAA' AND bucket = to_timestamp(1795482000) "
        "AND high > 1000";
    *state = f;
    return 0;
}

static int setup(void **state)
{
    setup_plain(state);
    struct fx *f = *state;
    struct qts_err e;
    if (f->c.port->ops->migrate(f->c.port->self, &e) < 0)
        fail_msg("migrate: %s", e.msg);
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    if (f->db)
        PQfinish(f->db);
    return sc_teardown(state);
}

/* sql/postgres/NNNN_*.sql (the .tsdb.sql variants aside) */
#define PG_MIGRATIONS 6

static void test_migrate(void **state)
{
    struct fx *f = *state;
    struct qts_err e;
    assert_int_equal(f->c.port->ops->migrate(f->c.port->self, &e), PG_MIGRATIONS); /* from empty */
    store_case_migrate(&f->c);
    /* the TimescaleDB check ran and fell back to native partitions */
    assert_string_equal(
        "pg", (pq_scalar(&f->db, "SELECT DISTINCT backend FROM schema_migrations", f->c.tmpdir, 8),
               f->c.tmpdir));
    assert_int_equal(sc_scalar_i64(&f->c,
                                   "SELECT count(*) FROM pg_partitioned_table p JOIN pg_class c "
                                   "ON c.oid = p.partrelid WHERE c.relname IN ('tick_data', "
                                   "'execution_logs', 'feedback_data', 'decision_log')"),
                     4);
    /* a database from a newer qts is refused */
    char buf[8];
    pq_scalar(&f->db,
              "INSERT INTO schema_migrations (version, name, checksum, backend) "
              "VALUES (9999, 'future', 'x', 'pg')",
              buf, sizeof buf);
    assert_int_equal(f->c.port->ops->migrate(f->c.port->self, &e), QTS_ESTATE);
    assert_non_null(strstr(e.msg, "newer"));
}

static void test_timescaledb_required_but_absent(void **state)
{
    struct fx *f = *state;
    int available = (int)sc_scalar_i64(&f->c, "SELECT count(*) FROM pg_available_extensions "
                                              "WHERE name = 'timescaledb'");
    if (available) {
        print_message("skipped: timescaledb is installed on this server\n");
        return;
    }
    sc_reopen(&f->c, "timescaledb", "require");
    struct qts_err e;
    assert_int_equal(f->c.port->ops->migrate(f->c.port->self, &e), QTS_EUNSUPPORTED);
    assert_non_null(strstr(e.msg, "timescaledb"));
    assert_int_equal(sc_scalar_i64(&f->c, "SELECT count(*) FROM schema_migrations"), 0);
    /* auto: falls back and migrates */
    sc_reopen(&f->c, "timescaledb", "auto");
    assert_int_equal(f->c.port->ops->migrate(f->c.port->self, &e), PG_MIGRATIONS);
}

static void test_partitions_and_retention(void **state)
{
    struct fx *f = *state;
    const int64_t now = INT64_C(1803859200) * NS; /* 2027-03-01 00:00 UTC */
    store_case_retention(&f->c, now);
    /* created ahead: a week of daily tick partitions, weekly feedback ones */
    assert_int_equal(
        sc_scalar_i64(&f->c, "SELECT count(*) FROM (VALUES ('tick_data_p20270301'), "
                             "('tick_data_p20270305'), ('tick_data_p20270308'), "
                             "('execution_logs_p20270308')) v(n) WHERE to_regclass(n) IS NULL"),
        0);
    assert_int_equal(sc_scalar_i64(&f->c, "SELECT count(*) FROM pg_inherits WHERE inhparent = "
                                          "'feedback_data'::regclass"),
                     2);
    /* dropped behind: the partition of the 10-day-old tick is gone */
    assert_int_equal(sc_scalar_i64(&f->c,
                                   "SELECT count(*) FROM pg_inherits i JOIN pg_class c ON "
                                   "c.oid = i.inhrelid WHERE i.inhparent = 'tick_data'::regclass "
                                   "AND c.relname < 'tick_data_p20270222'"),
                     0);
    assert_true(sc_scalar_i64(&f->c, "SELECT count(*) FROM pg_class WHERE relname = "
                                     "'tick_data_p20270219'") == 0);
    assert_int_equal(sc_scalar_i64(&f->c, "SELECT count(*) FROM pg_class WHERE relname = "
                                          "'tick_data_p20270228'"),
                     1);
}

/* ----------------------------------------------------------- outage */

static int pg_ctl(const char *action)
{
    const char *bin = getenv("QTS_PG_BIN"), *data = getenv("QTS_PG_DATA");
    const char *port = getenv("QTS_PG_PORT"), *sock = getenv("QTS_PG_SOCKDIR");
    if (!bin || !data || !port || !sock)
        return -1;
    char cmd[2048];
    const char *as = geteuid() == 0 ? "runuser -u postgres -- " : "";
    if (strcmp(action, "stop") == 0)
        snprintf(cmd, sizeof cmd, "%s%s/pg_ctl -D %s -m fast -w stop >/dev/null 2>&1", as, bin,
                 data);
    else
        snprintf(cmd, sizeof cmd,
                 "%s%s/pg_ctl -D %s -l %s/pg.log -w -t 60 -o \"-p %s -k %s -c "
                 "listen_addresses=127.0.0.1 "
                 "-c fsync=off -c max_connections=100\" start >/dev/null 2>&1",
                 as, bin, data, sock, port, sock);
    return system(cmd);
}

static void push_ticks(struct qts_store_writer *w, int from, int n)
{
    for (int i = from; i < from + n; i++) {
        struct qts_store_tick t;
        sc_tick(&t, "OUT", INT64_C(1795395600) * NS + (int64_t)i * 1000, 100 + i % 1000, i);
        assert_int_equal(qts_store_writer_push(w, &t.h, NULL), 0);
    }
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void test_outage_during_replay(void **state)
{
    struct fx *f = *state;
    if (!getenv("QTS_PG_DATA")) {
        print_message("skipped: QTS_PG_DATA not set (run under scripts/with-services)\n");
        return;
    }
    char jpath[512];
    snprintf(jpath, sizeof jpath, "%s/spill.journal", f->c.tmpdir);
    struct qts_store_writer_opts o = {.journal_path = jpath,
                                      .batch_max = 500,
                                      .retry_ms = 50,
                                      .fsync_policy = QTS_JOURNAL_FSYNC_NEVER};
    struct qts_store_writer *w;
    struct qts_err e;
    assert_int_equal(qts_store_writer_new(f->c.port, &o, &w, &e), 0);
    assert_int_equal(qts_store_writer_start(w, &e), 0);
    enum { N1 = 1000, N2 = 60000, N3 = 2000 };
    push_ticks(w, 0, N1);
    assert_int_equal(qts_store_writer_flush(w, 30000), 0);

    assert_int_equal(pg_ctl("stop"), 0);
    push_ticks(w, N1, N2); /* spilled: the database is away */
    assert_int_equal(qts_store_writer_flush(w, 60000), 0);
    struct qts_store_writer_stats st;
    qts_store_writer_get_stats(w, &st);
    assert_int_equal(st.db_up, 0);
    assert_true(st.spilled >= N2);

    assert_int_equal(pg_ctl("start"), 0);
    /* let the replay begin, then take the database away in the middle */
    for (int i = 0; i < 20000; i++) {
        qts_store_writer_get_stats(w, &st);
        if (st.replayed > 0 || st.db_up)
            break;
        sleep_ms(1);
    }
    int mid = !st.db_up;
    assert_int_equal(pg_ctl("stop"), 0);
    push_ticks(w, N1 + N2, N3);
    sleep_ms(200);
    assert_int_equal(pg_ctl("start"), 0);
    assert_int_equal(qts_store_writer_drain(w, 120000), 0);
    qts_store_writer_get_stats(w, &st);
    assert_int_equal(st.dead, 0);
    assert_int_equal(st.journal_pending, 0);
    print_message("outage: replay interrupted mid-way=%d spilled=%llu replayed=%llu written=%llu\n",
                  mid, (unsigned long long)st.spilled, (unsigned long long)st.replayed,
                  (unsigned long long)st.written);
    qts_store_writer_free(w);
    assert_int_equal(sc_scalar_i64(&f->c, "SELECT count(*) FROM tick_data WHERE symbol = 'OUT'"),
                     N1 + N2 + N3);
    assert_int_equal(
        sc_scalar_i64(&f->c, "SELECT count(DISTINCT volume) FROM tick_data WHERE symbol = 'OUT'"),
        N1 + N2 + N3);
    assert_int_equal(
        sc_scalar_i64(&f->c, "SELECT count(DISTINCT rec_id) FROM tick_data WHERE symbol = 'OUT'"),
        N1 + N2 + N3);
}

/* ----------------------------------------------------------- import */

static int import_quiet(const char *fixture)
{
    char store[1100];
    snprintf(store, sizeof store, "postgres:%s", conninfo());
    char *argv[] = {"import",  "sheets",   (char *)qts_test_src_path(fixture),
                    "--store", store,      "--host-id",
                    "h1",      "--schema", g_schema,
                    NULL};
    fflush(stdout);
    fflush(stderr);
    int o = dup(1), e = dup(2), nul = open("/dev/null", O_WRONLY);
    dup2(nul, 1);
    dup2(nul, 2);
    close(nul);
    int rc = qts_cmd_import.run(9, argv);
    fflush(stdout);
    fflush(stderr);
    dup2(o, 1);
    dup2(e, 2);
    close(o);
    close(e);
    return rc;
}

static void check_imported(struct fx *f)
{
    assert_int_equal(sc_scalar_i64(&f->c, "SELECT count(*) FROM positions WHERE host_id = 'h1'"),
                     2);
    assert_int_equal(sc_scalar_i64(&f->c, "SELECT count(*) FROM t_ledger"), 3);
    assert_int_equal(sc_scalar_i64(&f->c, "SELECT count(*) FROM account_history"), 2);
    assert_int_equal(sc_scalar_i64(&f->c, "SELECT count(*) FROM strategies"), 4);
    assert_int_equal(sc_scalar_i64(&f->c, "SELECT count(*) FROM config"), 5);
    assert_int_equal(sc_scalar_i64(&f->c, "SELECT amount FROM t_ledger WHERE order_id = 'ORD-002'"),
                     540000);
    assert_int_equal(sc_scalar_i64(&f->c,
                                   "SELECT extract(epoch FROM timestamp)::bigint FROM t_ledger "
                                   "WHERE order_id = 'ORD-001'"),
                     INT64_C(1795132865));
    assert_int_equal(sc_scalar_i64(&f->c,
                                   "SELECT count(*) FROM account_history WHERE date = '2026-11-21' "
                                   "AND total_equity = 10003956"),
                     1);
}

static void test_import_sheets(void **state)
{
    struct fx *f = *state;
    assert_int_equal(import_quiet("tests/fixtures/sheets/good"), 0);
    check_imported(f);
    assert_int_equal(import_quiet("tests/fixtures/sheets/good"), 0); /* idempotent */
    check_imported(f);
    assert_int_equal(import_quiet("tests/fixtures/sheets/bad"), QTS_EXIT_FAILURE);
    check_imported(f); /* all or nothing: the bad folder's good rows are not there */
}

/* Without `conninfo` the plugin takes its connection string from the host's
 * secrets lookup ($QTS_SECRET_<NAME> or a 0600 file), under the name
 * `conninfo_secret` gives (default pg_conninfo), and never reads the
 * process environment itself. */
static void test_conninfo_from_secret(void **state)
{
    struct fx *f = *state;
    char *saved = qts_xstrdup(conninfo());
    unsetenv("QTS_PG_CONNINFO"); /* the plugin must not fall back on it */
    setenv("QTS_SECRET_QTS_IT_PG", saved, 1);
    const char *kv[] = {"conninfo_secret", "qts_it_pg", "host_id", "h1", "schema", g_schema, NULL};
    struct qts_store_plugin *p = NULL;
    struct qts_err e;
    qts_err_clear(&e);
    int rc = qts_store_plugin_open(qts_test_plugin_dir(), "store_postgres", kv, &p, &e);
    unsetenv("QTS_SECRET_QTS_IT_PG");
    const char *kv_default[] = {"host_id", "h1", NULL};
    struct qts_store_plugin *p2 = NULL;
    struct qts_err e2;
    qts_err_clear(&e2);
    unsetenv("QTS_SECRET_PG_CONNINFO");
    int rc2 = qts_store_plugin_open(qts_test_plugin_dir(), "store_postgres", kv_default, &p2, &e2);
    setenv("QTS_PG_CONNINFO", saved, 1);
    free(saved);
    if (rc != 0)
        fail_msg("open with conninfo_secret: %s", e.msg);
    const struct qts_store_port *port = qts_store_plugin_port(p);
    assert_int_equal(port->ops->ping(port->self, &e), 0);
    qts_store_plugin_close(p);
    /* the default name, unset: the error names the secret the host looked up */
    assert_int_equal(rc2, QTS_ECONFIG);
    assert_null(p2);
    assert_non_null(strstr(e2.msg, "QTS_SECRET_PG_CONNINFO"));
    (void)f;
}

int main(void)
{
    if (!qts_test_service_env("QTS_PG_CONNINFO"))
        return QTS_TEST_SKIP;
    qts_log_set_level(QTS_LOG_ERROR);
    snprintf(g_schema, sizeof g_schema, "qts_it_%ld", (long)getpid());
    int rc = QTS_TEST_RUN_FIXTURE(setup_plain, teardown, test_migrate, test_conninfo_from_secret,
                                  test_timescaledb_required_but_absent);
    rc += QTS_TEST_RUN_FIXTURE(setup, teardown, store_test_roundtrip, store_test_warm_start,
                               store_test_two_hosts, store_test_rollups,
                               test_partitions_and_retention, test_import_sheets,
                               test_outage_during_replay);
    PGconn *db = NULL;
    char buf[8], sql[128];
    snprintf(sql, sizeof sql, "DROP SCHEMA IF EXISTS %s CASCADE", g_schema);
    pq_scalar(&db, sql, buf, sizeof buf);
    PQfinish(db);
    return rc;
}
