/* pg_upkeep.c — the PostgreSQL store's upkeep on the run's clock:
 * partitions created ahead and dropped behind per retention (maintain) and
 * the incremental rollups (refresh_rollups).
 *
 * Several hosts may share one database (docs/operations.md "Several
 * hosts", docs/adr/0022-shared-tier.md). Each task runs on one host at a
 * time under a PostgreSQL advisory lock taken with pg_try_advisory_lock: a
 * host that finds it held skips its turn, because the holder does the same
 * work for everyone (partitions and retention are per database; the
 * rollups cover the rows of every host). Each turn that ran leaves a row in
 * qts_maintenance_log (task, host, start and end, wall clock). */
#include "store_postgres.h"

/* Advisory locks (migrate holds 7175001): the two-key form, the task and
 * the schema's name hashed, so that deployments in different schemas of one
 * database do not wait for each other. */
#define LOCK_MAINTAIN INT64_C(7175002)
#define LOCK_ROLLUPS INT64_C(7175003)
#define LOCK_ARGS "($1::int, hashtext(current_schema()))"

/* pg_try_advisory_lock (session) or pg_try_advisory_xact_lock (inside a
 * transaction) of task `key`. 1 taken, 0 held by another session, < 0
 * error. `started` gets the wall clock of the attempt (for the log table). */
static int try_lock(struct pg *s, bool xact, int64_t key, char *started, size_t cap,
                    struct qts_err *err)
{
    p_i64(s, 0, key);
    PGresult *r =
        pg_select(s,
                  xact ? "SELECT pg_try_advisory_xact_lock" LOCK_ARGS ", clock_timestamp()"
                       : "SELECT pg_try_advisory_lock" LOCK_ARGS ", clock_timestamp()",
                  1, err);
    if (!r)
        return err ? err->code : QTS_EDB;
    int got = PQntuples(r) == 1 && strcmp(PQgetvalue(r, 0, 0), "t") == 0;
    if (PQntuples(r) == 1)
        store_copy(started, cap, PQgetvalue(r, 0, 1));
    PQclear(r);
    return got;
}

/* A skipped turn: the first is logged with the holder, the rest counted. */
static void skipped(struct pg *s, const char *task, int64_t key, uint64_t *count)
{
    if ((*count)++)
        return;
    char holder[96] = "?";
    p_i64(s, 0, key);
    PGresult *r = pg_select(s,
                            "SELECT a.application_name, a.pid FROM pg_locks l JOIN "
                            "pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' "
                            "AND l.granted AND l.objsubid = 2 AND l.classid::bigint = $1::bigint "
                            "AND l.objid::bigint = (hashtext(current_schema())::bigint & "
                            "4294967295) LIMIT 1",
                            1, NULL);
    if (r && PQntuples(r) == 1)
        snprintf(holder, sizeof holder, "%s (pid %s)", PQgetvalue(r, 0, 0), PQgetvalue(r, 0, 1));
    PQclear(r);
    LOG(s, QTS_LOG_INFO,
        "store_postgres %s skipped: another host holds the lock, holder=%s; it does the work for "
        "every host (this host logs its first skip only)",
        task, holder);
}

/* The row of a turn that ran. */
static int log_turn(struct pg *s, const char *task, const char *started, struct qts_err *err)
{
    const char *v[3] = {task, s->host_id, started};
    return pg_exec_params(s,
                          "INSERT INTO qts_maintenance_log (task, host_id, started_at, "
                          "finished_at) VALUES ($1, $2, $3::timestamptz, clock_timestamp())",
                          3, v, task, err);
}

static void first_turn(struct pg *s, const char *task, bool *ran, uint64_t skipped_n)
{
    if (*ran)
        return;
    *ran = true;
    LOG(s, QTS_LOG_INFO,
        "store_postgres %s: this host took the lock and runs it (turns skipped so far=%" PRIu64 ")",
        task, skipped_n);
}

/* ------------------------------------------------------------- maintenance */

static int maintain_locked(struct pg *s, int64_t now_ns, struct qts_err *err);

int pg_maintain(void *self, int64_t now_ns, struct qts_err *err)
{
    struct pg *s = self;
    int rc = pg_ensure_conn(s, err);
    if (rc)
        return rc;
    char started[48] = "";
    int got = try_lock(s, false, LOCK_MAINTAIN, started, sizeof started, err);
    if (got < 0)
        return got;
    if (!got) {
        skipped(s, "maintenance", LOCK_MAINTAIN, &s->maint_skipped);
        return 0;
    }
    first_turn(s, "maintenance", &s->maint_ran, s->maint_skipped);
    int dropped = maintain_locked(s, now_ns, err);
    if (dropped >= 0 && (rc = log_turn(s, "maintenance", started, err)) < 0)
        dropped = rc;
    /* a lost connection took the session lock with it */
    if (s->conn && PQstatus(s->conn) == CONNECTION_OK) {
        p_i64(s, 0, LOCK_MAINTAIN);
        PGresult *r = pg_select(s, "SELECT pg_advisory_unlock" LOCK_ARGS, 1, NULL);
        PQclear(r);
    }
    return dropped;
}

