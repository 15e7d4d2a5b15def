/* event_queue.c — strict-priority intake queues (event_queue.h). */
#include "event_queue.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qts/qts_err.h"
#include "util.h"

#define PROBES 16

struct slot {
    uint64_t seq1;    /* seq + 1 of the latest queued item of this key; 0 = empty */
    uint32_t key;
    uint16_t type;
};

struct ring {
    pthread_mutex_t mu;         /* one lock per priority: a flood of P1 pushes
                                 * never contends with the P0 path */
    _Atomic uint64_t count;     /* depth, readable without the lock */
    struct qts_evq_item *items;
    uint64_t cap, head, tail;   /* seq numbers; item s at items[s % cap] */
    struct slot *index;         /* P1/P2: latest queued item per (type, key) */
    uint64_t index_mask;
    struct qts_hdr_hist lat;
};

struct qts_evq {
    struct qts_evq_config cfg;
    struct ring r[QTS_EVQ_NPRIO];
    struct qts_evq_stats st;    /* per-priority fields guarded by that ring's lock */
    bool p0_tripped;            /* guarded by the P0 lock */
    _Atomic uint64_t total;     /* events queued over all priorities */
};

void qts_evq_config_default(struct qts_evq_config *c)
{
    memset(c, 0, sizeof *c);
    c->cap[QTS_EVQ_P0] = 1024;
    c->cap[QTS_EVQ_P1] = 10000;
    c->cap[QTS_EVQ_P2] = 1000;
    c->cap[QTS_EVQ_P3] = 50000;
    c->p0_trip_depth = 100;
    c->conflate_depth = 64;
    c->max_retries = 3;
}

static int64_t now_ns(const struct qts_evq *q)
{
    return q->cfg.clock ? qts_clock_now(q->cfg.clock) : qts_mono_ns();
}

struct qts_evq *qts_evq_new(const struct qts_evq_config *cfg)
{
    struct qts_evq *q = qts_xcalloc(1, sizeof *q);
    if (cfg)
        q->cfg = *cfg;
    else
        qts_evq_config_default(&q->cfg);
    for (int p = 0; p < QTS_EVQ_NPRIO; p++) {
        struct ring *r = &q->r[p];
        pthread_mutex_init(&r->mu, NULL);
        r->cap = q->cfg.cap[p] ? q->cfg.cap[p] : 16;
        r->items = qts_xcalloc(r->cap, sizeof *r->items);
        /* sequence numbers start high so a retried event can go in front
         * of the head (head - 1) without wrapping */
        r->head = r->tail = UINT64_C(1) << 40;
        qts_hdr_init(&r->lat);
        if (p == QTS_EVQ_P1 || p == QTS_EVQ_P2) {
            uint64_t n = 64;
            while (n < 2 * r->cap)
                n <<= 1;
            r->index = qts_xcalloc(n, sizeof *r->index);
            r->index_mask = n - 1;
        }
    }
    return q;
}

void qts_evq_free(struct qts_evq *q)
{
    if (!q)
        return;
    for (int p = 0; p < QTS_EVQ_NPRIO; p++) {
        free(q->r[p].items);
        free(q->r[p].index);
        pthread_mutex_destroy(&q->r[p].mu);
    }
    free(q);
}

static inline uint64_t depth_of(const struct ring *r)
{
    return r->tail - r->head;
}

static inline uint64_t hash(uint16_t type, uint32_t key)
{
    uint64_t h = ((uint64_t)type << 32 | key) * UINT64_C(0x9E3779B97F4A7C15);
    return h >> 20;
}

static bool live(const struct ring *r, uint64_t seq1, uint16_t type, uint32_t key)
{
    if (!seq1)
        return false;
    uint64_t s = seq1 - 1;
    if (s < r->head || s >= r->tail)
        return false;
    const struct qts_evq_item *it = &r->items[s % r->cap];
    return it->type == type && it->key == key;
}

/* The queued item of (type, key), or NULL; bounded probing. */
static struct qts_evq_item *find(struct ring *r, uint16_t type, uint32_t key)
{
    uint64_t h = hash(type, key);
    for (int i = 0; i < PROBES; i++) {
        struct slot *s = &r->index[(h + (uint64_t)i) & r->index_mask];
        if (!s->seq1)
            return NULL;
        if (s->key == key && s->type == type)
            return live(r, s->seq1, type, key) ? &r->items[(s->seq1 - 1) % r->cap] : NULL;
    }
    return NULL;
}

static void index_put(struct ring *r, uint16_t type, uint32_t key, uint64_t seq)
{
    uint64_t h = hash(type, key);
    struct slot *reuse = NULL;
    for (int i = 0; i < PROBES; i++) {
        struct slot *s = &r->index[(h + (uint64_t)i) & r->index_mask];
        if (s->seq1 && s->key == key && s->type == type) {
            s->seq1 = seq + 1;
            return;
        }
        if (!reuse && (!s->seq1 || !live(r, s->seq1, s->type, s->key)))
            reuse = s;
        if (!s->seq1)
            break;
    }
    if (reuse) { /* else not indexed: that event is simply not conflated */
        reuse->seq1 = seq + 1;
        reuse->key = key;
        reuse->type = type;
    }
}

