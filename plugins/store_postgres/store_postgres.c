/* store_postgres.c — the PostgreSQL store (libpq). Ticks go in with COPY,
 * everything else through prepared statements, one transaction per batch.
 * Time series are native range partitions (sql/postgres/0002) that this
 * plugin creates ahead and on demand and drops behind per retention; with
 * TimescaleDB (detected at the first migrate) they are hypertables and the
 * extension's policies own chunks and retention.
 *
 * Connection loss: any failure with the connection gone (or SQLSTATE class
 * 08 / 57P) returns QTS_ENET and drops the connection; the next call
 * reconnects. The store writer spills meanwhile and replays later; the
 * unique keys on (host_id, rec_id[, time]) make the replay exactly once.
 *
 * Runs on the store writer thread; every call may block.
 *
 * Config: conninfo (else the secret named by conninfo_secret, default
 * "pg_conninfo", through the host's secrets lookup), host_id ("qts"), schema (a
 * private schema, created by migrate; default: the server's search_path),
 * statement_timeout_ms (5000), connect_timeout_s (3), timescaledb
 * ("auto" | "off" | "require"), retention.tick_days 7,
 * retention.bar_1m_days 30, retention.exec_log_days 90,
 * retention.feedback_days 180, retention.decision_days 365,
 * partition.premake_days 7.
 */
#include <inttypes.h>
#include <libpq-fe.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qts/qts_plugin.h"
#include "qts/qts_store.h"
#include "store_cols.h"
#include "store_fmt.h"
#include "store_rows.h"

#include "pg_migrations.inc"

/* Prepared statements: one INSERT per table (store_cols.h), then the
 * rollups' dirty mark. */
enum { ST_DIRTY = STORE_T_COUNT, ST_COUNT };

static const char dirty_sql[] =
    "UPDATE qts_rollup_state SET dirty_lo = least(coalesce(dirty_lo, $2), $2), "
    "dirty_hi = greatest(coalesce(dirty_hi, $3), $3) WHERE name = $1";

/* Partitioned time series. */
enum { PT_TICK, PT_EXEC, PT_FEEDBACK, PT_DECISION, PT_COUNT };
static const struct {
    const char *parent;
    int64_t step_days;
} pt_def[PT_COUNT] = {
    [PT_TICK] = {"tick_data", 1},
    [PT_EXEC] = {"execution_logs", 1},
    [PT_FEEDBACK] = {"feedback_data", 7},
    [PT_DECISION] = {"decision_log", 30},
};
/* Partition origin: Monday 2000-01-03 00:00 UTC, so weekly steps start Mondays. */
#define PT_ORIGIN_NS (INT64_C(946857600) * STORE_NS_PER_S)

#define KNOWN_MAX 2048
#define NPARAM 30

struct pg {
    const struct qts_host_api *host;
    void *owner;
    char *conninfo; /* owned */
    char host_id[64];
    char schema[64];  /* "" = the server's search_path */
    int64_t stmt_timeout_ms, connect_timeout_s, premake_days;
    int64_t keep_days[PT_COUNT], keep_bar_days;
    int tsdb_mode; /* 0 auto, 1 off, 2 require */
    PGconn *conn;
    int prepared[ST_COUNT];
    int is_tsdb;
    struct { int pt; int64_t lo; } known[KNOWN_MAX];
    size_t n_known;
    char *copy;
    size_t copy_len, copy_cap;
    struct store_dirty dirty; /* what the current batch touched */
    /* parameter scratch */
    char pool[NPARAM][72];
    const char *val[NPARAM];
};

#define LOG(s, lvl, ...) (s)->host->log((s)->owner, (lvl), __VA_ARGS__)

static void disconnect(struct pg *s)
{
    if (s->conn)
        PQfinish(s->conn);
    s->conn = NULL;
    memset(s->prepared, 0, sizeof s->prepared);
}

/* Translate a failed result (may be NULL) into a status; drops the
 * connection when it is gone. */
static int pg_fail(struct pg *s, PGresult *r, struct qts_err *err, const char *what)
{
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    int gone = !s->conn || PQstatus(s->conn) != CONNECTION_OK ||
               (state && (strncmp(state, "08", 2) == 0 || strncmp(state, "57P", 3) == 0));
    const char *msg = r ? PQresultErrorMessage(r) : (s->conn ? PQerrorMessage(s->conn) : "");
    char clean[200];
    store_copy(clean, sizeof clean, msg && *msg ? msg : "connection lost");
    char *nl = strchr(clean, '\n');
    if (nl)
        *nl = '\0';
    int code = gone ? QTS_ENET : QTS_EDB;
    qts_err_set(err, code, "postgres %s: %s%s%s", what, clean, state ? " sqlstate=" : "",
                state ? state : "");
    if (gone)
        disconnect(s);
    return code;
}

static int pg_exec(struct pg *s, const char *sql, struct qts_err *err)
{
    PGresult *r = PQexec(s->conn, sql);
    ExecStatusType st = PQresultStatus(r);
    int rc = 0;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
        rc = pg_fail(s, r, err, "exec");
    PQclear(r);
    return rc;
}

static void rollback(struct pg *s)
{
    if (s->conn && PQstatus(s->conn) == CONNECTION_OK) {
        PGresult *r = PQexec(s->conn, "ROLLBACK");
        PQclear(r);
    }
}

static int read_backend(struct pg *s)
{
    PGresult *r = PQexec(s->conn, "SELECT backend FROM schema_migrations ORDER BY version LIMIT 1");
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
        s->is_tsdb = strcmp(PQgetvalue(r, 0, 0), "timescaledb") == 0;
    PQclear(r);
    return 0;
}

/* Server notices go to the host log, not to stderr. */
static void notice_cb(void *arg, const char *msg)
{
    struct pg *s = arg;
    char line[200];
    store_copy(line, sizeof line, msg);
    char *nl = strchr(line, '\n');
    if (nl)
        *nl = '\0';
    LOG(s, QTS_LOG_DEBUG, "store_postgres notice msg=%s", line);
}

