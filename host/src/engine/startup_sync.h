/* startup_sync.h — the start-up sync of a paper or live run.
 *
 * Before any strategy starts, the host learns what is true at the venue:
 *   1. warm state: the positions, open orders and risk figures the previous
 *      run left in the cache tier (never authoritative: compared only);
 *   2. reconciliation: the broker's open orders and positions, applied to
 *      the OMS (stray orders of ours cancelled, positions adopted);
 *   3. market seed: each instrument's current price and order book from the
 *      broker's REST snapshot (query_market), so the first orders have a
 *      reference price before the real-time feed has spoken;
 *   4. buying power: the cash the account can spend (query_buying_power),
 *      which caps PreCheck's cash check from then on.
 * Then the warm state is compared with the broker's answer and every
 * difference is logged and kept for `startup.json` in the run directory.
 *
 * The engine owns one sync object for the duration of the sync and routes
 * the broker's answers to it (see qts_startup_sync_owns). Request ids of the
 * sync have the top bits 10, so they never collide with the OMS's ids.
 * Everything runs on the core loop thread.
 */
#ifndef QTS_STARTUP_SYNC_H
#define QTS_STARTUP_SYNC_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "qts/qts_err.h"
#include "qts/qts_plugin.h"

struct qts_exec;

struct qts_startup_env {
    uv_loop_t *loop;                     /* borrowed: the core loop */
    struct qts_exec *exec;               /* borrowed: runs the reconciliation */
    const struct qts_broker_ops *broker; /* borrowed; NULL = no broker */
    void *broker_self;
    const struct qts_cache_ops *cache; /* borrowed; NULL = no cache (or warm start off) */
    void *cache_self;
    const char *const *symbols; /* borrowed: instruments to seed and price */
    size_t n_symbols;
    int64_t timeout_ms;                /* whole sync */
    bool seed_market;                  /* startup.seed_market */
    bool require_reconcile;            /* startup.require_reconcile */
    bool adopt_positions;              /* startup.adopt_positions: no FS070 for them */
    const volatile sig_atomic_t *stop; /* borrowed: a stop request ends the wait */
};

/* One position as seen by one side (warm cache or broker). */
struct qts_startup_position {
    char symbol[QTS_SYMBOL_MAX];
    uint32_t instrument; /* 0 for warm rows (the cache keys by symbol) */
    uint8_t qty_exp, px_exp;
    int64_t qty; /* signed */
    int64_t avg_px;
    bool has_exp; /* broker rows: exponents known */
    double qty_f; /* warm rows: the decimal as written in the cache */
};

struct qts_startup_report {
    int warm_status;         /* 0, QTS_EUNSUPPORTED (no scan), QTS_ENET (cache down), ... */
    int recon_status;        /* 0, QTS_EUNSUPPORTED (broker cannot), QTS_ETIMEDOUT, error */
    int buying_power_status; /* 0 when `buying_power` holds an answer */
    size_t n_seeded;         /* instruments whose market snapshot arrived */
    size_t n_seed_failed;
    size_t warm_open_orders;           /* ord:* hashes with a working status */
    size_t broker_open_orders;         /* STATUS reports during the reconciliation */
    struct qts_startup_position *warm; /* owned by the sync object */
    size_t n_warm;
    struct qts_startup_position *broker; /* owned by the sync object */
    size_t n_broker;
    struct qts_buying_power buying_power;
    size_t n_differences; /* warm vs broker */
    bool timed_out;
    int64_t elapsed_ns;
};

struct qts_startup_sync;

/* New sync; `env` copied (its pointers stay borrowed). Owned: _free. */
struct qts_startup_sync *qts_startup_sync_new(const struct qts_startup_env *env);
void qts_startup_sync_free(struct qts_startup_sync *s);

/* True when `req_id` belongs to a start-up query (market or buying power). */
bool qts_startup_sync_owns(uint64_t req_id);

/* Broker answers the engine routes here (borrowed for the call). Positions
 * and STATUS reports are also passed on to the OMS by the engine. */
void qts_startup_sync_on_position(struct qts_startup_sync *s,
                                  const struct qts_broker_position *pos);
void qts_startup_sync_on_status(struct qts_startup_sync *s, const struct qts_exec_report *rep);
void qts_startup_sync_on_buying_power(struct qts_startup_sync *s,
                                      const struct qts_buying_power *bp);
/* Every query_done while the sync runs: the sync's own ids and the OMS's
 * reconciliation ids (which it recognises). */
void qts_startup_sync_on_query_done(struct qts_startup_sync *s, uint64_t req_id, int status);

/* Send every query, then run the loop until all have answered, the timeout
 * or a stop request. Returns 0, or with require_reconcile a negative code
 * (QTS_ETIMEDOUT, the broker's error) when the reconciliation did not
 * complete; `err` says why. A broker without reconciliation operations and
 * a missing cache are not errors. */
int qts_startup_sync_run(struct qts_startup_sync *s, struct qts_err *err);

/* The outcome (borrowed, valid until _free). */
const struct qts_startup_report *qts_startup_sync_report(const struct qts_startup_sync *s);

/* The report as one JSON object (startup.json); returns the length
 * snprintf would have written. */
int qts_startup_sync_json(const struct qts_startup_sync *s, char *buf, size_t cap);

#endif /* QTS_STARTUP_SYNC_H */
