/* cache_sub.h — the cache tier's publish as a bus subscriber (bus_sub.h):
 * prices after each market event, a position after each fill, an order's
 * status after each order event, through the cache writer (cache_writer.h).
 *
 * The engine owns the struct; `writer` is set once the cache plugin runs
 * (NULL = no `cache:` configured, or not yet) and makes the calls no-ops.
 * Single-threaded: the core loop.
 */
#ifndef QTS_CACHE_SUB_H
#define QTS_CACHE_SUB_H

#include <stdint.h>

#include "bus_sub.h"

struct qts_cache_writer;
struct qts_instruments;
struct qts_portfolio;
struct qts_clock;

struct qts_cache_pub {
    struct qts_cache_writer *writer;           /* borrowed; NULL = no cache */
    const struct qts_instruments *instruments; /* borrowed: symbols (the keys) */
    const struct qts_portfolio *pf;            /* borrowed: positions */
    const struct qts_clock *clock;             /* borrowed: order status time */
};

struct qts_bus_sub qts_cache_sub(struct qts_cache_pub *pub);
/* Publish the portfolio's position of `instrument` as of `ts_ns` (also for
 * positions adopted from the broker at start, which are not fills). */
void qts_cache_pub_position(struct qts_cache_pub *pub, uint32_t instrument, int64_t ts_ns);

#endif /* QTS_CACHE_SUB_H */
