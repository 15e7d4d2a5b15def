/* decide_sub.h — the "decide" bus subscriber: the pools' figures follow
 * every market event and fill (after the portfolio has them), and at the
 * end of the run decide.json in the run directory holds the stage's
 * counters, the operating state and each pool. */
#ifndef QTS_DECIDE_SUB_H
#define QTS_DECIDE_SUB_H

#include "bus_sub.h"
#include "clock.h"
#include "cycles.h"
#include "decide.h"
#include "pools.h"

struct qts_decide_pub {
    struct qts_decide *decide;     /* borrowed; NULL until the stage exists */
    struct qts_pools *pools;       /* borrowed; NULL = none configured */
    const struct qts_clock *clock; /* borrowed */
    struct qts_cycles *cycles;     /* borrowed; NULL = no cycle records */
    /* Optional: the pools' figures changed (after each update). */
    void (*pools_updated)(void *ctx, const struct qts_pools *p);
    void *ctx; /* borrowed, for pools_updated */
};

struct qts_bus_sub qts_decide_sub(struct qts_decide_pub *pub);

/* The stage and the pools as one JSON object (`qts status`, decide.json). */
int qts_decide_json(const struct qts_decide_pub *pub, char *buf, size_t cap);

#endif /* QTS_DECIDE_SUB_H */
