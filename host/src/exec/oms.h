/* oms.h — the order store: parents, children, ids, ownership, positions
 * from fills, and reconciliation with the broker.
 *
 * - Parent order ids are 1, 2, 3, ... per host; client order ids are
 *   "<host_id>-<n>" with n counting children from 1. Both are deterministic,
 *   so a replay produces the same ids byte for byte.
 * - Lookups by order id and by client order id are O(1) (hash tables).
 * - Every parent belongs to the strategy that placed it; the active list
 *   (non-final parents) is what cancel-all-for-strategy walks.
 * - Execution reports go through qts_oms_apply_report, which applies each
 *   one to its child exactly once and tells the listener (the pipeline).
 * - Reconciliation: see docs/execution.md "Reconciliation" for the rule.
 * - Retention: finished parents are evicted (freed with their children)
 *   once nothing refers to them any more; see below.
 * Single-threaded: everything runs on the core loop.
 *
 * Who may hold an order, and for how long
 * ---------------------------------------
 * Parents and children are owned by the OMS. A finished parent is evicted
 * by qts_oms_evict (called by the pipeline at the top of qts_exec_submit
 * and qts_exec_on_report, never from inside a callback) once it is final,
 * off the active list, not pinned, has no timer armed, every child is final
 * with no modify or cancel-replace pending, no reconciliation is running,
 * and it is outside the retention window (more than `retain_count` newer
 * finished parents AND finished at least `retain_ns` ago on the pipeline's
 * timer clock, virtual in replays). So:
 *
 *   holder                                   keeps            for how long
 *   OMS maps/arrays, active list, finished   pointers         until eviction
 *   pipeline timers (stage, slice, adjust,   pointer as arg   while armed; an armed
 *     poll, child ack/retry)                                  timer blocks eviction
 *   pipeline stages, listener, sinks         pointers         the call only
 *   feedback/TCA (engine's fb_parent)        order id; looks  the call only (at fill
 *                                            the parent up    and final time)
 *   risk loop (pending exit)                 order id         pinned (qts_oms_pin)
 *                                                             until it is settled
 *   safety / kill switch, engine             active list      the walk only (active
 *                                                             parents are never evicted)
 *   Lua (ctx:cancel), admin, reconciliation  order id / client looked up per use;
 *                                            order id         evicted = final
 *   store/cache writers, paper broker        copies of events no pointers
 *                                            and client ids
 *
 * Anyone else keeping a pointer across calls must keep the order id
 * instead and look it up again (qts_oms_lookup says LIVE / EVICTED /
 * UNKNOWN), or pin the order for as long as it needs it.
 *
 * Tombstones: the last `tombstones` evicted parent ids and children
 * (client order id number plus what a late fill needs) and up to
 * QTS_OMS_TOMB_FILLS_PER_CHILD x `tombstones` of their fill ids are kept.
 * A report for a tombstoned child is never "unknown": a repeated fill id
 * is a duplicate (QTS_APPLY_DUP), any other report is ignored, and a fill
 * with a new id (it happened at the venue after all) is booked once
 * (QTS_APPLY_FILL, position updated). A child's tombstone lives only while
 * all of its fill ids are remembered, so a duplicate can never count
 * twice; beyond the window a report is unknown again (QTS_ENOENT), as for
 * an order of a previous run.
 */
#ifndef QTS_OMS_H
#define QTS_OMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "order.h"
#include "qts/qts_plugin.h"

struct qts_oms;

/* Fill ids remembered per child tombstone, on average. */
#define QTS_OMS_TOMB_FILLS_PER_CHILD 4

/* What is kept of an evicted child (a tombstone). */
struct qts_oms_evicted {
    uint64_t order_id;
    uint32_t strategy_id;
    uint32_t instrument;
    uint8_t side, role, state; /* state when evicted (final) */
    uint8_t px_exp, qty_exp;
    int64_t qty, cum_qty, synth_qty;
    char tag[QTS_TAG_MAX];
};

