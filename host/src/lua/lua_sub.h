/* lua_sub.h — the strategy runtime as a bus subscriber (bus_sub.h): order
 * events and fills go to the strategies as P0 events (lua_runtime.h);
 * qts_lua_pub_feedback turns a counted TCA row into a strategy's
 * on_feedback. Market data is not on this subscriber: the engine steps the
 * runtime over its replay batch and posts live data itself (the strategies
 * see an event before the venue does, ADR 0002).
 *
 * The engine owns the struct. Single-threaded: the core loop.
 */
#ifndef QTS_LUA_SUB_H
#define QTS_LUA_SUB_H

#include <stdint.h>

#include "bus_sub.h"

struct qts_lua_runtime;
struct qts_instruments;
struct qts_tca_row;

struct qts_lua_pub {
    struct qts_lua_runtime *rt;                /* borrowed; NULL once it is freed */
    const struct qts_instruments *instruments; /* borrowed: an instrument's exponents */
    uint64_t *seq;                             /* borrowed: the engine's event sequence */
};

struct qts_bus_sub qts_lua_sub(struct qts_lua_pub *pub);
/* An order is final and its feedback row counted: strategies get
 * on_feedback (a header-only QTS_EV_FEEDBACK event for the row's
 * instrument). */
void qts_lua_pub_feedback(struct qts_lua_pub *pub, const struct qts_tca_row *row);

#endif /* QTS_LUA_SUB_H */
