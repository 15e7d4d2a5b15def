/* oms.c — see oms.h. */
#include "oms.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "util.h"

/* ------------------------------------------------------------ hash map
 * Open addressing with linear probing, keyed by a 64-bit hash; several
 * entries may share a key (string hashes can collide), so lookups take a
 * match function. Deletion is not needed: orders live for the run. */
struct map {
    uint64_t *keys;
    void **vals;   /* NULL = empty slot */
    size_t cap, n; /* cap is a power of two */
};

typedef bool (*match_fn)(const void *val, const void *want);

static size_t mix(uint64_t k)
{
    k ^= k >> 33;
    k *= UINT64_C(0xff51afd7ed558ccd);
    k ^= k >> 33;
    return (size_t)k;
}

static void map_put_raw(struct map *m, uint64_t key, void *val)
{
    size_t mask = m->cap - 1, i = mix(key) & mask;
    while (m->vals[i])
        i = (i + 1) & mask;
    m->keys[i] = key;
    m->vals[i] = val;
    m->n++;
}

static void map_put(struct map *m, uint64_t key, void *val)
{
    if ((m->n + 1) * 4 > m->cap * 3) {
        struct map old = *m;
        m->cap = old.cap ? old.cap * 2 : 64;
        m->keys = qts_xcalloc(m->cap, sizeof *m->keys);
        m->vals = qts_xcalloc(m->cap, sizeof *m->vals);
        m->n = 0;
        for (size_t i = 0; i < old.cap; i++)
            if (old.vals[i])
                map_put_raw(m, old.keys[i], old.vals[i]);
        free(old.keys);
        free(old.vals);
    }
    map_put_raw(m, key, val);
}

static void *map_get(const struct map *m, uint64_t key, match_fn match, const void *want)
{
    if (!m->cap)
        return NULL;
    size_t mask = m->cap - 1, i = mix(key) & mask;
    while (m->vals[i]) {
        if (m->keys[i] == key && (!match || match(m->vals[i], want)))
            return m->vals[i];
        i = (i + 1) & mask;
    }
    return NULL;
}

static void map_free(struct map *m)
{
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof *m);
}

static uint64_t fnv1a(const char *s)
{
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= UINT64_C(0x100000001b3);
    }
    return h;
}

static bool child_match(const void *val, const void *want)
{
    const struct qts_child *c = val;
    return strcmp(c->client_order_id, (const char *)want) == 0;
}

/* ------------------------------------------------------------------ oms */

struct qts_oms {
    char host_id[16];
    uint64_t next_order_id, next_child;
    struct map by_id, by_clordid;
    struct qts_parent **parents; /* owned, all of them */
    size_t n_parents, cap_parents;
    struct qts_child **children; /* owned, all of them */
    size_t n_children, cap_children;
    struct qts_parent *active;   /* list head */
    qts_oms_child_fn listener;
    void *listener_ctx;
    int64_t *pos;                /* by instrument id */
    size_t n_pos;
    /* reconciliation */
    bool recon;
    uint64_t next_req;
    uint64_t req_orders, req_positions;
    bool done_orders, done_positions;
    int status_orders, status_positions;
    struct qts_broker_position *bpos;
    size_t n_bpos, cap_bpos;
    const struct qts_broker_port *recon_port;
    qts_recon_fn recon_fn;
    void *recon_ctx;
};

struct qts_oms *qts_oms_new(const char *host_id)
{
    struct qts_oms *oms = qts_xcalloc(1, sizeof *oms);
    qts_strlcpy(oms->host_id, host_id && *host_id ? host_id : "qts", sizeof oms->host_id);
    oms->next_order_id = 1;
    oms->next_child = 1;
    return oms;
}

