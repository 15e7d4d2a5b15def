/* exec_send.c — AsyncSend: children handed to the broker, retried under
 * the same client order id, timed out to UNKNOWN; and the slice schedule
 * that decides when each slice goes out (docs/execution.md "AsyncSend"). */
#include "exec_internal.h"

#include <string.h>

#include "exec_split.h"
#include "log.h"
#include "util.h"

static void child_ack_timeout(void *arg);
static void child_retry(void *arg);
static void slice_due(void *arg);
static void poll_tick(void *arg);

bool qts__exec_transient_error(int rc)
{
    return rc == QTS_ENET || rc == QTS_ETIMEDOUT || rc == QTS_EAGAIN || rc == QTS_ERATELIMIT ||
           rc == QTS_EBUSY || rc == QTS_ECLOSED;
}

/* Hand a child to the broker (first attempt or a retry with the same
 * client order id). Never blocks: submit only hands the order over. */
void qts__exec_send_child(struct qts_exec *x, struct qts_child *c)
{
    struct qts_parent *p = c->parent;
    int64_t t0 = qts_mono_ns();
    if (c->state == QTS_OS_NEW || c->state == QTS_OS_UNKNOWN)
        qts_child_set_state(c, QTS_OS_PENDING_SEND);
    if (c->state != QTS_OS_PENDING_SEND)
        return;
    struct qts_broker_order o;
    memset(&o, 0, sizeof o);
    o.struct_size = sizeof o;
    o.instrument = c->instrument;
    qts_strlcpy(o.symbol, p->inst.symbol, sizeof o.symbol);
    qts_strlcpy(o.client_order_id, c->client_order_id, sizeof o.client_order_id);
    o.side = c->side;
    o.type = c->type;
    o.tif = c->tif;
    o.px_exp = p->inst.px_exp;
    o.qty_exp = p->inst.qty_exp;
    o.px = c->type == QTS_ORD_MARKET ? 0 : c->px; /* a limit, or a stop's trigger */
    o.qty = c->qty;
    o.ts_sent_ns = qts__exec_event_ns(x);
    c->send_attempts++;
    if (c->send_attempts > 1)
        x->n_retries++;
    if (!c->ts_first_send_ns)
        c->ts_first_send_ns = qts__exec_now_ns(x);
    int rc = x->env.port.ops ? x->env.port.ops->submit(x->env.port.self, &o) : QTS_ECLOSED;
    int64_t spent = qts_mono_ns() - t0;
    c->send_cpu_ns += spent;
    qts__exec_stage_time(x, p, QTS_STAGE_SEND, spent);
    if (rc == 0) {
        if (c->state == QTS_OS_PENDING_SEND)
            qts__exec_start_timer(x, &c->timer_ack, x->params.ack_timeout_ms * MS,
                                  child_ack_timeout, c);
        return;
    }
    QTS_WARN("send failed clordid=%s attempt=%u rc=%s", c->client_order_id, c->send_attempts,
             qts_err_name(rc));
    if (qts__exec_transient_error(rc) && c->send_attempts < x->params.send_max_attempts) {
        /* nothing was handed over: retry with the same client order id */
        qts__exec_start_timer(x, &c->timer_retry, x->params.send_backoff_ms * MS, child_retry, c);
        return;
    }
    /* deterministic reject, or attempts used up: this child never reached
     * the venue */
    qts_child_set_state(c, QTS_OS_REJECTED);
    p->send_failures++;
    qts__exec_evaluate(x, p);
}

static void child_retry_run(void *arg)
{
    struct qts_child *c = arg;
    struct qts_exec *x = c->parent->owner;
    c->timer_retry = 0;
    if (qts_exec_state_final(c->parent->state))
        return;
    if (c->state == QTS_OS_UNKNOWN && qts_oms_recon_active(x->oms)) {
        /* the broker is telling us what it has: wait for the answer */
        qts__exec_start_timer(x, &c->timer_retry, x->params.send_backoff_ms * MS, child_retry, c);
        return;
    }
    if (c->state == QTS_OS_PENDING_SEND || c->state == QTS_OS_UNKNOWN)
        qts__exec_send_child(x, c);
}

static void child_retry(void *arg)
{
    qts__exec_enter(((struct qts_child *)arg)->parent->owner, child_retry_run, arg);
}

static void child_ack_timeout_run(void *arg)
{
    struct qts_child *c = arg;
    struct qts_parent *p = c->parent;
    struct qts_exec *x = p->owner;
    c->timer_ack = 0;
    if (c->state != QTS_OS_PENDING_SEND)
        return;
    /* A timeout is unknown, not failed: the order may be live. No code is
     * raised for one attempt (FS042 trips by the table): the broker is asked
     * and the send retried under the same id; an order whose sends all end
     * this way fails with FS090. */
    qts_child_set_state(c, QTS_OS_UNKNOWN);
    QTS_WARN("no ack clordid=%s after %lld ms attempt=%u: outcome unknown", c->client_order_id,
             (long long)x->params.ack_timeout_ms, c->send_attempts);
    if (c->send_attempts < x->params.send_max_attempts) {
        /* ask the broker what it has, then resend under the same id */
        if (!qts_oms_recon_active(x->oms))
            qts_exec_reconcile(x);
        qts__exec_start_timer(x, &c->timer_retry, x->params.send_backoff_ms * MS, child_retry, c);
    } else {
        /* give up on it, but make sure it cannot fill unnoticed later */
        if (x->env.port.ops)
            x->env.port.ops->cancel(x->env.port.self, c->client_order_id, c->venue_order_id);
        qts_child_set_state(c, QTS_OS_CANCEL_PENDING);
        p->send_failures++;
        qts__exec_evaluate(x, p);
    }
}

