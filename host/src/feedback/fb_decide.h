/* fb_decide.h — the decisions the learned cost model changes before an
 * order reaches the execution pipeline (docs/feedback.md, "Decisions"):
 *
 *   algo "auto"  direct, or TWAP (market) / iceberg (limit) with a slice
 *                count and duration from the predicted impact and the
 *                recent volume;
 *   size cap     the quantity shrunk until the predicted cost fits the
 *                strategy's cost budget (feedback.cost_budget_bps);
 *   timing       an order whose predicted cost exceeds the edge the
 *                strategy states (intent.edge_bps) is deferred: not sent,
 *                the strategy gets a rejection (QTS_EAGAIN) and may ask
 *                again;
 *   price        a marketable limit widened to the predicted fill price
 *                (feedback.adjust_price, on by default), so it walks the
 *                book as predicted instead of resting the remainder.
 *
 * Each change is published as a decision record (stage "feedback",
 * outcome "adjusted", "shrunk" or "deferred", inputs = the prediction as
 * JSON) through `publish`. Core thread only.
 */
#ifndef QTS_FB_DECIDE_H
#define QTS_FB_DECIDE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bus_sub.h"
#include "qts/qts_err.h"
#include "qts/qts_types.h"

struct qts_cfg_node;
struct qts_tca;

struct qts_fb_decide_params {
    bool adjust_price;         /* true: widen marketable limits to the predicted fill price */
    double budget_bps;         /* cost budget of every strategy without its own; 0 = none */
    uint32_t auto_max_slices;  /* 10: most slices algo auto cuts an order into */
    double auto_direct_bps;    /* 2: predicted impact at or below this stays direct */
    double auto_participation; /* 0.1: a slice takes at most this share of the volume
                                * traded in its interval */
    double window_s;           /* 60: the window of the recent volume */
};

struct qts_fb_decide;

/* `tca` borrowed (outlives it). */
struct qts_fb_decide *qts_fb_decide_new(const struct qts_fb_decide_params *p, struct qts_tca *tca);
void qts_fb_decide_free(struct qts_fb_decide *d);

/* The per-strategy budgets of `feedback.cost_budget_bps` when it is a map
 * (strategy name -> bps): the engine names each strategy id once. */
void qts_fb_decide_set_budget(struct qts_fb_decide *d, uint32_t strategy_id, double bps);

/* Where decision records go; borrowed for each call. */
void qts_fb_decide_set_publish(struct qts_fb_decide *d,
                               void (*publish)(void *ctx, const struct qts_decision *rec),
                               void *ctx);

/* Decide on `in` (changed in place) at `now_ns`. 0 = send it on (maybe
 * changed), QTS_EAGAIN = deferred (not sent). An intent with algo auto
 * leaves as direct, TWAP or iceberg. */
int qts_fb_decide(struct qts_fb_decide *d, struct qts_order_intent *in, int64_t now_ns);

/* The strategy's confidence net of the predicted cost (docs/feedback.md,
 * "Confidence"): an intent that states both a confidence c and an edge E
 * (bps), with a fitted law of confidence m predicting a cost C (bps) for
 * it, leaves with
 *
 *     c' = c * (1 - m * min(C / E, 1))
 *
 * (never below 0.0001), recorded as a decision "adjusted". Changes `in` in
 * place; returns true when it changed. */
bool qts_fb_decide_confidence(struct qts_fb_decide *d, struct qts_order_intent *in, int64_t now_ns);
/* The same over one drain's intents, before the Decide stage compares
 * confidences with its thresholds: `in` itself when none changes, else an
 * array of adjusted copies owned by d (valid until the next call). */
const struct qts_order_intent *const *
qts_fb_decide_confidence_batch(struct qts_fb_decide *d, const struct qts_order_intent *const *in,
                               size_t n, int64_t now_ns);

#endif /* QTS_FB_DECIDE_H */
