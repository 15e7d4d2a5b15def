/* bus.h — the engine's only fan-out (STYLE §11): market events, order
 * events, fills, safety changes, decision records and the end of a run reach the subsystems
 * through a fixed list of subscribers (bus_sub.h), called in the order
 * they were added. The engine adds them once at wiring time; the order is
 * part of the output (docs/architecture.md, "The engine as a bus").
 *
 * Cost: one indirect call per subscriber that has a handler for the kind
 * (the per-kind lists hold only non-NULL handlers).
 * Single-threaded: the core loop.
 */
#ifndef QTS_BUS_H
#define QTS_BUS_H

#include <stddef.h>

#include "bus_sub.h"

#define QTS_BUS_MAX_SUBS 16

struct qts_bus_call {
    union {
        void (*market)(void *, const struct qts_bus_market *);
        void (*order)(void *, const struct qts_order_event *);
        void (*fill)(void *, const struct qts_fill *);
        void (*safety)(void *, const struct qts_safety_change *);
        void (*decision)(void *, const struct qts_decision *);
        int (*run_end)(void *, const struct qts_run_end *, struct qts_err *);
    } fn;
    void *self; /* borrowed */
};

enum qts_bus_kind {
    QTS_BUS_MARKET,
    QTS_BUS_ORDER,
    QTS_BUS_FILL,
    QTS_BUS_SAFETY,
    QTS_BUS_DECISION,
    QTS_BUS_RUN_END,
    QTS_BUS_NKINDS
};

struct qts_bus {
    struct qts_bus_sub subs[QTS_BUS_MAX_SUBS]; /* copies, in call order */
    size_t n_subs;
    struct qts_bus_call calls[QTS_BUS_NKINDS][QTS_BUS_MAX_SUBS];
    size_t n_calls[QTS_BUS_NKINDS];
};

void qts_bus_init(struct qts_bus *b);
/* `sub` is copied (its self stays borrowed); it is called after every
 * subscriber added before it. Returns 0, or QTS_EFULL past QTS_BUS_MAX_SUBS. */
int qts_bus_add(struct qts_bus *b, const struct qts_bus_sub *sub);

void qts_bus_market(const struct qts_bus *b, const struct qts_bus_market *m);
void qts_bus_order(const struct qts_bus *b, const struct qts_order_event *ev);
void qts_bus_fill(const struct qts_bus *b, const struct qts_fill *f);
void qts_bus_safety(const struct qts_bus *b, const struct qts_safety_change *c);
void qts_bus_decision(const struct qts_bus *b, const struct qts_decision *d);
/* Stops at the first subscriber that fails and returns its error. */
int qts_bus_run_end(const struct qts_bus *b, const struct qts_run_end *end, struct qts_err *err);

/* The subscribers' names in call order, comma-separated (for the log). */
void qts_bus_describe(const struct qts_bus *b, char *out, size_t cap);

#endif /* QTS_BUS_H */
