/* order.h — parent and child orders and the child order state machine.
 *
 * A parent order is what a strategy asked for (one struct qts_order_intent);
 * child orders are what is sent to the broker. Every child has a client
 * order id that is its idempotency key: a retried send reuses it, and every
 * fill is applied once per (client_order_id, fill_id).
 *
 * Child states are enum qts_order_state (qts_types.h); the allowed
 * transitions are one table (qts_order_transition_ok) and docs/execution.md
 * draws it. Parents carry the execution-pipeline state (enum qts_exec_state)
 * and the fields the pipeline stages need; the pipeline owns their meaning.
 *
 * Ownership: parents and children are allocated and freed by the OMS
 * (oms.h). A pointer stays valid until the parent is evicted (final, every
 * child final, no timer, no pin, retention passed) or qts_oms_free; oms.h
 * says who may keep one and for how long.
 */
#ifndef QTS_ORDER_H
#define QTS_ORDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "qts/qts_types.h"

__extension__ typedef __int128 qts_i128;

/* Pipeline state of a parent order (spec-execution-risk §4.10). */
enum qts_exec_state {
    QTS_XS_INIT = 0,
    QTS_XS_PRECHECK = 1,
    QTS_XS_SPLITTING = 2,
    QTS_XS_SENDING = 3,
    QTS_XS_MONITORING = 4,
    QTS_XS_ADJUSTING = 5,
    QTS_XS_ESCAPING = 6,
    QTS_XS_CANCELLING = 7, /* strategy cancel / strategy halted: no flatten */
    QTS_XS_COMPLETE = 8,   /* final */
    QTS_XS_ESCAPED = 9,    /* final */
    QTS_XS_FAILED = 10,    /* final */
};
#define QTS_XS_COUNT 11

const char *qts_exec_state_name(int s);
static inline bool qts_exec_state_final(int s) { return s >= QTS_XS_COMPLETE; }

const char *qts_order_state_name(int s);
/* Final child states: FILLED, CANCELLED, REJECTED, EXPIRED. */
bool qts_order_state_final(int s);
/* Working: the venue may still fill it (PENDING_SEND counts: a send whose
 * outcome is not known yet may have reached the venue). */
bool qts_order_state_working(int s);
/* The transition table: may a child move from `from` to `to`? */
bool qts_order_transition_ok(int from, int to);

enum qts_child_role {
    QTS_CHILD_SLICE = 0,   /* part of the parent's quantity */
    QTS_CHILD_FLATTEN = 1, /* EmergencyEscape liquidation of what was filled */
};

struct qts_parent;

/* Stages timed per parent order (QTS_STAGE_COUNT of exec_pipeline.h). */
#define QTS_PARENT_STAGES 8

struct qts_child {
    struct qts_parent *parent; /* borrowed back-pointer */
    char client_order_id[QTS_CLORDID_MAX];
    char venue_order_id[QTS_VENUE_ID_MAX];
    uint8_t state; /* enum qts_order_state */
    uint8_t role;  /* enum qts_child_role */
    uint8_t side, type, tif;
    bool modify_pending;
    bool recon_seen; /* reconciliation bookkeeping */
    uint16_t slice;  /* 1-based slice number */
    uint32_t instrument;
    int64_t px;        /* current limit price (0 = market) */
    int64_t qty;       /* current total quantity */
    int64_t cum_qty;   /* applied fills */
    int64_t synth_qty; /* booked by reconciliation, no fill id yet */
    qts_i128 notional; /* sum px * qty of applied fills */
    int64_t fee;
    uint64_t *fill_ids; /* owned, sorted: seen fill ids */
    size_t n_fill_ids, cap_fill_ids;
    uint32_t send_attempts;
    int64_t ts_first_send_ns, ts_ack_ns;
    int64_t send_cpu_ns;             /* CPU time spent handing it to the broker (all attempts) */
    uint64_t timer_ack, timer_retry; /* timer ids (0 = none) */
    int64_t replace_px;              /* cancel-replace: resend the rest here */
    struct qts_child *all_prev, *all_next; /* OMS list of every child held */
    uint64_t seq;                          /* n of "<host_id>-<n>" */
    /* borrowed: the OMS's count of working children, kept by every state
     * change (NULL for a child outside an OMS); set by qts_oms_child_new */
    size_t *working_count;
};

