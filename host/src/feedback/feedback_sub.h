/* feedback_sub.h — execution feedback (TCA, the impact model) as a bus
 * subscriber (bus_sub.h): market context per event, fills, order events
 * (a final one closes the TCA row) and, at the end of the run, tca.csv and
 * the saved model (qts_feedback_end).
 *
 * The engine owns the struct; `fb` NULL (feedback.enabled false) makes the
 * calls no-ops. Single-threaded: the core loop.
 */
#ifndef QTS_FEEDBACK_SUB_H
#define QTS_FEEDBACK_SUB_H

#include <stddef.h>
#include <stdint.h>

#include "bus_sub.h"

struct qts_feedback;
struct qts_clock;

struct qts_feedback_pub {
    struct qts_feedback *fb;       /* borrowed; NULL = feedback off */
    const struct qts_clock *clock; /* borrowed: the time of fills and order events */
    /* where the decisions' records go (the engine's bus); may be NULL */
    void (*decision)(void *ctx, const struct qts_decision *d);
    void *decision_ctx; /* borrowed */
};

struct qts_bus_sub qts_feedback_sub(struct qts_feedback_pub *pub);
/* A parent order was accepted by the pipeline: decision mid, market context. */
void qts_feedback_pub_submit(struct qts_feedback_pub *pub, uint64_t order_id,
                             const struct qts_order_intent *in);

/* Before the pipeline: the decisions the cost model changes on `in` (in
 * place; fb_decide.h). 0 = send it on, QTS_EAGAIN = deferred. With
 * feedback off an algo "auto" order goes direct. */
int qts_feedback_pub_decide(struct qts_feedback_pub *pub, struct qts_order_intent *in);

/* One drain's intents before the Decide stage: each confidence net of its
 * predicted cost (qts_fb_decide_confidence_batch). Returns `in` unchanged
 * with feedback off or when no intent states a confidence and an edge,
 * else copies valid until the next call. */
const struct qts_order_intent *const *
qts_feedback_pub_confidence(struct qts_feedback_pub *pub, const struct qts_order_intent *const *in,
                            size_t n);

#endif /* QTS_FEEDBACK_SUB_H */