void qts_oms_free(struct qts_oms *oms)
{
    if (!oms)
        return;
    for (size_t i = 0; i < oms->n_children; i++) {
        qts_child_cleanup(oms->children[i]);
        free(oms->children[i]);
    }
    for (size_t i = 0; i < oms->n_parents; i++) {
        free(oms->parents[i]->children);
        free(oms->parents[i]->slices);
        free(oms->parents[i]);
    }
    free(oms->children);
    free(oms->parents);
    map_free(&oms->by_id);
    map_free(&oms->by_clordid);
    free(oms->pos);
    free(oms->bpos);
    free(oms);
}

void qts_oms_set_listener(struct qts_oms *oms, qts_oms_child_fn fn, void *ctx)
{
    oms->listener = fn;
    oms->listener_ctx = ctx;
}

const char *qts_oms_host_id(const struct qts_oms *oms)
{
    return oms->host_id;
}

struct qts_parent *qts_oms_parent_new(struct qts_oms *oms,
                                      const struct qts_order_intent *intent,
                                      const struct qts_instrument *inst)
{
    struct qts_parent *p = qts_xcalloc(1, sizeof *p);
    p->intent = *intent;
    if (inst)
        p->inst = *inst;
    /* A strategy's order arrives with the id its strategy already holds
     * (strategy id in the high 32 bits); the host's own orders (risk exits,
     * flattening) take the next free id below 2^32. */
    if (intent->order_id && !map_get(&oms->by_id, intent->order_id, NULL, NULL)) {
        p->order_id = intent->order_id;
    } else {
        while (map_get(&oms->by_id, oms->next_order_id, NULL, NULL))
            oms->next_order_id++;
        p->order_id = oms->next_order_id++;
    }
    p->intent.order_id = p->order_id;
    p->strategy_id = intent->strategy_id;
    p->state = QTS_XS_INIT;
    if (oms->n_parents == oms->cap_parents) {
        oms->cap_parents = oms->cap_parents ? oms->cap_parents * 2 : 64;
        oms->parents = qts_xrealloc(oms->parents, oms->cap_parents * sizeof *oms->parents);
    }
    oms->parents[oms->n_parents++] = p;
    map_put(&oms->by_id, p->order_id, p);
    /* push on the active list */
    p->active_next = oms->active;
    if (oms->active)
        oms->active->active_prev = p;
    oms->active = p;
    p->in_active = true;
    return p;
}

struct qts_child *qts_oms_child_new(struct qts_oms *oms, struct qts_parent *p,
                                    uint8_t role, uint8_t side, uint8_t type,
                                    int64_t px, int64_t qty)
{
    struct qts_child *c = qts_xcalloc(1, sizeof *c);
    c->parent = p;
    snprintf(c->client_order_id, sizeof c->client_order_id, "%s-%llu", oms->host_id,
             (unsigned long long)oms->next_child++);
    c->state = QTS_OS_NEW;
    c->role = role;
    c->side = side;
    c->type = type;
    c->tif = p->intent.tif;
    c->px = px;
    c->qty = qty;
    c->instrument = p->intent.instrument;
    if (oms->n_children == oms->cap_children) {
        oms->cap_children = oms->cap_children ? oms->cap_children * 2 : 64;
        oms->children =
            qts_xrealloc(oms->children, oms->cap_children * sizeof *oms->children);
    }
    oms->children[oms->n_children++] = c;
    map_put(&oms->by_clordid, fnv1a(c->client_order_id), c);
    if (p->n_children == p->cap_children) {
        p->cap_children = p->cap_children ? p->cap_children * 2 : 4;
        p->children = qts_xrealloc(p->children, p->cap_children * sizeof *p->children);
    }
    p->children[p->n_children++] = c;
    return c;
}

struct qts_parent *qts_oms_find(const struct qts_oms *oms, uint64_t order_id)
{
    return map_get(&oms->by_id, order_id, NULL, NULL);
}

struct qts_child *qts_oms_find_child(const struct qts_oms *oms, const char *clordid)
{
    if (!clordid || !*clordid)
        return NULL;
    return map_get(&oms->by_clordid, fnv1a(clordid), child_match, clordid);
}

