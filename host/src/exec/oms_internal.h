/* oms_internal.h — what oms.c and oms_recon.c share: the OMS object and
 * the few functions one calls in the other. Not for use outside
 * host/src/exec/oms*.c (the interface is oms.h).
 *
 *   oms.c        orders, children, lookups, retention and eviction, reports
 *   oms_recon.c  reconciliation against the broker's open orders and
 *                positions, and the differences it reports
 *
 * Everything runs on the core loop thread. */
#ifndef QTS_OMS_INTERNAL_H
#define QTS_OMS_INTERNAL_H

#include "oms.h"

/* ------------------------------------------------------------ hash map
 * Open addressing with linear probing, keyed by a 64-bit hash; several
 * entries may share a key (string hashes can collide), so lookups take a
 * match function. Deletion (evicted orders) shifts the rest of the probe
 * run back, so no tombstone slots build up and lookups stay short.
 *
 * Growth is incremental: when `cur` is 3/4 full a table twice its size
 * becomes `cur` and the full one becomes `old`; every insert and delete
 * then moves a few whole probe runs (clusters) of `old` into `cur`, so no
 * single call rehashes the map. Lookups look in both while `old` is
 * draining. Moving whole clusters, starting after an empty slot, keeps
 * every probe run in `old` unbroken: an entry's home slot lies in its own
 * cluster, so a run never passes through a slot already emptied. */
struct map_tab {
    uint64_t *keys;
    void **vals;   /* NULL = empty slot */
    size_t cap, n; /* cap is a power of two (0 = no table) */
};

struct map {
    struct map_tab cur; /* inserts go here */
    struct map_tab old; /* draining into cur (cap 0 = none) */
    size_t old_pos;     /* next slot of old to visit (the one before is empty) */
    size_t old_left;    /* slots of old not visited yet */
};

/* ------------------------------------------------------- tombstone sets
 * A bounded FIFO of (k1, k2) keys with an index for O(1) membership: the
 * ring holds the keys oldest first; the table (open addressing, linear
 * probing, backward-shift deletion) holds ring index + 1. When the ring is
 * full the oldest key is dropped. A key can also be killed in place (it
 * stays in the ring as a dead slot until it reaches the head). */
struct tset {
    uint64_t *k1, *k2;
    bool *live;
    size_t cap, head, len;
    uint32_t *tab;
    size_t tmask;
};

struct qts_oms {
    char host_id[16];
    uint64_t next_order_id, next_child;
    struct map by_id, by_clordid;
    /* owned, every one held, oldest first (intrusive lists: an eviction
     * unlinks in O(1), nothing to compact) */
    struct qts_parent *p_first, *p_last;
    struct qts_child *c_first, *c_last;
    size_t n_parents, n_children;
    /* children in a working state (qts_order_state_working), kept by the
     * children's own state changes (order.c move_state) */
    size_t n_working;
    struct qts_parent *active; /* list head */
    qts_oms_child_fn listener;
    void *listener_ctx;
    int64_t *pos; /* by instrument id */
    size_t n_pos;
    /* reconciliation */
    bool recon;
    uint64_t next_req;
    uint64_t req_orders, req_positions;
    bool done_orders, done_positions;
    int status_orders, status_positions;
    struct qts_broker_position *bpos;
    size_t n_bpos, cap_bpos;
    const struct qts_broker_port *recon_port;
    qts_recon_fn recon_fn;
    void *recon_ctx;
    /* retention: finished parents in finish order (a ring of pointers) */
    struct qts_parent **fin;
    size_t fin_cap, fin_head, fin_len;
    size_t retain_count;
    int64_t retain_ns;
    uint64_t n_evicted, n_late_fills;
    /* tombstones of evicted orders: parent ids, children by the n of
     * "<host_id>-<n>" (with what a late fill needs), and (n, fill id) */
    struct tset t_parents, t_children, t_fills;
    struct qts_oms_evicted *tombs; /* parallel to t_children's ring */
};

/* the position slot of `inst`, grown (zeroed) on first use; borrowed, valid
 * until the next call (the array may move) */
int64_t *qts__oms_pos_slot(struct qts_oms *oms, uint32_t inst);

/* logs one reconciliation difference and hands it to the recon listener;
 * `clordid` (borrowed, may be NULL) is copied */
void qts__oms_recon_report(struct qts_oms *oms, uint8_t kind, uint32_t inst, const char *clordid,
                           int64_t ours, int64_t theirs);

#endif
