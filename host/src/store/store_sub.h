/* store_sub.h — the store's records as bus subscribers (bus_sub.h): what
 * the host does becomes rows of the store plugin's tables, through the
 * writer thread (store_writer.h).
 *
 * "store": fills (a fill and a ledger row with the fill's realized PnL),
 * order events (order_events, and the order's latest state in `orders`),
 * decisions (decision_log), positions on change, market events (tick_data
 * by `ticks`, and 1-minute and 1-day bars built from trades, written as
 * each bar closes).
 * "store_close": at the end of a run the open bars are flushed, the
 * positions are upserted, the run's row is closed and the writer stops
 * (everything written or journalled); registered after the feedback
 * subscriber, whose last rows must reach the writer first.
 * qts_store_pub_tca_row: a complete feedback row (the TCA's on_row).
 * qts_store_pub_run_start: the run's row in `runs` (status running).
 *
 * Maintenance runs on the run's clock, read from the market events (data
 * time in a replay): `maintain` (partitions ahead, retention) at the first
 * event and every hour after, `refresh_rollups` every minute and at the end.
 *
 * Every record carries the run id (`run_id`), so two runs into one database
 * never share a key. The engine owns the struct; `writer` NULL (no `store:`
 * configured) makes every call a no-op. Single-threaded: the core loop.
 */
#ifndef QTS_STORE_SUB_H
#define QTS_STORE_SUB_H

#include <stdbool.h>
#include <stddef.h>

#include "bus_sub.h"

struct qts_store_writer;
struct qts_instruments;
struct qts_portfolio;
struct qts_clock;
struct qts_tca_row;

/* What tick_data gets (store.ticks): nothing, trade prints, or trade
 * prints and every change of the top of book. */
enum qts_store_ticks { QTS_STORE_TICKS_NONE, QTS_STORE_TICKS_TRADES, QTS_STORE_TICKS_ALL };

struct qts_store_inst_state; /* per instrument: bar builders, last top of book */

struct qts_store_realized {
    uint32_t strategy_id, instrument;
    int64_t total; /* cash units, gross of fees */
};

struct qts_store_pub {
    struct qts_store_writer *writer;           /* borrowed; NULL = no store */
    const char *run_id;                        /* borrowed: stamped on every record */
    int ticks;                                 /* enum qts_store_ticks */
    const struct qts_instruments *instruments; /* borrowed: symbols */
    const struct qts_portfolio *pf;            /* borrowed: positions at the end */
    const struct qts_clock *clock;             /* borrowed: time of undated order events */
    const char *broker;                        /* borrowed: the broker plugin's name, or "" */
    /* the subscriber's own state (zeroed by the engine, freed by
     * qts_store_pub_free) */
    struct qts_store_inst_state *inst; /* owned: indexed by instrument id */
    size_t n_inst;
    int64_t *decided_ns; /* owned: decision time by order id (ids are dense) */
    size_t n_decided;
    struct qts_store_realized *realized; /* owned: realized total per (strategy, instrument) */
    size_t n_realized;
    uint64_t n_events, n_orders, n_rejected, n_fills;
    int64_t data_from_ns, data_to_ns;
    int64_t next_maint_ns, next_refresh_ns; /* on the run's clock (data time in replay) */
    char mode[8];
    char config_path[256];
    int64_t started_ns;
    bool started;
};

struct qts_bus_sub qts_store_sub(struct qts_store_pub *pub);
struct qts_bus_sub qts_store_close_sub(struct qts_store_pub *pub);
/* The run's row in `runs` (status "running"), before the first event.
 * `mode` replay/paper/live, `config_path` may be NULL, `wall_ns` the start. */
void qts_store_pub_run_start(struct qts_store_pub *pub, const char *mode, const char *config_path,
                             int64_t wall_ns);
/* The running configuration: every scalar of each strategy's `params` as
 * `strategies` rows (strategy_id = its name), every number of `risk` and of
 * each strategy's `risk` as `risk_configs` rows (config_key = the dotted
 * path). At start and after each reload; rows are per run (a reload
 * overwrites the run's rows). `root` is borrowed for the call. */
struct qts_cfg_node;
void qts_store_pub_config(struct qts_store_pub *pub, const struct qts_cfg_node *root);
/* Every position of the portfolio as this run's positions rows now (after
 * positions were restored at start: a kill before the next fill keeps them). */
void qts_store_pub_positions(struct qts_store_pub *pub, int64_t ts_ns);
/* Frees what the subscriber allocated (after the run). */
void qts_store_pub_free(struct qts_store_pub *pub);
/* A complete feedback row (markouts in) becomes a feedback_data record. */
void qts_store_pub_tca_row(struct qts_store_pub *pub, const struct qts_tca_row *row);

#endif /* QTS_STORE_SUB_H */
