/* bench_store.c — storage throughput and hand-off cost.
 *
 * 1. store.handoff: ns per qts_store_writer_push (p50/p99), the only cost
 *    the core pays per record (the writer thread drains into a sink).
 * 2. store.sqlite_ingest vs store.sqlite_reference_bulk_txn: ticks through
 *    the store writer into store_sqlite, against the same rows inserted with
 *    one prepared statement in one transaction (same schema). Ratio printed.
 * 3. store.pg_ingest vs store.pg_reference_psql_copy: ticks through the
 *    store writer into store_postgres (COPY), against `psql \copy` of the
 *    same rows into the same table on the same server, timed in this run.
 *    Skipped with a JSON note when QTS_PG_CONNINFO is unset.
 *
 * QTS_BENCH_ROWS overrides the row count (default 200000).
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "clock.h"
#include "log.h"
#include "qts/qts_store.h"
#include "store_plugin.h"
#include "store_writer.h"
#include "util.h"

/* Each throughput is the best of REPS runs: the machine is shared. */
#define REPS 5
#define T0_NS (INT64_C(1795395600) * 1000000000)

static void mk_tick(struct qts_store_tick *t, int i)
{
    memset(t, 0, sizeof *t);
    t->h.struct_size = sizeof *t;
    t->h.kind = QTS_REC_TICK;
    t->h.ts_ns = T0_NS + (int64_t)i * 1000000; /* 1 ms apart: 200k rows span ~3 min */
    snprintf(t->symbol, sizeof t->symbol, "SYM%02d", i % 50);
    memcpy(t->source, "bench", 6);
    t->tick_kind = QTS_TICK_TRADE;
    t->px_exp = 2;
    t->qty_exp = 0;
    t->px = 7000000 + i % 997;
    t->qty = 1 + i % 13;
    t->bid = QTS_STORE_NULL;
    t->ask = QTS_STORE_NULL;
}

/* ------------------------------------------------------------ hand-off */

static int sink_write(void *self, const struct qts_store_record *const *r, size_t n,
                      struct qts_err *e)
{
    (void)self;
    (void)r;
    (void)n;
    (void)e;
    return 0;
}
static int sink_migrate(void *self, struct qts_err *e)
{
    (void)self;
    (void)e;
    return 0;
}

static void bench_handoff(const char *dir, int n)
{
    static const struct qts_store_ops ops = {
        .struct_size = sizeof ops, .migrate = sink_migrate, .write_batch = sink_write};
    struct qts_store_port port = {&ops, NULL};
    char jpath[512];
    snprintf(jpath, sizeof jpath, "%s/handoff.journal", dir);
    struct qts_store_writer_opts o = {.journal_path = jpath};
    struct qts_store_writer *w;
    struct qts_err e;
    if (qts_store_writer_new(&port, &o, &w, &e) || qts_store_writer_start(w, &e)) {
        fprintf(stderr, "writer: %s\n", e.msg);
        exit(1);
    }
    struct qts_bench_samples s;
    qts_bench_samples_init(&s, (size_t)n);
    struct qts_store_tick t;
    mk_tick(&t, 1);
    for (int i = 0; i < n; i++) {
        t.qty = i;
        int64_t a = qts_mono_ns();
        qts_store_writer_push(w, &t.h, NULL);
        qts_bench_add(&s, qts_mono_ns() - a);
        if ((i & 1023) == 1023)
            qts_store_writer_flush(w,
                                   10000); /* keep the ring from filling: measure the fast path */
    }
    qts_store_writer_flush(w, 10000);
    /* the timer itself, for reading the numbers */
    struct qts_bench_samples ref;
    qts_bench_samples_init(&ref, (size_t)n);
    for (int i = 0; i < n; i++) {
        int64_t a = qts_mono_ns();
        qts_bench_add(&ref, qts_mono_ns() - a);
    }
    qts_store_writer_free(w);
    qts_bench_report_latency("store.handoff", &s, "\"record\":\"tick\"");
    qts_bench_report_latency("store.handoff_reference_empty_timer", &ref, NULL);
    qts_bench_samples_free(&s);
    qts_bench_samples_free(&ref);
}

/* ------------------------------------------------------------ ingest */

