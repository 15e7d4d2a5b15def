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
#include "store_postgres.h"
#include "store_keys.h"

#include "pg_migrations.inc"

static const char dirty_sql[] =
    "UPDATE qts_rollup_state SET dirty_lo = least(coalesce(dirty_lo, $2), $2), "
    "dirty_hi = greatest(coalesce(dirty_hi, $3), $3) WHERE name = $1";

static void disconnect(struct pg *s)
{
    if (s->conn)
        PQfinish(s->conn);
    s->conn = NULL;
    memset(s->prepared, 0, sizeof s->prepared);
}

/* Translate a failed result (may be NULL) into a status; drops the
 * connection when it is gone. */
int pg_fail(struct pg *s, PGresult *r, struct qts_err *err, const char *what)
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

int pg_exec(struct pg *s, const char *sql, struct qts_err *err)
{
    PGresult *r = PQexec(s->conn, sql);
    ExecStatusType st = PQresultStatus(r);
    int rc = 0;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
        rc = pg_fail(s, r, err, "exec");
    PQclear(r);
    return rc;
}

int pg_exec_params(struct pg *s, const char *sql, int n, const char *const *v, const char *what,
                   struct qts_err *err)
{
    PGresult *r = PQexecParams(s->conn, sql, n, NULL, v, NULL, NULL, 0);
    int rc = PQresultStatus(r) == PGRES_COMMAND_OK ? 0 : pg_fail(s, r, err, what);
    PQclear(r);
    return rc;
}

void pg_rollback(struct pg *s)
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

int pg_ensure_conn(struct pg *s, struct qts_err *err)
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

int pg_run_prepared(struct pg *s, int i, int nparams, struct qts_err *err)
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

PGresult *pg_select(struct pg *s, const char *sql, int n, struct qts_err *err)
{
    if (pg_ensure_conn(s, err) != 0)
        return NULL;
    PGresult *r = PQexecParams(s->conn, sql, n, NULL, s->val, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        pg_fail(s, r, err, "query");
        PQclear(r);
        return NULL;
    }
    return r;
}

/* ------------------------------------------------------------- params */

/* A value as PostgreSQL text (NULL for SQL NULL), in s->pool[i] when it
 * needs room. */
const char *pg_text(struct pg *s, int i, const struct store_val *v)
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
void p_str(struct pg *s, int i, const char *v) { s->val[i] = v ? v : ""; }
void p_i64(struct pg *s, int i, int64_t v)
{
    const struct store_val x = {.type = STORE_INT, .i = v};
    s->val[i] = pg_text(s, i, &x);
}
void p_ts(struct pg *s, int i, int64_t ns)
{
    const struct store_val x = {.type = STORE_TS, .i = ns};
    s->val[i] = pg_text(s, i, &x);
}

/* The statement's parameters from values v[0..n). */
void pg_params(struct pg *s, const struct store_val *v, int n)
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
                return qts_err_set(err, QTS_ECONFIG,
                                   "schema: '%s' must be lower-case letters, digits "
                                   "and _ (at most 63)",
                                   v);
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
            return qts_err_set(err, QTS_ECONFIG,
                               "timescaledb: expected auto, off or require, got '%s'", v);
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
    if (pg_ensure_conn(s, &e) == 0)
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
    int rc = pg_ensure_conn(s, err);
    return rc ? rc : pg_exec(s, "SELECT 1", err);
}

/* ------------------------------------------------------------- migrate */

