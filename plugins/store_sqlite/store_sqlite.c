/* store_sqlite.c — the embedded store: one SQLite file (WAL), the logical
 * schema of docs/storage.md, prepared statements inside one transaction per
 * batch. Runs on the store writer thread; every call may block.
 *
 * Config (plugin subtree): path (default var/qts.db), host_id (default
 * "qts"), busy_timeout_ms (5000), synchronous ("normal"|"full"), cache_mib
 * (8: the page cache's bound),
 * retention.tick_days 7, retention.bar_1m_days 30, retention.exec_log_days
 * 90, retention.feedback_days 180, retention.decision_days 365.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "qts/qts_plugin.h"
#include "qts/qts_store.h"
#include "store_cols.h"
#include "store_fmt.h"
#include "store_keys.h"
#include "store_rows.h"

#include "sqlite_migrations.inc"

struct ss {
    const struct qts_host_api *host;
    void *owner;
    char path[512];
    char host_id[64];
    int64_t busy_timeout_ms;
    int64_t cache_mib; /* SQLite page cache bound: the store's memory stays flat */
    int sync_full;
    int64_t keep_tick_days, keep_bar_days, keep_exec_days, keep_fb_days, keep_dec_days;
    sqlite3 *db;
    sqlite3_stmt *st[STORE_T_COUNT]; /* one INSERT per table (store_cols.h) */
    struct store_dirty dirty;        /* what the current batch touched */
};

#define LOG(s, lvl, ...) (s)->host->log((s)->owner, (lvl), __VA_ARGS__)

static int db_err(struct ss *s, struct qts_err *err, const char *what)
{
    int code = sqlite3_errcode(s->db);
    int qc = (code == SQLITE_BUSY || code == SQLITE_LOCKED)                             ? QTS_EBUSY
             : (code == SQLITE_IOERR || code == SQLITE_FULL || code == SQLITE_CANTOPEN) ? QTS_EIO
                                                                                        : QTS_EDB;
    return qts_err_set(err, qc, "sqlite %s: %s", what, sqlite3_errmsg(s->db));
}

static int exec_sql(struct ss *s, const char *sql, struct qts_err *err)
{
    char *msg = NULL;
    if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        int rc = qts_err_set(err, QTS_EDB, "sqlite: %s", msg ? msg : sqlite3_errmsg(s->db));
        sqlite3_free(msg);
        return rc;
    }
    return 0;
}

/* ------------------------------------------------------------- lifecycle */

static void cfg_days(struct ss *s, const char *key, int64_t *v)
{
    int64_t x;
    if (s->host->cfg_int && s->host->cfg_int(s->owner, key, &x, NULL) == 0 && x > 0)
        *v = x;
}

static int ss_init(const struct qts_host_api *host, void *owner, void **self, struct qts_err *err)
{
    struct ss *s = calloc(1, sizeof *s);
    if (!s)
        return qts_err_set(err, QTS_ENOMEM, "store_sqlite: out of memory");
    s->host = host;
    s->owner = owner;
    const char *v = NULL;
    store_copy(s->path, sizeof s->path, "var/qts.db");
    if (host->cfg_str && host->cfg_str(owner, "path", &v, NULL) == 0 && v && *v)
        store_copy(s->path, sizeof s->path, v);
    store_copy(s->host_id, sizeof s->host_id, "qts");
    if (host->cfg_str && host->cfg_str(owner, "host_id", &v, NULL) == 0 && v && *v)
        store_copy(s->host_id, sizeof s->host_id, v);
    if (host->cfg_str && host->cfg_str(owner, "synchronous", &v, NULL) == 0 && v)
        s->sync_full = strcmp(v, "full") == 0;
    s->busy_timeout_ms = 5000;
    if (host->cfg_int)
        host->cfg_int(owner, "busy_timeout_ms", &s->busy_timeout_ms, NULL);
    s->cache_mib = 2;
    if (host->cfg_int && host->cfg_int(owner, "cache_mib", &s->cache_mib, NULL) == 0 &&
        (s->cache_mib < 1 || s->cache_mib > 65536)) {
        int64_t bad = s->cache_mib;
        free(s);
        return qts_err_set(err, QTS_ECONFIG,
                           "store_sqlite: cache_mib %" PRId64 " outside [1, 65536]", bad);
    }
    s->keep_tick_days = 7;
    s->keep_bar_days = 30;
    s->keep_exec_days = 90;
    s->keep_fb_days = 180;
    s->keep_dec_days = 365;
    cfg_days(s, "retention.tick_days", &s->keep_tick_days);
    cfg_days(s, "retention.bar_1m_days", &s->keep_bar_days);
    cfg_days(s, "retention.exec_log_days", &s->keep_exec_days);
    cfg_days(s, "retention.feedback_days", &s->keep_fb_days);
    cfg_days(s, "retention.decision_days", &s->keep_dec_days);
    *self = s;
    return 0;
}

