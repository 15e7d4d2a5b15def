/* exec_monitor.c — PartialFillMonitor: what each change of a child means
 * for its parent (evaluation), the OMS listener, and the stage timeouts
 * (docs/execution.md "PartialFillMonitor"). */
#include "exec_internal.h"

#include <stdio.h>

#include "log.h"
#include "util.h"

static void stage_timeout_run(void *arg)
{
    struct qts_parent *p = arg;
    struct qts_exec *x = p->owner;
    p->timer_stage = 0;
    switch (p->state) {
    case QTS_XS_SENDING:
        /* no child acknowledged in time: roll back (cancel what may be
         * live, keep any fills) and fail */
        qts__exec_safety(x, QTS_SC_FS090, "order=%llu no send acknowledged in %lld ms",
                         (unsigned long long)p->order_id, (long long)x->params.send_timeout_ms);
        p->fail_after_escape = true;
        qts__exec_enter_escape(x, p, "send timeout");
        break;
    case QTS_XS_MONITORING:
        if (p->filled_qty > 0) {
            /* spec §9 #6: keep the fills, cancel the rest, COMPLETE partial */
            qts__exec_safety(x, QTS_SC_FS093, "order=%llu fill timeout filled=%lld/%lld",
                             (unsigned long long)p->order_id, (long long)p->filled_qty,
                             (long long)p->intent.qty);
            qts__exec_enter_cancel(x, p, "fill timeout: partial", QTS_OE_COMPLETE);
        } else {
            qts__exec_safety(x, QTS_SC_GR064, "order=%llu unfilled at monitor timeout",
                             (unsigned long long)p->order_id);
            qts__exec_enter_adjust(x, p);
        }
        break;
    case QTS_XS_CANCELLING: qts__exec_enter_escape(x, p, "cancel not confirmed"); break;
    case QTS_XS_ESCAPING: {
        /* never end silently (spec §9 #8): report and finish unsuccessful */
        int64_t net = p->filled_qty - p->flatten_filled;
        qts__exec_safety(x, QTS_SC_FS092, "order=%llu escape timeout residual=%lld",
                         (unsigned long long)p->order_id, (long long)net);
        p->success = false;
        char why[256];
        snprintf(why, sizeof why, "%s; escape timeout, residual %lld", p->reason, (long long)net);
        if (p->fail_after_escape) /* a send-stage rollback that never confirmed */
            qts__exec_finish(x, p, QTS_XS_FAILED, QTS_OE_FAILED, 90, why);
        else
            qts__exec_finish(x, p, QTS_XS_ESCAPED, QTS_OE_ESCAPED, 92, why);
        break;
    }
    default: break;
    }
}

static void stage_timeout(void *arg)
{
    qts__exec_enter(((struct qts_parent *)arg)->owner, stage_timeout_run, arg);
}

void qts__exec_arm_stage(struct qts_exec *x, struct qts_parent *p, int64_t timeout_ms)
{
    qts__exec_start_timer(x, &p->timer_stage, timeout_ms * MS, stage_timeout, p);
}