/* What applying one execution report did to a child. */
enum qts_apply_flags {
    QTS_APPLY_STATE = 1u << 0,    /* state changed (from -> to) */
    QTS_APPLY_FILL = 1u << 1,     /* fill_qty > 0 applied */
    QTS_APPLY_DUP = 1u << 2,      /* duplicate fill id: nothing applied */
    QTS_APPLY_COVERED = 1u << 3,  /* fill already counted (cum_qty says so) */
    QTS_APPLY_IGNORED = 1u << 4,  /* stale or out-of-order: no effect */
    QTS_APPLY_OVERFILL = 1u << 5, /* venue reported more than ordered; capped */
    QTS_APPLY_REPLACED = 1u << 6, /* a modify took effect (price/qty changed) */
    QTS_APPLY_EVICTED = 1u << 7,  /* for an evicted child (oms.h): no child pointer */
};

struct qts_apply_result {
    unsigned flags;
    uint8_t from, to;
    int64_t fill_qty, fill_px, fill_fee;
    uint64_t fill_id;
    int32_t code;        /* the report's code (rejects) */
    const char *text;    /* the report's venue message; borrowed for the call, NULL if none */
    uint8_t is_maker;    /* of the fill */
    int64_t ts_venue_ns; /* the report's venue time (0 = unknown) */
};

/* Move a child to `to` if the table allows it; QTS_ESTATE otherwise.
 * Moving to the current state is a no-op returning 0. */
int qts_child_set_state(struct qts_child *c, int to);

/* Apply one execution report (borrowed) to `c`. Fills are applied exactly
 * once: a repeated fill_id is ignored, and a fill whose quantity a
 * reconciliation already booked (STATUS with a higher cum_qty) absorbs that
 * booking instead of being counted again. Fills may arrive in any order. Returns 0 (see res->flags) or QTS_EINVAL. */
int qts_child_apply(struct qts_child *c, const struct qts_exec_report *rep,
                    struct qts_apply_result *res);

int64_t qts_child_leaves(const struct qts_child *c);
int64_t qts_child_avg_px(const struct qts_child *c);
void qts_child_cleanup(struct qts_child *c);

struct qts_slice; /* exec_split.h */

struct qts_parent {
    uint64_t order_id;
    uint32_t strategy_id;
    uint8_t state;                  /* enum qts_exec_state */
    bool partial;                   /* COMPLETE with less than asked */
    bool success;                   /* for ESCAPED: flatten confirmed */
    bool flatten;                   /* ESCAPING liquidates what was filled */
    struct qts_order_intent intent; /* copied; after PreCheck adjustments */
    struct qts_instrument inst;     /* copied at submit */
    int64_t ref_px;                 /* arrival price: slippage reference */
    int64_t limit_cap_px;           /* worst price AdaptiveAdjust may use */
    /* children (owned by the OMS; this array is owned by the parent) */
    struct qts_child **children;
    size_t n_children, cap_children;
    /* slice schedule (owned) */
    struct qts_slice *slices;
    size_t n_slices, next_slice;
    /* aggregates over SLICE children */
    int64_t filled_qty;
    qts_i128 notional;
    int64_t fee;
    int64_t flatten_filled; /* filled by FLATTEN children */
    int64_t iceberg_left;   /* iceberg: qty not yet shown */
    /* pipeline bookkeeping */
    uint32_t adjust_rounds;
    uint32_t send_failures;
    int64_t ts_submit_ns, ts_stage_ns, ts_final_ns;
    /* this order's share of each stage's time (enum qts_exec_stage,
     * exec_pipeline.h; its histograms hold every order's): CPU ns for the
     * local stages, what execution_logs records when the order ends */
    int64_t stage_ns[QTS_PARENT_STAGES];
    uint32_t stage_n[QTS_PARENT_STAGES]; /* how many times each stage ran */
    uint64_t timer_stage, timer_slice, timer_adjust, timer_poll;
    int32_t code; /* final/reject code (QTS_E* or GR/FS number) */
    char reason[96];
    void *owner; /* the pipeline driving it (borrowed) */
    int64_t ts_adjust_start_ns;
    uint32_t flatten_attempts;
    bool fail_after_escape; /* send-stage rollback: final FAILED */
    bool venue_rejected;    /* a slice was refused by the venue: reason holds why */
    uint8_t cancel_kind;    /* event kind when CANCELLING ends */
    /* OMS list of active (non-final) parents */
    struct qts_parent *active_prev, *active_next;
    bool in_active;
    /* OMS retention (oms.h "Who may hold an order"): list of every parent
     * held, queued as finished, and pins that keep it from eviction */
    struct qts_parent *all_prev, *all_next;
    bool in_finished;
    uint32_t pins;
};

int64_t qts_parent_avg_px(const struct qts_parent *p);
/* Quantity still to fill for the parent's slices. */
int64_t qts_parent_leaves(const struct qts_parent *p);

#endif /* QTS_ORDER_H */
