/* order.c — see order.h. */
#include "order.h"

#include <stdlib.h>
#include <string.h>

#include "qts/qts_err.h"
#include "util.h"

#define N QTS_OS_NEW
#define PS QTS_OS_PENDING_SEND
#define AC QTS_OS_ACCEPTED
#define PF QTS_OS_PARTIALLY_FILLED
#define FI QTS_OS_FILLED
#define CP QTS_OS_CANCEL_PENDING
#define CA QTS_OS_CANCELLED
#define RJ QTS_OS_REJECTED
#define EX QTS_OS_EXPIRED
#define UK QTS_OS_UNKNOWN

/* Row = from, bit = to. Why each edge exists is in docs/execution.md. */
#define B(s) (1u << (s))
static const uint16_t transitions[10] = {
    [N] = B(PS) | B(RJ),
    [PS] = B(AC) | B(PF) | B(FI) | B(RJ) | B(UK) | B(CP) | B(CA) | B(EX),
    [AC] = B(PF) | B(FI) | B(CP) | B(CA) | B(EX) | B(UK),
    [PF] = B(FI) | B(CP) | B(CA) | B(EX) | B(UK),
    [CP] = B(AC) | B(PF) | B(FI) | B(CA) | B(RJ) | B(EX) | B(UK),
    [UK] = B(PS) | B(AC) | B(PF) | B(FI) | B(CP) | B(CA) | B(RJ) | B(EX),
    [FI] = 0,
    [CA] = 0,
    [RJ] = 0,
    [EX] = 0,
};
#undef B

bool qts_order_transition_ok(int from, int to)
{
    if (from < 0 || from > 9 || to < 0 || to > 9)
        return false;
    return (transitions[from] >> to) & 1u;
}

bool qts_order_state_final(int s) { return s == FI || s == CA || s == RJ || s == EX; }

bool qts_order_state_working(int s) { return s == PS || s == AC || s == PF || s == CP || s == UK; }

const char *qts_order_state_name(int s)
{
    static const char *const names[] = {
        "new",       "pending_send", "accepted", "partially_filled", "filled", "cancel_pending",
        "cancelled", "rejected",     "expired",  "unknown"};
    return (s >= 0 && s < 10) ? names[s] : "?";
}

const char *qts_exec_state_name(int s)
{
    static const char *const names[] = {"INIT",       "PRECHECK",  "SPLITTING", "SENDING",
                                        "MONITORING", "ADJUSTING", "ESCAPING",  "CANCELLING",
                                        "COMPLETE",   "ESCAPED",   "FAILED"};
    return (s >= 0 && s < QTS_XS_COUNT) ? names[s] : "?";
}

/* The one place a child's state changes: the OMS's count of working
 * children (c->working_count) follows every move in and out of the
 * working states, so asking it is O(1) (oms.h). */
static void move_state(struct qts_child *c, int to)
{
    bool was = qts_order_state_working(c->state), now = qts_order_state_working(to);
    c->state = (uint8_t)to;
    if (c->working_count && was != now) {
        if (now)
            (*c->working_count)++;
        else
            (*c->working_count)--;
    }
}

int qts_child_set_state(struct qts_child *c, int to)
{
    if (c->state == to)
        return 0;
    if (!qts_order_transition_ok(c->state, to))
        return QTS_ESTATE;
    move_state(c, to);
    return 0;
}

int64_t qts_child_leaves(const struct qts_child *c)
{
    if (qts_order_state_final(c->state))
        return 0;
    return c->qty > c->cum_qty ? c->qty - c->cum_qty : 0;
}

int64_t qts_child_avg_px(const struct qts_child *c)
{
    if (c->cum_qty <= 0)
        return 0;
    return (int64_t)((c->notional + c->cum_qty / 2) / c->cum_qty);
}

void qts_child_cleanup(struct qts_child *c)
{
    free(c->fill_ids);
    c->fill_ids = NULL;
    c->n_fill_ids = c->cap_fill_ids = 0;
}

