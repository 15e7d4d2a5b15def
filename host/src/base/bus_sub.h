/* bus_sub.h — what the engine's bus (engine/bus.h) hands its subscribers.
 *
 * A subscriber is a name, a `self` and one handler per event kind (any may
 * be NULL). Each subsystem builds its own subscriber in its own folder
 * (e.g. account/portfolio_sub.c, store/store_sub.c); the engine registers
 * them once at wiring time in the documented order (docs/architecture.md,
 * "The engine as a bus"). The types live here, low in the layout, because
 * subsystem folders may not include engine headers.
 *
 * Every pointer a handler receives is borrowed for the call only.
 * All handlers run on the core loop thread.
 */
#ifndef QTS_BUS_SUB_H
#define QTS_BUS_SUB_H

#include <stdbool.h>
#include <stdint.h>

#include "qts/qts_err.h"
#include "qts/qts_types.h"

/* A market event after the host applied it to its own book. */
struct qts_bus_market {
    const struct qts_ev_hdr *ev; /* borrowed: trade, quote, book update or bar */
    int64_t bid, ask, last;      /* the host's latest prices (ev's px_exp); 0 = none yet */
    int64_t ts_ns;               /* event time: ts_exch_ns, for a bar its close */
};

/* The execution pipeline raised a safety code; the code table
 * (safety_codes.h) says what it does to the state, never the caller. */
struct qts_safety_change {
    int code;        /* enum qts_safety_code */
    const char *msg; /* borrowed */
};

/* What became of an order a strategy asked for, at one stage between the
 * strategy and the venue (docs/architecture.md, "Decision records"): the
 * pipeline's PreCheck accepts or rejects it; later stages (Decide, the
 * feedback adjustments) net, shrink, defer, drop or adjust it. Subscribers
 * write it to the run's decisions.csv and to the store. */
struct qts_decision {
    int64_t ts_ns;                         /* the run's clock when it was decided */
    const struct qts_order_intent *intent; /* borrowed: what was asked */
    const char *symbol;                    /* borrowed; "" when unknown */
    uint8_t px_exp, qty_exp;               /* the instrument's exponents for px/qty */
    int64_t qty_decided;                   /* what goes on (fixed, qty_exp); 0 = nothing */
    int64_t px_decided;                    /* limit after the stage (fixed, px_exp); 0 = market */
    const char *stage;                     /* borrowed literal: "precheck", "decide", "feedback" */
    const char *outcome;                   /* borrowed literal: "accepted", "rejected", "netted",
                                     * "shrunk", "deferred", "dropped", "adjusted" */
    const char *codes;                     /* borrowed: safety codes, comma-separated; "" = none */
    const char *reason;                    /* borrowed: human text; "" = none */
    const char *inputs;                    /* borrowed: JSON object of what the stage used; "{}" */
    uint64_t order_id;                     /* the parent order it became; 0 = none */
};

/* The run is over: the run directory's files are written now. */
struct qts_run_end {
    const char *run_dir;     /* borrowed; exists */
    int64_t ts_ns;           /* the run's end: data time in a replay, else wall time */
    const char *interrupted; /* borrowed; NULL = complete, else why it stopped early */
};

struct qts_bus_sub {
    const char *name; /* borrowed (a literal): logs and the order table */
    void (*on_market)(void *self, const struct qts_bus_market *m);
    void (*on_order)(void *self, const struct qts_order_event *ev);
    void (*on_fill)(void *self, const struct qts_fill *f);
    void (*on_safety)(void *self, const struct qts_safety_change *c);
    void (*on_decision)(void *self, const struct qts_decision *d);
    /* 0 or an error (err set); the first error ends the delivery */
    int (*on_run_end)(void *self, const struct qts_run_end *end, struct qts_err *err);
    void *self; /* borrowed: outlives the bus */
};

#endif /* QTS_BUS_SUB_H */