static int ensure_conn(struct pg *s, struct qts_err *err)
{
    if (s->conn && PQstatus(s->conn) == CONNECTION_OK)
        return 0;
    disconnect(s);
    char ct[24];
    snprintf(ct, sizeof ct, "%" PRId64, s->connect_timeout_s);
    const char *keys[] = {"dbname", "connect_timeout", "application_name", NULL};
    const char *vals[] = {s->conninfo, ct, "qts", NULL};
    s->conn = PQconnectdbParams(keys, vals, 1);
    if (!s->conn || PQstatus(s->conn) != CONNECTION_OK) {
        char msg[200];
        store_copy(msg, sizeof msg, s->conn ? PQerrorMessage(s->conn) : "out of memory");
        char *nl = strchr(msg, '\n');
        if (nl)
            *nl = '\0';
        disconnect(s);
        return qts_err_set(err, QTS_ENET, "postgres connect: %s", msg);
    }
    PQsetNoticeProcessor(s->conn, notice_cb, s);
    char set[160];
    snprintf(set, sizeof set,
             "SET TIME ZONE 'UTC'; SET DateStyle = 'ISO, YMD'; SET statement_timeout = %" PRId64
             "; SET client_min_messages = warning",
             s->stmt_timeout_ms);
    int rc = pg_exec(s, set, err);
    if (rc == 0 && s->schema[0]) {
        /* a private schema: every unqualified name resolves there first */
        snprintf(set, sizeof set, "SET search_path TO %s, public", s->schema);
        rc = pg_exec(s, set, err);
    }
    if (rc == 0)
        read_backend(s);
    return rc;
}

static int prepare(struct pg *s, int i, struct qts_err *err)
{
    if (s->prepared[i])
        return 0;
    char name[16], sql[4096];
    snprintf(name, sizeof name, "q%d", i);
    if (i == ST_DIRTY)
        store_copy(sql, sizeof sql, dirty_sql);
    else if (store_insert_sql(&store_tabs[i], '$', sql, sizeof sql) < 0)
        return qts_err_set(err, QTS_ERANGE, "store_postgres: INSERT of %s too long",
                           store_tabs[i].name);
    PGresult *r = PQprepare(s->conn, name, sql, 0, NULL);
    int rc = PQresultStatus(r) == PGRES_COMMAND_OK ? 0 : pg_fail(s, r, err, "prepare");
    PQclear(r);
    if (rc == 0)
        s->prepared[i] = 1;
    return rc;
}

static int run_prepared(struct pg *s, int i, int nparams, struct qts_err *err)
{
    int rc = prepare(s, i, err);
    if (rc)
        return rc;
    char name[16];
    snprintf(name, sizeof name, "q%d", i);
    PGresult *r = PQexecPrepared(s->conn, name, nparams, s->val, NULL, NULL, 0);
    rc = PQresultStatus(r) == PGRES_COMMAND_OK ? 0 : pg_fail(s, r, err, "insert");
    PQclear(r);
    return rc;
}

/* ------------------------------------------------------------- params */

/* A value as PostgreSQL text (NULL for SQL NULL), in s->pool[i] when it
 * needs room. */
static const char *pg_text(struct pg *s, int i, const struct store_val *v)
{
    char *buf = s->pool[i];
    size_t cap = sizeof s->pool[i];
    if (v->is_null)
        return NULL;
    switch (v->type) {
    case STORE_TEXT:
    case STORE_TEXTN: return v->s;
    case STORE_FIXED: store_fmt_fixed(buf, cap, v->i, v->exp); return buf;
    case STORE_TS:
    case STORE_TSN: store_fmt_ts(buf, cap, v->i); return buf;
    case STORE_BOOL: return v->i ? "t" : "f";
    case STORE_DBL:
        if (isinf(v->d))
            return NULL;
        snprintf(buf, cap, "%.17g", v->d);
        return buf;
    case STORE_HASH: /* bytea hex */
        buf[0] = '\\';
        buf[1] = 'x';
        for (int k = 0; k < 32; k++)
            snprintf(buf + 2 + 2 * k, 3, "%02x", v->hash[k]);
        return buf;
    default: snprintf(buf, cap, "%" PRId64, v->i); return buf;
    }
}

/* Parameters of the reads and the dirty mark. */
static void p_str(struct pg *s, int i, const char *v) { s->val[i] = v ? v : ""; }
static void p_i64(struct pg *s, int i, int64_t v)
{
    const struct store_val x = {.type = STORE_INT, .i = v};
    s->val[i] = pg_text(s, i, &x);
}
static void p_ts(struct pg *s, int i, int64_t ns)
{
    const struct store_val x = {.type = STORE_TS, .i = ns};
    s->val[i] = pg_text(s, i, &x);
}

/* The statement's parameters from values v[0..n). */
static void pg_params(struct pg *s, const struct store_val *v, int n)
{
    for (int i = 0; i < n; i++)
        s->val[i] = pg_text(s, i, &v[i]);
}

/* ------------------------------------------------------------- lifecycle */

static void cfg_int(struct pg *s, const char *key, int64_t *v)
{
    int64_t x;
    if (s->host->cfg_int && s->host->cfg_int(s->owner, key, &x, NULL) == 0 && x >= 0)
        *v = x;
}

