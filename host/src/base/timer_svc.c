/* timer_svc.c — see timer_svc.h. */
#include "timer_svc.h"

#include <stdlib.h>
#include <uv.h>

#include "qts/qts_err.h"
#include "util.h"

/* ------------------------------------------------------------------ fake */

struct fake_timer {
    uint64_t id;
    int64_t due_ns;
    qts_timer_fn cb;
    void *arg;
};

struct fake_timers {
    struct qts_clock *clock;
    uint64_t next_id;
    struct fake_timer *v; /* owned; unsorted, small */
    int n, cap;
};

static int64_t fake_now(void *self)
{
    struct fake_timers *f = self;
    return qts_clock_now(f->clock);
}

static int fake_start(void *self, int64_t delay_ns, qts_timer_fn cb, void *arg, uint64_t *id_out)
{
    struct fake_timers *f = self;
    if (!cb)
        return QTS_EINVAL;
    if (f->n == f->cap) {
        f->cap = f->cap ? f->cap * 2 : 16;
        f->v = qts_xrealloc(f->v, (size_t)f->cap * sizeof *f->v);
    }
    struct fake_timer *t = &f->v[f->n++];
    t->id = ++f->next_id;
    t->due_ns = qts_clock_now(f->clock) + (delay_ns > 0 ? delay_ns : 0);
    t->cb = cb;
    t->arg = arg;
    if (id_out)
        *id_out = t->id;
    return 0;
}

static int fake_stop(void *self, uint64_t id)
{
    struct fake_timers *f = self;
    for (int i = 0; i < f->n; i++) {
        if (f->v[i].id == id) {
            f->v[i] = f->v[--f->n];
            return 0;
        }
    }
    return QTS_ENOENT;
}

static int fake_move(void *self, uint64_t id, int64_t delay_ns)
{
    struct fake_timers *f = self;
    for (int i = 0; i < f->n; i++) {
        if (f->v[i].id == id) { /* the id orders ties: kept */
            f->v[i].due_ns = qts_clock_now(f->clock) + (delay_ns > 0 ? delay_ns : 0);
            return 0;
        }
    }
    return QTS_ENOENT;
}

static void fake_free(void *self)
{
    struct fake_timers *f = self;
    if (!f)
        return;
    free(f->v);
    free(f);
}

static const struct qts_timer_svc_ops fake_ops = {.start = fake_start,
                                                  .stop = fake_stop,
                                                  .move = fake_move,
                                                  .now_ns = fake_now,
                                                  .free = fake_free};

int qts_fake_timers_new(struct qts_clock *clock, struct qts_timer_svc *out)
{
    if (!clock || clock->kind != QTS_CLOCK_VIRTUAL || !out)
        return QTS_EINVAL;
    struct fake_timers *f = qts_xcalloc(1, sizeof *f);
    f->clock = clock;
    out->ops = &fake_ops;
    out->self = f;
    return 0;
}

int qts_fake_timers_advance(struct qts_timer_svc *t, int64_t delta_ns)
{
    QTS_ASSERT(t->ops == &fake_ops);
    struct fake_timers *f = t->self;
    int64_t end = qts_clock_now(f->clock) + (delta_ns > 0 ? delta_ns : 0);
    int fired = 0;
    for (;;) {
        /* earliest due, ties by start order (ids grow) */
        int best = -1;
        for (int i = 0; i < f->n; i++) {
            if (f->v[i].due_ns > end)
                continue;
            if (best < 0 || f->v[i].due_ns < f->v[best].due_ns ||
                (f->v[i].due_ns == f->v[best].due_ns && f->v[i].id < f->v[best].id))
                best = i;
        }
        if (best < 0)
            break;
        struct fake_timer ft = f->v[best];
        f->v[best] = f->v[--f->n];
        qts_clock_advance_to(f->clock, ft.due_ns);
        ft.cb(ft.arg);
        fired++;
    }
    qts_clock_advance_to(f->clock, end);
    return fired;
}

int qts_fake_timers_pending(const struct qts_timer_svc *t)
{
    QTS_ASSERT(t->ops == &fake_ops);
    const struct fake_timers *f = t->self;
    return f->n;
}

/* ------------------------------------------------------------------ libuv
 * Armed timers live in a slot table; an id is (generation << 32 | slot), so
 * stop is O(1) and a stale id (fired, stopped, slot reused) never matches.
 * Each record owns its uv_timer_t and is freed in the close callback. */

struct uv_timer_rec {
    uv_timer_t handle; /* first: the close callback casts back */
    struct uv_timers *owner;
    uint64_t id;
    qts_timer_fn cb;
    void *arg;
};

