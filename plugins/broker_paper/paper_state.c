/* paper_state.c — the venue's state carried across a plugin reload
 * (export_state / import_state, STYLE.md §2): instruments with their books,
 * orders and requests in flight, the clocks, cash and the generator.
 */
#include <string.h>

#include "paper_broker.h"

/* ------------------------------------------------------------- state transfer */

/* Layout: magic[8], version, sizeof of the three records, scalars, then the
 * instruments (each followed by its book), orders and requests in flight.
 * Same-build records are copied as bytes; the sizes guard against a build
 * with a different layout. */
struct pb_state_hdr {
    char magic[8];
    uint32_t version;
    uint32_t inst_size, order_size, action_size;
    uint64_t rng, next_seq, n_reports;
    int64_t vnow, last_due, cash, reserved_cash, applied_ns;
    uint32_t n_inst, n_ord, n_act, reserved0;
};

int pb_export(void *self, struct qts_buf *out)
{
    struct pb *pb = self;
    struct pb_state_hdr h;
    memset(&h, 0, sizeof h);
    memcpy(h.magic, PB_MAGIC, 8);
    h.version = PB_STATE_VERSION;
    h.inst_size = sizeof(struct pb_inst_data);
    h.order_size = sizeof(struct pb_order);
    h.action_size = sizeof(struct pb_action);
    h.rng = pb->rng;
    h.next_seq = pb->next_seq;
    h.n_reports = pb->n_reports;
    h.vnow = pb->vnow;
    h.applied_ns = pb->applied_ns;
    h.last_due = pb->last_due;
    h.cash = pb->cash;
    h.reserved_cash = pb->reserved_cash;
    h.n_inst = pb->n_inst;
    h.n_ord = pb->n_ord;
    h.n_act = pb->n_act;
    int rc = out->append(out, &h, sizeof h);
    for (uint32_t i = 0; !rc && i < pb->n_inst; i++) {
        const struct pb_inst *in = &pb->inst[i];
        uint32_t nb[2] = {in->bid.n, in->ask.n};
        rc = out->append(out, &in->d, sizeof in->d);
        if (!rc)
            rc = out->append(out, nb, sizeof nb);
        if (!rc && in->bid.n)
            rc = out->append(out, in->bid.v, in->bid.n * sizeof *in->bid.v);
        if (!rc && in->ask.n)
            rc = out->append(out, in->ask.v, in->ask.n * sizeof *in->ask.v);
    }
    for (uint32_t i = 0; !rc && i < pb->n_ord; i++)
        rc = out->append(out, pb->ord[i], sizeof *pb->ord[i]);
    if (!rc && pb->n_act)
        rc = out->append(out, pb->act, pb->n_act * sizeof *pb->act);
    return rc;
}

struct rd {
    const uint8_t *p;
    size_t n;
};

static int rd_take(struct rd *r, void *dst, size_t n)
{
    if (r->n < n)
        return QTS_EPARSE;
    memcpy(dst, r->p, n);
    r->p += n;
    r->n -= n;
    return 0;
}

int pb_import(void *self, const void *p, size_t n)
{
    struct pb *pb = self;
    struct rd r = {p, n};
    struct pb_state_hdr h;
    if (pb->n_inst || pb->n_ord || pb->n_act)
        return QTS_ESTATE; /* only into a fresh instance */
    if (rd_take(&r, &h, sizeof h) || memcmp(h.magic, PB_MAGIC, 8))
        return QTS_EPARSE;
    if (h.version != PB_STATE_VERSION || h.inst_size != sizeof(struct pb_inst_data) ||
        h.order_size != sizeof(struct pb_order) || h.action_size != sizeof(struct pb_action))
        return QTS_EUNSUPPORTED;
    int rc = 0;
    for (uint32_t i = 0; !rc && i < h.n_inst; i++) {
        struct pb_inst_data d;
        uint32_t nb[2];
        if ((rc = rd_take(&r, &d, sizeof d)) || (rc = rd_take(&r, nb, sizeof nb)))
            break;
        struct pb_inst *in = pb_inst_get(pb, d.id, d.px_exp, d.qty_exp);
        in->d = d;
        for (int s = 0; !rc && s < 2; s++) {
            struct pb_side *side = s ? &in->ask : &in->bid;
            for (uint32_t k = 0; !rc && k < nb[s]; k++) {
                struct pb_level l;
                if (!(rc = rd_take(&r, &l, sizeof l)))
                    pb_side_set(pb, side, s == 0, l.px, l.qty);
            }
            /* levels are a set: read in any order, so states written with
             * the best level first (earlier builds) import the same */
        }
    }
    for (uint32_t i = 0; !rc && i < h.n_ord; i++) {
        struct pb_order o;
        if ((rc = rd_take(&r, &o, sizeof o)))
            break;
        if (o.state > PB_DONE || !memchr(o.clordid, 0, sizeof o.clordid)) {
            rc = QTS_EPARSE;
            break;
        }
        struct pb_order *no = pb_order_new(pb);
        *no = o;
        no->state = PB_PENDING;
        pb_order_set_state(pb, no, o.state); /* indexes it when resting */
    }
    for (uint32_t i = 0; !rc && i < h.n_act; i++) {
        pb->act = pb_grow(pb, pb->act, pb->n_act, &pb->cap_act, sizeof *pb->act);
        if (!(rc = rd_take(&r, &pb->act[pb->n_act], sizeof *pb->act)))
            pb->n_act++;
    }
    if (rc)
        return rc; /* destroy() frees what was read */
    pb->rng = h.rng;
    pb->next_seq = h.next_seq;
    pb->n_reports = h.n_reports;
    pb->vnow = h.vnow;
    pb->applied_ns = h.applied_ns;
    pb->last_due = h.last_due;
    pb->cash = h.cash;
    pb->reserved_cash = h.reserved_cash;
    pb_arm_timer(pb);
    return 0;
}