static int pg_init(const struct qts_host_api *host, void *owner, void **self, struct qts_err *err)
{
    struct pg *s = calloc(1, sizeof *s);
    if (!s)
        return qts_err_set(err, QTS_ENOMEM, "store_postgres: out of memory");
    s->host = host;
    s->owner = owner;
    const char *v = NULL;
    char secret[1024];
    if (!(host->cfg_str && host->cfg_str(owner, "conninfo", &v, NULL) == 0 && v && *v)) {
        /* a connection string often carries a password: the host's
         * secrets lookup (environment or a 0600 file), under a name the
         * config may choose */
        const char *name = "pg_conninfo";
        if (host->cfg_str && host->cfg_str(owner, "conninfo_secret", &v, NULL) == 0 && v && *v)
            name = v;
        struct qts_err e2;
        qts_err_clear(&e2);
        v = host->secret_get && host->secret_get(owner, name, secret, sizeof secret, &e2) == 0
                ? secret
                : NULL;
        if (!v || !*v) {
            free(s);
            return qts_err_set(err, QTS_ECONFIG,
                               "store_postgres: no conninfo in the config and secret %s not "
                               "set: %s",
                               name, v ? "empty" : e2.msg);
        }
    }
    s->conninfo = strdup(v);
    memset(secret, 0, sizeof secret);
    store_copy(s->host_id, sizeof s->host_id, "qts");
    if (host->cfg_str && host->cfg_str(owner, "host_id", &v, NULL) == 0 && v && *v)
        store_copy(s->host_id, sizeof s->host_id, v);
    if (host->cfg_str && host->cfg_str(owner, "schema", &v, NULL) == 0 && v && *v) {
        for (const char *q = v; *q; q++)
            if (!((*q >= 'a' && *q <= 'z') || (*q >= '0' && *q <= '9') || *q == '_') ||
                q - v >= (long)sizeof s->schema - 1) {
                free(s->conninfo);
                free(s);
                return qts_err_set(err, QTS_ECONFIG, "schema: '%s' must be lower-case letters, digits "
                                                     "and _ (at most 63)", v);
            }
        store_copy(s->schema, sizeof s->schema, v);
    }
    if (host->cfg_str && host->cfg_str(owner, "timescaledb", &v, NULL) == 0 && v) {
        if (strcmp(v, "off") == 0)
            s->tsdb_mode = 1;
        else if (strcmp(v, "require") == 0)
            s->tsdb_mode = 2;
        else if (strcmp(v, "auto") != 0) {
            free(s->conninfo);
            free(s);
            return qts_err_set(err, QTS_ECONFIG, "timescaledb: expected auto, off or require, got '%s'", v);
        }
    }
    s->stmt_timeout_ms = 5000;
    s->connect_timeout_s = 3;
    s->premake_days = 7;
    s->keep_days[PT_TICK] = 7;
    s->keep_days[PT_EXEC] = 90;
    s->keep_days[PT_FEEDBACK] = 180;
    s->keep_days[PT_DECISION] = 365;
    s->keep_bar_days = 30;
    cfg_int(s, "statement_timeout_ms", &s->stmt_timeout_ms);
    cfg_int(s, "connect_timeout_s", &s->connect_timeout_s);
    cfg_int(s, "partition.premake_days", &s->premake_days);
    cfg_int(s, "retention.tick_days", &s->keep_days[PT_TICK]);
    cfg_int(s, "retention.exec_log_days", &s->keep_days[PT_EXEC]);
    cfg_int(s, "retention.feedback_days", &s->keep_days[PT_FEEDBACK]);
    cfg_int(s, "retention.decision_days", &s->keep_days[PT_DECISION]);
    cfg_int(s, "retention.bar_1m_days", &s->keep_bar_days);
    *self = s;
    return 0;
}

static int pg_start(void *self, struct qts_err *err)
{
    struct pg *s = self;
    struct qts_err e;
    (void)err;
    /* a database that is away at start is not fatal: the store writer
     * spills until it answers, and every call reconnects */
    if (ensure_conn(s, &e) == 0)
        LOG(s, QTS_LOG_INFO, "store_postgres connected host_id=%s", s->host_id);
    else
        LOG(s, QTS_LOG_WARN, "store_postgres not connected yet err=%s", e.msg);
    return 0;
}

static int pg_stop(void *self)
{
    disconnect(self);
    return 0;
}

static void pg_destroy(void *self)
{
    struct pg *s = self;
    if (!s)
        return;
    disconnect(s);
    free(s->conninfo);
    free(s->copy);
    free(s);
}

static int pg_ping(void *self, struct qts_err *err)
{
    struct pg *s = self;
    int rc = ensure_conn(s, err);
    return rc ? rc : pg_exec(s, "SELECT 1", err);
}

/* ------------------------------------------------------------- migrate */

static int pg_migrate(void *self, struct qts_err *err)
{
    struct pg *s = self;
    int rc = ensure_conn(s, err);
    if (rc)
        return rc;
    if (s->schema[0]) {
        char sql[128];
        snprintf(sql, sizeof sql, "CREATE SCHEMA IF NOT EXISTS %s", s->schema);
        if ((rc = pg_exec(s, sql, err)))
            return rc;
    }
    rc = pg_exec(s,
                 "CREATE TABLE IF NOT EXISTS schema_migrations (version int PRIMARY KEY, "
                 "name text NOT NULL, checksum text NOT NULL, backend text NOT NULL "
                 "CHECK (backend IN ('pg','timescaledb')), applied_at timestamptz NOT NULL DEFAULT now())",
                 err);
    /* one migrating host at a time (several hosts may share the database) */
    if (rc == 0)
        rc = pg_exec(s, "SELECT pg_advisory_lock(7175001)", err);
    if (rc)
        return rc;
    int current = 0, applied = 0;
    PGresult *r = PQexec(s->conn, "SELECT coalesce(max(version), 0), "
                                  "(SELECT backend FROM schema_migrations ORDER BY version LIMIT 1) "
                                  "FROM schema_migrations");
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        rc = pg_fail(s, r, err, "migrate");
        PQclear(r);
        return rc;
    }
    current = atoi(PQgetvalue(r, 0, 0));
    int have_backend = !PQgetisnull(r, 0, 1);
    if (have_backend)
        s->is_tsdb = strcmp(PQgetvalue(r, 0, 1), "timescaledb") == 0;
    PQclear(r);
    int newest = pg_migrations_count ? pg_migrations[pg_migrations_count - 1].version : 0;
    if (current > newest) {
        rc = qts_err_set(err, QTS_ESTATE,
                         "database schema version %d is newer than this build (%d): "
                         "upgrade qts before using this database",
                         current, newest);
        goto out;
    }
    if (!have_backend) {
        /* first migrate: the backend is chosen once per database */
        s->is_tsdb = 0;
        int available = 0;
        if (s->tsdb_mode != 1) {
            r = PQexec(s->conn, "SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'");
            available = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1;
            PQclear(r);
        }
        if (available) {
            struct qts_err e2;
            if (pg_exec(s, "CREATE EXTENSION IF NOT EXISTS timescaledb", &e2) == 0)
                s->is_tsdb = 1;
            else
                LOG(s, QTS_LOG_WARN, "timescaledb present but not loadable, using native partitions err=%s",
                    e2.msg);
        }
        if (!s->is_tsdb && s->tsdb_mode == 2) {
            rc = qts_err_set(err, QTS_EUNSUPPORTED,
                             "timescaledb: require, but the extension is not available on this server");
            goto out;
        }
        LOG(s, QTS_LOG_INFO, "store_postgres backend=%s", s->is_tsdb ? "timescaledb" : "pg");
    }
    for (size_t i = 0; i < pg_migrations_count; i++) {
        const struct store_migration *m = &pg_migrations[i];
        if (m->version <= current)
            continue;
        if (s->is_tsdb)
            for (size_t k = 0; k < pg_migrations_tsdb_count; k++)
                if (pg_migrations_tsdb[k].version == m->version)
                    m = &pg_migrations_tsdb[k];
        if ((rc = pg_exec(s, "BEGIN", err)))
            goto out;
        rc = pg_exec(s, m->sql, err);
        if (rc == 0) {
            char ver[16], sum[24];
            snprintf(ver, sizeof ver, "%d", m->version);
            snprintf(sum, sizeof sum, "%016" PRIx64, store_fnv1a(m->sql));
            const char *v[4] = {ver, m->name, sum, s->is_tsdb ? "timescaledb" : "pg"};
            r = PQexecParams(s->conn, "INSERT INTO schema_migrations (version, name, checksum, backend) "
                                      "VALUES ($1, $2, $3, $4)", 4, NULL, v, NULL, NULL, 0);
            if (PQresultStatus(r) != PGRES_COMMAND_OK)
                rc = pg_fail(s, r, err, "migrate");
            PQclear(r);
        }
        if (rc == 0)
            rc = pg_exec(s, "COMMIT", err);
        if (rc) {
            rollback(s);
            char tmp[256];
            snprintf(tmp, sizeof tmp, "%s", err ? err->msg : "");
            qts_err_set(err, rc, "migration %04d_%s: %.200s", m->version, m->name, tmp);
            goto out;
        }
        LOG(s, QTS_LOG_INFO, "store_postgres migration applied version=%d name=%s", m->version, m->name);
        applied++;
    }
