/* oms.c — see oms.h. */
#include "oms.h"
#include "oms_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "oms_ids.h"
#include "util.h"

/* ------------------------------------------------------------ hash map
 * (struct map: oms_internal.h) */

typedef bool (*match_fn)(const void *val, const void *want);

static size_t mix(uint64_t k)
{
    k ^= k >> 33;
    k *= UINT64_C(0xff51afd7ed558ccd);
    k ^= k >> 33;
    return (size_t)k;
}

static void tab_put_raw(struct map_tab *t, uint64_t key, void *val)
{
    size_t mask = t->cap - 1, i = mix(key) & mask;
    while (t->vals[i])
        i = (i + 1) & mask;
    t->keys[i] = key;
    t->vals[i] = val;
    t->n++;
}

static void *tab_get(const struct map_tab *t, uint64_t key, match_fn match, const void *want)
{
    if (!t->cap)
        return NULL;
    size_t mask = t->cap - 1, i = mix(key) & mask;
    while (t->vals[i]) {
        if (t->keys[i] == key && (!match || match(t->vals[i], want)))
            return t->vals[i];
        i = (i + 1) & mask;
    }
    return NULL;
}

/* Remove the entry holding `val` under `key`: backward-shift deletion.
 * False when it is not in this table. */
static bool tab_del(struct map_tab *t, uint64_t key, const void *val)
{
    if (!t->cap)
        return false;
    size_t mask = t->cap - 1, i = mix(key) & mask;
    while (t->vals[i] && t->vals[i] != val)
        i = (i + 1) & mask;
    if (!t->vals[i])
        return false;
    for (size_t j = i;;) {
        j = (j + 1) & mask;
        if (!t->vals[j])
            break;
        size_t k = mix(t->keys[j]) & mask; /* home slot of the entry at j */
        /* it may move into the hole at i unless its home lies in (i, j] */
        bool stays = i <= j ? (k > i && k <= j) : (k > i || k <= j);
        if (stays)
            continue;
        t->keys[i] = t->keys[j];
        t->vals[i] = t->vals[j];
        i = j;
    }
    t->vals[i] = NULL;
    t->keys[i] = 0;
    t->n--;
    return true;
}

static void tab_free(struct map_tab *t)
{
    free(t->keys);
    free(t->vals);
    memset(t, 0, sizeof *t);
}

/* Slots of `old` visited per insert or delete while it drains: the move
 * ends long before `cur` (twice as big, starting 3/8 full at most) fills. */
#define MAP_MOVE_SLOTS 16

/* Move whole clusters of `old` into `cur` until about `budget` slots were
 * visited (a cluster is never split); free `old` once it is empty. */
static void map_step(struct map *m, size_t budget)
{
    struct map_tab *o = &m->old;
    if (!o->cap)
        return;
    size_t mask = o->cap - 1;
    while (m->old_left > 0 && (budget > 0 || o->vals[m->old_pos])) {
        size_t i = m->old_pos;
        if (o->vals[i]) {
            tab_put_raw(&m->cur, o->keys[i], o->vals[i]);
            o->vals[i] = NULL;
            o->keys[i] = 0;
            o->n--;
        }
        m->old_pos = (i + 1) & mask;
        m->old_left--;
        if (budget)
            budget--;
    }
    if (m->old_left == 0 || o->n == 0)
        tab_free(o);
}

static void map_grow(struct map *m)
{
    if (m->old.cap) /* only if inserts outran the move: finish it first */
        map_step(m, SIZE_MAX);
    struct map_tab full = m->cur;
    m->cur.cap = full.cap ? full.cap * 2 : 64;
    m->cur.keys = qts_xcalloc(m->cur.cap, sizeof *m->cur.keys);
    m->cur.vals = qts_xcalloc(m->cur.cap, sizeof *m->cur.vals);
    m->cur.n = 0;
    if (!full.n) {
        tab_free(&full);
        return;
    }
    /* start right after an empty slot (at most 3/4 are full) */
    size_t mask = full.cap - 1, e = 0;
    while (full.vals[e])
        e++;
    m->old = full;
    m->old_pos = (e + 1) & mask;
    m->old_left = full.cap - 1;
}