/* Insert into the sorted id set; false if it was already there. */
static bool fill_id_insert(struct qts_child *c, uint64_t id)
{
    size_t lo = 0, hi = c->n_fill_ids;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (c->fill_ids[mid] == id)
            return false;
        if (c->fill_ids[mid] < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (c->n_fill_ids == c->cap_fill_ids) {
        c->cap_fill_ids = c->cap_fill_ids ? c->cap_fill_ids * 2 : 4;
        c->fill_ids = qts_xrealloc(c->fill_ids, c->cap_fill_ids * sizeof *c->fill_ids);
    }
    memmove(&c->fill_ids[lo + 1], &c->fill_ids[lo], (c->n_fill_ids - lo) * sizeof *c->fill_ids);
    c->fill_ids[lo] = id;
    c->n_fill_ids++;
    return true;
}

static void set_state(struct qts_child *c, int to, struct qts_apply_result *res)
{
    if (c->state == to || !qts_order_transition_ok(c->state, to))
        return;
    move_state(c, to);
    res->flags |= QTS_APPLY_STATE;
    res->to = (uint8_t)to;
}

/* An acknowledgement: a late one, after a fill or a cancel, is ignored. */
static void ack_if_pending(struct qts_child *c, struct qts_apply_result *res)
{
    if (c->state == PS || c->state == UK)
        set_state(c, AC, res);
    else
        res->flags |= QTS_APPLY_IGNORED;
}

/* A report that ends the order (cancelled, expired): a late one, after the
 * order already ended, is ignored. */
static void end_unless_final(struct qts_child *c, int to, struct qts_apply_result *res)
{
    if (qts_order_state_final(c->state))
        res->flags |= QTS_APPLY_IGNORED;
    else
        set_state(c, to, res);
}

/* Account `qty` at `px` and move the state as a fill does. */
static void add_fill(struct qts_child *c, int64_t qty, int64_t px, int64_t fee,
                     struct qts_apply_result *res)
{
    c->cum_qty += qty;
    c->notional += (qts_i128)px * qty;
    c->fee += fee;
    res->flags |= QTS_APPLY_FILL;
    res->fill_qty += qty;
    res->fill_px = px;
    res->fill_fee += fee;
    if (c->cum_qty >= c->qty)
        set_state(c, FI, res);
    else if (c->state == PS || c->state == AC || c->state == UK)
        set_state(c, PF, res);
    /* CANCEL_PENDING stays: the cancel may still win for the rest */
}

static void apply_fill(struct qts_child *c, const struct qts_exec_report *rep,
                       struct qts_apply_result *res)
{
    res->fill_id = rep->fill_id;
    if (!fill_id_insert(c, rep->fill_id)) {
        res->flags |= QTS_APPLY_DUP;
        return;
    }
    int64_t qty = rep->last_qty;
    if (qty <= 0) {
        res->flags |= QTS_APPLY_IGNORED;
        return;
    }
    /* A reconciliation booked fills it had no id for (synth_qty); the real
     * report of such a fill absorbs that booking instead of counting twice.
     * Otherwise increments are summed, whatever order they arrive in. */
    if (c->synth_qty > 0) {
        int64_t a = qty < c->synth_qty ? qty : c->synth_qty;
        c->synth_qty -= a;
        qty -= a;
        if (qty == 0) {
            res->flags |= QTS_APPLY_COVERED;
            return;
        }
    }
    if (c->cum_qty + qty > c->qty) {
        res->flags |= QTS_APPLY_OVERFILL;
        qty = c->qty - c->cum_qty;
        if (qty <= 0)
            return;
    }
    add_fill(c, qty, rep->last_px, rep->fee, res);
}

int qts_child_apply(struct qts_child *c, const struct qts_exec_report *rep,
                    struct qts_apply_result *res)
{
    memset(res, 0, sizeof *res);
    res->from = res->to = c->state;
    if (!rep)
        return QTS_EINVAL;
    res->code = rep->code;
    res->text = rep->text;
    res->is_maker = rep->is_maker;
    res->ts_venue_ns = rep->ts_venue_ns;
    if (rep->venue_order_id[0] && !c->venue_order_id[0])
        qts_strlcpy(c->venue_order_id, rep->venue_order_id, sizeof c->venue_order_id);

    switch (rep->exec_type) {
    case QTS_EXEC_ACK: ack_if_pending(c, res); break;
    case QTS_EXEC_REJECT:
        if (rep->code == QTS_EEXIST) {
            /* "duplicate client order id": the first send reached the venue,
             * so this is an acknowledgement of it, not a rejection. */
            ack_if_pending(c, res);
        } else if (c->state == PS || c->state == UK || c->state == N ||
                   (c->state == CP && c->ts_ack_ns == 0 && c->cum_qty == 0)) {
            /* also a cancel sent before the venue answered the order: the
             * venue's answer to the order itself was "no" */
            set_state(c, RJ, res);
        } else {
            res->flags |= QTS_APPLY_IGNORED;
        }
        break;
    case QTS_EXEC_FILL: apply_fill(c, rep, res); break;
    case QTS_EXEC_CANCELLED: end_unless_final(c, CA, res); break;
    case QTS_EXEC_CANCEL_REJECT:
        if (c->state == CP)
            set_state(c, c->cum_qty > 0 ? PF : AC, res);
        else
            res->flags |= QTS_APPLY_IGNORED;
        break;
    case QTS_EXEC_EXPIRED: end_unless_final(c, EX, res); break;
    case QTS_EXEC_REPLACED:
        c->modify_pending = false;
        if (qts_order_state_final(c->state)) {
            res->flags |= QTS_APPLY_IGNORED;
            break;
        }
        res->flags |= QTS_APPLY_REPLACED;
        if (rep->last_px > 0)
            c->px = rep->last_px;
        if (rep->leaves_qty >= 0)
            c->qty = c->cum_qty + rep->leaves_qty;
        if (c->state == PS || c->state == UK)
            set_state(c, c->cum_qty > 0 ? PF : AC, res);
        break;
    case QTS_EXEC_STATUS: {
        /* Reconciliation: the venue works this order now. cum_qty beyond
         * ours is a fill we never saw: account it at last_px (the venue's
         * average price; the limit when it gives none), without a fill id; the real report, if it comes,
         * is then COVERED. */
        c->recon_seen = true;
        if (qts_order_state_final(c->state)) {
            res->flags |= QTS_APPLY_IGNORED;
            break;
        }
        if (rep->cum_qty > c->cum_qty) {
            int64_t q = rep->cum_qty - c->cum_qty;
            if (c->cum_qty + q > c->qty) {
                res->flags |= QTS_APPLY_OVERFILL;
                q = c->qty - c->cum_qty;
            }
            if (q > 0) {
                /* a venue that gives no average price: the limit is the
                 * best estimate we have */
                add_fill(c, q, rep->last_px > 0 ? rep->last_px : c->px, 0, res);
                c->synth_qty += q;
            }
        }
        if (c->state == PS || c->state == UK)
            set_state(c, c->cum_qty > 0 ? PF : AC, res);
        break;
    }
    default: return QTS_EINVAL;
    }
    return 0;
}

int64_t qts_parent_avg_px(const struct qts_parent *p)
{
    if (p->filled_qty <= 0)
        return 0;
    return (int64_t)((p->notional + p->filled_qty / 2) / p->filled_qty);
}

int64_t qts_parent_leaves(const struct qts_parent *p)
{
    int64_t l = p->intent.qty - p->filled_qty;
    return l > 0 ? l : 0;
}
