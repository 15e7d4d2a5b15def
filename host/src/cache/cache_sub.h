/* cache_sub.h — the cache tier's publish as a bus subscriber (bus_sub.h):
 * prices (with the day's traded volume) and the top of the L2 book after
 * each market event, a position and risk:account after each fill, an
 * order's status (with its limit price) after each order event and each
 * fill, through the cache writer (cache_writer.h). A periodic timer
 * (qts_cache_pub_start) also re-publishes risk:account and every
 * strategy's strat:{id} with fresh values (docs/cache.md, key catalogue).
 *
 * The engine owns the struct; `writer` is set once the cache plugin runs
 * (NULL = no `cache:` configured, or not yet) and makes the calls no-ops.
 * What the cache folder cannot see itself (risk limits and safety state,
 * strategies, the OMS's orders) comes through the engine's providers below;
 * a NULL provider leaves its key or field out.
 * Single-threaded: the core loop.
 */
#ifndef QTS_CACHE_SUB_H
#define QTS_CACHE_SUB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "bus_sub.h"

struct qts_cache_writer;
struct qts_cache_risk;
struct qts_cache_strategy;
struct qts_instruments;
struct qts_portfolio;
struct qts_clock;
struct qts_book_set;

/* A parent order as the OMS holds it (its exponents are the instrument's). */
struct qts_cache_order_info {
    int64_t limit_px; /* 0 = market */
    int64_t qty;      /* asked */
    int64_t filled_qty, avg_fill_px;
    bool is_final; /* finished: its last order event says how */
};

/* One strategy as strat:{name} shows it; called once per strategy. */
typedef void (*qts_cache_strat_fn)(void *arg, const char *name, const struct qts_cache_strategy *s);

struct qts_cache_providers {
    /* risk:account's fields, except updated_at; 0 or an error (not written) */
    int (*risk)(void *ctx, struct qts_cache_risk *out);
    /* what the OMS holds of a parent order; 0 or QTS_ENOENT (not held) */
    int (*order)(void *ctx, uint64_t order_id, struct qts_cache_order_info *out);
    /* every configured strategy, through fn */
    void (*strategies)(void *ctx, qts_cache_strat_fn fn, void *arg);
    void *ctx; /* borrowed: the engine */
};

/* The day's traded volume of one instrument (price:{sym} `volume`). */
struct qts_cache_volume {
    int64_t day; /* UTC day number of the event time */
    int64_t qty; /* traded quantity that day (qty_exp) */
};

struct qts_cache_pub {
    struct qts_cache_writer *writer;           /* borrowed; NULL = no cache */
    const struct qts_instruments *instruments; /* borrowed: symbols (the keys) */
    const struct qts_portfolio *pf;            /* borrowed: positions */
    const struct qts_clock *clock;             /* borrowed: order status time */
    const struct qts_book_set *books;          /* borrowed: L2 books (book:{sym}) */
    struct qts_cache_providers prov;           /* the engine's; any may be NULL */
    /* owned by the pub (qts_cache_pub_stop frees them) */
    struct qts_cache_volume *volume; /* by instrument id */
    size_t n_volume;
    uv_timer_t timer; /* periodic risk:account and strat:{id} */
    int is_timer_on;
};

struct qts_bus_sub qts_cache_sub(struct qts_cache_pub *pub);
/* Publish the portfolio's position of `instrument` as of `ts_ns` (also for
 * positions adopted from the broker at start, which are not fills). */
void qts_cache_pub_position(struct qts_cache_pub *pub, uint32_t instrument, int64_t ts_ns);
/* risk:account and every strat:{id} now, then every `period_ms` on `loop`
 * (the timer never keeps a run alive). Call once the writer is set. */
void qts_cache_pub_start(struct qts_cache_pub *pub, uv_loop_t *loop, uint32_t period_ms);
/* Publish risk:account and strat:{id} now (the timer's work). */
void qts_cache_pub_periodic(struct qts_cache_pub *pub);
/* Stops the timer (closed on the loop) and frees the volume table. */
void qts_cache_pub_stop(struct qts_cache_pub *pub);

#endif /* QTS_CACHE_SUB_H */
