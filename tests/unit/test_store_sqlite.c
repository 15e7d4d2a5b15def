/* test_store_sqlite.c — the real store_sqlite.so (dlopen) with the store
 * writer and the spill journal: migrations, every table's round trip,
 * warm start, rollups against a direct GROUP BY, retention with a given
 * clock, and the writer spilling while the store is away and replaying
 * every record exactly once when it returns. */
#include "test_support.h"

#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../integration/store_cases.h"
#include "log.h"
#include "store_plugin.h"
#include "store_writer.h"
#include "util.h"

#define NS INT64_C(1000000000)
#define DAY_NS (86400 * NS)

struct fx {
    struct store_case_ctx c; /* first: the shared store_test_* cases take the fixture */
    char path[512];
    sqlite3 *db;
};

static int sq_scalar(void *db, const char *sql, char *out, size_t cap)
{
    sqlite3_stmt *st;
    out[0] = '\0';
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        fprintf(stderr, "sqlite: %s: %s\n", sql, sqlite3_errmsg(db));
        return -1;
    }
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
        qts_strlcpy(out, (const char *)sqlite3_column_text(st, 0), cap);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

static struct qts_store_plugin *open_host(const struct store_case_ctx *c, const char *host_id,
                                          const char *extra_key, const char *extra_val)
{
    const struct fx *f = (const struct fx *)c; /* c is the fixture's first member */
    const char *kv[] = {"path", f->path, "host_id", host_id, extra_key, extra_val, NULL};
    return sc_plugin_open("store_sqlite", kv);
}

static int setup(void **state)
{
    qts_log_set_level(QTS_LOG_ERROR);
    struct fx *f = qts_xcalloc(1, sizeof *f);
    f->c.tmpdir = qts_test_tmpdir();
    snprintf(f->path, sizeof f->path, "%s/var/qts.db", f->c.tmpdir);
    f->c.open_host = open_host;
    sc_reopen(&f->c, NULL, NULL);
    struct qts_err e;
    assert_true(f->c.port->ops->migrate(f->c.port->self, &e) > 0);
    assert_int_equal(sqlite3_open(f->path, &f->db), SQLITE_OK);
    sqlite3_busy_timeout(f->db, 5000);
    f->c.scalar = sq_scalar;
    f->c.db = f->db;
    f->c.sql_ohlcv_1m_mismatch =
        "SELECT count(*) FROM (SELECT symbol, time - time % 60000000000 AS b, max(price) AS h, "
        "min(price) AS l, sum(volume) AS v, count(*) AS n FROM tick_data WHERE kind = 1 GROUP BY "
        "1, 2) g "
        "LEFT JOIN ohlcv_1m o ON o.symbol = g.symbol AND o.bucket = g.b "
        "WHERE o.high IS NOT g.h OR o.low IS NOT g.l OR o.volume IS NOT g.v OR o.tick_count IS NOT "
        "g.n";
    f->c.sql_ohlcv_1d_mismatch =
        "SELECT count(*) FROM (SELECT symbol, (time + 32400000000000) - (time + 32400000000000) % "
        "86400000000000 - 32400000000000 AS b, max(price) AS h, min(price) AS l, sum(volume) AS v "
        "FROM tick_data WHERE kind = 1 GROUP BY 1, 2) g LEFT JOIN ohlcv_1d o ON o.symbol = "
        "g.symbol "
        "AND o.time = g.b WHERE o.high IS NOT g.h OR o.low IS NOT g.l OR o.volume IS NOT g.v";
    f->c.sql_ledger_rollup_mismatch =
        "SELECT (SELECT count(*) FROM (SELECT host_id, timestamp - timestamp % 3600000000000 AS h, "
        "coalesce(strategy_tag, '') AS t, count(*) AS n, sum(CASE WHEN side = 'BUY' THEN amount "
        "ELSE 0 END) AS b, "
        "sum(CASE WHEN side = 'SELL' THEN amount ELSE 0 END) AS s, sum(fee) AS f, "
        "coalesce(sum(realized_pnl), 0) AS p FROM t_ledger GROUP BY 1, 2, 3) g LEFT JOIN "
        "hourly_pnl o "
        "ON o.host_id = g.host_id AND o.hour = g.h AND o.strategy_tag = g.t WHERE o.trades IS NOT "
        "g.n "
        "OR o.buy_amount IS NOT g.b OR o.sell_amount IS NOT g.s OR o.fees IS NOT g.f OR "
        "o.realized_pnl IS NOT g.p)"
        " + (SELECT count(*) FROM (SELECT host_id, date(timestamp / 1000000000 + 32400, "
        "'unixepoch') AS d, "
        "count(*) AS n, sum(fee) AS f, count(DISTINCT symbol) AS k FROM t_ledger GROUP BY 1, 2) g "
        "LEFT JOIN daily_metrics o ON o.host_id = g.host_id AND o.day = g.d WHERE o.trades IS NOT "
        "g.n "
        "OR o.fees IS NOT g.f OR o.symbols IS NOT g.k)"
        " + (SELECT count(*) FROM (SELECT host_id, date(timestamp / 1000000000 + 32400, "
        "'unixepoch') AS d, "
        "coalesce(strategy_tag, '') AS t, count(*) AS n, coalesce(sum(realized_pnl), 0) AS p FROM "
        "t_ledger "
        "GROUP BY 1, 2, 3) g LEFT JOIN strategy_performance o ON o.host_id = g.host_id AND o.as_of "
        "= g.d "
        "AND o.strategy = g.t WHERE o.trades IS NOT g.n OR o.total_pnl IS NOT g.p)";
    f->c.sql_spoil_bucket = "UPDATE ohlcv_1m SET high = high + 1000 WHERE symbol = 'AAA' AND "
                            "bucket = 1795482000000000000";
    f->c.sql_spoiled_count = "SELECT count(*) FROM ohlcv_1m WHERE symbol = 'AAA' AND bucket = "
                             "1795482000000000000 AND high > 1000";
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    sqlite3_close(f->db);
    return sc_teardown(state);
}