static void finalize_stmts(struct ss *s)
{
    for (int i = 0; i < STORE_T_COUNT; i++) {
        sqlite3_finalize(s->st[i]);
        s->st[i] = NULL;
    }
}

static int prepare_stmts(struct ss *s, struct qts_err *err)
{
    char sql[4096];
    for (int i = 0; i < STORE_T_COUNT; i++) {
        if (s->st[i])
            continue;
        if (store_insert_sql(&store_tabs[i], '?', sql, sizeof sql) < 0)
            return qts_err_set(err, QTS_ERANGE, "store_sqlite: INSERT of %s too long",
                               store_tabs[i].name);
        if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s->st[i], NULL) !=
            SQLITE_OK)
            return db_err(s, err, "prepare");
    }
    return 0;
}

/* Create the parent folder of the database file (var/ by default). */
static void make_parent_dir(const char *path)
{
    char tmp[512];
    store_copy(tmp, sizeof tmp, path);
    char *slash = strrchr(tmp, '/');
    if (!slash || slash == tmp)
        return;
    *slash = '\0';
    mkdir(tmp, 0755);
}

static int ss_start(void *self, struct qts_err *err)
{
    struct ss *s = self;
    make_parent_dir(s->path);
    if (sqlite3_open_v2(s->path, &s->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK) {
        int rc = qts_err_set(err, QTS_EIO, "sqlite open %s: %s", s->path,
                             s->db ? sqlite3_errmsg(s->db) : "out of memory");
        sqlite3_close(s->db);
        s->db = NULL;
        return rc;
    }
    sqlite3_busy_timeout(s->db, (int)s->busy_timeout_ms);
    /* the page cache keeps the index pages a batch touches in memory; it
     * fills as the database grows, so it is bounded (cache_mib): appends
     * touch the right edge of each index, which fits in a few MiB */
    char pragmas[160];
    snprintf(pragmas, sizeof pragmas,
             "PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON; PRAGMA cache_size=-%" PRId64 ";",
             s->cache_mib * 1024);
    int rc = exec_sql(s, pragmas, err);
    if (rc == 0)
        rc = exec_sql(s, s->sync_full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL",
                      err);
    if (rc == 0)
        LOG(s, QTS_LOG_INFO, "store_sqlite opened path=%s host_id=%s", s->path, s->host_id);
    return rc;
}

static int ss_stop(void *self)
{
    struct ss *s = self;
    finalize_stmts(s);
    if (s->db) {
        sqlite3_close(s->db);
        s->db = NULL;
    }
    return 0;
}

static void ss_destroy(void *self)
{
    struct ss *s = self;
    if (!s)
        return;
    ss_stop(s);
    free(s);
}

/* ------------------------------------------------------------- migrate */

static int ss_migrate(void *self, struct qts_err *err)
{
    struct ss *s = self;
    int rc = exec_sql(s,
                      "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
                      "name TEXT NOT NULL, checksum TEXT NOT NULL, backend TEXT NOT NULL, "
                      "applied_at INTEGER NOT NULL)",
                      err);
    if (rc)
        return rc;
    sqlite3_stmt *q = NULL;
    int current = 0;
    if (sqlite3_prepare_v2(s->db, "SELECT coalesce(max(version), 0) FROM schema_migrations", -1, &q,
                           NULL) != SQLITE_OK)
        return db_err(s, err, "migrate");
    if (sqlite3_step(q) == SQLITE_ROW)
        current = sqlite3_column_int(q, 0);
    sqlite3_finalize(q);
    int newest =
        sqlite_migrations_count ? sqlite_migrations[sqlite_migrations_count - 1].version : 0;
    if (current > newest)
        return qts_err_set(err, QTS_ESTATE,
                           "database schema version %d is newer than this build (%d): "
                           "upgrade qts before using this database",
                           current, newest);
    int applied = 0;
    for (size_t i = 0; i < sqlite_migrations_count; i++) {
        const struct store_migration *m = &sqlite_migrations[i];
        if (m->version <= current)
            continue;
        if ((rc = exec_sql(s, "BEGIN IMMEDIATE", err)))
            return rc;
        rc = exec_sql(s, m->sql, err);
        if (rc == 0) {
            char ins[512];
            snprintf(ins, sizeof ins,
                     "INSERT INTO schema_migrations VALUES (%d, '%s', '%016" PRIx64
                     "', 'sqlite', CAST(strftime('%%s','now') AS INTEGER) * 1000000000)",
                     m->version, m->name, store_fnv1a(m->sql));
            rc = exec_sql(s, ins, err);
        }
        if (rc == 0)
            rc = exec_sql(s, "COMMIT", err);
        if (rc) {
            exec_sql(s, "ROLLBACK", NULL);
            if (err) {
                char tmp[256];
                snprintf(tmp, sizeof tmp, "%s", err->msg);
                snprintf(err->msg, sizeof err->msg, "migration %04d_%s: %.200s", m->version,
                         m->name, tmp);
            }
            return rc;
        }
        LOG(s, QTS_LOG_INFO, "store_sqlite migration applied version=%d name=%s", m->version,
            m->name);
        applied++;
    }
    finalize_stmts(s);
    rc = prepare_stmts(s, err);
    return rc ? rc : applied;
}

/* ------------------------------------------------------------- writes */

/* Strings come from the record being written, which outlives the step:
 * bound without a copy. */
static void bind_text(sqlite3_stmt *st, int i, const char *v, int null_if_empty)
{
    if (null_if_empty && (!v || !*v))
        sqlite3_bind_null(st, i);
    else
        sqlite3_bind_text(st, i, v ? v : "", -1, SQLITE_STATIC);
}

/* Decimals: SQLite keeps NUMERIC values as INTEGER or REAL (8-byte IEEE)
 * either way, so an integral value is bound as an integer and a fraction
 * as the correctly rounded double of v / 10^exp (the same value SQLite
 * would parse from the decimal text, without formatting and parsing it). */
static void bind_fixed(sqlite3_stmt *st, int i, int64_t v, unsigned exp)
{
    if (v == QTS_STORE_NULL) {
        sqlite3_bind_null(st, i);
        return;
    }
    if (exp > QTS_MAX_EXP)
        exp = QTS_MAX_EXP;
    int64_t p = qts_pow10_i64[exp];
    if (v % p == 0) {
        sqlite3_bind_int64(st, i, v / p);
    } else if (v > -(INT64_C(1) << 53) && v < (INT64_C(1) << 53)) {
        sqlite3_bind_double(st, i, (double)v / (double)p);
    } else {
        char buf[48];
        store_fmt_fixed(buf, sizeof buf, v, exp);
        sqlite3_bind_text(st, i, buf, -1, SQLITE_TRANSIENT);
    }
}

static void bind_val(sqlite3_stmt *st, int i, const struct store_val *v)
{
    if (v->is_null) {
        sqlite3_bind_null(st, i);
        return;
    }
    switch (v->type) {
    case STORE_TEXT:
    case STORE_TEXTN: bind_text(st, i, v->s, 0); break;
    case STORE_FIXED: bind_fixed(st, i, v->i, v->exp); break;
    case STORE_DBL: sqlite3_bind_double(st, i, v->d); break;
    case STORE_HASH: sqlite3_bind_blob(st, i, v->hash, 32, SQLITE_TRANSIENT); break;
    default: sqlite3_bind_int64(st, i, v->i); break; /* INT, TS (ns), BOOL 0/1 */
    }
}

static int write_one(struct ss *s, const struct qts_store_record *r, struct qts_err *err)
{
    struct store_val v[STORE_COLS_MAX];
    int t = store_record_values(r, s->host_id, v, err);
    if (t < 0)
        return t;
    sqlite3_stmt *st = s->st[t];
    for (int i = 0; i < store_tabs[t].n; i++)
        bind_val(st, i + 1, &v[i]);
    store_dirty_add(&s->dirty, r);
    int rc = sqlite3_step(st);
    int out = 0;
    if (rc != SQLITE_DONE)
        out = db_err(s, err, "insert");
    sqlite3_reset(st); /* every parameter is bound again by the next row */
    return out;
}

static int mark_dirty(struct ss *s, const char *name, int64_t lo, int64_t hi, struct qts_err *err)
{
    if (lo == QTS_STORE_NULL)
        return 0;
    char sql[256];
    snprintf(sql, sizeof sql,
             "UPDATE qts_rollup_state SET dirty_lo = min(coalesce(dirty_lo, %" PRId64 "), %" PRId64
             "), dirty_hi = max(coalesce(dirty_hi, %" PRId64 "), %" PRId64 ") WHERE name = '%s'",
             lo, lo, hi, hi, name);
    return exec_sql(s, sql, err);
}

static int ss_write_batch(void *self, const struct qts_store_record *const *recs, size_t n,
                          struct qts_err *err)
{
    struct ss *s = self;
    if (!s->db)
        return qts_err_set(err, QTS_ECLOSED, "store_sqlite: not open");
    int rc = prepare_stmts(s, err);
    if (rc)
        return rc;
    if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return db_err(s, err, "begin");
    store_dirty_clear(&s->dirty);
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = write_one(s, recs[i], err);
    if (rc == 0)
        rc = mark_dirty(s, "ohlcv", s->dirty.tick_lo, s->dirty.tick_hi, err);
    if (rc == 0)
        rc = mark_dirty(s, "ledger", s->dirty.led_lo, s->dirty.led_hi, err);
    if (rc == 0 && sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        rc = db_err(s, err, "commit");
    if (rc)
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

static int ss_ping(void *self, struct qts_err *err)
{
    struct ss *s = self;
    if (!s->db)
        return qts_err_set(err, QTS_ECLOSED, "store_sqlite: not open");
    return exec_sql(s, "SELECT 1", err);
}

/* ------------------------------------------------------------- reads */

/* store_rows.h reader over a stepped statement (row->res). */
static int64_t col_fixed(const struct store_row *r, int i, unsigned exp)
{
    sqlite3_stmt *st = r->res;
    if (sqlite3_column_type(st, i) == SQLITE_NULL)
        return QTS_STORE_NULL;
    int64_t v = 0;
    if (sqlite3_column_type(st, i) == SQLITE_INTEGER)
        return sqlite3_column_int64(st, i) * qts_pow10_i64[exp];
    if (store_parse_fixed((const char *)sqlite3_column_text(st, i), exp, &v) != 0)
        return QTS_STORE_NULL;
    return v;
}

static const char *col_str(const struct store_row *r, int i)
{
    const char *t = (const char *)sqlite3_column_text(r->res, i);
    return t ? t : "";
}

static double col_dbl(const struct store_row *r, int i)
{
    sqlite3_stmt *st = r->res;
    return sqlite3_column_type(st, i) == SQLITE_NULL ? NAN : sqlite3_column_double(st, i);
}

static int64_t col_i64(const struct store_row *r, int i) { return sqlite3_column_int64(r->res, i); }

/* times are INTEGER nanoseconds */
static int64_t col_ts(const struct store_row *r, int i)
{
    sqlite3_stmt *st = r->res;
    return sqlite3_column_type(st, i) == SQLITE_NULL ? QTS_STORE_NULL : sqlite3_column_int64(st, i);
}

static const struct store_row_reader ss_reader = {
    .str = col_str, .i64 = col_i64, .dbl = col_dbl, .fixed = col_fixed, .ts = col_ts};

/* After a row loop ended with `rc`: SQLITE_DONE is success, another SQLite
 * code the statement's error, a negative code the callback's; `st` is
 * finalized. */
static int rows_done(struct ss *s, sqlite3_stmt *st, int rc, struct qts_err *err)
{
    if (rc == SQLITE_DONE)
        rc = 0;
    else if (rc > 0)
        rc = db_err(s, err, "query");
    sqlite3_finalize(st);
    return rc;
}

static int run_query(struct ss *s, const char *sql, struct qts_err *err, sqlite3_stmt **out)
{
    if (sqlite3_prepare_v2(s->db, sql, -1, out, NULL) != SQLITE_OK)
        return db_err(s, err, "query");
    return 0;
}

static int feedback_aggs(struct ss *s, int64_t from, int64_t to, const char *symbol,
                         const char *tag, int group, qts_store_record_fn cb, void *arg,
                         struct qts_err *err)
{
    sqlite3_stmt *st;
    const char *sql =
        group
            ? "SELECT symbol, coalesce(strategy_tag, ''), count(*), avg(total_slippage_bps), "
              "avg(market_impact_bps), avg(execution_quality_score), avg(avg_fill_latency_ms), "
              "avg(fill_ratio) FROM feedback_data WHERE host_id = ?1 AND time >= ?2 AND time < ?3 "
              "GROUP BY 1, 2 ORDER BY 1, 2"
            : "SELECT ?4, ?5, count(*), avg(total_slippage_bps), avg(market_impact_bps), "
              "avg(execution_quality_score), avg(avg_fill_latency_ms), avg(fill_ratio) "
              "FROM feedback_data WHERE host_id = ?1 AND time >= ?2 AND time < ?3 "
              "AND (?4 = '' OR symbol = ?4) AND (?5 = '' OR strategy_tag = ?5)";
    int rc = run_query(s, sql, err, &st);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, s->host_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, from);
    sqlite3_bind_int64(st, 3, to);
    if (!group) {
        sqlite3_bind_text(st, 4, symbol, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, tag, -1, SQLITE_STATIC);
    }
    while (rc == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct qts_store_feedback_agg a;
        struct store_row row = {.rd = &ss_reader, .res = st};
        store_row_feedback_agg(&row, from, &a);
        rc = cb(arg, &a.h);
    }
    return rows_done(s, st, rc, err);
}

static int ss_load_state(void *self, const struct qts_store_load_opts *o, qts_store_record_fn cb,
                         void *arg, struct qts_err *err)
{
    struct ss *s = self;
    unsigned pe = o->px_exp, qe = o->qty_exp;
    sqlite3_stmt *st;
    int rc;
    for (int k = 0; k < STORE_LOAD_COUNT; k++) {
        if ((rc = run_query(s, store_load_sql[k], err, &st)))
            return rc;
        sqlite3_bind_text(st, 1, s->host_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, store_load_run(o), -1, SQLITE_STATIC);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            union qts_store_any u;
            struct store_row row = {.rd = &ss_reader, .res = st};
            if ((rc = cb(arg, store_row_load(&row, k, pe, qe, &u))))
                break;
        }
        sqlite3_finalize(st);
        if (rc != SQLITE_DONE && rc != 0) {
            if (rc < 0)
                return rc;
            char what[48];
            snprintf(what, sizeof what, "load %s", store_load_what[k]);
            return db_err(s, err, what);
        }
    }
    int64_t lb = o->feedback_lookback_ns > 0 ? o->feedback_lookback_ns : 24 * STORE_NS_PER_HOUR;
    return feedback_aggs(s, o->now_ns - lb, o->now_ns, "", "", 1, cb, arg, err);
}

static int ss_query(void *self, const struct qts_store_query *q, qts_store_record_fn cb, void *arg,
                    struct qts_err *err)
{
    struct ss *s = self;
    unsigned pe = q->px_exp, qe = q->qty_exp;
    const char *sql = NULL;
    switch (q->kind) {
    case QTS_Q_TICKS:
        sql = "SELECT time, symbol, kind, price, volume, bid, ask, source, rec_id FROM tick_data "
              "WHERE symbol = ?1 AND time >= ?2 AND time < ?3 ORDER BY time, rec_id LIMIT ?4";
        break;
    case QTS_Q_BARS_1M:
        sql = "SELECT bucket, symbol, open, high, low, close, volume, tick_count FROM ohlcv_1m "
              "WHERE symbol = ?1 AND bucket >= ?2 AND bucket < ?3 ORDER BY bucket LIMIT ?4";
        break;
    case QTS_Q_BARS_1D:
        sql = "SELECT time, symbol, open, high, low, close, volume, 0 FROM ohlcv_1d "
              "WHERE symbol = ?1 AND time >= ?2 AND time < ?3 ORDER BY time LIMIT ?4";
        break;
    case QTS_Q_BARS_1M_LAST:
        sql = "SELECT bucket, symbol, open, high, low, close, volume, tick_count FROM ohlcv_1m "
              "WHERE symbol = ?1 AND bucket >= ?2 AND bucket < ?3 ORDER BY bucket DESC LIMIT ?4";
        break;
    case QTS_Q_BARS_1D_LAST:
        sql = "SELECT time, symbol, open, high, low, close, volume, 0 FROM ohlcv_1d "
              "WHERE symbol = ?1 AND time >= ?2 AND time < ?3 ORDER BY time DESC LIMIT ?4";
        break;
    case QTS_Q_LEDGER:
        sql = "SELECT timestamp, symbol, side, qty, price, amount, fee, strategy_tag, order_id, "
              "broker, realized_pnl, rec_id FROM t_ledger WHERE host_id = ?5 AND "
              "(?1 = '' OR symbol = ?1) AND timestamp >= ?2 AND timestamp < ?3 "
              "ORDER BY timestamp DESC, id DESC LIMIT ?4";
        break;
    case QTS_Q_DAILY_METRICS:
        sql = "SELECT day, trades, buy_amount, sell_amount, fees, realized_pnl, symbols "
              "FROM daily_metrics WHERE host_id = ?5 AND ?1 = ?1 AND day >= date(?2 / 1000000000 "
              "+ 32400, 'unixepoch') AND day < date(?3 / 1000000000 + 32400, 'unixepoch') "
              "ORDER BY day LIMIT ?4";
        break;
    case QTS_Q_RUNS: /* every host's runs, newest first */
        sql = "SELECT run_id, mode, status, config_path, started_at, ended_at, data_from, data_to, "
              "events, orders, rejected, fills, host_id FROM runs "
              "WHERE ?1 = ?1 AND started_at >= ?2 AND started_at < ?3 "
              "ORDER BY started_at DESC, run_id DESC LIMIT ?4";
        break;
    case QTS_Q_FEEDBACK_SUMMARY:
        return feedback_aggs(s, q->from_ns, q->to_ns, q->symbol, q->tag, 0, cb, arg, err);
    default: return qts_err_set(err, QTS_EUNSUPPORTED, "store_sqlite: query kind %u", q->kind);
    }
    sqlite3_stmt *st;
    int rc = run_query(s, sql, err, &st);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, q->symbol, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, q->from_ns);
    sqlite3_bind_int64(st, 3, q->to_ns);
    sqlite3_bind_int64(st, 4, q->limit ? (int64_t)q->limit : -1);
    if (sqlite3_bind_parameter_count(st) >= 5)
        sqlite3_bind_text(st, 5, s->host_id, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        union qts_store_any u;
        struct store_row row = {.rd = &ss_reader, .res = st};
        store_row_query(&row, q->kind, pe, qe, &u);
        if ((rc = cb(arg, &u.h)))
            break;
    }
    return rows_done(s, st, rc, err);
}