out:
    if (s->conn)
        pg_exec(s, "SELECT pg_advisory_unlock(7175001)", NULL);
    memset(s->prepared, 0, sizeof s->prepared);
    if (s->conn)
        PQclear(PQexec(s->conn, "DEALLOCATE ALL"));
    return rc ? rc : applied;
}

/* ------------------------------------------------------------- partitions */

static int64_t part_lo(int pt, int64_t t)
{
    int64_t step = pt_def[pt].step_days * STORE_NS_PER_DAY;
    int64_t d = t - PT_ORIGIN_NS;
    int64_t k = d / step - (d % step < 0);
    return PT_ORIGIN_NS + k * step;
}

static void part_name(char *buf, size_t cap, int pt, int64_t lo)
{
    time_t t = (time_t)(lo / STORE_NS_PER_S);
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(buf, cap, "%s_p%04d%02d%02d", pt_def[pt].parent, tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday);
}

static int known(struct pg *s, int pt, int64_t lo)
{
    for (size_t i = s->n_known; i-- > 0;)
        if (s->known[i].pt == pt && s->known[i].lo == lo)
            return 1;
    return 0;
}

static int ensure_partition(struct pg *s, int pt, int64_t t, struct qts_err *err)
{
    if (s->is_tsdb)
        return 0;
    int64_t lo = part_lo(pt, t);
    if (known(s, pt, lo))
        return 0;
    char name[64], a[48], b[48], sql[320];
    part_name(name, sizeof name, pt, lo);
    store_fmt_ts(a, sizeof a, lo);
    store_fmt_ts(b, sizeof b, lo + pt_def[pt].step_days * STORE_NS_PER_DAY);
    snprintf(sql, sizeof sql,
             "CREATE TABLE IF NOT EXISTS %s PARTITION OF %s FOR VALUES FROM ('%s') TO ('%s')", name,
             pt_def[pt].parent, a, b);
    int rc = pg_exec(s, sql, err);
    if (rc)
        return rc;
    if (s->n_known == KNOWN_MAX)
        s->n_known = 0; /* forget; re-checked with IF NOT EXISTS */
    s->known[s->n_known].pt = pt;
    s->known[s->n_known].lo = lo;
    s->n_known++;
    return 0;
}

static int rec_partition(const struct qts_store_record *r)
{
    switch (r->kind) {
    case QTS_REC_TICK: return PT_TICK;
    case QTS_REC_EXEC_LOG: return PT_EXEC;
    case QTS_REC_FEEDBACK: return PT_FEEDBACK;
    case QTS_REC_DECISION: return PT_DECISION;
    default: return -1;
    }
}

/* ------------------------------------------------------------- writes */

static void copy_put(struct pg *s, const char *p, size_t n)
{
    if (s->copy_len + n > s->copy_cap) {
        size_t cap = s->copy_cap ? s->copy_cap * 2 : 65536;
        while (cap < s->copy_len + n)
            cap *= 2;
        char *np = realloc(s->copy, cap);
        if (!np)
            abort();
        s->copy = np;
        s->copy_cap = cap;
    }
    memcpy(s->copy + s->copy_len, p, n);
    s->copy_len += n;
}

/* COPY text format: escape backslash, tab, newline, carriage return. */
static void copy_text(struct pg *s, const char *v, int null_if_empty)
{
    if (!v || (null_if_empty && !*v)) {
        copy_put(s, "\\N", 2);
        return;
    }
    for (const char *p = v; *p; p++) {
        char c = *p;
        if (c == '\\' || c == '\t' || c == '\n' || c == '\r') {
            char e[2] = {'\\', c == '\t' ? 't' : c == '\n' ? 'n' : c == '\r' ? 'r' : '\\'};
            copy_put(s, e, 2);
        } else {
            copy_put(s, &c, 1);
        }
    }
}

/* One row of the tick table in COPY text format. */
static void copy_row(struct pg *s, const struct qts_store_record *r)
{
    const struct store_tab *t = &store_tabs[STORE_T_TICK];
    struct store_val v[STORE_COLS_MAX];
    store_values(t, r, s->host_id, v);
    for (int i = 0; i < t->n; i++) {
        if (i)
            copy_put(s, "\t", 1);
        copy_text(s, pg_text(s, 0, &v[i]), 0);
    }
    copy_put(s, "\n", 1);
}

static int copy_into(struct pg *s, const char *table, struct qts_err *err, const char **sqlstate_out,
                     char *state_buf)
{
    char sql[512];
    const struct store_tab *t = &store_tabs[STORE_T_TICK];
    size_t n = (size_t)snprintf(sql, sizeof sql, "COPY %s (", table);
    for (int i = 0; i < t->n && n < sizeof sql; i++)
        n += (size_t)snprintf(sql + n, sizeof sql - n, "%s%s", i ? ", " : "", t->cols[i].name);
    if (n < sizeof sql)
        snprintf(sql + n, sizeof sql - n, ") FROM STDIN");
    PGresult *r = PQexec(s->conn, sql);
    if (PQresultStatus(r) != PGRES_COPY_IN) {
        int rc = pg_fail(s, r, err, "copy");
        PQclear(r);
        return rc;
    }
    PQclear(r);
    int ok = PQputCopyData(s->conn, s->copy, (int)s->copy_len) == 1 &&
             PQputCopyEnd(s->conn, NULL) == 1;
    int rc = 0;
    *sqlstate_out = NULL;
    while ((r = PQgetResult(s->conn)) != NULL) {
        if (rc == 0 && PQresultStatus(r) != PGRES_COMMAND_OK) {
            const char *st = PQresultErrorField(r, PG_DIAG_SQLSTATE);
            if (st) {
                store_copy(state_buf, 8, st);
                *sqlstate_out = state_buf;
            }
            rc = pg_fail(s, r, err, "copy");
        }
        PQclear(r);
        if (!s->conn)
            break;
    }
    if (rc == 0 && !ok)
        rc = pg_fail(s, NULL, err, "copy");
    return rc;
}

