/* store_sub.h — the store's records as bus subscribers (bus_sub.h): what
 * the host does becomes rows of the store plugin's tables, through the
 * writer thread (store_writer.h).
 *
 * "store": fills (a fill and a ledger row), order events (order_events).
 * "store_close": at the end of a run the positions are upserted and the
 * writer stops (everything written or journalled); registered after the
 * feedback subscriber, whose last rows must reach the writer first.
 * qts_store_pub_tca_row: a complete feedback row (the TCA's on_row).
 *
 * The engine owns the struct; `writer` NULL (no `store:` configured) makes
 * every call a no-op. Single-threaded: the core loop.
 */
#ifndef QTS_STORE_SUB_H
#define QTS_STORE_SUB_H

#include "bus_sub.h"

struct qts_store_writer;
struct qts_instruments;
struct qts_portfolio;
struct qts_clock;
struct qts_tca_row;

struct qts_store_pub {
    struct qts_store_writer *writer;           /* borrowed; NULL = no store */
    const struct qts_instruments *instruments; /* borrowed: symbols */
    const struct qts_portfolio *pf;            /* borrowed: positions at the end */
    const struct qts_clock *clock;             /* borrowed: time of undated order events */
    const char *broker;                        /* borrowed: the broker plugin's name, or "" */
};

struct qts_bus_sub qts_store_sub(struct qts_store_pub *pub);
struct qts_bus_sub qts_store_close_sub(struct qts_store_pub *pub);
/* A complete feedback row (markouts in) becomes a feedback_data record. */
void qts_store_pub_tca_row(struct qts_store_pub *pub, const struct qts_tca_row *row);

#endif /* QTS_STORE_SUB_H */