static void map_put(struct map *m, uint64_t key, void *val)
{
    map_step(m, MAP_MOVE_SLOTS);
    if ((m->cur.n + 1) * 4 > m->cur.cap * 3)
        map_grow(m);
    tab_put_raw(&m->cur, key, val);
}

static void *map_get(const struct map *m, uint64_t key, match_fn match, const void *want)
{
    void *v = tab_get(&m->cur, key, match, want);
    return v ? v : tab_get(&m->old, key, match, want);
}

static void map_del(struct map *m, uint64_t key, const void *val)
{
    map_step(m, MAP_MOVE_SLOTS);
    if (!tab_del(&m->cur, key, val))
        tab_del(&m->old, key, val);
}

static void map_free(struct map *m)
{
    tab_free(&m->cur);
    tab_free(&m->old);
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

/* ------------------------------------------------------- tombstone sets
 * (struct tset: oms_internal.h) */

#define TSET_NONE SIZE_MAX

static size_t tset_hash(uint64_t a, uint64_t b)
{
    return mix(a ^ mix(b + UINT64_C(0x9e3779b97f4a7c15)));
}

static void tset_init(struct tset *t, size_t cap)
{
    memset(t, 0, sizeof *t);
    if (!cap)
        return;
    size_t tc = 16;
    while (tc < cap * 2)
        tc *= 2;
    t->cap = cap;
    t->k1 = qts_xcalloc(cap, sizeof *t->k1);
    t->k2 = qts_xcalloc(cap, sizeof *t->k2);
    t->live = qts_xcalloc(cap, sizeof *t->live);
    t->tab = qts_xcalloc(tc, sizeof *t->tab);
    t->tmask = tc - 1;
}

static void tset_free(struct tset *t)
{
    free(t->k1);
    free(t->k2);
    free(t->live);
    free(t->tab);
    memset(t, 0, sizeof *t);
}

static size_t tset_find(const struct tset *t, uint64_t a, uint64_t b)
{
    if (!t->cap)
        return TSET_NONE;
    for (size_t i = tset_hash(a, b) & t->tmask; t->tab[i]; i = (i + 1) & t->tmask) {
        size_t r = t->tab[i] - 1;
        if (t->k1[r] == a && t->k2[r] == b)
            return r;
    }
    return TSET_NONE;
}

/* Take ring slot r out of the index (backward shift) and mark it dead. */
static void tset_kill(struct tset *t, size_t r)
{
    if (!t->live[r])
        return;
    t->live[r] = false;
    size_t i = tset_hash(t->k1[r], t->k2[r]) & t->tmask;
    while (t->tab[i] != r + 1)
        i = (i + 1) & t->tmask;
    for (size_t j = i;;) {
        j = (j + 1) & t->tmask;
        if (!t->tab[j])
            break;
        size_t o = t->tab[j] - 1;
        size_t k = tset_hash(t->k1[o], t->k2[o]) & t->tmask;
        bool stays = i <= j ? (k > i && k <= j) : (k > i || k <= j);
        if (stays)
            continue;
        t->tab[i] = t->tab[j];
        i = j;
    }
    t->tab[i] = 0;
}

/* Drop the oldest slot; returns its ring index (still readable until the
 * next push). */
static size_t tset_pop(struct tset *t)
{
    size_t r = t->head;
    tset_kill(t, r);
    t->head = (t->head + 1) % t->cap;
    t->len--;
    return r;
}

/* Append (the caller made room: len < cap); returns the ring index. */
static size_t tset_push(struct tset *t, uint64_t a, uint64_t b)
{
    size_t r = (t->head + t->len) % t->cap;
    t->len++;
    t->k1[r] = a;
    t->k2[r] = b;
    t->live[r] = true;
    size_t i = tset_hash(a, b) & t->tmask;
    while (t->tab[i])
        i = (i + 1) & t->tmask;
    t->tab[i] = (uint32_t)(r + 1);
    return r;
}

/* ------------------------------------------------------------------ oms */

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
    for (struct qts_child *c = oms->c_first, *n; c; c = n) {
        n = c->all_next;
        qts_child_cleanup(c);
        free(c);
    }
    for (struct qts_parent *p = oms->p_first, *n; p; p = n) {
        n = p->all_next;
        free(p->children);
        free(p->slices);
        free(p);
    }
    free(oms->fin);
    tset_free(&oms->t_parents);
    tset_free(&oms->t_children);
    tset_free(&oms->t_fills);
    free(oms->tombs);
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

const char *qts_oms_host_id(const struct qts_oms *oms) { return oms->host_id; }

/* Lists linked through all_prev / all_next (parents and children alike),
 * oldest first, with ends `first` and `last`: append `node`, or take it off. */
#define APPEND_ALL(first, last, node)  \
    do {                               \
        (node)->all_prev = (last);     \
        if (last)                      \
            (last)->all_next = (node); \
        else                           \
            (first) = (node);          \
        (last) = (node);               \
    } while (0)
#define UNLINK_ALL(first, last, node)                      \
    do {                                                   \
        if ((node)->all_prev)                              \
            (node)->all_prev->all_next = (node)->all_next; \
        else                                               \
            (first) = (node)->all_next;                    \
        if ((node)->all_next)                              \
            (node)->all_next->all_prev = (node)->all_prev; \
        else                                               \
            (last) = (node)->all_prev;                     \
    } while (0)

struct qts_parent *qts_oms_parent_new(struct qts_oms *oms, const struct qts_order_intent *intent,
                                      const struct qts_instrument *inst)
{
    /* A strategy's order arrives with the id the OMS gave its strategy
     * (oms_ids.h): kept, never replaced; the host's own orders (risk exits,
     * flattening) take the next free id below 2^32. */
    uint64_t id = intent->order_id;
    if (id && (!qts_oms_strategy_id_valid(id, intent->strategy_id) ||
               qts_oms_lookup(oms, id, NULL) != QTS_OMS_UNKNOWN))
        return NULL;
    if (!id) {
        while (map_get(&oms->by_id, oms->next_order_id, NULL, NULL))
            oms->next_order_id++;
        id = oms->next_order_id++;
    }
    struct qts_parent *p = qts_xcalloc(1, sizeof *p);
    p->intent = *intent;
    if (inst)
        p->inst = *inst;
    p->order_id = id;
    p->intent.order_id = p->order_id;
    p->strategy_id = intent->strategy_id;
    p->state = QTS_XS_INIT;
    APPEND_ALL(oms->p_first, oms->p_last, p);
    oms->n_parents++;
    map_put(&oms->by_id, p->order_id, p);
    /* push on the active list */
    p->active_next = oms->active;
    if (oms->active)
        oms->active->active_prev = p;
    oms->active = p;
    p->in_active = true;
    return p;
}

struct qts_child *qts_oms_child_new(struct qts_oms *oms, struct qts_parent *p, uint8_t role,
                                    uint8_t side, uint8_t type, int64_t px, int64_t qty)
{
    struct qts_child *c = qts_xcalloc(1, sizeof *c);
    c->parent = p;
    c->seq = oms->next_child++;
    snprintf(c->client_order_id, sizeof c->client_order_id, "%s-%llu", oms->host_id,
             (unsigned long long)c->seq);
    c->state = QTS_OS_NEW;
    c->role = role;
    c->side = side;
    c->type = type;
    c->tif = p->intent.tif;
    c->px = px;
    c->qty = qty;
    c->instrument = p->intent.instrument;
    c->working_count = &oms->n_working; /* NEW is not working: nothing to count yet */
    APPEND_ALL(oms->c_first, oms->c_last, c);
    oms->n_children++;
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

static void fin_push(struct qts_oms *oms, struct qts_parent *p)
{
    if (oms->fin_len == oms->fin_cap) {
        size_t ncap = oms->fin_cap ? oms->fin_cap * 2 : 64;
        struct qts_parent **n = qts_xmalloc(ncap * sizeof *n);
        for (size_t i = 0; i < oms->fin_len; i++)
            n[i] = oms->fin[(oms->fin_head + i) % oms->fin_cap];
        free(oms->fin);
        oms->fin = n;
        oms->fin_cap = ncap;
        oms->fin_head = 0;
    }
    oms->fin[(oms->fin_head + oms->fin_len) % oms->fin_cap] = p;
    oms->fin_len++;
}

void qts_oms_parent_finished(struct qts_oms *oms, struct qts_parent *p)
{
    if (!p->in_finished) {
        p->in_finished = true;
        fin_push(oms, p);
    }
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

struct qts_parent *qts_oms_active_first(const struct qts_oms *oms) { return oms->active; }

struct qts_parent *qts_oms_active_next(const struct qts_parent *p) { return p->active_next; }

size_t qts_oms_active_ids(const struct qts_oms *oms, uint32_t strategy_id, uint64_t *ids,
                          size_t cap)
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

size_t qts_oms_count(const struct qts_oms *oms) { return oms->n_parents; }

size_t qts_oms_child_count(const struct qts_oms *oms) { return oms->n_children; }

size_t qts_oms_finished_count(const struct qts_oms *oms) { return oms->fin_len; }

uint64_t qts_oms_evicted_total(const struct qts_oms *oms) { return oms->n_evicted; }

uint64_t qts_oms_late_fills(const struct qts_oms *oms) { return oms->n_late_fills; }

size_t qts_oms_working_children(const struct qts_oms *oms) { return oms->n_working; }

/* ------------------------------------------------------------ retention */

void qts_oms_set_retention(struct qts_oms *oms, size_t retain_count, int64_t retain_ns,
                           size_t tombstones)
{
    oms->retain_count = retain_count;
    oms->retain_ns = retain_ns < 0 ? 0 : retain_ns;
    if (tombstones == oms->t_children.cap)
        return;
    /* a new window starts empty: only before the first eviction matters */
    tset_free(&oms->t_parents);
    tset_free(&oms->t_children);
    tset_free(&oms->t_fills);
    free(oms->tombs);
    oms->tombs = NULL;
    if (tombstones > UINT32_MAX / 8)
        tombstones = UINT32_MAX / 8;
    tset_init(&oms->t_parents, tombstones);
    tset_init(&oms->t_children, tombstones);
    tset_init(&oms->t_fills, tombstones * QTS_OMS_TOMB_FILLS_PER_CHILD);
    if (tombstones)
        oms->tombs = qts_xcalloc(tombstones, sizeof *oms->tombs);
}

int qts_oms_pin(struct qts_oms *oms, uint64_t order_id)
{
    struct qts_parent *p = qts_oms_find(oms, order_id);
    if (!p)
        return QTS_ENOENT;
    p->pins++;
    return 0;
}

void qts_oms_unpin(struct qts_oms *oms, uint64_t order_id)
{
    struct qts_parent *p = qts_oms_find(oms, order_id);
    if (p && p->pins)
        p->pins--;
}

enum qts_oms_lookup qts_oms_lookup(const struct qts_oms *oms, uint64_t order_id,
                                   struct qts_parent **out)
{
    struct qts_parent *p = qts_oms_find(oms, order_id);
    if (out)
        *out = p;
    if (p)
        return QTS_OMS_LIVE;
    return tset_find(&oms->t_parents, order_id, 0) != TSET_NONE ? QTS_OMS_EVICTED : QTS_OMS_UNKNOWN;
}

/* n of "<host_id>-<n>", or 0 when the id is not of that form. */
static uint64_t clordid_seq(const struct qts_oms *oms, const char *clordid)
{
    size_t k = strlen(oms->host_id);
    if (strncmp(clordid, oms->host_id, k) != 0 || clordid[k] != '-')
        return 0;
    const char *d = clordid + k + 1;
    if (*d < '1' || *d > '9')
        return 0;
    uint64_t n = 0;
    for (; *d; d++) {
        if (*d < '0' || *d > '9' || n > (UINT64_MAX - 9) / 10)
            return 0;
        n = n * 10 + (uint64_t)(*d - '0');
    }
    return n;
}

static size_t tomb_find(const struct qts_oms *oms, const char *clordid)
{
    uint64_t n = clordid && oms->t_children.cap ? clordid_seq(oms, clordid) : 0;
    return n ? tset_find(&oms->t_children, n, 0) : TSET_NONE;
}

const struct qts_oms_evicted *qts_oms_find_evicted(const struct qts_oms *oms, const char *clordid)
{
    size_t r = tomb_find(oms, clordid);
    return r == TSET_NONE ? NULL : &oms->tombs[r];
}

/* Room for one more fill id. Dropping the oldest fill id also drops its
 * child's tombstone if that is still there: a child keeps its tombstone
 * only while every fill id it had is remembered, so a duplicate can never
 * pass for a new fill. */
static void fills_room(struct qts_oms *oms)
{
    struct tset *f = &oms->t_fills;
    while (f->len >= f->cap) {
        bool was_live = f->live[f->head];
        size_t r = tset_pop(f);
        if (!was_live)
            continue;
        size_t k = tset_find(&oms->t_children, f->k1[r], 0);
        if (k != TSET_NONE)
            tset_kill(&oms->t_children, k);
    }
}

static void tomb_child(struct qts_oms *oms, const struct qts_child *c)
{
    struct tset *t = &oms->t_children;
    for (size_t i = 0; i < c->n_fill_ids; i++) {
        fills_room(oms);
        tset_push(&oms->t_fills, c->seq, c->fill_ids[i]);
    }
    while (t->len >= t->cap)
        tset_pop(t);
    size_t r = tset_push(t, c->seq, 0);
    const struct qts_parent *p = c->parent;
    struct qts_oms_evicted *e = &oms->tombs[r];
    memset(e, 0, sizeof *e);
    e->order_id = p->order_id;
    e->strategy_id = p->strategy_id;
    e->instrument = c->instrument;
    e->side = c->side;
    e->role = c->role;
    e->state = c->state;
    e->px_exp = p->inst.px_exp;
    e->qty_exp = p->inst.qty_exp;
    e->qty = c->qty;
    e->cum_qty = c->cum_qty;
    e->synth_qty = c->synth_qty;
    qts_strlcpy(e->tag, p->intent.tag, sizeof e->tag);
}

/* May `p` go? Final, off the active list, not pinned, no timer armed, and
 * nothing the venue may still do to any of its children. */
static bool evictable(const struct qts_oms *oms, const struct qts_parent *p)
{
    if (!qts_exec_state_final(p->state) || p->in_active || p->pins || p->timer_stage ||
        p->timer_slice || p->timer_adjust || p->timer_poll)
        return false;
    for (size_t i = 0; i < p->n_children; i++) {
        const struct qts_child *c = p->children[i];
        if (!qts_order_state_final(c->state) || c->timer_ack || c->timer_retry ||
            c->modify_pending || c->replace_px || c->n_fill_ids > oms->t_fills.cap / 2)
            return false;
    }
    return true;
}

static void evict(struct qts_oms *oms, struct qts_parent *p)
{
    map_del(&oms->by_id, p->order_id, p);
    struct tset *tp = &oms->t_parents;
    while (tp->len >= tp->cap)
        tset_pop(tp);
    tset_push(tp, p->order_id, 0);
    for (size_t i = 0; i < p->n_children; i++) {
        struct qts_child *c = p->children[i];
        map_del(&oms->by_clordid, fnv1a(c->client_order_id), c);
        tomb_child(oms, c);
        UNLINK_ALL(oms->c_first, oms->c_last, c);
        oms->n_children--;
        qts_child_cleanup(c);
        free(c);
    }
    UNLINK_ALL(oms->p_first, oms->p_last, p);
    oms->n_parents--;
    free(p->children);
    free(p->slices);
    free(p);
    oms->n_evicted++;
}

size_t qts_oms_evict(struct qts_oms *oms, int64_t now_ns, size_t max)
{
    /* reconciliation walks the children: never pull them from under it;
     * without a tombstone window nothing is evicted (the old behaviour) */
    if (oms->recon || !oms->t_children.cap)
        return 0;
    size_t done = 0, looks = max < SIZE_MAX / 4 ? 2 * max + 2 : SIZE_MAX;
    while (done < max && looks-- > 0 && oms->fin_len > oms->retain_count) {
        struct qts_parent *p = oms->fin[oms->fin_head];
        if (now_ns - p->ts_final_ns < oms->retain_ns)
            break;
        oms->fin_head = (oms->fin_head + 1) % oms->fin_cap;
        oms->fin_len--;
        if (!evictable(oms, p)) {
            fin_push(oms, p); /* still referenced: look again later */
            continue;
        }
        evict(oms, p);
        done++;
    }
    return done;
}

/* A report for an evicted child: a duplicate (or a late ack, cancel, ...)
 * is ignored; a fill whose id was never seen is new (it happened at the
 * venue) and is booked once, like a live child would. */
static int apply_evicted(struct qts_oms *oms, size_t r, const struct qts_exec_report *rep,
                         struct qts_apply_result *res)
{
    struct qts_oms_evicted *e = &oms->tombs[r];
    uint64_t n = oms->t_children.k1[r];
    res->flags = QTS_APPLY_EVICTED;
    res->from = res->to = e->state;
    res->code = rep->code;
    if (rep->exec_type != QTS_EXEC_FILL) {
        res->flags |= QTS_APPLY_IGNORED;
        return 0;
    }
    res->fill_id = rep->fill_id;
    if (tset_find(&oms->t_fills, n, rep->fill_id) != TSET_NONE) {
        res->flags |= QTS_APPLY_DUP;
        return 0;
    }
    struct qts_oms_evicted snap = *e;
    fills_room(oms); /* may drop this very tombstone: `snap` keeps the data */
    tset_push(&oms->t_fills, n, rep->fill_id);
    if (oms->t_children.live[r] && oms->t_children.k1[r] == n)
        e = &oms->tombs[r];
    else
        e = &snap;
    int64_t qty = rep->last_qty;
    if (qty <= 0) {
        res->flags |= QTS_APPLY_IGNORED;
        return 0;
    }
    if (e->synth_qty > 0) {
        int64_t a = qty < e->synth_qty ? qty : e->synth_qty;
        e->synth_qty -= a;
        qty -= a;
        if (qty == 0) {
            res->flags |= QTS_APPLY_COVERED;
            return 0;
        }
    }
    if (e->cum_qty + qty > e->qty) {
        res->flags |= QTS_APPLY_OVERFILL;
        qty = e->qty - e->cum_qty;
        if (qty <= 0)
            return 0;
    }
    e->cum_qty += qty;
    res->flags |= QTS_APPLY_FILL;
    res->fill_qty = qty;
    res->fill_px = rep->last_px;
    res->fill_fee = rep->fee;
    res->is_maker = rep->is_maker;
    res->ts_venue_ns = rep->ts_venue_ns;
    int64_t *slot = qts__oms_pos_slot(oms, e->instrument);
    *slot += e->side == QTS_SIDE_BUY ? qty : -qty;
    oms->n_late_fills++;
    QTS_WARN("late fill for an evicted order clordid=%s order=%llu qty=%lld", rep->client_order_id,
             (unsigned long long)e->order_id, (long long)qty);
    return 0;
}

int64_t *qts__oms_pos_slot(struct qts_oms *oms, uint32_t inst)
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
        size_t r = tomb_find(oms, rep->client_order_id);
        if (r != TSET_NONE)
            return apply_evicted(oms, r, rep, res);
        if (rep->exec_type == QTS_EXEC_STATUS && oms->recon) {
            if (is_our_prefix(oms, rep->client_order_id)) {
                qts__oms_recon_report(oms, QTS_RECON_STRAY_ORDER, rep->instrument,
                                      rep->client_order_id, 0, rep->leaves_qty);
                if (oms->recon_port && oms->recon_port->ops->cancel)
                    oms->recon_port->ops->cancel(oms->recon_port->self, rep->client_order_id,
                                                 rep->venue_order_id);
            } else {
                qts__oms_recon_report(oms, QTS_RECON_FOREIGN_ORDER, rep->instrument,
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
        int64_t *slot = qts__oms_pos_slot(oms, c->instrument);
        *slot += c->side == QTS_SIDE_BUY ? res->fill_qty : -res->fill_qty;
        if (rep->exec_type == QTS_EXEC_STATUS)
            qts__oms_recon_report(oms, QTS_RECON_FILL_GAP, c->instrument, c->client_order_id,
                                  cum_before, rep->cum_qty);
    }
    if ((res->flags & (QTS_APPLY_STATE | QTS_APPLY_FILL | QTS_APPLY_REPLACED)) && oms->listener)
        oms->listener(oms->listener_ctx, c, res);
    return 0;
}

struct qts_parent *qts_oms_held_first(const struct qts_oms *oms) { return oms->p_first; }

void qts_oms_set_first_seq(struct qts_oms *oms, uint64_t n)
{
    if (n > oms->next_child)
        oms->next_child = n;
}