static int maintain_locked(struct pg *s, int64_t now_ns, struct qts_err *err)
{
    int rc;
    int dropped = 0;
    if (!s->is_tsdb) {
        for (int pt = 0; pt < PT_COUNT; pt++) {
            int64_t step = pt_def[pt].step_days * STORE_NS_PER_DAY;
            /* ahead: cover now .. now + premake days */
            for (int64_t t = pg_part_lo(pt, now_ns);
                 t <= now_ns + s->premake_days * STORE_NS_PER_DAY; t += step)
                if ((rc = pg_ensure_partition(s, pt, t, err)))
                    return rc;
            /* behind: drop partitions wholly older than the retention */
            p_str(s, 0, pt_def[pt].parent);
            PGresult *r =
                pg_select(s,
                          "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = "
                          "i.inhrelid WHERE i.inhparent = $1::regclass ORDER BY 1",
                          1, err);
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
                int64_t lo = qts_days_from_civil(y, (unsigned)m, (unsigned)d) * STORE_NS_PER_DAY;
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
             "DELETE FROM ohlcv_1m WHERE ctid IN (SELECT ctid FROM ohlcv_1m WHERE bucket < '%s' "
             "LIMIT 10000)",
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
    /* the record of turns: a week (wall clock) */
    if ((rc = pg_exec(s,
                      "DELETE FROM qts_maintenance_log WHERE finished_at < now() - interval "
                      "'7 days'",
                      err)))
        return rc;
    return dropped;
}

int pg_refresh_rollups(void *self, int64_t now_ns, struct qts_err *err)
{
    struct pg *s = self;
    int rc = pg_ensure_conn(s, err);
    if (rc || (rc = pg_exec(s, "BEGIN", err)))
        return rc;
    /* the lock goes with the transaction */
    char started[48] = "";
    int got = try_lock(s, true, LOCK_ROLLUPS, started, sizeof started, err);
    if (got <= 0) {
        pg_rollback(s);
        if (got == 0)
            skipped(s, "rollup refresh", LOCK_ROLLUPS, &s->rollup_skipped);
        return got;
    }
    first_turn(s, "rollup refresh", &s->rollup_ran, s->rollup_skipped);
    s->val[0] = NULL;
    PGresult *r = pg_select(s,
                            "SELECT name, dirty_lo, dirty_hi FROM qts_rollup_state "
                            "WHERE dirty_lo IS NOT NULL ORDER BY name FOR UPDATE",
                            0, err);
    if (!r) {
        pg_rollback(s);
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
    const char *steps[10];
    int nsteps = 0;
    if (*tlo) {
        steps[nsteps++] =
            "INSERT INTO ohlcv_1m AS o (bucket, symbol, open, high, low, close, volume, "
            "tick_count) "
            "SELECT date_trunc('minute', time), symbol, (array_agg(price ORDER BY time, "
            "rec_id))[1], "
            "max(price), min(price), (array_agg(price ORDER BY time DESC, rec_id DESC))[1], "
            "sum(volume), "
            "count(*) FROM tick_data WHERE kind = 1 AND time >= date_trunc('minute', "
            "$1::timestamptz) "
            "AND time < date_trunc('minute', $2::timestamptz) + interval '1 minute' GROUP BY 1, 2 "
            "ON CONFLICT (symbol, bucket) DO UPDATE SET open = EXCLUDED.open, high = "
            "EXCLUDED.high, "
            "low = EXCLUDED.low, close = EXCLUDED.close, volume = EXCLUDED.volume, "
            "tick_count = EXCLUDED.tick_count";
        steps[nsteps++] =
            "INSERT INTO ohlcv_1d AS o (time, symbol, open, high, low, close, volume) "
            "SELECT date_trunc('day', time, 'Asia/Seoul'), symbol, (array_agg(price ORDER BY time, "
            "rec_id))[1], "
            "max(price), min(price), (array_agg(price ORDER BY time DESC, rec_id DESC))[1], "
            "sum(volume) "
            "FROM tick_data WHERE kind = 1 AND time >= date_trunc('day', $1::timestamptz, "
            "'Asia/Seoul') "
            "AND time < date_trunc('day', $2::timestamptz, 'Asia/Seoul') + interval '1 day' GROUP "
            "BY 1, 2 "
            "ON CONFLICT (symbol, time) DO UPDATE SET open = EXCLUDED.open, high = EXCLUDED.high, "
            "low = EXCLUDED.low, close = EXCLUDED.close, volume = EXCLUDED.volume";
    }
    int first_ledger = nsteps;
    if (*llo) {
#define PG_SUMS                                                         \
    "count(*), coalesce(sum(amount) FILTER (WHERE side = 'BUY'), 0), "  \
    "coalesce(sum(amount) FILTER (WHERE side = 'SELL'), 0), sum(fee), " \
    "coalesce(sum(realized_pnl), 0)"
#define PG_DAY "(timestamp AT TIME ZONE 'Asia/Seoul')::date"
#define PG_DLO "($1::timestamptz AT TIME ZONE 'Asia/Seoul')::date"
#define PG_DHI "($2::timestamptz AT TIME ZONE 'Asia/Seoul')::date"
        /* each DELETE is its own statement: in one statement (a DELETE in
         * a WITH) the INSERT does not see the deletion and a second refresh
         * of the same bucket hits the key */
        steps[nsteps++] = "DELETE FROM hourly_pnl WHERE hour >= "
                          "date_trunc('hour', $1::timestamptz) "
                          "AND hour <= date_trunc('hour', $2::timestamptz)";
        steps[nsteps++] =
            "INSERT INTO hourly_pnl SELECT host_id, date_trunc('hour', timestamp), "
            "coalesce(strategy_tag, ''), " PG_SUMS ", run_id FROM t_ledger WHERE timestamp >= "
            "date_trunc('hour', $1::timestamptz) "
            "AND timestamp < date_trunc('hour', $2::timestamptz) + interval '1 hour' "
            "GROUP BY 1, 2, 3, run_id";
        steps[nsteps++] = "DELETE FROM daily_metrics WHERE day >= " PG_DLO " AND day <= " PG_DHI;
        steps[nsteps++] = "INSERT INTO daily_metrics SELECT host_id, " PG_DAY ", " PG_SUMS
                          ", count(DISTINCT symbol), run_id "
                          "FROM t_ledger WHERE " PG_DAY " >= " PG_DLO " AND " PG_DAY " <= " PG_DHI
                          " GROUP BY 1, 2, run_id";
        steps[nsteps++] =
            "DELETE FROM strategy_performance WHERE as_of >= " PG_DLO " AND as_of <= " PG_DHI;
        steps[nsteps++] =
            "INSERT INTO strategy_performance (host_id, as_of, strategy, trades, wins, win_rate, "
            "total_pnl, avg_pnl, run_id) SELECT host_id, " PG_DAY
            ", coalesce(strategy_tag, ''), count(*), "
            "count(*) FILTER (WHERE realized_pnl > 0), CASE WHEN count(realized_pnl) > 0 THEN "
            "(count(*) FILTER (WHERE realized_pnl > 0))::float8 / count(realized_pnl) END, "
            "coalesce(sum(realized_pnl), 0), avg(realized_pnl), run_id FROM t_ledger WHERE " PG_DAY
            " >= " PG_DLO " AND " PG_DAY " <= " PG_DHI " GROUP BY 1, 2, 3, run_id";
    }
    for (int i = 0; i < nsteps && rc == 0; i++) {
        int ledger = i >= first_ledger;
        const char *v[2] = {ledger ? llo : tlo, ledger ? lhi : thi};
        rc = pg_exec_params(s, steps[i], 2, v, "refresh", err);
    }
    if (rc == 0) {
        char now[48];
        store_fmt_ts(now, sizeof now, now_ns);
        /* only the marks read (and row-locked) above: a mark another host
         * set since is this refresh's to leave for the next one */
        const char *v[3] = {now, *tlo ? "t" : "f", *llo ? "t" : "f"};
        rc = pg_exec_params(s,
                            "UPDATE qts_rollup_state SET dirty_lo = NULL, dirty_hi = NULL, "
                            "refreshed_at = $1 WHERE (name = 'ohlcv' AND $2::bool) OR "
                            "(name = 'ledger' AND $3::bool)",
                            3, v, "refresh", err);
    }
    if (rc == 0)
        rc = log_turn(s, "rollup refresh", started, err);
    if (rc == 0)
        rc = pg_exec(s, "COMMIT", err);
    if (rc)
        pg_rollback(s);
    return rc;
}