static void child_ack_timeout(void *arg)
{
    qts__exec_enter(((struct qts_child *)arg)->parent->owner, child_ack_timeout_run, arg);
}

static void cancel_child(struct qts_exec *x, struct qts_child *c)
{
    qts__exec_stop_timer(x, &c->timer_retry);
    if (c->state == QTS_OS_NEW) {
        qts_child_set_state(c, QTS_OS_REJECTED); /* never sent */
        return;
    }
    if (!qts_order_state_working(c->state) || c->state == QTS_OS_CANCEL_PENDING)
        return;
    int rc = x->env.port.ops
                 ? x->env.port.ops->cancel(x->env.port.self, c->client_order_id, c->venue_order_id)
                 : 0;
    /* still CANCEL_PENDING: the parent's cancel timeout (an escape) or a
     * reconciliation settles it; the log says the broker refused to send */
    if (rc != 0)
        QTS_WARN("cancel clordid=%s venue_id=%s not sent: the broker said %s", c->client_order_id,
                 c->venue_order_id[0] ? c->venue_order_id : "-", qts_err_name(rc));
    qts_child_set_state(c, QTS_OS_CANCEL_PENDING);
}

static struct qts_child *new_slice_child(struct qts_exec *x, struct qts_parent *p, int64_t qty,
                                         int64_t px)
{
    struct qts_child *c =
        qts_oms_child_new(x->oms, p, QTS_CHILD_SLICE, p->intent.side, p->intent.type, px, qty);
    c->slice = (uint16_t)(p->next_slice + 1);
    return c;
}

/* A broker that cannot push is asked periodically while anything of this
 * order may still change at the venue. */
void qts__exec_arm_poll(struct qts_exec *x, struct qts_parent *p)
{
    if (x->env.port.cannot_push && x->params.poll_interval_ms > 0 && !p->timer_poll)
        qts__exec_start_timer(x, &p->timer_poll, x->params.poll_interval_ms * MS, poll_tick, p);
}

void qts__exec_arm_monitor(struct qts_exec *x, struct qts_parent *p)
{
    /* 0: a working order waits at the venue until it fills or is cancelled
     * (a bar backtest's orders wait for the next bar, a day later) */
    if (x->params.monitor_timeout_ms > 0)
        qts__exec_arm_stage(x, p, x->params.monitor_timeout_ms);
    else
        qts__exec_stop_timer(x, &p->timer_stage); /* the send stage's is done */
    qts__exec_arm_poll(x, p);
}

void qts__exec_send_due_slices(struct qts_exec *x, struct qts_parent *p)
{
    int64_t elapsed = qts__exec_now_ns(x) - p->ts_submit_ns;
    bool sent_any = false;
    while (p->next_slice < p->n_slices) {
        struct qts_slice *s = &p->slices[p->next_slice];
        if (p->intent.algo == QTS_ALGO_ICEBERG) {
            /* one chunk shown at a time: the next after this one fills */
            bool working = false;
            for (size_t i = 0; i < p->n_children; i++)
                working |= p->children[i]->role == QTS_CHILD_SLICE &&
                           !qts_order_state_final(p->children[i]->state);
            if (working)
                break;
        } else if (s->offset_ns > elapsed) {
            qts__exec_start_timer(x, &p->timer_slice, s->offset_ns - elapsed, slice_due, p);
            break;
        }
        struct qts_child *c = new_slice_child(x, p, s->qty, p->intent.px);
        s->sent = 1;
        p->next_slice++;
        sent_any = true;
        qts__exec_send_child(x, c);
        if (qts_exec_state_final(p->state) || p->state == QTS_XS_ESCAPING ||
            p->state == QTS_XS_CANCELLING)
            return;
    }
    /* the monitor window runs from the last slice sent (once repricing
     * has started, its own rounds and timeout drive the order) */
    if (sent_any && p->state == QTS_XS_MONITORING && !p->ts_adjust_start_ns)
        qts__exec_arm_monitor(x, p);
}

static void slice_due_run(void *arg)
{
    struct qts_parent *p = arg;
    struct qts_exec *x = p->owner;
    p->timer_slice = 0;
    if (p->state == QTS_XS_SENDING || p->state == QTS_XS_MONITORING || p->state == QTS_XS_ADJUSTING)
        qts__exec_send_due_slices(x, p);
}

static void slice_due(void *arg)
{
    qts__exec_enter(((struct qts_parent *)arg)->owner, slice_due_run, arg);
}

static void poll_tick_run(void *arg)
{
    struct qts_parent *p = arg;
    struct qts_exec *x = p->owner;
    p->timer_poll = 0;
    if (qts_exec_state_final(p->state))
        return;
    if (!qts_oms_recon_active(x->oms))
        qts_exec_reconcile(x);
    qts__exec_start_timer(x, &p->timer_poll, x->params.poll_interval_ms * MS, poll_tick, p);
}

static void poll_tick(void *arg)
{
    qts__exec_enter(((struct qts_parent *)arg)->owner, poll_tick_run, arg);
}

bool qts__exec_any_working(const struct qts_parent *p, int role)
{
    for (size_t i = 0; i < p->n_children; i++)
        if (p->children[i]->role == role && !qts_order_state_final(p->children[i]->state))
            return true;
    return false;
}

void qts__exec_cancel_children(struct qts_exec *x, struct qts_parent *p, int role)
{
    for (size_t i = 0; i < p->n_children; i++) {
        struct qts_child *c = p->children[i];
        if (c->role == role) {
            c->replace_px = 0;
            cancel_child(x, c);
        }
    }
}