/* ------------------------------------------------------------- maintenance */

static int ss_maintain(void *self, int64_t now_ns, struct qts_err *err)
{
    struct ss *s = self;
    struct {
        const char *table, *col;
        int64_t days;
    } pol[] = {
        {"tick_data", "time", s->keep_tick_days},      {"ohlcv_1m", "bucket", s->keep_bar_days},
        {"execution_logs", "time", s->keep_exec_days}, {"feedback_data", "time", s->keep_fb_days},
        {"decision_log", "time", s->keep_dec_days},
    };
    int total = 0;
    for (size_t i = 0; i < sizeof pol / sizeof pol[0]; i++) {
        char sql[256];
        int64_t cut = store_day_start_ns(now_ns - pol[i].days * STORE_NS_PER_DAY);
        snprintf(sql, sizeof sql, "DELETE FROM %s WHERE %s < %" PRId64, pol[i].table, pol[i].col,
                 cut);
        int rc = exec_sql(s, sql, err);
        if (rc)
            return rc;
        total += sqlite3_changes(s->db);
    }
    return total;
}

static int take_dirty(struct ss *s, const char *name, int64_t *lo, int64_t *hi, struct qts_err *err)
{
    sqlite3_stmt *st;
    int rc =
        run_query(s, "SELECT dirty_lo, dirty_hi FROM qts_rollup_state WHERE name = ?1", err, &st);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    *lo = *hi = QTS_STORE_NULL;
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
        *lo = sqlite3_column_int64(st, 0);
        *hi = sqlite3_column_int64(st, 1);
    }
    sqlite3_finalize(st);
    return 0;
}

