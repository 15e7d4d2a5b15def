/* exec_core.c — what every stage of the pipeline uses: the outputs (order
 * events, fills, safety codes), timers, and the end of an order
 * (exec_internal.h). */
#include "exec_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "util.h"

void qts__exec_safety(struct qts_exec *x, int code, const char *fmt, ...)
{
    char msg[192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (x->env.sink.on_safety) { /* the sink's owner logs it, once */
        x->env.sink.on_safety(x->env.sink.ctx, code, msg);
        return;
    }
    const struct qts_safety_code_info *ci = qts_safety_code_info(code);
    QTS_WARN("exec safety code=%s effect=%s %s", ci ? ci->str : "?",
             ci ? qts_safety_effect_name(ci->effect) : "?", msg);
}

bool qts__exec_market_ref(struct qts_exec *x, uint32_t inst, struct qts_mkt_ref *ref)
{
    memset(ref, 0, sizeof *ref);
    if (!x->env.prov.market)
        return false;
    return x->env.prov.market(x->env.prov.ctx, inst, ref) == 0;
}

void qts__exec_stop_timer(struct qts_exec *x, uint64_t *id)
{
    if (*id) {
        qts_timer_svc_stop(x->env.timers, *id);
        *id = 0;
    }
}

void qts__exec_start_timer(struct qts_exec *x, uint64_t *id, int64_t delay_ns, qts_timer_fn cb,
                           void *arg)
{
    qts__exec_stop_timer(x, id);
    if (qts_timer_svc_start(x->env.timers, delay_ns, cb, arg, id) < 0)
        *id = 0;
}

/* Parent state as the child-state enum the strategy event carries. */
static uint8_t parent_order_state(const struct qts_parent *p)
{
    switch (p->state) {
    case QTS_XS_COMPLETE: return p->partial ? QTS_OS_CANCELLED : QTS_OS_FILLED;
    case QTS_XS_ESCAPED: return QTS_OS_CANCELLED;
    case QTS_XS_FAILED: return QTS_OS_REJECTED;
    case QTS_XS_INIT:
    case QTS_XS_PRECHECK:
    case QTS_XS_SPLITTING: return QTS_OS_NEW;
    case QTS_XS_SENDING: return QTS_OS_PENDING_SEND;
    case QTS_XS_CANCELLING:
    case QTS_XS_ESCAPING: return QTS_OS_CANCEL_PENDING;
    default: return p->filled_qty > 0 ? QTS_OS_PARTIALLY_FILLED : QTS_OS_ACCEPTED;
    }
}

void qts__exec_emit_order(struct qts_exec *x, const struct qts_parent *p, uint8_t kind)
{
    if (!x->env.sink.on_order)
        return;
    struct qts_order_event ev;
    memset(&ev, 0, sizeof ev);
    ev.h.struct_size = sizeof ev;
    ev.h.type = QTS_EV_ORDER;
    ev.h.px_exp = p->inst.px_exp;
    ev.h.qty_exp = p->inst.qty_exp;
    ev.h.instrument = p->intent.instrument;
    ev.h.ts_exch_ns = ev.h.ts_recv_ns = qts__exec_event_ns(x);
    ev.h.seq = ++x->event_seq;
    ev.order_id = p->order_id;
    ev.strategy_id = p->strategy_id;
    ev.kind = kind;
    ev.side = p->intent.side;
    ev.state = parent_order_state(p);
    ev.code = p->code;
    ev.filled_qty = p->filled_qty;
    ev.leaves_qty = qts_exec_state_final(p->state) ? 0 : qts_parent_leaves(p);
    ev.avg_px = qts_parent_avg_px(p);
    qts_strlcpy(ev.reason, p->reason, sizeof ev.reason);
    qts_strlcpy(ev.tag, p->intent.tag, sizeof ev.tag);
    x->env.sink.on_order(x->env.sink.ctx, &ev);
}

/* The part of a fill event that comes from the applied report; the caller
 * names whose fill it is (instrument, exponents, order, strategy, side, tag). */
static void fill_from_result(struct qts_exec *x, const struct qts_apply_result *r,
                             struct qts_fill *f)
{
    memset(f, 0, sizeof *f);
    f->h.struct_size = sizeof *f;
    f->h.type = QTS_EV_FILL;
    f->h.ts_recv_ns = qts__exec_event_ns(x);
    f->h.ts_exch_ns = r->ts_venue_ns ? r->ts_venue_ns : f->h.ts_recv_ns;
    f->h.seq = ++x->event_seq;
    f->is_maker = r->is_maker;
    f->px = r->fill_px;
    f->qty = r->fill_qty;
    f->fee = r->fill_fee;
    f->fill_id = r->fill_id;
}

void qts__exec_emit_fill(struct qts_exec *x, const struct qts_child *c,
                         const struct qts_apply_result *r)
{
    if (!x->env.sink.on_fill)
        return;
    const struct qts_parent *p = c->parent;
    struct qts_fill f;
    fill_from_result(x, r, &f);
    f.h.px_exp = p->inst.px_exp;
    f.h.qty_exp = p->inst.qty_exp;
    f.h.instrument = c->instrument;
    f.order_id = p->order_id;
    f.strategy_id = p->strategy_id;
    f.side = c->side;
    qts_strlcpy(f.tag, p->intent.tag, sizeof f.tag);
    x->env.sink.on_fill(x->env.sink.ctx, &f);
}

/* A fill the venue made on a child that was already evicted: the money
 * moved, so the strategy and the portfolio hear about it once. */
void qts__exec_emit_evicted_fill(struct qts_exec *x, const struct qts_exec_report *rep,
                                 const struct qts_apply_result *r)
{
    const struct qts_oms_evicted *e = qts_oms_find_evicted(x->oms, rep->client_order_id);
    struct qts_oms_evicted gone_e;
    if (!e) { /* its tombstone made room for the fill id: rebuild from the report */
        memset(&gone_e, 0, sizeof gone_e);
        gone_e.instrument = rep->instrument;
        gone_e.side = rep->side;
        gone_e.px_exp = rep->px_exp;
        gone_e.qty_exp = rep->qty_exp;
        e = &gone_e;
    }
    if (!x->env.sink.on_fill)
        return;
    struct qts_fill f;
    fill_from_result(x, r, &f);
    f.h.px_exp = e->px_exp;
    f.h.qty_exp = e->qty_exp;
    f.h.instrument = e->instrument;
    f.order_id = e->order_id;
    f.strategy_id = e->strategy_id;
    f.side = e->side;
    qts_strlcpy(f.tag, e->tag, sizeof f.tag);
    x->env.sink.on_fill(x->env.sink.ctx, &f);
}

void qts__exec_stop_parent_timers(struct qts_exec *x, struct qts_parent *p)
{
    qts__exec_stop_timer(x, &p->timer_stage);
    qts__exec_stop_timer(x, &p->timer_slice);
    qts__exec_stop_timer(x, &p->timer_adjust);
    qts__exec_stop_timer(x, &p->timer_poll);
}

void qts__exec_stop_all_timers(struct qts_exec *x, struct qts_parent *p)
{
    qts__exec_stop_parent_timers(x, p);
    for (size_t i = 0; i < p->n_children; i++) {
        qts__exec_stop_timer(x, &p->children[i]->timer_ack);
        qts__exec_stop_timer(x, &p->children[i]->timer_retry);
    }
}

void qts__exec_finish(struct qts_exec *x, struct qts_parent *p, int state, uint8_t kind,
                      int32_t code, const char *reason)
{
    if (qts_exec_state_final(p->state))
        return;
    qts__exec_stop_all_timers(x, p);
    p->state = (uint8_t)state;
    p->code = code;
    p->ts_final_ns = qts__exec_now_ns(x);
    if (reason)
        qts_strlcpy(p->reason, reason, sizeof p->reason);
    qts_oms_parent_finished(x->oms, p);
    switch (state) {
    case QTS_XS_COMPLETE:
        if (kind == QTS_OE_CANCELLED)
            x->n_cancelled++;
        else if (p->partial)
            x->n_partial++;
        else
            x->n_complete++;
        if (!p->partial)
            qts__exec_stage_time(x, p, QTS_STAGE_FILL, p->ts_final_ns - p->ts_submit_ns);
        break;
    case QTS_XS_ESCAPED: x->n_escaped++; break;
    default: x->n_failed++; break;
    }
    QTS_DEBUG("order final id=%llu state=%s filled=%lld/%lld reason=%s",
              (unsigned long long)p->order_id, qts_exec_state_name(state), (long long)p->filled_qty,
              (long long)p->intent.qty, p->reason);
    qts__exec_emit_order(x, p, kind);
}