struct uv_timers {
    uv_loop_t *loop;
    const struct qts_clock *clock;
    uint32_t gen;
    struct uv_timer_rec **slots; /* owned table; NULL = free slot */
    uint32_t n_slots, cap_slots;
    uint32_t *free_slots; /* owned */
    uint32_t n_free;
};

static void uvt_release_slot(struct uv_timers *u, struct uv_timer_rec *r)
{
    uint32_t slot = (uint32_t)(r->id & 0xffffffffu);
    u->slots[slot] = NULL;
    u->free_slots[u->n_free++] = slot;
}

static void uvt_closed(uv_handle_t *h) { free(h); /* struct uv_timer_rec starts with the handle */ }

static void uvt_fire(uv_timer_t *h)
{
    struct uv_timer_rec *r = (struct uv_timer_rec *)h;
    qts_timer_fn cb = r->cb;
    void *arg = r->arg;
    uvt_release_slot(r->owner, r);
    uv_close((uv_handle_t *)h, uvt_closed);
    cb(arg);
}

static int64_t uvt_now(void *self)
{
    struct uv_timers *u = self;
    return u->clock ? qts_clock_now(u->clock) : qts_mono_ns();
}

static int uvt_start(void *self, int64_t delay_ns, qts_timer_fn cb, void *arg, uint64_t *id_out)
{
    struct uv_timers *u = self;
    if (!cb)
        return QTS_EINVAL;
    struct uv_timer_rec *r = qts_xcalloc(1, sizeof *r);
    if (uv_timer_init(u->loop, &r->handle) < 0) {
        free(r);
        return QTS_ESYS;
    }
    uint32_t slot;
    if (u->n_free) {
        slot = u->free_slots[--u->n_free];
    } else {
        if (u->n_slots == u->cap_slots) {
            u->cap_slots = u->cap_slots ? u->cap_slots * 2 : 64;
            u->slots = qts_xrealloc(u->slots, u->cap_slots * sizeof *u->slots);
            u->free_slots = qts_xrealloc(u->free_slots, u->cap_slots * sizeof *u->free_slots);
        }
        slot = u->n_slots++;
    }
    if (++u->gen == 0)
        u->gen = 1; /* ids are never 0 */
    r->owner = u;
    r->id = ((uint64_t)u->gen << 32) | slot;
    r->cb = cb;
    r->arg = arg;
    u->slots[slot] = r;
    /* libuv has ms resolution: round up so a timer never fires early */
    uint64_t ms = delay_ns > 0 ? (uint64_t)((delay_ns + 999999) / 1000000) : 0;
    uv_timer_start(&r->handle, uvt_fire, ms, 0);
    if (id_out)
        *id_out = r->id;
    return 0;
}

static int uvt_stop(void *self, uint64_t id)
{
    struct uv_timers *u = self;
    uint32_t slot = (uint32_t)(id & 0xffffffffu);
    if (slot >= u->n_slots || !u->slots[slot] || u->slots[slot]->id != id)
        return QTS_ENOENT;
    struct uv_timer_rec *r = u->slots[slot];
    uvt_release_slot(u, r);
    uv_timer_stop(&r->handle);
    uv_close((uv_handle_t *)&r->handle, uvt_closed);
    return 0;
}

static int uvt_move(void *self, uint64_t id, int64_t delay_ns)
{
    struct uv_timers *u = self;
    uint32_t slot = (uint32_t)(id & 0xffffffffu);
    if (slot >= u->n_slots || !u->slots[slot] || u->slots[slot]->id != id)
        return QTS_ENOENT;
    uint64_t ms = delay_ns > 0 ? (uint64_t)((delay_ns + 999999) / 1000000) : 0;
    uv_timer_start(&u->slots[slot]->handle, uvt_fire, ms, 0); /* restarts it */
    return 0;
}

static void uvt_free(void *self)
{
    struct uv_timers *u = self;
    if (!u)
        return;
    for (uint32_t i = 0; i < u->n_slots; i++) {
        struct uv_timer_rec *r = u->slots[i];
        if (!r)
            continue;
        uv_timer_stop(&r->handle);
        uv_close((uv_handle_t *)&r->handle, uvt_closed);
    }
    free(u->slots);
    free(u->free_slots);
    free(u);
}

static const struct qts_timer_svc_ops uv_ops = {
    .start = uvt_start, .stop = uvt_stop, .move = uvt_move, .now_ns = uvt_now, .free = uvt_free};

int qts_uv_timers_new(struct uv_loop_s *loop, const struct qts_clock *clock,
                      struct qts_timer_svc *out)
{
    if (!loop || !out)
        return QTS_EINVAL;
    struct uv_timers *u = qts_xcalloc(1, sizeof *u);
    u->loop = loop;
    u->clock = clock;
    out->ops = &uv_ops;
    out->self = u;
    return 0;
}