static int pg_migrate(void *self, struct qts_err *err)
{
    struct pg *s = self;
    int rc = pg_ensure_conn(s, err);
    if (rc)
        return rc;
    if (s->schema[0]) {
        char sql[128];
        snprintf(sql, sizeof sql, "CREATE SCHEMA IF NOT EXISTS %s", s->schema);
        if ((rc = pg_exec(s, sql, err)))
            return rc;
    }
    rc = pg_exec(
        s,
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
    PGresult *r =
        PQexec(s->conn, "SELECT coalesce(max(version), 0), "
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
                LOG(s, QTS_LOG_WARN,
                    "timescaledb present but not loadable, using native partitions err=%s", e2.msg);
        }
        if (!s->is_tsdb && s->tsdb_mode == 2) {
            rc = qts_err_set(
                err, QTS_EUNSUPPORTED,
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
            rc = pg_exec_params(s,
                                "INSERT INTO schema_migrations (version, name, checksum, "
                                "backend) VALUES ($1, $2, $3, $4)",
                                4, v, "migrate", err);
        }
        if (rc == 0)
            rc = pg_exec(s, "COMMIT", err);
        if (rc) {
            pg_rollback(s);
            char tmp[256];
            snprintf(tmp, sizeof tmp, "%s", err ? err->msg : "");
            qts_err_set(err, rc, "migration %04d_%s: %.200s", m->version, m->name, tmp);
            goto out;
        }
        LOG(s, QTS_LOG_INFO, "store_postgres migration applied version=%d name=%s", m->version,
            m->name);
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
    .str = v_str, .i64 = v_i64, .dbl = v_dbl, .fixed = v_fixed, .ts = v_ts};

static int feedback_aggs(struct pg *s, int64_t from, int64_t to, const char *symbol,
                         const char *tag, int group, qts_store_record_fn cb, void *arg,
                         struct qts_err *err)
{
    p_str(s, 0, s->host_id);
    p_ts(s, 1, from);
    p_ts(s, 2, to);
    p_str(s, 3, symbol);
    p_str(s, 4, tag);
    const char *sql =
        group
            ? "SELECT symbol, coalesce(strategy_tag, ''), count(*), avg(total_slippage_bps), "
              "avg(market_impact_bps), avg(execution_quality_score), avg(avg_fill_latency_ms), "
              "avg(fill_ratio) FROM feedback_data WHERE host_id = $1 AND time >= $2 AND time < $3 "
              "AND $4::text IS NOT NULL AND $5::text IS NOT NULL GROUP BY 1, 2 ORDER BY 1, 2"
            : "SELECT $4::text, $5::text, count(*), avg(total_slippage_bps), "
              "avg(market_impact_bps), "
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
    for (int k = 0; k < STORE_LOAD_COUNT && rc == 0; k++) {
        p_str(s, 0, s->host_id);
        p_str(s, 1, store_load_run(o));
        PGresult *r = pg_select(s, store_load_sql[k], 2, err);
        if (!r)
            return err ? err->code : QTS_EDB;
        for (int i = 0; i < PQntuples(r) && rc == 0; i++) {
            union qts_store_any u;
            struct store_row row = {.rd = &pg_reader, .res = r, .row = i};
            rc = cb(arg, store_row_load(&row, k, pe, qe, &u));
        }
        PQclear(r);
    }
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
    case QTS_Q_BARS_1M_LAST:
        sql = "SELECT bucket, symbol, open, high, low, close, volume, tick_count FROM ohlcv_1m "
              "WHERE symbol = $1 AND bucket >= $2 AND bucket < $3 AND $5::text IS NOT NULL "
              "ORDER BY bucket DESC LIMIT $4";
        break;
    case QTS_Q_BARS_1D_LAST:
        sql = "SELECT time, symbol, open, high, low, close, volume, 0 FROM ohlcv_1d "
              "WHERE symbol = $1 AND time >= $2 AND time < $3 AND $5::text IS NOT NULL "
              "ORDER BY time DESC LIMIT $4";
        break;
    case QTS_Q_LEDGER:
        sql = "SELECT timestamp, symbol, side, qty, price, amount, fee, strategy_tag, order_id, "
              "broker, "
              "realized_pnl, rec_id FROM t_ledger WHERE host_id = $5 AND ($1 = '' OR symbol = $1) "
              "AND timestamp >= $2 AND timestamp < $3 ORDER BY timestamp DESC, id DESC LIMIT $4";
        break;
    case QTS_Q_DAILY_METRICS:
        sql =
            "SELECT day, trades, buy_amount, sell_amount, fees, realized_pnl, symbols FROM "
            "daily_metrics "
            "WHERE host_id = $5 AND $1::text IS NOT NULL AND day >= ($2::timestamptz AT TIME ZONE "
            "'Asia/Seoul')::date AND day < ($3::timestamptz AT TIME ZONE 'Asia/Seoul')::date "
            "ORDER BY day LIMIT $4";
        break;
    case QTS_Q_RUNS: /* every host's runs, newest first */
        sql = "SELECT run_id, mode, status, config_path, started_at, ended_at, data_from, data_to, "
              "events, orders, rejected, fills, host_id FROM runs "
              "WHERE $1::text IS NOT NULL AND started_at >= $2 AND started_at < $3 "
              "AND $5::text IS NOT NULL ORDER BY started_at DESC, run_id DESC LIMIT $4";
        break;
    case QTS_Q_FEEDBACK_SUMMARY:
        return feedback_aggs(s, q->from_ns, q->to_ns, q->symbol, q->tag, 0, cb, arg, err);
    default: return qts_err_set(err, QTS_EUNSUPPORTED, "store_postgres: query kind %u", q->kind);
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

/* ------------------------------------------------------------- descriptor */

static const struct qts_store_ops pg_ops = {.struct_size = sizeof(struct qts_store_ops),
                                            .migrate = pg_migrate,
                                            .write_batch = pg_write_batch,
                                            .ping = pg_ping,
                                            .load_state = pg_load_state,
                                            .query = pg_query,
                                            .maintain = pg_maintain,
                                            .refresh_rollups = pg_refresh_rollups};

/* Every key of the plugin's config:; the defaults are the ones pg_init
 * starts from. */
static const struct qts_cfg_key pg_keys[] = {
    QTS_CFG_STR("conninfo", NULL, "libpq connection string; absent: the secret conninfo_secret"),
    QTS_CFG_STR("conninfo_secret", "pg_conninfo",
                "secret holding the connection string ($QTS_SECRET_PG_CONNINFO or a 0600 file)"),
    QTS_CFG_STR("schema", NULL, "a private schema for every table, created by migrate"),
    QTS_CFG_DURATION("statement_timeout_ms", "5000", "longest statement"),
    QTS_CFG_INT("connect_timeout_s", "3", "connection timeout, seconds"),
    QTS_CFG_STR("timescaledb", "auto", "auto, off or require"),
    QTS_CFG_INT("partition.premake_days", "7", "daily partitions created ahead"),
    STORE_KEYS_HOST_AND_RETENTION,
    QTS_CFG_END};

QTS_PLUGIN_DEFINE("store_postgres", QTS_KIND_STORE, "1.0.0", &pg_ops, pg_keys, 0, .init = pg_init,
                  .start = pg_start, .stop = pg_stop, .destroy = pg_destroy);
