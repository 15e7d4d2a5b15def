/* ring.h — bounded lock-free queues between the core and strategy workers.
 *
 * struct qts_ring: single-producer single-consumer ring of fixed-size
 * elements (C11 atomics, power-of-two capacity). Used for events that must
 * never be dropped (orders, fills, timers: P0) and for order intents going
 * back to the core. A full ring makes push return QTS_EFULL; the caller owns
 * the policy (the runtime keeps a core-side backlog for P0, a strategy gets
 * "queue full" back from ctx:order).
 *
 * struct qts_mdslots: a conflating slot table for market data (P1). One slot
 * per key (instrument x kind) holds the latest event; every value replaced
 * before the consumer read it is counted once (by the consumer). The
 * consumer learns which slots changed through an index ring that never
 * overflows (a key is queued at most once while pending).
 */
#ifndef QTS_RING_H
#define QTS_RING_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define QTS_CACHELINE 64

struct qts_ring {
    _Alignas(QTS_CACHELINE) atomic_size_t head; /* next to read (consumer) */
    _Alignas(QTS_CACHELINE) atomic_size_t tail; /* next to write (producer) */
    _Alignas(QTS_CACHELINE) size_t cap;         /* power of two */
    size_t elem_size;
    unsigned char *buf; /* owned, cap * elem_size */
};

/* cap is rounded up to a power of two (minimum 2). */
int qts_ring_init(struct qts_ring *r, size_t cap, size_t elem_size);
void qts_ring_cleanup(struct qts_ring *r);

/* Producer side. `elem` is copied. 0 or QTS_EFULL. */
int qts_ring_push(struct qts_ring *r, const void *elem);
/* Producer side, in place: a borrowed pointer to the next free slot (NULL
 * when full), published by qts_ring_commit(). Saves a copy for big elements. */
void *qts_ring_reserve(struct qts_ring *r);
void qts_ring_commit(struct qts_ring *r);
/* Consumer side. Copies the oldest element into `out`; 0 or QTS_EAGAIN. */
int qts_ring_pop(struct qts_ring *r, void *out);
/* Consumer side: borrowed pointer to the oldest element (valid until
 * qts_ring_drop), or NULL when empty. */
void *qts_ring_peek(struct qts_ring *r);
void qts_ring_drop(struct qts_ring *r);
size_t qts_ring_count(const struct qts_ring *r); /* approximate from either side */

/* ------------------------------------------------------------ conflation */

struct qts_mdslot {
    atomic_uint_fast64_t version; /* odd while the producer writes */
    atomic_int pending;           /* queued in the index ring, not yet read */
    uint64_t read_version;        /* consumer: last version delivered */
    unsigned char *data;          /* owned, slot_size bytes */
};

struct qts_mdslots {
    size_t n_slots, slot_size;
    struct qts_mdslot *slots;       /* owned */
    struct qts_ring ready;          /* uint32_t keys, capacity >= n_slots */
    atomic_uint_fast64_t conflated; /* values replaced unread (consumer counts) */
    atomic_uint_fast64_t published;
};

int qts_mdslots_init(struct qts_mdslots *t, size_t n_slots, size_t slot_size);
void qts_mdslots_cleanup(struct qts_mdslots *t);
/* Producer: store `len` bytes of `data` (copied) as the latest for `key`.
 * `fix` (may be NULL) is called on the slot copy before it is published, to
 * repoint interior pointers. Returns 1 if the key was still pending (an
 * unread value was probably replaced), 0 otherwise, QTS_EINVAL for a bad key. */
int qts_mdslots_put(struct qts_mdslots *t, uint32_t key, const void *data, size_t len,
                    void (*fix)(void *slot_copy));
/* Consumer: copy the latest value of the next ready key into `out`
 * (slot_size bytes) and fix its pointers. Returns 1 if a value was taken,
 * 0 if nothing is ready. */
int qts_mdslots_take(struct qts_mdslots *t, void *out, void (*fix)(void *copy));

#endif /* QTS_RING_H */
