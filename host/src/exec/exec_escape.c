/* exec_escape.c — EmergencyEscape (cancel every slice, flatten what was
 * filled, never end silently) and the cancel stage a strategy's cancel goes
 * through (docs/execution.md "EmergencyEscape"). */
#include "exec_internal.h"

#include <stdio.h>

#include "util.h"

static uint8_t opposite(uint8_t side)
{
    return side == QTS_SIDE_BUY ? QTS_SIDE_SELL : QTS_SIDE_BUY;
}

static void send_flatten(struct qts_exec *x, struct qts_parent *p, int64_t qty)
{
    /* side-correct: a filled buy is sold, a filled (short) sell is bought */
    struct qts_child *c = qts_oms_child_new(x->oms, p, QTS_CHILD_FLATTEN, opposite(p->intent.side),
                                            QTS_ORD_MARKET, 0, qty);
    c->tif = QTS_TIF_IOC;
    p->flatten_attempts++;
    qts__exec_send_child(x, c);
}

/* Drive ESCAPING: first every slice child final, then flatten the net
 * filled quantity, then ESCAPED. */
void qts__exec_escape_progress(struct qts_exec *x, struct qts_parent *p)
{
    if (qts__exec_any_working(p, QTS_CHILD_SLICE))
        return;
    int64_t net = p->filled_qty - p->flatten_filled;
    if (p->flatten && net > 0) {
        if (qts__exec_any_working(p, QTS_CHILD_FLATTEN))
            return;
        if (p->flatten_attempts < x->params.flatten_max_attempts) {
            send_flatten(x, p, net);
            return;
        }
        p->success = false;
        qts__exec_safety(x, QTS_SC_GR074, "order=%llu flatten failed residual=%lld",
                         (unsigned long long)p->order_id, (long long)net);
        char why[256];
        snprintf(why, sizeof why, "%s; flatten failed, residual %lld", p->reason, (long long)net);
        qts__exec_finish(x, p, QTS_XS_ESCAPED, QTS_OE_ESCAPED, 92, why);
        return;
    }
    p->success = true;
    if (p->fail_after_escape)
        qts__exec_finish(x, p, QTS_XS_FAILED, QTS_OE_FAILED, 90, NULL);
    else
        qts__exec_finish(x, p, QTS_XS_ESCAPED, QTS_OE_ESCAPED, 92, NULL);
}

void qts__exec_enter_escape(struct qts_exec *x, struct qts_parent *p, const char *reason)
{
    if (qts_exec_state_final(p->state) || p->state == QTS_XS_ESCAPING)
        return;
    int64_t t0 = qts_mono_ns();
    qts__exec_stop_parent_timers(x, p);
    p->state = QTS_XS_ESCAPING;
    p->flatten = x->params.escape_flatten;
    p->ts_stage_ns = qts__exec_now_ns(x);
    qts_strlcpy(p->reason, reason, sizeof p->reason);
    p->next_slice = p->n_slices; /* nothing more goes out */
    qts__exec_cancel_children(x, p, QTS_CHILD_SLICE);
    qts__exec_stage_time(x, p, QTS_STAGE_ESCAPE, qts_mono_ns() - t0);
    qts__exec_safety(x, QTS_SC_FS092, "escape order=%llu reason=%s filled=%lld",
                     (unsigned long long)p->order_id, reason, (long long)p->filled_qty);
    qts__exec_arm_stage(x, p, x->params.escape_timeout_ms);
    qts__exec_arm_poll(x, p);
    qts__exec_escape_progress(x, p);
}

void qts__exec_enter_cancel(struct qts_exec *x, struct qts_parent *p, const char *reason,
                            uint8_t kind)
{
    if (qts_exec_state_final(p->state) || p->state == QTS_XS_ESCAPING ||
        p->state == QTS_XS_CANCELLING)
        return;
    qts__exec_stop_parent_timers(x, p);
    p->state = QTS_XS_CANCELLING;
    p->cancel_kind = kind;
    p->ts_stage_ns = qts__exec_now_ns(x);
    qts_strlcpy(p->reason, reason, sizeof p->reason);
    p->next_slice = p->n_slices;
    qts__exec_cancel_children(x, p, QTS_CHILD_SLICE);
    /* cancels that never get an answer end in an escape (no silent end) */
    qts__exec_arm_stage(x, p, x->params.escape_timeout_ms);
    qts__exec_arm_poll(x, p);
    qts__exec_evaluate(x, p);
}