static int ss_refresh_rollups(void *self, int64_t now_ns, struct qts_err *err)
{
    struct ss *s = self;
    int64_t tlo, thi, llo, lhi;
    int rc = exec_sql(s, "BEGIN IMMEDIATE", err);
    if (rc)
        return rc;
    if ((rc = take_dirty(s, "ohlcv", &tlo, &thi, err)) ||
        (rc = take_dirty(s, "ledger", &llo, &lhi, err)))
        goto fail;
    char sql[4096];
    if (tlo != QTS_STORE_NULL) {
        int64_t mlo = tlo - tlo % STORE_NS_PER_MIN,
                mhi = thi - thi % STORE_NS_PER_MIN + STORE_NS_PER_MIN;
        snprintf(
            sql, sizeof sql,
            "INSERT INTO ohlcv_1m (bucket, symbol, open, high, low, close, volume, tick_count) "
            "SELECT b, symbol, o, max(price), min(price), c, sum(volume), count(*) FROM ("
            " SELECT symbol, time - time %% 60000000000 AS b, price, volume,"
            " first_value(price) OVER w AS o,"
            " last_value(price) OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) "
            "AS c"
            " FROM tick_data WHERE kind = 1 AND time >= %" PRId64 " AND time < %" PRId64
            " WINDOW w AS (PARTITION BY symbol, time - time %% 60000000000 ORDER BY time, rec_id))"
            " WHERE 1 GROUP BY symbol, b ON CONFLICT (symbol, bucket) DO UPDATE SET open = "
            "excluded.open,"
            " high = excluded.high, low = excluded.low, close = excluded.close,"
            " volume = excluded.volume, tick_count = excluded.tick_count",
            mlo, mhi);
        if ((rc = exec_sql(s, sql, err)))
            goto fail;
        int64_t dlo = store_day_start_ns(tlo), dhi = store_day_start_ns(thi) + STORE_NS_PER_DAY;
        snprintf(
            sql, sizeof sql,
            "INSERT INTO ohlcv_1d (time, symbol, open, high, low, close, volume) "
            "SELECT b, symbol, o, max(price), min(price), c, sum(volume) FROM ("
            " SELECT symbol, (time + 32400000000000) - (time + 32400000000000) %% 86400000000000"
            " - 32400000000000 AS b, price, volume, first_value(price) OVER w AS o,"
            " last_value(price) OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) "
            "AS c"
            " FROM tick_data WHERE kind = 1 AND time >= %" PRId64 " AND time < %" PRId64
            " WINDOW w AS (PARTITION BY symbol, (time + 32400000000000) / 86400000000000"
            " ORDER BY time, rec_id)) WHERE 1 GROUP BY symbol, b ON CONFLICT (symbol, time) DO "
            "UPDATE SET"
            " open = excluded.open, high = excluded.high, low = excluded.low,"
            " close = excluded.close, volume = excluded.volume",
            dlo, dhi);
        if ((rc = exec_sql(s, sql, err)))
            goto fail;
    }
    if (llo != QTS_STORE_NULL) {
        int64_t hlo = llo - llo % STORE_NS_PER_HOUR,
                hhi = lhi - lhi % STORE_NS_PER_HOUR + STORE_NS_PER_HOUR;
        int64_t dlo = store_day_start_ns(llo), dhi = store_day_start_ns(lhi) + STORE_NS_PER_DAY;
#define DAY_EXPR "date(timestamp / 1000000000 + 32400, 'unixepoch')"
#define SUMS                                                          \
    "count(*), sum(CASE WHEN side = 'BUY' THEN amount ELSE 0 END), "  \
    "sum(CASE WHEN side = 'SELL' THEN amount ELSE 0 END), sum(fee), " \
    "coalesce(sum(realized_pnl), 0)"
        snprintf(
            sql, sizeof sql,
            "DELETE FROM hourly_pnl WHERE host_id = '%s' AND hour >= %" PRId64
            " AND hour < %" PRId64 ";"
            "INSERT INTO hourly_pnl SELECT host_id, timestamp - timestamp %% 3600000000000, "
            "coalesce(strategy_tag, ''), " SUMS ", run_id FROM t_ledger WHERE host_id = '%s' AND "
            "timestamp >= %" PRId64 " AND timestamp < %" PRId64 " GROUP BY 1, 2, 3, run_id;"
            "DELETE FROM daily_metrics WHERE host_id = '%s' AND day >= date(%" PRId64
            " / 1000000000 + 32400, 'unixepoch') AND day < date(%" PRId64
            " / 1000000000 + 32400, 'unixepoch');"
            "INSERT INTO daily_metrics SELECT host_id, " DAY_EXPR ", " SUMS
            ", count(DISTINCT symbol), run_id FROM t_ledger WHERE host_id = '%s' AND timestamp >= "
            "%" PRId64 " AND timestamp < %" PRId64 " GROUP BY 1, 2, run_id;",
            s->host_id, hlo, hhi, s->host_id, hlo, hhi, s->host_id, dlo, dhi, s->host_id, dlo, dhi);
        if ((rc = exec_sql(s, sql, err)))
            goto fail;
        snprintf(
            sql, sizeof sql,
            "DELETE FROM strategy_performance WHERE host_id = '%s' AND as_of >= date(%" PRId64
            " / 1000000000 + 32400, 'unixepoch') AND as_of < date(%" PRId64
            " / 1000000000 + 32400, 'unixepoch');"
            "INSERT INTO strategy_performance (host_id, as_of, strategy, trades, wins, win_rate, "
            "total_pnl, avg_pnl, run_id) SELECT host_id, " DAY_EXPR
            ", coalesce(strategy_tag, ''), count(*), "
            "sum(realized_pnl > 0), CASE WHEN count(realized_pnl) > 0 THEN "
            "CAST(sum(realized_pnl > 0) AS REAL) / count(realized_pnl) END, "
            "coalesce(sum(realized_pnl), 0), avg(realized_pnl), run_id FROM t_ledger WHERE "
            "host_id = '%s' AND timestamp >= %" PRId64 " AND timestamp < %" PRId64
            " GROUP BY 1, 2, 3, run_id;",
            s->host_id, dlo, dhi, s->host_id, dlo, dhi);
        if ((rc = exec_sql(s, sql, err)))
            goto fail;
    }
    snprintf(
        sql, sizeof sql,
        "UPDATE qts_rollup_state SET dirty_lo = NULL, dirty_hi = NULL, refreshed_at = %" PRId64,
        now_ns);
    if ((rc = exec_sql(s, sql, err)) || (rc = exec_sql(s, "COMMIT", err)))
        goto fail;
    return 0;
fail:
    exec_sql(s, "ROLLBACK", NULL);
    return rc;
}