enum qts_oms_lookup {
    QTS_OMS_UNKNOWN = 0, /* never ours, or evicted beyond the tombstone window */
    QTS_OMS_LIVE = 1,    /* held: the pointer is valid */
    QTS_OMS_EVICTED = 2, /* was ours, final, freed: no pointer */
};

/* The broker a pipeline and the OMS talk to: an ops table plus its
 * instance. The plugin manager fills it from a loaded broker; tests plug a
 * scripted fake. `ops` and `self` are borrowed. */
struct qts_broker_port {
    const struct qts_broker_ops *ops;
    void *self;
    bool cannot_push; /* reports only on query: the monitor polls */
};

/* Called after a report changed a child (state or fill). Both pointers are
 * borrowed for the call. */
typedef void (*qts_oms_child_fn)(void *ctx, struct qts_child *c,
                                 const struct qts_apply_result *res);

/* `host_id` copied (at most 15 characters; the client id prefix). */
struct qts_oms *qts_oms_new(const char *host_id);
void qts_oms_free(struct qts_oms *oms);
void qts_oms_set_listener(struct qts_oms *oms, qts_oms_child_fn fn, void *ctx);
const char *qts_oms_host_id(const struct qts_oms *oms);

/* New parent from `intent` (copied), owned by the OMS and placed on the
 * active list. Its id: intent.order_id when the OMS gave it to the
 * strategy (oms_ids.h), else the next free host id. NULL when intent
 * carries an id the OMS did not make for that strategy, or one already used
 * (held or evicted). */
struct qts_parent *qts_oms_parent_new(struct qts_oms *oms, const struct qts_order_intent *intent,
                                      const struct qts_instrument *inst);
/* New child of `p` in state NEW with the next client order id. */
struct qts_child *qts_oms_child_new(struct qts_oms *oms, struct qts_parent *p, uint8_t role,
                                    uint8_t side, uint8_t type, int64_t px, int64_t qty);
/* Borrowed results; NULL when unknown or evicted. Valid until the next
 * qts_oms_evict. */
struct qts_parent *qts_oms_find(const struct qts_oms *oms, uint64_t order_id);
struct qts_child *qts_oms_find_child(const struct qts_oms *oms, const char *clordid);
/* Take a parent off the active list (it reached a final state). */
void qts_oms_parent_finished(struct qts_oms *oms, struct qts_parent *p);
/* First active parent and the next one (walk with care: do not finish a
 * parent other than the current one while walking). */
struct qts_parent *qts_oms_active_first(const struct qts_oms *oms);
struct qts_parent *qts_oms_active_next(const struct qts_parent *p);
/* Every parent the OMS still holds (active and finished, not yet evicted):
 * start with _held_first, continue with p->all_next. */
struct qts_parent *qts_oms_held_first(const struct qts_oms *oms);
/* Client order ids continue from "<host_id>-<n>" (before the first order). */
void qts_oms_set_first_seq(struct qts_oms *oms, uint64_t n);
/* Order ids (non-final parents) of `strategy_id` into ids[cap]; returns the
 * total count (may exceed cap). */
size_t qts_oms_active_ids(const struct qts_oms *oms, uint32_t strategy_id, uint64_t *ids,
                          size_t cap);
size_t qts_oms_count(const struct qts_oms *oms);
/* Child orders the venue may still work or fill (any parent, final or
 * not): in flight or at the venue. O(1): a count every child state change
 * keeps (order.c), never a walk. */
size_t qts_oms_working_children(const struct qts_oms *oms);

/* Parents held now (live and finished, not evicted), children held now,
 * finished parents held, parents evicted so far, late fills booked for
 * evicted children. */
size_t qts_oms_child_count(const struct qts_oms *oms);
size_t qts_oms_finished_count(const struct qts_oms *oms);
uint64_t qts_oms_evicted_total(const struct qts_oms *oms);
uint64_t qts_oms_late_fills(const struct qts_oms *oms);

/* ----------------------------------------------------------- retention */

/* Keep at least the last `retain_count` finished parents and those
 * finished less than `retain_ns` ago; `tombstones` sizes the window of
 * evicted ids (0 = never evict: every order is kept for the run, the
 * default of a new OMS). Call before the first eviction. */