/* Push n ticks through a writer into `port`; returns rows/s. */
static double ingest(const struct qts_store_port *port, const char *dir, int n)
{
    char jpath[512];
    snprintf(jpath, sizeof jpath, "%s/ingest.journal", dir);
    const char *bm = getenv("QTS_BENCH_BATCH");
    struct qts_store_writer_opts o = {.journal_path = jpath,
                                      .queue_cap = 1 << 16,
                                      .batch_max = bm && atoi(bm) > 0 ? (size_t)atoi(bm) : 5000};
    struct qts_store_writer *w;
    struct qts_err e;
    if (qts_store_writer_new(port, &o, &w, &e) || qts_store_writer_start(w, &e)) {
        fprintf(stderr, "writer: %s\n", e.msg);
        exit(1);
    }
    struct qts_store_tick t;
    int64_t a = qts_mono_ns();
    for (int i = 0; i < n; i++) {
        mk_tick(&t, i);
        qts_store_writer_push(w, &t.h, NULL);
    }
    int rc = qts_store_writer_drain(w, 600000);
    int64_t el = qts_mono_ns() - a;
    struct qts_store_writer_stats st;
    qts_store_writer_get_stats(w, &st);
    qts_store_writer_free(w);
    if (rc || st.written != (uint64_t)n) {
        fprintf(stderr, "ingest incomplete: written=%llu spilled=%llu\n",
                (unsigned long long)st.written, (unsigned long long)st.spilled);
        exit(1);
    }
    return (double)n / ((double)el / 1e9);
}