/* ------------------------------------------------------------- export */

/* export_table: every row of one record table as records (qts migrate
 * --from), decoded by the same column table the writes use. */
static int ss_export_table(void *self, const char *table, qts_store_record_fn cb, void *arg,
                           struct qts_err *err)
{
    struct ss *s = self;
    int t = 0;
    while (t < STORE_T_COUNT && strcmp(store_tabs[t].name, table) != 0)
        t++;
    if (t == STORE_T_COUNT)
        return qts_err_set(err, QTS_ENOENT, "store_sqlite: no record table %s", table);
    const struct store_tab *tab = &store_tabs[t];
    char sql[2048];
    size_t n = (size_t)snprintf(sql, sizeof sql, "SELECT ");
    bool has_host = false;
    for (int k = 0; k < tab->n; k++) {
        has_host |= tab->cols[k].src == SRC_HOST;
        n += (size_t)snprintf(sql + n, sizeof sql - n, "%s%s", k ? ", " : "", tab->cols[k].name);
    }
    snprintf(sql + n, sizeof sql - n, " FROM %s%s ORDER BY rowid", tab->name,
             has_host ? " WHERE host_id = ?1" : "");
    sqlite3_stmt *st;
    int rc = run_query(s, sql, err, &st);
    if (rc)
        return rc;
    if (has_host)
        sqlite3_bind_text(st, 1, s->host_id, -1, SQLITE_STATIC);
    while (rc == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct store_val v[STORE_COLS_MAX];
        for (int k = 0; k < tab->n; k++) {
            const struct store_col *c = &tab->cols[k];
            struct store_val *x = &v[k];
            memset(x, 0, sizeof *x);
            x->type = c->type;
            x->is_null = sqlite3_column_type(st, k) == SQLITE_NULL;
            switch (c->type) {
            case STORE_TEXT:
            case STORE_TEXTN: x->s = (const char *)sqlite3_column_text(st, k); break;
            case STORE_DBL: x->d = sqlite3_column_double(st, k); break;
            case STORE_HASH:
                x->hash = sqlite3_column_bytes(st, k) == 32 ? sqlite3_column_blob(st, k) : NULL;
                break;
            case STORE_FIXED: {
                /* constant-exponent columns (cash) at their own exponent,
                 * the rest at the columns' 8 decimals */
                x->exp = c->aux < 0 ? (uint8_t)(-1 - c->aux) : 8;
                struct store_row row = {.rd = &ss_reader, .res = st};
                x->i = col_fixed(&row, k, x->exp);
                x->is_null = x->is_null || x->i == QTS_STORE_NULL;
                break;
            }
            default: x->i = sqlite3_column_int64(st, k);
            }
        }
        union qts_store_any u;
        rc = cb(arg, store_record_from_values(t, v, &u));
    }
    return rows_done(s, st, rc, err);
}

