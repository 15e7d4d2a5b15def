/* fs_postgres.c — feed_store's PostgreSQL backend: one connection, a
 * keyset-paged SELECT per page (feed_store.h). Times travel as ISO text in
 * UTC (microseconds, the column's precision). */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feed_store.h"
#include "store_fmt.h"

struct fs_pg {
    PGconn *c;
};

/* Columns: time, symbol, kind, v0..v4, n_trades, key, rec_id. */
static const char *const sql[3] = {
    [FS_TICKS] = "SELECT time::text, symbol, kind, price::text, volume::text, bid::text, "
                 "ask::text, NULL, 0, host_id, rec_id FROM tick_data "
                 "WHERE ($1 = '' OR run_id = $1) AND ($2 = '' OR host_id = $2) "
                 "AND time >= $3::timestamptz AND time < $4::timestamptz "
                 "AND ($5::int = 0 OR kind = 1) "
                 "AND (time, host_id, rec_id) > ($6::timestamptz, $7, $8::bigint) "
                 "ORDER BY time, host_id, rec_id LIMIT $9::bigint",
    [FS_BARS_1M] = "SELECT bucket::text, symbol, 0, open::text, high::text, low::text, "
                   "close::text, volume::text, tick_count, symbol, 0 FROM ohlcv_1m "
                   "WHERE $1::text IS NOT NULL AND $2::text IS NOT NULL "
                   "AND bucket >= $3::timestamptz AND bucket < $4::timestamptz "
                   "AND $5::int IS NOT NULL AND (bucket, symbol, 0::bigint) > "
                   "($6::timestamptz, $7, $8::bigint) ORDER BY bucket, symbol LIMIT $9::bigint",
    [FS_BARS_1D] = "SELECT time::text, symbol, 0, open::text, high::text, low::text, "
                   "close::text, volume::text, 0, symbol, 0 FROM ohlcv_1d "
                   "WHERE $1::text IS NOT NULL AND $2::text IS NOT NULL "
                   "AND time >= $3::timestamptz AND time < $4::timestamptz "
                   "AND $5::int IS NOT NULL AND (time, symbol, 0::bigint) > "
                   "($6::timestamptz, $7, $8::bigint) ORDER BY time, symbol LIMIT $9::bigint",
};

/* The far ends of a range as PostgreSQL reads them. */
static void fmt_ts(char *buf, size_t cap, int64_t ns)
{
    if (ns <= INT64_MIN / 2)
        snprintf(buf, cap, "-infinity");
    else if (ns >= INT64_MAX / 2)
        snprintf(buf, cap, "infinity");
    else
        store_fmt_ts(buf, cap, ns);
}

static int page(void *self, const struct fs_query *q, struct fs_row *out, struct qts_err *err)
{
    struct fs_pg *s = self;
    char from[48], to[48], after[48], rec[24], lim[24], tr[4];
    fmt_ts(from, sizeof from, q->from_ns);
    fmt_ts(to, sizeof to, q->to_ns);
    fmt_ts(after, sizeof after, q->after_ts);
    snprintf(rec, sizeof rec, "%lld", (long long)q->after_rec);
    snprintf(lim, sizeof lim, "%u", q->limit);
    snprintf(tr, sizeof tr, "%d", q->trades_only ? 1 : 0);
    const char *v[9] = {q->run_id, q->host_id, from, to, tr, after, q->after_key, rec, lim};
    PGresult *r = PQexecParams(s->c, sql[q->table], 9, NULL, v, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        int rc = qts_err_set(err, QTS_EDB, "feed_store: %s", PQerrorMessage(s->c));
        PQclear(r);
        return rc;
    }
    int n = PQntuples(r);
    for (int i = 0; i < n; i++) {
        struct fs_row *o = &out[i];
        if (store_parse_ts(PQgetvalue(r, i, 0), &o->ts_ns) != 0) {
            int rc =
                qts_err_set(err, QTS_EDB, "feed_store: unreadable time '%s'", PQgetvalue(r, i, 0));
            PQclear(r);
            return rc;
        }
        snprintf(o->symbol, sizeof o->symbol, "%s", PQgetvalue(r, i, 1));
        o->kind = atoi(PQgetvalue(r, i, 2));
        for (int k = 0; k < 5; k++) {
            o->null[k] = PQgetisnull(r, i, 3 + k);
            snprintf(o->v[k], sizeof o->v[k], "%s", PQgetvalue(r, i, 3 + k));
        }
        o->n_trades = strtoll(PQgetvalue(r, i, 8), NULL, 10);
        snprintf(o->key, sizeof o->key, "%s", PQgetvalue(r, i, 9));
        o->rec_id = strtoll(PQgetvalue(r, i, 10), NULL, 10);
    }
    PQclear(r);
    return n;
}

static void close_db(void *self)
{
    struct fs_pg *s = self;
    PQfinish(s->c);
    free(s);
}

static const struct fs_backend pg_backend = {.page = page, .close = close_db};

int fs_postgres_open(const char *conninfo, const char *schema, void **db,
                     const struct fs_backend **be, struct qts_err *err)
{
    struct fs_pg *s = calloc(1, sizeof *s);
    if (!s)
        abort();
    s->c = PQconnectdb(conninfo);
    if (PQstatus(s->c) != CONNECTION_OK) {
        int rc = qts_err_set(err, QTS_EIO, "feed_store: cannot connect: %s", PQerrorMessage(s->c));
        close_db(s);
        return rc;
    }
    /* times as ISO text in UTC, read back by store_parse_ts */
    PGresult *r = PQexec(s->c, "SET TimeZone = 'UTC'; SET DateStyle = 'ISO'");
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    if (ok && schema && *schema) {
        const char *v[1] = {schema};
        r = PQexecParams(s->c, "SELECT set_config('search_path', $1, false)", 1, NULL, v, NULL,
                         NULL, 0);
        ok = PQresultStatus(r) == PGRES_TUPLES_OK;
        PQclear(r);
    }
    if (!ok) {
        int rc = qts_err_set(err, QTS_EDB, "feed_store: session setup: %s", PQerrorMessage(s->c));
        close_db(s);
        return rc;
    }
    *db = s;
    *be = &pg_backend;
    return 0;
}
