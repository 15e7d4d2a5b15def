/* ring.c — see ring.h. Classic SPSC ring: the producer owns `tail`, the
 * consumer owns `head`; each publishes with release and reads the other's
 * index with acquire. Slots of the conflating table use a sequence lock so
 * a reader never sees a half-written event. */
#include "ring.h"

#include <stdlib.h>
#include <string.h>

#include "qts/qts_err.h"
#include "util.h"

static size_t round_pow2(size_t n)
{
    size_t c = 2;
    while (c < n)
        c <<= 1;
    return c;
}

int qts_ring_init(struct qts_ring *r, size_t cap, size_t elem_size)
{
    if (elem_size == 0)
        return QTS_EINVAL;
    memset(r, 0, sizeof *r);
    r->cap = round_pow2(cap);
    r->elem_size = elem_size;
    r->buf = qts_xcalloc(r->cap, elem_size);
    atomic_init(&r->head, 0);
    atomic_init(&r->tail, 0);
    return 0;
}

void qts_ring_cleanup(struct qts_ring *r)
{
    free(r->buf);
    r->buf = NULL;
}

int qts_ring_push(struct qts_ring *r, const void *elem)
{
    size_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    size_t head = atomic_load_explicit(&r->head, memory_order_acquire);
    if (tail - head >= r->cap)
        return QTS_EFULL;
    memcpy(r->buf + (tail & (r->cap - 1)) * r->elem_size, elem, r->elem_size);
    atomic_store_explicit(&r->tail, tail + 1, memory_order_release);
    return 0;
}

void *qts_ring_reserve(struct qts_ring *r)
{
    size_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    size_t head = atomic_load_explicit(&r->head, memory_order_acquire);
    if (tail - head >= r->cap)
        return NULL;
    return r->buf + (tail & (r->cap - 1)) * r->elem_size;
}

void qts_ring_commit(struct qts_ring *r)
{
    size_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    atomic_store_explicit(&r->tail, tail + 1, memory_order_release);
}

void *qts_ring_peek(struct qts_ring *r)
{
    size_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    size_t tail = atomic_load_explicit(&r->tail, memory_order_acquire);
    if (head == tail)
        return NULL;
    return r->buf + (head & (r->cap - 1)) * r->elem_size;
}

void qts_ring_drop(struct qts_ring *r)
{
    size_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    atomic_store_explicit(&r->head, head + 1, memory_order_release);
}

int qts_ring_pop(struct qts_ring *r, void *out)
{
    void *p = qts_ring_peek(r);
    if (!p)
        return QTS_EAGAIN;
    memcpy(out, p, r->elem_size);
    qts_ring_drop(r);
    return 0;
}

size_t qts_ring_count(const struct qts_ring *r)
{
    size_t tail = atomic_load_explicit(&r->tail, memory_order_acquire);
    size_t head = atomic_load_explicit(&r->head, memory_order_acquire);
    return tail - head;
}

/* ------------------------------------------------------------ conflation */

int qts_mdslots_init(struct qts_mdslots *t, size_t n_slots, size_t slot_size)
{
    memset(t, 0, sizeof *t);
    t->n_slots = n_slots;
    t->slot_size = slot_size;
    t->slots = qts_xcalloc(n_slots, sizeof *t->slots);
    for (size_t i = 0; i < n_slots; i++) {
        atomic_init(&t->slots[i].version, 0);
        atomic_init(&t->slots[i].pending, 0);
        t->slots[i].data = qts_xcalloc(1, slot_size);
    }
    atomic_init(&t->conflated, 0);
    atomic_init(&t->published, 0);
    return qts_ring_init(&t->ready, n_slots + 1, sizeof(uint32_t));
}

void qts_mdslots_cleanup(struct qts_mdslots *t)
{
    for (size_t i = 0; i < t->n_slots; i++)
        free(t->slots[i].data);
    free(t->slots);
    t->slots = NULL;
    qts_ring_cleanup(&t->ready);
}

int qts_mdslots_put(struct qts_mdslots *t, uint32_t key, const void *data, size_t len,
                    void (*fix)(void *slot_copy))
{
    if (key >= t->n_slots || len > t->slot_size)
        return QTS_EINVAL;
    struct qts_mdslot *s = &t->slots[key];
    uint64_t v = atomic_load_explicit(&s->version, memory_order_relaxed);
    atomic_store_explicit(&s->version, v + 1, memory_order_relaxed);
    atomic_thread_fence(memory_order_release);
    memcpy(s->data, data, len);
    if (fix)
        fix(s->data);
    atomic_store_explicit(&s->version, v + 2, memory_order_release);
    atomic_fetch_add_explicit(&t->published, 1, memory_order_relaxed);
    if (atomic_exchange(&s->pending, 1))
        return 1; /* the consumer counts what it skipped (see take) */
    /* Capacity > n_slots and each key is queued at most once: cannot fail. */
    QTS_ASSERT(qts_ring_push(&t->ready, &key) == 0);
    return 0;
}

int qts_mdslots_take(struct qts_mdslots *t, void *out, void (*fix)(void *copy))
{
    uint32_t key;
    while (qts_ring_pop(&t->ready, &key) == 0) {
        struct qts_mdslot *s = &t->slots[key];
        /* Clear first: a put after this line queues the key again. */
        atomic_store(&s->pending, 0);
        uint64_t v1, v2;
        do {
            v1 = atomic_load_explicit(&s->version, memory_order_acquire);
            if (v1 & 1)
                continue;
            memcpy(out, s->data, t->slot_size);
            atomic_thread_fence(memory_order_acquire);
            v2 = atomic_load_explicit(&s->version, memory_order_relaxed);
            if (v1 == v2)
                break;
        } while (1);
        if (v1 == s->read_version)
            continue; /* already delivered by an earlier take */
        /* Each put adds 2 to the version: every put between the last value
         * delivered and this one was replaced unread. Counting here (not in
         * put) is exact even when a put lands between clearing `pending`
         * and reading the slot. */
        uint64_t skipped = (v1 - s->read_version) / 2 - 1;
        if (skipped)
            atomic_fetch_add_explicit(&t->conflated, skipped, memory_order_relaxed);
        s->read_version = v1;
        if (fix)
            fix(out);
        return 1;
    }
    return 0;
}
