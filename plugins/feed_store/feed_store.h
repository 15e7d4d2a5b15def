/* feed_store.h — the feed_store plugin's parts: the query both backends
 * answer (rows of one table in (time, key) order, a page at a time) and
 * the backends (fs_sqlite.c, fs_postgres.c). Config keys: README.md. */
#ifndef QTS_FEED_STORE_H
#define QTS_FEED_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "qts/qts_plugin.h"

enum fs_table { FS_TICKS, FS_BARS_1M, FS_BARS_1D };

/* One row, values as the database's decimal text (parsed with the
 * instrument's exponents when emitted). Ticks: v = price, volume, bid, ask;
 * bars: v = open, high, low, close, volume. */
struct fs_row {
    int64_t ts_ns; /* tick time; a bar's open time */
    char symbol[QTS_SYMBOL_MAX];
    int kind; /* ticks: 1 trade, 2 quote; bars: 0 */
    char v[5][48];
    bool null[5];
    int64_t n_trades;
    char key[64];   /* second sort key: ticks host_id, bars symbol */
    int64_t rec_id; /* third sort key: ticks rec_id, bars 0 */
};

/* What to read, and where the previous page ended (exclusive). */
struct fs_query {
    int table;           /* enum fs_table */
    const char *run_id;  /* "" = every run (ticks only) */
    const char *host_id; /* "" = every host (ticks only) */
    bool trades_only;    /* ticks: kind 1 only */
    int64_t from_ns, to_ns;
    int64_t after_ts; /* keyset: rows strictly after (ts, key, rec_id) */
    char after_key[64];
    int64_t after_rec;
    uint32_t limit;
};

struct fs_backend {
    /* fill up to q->limit rows; returns how many, or a negative QTS_E* with err set */
    int (*page)(void *db, const struct fs_query *q, struct fs_row *out, struct qts_err *err);
    void (*close)(void *db);
};

int fs_sqlite_open(const char *path, void **db, const struct fs_backend **be, struct qts_err *err);
int fs_postgres_open(const char *conninfo, const char *schema, void **db,
                     const struct fs_backend **be, struct qts_err *err);

#endif /* QTS_FEED_STORE_H */