void qts__exec_evaluate(struct qts_exec *x, struct qts_parent *p)
{
    switch (p->state) {
    case QTS_XS_SENDING: {
        bool acked = false;
        for (size_t i = 0; i < p->n_children; i++) {
            int s = p->children[i]->state;
            acked |= s == QTS_OS_ACCEPTED || s == QTS_OS_PARTIALLY_FILLED || s == QTS_OS_FILLED ||
                     p->children[i]->cum_qty > 0;
        }
        if (acked) {
            p->state = QTS_XS_MONITORING;
            p->ts_stage_ns = qts__exec_now_ns(x);
            qts__exec_emit_order(x, p, QTS_OE_ACCEPTED);
            qts__exec_arm_monitor(x, p);
            qts__exec_evaluate(x, p);
            return;
        }
        if (!qts__exec_any_working(p, QTS_CHILD_SLICE) && !qts__exec_slices_pending(p)) {
            p->next_slice = p->n_slices;
            /* The venue answered and said no (a post-only order that would
             * take, a price outside its band): a business outcome for the
             * strategy, not a failure of the send path. */
            uint32_t rejected = 0;
            for (size_t i = 0; i < p->n_children; i++)
                rejected += p->children[i]->state == QTS_OS_REJECTED;
            if (rejected > p->send_failures) { /* some reached the venue */
                if (p->venue_rejected)         /* reason and code: the venue's (venue_reject) */
                    qts__exec_finish(x, p, QTS_XS_FAILED, QTS_OE_REJECTED, p->code, NULL);
                else
                    qts__exec_finish(x, p, QTS_XS_FAILED, QTS_OE_REJECTED, QTS_EREJECT,
                                     "rejected by the venue");
                return;
            }
            /* every send failed and nothing is left to send (FS090); a
             * TWAP/VWAP whose first slice failed waits for the next one */
            qts__exec_safety(x, QTS_SC_FS090, "order=%llu every send failed",
                             (unsigned long long)p->order_id);
            qts__exec_finish(x, p, QTS_XS_FAILED, QTS_OE_FAILED, 90, "every send failed");
        }
        return;
    }
    case QTS_XS_MONITORING:
    case QTS_XS_ADJUSTING:
        if (p->state == QTS_XS_ADJUSTING) {
            bool pending = false;
            for (size_t i = 0; i < p->n_children; i++)
                pending |= p->children[i]->modify_pending || p->children[i]->replace_px;
            if (!pending)
                p->state = QTS_XS_MONITORING;
        }
        if (p->filled_qty >= p->intent.qty) {
            qts__exec_cancel_children(x, p, QTS_CHILD_SLICE); /* nothing should be left */
            qts__exec_finish(x, p, QTS_XS_COMPLETE, QTS_OE_COMPLETE, 0, "filled");
            return;
        }
        /* iceberg: show the next chunk when the current one is done */
        if (p->intent.algo == QTS_ALGO_ICEBERG && qts__exec_slices_pending(p) &&
            !qts__exec_any_working(p, QTS_CHILD_SLICE)) {
            qts__exec_send_due_slices(x, p);
            return;
        }
        if (!qts__exec_any_working(p, QTS_CHILD_SLICE) && !qts__exec_slices_pending(p)) {
            /* nothing can fill any more (venue rejects, cancels, expiries) */
            if (p->filled_qty > 0) {
                p->partial = true;
                char why[sizeof p->reason + 16]; /* the reason is cut to fit */
                snprintf(why, sizeof why, "%s: partial fill",
                         p->venue_rejected ? p->reason : "children ended");
                qts__exec_finish(x, p, QTS_XS_COMPLETE, QTS_OE_COMPLETE, 0, why);
            } else if (p->venue_rejected) {
                qts__exec_finish(x, p, QTS_XS_FAILED, QTS_OE_REJECTED, p->code, NULL);
            } else {
                qts__exec_finish(x, p, QTS_XS_FAILED, QTS_OE_FAILED, QTS_EREJECT,
                                 "every child rejected or cancelled by the venue");
            }
        }
        return;
    case QTS_XS_CANCELLING:
        if (!qts__exec_any_working(p, QTS_CHILD_SLICE)) {
            p->partial = p->filled_qty < p->intent.qty;
            qts__exec_finish(x, p, QTS_XS_COMPLETE, p->cancel_kind, 0, NULL);
        }
        return;
    case QTS_XS_ESCAPING: qts__exec_escape_progress(x, p); return;
    default: return;
    }
}

/* The venue refused a slice (docs/execution.md "Venue rejects"). A
 * transient refusal (rate limit, busy, ...) skips just that slice. Any
 * other says the order's terms are unacceptable there (size, price band,
 * post-only, money, symbol), and the next slices carry the same terms: the
 * parent is rejected with the venue's reason — no slice is sent any more,
 * the slices still working are cancelled, and the parent ends REJECTED (or
 * COMPLETE partial, fills kept) once they are done. A rejection is a
 * business outcome, not a failure of the send path: no FS090. An unknown
 * symbol still raises FS091 and no money GR061 (spec §4.6). */