/* ------------------------------------------------------------- descriptor */

static const struct qts_store_ops ss_ops = {.struct_size = sizeof(struct qts_store_ops),
                                            .migrate = ss_migrate,
                                            .write_batch = ss_write_batch,
                                            .ping = ss_ping,
                                            .load_state = ss_load_state,
                                            .query = ss_query,
                                            .maintain = ss_maintain,
                                            .refresh_rollups = ss_refresh_rollups,
                                            .export_table = ss_export_table};

/* Every key of the plugin's config:; the defaults are the ones ss_init
 * starts from. */
static const struct qts_cfg_key ss_keys[] = {
    QTS_CFG_STR("path", "var/qts.db", "the database file"),
    QTS_CFG_DURATION("busy_timeout_ms", "5000", "how long a write waits for a lock"),
    QTS_CFG_STR("synchronous", "normal", "normal or full (fsync every commit)"),
    QTS_CFG_INT("cache_mib", "2", "page cache bound in MiB (1..65536)"),
    STORE_KEYS_HOST_AND_RETENTION,
    QTS_CFG_END};

QTS_PLUGIN_DEFINE("store_sqlite", QTS_KIND_STORE, "1.0.0", &ss_ops, ss_keys, 0, .init = ss_init,
                  .start = ss_start, .stop = ss_stop, .destroy = ss_destroy);
