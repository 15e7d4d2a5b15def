/* pg_write.c — the PostgreSQL store's writes: partitions created ahead of
 * the rows (outside the transaction), ticks with one COPY per batch, every
 * other record through the prepared INSERT of its column table
 * (store_cols.h), and the rollups' dirty marks. */
#include "store_postgres.h"

/* ------------------------------------------------------------- partitions */

int64_t pg_part_lo(int pt, int64_t t)
{
    int64_t step = pt_def[pt].step_days * STORE_NS_PER_DAY;
    int64_t d = t - PT_ORIGIN_NS;
    int64_t k = d / step - (d % step < 0);
    return PT_ORIGIN_NS + k * step;
}

void pg_part_name(char *buf, size_t cap, int pt, int64_t lo)
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

int pg_ensure_partition(struct pg *s, int pt, int64_t t, struct qts_err *err)
{
    if (s->is_tsdb)
        return 0;
    int64_t lo = pg_part_lo(pt, t);
    if (known(s, pt, lo))
        return 0;
    char name[64], a[48], b[48], sql[320];
    pg_part_name(name, sizeof name, pt, lo);
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

static int copy_into(struct pg *s, const char *table, struct qts_err *err,
                     const char **sqlstate_out, char *state_buf)
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
    int ok =
        PQputCopyData(s->conn, s->copy, (int)s->copy_len) == 1 && PQputCopyEnd(s->conn, NULL) == 1;
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
            (rc = pg_exec(s,
                          "CREATE TEMP TABLE IF NOT EXISTS qts_tick_stage "
                          "(LIKE tick_data INCLUDING DEFAULTS) ON COMMIT DELETE ROWS",
                          err)) ||
            (rc = copy_into(s, "qts_tick_stage", err, &state, sbuf)) ||
            (rc = pg_exec(s,
                          "INSERT INTO tick_data SELECT * FROM qts_tick_stage "
                          "ON CONFLICT DO NOTHING; TRUNCATE qts_tick_stage",
                          err)))
            return rc;
    } else if (rc) {
        return rc;
    }
    return pg_exec(s, "RELEASE SAVEPOINT ticks", err);
}

static int write_one(struct pg *s, const struct qts_store_record *r, struct qts_err *err)
{
    struct store_val v[STORE_COLS_MAX];
    int t = store_record_values(r, s->host_id, v, err);
    if (t < 0)
        return t;
    pg_params(s, v, store_tabs[t].n);
    return pg_run_prepared(s, t, store_tabs[t].n, err);
}

static int mark_dirty(struct pg *s, const char *name, int64_t lo, int64_t hi, struct qts_err *err)
{
    if (lo == QTS_STORE_NULL)
        return 0;
    p_str(s, 0, name);
    p_ts(s, 1, lo);
    p_ts(s, 2, hi);
    return pg_run_prepared(s, ST_DIRTY, 3, err);
}

int pg_write_batch(void *self, const struct qts_store_record *const *recs, size_t n,
                   struct qts_err *err)
{
    struct pg *s = self;
    int rc = pg_ensure_conn(s, err);
    if (rc)
        return rc;
    /* partitions first, outside the transaction */
    for (size_t i = 0; i < n; i++) {
        int pt = rec_partition(recs[i]);
        if (pt >= 0 && (rc = pg_ensure_partition(s, pt, recs[i]->ts_ns, err)))
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
        pg_rollback(s);
        if (err && strstr(err->msg, "sqlstate=23514"))
            s->n_known = 0; /* a partition went away: create again next time */
    }
    return rc;
}