/* All ticks of a batch in one COPY. A replay of rows already stored hits
 * the unique key: then the rows go through a staging table and
 * INSERT ... ON CONFLICT DO NOTHING (exactly once). */
static int write_ticks(struct pg *s, struct qts_err *err)
{
    int rc = pg_exec(s, "SAVEPOINT ticks", err);
    if (rc)
        return rc;
    const char *state = NULL;
    char sbuf[8];
    rc = copy_into(s, "tick_data", err, &state, sbuf);
    if (rc == QTS_EDB && state && strcmp(state, "23505") == 0) {
        if ((rc = pg_exec(s, "ROLLBACK TO SAVEPOINT ticks", err)) ||
            (rc = pg_exec(s, "CREATE TEMP TABLE IF NOT EXISTS qts_tick_stage "
                             "(LIKE tick_data INCLUDING DEFAULTS) ON COMMIT DELETE ROWS", err)) ||
            (rc = copy_into(s, "qts_tick_stage", err, &state, sbuf)) ||
            (rc = pg_exec(s, "INSERT INTO tick_data SELECT * FROM qts_tick_stage "
                             "ON CONFLICT DO NOTHING; TRUNCATE qts_tick_stage", err)))
            return rc;
    } else if (rc) {
        return rc;
    }
    return pg_exec(s, "RELEASE SAVEPOINT ticks", err);
}

static int write_one(struct pg *s, const struct qts_store_record *r, struct qts_err *err)
{
    int t = store_tab_of(r, err);
    if (t < 0)
        return t;
    struct store_val v[STORE_COLS_MAX];
    store_values(&store_tabs[t], r, s->host_id, v);
    pg_params(s, v, store_tabs[t].n);
    return run_prepared(s, t, store_tabs[t].n, err);
}

static int mark_dirty(struct pg *s, const char *name, int64_t lo, int64_t hi, struct qts_err *err)
{
    if (lo == QTS_STORE_NULL)
        return 0;
    p_str(s, 0, name);
    p_ts(s, 1, lo);
    p_ts(s, 2, hi);
    return run_prepared(s, ST_DIRTY, 3, err);
}

static int pg_write_batch(void *self, const struct qts_store_record *const *recs, size_t n,
                          struct qts_err *err)
{
    struct pg *s = self;
    int rc = ensure_conn(s, err);
    if (rc)
        return rc;
    /* partitions first, outside the transaction */
    for (size_t i = 0; i < n; i++) {
        int pt = rec_partition(recs[i]);
        if (pt >= 0 && (rc = ensure_partition(s, pt, recs[i]->ts_ns, err)))
            return rc;
    }
    s->copy_len = 0;
    store_dirty_clear(&s->dirty);
    for (size_t i = 0; i < n; i++) {
        store_dirty_add(&s->dirty, recs[i]);
        if (recs[i]->kind == QTS_REC_TICK)
            copy_row(s, recs[i]);
    }
    if ((rc = pg_exec(s, "BEGIN", err)))
        return rc;
    if (s->copy_len)
        rc = write_ticks(s, err);
    for (size_t i = 0; i < n && rc == 0; i++)
        if (recs[i]->kind != QTS_REC_TICK)
            rc = write_one(s, recs[i], err);
    if (rc == 0)
        rc = mark_dirty(s, "ohlcv", s->dirty.tick_lo, s->dirty.tick_hi, err);
    if (rc == 0)
        rc = mark_dirty(s, "ledger", s->dirty.led_lo, s->dirty.led_hi, err);
    if (rc == 0)
        rc = pg_exec(s, "COMMIT", err);
    if (rc) {
        rollback(s);
        if (err && strstr(err->msg, "sqlstate=23514"))
            s->n_known = 0; /* a partition went away: create again next time */
    }
    return rc;
}

/* ------------------------------------------------------------- reads */

/* store_rows.h reader over row->row of a PGresult (row->res); values come
 * as text. */
static int64_t v_fixed(const struct store_row *x, int col, unsigned exp)
{
    if (PQgetisnull(x->res, x->row, col))
        return QTS_STORE_NULL;
    int64_t v;
    return store_parse_fixed(PQgetvalue(x->res, x->row, col), exp, &v) == 0 ? v : QTS_STORE_NULL;
}

static int64_t v_ts(const struct store_row *x, int col)
{
    if (PQgetisnull(x->res, x->row, col))
        return QTS_STORE_NULL;
    int64_t v;
    return store_parse_ts(PQgetvalue(x->res, x->row, col), &v) == 0 ? v : QTS_STORE_NULL;
}

static double v_dbl(const struct store_row *x, int col)
{
    return PQgetisnull(x->res, x->row, col) ? NAN : strtod(PQgetvalue(x->res, x->row, col), NULL);
}

static int64_t v_i64(const struct store_row *x, int col)
{
    return PQgetisnull(x->res, x->row, col) ? 0
                                            : strtoll(PQgetvalue(x->res, x->row, col), NULL, 10);
}

/* PQgetvalue gives "" for NULL */
static const char *v_str(const struct store_row *x, int col)
{
    return PQgetvalue(x->res, x->row, col);
}

static const struct store_row_reader pg_reader = {
    .str = v_str, .i64 = v_i64, .dbl = v_dbl, .fixed = v_fixed, .ts = v_ts,
};

static PGresult *pg_select(struct pg *s, const char *sql, int n, struct qts_err *err)
{
    if (ensure_conn(s, err) != 0)
        return NULL;
    PGresult *r = PQexecParams(s->conn, sql, n, NULL, s->val, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        pg_fail(s, r, err, "query");
        PQclear(r);
        return NULL;
    }
    return r;
}