void qts_oms_parent_finished(struct qts_oms *oms, struct qts_parent *p)
{
    if (!p->in_active)
        return;
    if (p->active_prev)
        p->active_prev->active_next = p->active_next;
    else
        oms->active = p->active_next;
    if (p->active_next)
        p->active_next->active_prev = p->active_prev;
    p->active_prev = p->active_next = NULL;
    p->in_active = false;
}

struct qts_parent *qts_oms_active_first(const struct qts_oms *oms)
{
    return oms->active;
}

struct qts_parent *qts_oms_active_next(const struct qts_parent *p)
{
    return p->active_next;
}

size_t qts_oms_active_ids(const struct qts_oms *oms, uint32_t strategy_id,
                          uint64_t *ids, size_t cap)
{
    size_t n = 0;
    for (const struct qts_parent *p = oms->active; p; p = p->active_next) {
        if (p->strategy_id != strategy_id)
            continue;
        if (n < cap)
            ids[n] = p->order_id;
        n++;
    }
    return n;
}

size_t qts_oms_count(const struct qts_oms *oms)
{
    return oms->n_parents;
}

size_t qts_oms_working_children(const struct qts_oms *oms)
{
    size_t n = 0;
    for (size_t i = 0; i < oms->n_children; i++)
        n += qts_order_state_working(oms->children[i]->state);
    return n;
}

static int64_t *pos_slot(struct qts_oms *oms, uint32_t inst)
{
    if (inst >= oms->n_pos) {
        size_t n = oms->n_pos ? oms->n_pos : 16;
        while (n <= inst)
            n *= 2;
        oms->pos = qts_xrealloc(oms->pos, n * sizeof *oms->pos);
        memset(oms->pos + oms->n_pos, 0, (n - oms->n_pos) * sizeof *oms->pos);
        oms->n_pos = n;
    }
    return &oms->pos[inst];
}

int64_t qts_oms_position(const struct qts_oms *oms, uint32_t instrument)
{
    return instrument < oms->n_pos ? oms->pos[instrument] : 0;
}

static bool is_our_prefix(const struct qts_oms *oms, const char *clordid)
{
    size_t n = strlen(oms->host_id);
    return strncmp(clordid, oms->host_id, n) == 0 && clordid[n] == '-';
}

static void recon_report(struct qts_oms *oms, uint8_t kind, uint32_t inst,
                         const char *clordid, int64_t ours, int64_t theirs)
{
    struct qts_recon_diff d = {.kind = kind, .instrument = inst, .ours = ours,
                               .theirs = theirs};
    if (clordid)
        qts_strlcpy(d.client_order_id, clordid, sizeof d.client_order_id);
    QTS_WARN("reconcile difference kind=%d inst=%u clordid=%s ours=%lld theirs=%lld",
             kind, inst, clordid ? clordid : "-", (long long)ours, (long long)theirs);
    if (oms->recon_fn)
        oms->recon_fn(oms->recon_ctx, &d);
}

