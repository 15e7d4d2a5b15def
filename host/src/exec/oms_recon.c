/* oms_recon.c — reconciliation of the OMS against the broker (see oms.h):
 * both queries are sent, the broker's open orders come back as
 * QTS_EXEC_STATUS reports (qts_oms_apply_report) and its positions through
 * qts_oms_recon_position; when both are done, children working here but not
 * open there expire and the broker's positions are adopted. Every
 * difference goes to the listener given to qts_oms_recon_begin. */
#include "oms.h"
#include "oms_internal.h"

#include <string.h>

#include "log.h"
#include "util.h"

void qts__oms_recon_report(struct qts_oms *oms, uint8_t kind, uint32_t inst, const char *clordid,
                           int64_t ours, int64_t theirs)
{
    struct qts_recon_diff d = {.kind = kind, .instrument = inst, .ours = ours, .theirs = theirs};
    if (clordid)
        qts_strlcpy(d.client_order_id, clordid, sizeof d.client_order_id);
    QTS_WARN("reconcile difference kind=%d inst=%u clordid=%s ours=%lld theirs=%lld", kind, inst,
             clordid ? clordid : "-", (long long)ours, (long long)theirs);
    if (oms->recon_fn)
        oms->recon_fn(oms->recon_ctx, &d);
}

int qts_oms_recon_begin(struct qts_oms *oms, const struct qts_broker_port *port, qts_recon_fn fn,
                        void *ctx)
{
    if (oms->recon)
        return QTS_EBUSY;
    if (!port || !port->ops || (!port->ops->query_open_orders && !port->ops->query_positions))
        return QTS_EUNSUPPORTED;
    oms->recon = true;
    oms->recon_port = port;
    oms->recon_fn = fn;
    oms->recon_ctx = ctx;
    oms->n_bpos = 0;
    oms->req_orders = oms->req_positions = 0;
    oms->done_orders = oms->done_positions = true;
    oms->status_orders = oms->status_positions = QTS_EUNSUPPORTED;
    for (struct qts_child *c = oms->c_first; c; c = c->all_next)
        c->recon_seen = false;
    /* both requests are registered before either is sent: a broker may
     * answer synchronously from inside the query call */
    if (port->ops->query_open_orders) {
        oms->req_orders = ++oms->next_req;
        oms->done_orders = false;
    }
    if (port->ops->query_positions) {
        oms->req_positions = ++oms->next_req;
        oms->done_positions = false;
    }
    QTS_INFO("reconcile start orders_req=%llu positions_req=%llu",
             (unsigned long long)oms->req_orders, (unsigned long long)oms->req_positions);
    uint64_t ro = oms->req_orders, rp = oms->req_positions;
    if (ro) {
        int rc = port->ops->query_open_orders(port->self, ro);
        if (rc < 0 && oms->recon && oms->req_orders == ro)
            qts_oms_recon_done(oms, ro, rc);
    }
    if (rp && oms->recon && oms->req_positions == rp) {
        int rc = port->ops->query_positions(port->self, rp);
        if (rc < 0 && oms->recon && oms->req_positions == rp)
            qts_oms_recon_done(oms, rp, rc);
    }
    return 0;
}

bool qts_oms_recon_active(const struct qts_oms *oms) { return oms->recon; }

uint64_t qts_oms_recon_orders_req(const struct qts_oms *oms)
{
    return oms->recon ? oms->req_orders : 0;
}

uint64_t qts_oms_recon_positions_req(const struct qts_oms *oms)
{
    return oms->recon ? oms->req_positions : 0;
}

int qts_oms_recon_position(struct qts_oms *oms, const struct qts_broker_position *pos)
{
    if (!oms->recon || !pos)
        return QTS_ESTATE;
    if (oms->n_bpos == oms->cap_bpos) {
        oms->cap_bpos = oms->cap_bpos ? oms->cap_bpos * 2 : 16;
        oms->bpos = qts_xrealloc(oms->bpos, oms->cap_bpos * sizeof *oms->bpos);
    }
    oms->bpos[oms->n_bpos++] = *pos;
    return 0;
}

static void recon_finish(struct qts_oms *oms)
{
    if (oms->status_orders == 0) {
        /* Working here, not open at the broker: the venue no longer works
         * it. Sends still in flight (PENDING_SEND, UNKNOWN) are left to the
         * pipeline, which resends them under the same client order id. */
        /* children appended while walking (flatten orders) are visited
         * too; nothing is evicted while a reconciliation runs */
        for (struct qts_child *c = oms->c_first; c; c = c->all_next) {
            if (c->recon_seen ||
                !(c->state == QTS_OS_ACCEPTED || c->state == QTS_OS_PARTIALLY_FILLED ||
                  c->state == QTS_OS_CANCEL_PENDING))
                continue;
            qts__oms_recon_report(oms, QTS_RECON_MISSING_ORDER, c->instrument, c->client_order_id,
                                  qts_child_leaves(c), 0);
            struct qts_exec_report rep = {.struct_size = sizeof rep,
                                          .exec_type = QTS_EXEC_EXPIRED,
                                          .instrument = c->instrument,
                                          .leaves_qty = 0};
            qts_strlcpy(rep.client_order_id, c->client_order_id, sizeof rep.client_order_id);
            qts_strlcpy(rep.text, "reconcile: not open at the broker", sizeof rep.text);
            qts_oms_apply_report(oms, &rep, NULL, NULL);
        }
    }
    if (oms->status_positions == 0) {
        /* The broker is authoritative for positions: report and adopt. */
        for (size_t i = 0; i < oms->n_bpos; i++) {
            const struct qts_broker_position *b = &oms->bpos[i];
            int64_t *slot = qts__oms_pos_slot(oms, b->instrument);
            if (*slot != b->qty) {
                qts__oms_recon_report(oms, QTS_RECON_POSITION, b->instrument, NULL, *slot, b->qty);
                *slot = b->qty;
            }
        }
        for (uint32_t inst = 0; inst < oms->n_pos; inst++) {
            if (oms->pos[inst] == 0)
                continue;
            bool listed = false;
            for (size_t i = 0; i < oms->n_bpos && !listed; i++)
                listed = oms->bpos[i].instrument == inst;
            if (!listed) {
                qts__oms_recon_report(oms, QTS_RECON_POSITION, inst, NULL, oms->pos[inst], 0);
                oms->pos[inst] = 0;
            }
        }
    }
    QTS_INFO("reconcile done orders=%d positions=%d", oms->status_orders, oms->status_positions);
    oms->recon = false;
    oms->recon_port = NULL;
    oms->n_bpos = 0;
}

/* Records the end of one of the two queries, once: false if it ended before. */
static bool recon_query_ended(bool *done, int *status_out, int status)
{
    if (*done)
        return false;
    *done = true;
    *status_out = status;
    return true;
}

int qts_oms_recon_done(struct qts_oms *oms, uint64_t req_id, int status)
{
    if (!oms->recon || req_id == 0)
        return 0;
    /* the two request ids differ (both from next_req) */
    bool ended = req_id == oms->req_orders
                     ? recon_query_ended(&oms->done_orders, &oms->status_orders, status)
                     : req_id == oms->req_positions &&
                           recon_query_ended(&oms->done_positions, &oms->status_positions, status);
    if (!ended)
        return 0;
    if (!oms->done_orders || !oms->done_positions)
        return 0;
    recon_finish(oms);
    return 1;
}
