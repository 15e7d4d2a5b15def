/* decide.h — the Decide stage: what the strategies asked for on one event,
 * looked at together before any of it reaches the execution pipeline
 * (docs/decide.md).
 *
 * The runtime hands over every intent of one drain (one market event in a
 * replay, one posted event live) in one call. Per instrument and scope
 * (the strategy's capital pool) the stage:
 *   - drops a duplicate: the same strategy asking the same order twice;
 *   - drops both sides of a conflict: one strategy buying and selling the
 *     same instrument on the same event (GR030);
 *   - nets opposite intents of different strategies: the overlap is an
 *     internal cross at the decision price with zero fee, booked as a fill
 *     of each strategy's own order id; only the remainder goes on;
 *   - then the pools: an intent of a LOCKED pool's strategy is refused, a
 *     PAUSED one's entries too; below the operating state's entry
 *     threshold an intent is refused; an entry larger than its pool's
 *     available capital is shrunk to fit.
 * Intents of different scopes are never netted. Everything decided is
 * published as a decision record (stage "decide").
 *
 * Single-threaded: the core loop.
 */
#ifndef QTS_DECIDE_H
#define QTS_DECIDE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bus_sub.h"
#include "qts/qts_types.h"

struct qts_pools;

/* What the stage needs from the engine. Every pointer a callback receives
 * is borrowed for the call. */
struct qts_decide_env {
    /* The pipeline (PreCheck onwards): 0, QTS_ERISK (the strategy has its
     * rejection already) or another error (the runtime tells the strategy). */
    int (*submit)(void *ctx, const struct qts_order_intent *in);
    /* One leg of an internal cross, a fill like the venue's (fee 0). */
    void (*fill)(void *ctx, const struct qts_fill *f);
    /* An order event for an intent that never reaches the pipeline. */
    void (*order)(void *ctx, const struct qts_order_event *ev);
    void (*decision)(void *ctx, const struct qts_decision *d);
    void (*safety)(void *ctx, int code, const char *msg); /* GR030 */
    int (*scope)(void *ctx, uint32_t strategy_id);        /* enum qts_pool */
    /* The decision price of an instrument (its px_exp): the mid of the
     * host's best bid and ask, else the last trade; 0 = none known. */
    int64_t (*decision_px)(void *ctx, uint32_t instrument);
    /* May be NULL: the instrument's quoted spread, ask - bid (its px_exp);
     * 0 = no two-sided quote. */
    int64_t (*spread)(void *ctx, uint32_t instrument);
    const struct qts_instrument *(*instrument)(void *ctx, uint32_t id);
    int64_t (*now)(void *ctx);
    void *ctx; /* borrowed */
};

/* Counters for the report and `qts status`. */
struct qts_decide_stats {
    uint64_t intents;       /* seen */
    uint64_t passed;        /* went on unchanged */
    uint64_t netted;        /* intents that were part of an internal cross */
    uint64_t crosses;       /* internal fills booked (two per crossed pair) */
    uint64_t dropped;       /* duplicates and conflicts */
    uint64_t conflicts;     /* GR030 */
    uint64_t shrunk;        /* by the pool's available capital */
    uint64_t refused;       /* pool state or entry threshold */
    int64_t cross_notional; /* cash units (QTS_CASH_EXP): sum of both legs' notional / 2 */
    int64_t fees_saved;     /* cash units: taker fee the crossed quantity did not pay */
    int64_t impact_saved;   /* cash units: half the quoted spread both legs did not cross */
};

struct qts_decide_opts {
    bool netting;         /* net opposite intents of one scope (default true) */
    double taker_fee_bps; /* for the savings estimate only */
};

/* env copied; pools borrowed (may be NULL: no pools configured). */
struct qts_decide *qts_decide_new(const struct qts_decide_opts *o, const struct qts_decide_env *env,
                                  struct qts_pools *pools);
void qts_decide_free(struct qts_decide *d);

/* Decide `n` intents raised together (borrowed). rc[i] receives what the
 * runtime should tell the strategy of intent i: 0, or a negative code for
 * which it delivers a REJECTED event. */
void qts_decide_run(struct qts_decide *d, const struct qts_order_intent *const *in, size_t n,
                    int *rc);

void qts_decide_get_stats(const struct qts_decide *d, struct qts_decide_stats *out);

#endif /* QTS_DECIDE_H */