static void grow(struct ring *r)
{
    uint64_t ncap = r->cap * 2;
    struct qts_evq_item *n = qts_xmalloc(ncap * sizeof *n);
    for (uint64_t s = r->head; s < r->tail; s++)
        n[s % ncap] = r->items[s % r->cap];
    free(r->items);
    r->items = n;
    r->cap = ncap;
}

static void fill(struct qts_evq_item *it, int prio, uint16_t type, uint32_t key,
                 const void *data, size_t len)
{
    it->prio = (uint8_t)prio;
    it->type = type;
    it->key = key;
    it->len = (uint32_t)len;
    it->retries = 0;
    if (len)
        memcpy(it->data, data, len);
}

int qts_evq_push(struct qts_evq *q, int prio, uint16_t type, uint32_t key, const void *data,
                 size_t len)
{
    if (prio < 0 || prio >= QTS_EVQ_NPRIO || len > QTS_EVQ_DATA_MAX || (len && !data))
        return QTS_EINVAL;
    int64_t now = now_ns(q);
    int rc = 0;
    bool trip = false, was_empty = false;
    uint32_t trip_depth = 0;
    struct ring *r = &q->r[prio];
    pthread_mutex_lock(&r->mu);
    q->st.pushed[prio]++;
    uint64_t d = depth_of(r);
    if (prio == QTS_EVQ_P1 && (d >= q->cfg.conflate_depth || d == r->cap)) {
        struct qts_evq_item *it = find(r, type, key);
        if (it) { /* keep its place in line and its (older) enqueue time */
            fill(it, prio, type, key, data, len);
            q->st.conflated[prio]++;
            rc = 1;
            goto out;
        }
    }
    if (d == r->cap) {
        switch (prio) {
        case QTS_EVQ_P0:
            grow(r); /* never drop an order or fill event */
            break;
        case QTS_EVQ_P2: {
            struct qts_evq_item *it = find(r, type, key);
            if (it) {
                fill(it, prio, type, key, data, len);
                q->st.conflated[prio]++;
                rc = 1;
            } else {
                q->st.refused[prio]++;
                rc = QTS_EFULL;
            }
            goto out;
        }
        default: /* P1, P3: the oldest goes */
            r->head++;
            q->st.dropped[prio]++;
            atomic_fetch_sub_explicit(&q->total, 1, memory_order_acq_rel);
            break;
        }
    }
    {
        uint64_t seq = r->tail++;
        struct qts_evq_item *it = &r->items[seq % r->cap];
        fill(it, prio, type, key, data, len);
        it->ts_enq_ns = now;
        if (r->index)
            index_put(r, type, key, seq);
    }
    d = depth_of(r);
    if (d > q->st.max_depth[prio])
        q->st.max_depth[prio] = (uint32_t)d;
    if (prio == QTS_EVQ_P0 && q->cfg.p0_trip_depth && d > q->cfg.p0_trip_depth &&
        !q->p0_tripped) {
        q->p0_tripped = true;
        q->st.p0_trips++;
        trip = true;
        trip_depth = (uint32_t)d;
    }
out:
    atomic_store_explicit(&r->count, depth_of(r), memory_order_release);
    pthread_mutex_unlock(&r->mu);
    if (rc == 0)
        was_empty = atomic_fetch_add_explicit(&q->total, 1, memory_order_acq_rel) == 0;
    if (trip && q->cfg.on_p0_trip)
        q->cfg.on_p0_trip(q->cfg.ctx, trip_depth);
    /* wake the consumer when it may be idle (the queue was empty) and for
     * every P0 event; a busy consumer drains until empty on its own */
    if (rc >= 0 && q->cfg.wake && (was_empty || prio == QTS_EVQ_P0))
        q->cfg.wake(q->cfg.ctx);
    return rc;
}

bool qts_evq_pop(struct qts_evq *q, struct qts_evq_item *out)
{
    for (int p = 0; p < QTS_EVQ_NPRIO; p++) {
        struct ring *r = &q->r[p];
        if (atomic_load_explicit(&r->count, memory_order_acquire) == 0)
            continue; /* skip empty queues without taking their lock */
        pthread_mutex_lock(&r->mu);
        if (r->tail == r->head) {
            pthread_mutex_unlock(&r->mu);
            continue;
        }
        struct qts_evq_item *it = &r->items[r->head % r->cap];
        size_t n = offsetof(struct qts_evq_item, data) + it->len;
        memcpy(out, it, n);
        r->head++;
        atomic_store_explicit(&r->count, depth_of(r), memory_order_release);
        q->st.popped[p]++;
        qts_hdr_record(&r->lat, now_ns(q) - it->ts_enq_ns);
        if (p == QTS_EVQ_P0 && q->p0_tripped && depth_of(r) <= q->cfg.p0_trip_depth / 2)
            q->p0_tripped = false;
        pthread_mutex_unlock(&r->mu);
        atomic_fetch_sub_explicit(&q->total, 1, memory_order_acq_rel);
        return true;
    }
    return false;
}