static int feedback_aggs(struct pg *s, int64_t from, int64_t to, const char *symbol, const char *tag,
                         int group, qts_store_record_fn cb, void *arg, struct qts_err *err)
{
    p_str(s, 0, s->host_id);
    p_ts(s, 1, from);
    p_ts(s, 2, to);
    p_str(s, 3, symbol);
    p_str(s, 4, tag);
    const char *sql =
        group ? "SELECT symbol, coalesce(strategy_tag, ''), count(*), avg(total_slippage_bps), "
                "avg(market_impact_bps), avg(execution_quality_score), avg(avg_fill_latency_ms), "
                "avg(fill_ratio) FROM feedback_data WHERE host_id = $1 AND time >= $2 AND time < $3 "
                "AND $4::text IS NOT NULL AND $5::text IS NOT NULL GROUP BY 1, 2 ORDER BY 1, 2"
              : "SELECT $4::text, $5::text, count(*), avg(total_slippage_bps), avg(market_impact_bps), "
                "avg(execution_quality_score), avg(avg_fill_latency_ms), avg(fill_ratio) "
                "FROM feedback_data WHERE host_id = $1 AND time >= $2 AND time < $3 "
                "AND ($4 = '' OR symbol = $4) AND ($5 = '' OR strategy_tag = $5)";
    PGresult *r = pg_select(s, sql, 5, err);
    if (!r)
        return err ? err->code : QTS_EDB;
    int rc = 0;
    for (int i = 0; i < PQntuples(r) && rc == 0; i++) {
        struct qts_store_feedback_agg a;
        struct store_row row = {.rd = &pg_reader, .res = r, .row = i};
        store_row_feedback_agg(&row, from, &a);
        rc = cb(arg, &a.h);
    }
    PQclear(r);
    return rc;
}

static int pg_load_state(void *self, const struct qts_store_load_opts *o, qts_store_record_fn cb,
                         void *arg, struct qts_err *err)
{
    struct pg *s = self;
    unsigned pe = o->px_exp, qe = o->qty_exp;
    int rc = 0;
    p_str(s, 0, s->host_id);
    PGresult *r = pg_select(s, "SELECT symbol, strategy_type, qty, avg_price, market, exposure_value, "
                            "exposure_pct, unrealized_pnl, updated_at, rec_id FROM positions "
                            "WHERE host_id = $1 ORDER BY symbol, strategy_type", 1, err);
    if (!r)
        return err ? err->code : QTS_EDB;
    for (int i = 0; i < PQntuples(r) && rc == 0; i++) {
        struct qts_store_position p;
        struct store_row row = {.rd = &pg_reader, .res = r, .row = i};
        store_row_position(&row, pe, qe, &p);
        rc = cb(arg, &p.h);
    }
    PQclear(r);
    if (rc)
        return rc;
    p_str(s, 0, s->host_id);
    r = pg_select(s, "SELECT order_id, client_order_id, venue_order_id, symbol, strategy_tag, strategy_id, "
                  "side, order_type, tif, state, price, qty, filled_qty, avg_fill_price, decision_price, "
                  "decided_at, sent_at, done_at, updated_at, rec_id FROM orders "
                  "WHERE host_id = $1 AND state NOT IN (4, 6, 7, 8) ORDER BY order_id", 1, err);
    if (!r)
        return err ? err->code : QTS_EDB;
    for (int i = 0; i < PQntuples(r) && rc == 0; i++) {
        struct qts_store_order x;
        struct store_row row = {.rd = &pg_reader, .res = r, .row = i};
        store_row_order(&row, pe, qe, &x);
        rc = cb(arg, &x.h);
    }
    PQclear(r);
    if (rc)
        return rc;
    p_str(s, 0, s->host_id);
    r = pg_select(s, "SELECT strategy_id, param_name, value, value_type, description, updated_at, rec_id "
                  "FROM strategies WHERE host_id = $1 ORDER BY strategy_id, param_name", 1, err);
    if (!r)
        return err ? err->code : QTS_EDB;
    for (int i = 0; i < PQntuples(r) && rc == 0; i++) {
        struct qts_store_param p;
        struct store_row row = {.rd = &pg_reader, .res = r, .row = i};
        store_row_param(&row, &p);
        rc = cb(arg, &p.h);
    }
    PQclear(r);
    if (rc)
        return rc;
    p_str(s, 0, s->host_id);
    r = pg_select(s, "SELECT config_key, value, description, updated_at, rec_id FROM risk_configs "
                  "WHERE host_id = $1 ORDER BY config_key", 1, err);
    if (!r)
        return err ? err->code : QTS_EDB;
    for (int i = 0; i < PQntuples(r) && rc == 0; i++) {
        struct qts_store_risk_config c;
        struct store_row row = {.rd = &pg_reader, .res = r, .row = i};
        store_row_risk_config(&row, &c);
        rc = cb(arg, &c.h);
    }
    PQclear(r);
    if (rc)
        return rc;
    int64_t lb = o->feedback_lookback_ns > 0 ? o->feedback_lookback_ns : 24 * STORE_NS_PER_HOUR;
    return feedback_aggs(s, o->now_ns - lb, o->now_ns, "", "", 1, cb, arg, err);
}

static int pg_query(void *self, const struct qts_store_query *q, qts_store_record_fn cb, void *arg,
                    struct qts_err *err)
{
    struct pg *s = self;
    unsigned pe = q->px_exp, qe = q->qty_exp;
    const char *sql;
    switch (q->kind) {
    case QTS_Q_TICKS:
        sql = "SELECT time, symbol, kind, price, volume, bid, ask, source, rec_id FROM tick_data "
              "WHERE symbol = $1 AND time >= $2 AND time < $3 AND $5::text IS NOT NULL "
              "ORDER BY time, rec_id LIMIT $4";
        break;
    case QTS_Q_BARS_1M:
        sql = "SELECT bucket, symbol, open, high, low, close, volume, tick_count FROM ohlcv_1m "
              "WHERE symbol = $1 AND bucket >= $2 AND bucket < $3 AND $5::text IS NOT NULL "
              "ORDER BY bucket LIMIT $4";
        break;
    case QTS_Q_BARS_1D:
        sql = "SELECT time, symbol, open, high, low, close, volume, 0 FROM ohlcv_1d "
              "WHERE symbol = $1 AND time >= $2 AND time < $3 AND $5::text IS NOT NULL "
              "ORDER BY time LIMIT $4";
        break;
    case QTS_Q_LEDGER:
        sql = "SELECT timestamp, symbol, side, qty, price, amount, fee, strategy_tag, order_id, broker, "
              "realized_pnl, rec_id FROM t_ledger WHERE host_id = $5 AND ($1 = '' OR symbol = $1) "
              "AND timestamp >= $2 AND timestamp < $3 ORDER BY timestamp DESC, id DESC LIMIT $4";
        break;
    case QTS_Q_DAILY_METRICS:
        sql = "SELECT day, trades, buy_amount, sell_amount, fees, realized_pnl, symbols FROM daily_metrics "
              "WHERE host_id = $5 AND $1::text IS NOT NULL AND day >= ($2::timestamptz AT TIME ZONE "
              "'Asia/Seoul')::date AND day < ($3::timestamptz AT TIME ZONE 'Asia/Seoul')::date "
              "ORDER BY day LIMIT $4";
        break;
    case QTS_Q_FEEDBACK_SUMMARY:
        return feedback_aggs(s, q->from_ns, q->to_ns, q->symbol, q->tag, 0, cb, arg, err);
    default:
        return qts_err_set(err, QTS_EUNSUPPORTED, "store_postgres: query kind %u", q->kind);
    }
    p_str(s, 0, q->symbol);
    p_ts(s, 1, q->from_ns);
    p_ts(s, 2, q->to_ns);
    if (q->limit)
        p_i64(s, 3, q->limit);
    else
        s->val[3] = NULL; /* LIMIT NULL = no limit */
    p_str(s, 4, s->host_id);
    PGresult *r = pg_select(s, sql, 5, err);
    if (!r)
        return err ? err->code : QTS_EDB;
    int rc = 0;
    for (int i = 0; i < PQntuples(r) && rc == 0; i++) {
        union qts_store_any u;
        struct store_row row = {.rd = &pg_reader, .res = r, .row = i};
        store_row_query(&row, q->kind, pe, qe, &u);
        rc = cb(arg, &u.h);
    }
    PQclear(r);
    return rc;
}