static void bench_sqlite(const char *dir, int n)
{
    char path[512], refpath[512];
    snprintf(path, sizeof path, "%s/store.db", dir);
    snprintf(refpath, sizeof refpath, "%s/ref.db", dir);
    struct qts_err e;
    struct qts_store_plugin *p, *pr;
    /* QTS_BENCH_SQLITE_CACHE_MIB: the plugin's page cache bound (its
     * default when unset), to compare ingest under different bounds */
    const char *cache = getenv("QTS_BENCH_SQLITE_CACHE_MIB");
    const char *kv[] = {"path", path, cache ? "cache_mib" : NULL, cache, NULL};
    const char *kvr[] = {"path", refpath, NULL};
    if (qts_store_plugin_open(NULL, "store_sqlite", kv, &p, &e) ||
        qts_store_plugin_open(NULL, "store_sqlite", kvr, &pr, &e)) {
        fprintf(stderr, "store_sqlite: %s\n", e.msg);
        exit(1);
    }
    const struct qts_store_port *port = qts_store_plugin_port(p);
    port->ops->migrate(port->self, &e);
    qts_store_plugin_port(pr)->ops->migrate(qts_store_plugin_port(pr)->self, &e);
    qts_store_plugin_close(pr); /* the reference only needs the schema */

    /* reference: one transaction, one prepared INSERT, same rows, same schema */
    sqlite3 *db;
    sqlite3_open(refpath, &db);
    /* the same connection settings as store_sqlite */
    int cache_mib = cache && atoi(cache) > 0 ? atoi(cache) : 8;
    char pragmas[160];
    snprintf(pragmas, sizeof pragmas,
             "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-%d; "
             "PRAGMA wal_autocheckpoint=16000",
             cache_mib * 1024);
    sqlite3_exec(db, pragmas, NULL, NULL, NULL);
    sqlite3_stmt *st;
    sqlite3_prepare_v2(
        db,
        "INSERT INTO tick_data (host_id, rec_id, time, symbol, kind, price, volume, "
        "bid, ask, source) VALUES ('qts', ?1, ?2, ?3, 1, ?4, ?5, NULL, NULL, 'bench')",
        -1, &st, NULL);
    struct qts_store_tick t;
    /* the two alternate, so both see the same load of a shared machine */
    double rate = 0, ref = 0;
    for (int rep = 0; rep < REPS; rep++) {
        double r = ingest(port, dir, n);
        rate = r > rate ? r : rate;
        sqlite3 *c;
        sqlite3_open(path, &c);
        sqlite3_exec(c, "DELETE FROM tick_data; PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
        sqlite3_close(c);

        int64_t a = qts_mono_ns();
        sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
        for (int i = 0; i < n; i++) {
            mk_tick(&t, i);
            char px[32];
            qts_format_fixed(px, sizeof px, t.px, 2);
            sqlite3_bind_int64(st, 1, i + 1);
            sqlite3_bind_int64(st, 2, t.h.ts_ns);
            sqlite3_bind_text(st, 3, t.symbol, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 4, px, -1, SQLITE_STATIC);
            sqlite3_bind_int64(st, 5, t.qty);
            sqlite3_step(st);
            sqlite3_reset(st);
        }
        sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
        r = (double)n / ((double)(qts_mono_ns() - a) / 1e9);
        ref = r > ref ? r : ref;
        sqlite3_exec(db, "DELETE FROM tick_data; PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL,
                     NULL);
    }
    qts_store_plugin_close(p);
    sqlite3_finalize(st);
    sqlite3_close(db);
    char extra[128];
    snprintf(extra, sizeof extra, "\"ratio_vs_reference\":%.3f,\"aim_ratio\":0.9,\"cache_mib\":%d",
             rate / ref, cache_mib);
    qts_bench_report_value("store.sqlite_ingest", "rows/s", rate, (uint64_t)n, extra);
    qts_bench_report_value("store.sqlite_reference_bulk_txn", "rows/s", ref, (uint64_t)n, NULL);
}

/* The benchmark's tables live in their own schema, dropped at the end. */
static char g_schema[64];

static int psql(const char *conninfo, const char *cmd)
{
    char *full = qts_xmalloc(strlen(conninfo) + strlen(cmd) + 160);
    sprintf(full,
            "psql -q -X \"%s\" -c \"SET search_path TO %s; SET client_min_messages = warning\" -c "
            "\"%s\" >/dev/null",
            conninfo, g_schema, cmd);
    int rc = system(full);
    free(full);
    return rc;
}

static void bench_pg(const char *dir, int n)
{
    const char *ci = getenv("QTS_PG_CONNINFO");
    if (!ci || !*ci) {
        printf("{\"bench\":\"store.pg_ingest\",\"skipped\":\"QTS_PG_CONNINFO not set; run under "
               "scripts/with-services\",\"machine\":\"%s\"}\n",
               qts_bench_machine());
        return;
    }
    struct qts_err e;
    struct qts_store_plugin *p;
    snprintf(g_schema, sizeof g_schema, "qts_bench_%ld", (long)getpid());
    const char *kv[] = {"conninfo", ci, "host_id", "bench", "schema", g_schema, NULL};
    if (qts_store_plugin_open(NULL, "store_postgres", kv, &p, &e)) {
        fprintf(stderr, "store_postgres: %s\n", e.msg);
        exit(1);
    }
    const struct qts_store_port *port = qts_store_plugin_port(p);
    if (port->ops->migrate(port->self, &e) < 0) {
        fprintf(stderr, "migrate: %s\n", e.msg);
        exit(1);
    }
    ingest(port, dir, 1000); /* warm-up: partitions, prepared statements */
    double rate = 0;
    for (int rep = 0; rep < REPS; rep++) {
        psql(ci, "TRUNCATE tick_data; CHECKPOINT");
        double r = ingest(port, dir, n);
        rate = r > rate ? r : rate;
    }
    qts_store_plugin_close(p);

    /* the same rows as a COPY file, loaded by psql */
    char file[512];
    snprintf(file, sizeof file, "%s/ticks.copy", dir);
    FILE *f = fopen(file, "w");
    struct qts_store_tick t;
    for (int i = 0; i < n; i++) {
        mk_tick(&t, i);
        int64_t s = t.h.ts_ns / 1000000000, us = (t.h.ts_ns % 1000000000) / 1000;
        time_t tt = (time_t)s;
        struct tm tm;
        gmtime_r(&tt, &tm);
        char px[32];
        qts_format_fixed(px, sizeof px, t.px, 2);
        fprintf(f,
                "bench\t%d\t%04d-%02d-%02d "
                "%02d:%02d:%02d.%06lld+00\t%s\t1\t%s\t%lld\t\\N\t\\N\tbench\n",
                i + 1, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                tm.tm_sec, (long long)us, t.symbol, px, (long long)t.qty);
    }
    fclose(f);
    char cmd[768];
    snprintf(cmd, sizeof cmd,
             "\\copy tick_data (host_id, rec_id, time, symbol, kind, price, volume, bid, "
             "ask, source) FROM '%s'",
             file);
    double ref = 0;
    int rc = 0;
    for (int rep = 0; rep < REPS && rc == 0; rep++) {
        psql(ci, "TRUNCATE tick_data; CHECKPOINT");
        int64_t a = qts_mono_ns();
        rc = psql(ci, cmd);
        double r = (double)n / ((double)(qts_mono_ns() - a) / 1e9);
        ref = r > ref ? r : ref;
    }
    char drop[128];
    snprintf(drop, sizeof drop, "DROP SCHEMA %s CASCADE", g_schema);
    psql(ci, drop);
    if (rc != 0) {
        fprintf(stderr, "psql \\copy failed\n");
        exit(1);
    }
    char extra[96];
    snprintf(extra, sizeof extra, "\"ratio_vs_reference\":%.3f,\"aim_ratio\":0.9", rate / ref);
    qts_bench_report_value("store.pg_ingest", "rows/s", rate, (uint64_t)n, extra);
    qts_bench_report_value("store.pg_reference_psql_copy", "rows/s", ref, (uint64_t)n, NULL);
}

int main(void)
{
    int n = 200000;
    const char *env = getenv("QTS_BENCH_ROWS");
    if (env && atoi(env) > 0)
        n = atoi(env);
    qts_log_set_level(QTS_LOG_ERROR);
    char tmpl[] = "/tmp/qts-bench-store-XXXXXX";
    char *dir = mkdtemp(tmpl);
    if (!dir)
        return 1;
    bench_handoff(dir, n);
    bench_sqlite(dir, n);
    bench_pg(dir, n);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : 1;
}