/* Put a failed event back at the front of its queue (it keeps its place
 * ahead of everything that came after it). */
static void push_front(struct qts_evq *q, const struct qts_evq_item *it)
{
    struct ring *r = &q->r[it->prio];
    pthread_mutex_lock(&r->mu);
    if (depth_of(r) == r->cap) {
        if (it->prio == QTS_EVQ_P0) {
            grow(r);
        } else { /* full of newer data: the retry loses */
            q->st.dropped[it->prio]++;
            pthread_mutex_unlock(&r->mu);
            return;
        }
    }
    r->head--;
    size_t n = offsetof(struct qts_evq_item, data) + it->len;
    memcpy(&r->items[r->head % r->cap], it, n);
    q->st.retried[it->prio]++;
    atomic_store_explicit(&r->count, depth_of(r), memory_order_release);
    pthread_mutex_unlock(&r->mu);
    atomic_fetch_add_explicit(&q->total, 1, memory_order_acq_rel);
}

size_t qts_evq_drain(struct qts_evq *q, size_t max,
                     int (*fn)(void *ctx, const struct qts_evq_item *it), void *ctx)
{
    struct qts_evq_item it;
    size_t n = 0;
    while (n < max && qts_evq_pop(q, &it)) {
        n++;
        if (fn(ctx, &it) >= 0)
            continue;
        it.retries++;
        if (it.retries < q->cfg.max_retries) {
            push_front(q, &it);
            continue;
        }
        struct ring *r = &q->r[it.prio];
        pthread_mutex_lock(&r->mu);
        q->st.dead[it.prio]++;
        pthread_mutex_unlock(&r->mu);
        if (q->cfg.on_dead)
            q->cfg.on_dead(q->cfg.ctx, &it);
    }
    return n;
}

size_t qts_evq_depth(const struct qts_evq *q, int prio)
{
    if (prio < 0 || prio >= QTS_EVQ_NPRIO)
        return 0;
    return (size_t)atomic_load_explicit(&q->r[prio].count, memory_order_acquire);
}

void qts_evq_stats(const struct qts_evq *q, struct qts_evq_stats *out)
{
    struct qts_evq *m = (struct qts_evq *)q; /* the locks are not logical state */
    memset(out, 0, sizeof *out);
    for (int p = 0; p < QTS_EVQ_NPRIO; p++) {
        struct ring *r = &m->r[p];
        pthread_mutex_lock(&r->mu);
        out->pushed[p] = m->st.pushed[p];
        out->popped[p] = m->st.popped[p];
        out->conflated[p] = m->st.conflated[p];
        out->dropped[p] = m->st.dropped[p];
        out->refused[p] = m->st.refused[p];
        out->retried[p] = m->st.retried[p];
        out->dead[p] = m->st.dead[p];
        out->max_depth[p] = m->st.max_depth[p];
        out->depth[p] = (uint32_t)depth_of(r);
        if (p == QTS_EVQ_P0)
            out->p0_trips = m->st.p0_trips;
        pthread_mutex_unlock(&r->mu);
    }
}

void qts_evq_latency(const struct qts_evq *q, int prio, struct qts_hdr_hist *out)
{
    if (prio < 0 || prio >= QTS_EVQ_NPRIO) {
        qts_hdr_init(out);
        return;
    }
    struct ring *r = &((struct qts_evq *)q)->r[prio];
    pthread_mutex_lock(&r->mu);
    *out = r->lat;
    pthread_mutex_unlock(&r->mu);
}

int qts_evq_json(const struct qts_evq *q, char *buf, size_t cap)
{
    struct qts_evq_stats st;
    qts_evq_stats(q, &st);
    size_t o = 0;
    struct qts_hdr_hist *h = qts_xmalloc(sizeof *h); /* ~30 kB: not on the stack */
    for (int p = 0; p < QTS_EVQ_NPRIO; p++) {
        char hj[256];
        qts_evq_latency(q, p, h);
        qts_hdr_json(h, hj, sizeof hj);
        int n = snprintf(buf + (o < cap ? o : cap), o < cap ? cap - o : 0,
                         "%s\"P%d\":{\"depth\":%u,\"max_depth\":%u,\"pushed\":%llu,"
                         "\"dropped\":%llu,\"conflated\":%llu,\"refused\":%llu,"
                         "\"latency_ns\":%s}%s",
                         p == 0 ? "{" : ",", p, st.depth[p], st.max_depth[p],
                         (unsigned long long)st.pushed[p], (unsigned long long)st.dropped[p],
                         (unsigned long long)st.conflated[p], (unsigned long long)st.refused[p],
                         hj, p == QTS_EVQ_NPRIO - 1 ? "}" : "");
        if (n > 0)
            o += (size_t)n;
    }
    free(h);
    return (int)o;
}