static void venue_reject(struct qts_exec *x, struct qts_parent *p, const struct qts_apply_result *r)
{
    bool running =
        p->state == QTS_XS_SENDING || p->state == QTS_XS_MONITORING || p->state == QTS_XS_ADJUSTING;
    if (!running || qts__exec_transient_error(r->code))
        return; /* a wind-down (cancel, escape) or a final order: nothing to decide */
    if (r->code == QTS_ENOENT || r->code == QTS_ERISK) {
        bool symbol = r->code == QTS_ENOENT;
        qts__exec_safety(x, symbol ? QTS_SC_FS091 : QTS_SC_GR061, "order=%llu venue reject: %s",
                         (unsigned long long)p->order_id,
                         symbol ? "unknown symbol" : "insufficient balance");
    }
    if (!p->venue_rejected) { /* the first refusal is the reason */
        p->venue_rejected = true;
        p->code = r->code ? r->code : QTS_EREJECT;
        snprintf(p->reason, sizeof p->reason, "rejected by the venue: %s",
                 r->text && r->text[0] ? r->text : qts_strerror(p->code));
        QTS_INFO("order rejected by the venue id=%llu algo=%u reason=%s",
                 (unsigned long long)p->order_id, (unsigned)p->intent.algo, p->reason);
    }
    p->next_slice = p->n_slices;
    qts__exec_stop_timer(x, &p->timer_slice);
    qts__exec_cancel_children(x, p, QTS_CHILD_SLICE);
}

/* A child changed (state or fill). */
void qts__exec_on_child(void *ctx, struct qts_child *c, const struct qts_apply_result *r)
{
    struct qts_exec *x = ctx;
    struct qts_parent *p = c->parent;
    if (!p)
        return;
    if ((r->flags & QTS_APPLY_STATE) && r->from == QTS_OS_PENDING_SEND)
        qts__exec_stop_timer(x, &c->timer_ack);
    if ((r->flags & QTS_APPLY_STATE) && c->send_attempts > 0 && !c->ts_ack_ns &&
        r->to != QTS_OS_REJECTED) {
        c->ts_ack_ns = qts__exec_now_ns(x);
        qts__exec_stage_time(x, c->parent, QTS_STAGE_ACK, c->ts_ack_ns - c->ts_first_send_ns);
    }
    if (qts_order_state_final(c->state)) {
        qts__exec_stop_timer(x, &c->timer_ack);
        qts__exec_stop_timer(x, &c->timer_retry);
    }
    if (r->flags & QTS_APPLY_FILL) {
        if (c->role == QTS_CHILD_SLICE) {
            p->filled_qty += r->fill_qty;
            p->notional += (qts_i128)r->fill_px * r->fill_qty;
        } else {
            p->flatten_filled += r->fill_qty;
        }
        p->fee += r->fill_fee;
        qts__exec_emit_fill(x, c, r);
    }
    if ((r->flags & QTS_APPLY_STATE) && r->to == QTS_OS_REJECTED && c->role == QTS_CHILD_SLICE)
        venue_reject(x, p, r);
    if (r->flags & QTS_APPLY_OVERFILL)
        qts__exec_safety(x, QTS_SC_FS041, "clordid=%s venue reported more than ordered",
                         c->client_order_id);
    /* cancel-replace whose cancel was rejected: nothing to replace */
    if (c->replace_px && c->state != QTS_OS_CANCEL_PENDING && !qts_order_state_final(c->state))
        c->replace_px = 0;
    /* cancel-replace: the old child is gone, resend the rest at the new price */
    if (c->replace_px && qts_order_state_final(c->state)) {
        int64_t rest = c->qty - c->cum_qty;
        int64_t px = c->replace_px;
        c->replace_px = 0;
        if (rest > 0 && (p->state == QTS_XS_MONITORING || p->state == QTS_XS_ADJUSTING)) {
            struct qts_child *n =
                qts_oms_child_new(x->oms, p, QTS_CHILD_SLICE, c->side, QTS_ORD_LIMIT, px, rest);
            n->slice = c->slice;
            qts__exec_send_child(x, n);
        }
    }
    if (qts_exec_state_final(p->state)) {
        /* A late fill on a finished order was delivered above (the
         * portfolio and the risk loop see the position). After an escape it
         * is a residual nobody flattens: say so. */
        if ((r->flags & QTS_APPLY_FILL) && p->state == QTS_XS_ESCAPED && p->flatten &&
            c->role == QTS_CHILD_SLICE)
            qts__exec_safety(x, QTS_SC_FS092, "order=%llu late fill after escape residual=%lld",
                             (unsigned long long)p->order_id,
                             (long long)(p->filled_qty - p->flatten_filled));
        return;
    }
    qts__exec_evaluate(x, p);
}