/* ------------------------------------------------------------- maintenance */

static int pg_maintain(void *self, int64_t now_ns, struct qts_err *err)
{
    struct pg *s = self;
    int rc = ensure_conn(s, err);
    if (rc)
        return rc;
    int dropped = 0;
    if (!s->is_tsdb) {
        for (int pt = 0; pt < PT_COUNT; pt++) {
            int64_t step = pt_def[pt].step_days * STORE_NS_PER_DAY;
            /* ahead: cover now .. now + premake days */
            for (int64_t t = part_lo(pt, now_ns); t <= now_ns + s->premake_days * STORE_NS_PER_DAY;
                 t += step)
                if ((rc = ensure_partition(s, pt, t, err)))
                    return rc;
            /* behind: drop partitions wholly older than the retention */
            p_str(s, 0, pt_def[pt].parent);
            PGresult *r = pg_select(s, "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = "
                                    "i.inhrelid WHERE i.inhparent = $1::regclass ORDER BY 1", 1, err);
            if (!r)
                return err ? err->code : QTS_EDB;
            int64_t cut = now_ns - s->keep_days[pt] * STORE_NS_PER_DAY;
            size_t plen = strlen(pt_def[pt].parent);
            for (int i = 0; i < PQntuples(r); i++) {
                const char *name = PQgetvalue(r, i, 0);
                int y, m, d;
                if (strncmp(name, pt_def[pt].parent, plen) != 0 ||
                    sscanf(name + plen, "_p%4d%2d%2d", &y, &m, &d) != 3)
                    continue;
                int64_t lo = store_days_from_civil(y, (unsigned)m, (unsigned)d) * STORE_NS_PER_DAY;
                if (lo + step > cut)
                    continue;
                char sql[128];
                snprintf(sql, sizeof sql, "DROP TABLE IF EXISTS %s", name);
                if ((rc = pg_exec(s, sql, err))) {
                    PQclear(r);
                    return rc;
                }
                for (size_t k = 0; k < s->n_known;) {
                    if (s->known[k].pt == pt && s->known[k].lo == lo)
                        s->known[k] = s->known[--s->n_known];
                    else
                        k++;
                }
                LOG(s, QTS_LOG_INFO, "store_postgres partition dropped name=%s", name);
                dropped++;
            }
            PQclear(r);
        }
    }
    /* ohlcv_1m is a rollup table: delete in batches, never one long lock */
    char cut[48], sql[256];
    store_fmt_ts(cut, sizeof cut, store_day_start_ns(now_ns - s->keep_bar_days * STORE_NS_PER_DAY));
    snprintf(sql, sizeof sql,
             "DELETE FROM ohlcv_1m WHERE ctid IN (SELECT ctid FROM ohlcv_1m WHERE bucket < '%s' LIMIT 10000)",
             cut);
    for (;;) {
        PGresult *r = PQexec(s->conn, sql);
        if (PQresultStatus(r) != PGRES_COMMAND_OK) {
            rc = pg_fail(s, r, err, "retention");
            PQclear(r);
            return rc;
        }
        int n = atoi(PQcmdTuples(r));
        PQclear(r);
        if (n < 10000)
            break;
    }
    return dropped;
}

