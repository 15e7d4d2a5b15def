/* store_postgres.h — what the files of the PostgreSQL store share (plugin
 * internal: every symbol here has hidden visibility). store_postgres.c:
 * connection, parameters, lifecycle, migrations, reads (load_state,
 * query), the descriptor; pg_write.c: partitions and write_batch (COPY for
 * ticks, the column tables of store_cols.h for the rest); pg_upkeep.c:
 * partition upkeep, retention and rollups. */
#ifndef QTS_STORE_POSTGRES_H
#define QTS_STORE_POSTGRES_H

#include <inttypes.h>
#include <libpq-fe.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qts/qts_plugin.h"
#include "qts/qts_store.h"
#include "store_cols.h"
#include "store_fmt.h"
#include "store_rows.h"

/* Prepared statements: one INSERT per table (store_cols.h), then the
 * rollups' dirty mark. */
enum { ST_DIRTY = STORE_T_COUNT, ST_COUNT };

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
    char schema[64]; /* "" = the server's search_path */
    int64_t stmt_timeout_ms, connect_timeout_s, premake_days;
    int64_t keep_days[PT_COUNT], keep_bar_days;
    int tsdb_mode; /* 0 auto, 1 off, 2 require */
    PGconn *conn;
    int prepared[ST_COUNT];
    int is_tsdb;
    struct {
        int pt;
        int64_t lo;
    } known[KNOWN_MAX];
    size_t n_known;
    char *copy;
    size_t copy_len, copy_cap;
    struct store_dirty dirty; /* what the current batch touched */
    /* upkeep shared by hosts (pg_upkeep.c): turns skipped because another
     * host held the lock, and whether this host has run each task yet */
    uint64_t maint_skipped, rollup_skipped;
    bool maint_ran, rollup_ran;
    char app_name[80]; /* "qts:<host_id>": names this host in pg_stat_activity */
    /* parameter scratch */
    char pool[NPARAM][72];
    const char *val[NPARAM];
};

#define LOG(s, lvl, ...) (s)->host->log((s)->owner, (lvl), __VA_ARGS__)

/* store_postgres.c */
int pg_fail(struct pg *s, PGresult *r, struct qts_err *err, const char *what);
int pg_exec(struct pg *s, const char *sql, struct qts_err *err);
/* A statement with text parameters v[0..n) that returns no rows. */
int pg_exec_params(struct pg *s, const char *sql, int n, const char *const *v, const char *what,
                   struct qts_err *err);
void pg_rollback(struct pg *s);
int pg_ensure_conn(struct pg *s, struct qts_err *err);
/* Run `sql` with s->val[0..n); the rows (owned: PQclear) or NULL with err. */
PGresult *pg_select(struct pg *s, const char *sql, int n, struct qts_err *err);
/* Run prepared statement i (STORE_T_* or ST_DIRTY) with s->val[0..n). */
int pg_run_prepared(struct pg *s, int i, int nparams, struct qts_err *err);
/* A value as PostgreSQL text (NULL for SQL NULL), in s->pool[i] when it
 * needs room. */
const char *pg_text(struct pg *s, int i, const struct store_val *v);
void pg_params(struct pg *s, const struct store_val *v, int n);
void p_str(struct pg *s, int i, const char *v);
void p_i64(struct pg *s, int i, int64_t v);
void p_ts(struct pg *s, int i, int64_t ns);

/* pg_write.c */
int64_t pg_part_lo(int pt, int64_t t);
void pg_part_name(char *buf, size_t cap, int pt, int64_t lo);
int pg_ensure_partition(struct pg *s, int pt, int64_t t, struct qts_err *err);
int pg_write_batch(void *self, const struct qts_store_record *const *recs, size_t n,
                   struct qts_err *err);

/* pg_upkeep.c */ int pg_maintain(void *self, int64_t now_ns, struct qts_err *err);
int pg_refresh_rollups(void *self, int64_t now_ns, struct qts_err *err);

#endif