int qts_oms_apply_report(struct qts_oms *oms, const struct qts_exec_report *rep,
                         struct qts_child **child_out, struct qts_apply_result *res)
{
    struct qts_apply_result local;
    if (!res)
        res = &local;
    memset(res, 0, sizeof *res);
    if (child_out)
        *child_out = NULL;
    if (!rep)
        return QTS_EINVAL;
    struct qts_child *c = qts_oms_find_child(oms, rep->client_order_id);
    if (!c) {
        if (rep->exec_type == QTS_EXEC_STATUS && oms->recon) {
            if (is_our_prefix(oms, rep->client_order_id)) {
                recon_report(oms, QTS_RECON_STRAY_ORDER, rep->instrument,
                             rep->client_order_id, 0, rep->leaves_qty);
                if (oms->recon_port && oms->recon_port->ops->cancel)
                    oms->recon_port->ops->cancel(oms->recon_port->self,
                                                 rep->client_order_id,
                                                 rep->venue_order_id);
            } else {
                recon_report(oms, QTS_RECON_FOREIGN_ORDER, rep->instrument,
                             rep->client_order_id, 0, rep->leaves_qty);
            }
        }
        return QTS_ENOENT;
    }
    int64_t cum_before = c->cum_qty;
    int rc = qts_child_apply(c, rep, res);
    if (rc < 0)
        return rc;
    if (child_out)
        *child_out = c;
    if (res->flags & QTS_APPLY_FILL) {
        int64_t *slot = pos_slot(oms, c->instrument);
        *slot += c->side == QTS_SIDE_BUY ? res->fill_qty : -res->fill_qty;
        if (rep->exec_type == QTS_EXEC_STATUS)
            recon_report(oms, QTS_RECON_FILL_GAP, c->instrument, c->client_order_id,
                         cum_before, rep->cum_qty);
    }
    if ((res->flags & (QTS_APPLY_STATE | QTS_APPLY_FILL | QTS_APPLY_REPLACED)) &&
        oms->listener)
        oms->listener(oms->listener_ctx, c, res);
    return 0;
}

/* ------------------------------------------------------ reconciliation */

int qts_oms_recon_begin(struct qts_oms *oms, const struct qts_broker_port *port,
                        qts_recon_fn fn, void *ctx)
{
    if (oms->recon)
        return QTS_EBUSY;
    if (!port || !port->ops ||
        (!port->ops->query_open_orders && !port->ops->query_positions))
        return QTS_EUNSUPPORTED;
    oms->recon = true;
    oms->recon_port = port;
    oms->recon_fn = fn;
    oms->recon_ctx = ctx;
    oms->n_bpos = 0;
    oms->req_orders = oms->req_positions = 0;
    oms->done_orders = oms->done_positions = true;
    oms->status_orders = oms->status_positions = QTS_EUNSUPPORTED;
    for (size_t i = 0; i < oms->n_children; i++)
        oms->children[i]->recon_seen = false;
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

bool qts_oms_recon_active(const struct qts_oms *oms)
{
    return oms->recon;
}

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
        for (size_t i = 0; i < oms->n_children; i++) {
            struct qts_child *c = oms->children[i];
            if (c->recon_seen || !(c->state == QTS_OS_ACCEPTED ||
                                   c->state == QTS_OS_PARTIALLY_FILLED ||
                                   c->state == QTS_OS_CANCEL_PENDING))
                continue;
            recon_report(oms, QTS_RECON_MISSING_ORDER, c->instrument, c->client_order_id,
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
            int64_t *slot = pos_slot(oms, b->instrument);
            if (*slot != b->qty) {
                recon_report(oms, QTS_RECON_POSITION, b->instrument, NULL, *slot, b->qty);
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
                recon_report(oms, QTS_RECON_POSITION, inst, NULL, oms->pos[inst], 0);
                oms->pos[inst] = 0;
            }
        }
    }
    QTS_INFO("reconcile done orders=%d positions=%d", oms->status_orders,
             oms->status_positions);
    oms->recon = false;
    oms->recon_port = NULL;
    oms->n_bpos = 0;
}

int qts_oms_recon_done(struct qts_oms *oms, uint64_t req_id, int status)
{
    if (!oms->recon || req_id == 0)
        return 0;
    if (req_id == oms->req_orders && !oms->done_orders) {
        oms->done_orders = true;
        oms->status_orders = status;
    } else if (req_id == oms->req_positions && !oms->done_positions) {
        oms->done_positions = true;
        oms->status_positions = status;
    } else {
        return 0;
    }
    if (!oms->done_orders || !oms->done_positions)
        return 0;
    recon_finish(oms);
    return 1;
}
