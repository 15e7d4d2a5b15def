/* exec_internal.h — what the files of the execution pipeline share: the
 * pipeline object and the functions one stage calls in another. Not for use
 * outside host/src/exec/ (the interface is exec_pipeline.h).
 *
 * The files, one stage or concern each:
 *   exec_pipeline.c  life cycle, submit (PreCheck, OrderSplit, first send),
 *                    cancel/escape entry points, reports, reconciliation, views
 *   exec_params.c    parameters, their defaults and range checks; tick rounding
 *   exec_core.c      outputs (order events, fills, safety codes), timers, finish
 *   exec_precheck.c  PreCheck: the hooks and the basic checks
 *   exec_send.c      AsyncSend and the slice schedule
 *   exec_monitor.c   PartialFillMonitor: evaluation, child changes, stage timers
 *   exec_adjust.c    AdaptiveAdjust
 *   exec_escape.c    EmergencyEscape and the cancel stage
 *
 * Everything runs on the core loop thread. Parents and children are owned
 * by the OMS; every struct qts_parent / qts_child pointer below is borrowed
 * for the call (an order is never evicted while x->depth > 0).
 */
#ifndef QTS_EXEC_INTERNAL_H
#define QTS_EXEC_INTERNAL_H

#include "exec_pipeline.h"
#include "safety_codes.h"

#define MS (INT64_C(1000000))
#define QTS_EXEC_MAX_HOOKS 16

struct qts_exec {
    struct qts_exec_params params;
    struct qts_exec_env env;
    struct qts_oms *oms; /* owned */
    struct qts_precheck_hook hooks[QTS_EXEC_MAX_HOOKS];
    size_t n_hooks;
    struct qts_hdr_hist hist[QTS_STAGE_COUNT];
    uint64_t n_submitted, n_rejected, n_complete, n_partial, n_escaped, n_failed, n_cancelled,
        n_retries, n_dup_reports, n_unknown_reports;
    uint64_t event_seq;
    int depth;                   /* entry points on the stack: eviction only at depth 0 */
    bool recon_adopts_positions; /* qts_exec_reconcile_adopting: no FS070 */
};

/* ------------------------------------------------------ time, entry points */

/* One run of a stage: into the stage's histogram and, when the order is
 * known, into the order's own total (execution_logs). */
static inline void qts__exec_stage_time(struct qts_exec *x, struct qts_parent *p, int stage,
                                        int64_t ns)
{
    qts_hdr_record(&x->hist[stage], ns);
    if (p) {
        p->stage_ns[stage] += ns;
        p->stage_n[stage]++;
    }
}

static inline int64_t qts__exec_now_ns(const struct qts_exec *x)
{
    return qts_timer_svc_now(x->env.timers);
}

/* Time stamp of events the pipeline emits. */
static inline int64_t qts__exec_event_ns(const struct qts_exec *x)
{
    return x->env.clock ? qts_clock_now(x->env.clock) : qts__exec_now_ns(x);
}

/* Run `fn(arg)` as an entry point: nothing is evicted while it runs. A
 * timer callback holds its parent or child, so each goes through here. */
static inline void qts__exec_enter(struct qts_exec *x, void (*fn)(void *), void *arg)
{
    x->depth++;
    fn(arg);
    x->depth--;
}

/* ------------------------------------------------------------- exec_core.c */

/* Raise `code` (enum qts_safety_code) with a formatted message on the
 * safety sink; the code table decides what it does to the safety state. */
void qts__exec_safety(struct qts_exec *x, int code, const char *fmt, ...) QTS_PRINTF(3, 4);
bool qts__exec_market_ref(struct qts_exec *x, uint32_t inst, struct qts_mkt_ref *ref);
void qts__exec_stop_timer(struct qts_exec *x, uint64_t *id);
/* (Re)arm the timer whose id is *id; `arg` is borrowed by the timer. */
void qts__exec_start_timer(struct qts_exec *x, uint64_t *id, int64_t delay_ns, qts_timer_fn cb,
                           void *arg);