void qts_oms_set_retention(struct qts_oms *oms, size_t retain_count, int64_t retain_ns,
                           size_t tombstones);
/* Evict up to `max` finished parents that nothing refers to any more
 * (see the table above); `now_ns` on the clock of p->ts_final_ns. O(1)
 * amortised per eviction. Returns how many went. Must not be called while
 * a caller up the stack holds a parent or child pointer. */
size_t qts_oms_evict(struct qts_oms *oms, int64_t now_ns, size_t max);
/* Keep an order from eviction (counted; QTS_ENOENT if not held). */
int qts_oms_pin(struct qts_oms *oms, uint64_t order_id);
void qts_oms_unpin(struct qts_oms *oms, uint64_t order_id);
/* Look an order up: LIVE (*out = the parent), EVICTED or UNKNOWN
 * (*out = NULL). `out` may be NULL. */
enum qts_oms_lookup qts_oms_lookup(const struct qts_oms *oms, uint64_t order_id,
                                   struct qts_parent **out);
/* The tombstone of an evicted child (borrowed until the next OMS call),
 * or NULL. */
const struct qts_oms_evicted *qts_oms_find_evicted(const struct qts_oms *oms, const char *clordid);

/* Apply a broker report (borrowed). Returns 0 when applied (also for
 * duplicates, reported in *res; for an evicted child *res has
 * QTS_APPLY_EVICTED, *child_out stays NULL and the listener is not
 * called), QTS_ENOENT for an unknown client order id
 * (a reconciliation difference while reconciling), QTS_EINVAL. `child_out`
 * and `res` may be NULL. */
int qts_oms_apply_report(struct qts_oms *oms, const struct qts_exec_report *rep,
                         struct qts_child **child_out, struct qts_apply_result *res);

/* Net position of an instrument from the fills the OMS applied (signed,
 * quantity units), and the reconciled value when the broker disagreed. */
int64_t qts_oms_position(const struct qts_oms *oms, uint32_t instrument);

/* ------------------------------------------------------ reconciliation */

enum qts_recon_kind {
    QTS_RECON_FOREIGN_ORDER = 1, /* open at the broker, not ours: left alone */
    QTS_RECON_STRAY_ORDER = 2,   /* open at the broker, our prefix, unknown: cancelled */
    QTS_RECON_MISSING_ORDER = 3, /* working here, not open at the broker: expired */
    QTS_RECON_FILL_GAP = 4,      /* broker cum_qty above ours: missing fill booked */
    QTS_RECON_POSITION = 5,      /* position differs: broker value adopted */
};

struct qts_recon_diff {
    uint8_t kind; /* enum qts_recon_kind */
    uint32_t instrument;
    char client_order_id[QTS_CLORDID_MAX];
    int64_t ours, theirs; /* quantities compared */
};

/* Differences go here (borrowed for the call). */
typedef void (*qts_recon_fn)(void *ctx, const struct qts_recon_diff *d);

/* Start a reconciliation: asks the broker for open orders and positions
 * (when it supports them). Answers come back through qts_oms_apply_report
 * (STATUS reports), qts_oms_recon_position and qts_oms_recon_done. Returns
 * QTS_EUNSUPPORTED when the broker can answer neither query, QTS_EBUSY when
 * one is already running. `port` is borrowed for the duration. */
int qts_oms_recon_begin(struct qts_oms *oms, const struct qts_broker_port *port, qts_recon_fn fn,
                        void *ctx);
bool qts_oms_recon_active(const struct qts_oms *oms);
/* The request ids of the running reconciliation (0 = not asked). */
uint64_t qts_oms_recon_orders_req(const struct qts_oms *oms);
uint64_t qts_oms_recon_positions_req(const struct qts_oms *oms);
int qts_oms_recon_position(struct qts_oms *oms, const struct qts_broker_position *pos);
/* End of one answer. When both answers are in, the comparison runs, the
 * differences are reported and resolved, and the listener hears about every
 * child that changed. Returns 1 when the reconciliation finished. */
int qts_oms_recon_done(struct qts_oms *oms, uint64_t req_id, int status);

#endif /* QTS_OMS_H */
