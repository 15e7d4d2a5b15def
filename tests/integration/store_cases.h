/* store_cases.h — behaviour every store backend must show, run by
 * tests/unit/test_store_sqlite.c (SQLite) and
 * tests/integration/test_store_postgres.c (PostgreSQL) against the real
 * plugins. The backend test supplies a way to open its plugin, a way to run
 * a one-value SQL query on its own connection and the backend-specific
 * "direct GROUP BY" checks. */
#ifndef QTS_TEST_STORE_CASES_H
#define QTS_TEST_STORE_CASES_H

#include <stddef.h>
#include <stdint.h>

#include "qts/qts_store.h"
#include "store_writer.h"

struct store_case_ctx {
    const struct qts_store_port *port; /* the plugin under test */
    struct qts_store_plugin *plugin;   /* owned: its instance (sc_reopen replaces it) */
    /* Opens the backend's plugin as host `host_id` ("h1" is the one under
     * test), with `extra_key` set to `extra_val` unless NULL; fails the test
     * when it cannot. Owned result: qts_store_plugin_close. */
    struct qts_store_plugin *(*open_host)(const struct store_case_ctx *c, const char *host_id,
                                          const char *extra_key, const char *extra_val);
    /* one-value query on a separate connection; "" for NULL; 0 or -1 */
    int (*scalar)(void *db, const char *sql, char *out, size_t cap);
    void *db;
    char *tmpdir; /* owned: removed and freed by sc_close */
    /* rows of ohlcv_1m / ohlcv_1d / hourly_pnl / daily_metrics /
     * strategy_performance that differ from a direct GROUP BY over
     * tick_data / t_ledger (a count) */
    const char *sql_ohlcv_1m_mismatch;
    const char *sql_ohlcv_1d_mismatch;
    const char *sql_ledger_rollup_mismatch;
    /* SQL to spoil one ohlcv_1m row (symbol 'AAA', the earliest bucket) */
    const char *sql_spoil_bucket;
    const char *sql_spoiled_count; /* how many rows still carry the spoil */
};

/* Record builders (times in ns, px/qty with exponents 2/0). */
void sc_tick(struct qts_store_tick *t, const char *sym, int64_t ts, int64_t px, int64_t qty);
void sc_ledger(struct qts_store_ledger *l, const char *sym, int64_t ts, int side, int64_t qty,
               int64_t px, const char *tag, int64_t pnl_cash);

int64_t sc_scalar_i64(const struct store_case_ctx *c, const char *sql);
/* Write records straight through write_batch (asserts success). */
void sc_write(const struct store_case_ctx *c, const struct qts_store_record *const *recs, size_t n);

/* qts_store_plugin_open of `name` from the test plugin directory with the
 * pairs `kv` (borrowed, NULL-ended); fails the test with the plugin's
 * message when it does not open. Owned: qts_store_plugin_close. */
struct qts_store_plugin *sc_plugin_open(const char *name, const char *const *kv);
/* Close c->plugin (if open) and open it again as "h1", with the extra pair
 * unless extra_key is NULL; c->port follows. */
void sc_reopen(struct store_case_ctx *c, const char *extra_key, const char *extra_val);

/* The end of a backend fixture (a cmocka teardown, once the backend closed
 * its own connection): *state points to the fixture, allocated with
 * malloc, whose first member is its store_case_ctx c; closes c->plugin,
 * removes and frees c->tmpdir, frees the fixture. Returns 0. */
int sc_teardown(void **state);

void store_case_migrate(const struct store_case_ctx *c);
void store_case_roundtrip(const struct store_case_ctx *c);
void store_case_rollups(const struct store_case_ctx *c);
void store_case_retention(const struct store_case_ctx *c, int64_t now_ns);

/* cmocka tests for every backend: *state points to the backend's fixture,
 * whose first member is its store_case_ctx. */
void store_test_roundtrip(void **state);
/* the round trip, then a reopen: everything is loaded back */
void store_test_warm_start(void **state);
/* two hosts on one database: a second instance as host "h2" */
void store_test_two_hosts(void **state);
void store_test_rollups(void **state);

#endif