/* The parent's stage, slice, adjust and poll timers. */
void qts__exec_stop_parent_timers(struct qts_exec *x, struct qts_parent *p);
/* Those and every child's ack and retry timers. */
void qts__exec_stop_all_timers(struct qts_exec *x, struct qts_parent *p);
void qts__exec_emit_order(struct qts_exec *x, const struct qts_parent *p, uint8_t kind);
void qts__exec_emit_fill(struct qts_exec *x, const struct qts_child *c,
                         const struct qts_apply_result *r);
/* A fill on a child that was already evicted (`rep` and `r` borrowed). */
void qts__exec_emit_evicted_fill(struct qts_exec *x, const struct qts_exec_report *rep,
                                 const struct qts_apply_result *r);
/* Move `p` to the final `state` (reason copied, may be NULL) and tell the
 * strategy with an order event of `kind`. A final parent is left alone. */
void qts__exec_finish(struct qts_exec *x, struct qts_parent *p, int state, uint8_t kind,
                      int32_t code, const char *reason);

/* --------------------------------------------------------- exec_precheck.c */

/* The basic checks, installed first (ctx: the pipeline). */
int qts__exec_basic_checks(void *ctx, struct qts_precheck_order *o,
                           struct qts_precheck_reject *rej);
/* Run every hook on `in`; *hook gets the name of the last one run (static). */
int qts__exec_run_hooks(struct qts_exec *x, struct qts_order_intent *in,
                        const struct qts_instrument *inst, const struct qts_mkt_ref *ref,
                        struct qts_precheck_reject *rej, const char **hook);

/* ------------------------------------------------------------- exec_send.c */

/* A code that says "not now" rather than "no": the network, a timeout, a
 * rate limit, a busy or closed connection. A send failing so is retried;
 * a venue reject so is no verdict on the order's terms. */
bool qts__exec_transient_error(int code);
/* Hand a child to the broker (first attempt or a retry, same client id). */
void qts__exec_send_child(struct qts_exec *x, struct qts_child *c);
/* Cancel every child of `role` (enum qts_child_role) still working. */
void qts__exec_cancel_children(struct qts_exec *x, struct qts_parent *p, int role);
bool qts__exec_any_working(const struct qts_parent *p, int role);
static inline bool qts__exec_slices_pending(const struct qts_parent *p)
{
    return p->next_slice < p->n_slices;
}
/* Send every slice whose time has come; arm the timer for the next one. */
void qts__exec_send_due_slices(struct qts_exec *x, struct qts_parent *p);
void qts__exec_arm_poll(struct qts_exec *x, struct qts_parent *p);
void qts__exec_arm_monitor(struct qts_exec *x, struct qts_parent *p);

/* ---------------------------------------------------------- exec_monitor.c */

/* Called after anything changed a parent's children. */
void qts__exec_evaluate(struct qts_exec *x, struct qts_parent *p);
/* OMS listener (ctx: the pipeline). */
void qts__exec_on_child(void *ctx, struct qts_child *c, const struct qts_apply_result *r);
/* (Re)arm the parent's stage timeout: what happens when it fires depends
 * on the stage the parent is then in. */
void qts__exec_arm_stage(struct qts_exec *x, struct qts_parent *p, int64_t timeout_ms);

/* ----------------------------------------------------------- exec_adjust.c */

/* `px` moved by `pct` up or down, at least by 1. */
int64_t qts__exec_step_px(int64_t px, double pct, int up);
void qts__exec_enter_adjust(struct qts_exec *x, struct qts_parent *p);

/* ----------------------------------------------------------- exec_escape.c */

/* reason copied */
void qts__exec_enter_escape(struct qts_exec *x, struct qts_parent *p, const char *reason);
void qts__exec_enter_cancel(struct qts_exec *x, struct qts_parent *p, const char *reason,
                            uint8_t kind);
void qts__exec_escape_progress(struct qts_exec *x, struct qts_parent *p);

#endif /* QTS_EXEC_INTERNAL_H */
