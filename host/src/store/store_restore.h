/* store_restore.h — reading back at start: what the previous run left in
 * the store (positions, working orders, strategy parameters, risk configs)
 * and the newest bars of each configured instrument for ctx:history.
 *
 * Lineage: a paper or live run restores from the newest run in `runs` of
 * the same host and the same mode (a paper run never takes a live account's
 * positions, nor a live run a paper run's); a replay restores nothing (its
 * state comes from its data, which it reads from the start). Only the rows
 * that run wrote are read (load_state with its run id).
 *
 * Called on the engine's thread before the store writer starts: the store
 * plugin is then used by nobody else. The caller owns `out`
 * (qts_store_restore_free).
 */
#ifndef QTS_STORE_RESTORE_H
#define QTS_STORE_RESTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "qts/qts_store.h"
#include "qts/qts_types.h"

struct qts_store_port;
struct qts_instruments;
struct qts_bar_history;

/* Values of restored rows carry 8 decimals (the columns' precision). */
#define QTS_STORE_RESTORE_EXP 8

struct qts_store_restored_pos {
    char symbol[QTS_SYMBOL_MAX];
    char strategy_type[12];
    int64_t qty, avg_px; /* QTS_STORE_RESTORE_EXP decimals */
};

struct qts_store_restored_param {
    char strategy[52];
    char name[100];
    char value[256];
};

struct qts_store_restore {
    char from_run[QTS_STORE_RUN_ID_MAX]; /* "" = nothing restored (see why) */
    char from_status[12];                /* the run's status: running = it was killed */
    char why[400];                       /* why nothing was restored; "" when something was */
    struct qts_store_restored_pos *pos;  /* owned, n_pos; qty != 0 only */
    size_t n_pos;
    struct qts_store_restored_param *params; /* owned, n_params */
    size_t n_params;
    size_t n_working_orders, n_risk;
    size_t history_bars; /* bars put into the history */
};

struct qts_store_restore_opts {
    const char *host_id; /* this host's id (runs of other hosts are not ours) */
    const char *mode;    /* replay, paper, live */
    const char *run_id;  /* this run (never its own lineage) */
    bool restore;        /* store.restore: false = no lineage, history only */
    const struct qts_instruments *instruments; /* borrowed: history for each, their exponents */
    uint32_t history_bars;                     /* per instrument and interval; 0 = none */
    int64_t now_ns;                            /* wall clock: the newest bars before it */
    struct qts_bar_history *history;           /* borrowed, filled; NULL = none */
};

/* Read what the options ask into `out` (zeroed first). A store without
 * load_state/query, or a query that fails, leaves that part empty with a
 * reason in out->why (and err set); the run goes on either way. */
int qts_store_restore_read(const struct qts_store_port *port,
                           const struct qts_store_restore_opts *o, struct qts_store_restore *out,
                           struct qts_err *err);
void qts_store_restore_free(struct qts_store_restore *r);

#endif /* QTS_STORE_RESTORE_H */
