/* timer_svc.h — one-shot timers behind a small interface, so the execution
 * pipeline can run on the libuv loop in production and on a manually
 * advanced fake in tests and replays.
 *
 * Contract for every implementation:
 * - callbacks run on the thread that drives the service (the core loop, or
 *   the caller of qts_fake_timers_advance), never from inside start/stop;
 * - a stopped timer never fires; stopping an unknown or already fired id is
 *   a no-op returning QTS_ENOENT;
 * - timers due at the same instant fire in the order they were started.
 * Ids are never 0, so 0 can mean "no timer".
 */
#ifndef QTS_TIMER_SVC_H
#define QTS_TIMER_SVC_H

#include <stdint.h>

#include "clock.h"
#include "qts/qts_err.h"
#include "qts/qts_plugin.h" /* qts_timer_fn */

struct uv_loop_s;

struct qts_timer_svc_ops {
    /* Arm a one-shot timer `delay_ns` from now (clamped to >= 0). `arg` is
     * borrowed and must stay valid until the timer fires or is stopped. */
    int (*start)(void *self, int64_t delay_ns, qts_timer_fn cb, void *arg, uint64_t *id_out);
    int (*stop)(void *self, uint64_t id);
    /* Move an armed timer to fire `delay_ns` from now, keeping its id and
     * its place among timers due at the same instant (its start order):
     * the risk loop moves an idle tick later and back without changing
     * which of two timers due together fires first. QTS_ENOENT when `id`
     * is not armed. */
    int (*move)(void *self, uint64_t id, int64_t delay_ns);
    /* The time the timers are measured against. */
    int64_t (*now_ns)(void *self);
    void (*free)(void *self);
};

struct qts_timer_svc {
    const struct qts_timer_svc_ops *ops;
    void *self;
};

static inline int qts_timer_svc_start(const struct qts_timer_svc *t, int64_t delay_ns,
                                      qts_timer_fn cb, void *arg, uint64_t *id)
{
    return t->ops->start(t->self, delay_ns, cb, arg, id);
}
static inline int qts_timer_svc_stop(const struct qts_timer_svc *t, uint64_t id)
{
    return id ? t->ops->stop(t->self, id) : 0;
}
static inline int qts_timer_svc_move(const struct qts_timer_svc *t, uint64_t id, int64_t delay_ns)
{
    return id ? t->ops->move(t->self, id, delay_ns) : QTS_ENOENT;
}
static inline int64_t qts_timer_svc_now(const struct qts_timer_svc *t)
{
    return t->ops->now_ns(t->self);
}
/* Frees the implementation; pending timers are dropped without firing. */
static inline void qts_timer_svc_free(struct qts_timer_svc *t)
{
    if (t && t->ops)
        t->ops->free(t->self);
    if (t) {
        t->ops = NULL;
        t->self = NULL;
    }
}

/* Fake: time is the virtual clock `clock` (borrowed; must be a
 * QTS_CLOCK_VIRTUAL clock that outlives the service). Nothing fires until
 * qts_fake_timers_advance is called. */
int qts_fake_timers_new(struct qts_clock *clock, struct qts_timer_svc *out);
/* Move the clock forward to `now + delta_ns`, firing every timer that
 * becomes due, in deadline order, with the clock set to each deadline
 * first. Timers started by callbacks fire in the same call when due.
 * Returns the number of timers fired. */
int qts_fake_timers_advance(struct qts_timer_svc *t, int64_t delta_ns);
/* Number of armed timers. */
int qts_fake_timers_pending(const struct qts_timer_svc *t);

/* libuv: timers on `loop` (borrowed; must outlive the service), time from
 * `clock` (borrowed; NULL = monotonic). Each timer is one uv_timer_t freed in
 * its close callback; qts_timer_svc_free closes the ones still armed, and
 * the loop must run once more afterwards to finish closing them. */
int qts_uv_timers_new(struct uv_loop_s *loop, const struct qts_clock *clock,
                      struct qts_timer_svc *out);

#endif /* QTS_TIMER_SVC_H */