static int pg_refresh_rollups(void *self, int64_t now_ns, struct qts_err *err)
{
    struct pg *s = self;
    int rc = ensure_conn(s, err);
    if (rc || (rc = pg_exec(s, "BEGIN", err)))
        return rc;
    s->val[0] = NULL;
    PGresult *r = pg_select(s, "SELECT name, dirty_lo, dirty_hi FROM qts_rollup_state "
                            "WHERE dirty_lo IS NOT NULL ORDER BY name FOR UPDATE", 0, err);
    if (!r) {
        rollback(s);
        return err ? err->code : QTS_EDB;
    }
    char tlo[48] = "", thi[48] = "", llo[48] = "", lhi[48] = "";
    for (int i = 0; i < PQntuples(r); i++) {
        if (strcmp(PQgetvalue(r, i, 0), "ohlcv") == 0) {
            store_copy(tlo, sizeof tlo, PQgetvalue(r, i, 1));
            store_copy(thi, sizeof thi, PQgetvalue(r, i, 2));
        } else if (strcmp(PQgetvalue(r, i, 0), "ledger") == 0) {
            store_copy(llo, sizeof llo, PQgetvalue(r, i, 1));
            store_copy(lhi, sizeof lhi, PQgetvalue(r, i, 2));
        }
    }
    PQclear(r);
    const char *steps[8];
    int nsteps = 0;
    if (*tlo) {
        steps[nsteps++] =
            "INSERT INTO ohlcv_1m AS o (bucket, symbol, open, high, low, close, volume, tick_count) "
            "SELECT date_trunc('minute', time), symbol, (array_agg(price ORDER BY time, rec_id))[1], "
            "max(price), min(price), (array_agg(price ORDER BY time DESC, rec_id DESC))[1], sum(volume), "
            "count(*) FROM tick_data WHERE kind = 1 AND time >= date_trunc('minute', $1::timestamptz) "
            "AND time < date_trunc('minute', $2::timestamptz) + interval '1 minute' GROUP BY 1, 2 "
            "ON CONFLICT (symbol, bucket) DO UPDATE SET open = EXCLUDED.open, high = EXCLUDED.high, "
            "low = EXCLUDED.low, close = EXCLUDED.close, volume = EXCLUDED.volume, "
            "tick_count = EXCLUDED.tick_count";
        steps[nsteps++] =
            "INSERT INTO ohlcv_1d AS o (time, symbol, open, high, low, close, volume) "
            "SELECT date_trunc('day', time, 'Asia/Seoul'), symbol, (array_agg(price ORDER BY time, rec_id))[1], "
            "max(price), min(price), (array_agg(price ORDER BY time DESC, rec_id DESC))[1], sum(volume) "
            "FROM tick_data WHERE kind = 1 AND time >= date_trunc('day', $1::timestamptz, 'Asia/Seoul') "
            "AND time < date_trunc('day', $2::timestamptz, 'Asia/Seoul') + interval '1 day' GROUP BY 1, 2 "
            "ON CONFLICT (symbol, time) DO UPDATE SET open = EXCLUDED.open, high = EXCLUDED.high, "
            "low = EXCLUDED.low, close = EXCLUDED.close, volume = EXCLUDED.volume";
    }
    int first_ledger = nsteps;
    if (*llo) {
#define PG_SUMS "count(*), coalesce(sum(amount) FILTER (WHERE side = 'BUY'), 0), " \
                "coalesce(sum(amount) FILTER (WHERE side = 'SELL'), 0), sum(fee), coalesce(sum(realized_pnl), 0)"
#define PG_DAY "(timestamp AT TIME ZONE 'Asia/Seoul')::date"
#define PG_DLO "($1::timestamptz AT TIME ZONE 'Asia/Seoul')::date"
#define PG_DHI "($2::timestamptz AT TIME ZONE 'Asia/Seoul')::date"
        steps[nsteps++] =
            "WITH d AS (DELETE FROM hourly_pnl WHERE host_id = $3 AND hour >= date_trunc('hour', $1::timestamptz) "
            "AND hour <= date_trunc('hour', $2::timestamptz)) "
            "INSERT INTO hourly_pnl SELECT host_id, date_trunc('hour', timestamp), coalesce(strategy_tag, ''), "
            PG_SUMS " FROM t_ledger WHERE host_id = $3 AND timestamp >= date_trunc('hour', $1::timestamptz) "
            "AND timestamp < date_trunc('hour', $2::timestamptz) + interval '1 hour' GROUP BY 1, 2, 3";
        steps[nsteps++] =
            "WITH d AS (DELETE FROM daily_metrics WHERE host_id = $3 AND day >= " PG_DLO " AND day <= " PG_DHI ") "
            "INSERT INTO daily_metrics SELECT host_id, " PG_DAY ", " PG_SUMS ", count(DISTINCT symbol) "
            "FROM t_ledger WHERE host_id = $3 AND " PG_DAY " >= " PG_DLO " AND " PG_DAY " <= " PG_DHI
            " GROUP BY 1, 2";
        steps[nsteps++] =
            "WITH d AS (DELETE FROM strategy_performance WHERE host_id = $3 AND as_of >= " PG_DLO
            " AND as_of <= " PG_DHI ") "
            "INSERT INTO strategy_performance (host_id, as_of, strategy, trades, wins, win_rate, total_pnl, "
            "avg_pnl) SELECT host_id, " PG_DAY ", coalesce(strategy_tag, ''), count(*), "
            "count(*) FILTER (WHERE realized_pnl > 0), CASE WHEN count(realized_pnl) > 0 THEN "
            "(count(*) FILTER (WHERE realized_pnl > 0))::float8 / count(realized_pnl) END, "
            "coalesce(sum(realized_pnl), 0), avg(realized_pnl) FROM t_ledger WHERE host_id = $3 AND "
            PG_DAY " >= " PG_DLO " AND " PG_DAY " <= " PG_DHI " GROUP BY 1, 2, 3";
    }
    for (int i = 0; i < nsteps && rc == 0; i++) {
        int ledger = i >= first_ledger;
        const char *v[3] = {ledger ? llo : tlo, ledger ? lhi : thi, s->host_id};
        r = PQexecParams(s->conn, steps[i], ledger ? 3 : 2, NULL, v, NULL, NULL, 0);
        if (PQresultStatus(r) != PGRES_COMMAND_OK)
            rc = pg_fail(s, r, err, "refresh");
        PQclear(r);
    }
    if (rc == 0) {
        char now[48];
        store_fmt_ts(now, sizeof now, now_ns);
        const char *v[1] = {now};
        r = PQexecParams(s->conn, "UPDATE qts_rollup_state SET dirty_lo = NULL, dirty_hi = NULL, "
                                  "refreshed_at = $1", 1, NULL, v, NULL, NULL, 0);
        if (PQresultStatus(r) != PGRES_COMMAND_OK)
            rc = pg_fail(s, r, err, "refresh");
        PQclear(r);
    }
    if (rc == 0)
        rc = pg_exec(s, "COMMIT", err);
    if (rc)
        rollback(s);
    return rc;
}

/* ------------------------------------------------------------- descriptor */

static const struct qts_store_ops pg_ops = {
    .struct_size = sizeof(struct qts_store_ops),
    .migrate = pg_migrate,
    .write_batch = pg_write_batch,
    .ping = pg_ping,
    .load_state = pg_load_state,
    .query = pg_query,
    .maintain = pg_maintain,
    .refresh_rollups = pg_refresh_rollups,
};

static const struct qts_plugin_desc pg_desc = {
    .struct_size = sizeof(struct qts_plugin_desc),
    .abi_major = QTS_ABI_MAJOR,
    .abi_minor = QTS_ABI_MINOR,
    .build_sig = QTS_BUILD_SIG,
    .name = "store_postgres",
    .version = "1.0.0",
    .kind = QTS_KIND_STORE,
    .caps = 0,
    .init = pg_init,
    .start = pg_start,
    .stop = pg_stop,
    .destroy = pg_destroy,
    .ops = &pg_ops,
};

QTS_PLUGIN_EXPORT const struct qts_plugin_desc *qts_plugin_entry(uint16_t host_major,
                                                                uint16_t host_minor);
const struct qts_plugin_desc *qts_plugin_entry(uint16_t host_major, uint16_t host_minor)
{
    (void)host_major;
    (void)host_minor;
    return &pg_desc;
}