static void test_migrate(void **state)
{
    struct fx *f = *state;
    store_case_migrate(&f->c); /* already migrated by setup: re-run is a no-op */
    assert_string_equal("sqlite", (sq_scalar(f->db, "SELECT backend FROM schema_migrations",
                                             f->path, sizeof f->path),
                                   f->path));
    /* a database from a newer qts is refused */
    assert_int_equal(sqlite3_exec(f->db,
                                  "INSERT INTO schema_migrations VALUES (9999, 'future', 'x', "
                                  "'sqlite', 0)",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    struct qts_err e;
    assert_int_equal(f->c.port->ops->migrate(f->c.port->self, &e), QTS_ESTATE);
    assert_non_null(strstr(e.msg, "newer"));
}

static void test_retention(void **state)
{
    struct fx *f = *state;
    /* a controllable "now": 2027-03-01 00:00 UTC */
    store_case_retention(&f->c, INT64_C(1803859200) * NS);
}

/* ------------------------------------------------------------------ writer */

/* The real plugin behind a switch that makes it "unreachable". */
struct flaky {
    const struct qts_store_port *inner;
    struct qts_store_ops ops;
    struct qts_store_port port;
    atomic_int down;
    atomic_int calls_while_down;
};
static struct flaky g_flaky;

static int fl_write(void *self, const struct qts_store_record *const *recs, size_t n,
                    struct qts_err *err)
{
    struct flaky *fl = self;
    if (atomic_load(&fl->down)) {
        atomic_fetch_add(&fl->calls_while_down, 1);
        return qts_err_set(err, QTS_ENET, "connection refused");
    }
    return fl->inner->ops->write_batch(fl->inner->self, recs, n, err);
}

static int fl_ping(void *self, struct qts_err *err)
{
    struct flaky *fl = self;
    if (atomic_load(&fl->down))
        return qts_err_set(err, QTS_ENET, "connection refused");
    return fl->inner->ops->ping(fl->inner->self, err);
}

static const struct qts_store_port *flaky_wrap(const struct qts_store_port *inner)
{
    memset(&g_flaky, 0, sizeof g_flaky);
    g_flaky.inner = inner;
    g_flaky.ops = *inner->ops;
    g_flaky.ops.write_batch = fl_write;
    g_flaky.ops.ping = fl_ping;
    g_flaky.port.ops = &g_flaky.ops;
    g_flaky.port.self = &g_flaky;
    return &g_flaky.port;
}

static void push_ticks(struct qts_store_writer *w, int from, int n)
{
    for (int i = from; i < from + n; i++) {
        struct qts_store_tick t;
        sc_tick(&t, "WRT", INT64_C(1795395600) * NS + (int64_t)i * 1000, 100 + i, i);
        assert_int_equal(qts_store_writer_push(w, &t.h, NULL), 0);
    }
}

static void assert_ticks_exactly_once(struct fx *f, int n)
{
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM tick_data WHERE symbol = 'WRT'");
    assert_int_equal(sc_scalar_i64(&f->c, sql), n);
    snprintf(sql, sizeof sql, "SELECT count(DISTINCT volume) FROM tick_data WHERE symbol = 'WRT'");
    assert_int_equal(sc_scalar_i64(&f->c, sql), n);
    /* written in hand-off order: insertion order (rowid) follows rec_id */
    assert_int_equal(sc_scalar_i64(&f->c,
                                   "SELECT count(*) FROM tick_data a JOIN tick_data b ON "
                                   "a.rowid < b.rowid WHERE a.symbol = 'WRT' AND b.symbol = 'WRT' "
                                   "AND a.rec_id > b.rec_id"),
                     0);
}

static void test_writer_spills_and_replays(void **state)
{
    struct fx *f = *state;
    const struct qts_store_port *port = flaky_wrap(f->c.port);
    char jpath[512];
    snprintf(jpath, sizeof jpath, "%s/spill.journal", f->c.tmpdir);
    struct qts_store_writer_opts o = {
        .journal_path = jpath, .queue_cap = 128, .batch_max = 50, .retry_ms = 5};
    struct qts_store_writer *w;
    struct qts_err e;
    assert_int_equal(qts_store_writer_new(port, &o, &w, &e), 0);
    assert_int_equal(qts_store_writer_start(w, &e), 0);
    push_ticks(w, 0, 100);
    assert_int_equal(qts_store_writer_flush(w, 10000), 0);
    atomic_store(&g_flaky.down, 1);
    push_ticks(w, 100, 1000); /* more than the ring holds: overflow, never lost */
    assert_int_equal(qts_store_writer_flush(w, 10000), 0);
    struct qts_store_writer_stats st;
    qts_store_writer_get_stats(w, &st);
    assert_int_equal(st.db_up, 0);
    assert_int_equal(st.spilled, 1000);
    assert_int_equal(sc_scalar_i64(&f->c, "SELECT count(*) FROM tick_data WHERE symbol = 'WRT'"),
                     100);
    atomic_store(&g_flaky.down, 0);
    push_ticks(w, 1100, 50); /* arrives while replaying: goes after the journal */
    assert_int_equal(qts_store_writer_drain(w, 20000), 0);
    qts_store_writer_get_stats(w, &st);
    assert_int_equal(st.db_up, 1);
    assert_int_equal(st.journal_pending, 0);
    assert_int_equal(st.written + st.replayed, 1150);
    assert_true(st.overflowed > 0);
    assert_ticks_exactly_once(f, 1150);
    qts_store_writer_free(w);
}

static void test_writer_restart_replays_journal(void **state)
{
    struct fx *f = *state;
    const struct qts_store_port *port = flaky_wrap(f->c.port);
    char jpath[512];
    snprintf(jpath, sizeof jpath, "%s/spill.journal", f->c.tmpdir);
    struct qts_store_writer_opts o = {.journal_path = jpath, .batch_max = 64, .retry_ms = 5};
    struct qts_store_writer *w;
    struct qts_err e;
    atomic_store(&g_flaky.down, 1);
    assert_int_equal(qts_store_writer_new(port, &o, &w, &e), 0);
    assert_int_equal(qts_store_writer_start(w, &e), 0);
    push_ticks(w, 0, 300);
    qts_store_writer_free(w); /* host stops while the database is away */
    assert_int_equal(sc_scalar_i64(&f->c, "SELECT count(*) FROM tick_data WHERE symbol = 'WRT'"),
                     0);

    /* next start: the database is back, the journal is replayed first */
    atomic_store(&g_flaky.down, 0);
    assert_int_equal(qts_store_writer_new(port, &o, &w, &e), 0);
    struct qts_store_writer_stats st;
    qts_store_writer_get_stats(w, &st);
    assert_int_equal(st.journal_pending, 300);
    assert_int_equal(qts_store_writer_start(w, &e), 0);
    push_ticks(w, 300, 10);
    assert_int_equal(qts_store_writer_drain(w, 20000), 0);
    assert_ticks_exactly_once(f, 310);
    qts_store_writer_free(w);
}

static void test_writer_dead_letter(void **state)
{
    struct fx *f = *state;
    char jpath[512];
    snprintf(jpath, sizeof jpath, "%s/spill.journal", f->c.tmpdir);
    struct qts_store_writer_opts o = {.journal_path = jpath};
    struct qts_store_writer *w;
    struct qts_err e;
    assert_int_equal(qts_store_writer_new(f->c.port, &o, &w, &e), 0);
    assert_int_equal(qts_store_writer_start(w, &e), 0);
    push_ticks(w, 0, 3);
    struct qts_store_bar bad; /* a bar period no table takes */
    memset(&bad, 0, sizeof bad);
    bad.h.struct_size = sizeof bad;
    bad.h.kind = QTS_REC_BAR;
    bad.period_ns = 5 * NS;
    qts_strlcpy(bad.symbol, "BAD", sizeof bad.symbol);
    FILE *saved = stderr;
    stderr = fopen("/dev/null", "w");
    assert_int_equal(qts_store_writer_push(w, &bad.h, NULL), 0);
    push_ticks(w, 3, 3);
    assert_int_equal(qts_store_writer_flush(w, 10000), 0);
    fclose(stderr);
    stderr = saved;
    struct qts_store_writer_stats st;
    qts_store_writer_get_stats(w, &st);
    assert_int_equal(st.dead, 1);
    assert_int_equal(st.db_up, 1);
    assert_ticks_exactly_once(f, 6);
    qts_store_writer_free(w);
    /* the refused record is kept */
    char dpath[600];
    snprintf(dpath, sizeof dpath, "%s.dead", jpath);
    struct qts_spill_journal *dj;
    assert_int_equal(qts_spill_journal_open(dpath, QTS_JOURNAL_FSYNC_NEVER, 0, &dj, &e), 0);
    assert_int_equal(qts_spill_journal_pending(dj), 1);
    qts_spill_journal_close(dj);
}

QTS_TEST_MAIN_FIXTURE(setup, teardown, test_migrate, store_test_roundtrip, store_test_warm_start,
                      store_test_two_hosts, store_test_rollups, test_retention,
                      test_writer_spills_and_replays, test_writer_restart_replays_journal,
                      test_writer_dead_letter)
