/* event_queue.h — the core's priority intake for plugin events and
 * commands: four queues served in strict priority order.
 *
 *   P0 orders and fills: never dropped (the ring grows), never behind
 *      anything else; above p0_trip_depth the owner is told (FS095: stop
 *      generating orders, keep draining).
 *   P1 market data: conflated per key (instrument + event type) once the
 *      queue holds conflate_depth items: a newer event replaces the queued
 *      one of the same key in place, so under load every instrument keeps
 *      its place in line with its latest data. When full, the oldest goes.
 *   P2 strategy timers: collapsed per key when full (a queued timer of the
 *      same key absorbs the new one), else refused (QTS_EFULL).
 *   P3 telemetry: the oldest is dropped when full.
 * A P0 event waits at most for the one handler that is running when it
 * arrives (qts_evq_pop re-checks P0 before every item).
 *
 * Threads: any thread may push; one consumer pops (the core loop). One
 * mutex guards the queues; `wake` (e.g. uv_async_send) is called after a
 * push when the consumer may be idle. Depth, drops and per-priority
 * queueing latency (push -> pop on the queue's clock) are kept.
 */
#ifndef QTS_EVENT_QUEUE_H
#define QTS_EVENT_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clock.h"
#include "hdr_hist.h"

enum qts_evq_prio {
    QTS_EVQ_P0 = 0, /* order and fill events */
    QTS_EVQ_P1 = 1, /* market data */
    QTS_EVQ_P2 = 2, /* strategy timers */
    QTS_EVQ_P3 = 3, /* telemetry */
};
#define QTS_EVQ_NPRIO 4
#define QTS_EVQ_DATA_MAX 192

struct qts_evq_item {
    uint8_t prio;             /* enum qts_evq_prio */
    uint16_t type;            /* the producer's event type */
    uint32_t key;             /* instrument / timer id: conflation key with type */
    int64_t ts_enq_ns;        /* set by push */
    uint8_t retries;          /* handler failures so far (qts_evq_drain) */
    uint32_t len;             /* bytes used in data */
    unsigned char data[QTS_EVQ_DATA_MAX];
};

struct qts_evq_config {
    uint32_t cap[QTS_EVQ_NPRIO];  /* 1024 (initial; P0 grows), 10000, 1000, 50000 */
    uint32_t p0_trip_depth;       /* 100: on_p0_trip called (once until it drains) */
    uint32_t conflate_depth;      /* 64: P1 conflation starts at this depth */
    const struct qts_clock *clock;/* borrowed; NULL = monotonic */
    void (*wake)(void *ctx);      /* after a push; may be NULL */
    void (*on_p0_trip)(void *ctx, uint32_t depth); /* called by the pushing thread */
    uint8_t max_retries;          /* 3: a failing handler sees an event this often */
    /* an event whose handler failed max_retries times (borrowed for the
     * call); for P0 the owner raises FS098. May be NULL. */
    void (*on_dead)(void *ctx, const struct qts_evq_item *it);
    void *ctx;                    /* borrowed */
};

void qts_evq_config_default(struct qts_evq_config *c);

struct qts_evq_stats {
    uint64_t pushed[QTS_EVQ_NPRIO], popped[QTS_EVQ_NPRIO];
    uint64_t conflated[QTS_EVQ_NPRIO], dropped[QTS_EVQ_NPRIO], refused[QTS_EVQ_NPRIO];
    uint32_t depth[QTS_EVQ_NPRIO], max_depth[QTS_EVQ_NPRIO];
    uint32_t p0_trips;
    uint64_t retried[QTS_EVQ_NPRIO], dead[QTS_EVQ_NPRIO];
};

struct qts_evq;

/* `cfg` copied (NULL = defaults). */
struct qts_evq *qts_evq_new(const struct qts_evq_config *cfg);
void qts_evq_free(struct qts_evq *q);
/* Copy `data` (len <= QTS_EVQ_DATA_MAX, borrowed) in. Returns 0, or 1 when
 * it replaced a queued event of the same key (conflated/collapsed), or
 * QTS_EFULL (P2 full, nothing to collapse), QTS_EINVAL. */
int qts_evq_push(struct qts_evq *q, int prio, uint16_t type, uint32_t key, const void *data,
                 size_t len);
/* The next event by strict priority into *out; false when empty. */
bool qts_evq_pop(struct qts_evq *q, struct qts_evq_item *out);
/* Pop and handle up to `max` events in strict priority order (P0 is
 * re-checked before every event), then return how many were handled. The
 * consumer calls it from its wake-up (uv_async) and, when it returns `max`,
 * wakes itself again, so timers of the loop run between batches. `fn` gets
 * the item borrowed for the call and returns 0, or < 0 when it failed: the
 * event goes back to the front of its queue (order kept) until it failed
 * max_retries times, then to on_dead. */
size_t qts_evq_drain(struct qts_evq *q, size_t max,
                     int (*fn)(void *ctx, const struct qts_evq_item *it), void *ctx);
size_t qts_evq_depth(const struct qts_evq *q, int prio);
void qts_evq_stats(const struct qts_evq *q, struct qts_evq_stats *out);
/* Queueing latency of a priority (copied out under the lock). */
void qts_evq_latency(const struct qts_evq *q, int prio, struct qts_hdr_hist *out);
/* {"P0":{"depth":..,"max_depth":..,"pushed":..,"dropped":..,"conflated":..,"refused":..,
 *  "latency_ns":{hist}},...} */
int qts_evq_json(const struct qts_evq *q, char *buf, size_t cap);

#endif /* QTS_EVENT_QUEUE_H */
