/* fs_sqlite.c — feed_store's SQLite backend: one read-only connection, a
 * keyset-paged SELECT per page (feed_store.h). */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feed_store.h"

struct fs_sqlite {
    sqlite3 *db;
    sqlite3_stmt *st[3]; /* prepared per table on first use */
};

/* Columns: time, symbol, kind, v0..v4, n_trades, key, rec_id. */
static const char *const sql[3] = {
    [FS_TICKS] = "SELECT time, symbol, kind, price, volume, bid, ask, NULL, 0, host_id, rec_id "
                 "FROM tick_data WHERE (?1 = '' OR run_id = ?1) AND (?2 = '' OR host_id = ?2) "
                 "AND time >= ?3 AND time < ?4 AND (?5 = 0 OR kind = 1) "
                 "AND (time, host_id, rec_id) > (?6, ?7, ?8) "
                 "ORDER BY time, host_id, rec_id LIMIT ?9",
    [FS_BARS_1M] =
        "SELECT bucket, symbol, 0, open, high, low, close, volume, tick_count, symbol, 0 "
        "FROM ohlcv_1m WHERE ?1 = ?1 AND ?2 = ?2 AND bucket >= ?3 AND bucket < ?4 "
        "AND ?5 = ?5 AND (bucket, symbol, 0) > (?6, ?7, ?8) "
        "ORDER BY bucket, symbol LIMIT ?9",
    [FS_BARS_1D] = "SELECT time, symbol, 0, open, high, low, close, volume, 0, symbol, 0 "
                   "FROM ohlcv_1d WHERE ?1 = ?1 AND ?2 = ?2 AND time >= ?3 AND time < ?4 "
                   "AND ?5 = ?5 AND (time, symbol, 0) > (?6, ?7, ?8) "
                   "ORDER BY time, symbol LIMIT ?9",
};

static void copy_col(sqlite3_stmt *st, int i, char *dst, size_t cap, bool *null)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    if (null)
        *null = t == NULL;
    snprintf(dst, cap, "%s", t ? (const char *)t : "");
}

static int page(void *self, const struct fs_query *q, struct fs_row *out, struct qts_err *err)
{
    struct fs_sqlite *s = self;
    sqlite3_stmt **st = &s->st[q->table];
    if (!*st && sqlite3_prepare_v2(s->db, sql[q->table], -1, st, NULL) != SQLITE_OK)
        return qts_err_set(err, QTS_EDB, "feed_store: %s", sqlite3_errmsg(s->db));
    sqlite3_reset(*st);
    sqlite3_bind_text(*st, 1, q->run_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(*st, 2, q->host_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(*st, 3, q->from_ns);
    sqlite3_bind_int64(*st, 4, q->to_ns);
    sqlite3_bind_int(*st, 5, q->trades_only);
    sqlite3_bind_int64(*st, 6, q->after_ts);
    sqlite3_bind_text(*st, 7, q->after_key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(*st, 8, q->after_rec);
    sqlite3_bind_int64(*st, 9, q->limit);
    int n = 0, rc;
    while ((rc = sqlite3_step(*st)) == SQLITE_ROW) {
        struct fs_row *r = &out[n++];
        r->ts_ns = sqlite3_column_int64(*st, 0);
        copy_col(*st, 1, r->symbol, sizeof r->symbol, NULL);
        r->kind = sqlite3_column_int(*st, 2);
        for (int k = 0; k < 5; k++)
            copy_col(*st, 3 + k, r->v[k], sizeof r->v[k], &r->null[k]);
        r->n_trades = sqlite3_column_int64(*st, 8);
        copy_col(*st, 9, r->key, sizeof r->key, NULL);
        r->rec_id = sqlite3_column_int64(*st, 10);
    }
    if (rc != SQLITE_DONE)
        return qts_err_set(err, QTS_EDB, "feed_store: %s", sqlite3_errmsg(s->db));
    return n;
}

static void close_db(void *self)
{
    struct fs_sqlite *s = self;
    for (int i = 0; i < 3; i++)
        sqlite3_finalize(s->st[i]);
    sqlite3_close(s->db);
    free(s);
}

static const struct fs_backend sqlite_backend = {.page = page, .close = close_db};

int fs_sqlite_open(const char *path, void **db, const struct fs_backend **be, struct qts_err *err)
{
    struct fs_sqlite *s = calloc(1, sizeof *s);
    if (!s)
        abort();
    /* read-only: replaying a run never changes the store it came from */
    if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        int rc = qts_err_set(err, QTS_EIO, "feed_store: cannot open %s: %s", path,
                             s->db ? sqlite3_errmsg(s->db) : "out of memory");
        close_db(s);
        return rc;
    }
    sqlite3_busy_timeout(s->db, 5000); /* a host may be writing it */
    *db = s;
    *be = &sqlite_backend;
    return 0;
}
