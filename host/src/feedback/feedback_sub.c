/* feedback_sub.c — see feedback_sub.h. */
#include "feedback_sub.h"

#include "clock.h"
#include "fb_decide.h"
#include "feedback.h"

static void fb_on_market(void *self, const struct qts_bus_market *m)
{
    struct qts_feedback_pub *pub = self;
    if (pub->fb) /* mid history, recent volume, volatility */
        qts_tca_on_market(qts_feedback_tca(pub->fb), m->ev, m->bid, m->ask, m->ts_ns);
}

static void fb_on_order(void *self, const struct qts_order_event *ev)
{
    struct qts_feedback_pub *pub = self;
    if (pub->fb) /* a final event closes the TCA row */
        qts_tca_on_order(qts_feedback_tca(pub->fb), ev, qts_clock_now(pub->clock));
}

static void fb_on_fill(void *self, const struct qts_fill *f)
{
    struct qts_feedback_pub *pub = self;
    if (pub->fb) /* fill price, latency, markouts */
        qts_tca_on_fill(qts_feedback_tca(pub->fb), f, qts_clock_now(pub->clock));
}

/* tca.csv before the report renders it; the model saved; the last rows to
 * the store before its writer stops (the store_close subscriber is later) */
static int fb_on_run_end(void *self, const struct qts_run_end *end, struct qts_err *err)
{
    struct qts_feedback_pub *pub = self;
    return pub->fb ? qts_feedback_end(pub->fb, end->run_dir, err) : 0;
}

void qts_feedback_pub_submit(struct qts_feedback_pub *pub, uint64_t order_id,
                             const struct qts_order_intent *in)
{
    if (pub->fb)
        qts_tca_on_submit(qts_feedback_tca(pub->fb), order_id, in, qts_clock_now(pub->clock));
}

int qts_feedback_pub_decide(struct qts_feedback_pub *pub, struct qts_order_intent *in)
{
    if (!pub->fb) {
        if (in->algo == QTS_ALGO_AUTO)
            in->algo = QTS_ALGO_DIRECT;
        return 0;
    }
    struct qts_fb_decide *d = qts_feedback_decide(pub->fb);
    qts_fb_decide_set_publish(d, pub->decision, pub->decision_ctx);
    return qts_fb_decide(d, in, qts_clock_now(pub->clock));
}

const struct qts_order_intent *const *
qts_feedback_pub_confidence(struct qts_feedback_pub *pub, const struct qts_order_intent *const *in,
                            size_t n)
{
    if (!pub->fb)
        return in;
    struct qts_fb_decide *d = qts_feedback_decide(pub->fb);
    qts_fb_decide_set_publish(d, pub->decision, pub->decision_ctx);
    return qts_fb_decide_confidence_batch(d, in, n, qts_clock_now(pub->clock));
}

struct qts_bus_sub qts_feedback_sub(struct qts_feedback_pub *pub)
{
    return (struct qts_bus_sub){.name = "feedback",
                                .on_market = fb_on_market,
                                .on_order = fb_on_order,
                                .on_fill = fb_on_fill,
                                .on_run_end = fb_on_run_end,
                                .self = pub};
}
