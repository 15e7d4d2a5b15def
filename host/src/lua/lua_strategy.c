/* lua_strategy.c — see lua_strategy.h. */
#include "lua_strategy.h"

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "portfolio.h"
#include "util.h"

#define INTENT_RING_CAP 1024

const int64_t qts_lua_cb_bounds_ns[QTS_LUA_CB_BUCKETS] = {
    1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000, 10000000, 100000000};

const char *qts_lua_state_name(int state)
{
    switch (state) {
    case QTS_LUA_ST_NEW: return "new";
    case QTS_LUA_ST_RUNNING: return "running";
    case QTS_LUA_ST_HALTED: return "halted";
    case QTS_LUA_ST_FAILED: return "failed";
    case QTS_LUA_ST_STOPPED: return "stopped";
    case QTS_LUA_ST_LOAD_FAILED: return "load_failed";
    default: return "?";
    }
}

/* ------------------------------------------------------------------ events */

static size_t event_size(unsigned type)
{
    switch (type) {
    case QTS_EV_TRADE: return sizeof(struct qts_trade);
    case QTS_EV_QUOTE: return sizeof(struct qts_quote);
    case QTS_EV_BOOK: return sizeof(struct qts_book_update);
    case QTS_EV_BAR: return sizeof(struct qts_bar);
    case QTS_EV_ORDER: return sizeof(struct qts_order_event);
    case QTS_EV_FILL: return sizeof(struct qts_fill);
    case QTS_EV_TIMER: return sizeof(struct qts_timer_event);
    case QTS_EV_FEEDBACK: return sizeof(struct qts_ev_hdr);
    default: return 0;
    }
}

void qts_lua_event_fix(void *storage)
{
    struct qts_lua_event *e = storage;
    if (e->u.h.type == QTS_EV_BOOK) {
        e->u.book.bids = e->levels;
        e->u.book.asks = e->levels + QTS_LUA_BOOK_DEPTH;
    }
}

int qts_lua_event_copy(struct qts_lua_event *dst, const struct qts_ev_hdr *ev)
{
    size_t sz = event_size(ev->type);
    if (sz == 0 || ev->struct_size < sz)
        return QTS_EINVAL;
    memcpy(&dst->u, ev, sz);
    dst->u.h.struct_size = (uint32_t)sz;
    if (ev->type == QTS_EV_BOOK) {
        const struct qts_book_update *b = (const struct qts_book_update *)ev;
        uint32_t nb = QTS_MIN(b->n_bids, (uint32_t)QTS_LUA_BOOK_DEPTH);
        uint32_t na = QTS_MIN(b->n_asks, (uint32_t)QTS_LUA_BOOK_DEPTH);
        if ((nb && !b->bids) || (na && !b->asks))
            return QTS_EINVAL;
        if (nb)
            memcpy(dst->levels, b->bids, nb * sizeof(struct qts_level));
        if (na)
            memcpy(dst->levels + QTS_LUA_BOOK_DEPTH, b->asks, na * sizeof(struct qts_level));
        dst->u.book.n_bids = nb;
        dst->u.book.n_asks = na;
        qts_lua_event_fix(dst);
    }
    return 0;
}

/* ------------------------------------------------------------------ object */

struct qts_lua_strategy *qts_lua_strategy_new(uint32_t id, const char *name, const char *path,
                                              struct qts_lua_instruments *instruments,
                                              struct qts_clock *clock)
{
    struct qts_lua_strategy *s = qts_xcalloc(1, sizeof *s);
    s->id = id;
    qts_strlcpy(s->name, name, sizeof s->name);
    qts_strlcpy(s->path, path, sizeof s->path);
    s->instruments = instruments;
    s->clock = clock;
    s->mem_limit = 64u << 20;
    s->budget_ns = 1000000;
    s->error_limit = 10;
    s->error_window_ns = INT64_C(60000000000);
    s->ref_dispatch = s->ref_traceback = s->ref_host = LUA_NOREF;
    qts_ring_init(&s->intents, INTENT_RING_CAP, sizeof(struct qts_lua_msg));
    atomic_init(&s->state, QTS_LUA_ST_NEW);
    return s;
}

void qts_lua_strategy_free(struct qts_lua_strategy *s)
{
    if (!s)
        return;
    qts_lua_budget_disarm(s);
    if (s->L)
        lua_close(s->L);
    qts_ring_cleanup(&s->intents);
    qts_free_all(s->symbols, s->batch, s->batch_idx, s->pos, s->books);
    for (size_t i = 0; i < s->n_bars; i++)
        free(s->bars[i].v);
    qts_free_all(s->bars, s->err_ts, s);
}

/* ------------------------------------------------------------------ memory */

/* The allocator that bounds a strategy's heap. Shrinking and freeing always
 * succeed; growth past the limit returns NULL, which LuaJIT turns into a
 * "not enough memory" error (LUA_ERRMEM) after a full GC attempt. */
static void *strategy_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    struct qts_lua_strategy *s = ud;
    if (nsize == 0) {
        free(ptr);
        s->mem_used -= ptr ? osize : 0;
        return NULL;
    }
    size_t old = ptr ? osize : 0;
    if (nsize > old && s->mem_used - old + nsize > s->mem_limit) {
        s->mem_refused = true;
        return NULL;
    }
    void *p = realloc(ptr, nsize);
    if (!p)
        return NULL;
    s->mem_used = s->mem_used - old + nsize;
    if (s->mem_used > s->mem_peak)
        s->mem_peak = s->mem_used;
    return p;
}

/* ------------------------------------------------------------------ errors */

static int traceback_handler(lua_State *L)
{
    const char *msg = lua_tostring(L, 1);
    if (!msg)
        msg = lua_isnoneornil(L, 1) ? "(nil error)" : luaL_typename(L, 1);
    luaL_traceback(L, L, msg, 1);
    return 1;
}

void qts_lua_strategy_halt(struct qts_lua_strategy *s, int state, const char *reason)
{
    int cur = atomic_load(&s->state);
    if (cur != QTS_LUA_ST_RUNNING && cur != QTS_LUA_ST_NEW)
        return;
    qts_strlcpy(s->status_reason, reason, sizeof s->status_reason);
    atomic_store(&s->state, state);
    atomic_store(&s->cancel_pending, 1);
    QTS_ERROR("strategy %s name=%s id=%u file=%s: %s",
              state == QTS_LUA_ST_FAILED ? "failed" : "halted", s->name, s->id, s->path, reason);
}

/* Record one callback error; halt past error_limit errors within
 * error_window_ns of the strategy's clock. */
static void count_error(struct qts_lua_strategy *s, int rc, const char *msg)
{
    atomic_fetch_add(&s->n_errors, 1);
    qts_strlcpy(s->last_error, msg ? msg : "?", sizeof s->last_error);
    if (rc == LUA_ERRMEM || s->mem_refused) {
        char why[160];
        snprintf(why, sizeof why, "memory limit exceeded (limit %zu bytes, in use %zu)",
                 s->mem_limit, s->mem_used);
        qts_strlcpy(s->last_error, why, sizeof s->last_error);
        qts_lua_strategy_halt(s, QTS_LUA_ST_HALTED, why);
        return;
    }
    QTS_ERROR("strategy error name=%s id=%u file=%s: %s", s->name, s->id, s->path, s->last_error);
    if (s->error_limit == 0)
        return;
    if (!s->err_ts)
        s->err_ts = qts_xcalloc(s->error_limit, sizeof *s->err_ts);
    int64_t now = qts_clock_now(s->clock);
    s->err_ts[s->err_head] = now;
    s->err_head = (s->err_head + 1) % s->error_limit;
    if (s->err_n < s->error_limit)
        s->err_n++;
    if (s->err_n == s->error_limit) {
        int64_t oldest = s->err_ts[s->err_head]; /* ring full: head is the oldest */
        if (now - oldest <= s->error_window_ns) {
            char why[160];
            snprintf(why, sizeof why, "error rate: %u errors within %.3f s", s->error_limit,
                     (double)s->error_window_ns / 1e9);
            qts_lua_strategy_halt(s, QTS_LUA_ST_HALTED, why);
        }
    }
}

/* Call the function on top of the stack (with nargs below it... above it)
 * under the traceback handler. Returns the lua_pcall code; on error the
 * message is in s->last_error and popped. */
static int pcall_tb(struct qts_lua_strategy *s, int nargs, int nres)
{
    lua_State *L = s->L;
    int base = lua_gettop(L) - nargs;
    lua_rawgeti(L, LUA_REGISTRYINDEX, s->ref_traceback);
    lua_insert(L, base);
    qts_lua_budget_arm(s);
    int rc = lua_pcall(L, nargs, nres, base);
    lua_remove(L, base);
    if (rc != 0) {
        const char *m = lua_tostring(L, -1);
        qts_strlcpy(s->last_error, m ? m : "(error object is not a string)", sizeof s->last_error);
        lua_pop(L, 1);
    }
    return rc;
}

/* ------------------------------------------------------------------ open */

int qts_lua_strategy_open(struct qts_lua_strategy *s, const char *lua_dir, struct qts_err *err)
{
    int st0 = atomic_load(&s->state);
    s->mem_used = 0;
    s->mem_refused = false;
    /* a restart (file fixed after a halt, file back after a delete) starts
     * clean: no old timers, no old error history */
    memset(s->timers, 0, sizeof s->timers);
    s->err_n = s->err_head = 0;
    s->lead = 0;
    s->held = false;
    lua_State *L = lua_newstate(strategy_alloc, s);
    if (!L)
        return qts_err_set(err, QTS_ENOMEM, "%s: cannot create lua_State", s->path);
    s->L = L;
    int rc;
    luaL_openlibs(L);
    if (s->max_instructions)
        qts_lua_budget_install(s);
    lua_pushcfunction(L, traceback_handler);
    s->ref_traceback = luaL_ref(L, LUA_REGISTRYINDEX);

    /* package.path = <lua_dir>/?.lua (host prelude only) */
    lua_getglobal(L, "package");
    lua_pushfstring(L, "%s/?.lua;%s/?/init.lua", lua_dir, lua_dir);
    lua_setfield(L, -2, "path");
    lua_pushstring(L, "");
    lua_setfield(L, -2, "cpath");
    lua_pop(L, 1);

    lua_getglobal(L, "require");
    lua_pushstring(L, "qts.host");
    if ((rc = pcall_tb(s, 1, 1)) != 0)
        goto fail;
    lua_pushvalue(L, -1);
    s->ref_host = luaL_ref(L, LUA_REGISTRYINDEX);

    lua_getfield(L, -1, "setup");
    lua_pushlightuserdata(L, s);
    lua_pushstring(L, s->path);
    lua_createtable(L, 0, (int)s->n_params);
    for (size_t i = 0; i < s->n_params; i++) {
        lua_pushstring(L, s->params[i].value);
        lua_setfield(L, -2, s->params[i].key);
    }
    lua_pushstring(L, s->name);
    lua_pushnumber(L, s->id);
    if ((rc = pcall_tb(s, 5, 1)) != 0)
        goto fail;
    s->ref_dispatch = luaL_ref(L, LUA_REGISTRYINDEX);

    lua_getfield(L, -1, "start");
    lua_pushstring(L, s->path);
    if ((rc = pcall_tb(s, 1, 0)) != 0)
        goto fail;
    lua_pop(L, 1); /* host table */
    /* a compare-and-swap: a watchdog may have declared this load stuck
     * (FAILED) meanwhile, and then the strategy must stay dead */
    if (!atomic_compare_exchange_strong(&s->state, &st0, QTS_LUA_ST_RUNNING))
        return qts_err_set(err, QTS_EHALTED, "%s: declared stuck during load", s->path);
    QTS_INFO("strategy started name=%s id=%u file=%s mem=%zu", s->name, s->id, s->path,
             s->mem_used);
    return 0;
fail:
    if (rc == LUA_ERRMEM || s->mem_refused)
        snprintf(s->last_error, sizeof s->last_error,
                 "memory limit exceeded (limit %zu bytes) while loading", s->mem_limit);
    qts_err_set(err, QTS_ELUA, "%s", s->last_error);
    qts_strlcpy(s->status_reason, s->last_error, sizeof s->status_reason);
    QTS_ERROR("strategy load failed name=%s file=%s: %s", s->name, s->path, s->last_error);
    qts_lua_budget_disarm(s);
    lua_close(L);
    s->L = NULL;
    atomic_compare_exchange_strong(&s->state, &st0, QTS_LUA_ST_LOAD_FAILED);
    return QTS_ELUA;
}

/* ------------------------------------------------------------------ dispatch */

static void ensure_batch(struct qts_lua_strategy *s, size_t n)
{
    if (n <= s->batch_cap)
        return;
    size_t cap = QTS_MAX(n, s->batch_cap * 2);
    s->batch = qts_xrealloc(s->batch, cap * sizeof *s->batch);
    s->batch_idx = qts_xrealloc(s->batch_idx, cap * sizeof *s->batch_idx);
    s->batch_cap = cap;
}

int qts_lua_strategy_dispatch(struct qts_lua_strategy *s, const struct qts_ev_hdr *const *evs,
                              const size_t *idx, size_t n)
{
    if (atomic_load_explicit(&s->state, memory_order_relaxed) != QTS_LUA_ST_RUNNING)
        return QTS_ESTATE;
    ensure_batch(s, n);
    memcpy(s->batch, evs, n * sizeof *evs);
    if (idx)
        memcpy(s->batch_idx, idx, n * sizeof *idx);
    else
        for (size_t i = 0; i < n; i++)
            s->batch_idx[i] = i;
    s->batch_n = n;
    s->batch_pos = 0;
    s->intents_this_event = 0;
    lua_State *L = s->L;
    while (s->batch_pos < s->batch_n) {
        size_t p0 = s->batch_pos;
        int64_t t0 = qts_mono_ns();
        lua_rawgeti(L, LUA_REGISTRYINDEX, s->ref_dispatch);
        int rc = pcall_tb(s, 0, 0);
        int64_t dt = qts_mono_ns() - t0;
        atomic_fetch_add_explicit(&s->n_callbacks, 1, memory_order_relaxed);
        size_t bk = 0;
        while (bk < QTS_LUA_CB_BUCKETS && dt > qts_lua_cb_bounds_ns[bk])
            bk++;
        atomic_fetch_add_explicit(&s->cb_buckets[bk], 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&s->cb_ns_sum, (uint64_t)(dt > 0 ? dt : 0), memory_order_relaxed);
        /* One clock pair per dispatch, not per event: a dispatch over the
         * budget contains every callback over it (and reports, rarely, a
         * batch of individually fast ones). Exact for one-event batches. */
        size_t done = s->batch_pos > p0 ? s->batch_pos - p0 : 1;
        if (dt > s->budget_ns) {
            uint64_t over = atomic_fetch_add(&s->n_budget_over, 1);
            if ((over & (over + 1)) == 0) /* 1st, 2nd, 4th, 8th... */
                QTS_WARN("strategy over budget name=%s id=%u took_ns=%lld budget_ns=%lld "
                         "events=%zu count=%llu",
                         s->name, s->id, (long long)dt, (long long)s->budget_ns, done,
                         (unsigned long long)over + 1);
        }
        if (rc != 0)
            count_error(s, rc, s->last_error); /* the loop resumes after the failing event */
        /* halted by that error, or failed by the watchdog meanwhile (then
         * this thread is abandoned: stop at once) */
        if (atomic_load(&s->state) != QTS_LUA_ST_RUNNING)
            return QTS_EHALTED;
        if (s->stop_on_intent && s->intents_this_event)
            break;
    }
    return 0;
}

int qts_lua_strategy_timers(struct qts_lua_strategy *s, int64_t now_ns)
{
    int fired = 0;
    for (int i = 0; i < QTS_LUA_MAX_TIMERS; i++) {
        if (atomic_load(&s->state) != QTS_LUA_ST_RUNNING)
            break;
        if (!s->timers[i].used || s->timers[i].due_ns > now_ns)
            continue;
        struct qts_timer_event *te = &s->timer_ev.u.timer;
        memset(te, 0, sizeof *te);
        te->h.struct_size = sizeof *te;
        te->h.type = QTS_EV_TIMER;
        te->h.ts_exch_ns = te->h.ts_recv_ns = now_ns;
        te->timer_id = s->timers[i].id;
        if (te->timer_id == s->cycle_timer)
            s->cyc_due_ns = s->timers[i].due_ns;
        if (s->timers[i].every_ns > 0)
            s->timers[i].due_ns += s->timers[i].every_ns *
                                   (1 + (now_ns - s->timers[i].due_ns) / s->timers[i].every_ns);
        else
            s->timers[i].used = false;
        const struct qts_ev_hdr *p = &te->h;
        qts_lua_strategy_dispatch(s, &p, NULL, 1);
        fired++;
    }
    return fired;
}

/* ------------------------------------------------------------------ reload */

int qts_lua_strategy_reload(struct qts_lua_strategy *s, struct qts_err *err)
{
    if (atomic_load(&s->state) != QTS_LUA_ST_RUNNING || !s->L)
        return qts_err_set(err, QTS_ESTATE, "%s: strategy not running", s->name);
    lua_State *L = s->L;
    lua_rawgeti(L, LUA_REGISTRYINDEX, s->ref_host);
    lua_getfield(L, -1, "reload");
    lua_remove(L, -2);
    lua_pushstring(L, s->path);
    int rc = pcall_tb(s, 1, 2);
    if (rc != 0) {
        atomic_fetch_add(&s->n_reload_fail, 1);
        if (rc == LUA_ERRMEM || s->mem_refused)
            qts_lua_strategy_halt(s, QTS_LUA_ST_HALTED, "memory limit exceeded during reload");
        return qts_err_set(err, QTS_ELUA, "%s", s->last_error);
    }
    if (!lua_toboolean(L, -2)) {
        const char *m = lua_tostring(L, -1);
        qts_strlcpy(s->last_error, m ? m : "reload failed", sizeof s->last_error);
        lua_pop(L, 2);
        atomic_fetch_add(&s->n_reload_fail, 1);
        QTS_ERROR("strategy reload failed, old version keeps running name=%s file=%s: %s", s->name,
                  s->path, s->last_error);
        return qts_err_set(err, QTS_ELUA, "%s", s->last_error);
    }
    lua_pop(L, 2);
    atomic_fetch_add(&s->n_reloads, 1);
    QTS_INFO("strategy reloaded name=%s id=%u file=%s", s->name, s->id, s->path);
    return 0;
}

int qts_lua_strategy_end(struct qts_lua_strategy *s, const char *reason)
{
    if (!s->L || atomic_load(&s->state) != QTS_LUA_ST_RUNNING)
        return 0;
    lua_rawgeti(s->L, LUA_REGISTRYINDEX, s->ref_host);
    lua_getfield(s->L, -1, "finish");
    lua_remove(s->L, -2);
    lua_pushstring(s->L, reason);
    if (pcall_tb(s, 1, 0) != 0) {
        QTS_WARN("strategy on_end failed name=%s: %s", s->name, s->last_error);
        return QTS_ELUA;
    }
    return 0;
}

void qts_lua_strategy_close(struct qts_lua_strategy *s)
{
    if (!s->L)
        return;
    if (atomic_load(&s->state) == QTS_LUA_ST_RUNNING) {
        lua_rawgeti(s->L, LUA_REGISTRYINDEX, s->ref_host);
        lua_getfield(s->L, -1, "stop");
        lua_remove(s->L, -2);
        if (pcall_tb(s, 0, 0) != 0)
            QTS_WARN("strategy on_stop failed name=%s: %s", s->name, s->last_error);
    }
    qts_lua_budget_disarm(s);
    lua_close(s->L);
    s->L = NULL;
}

/* ------------------------------------------------------------------ mirrors */

static struct qts_lua_pos *pos_of(struct qts_lua_strategy *s, uint32_t inst)
{
    if (inst >= s->pos_cap) {
        size_t cap = QTS_MAX((size_t)inst + 1, s->pos_cap * 2);
        s->pos = qts_xrealloc(s->pos, cap * sizeof *s->pos);
        memset(s->pos + s->pos_cap, 0, (cap - s->pos_cap) * sizeof *s->pos);
        s->pos_cap = cap;
    }
    return &s->pos[inst];
}

static void book_side_apply(struct qts_level *lv, uint32_t *n, const struct qts_level *d,
                            bool is_bid)
{
    uint32_t i = 0;
    while (i < *n && lv[i].px != d->px && (is_bid ? lv[i].px > d->px : lv[i].px < d->px))
        i++;
    bool found = i < *n && lv[i].px == d->px;
    if (d->qty == 0) {
        if (found) {
            memmove(lv + i, lv + i + 1, (*n - i - 1) * sizeof *lv);
            (*n)--;
        }
        return;
    }
    if (found) {
        lv[i].qty = d->qty;
        return;
    }
    if (i >= QTS_LUA_BOOK_DEPTH)
        return;
    uint32_t keep = QTS_MIN(*n, (uint32_t)QTS_LUA_BOOK_DEPTH - 1);
    memmove(lv + i + 1, lv + i, (keep - i) * sizeof *lv);
    lv[i] = *d;
    *n = keep + 1;
}

static void mirror_book(struct qts_lua_strategy *s, const struct qts_book_update *b)
{
    uint32_t inst = b->h.instrument;
    if (inst >= s->books_cap) {
        size_t cap = QTS_MAX((size_t)inst + 1, s->books_cap * 2);
        s->books = qts_xrealloc(s->books, cap * sizeof *s->books);
        memset(s->books + s->books_cap, 0, (cap - s->books_cap) * sizeof *s->books);
        s->books_cap = cap;
    }
    struct qts_lua_event *m = &s->books[inst];
    if ((b->h.flags & QTS_BOOK_SNAPSHOT) || m->u.h.type != QTS_EV_BOOK) {
        qts_lua_event_copy(m, &b->h);
        return;
    }
    uint32_t nb = m->u.book.n_bids, na = m->u.book.n_asks;
    for (uint32_t i = 0; i < b->n_bids; i++)
        book_side_apply(m->levels, &nb, &b->bids[i], true);
    for (uint32_t i = 0; i < b->n_asks; i++)
        book_side_apply(m->levels + QTS_LUA_BOOK_DEPTH, &na, &b->asks[i], false);
    m->u.book.h = b->h;
    m->u.book.n_bids = nb;
    m->u.book.n_asks = na;
    m->u.book.last_update_id = b->last_update_id;
    qts_lua_event_fix(m);
}

static void mirror_bar(struct qts_lua_strategy *s, const struct qts_bar *b)
{
    struct qts_lua_bars *r = NULL;
    for (size_t i = 0; i < s->n_bars; i++)
        if (s->bars[i].instrument == b->h.instrument && s->bars[i].period_ns == b->period_ns)
            r = &s->bars[i];
    if (!r) {
        s->bars = qts_xrealloc(s->bars, (s->n_bars + 1) * sizeof *s->bars);
        r = &s->bars[s->n_bars++];
        memset(r, 0, sizeof *r);
        r->instrument = b->h.instrument;
        r->period_ns = b->period_ns;
        r->v = qts_xcalloc(QTS_LUA_BAR_KEEP, sizeof *r->v);
    }
    r->v[r->head] = *b;
    r->head = (r->head + 1) % QTS_LUA_BAR_KEEP;
    if (r->n < QTS_LUA_BAR_KEEP)
        r->n++;
}

/* The first market event starts the cycle: due at the next multiple of
 * cycle_ns after it. In a replay the step ends after this event, so the
 * runtime sees the new due time before the events that pass it. */
static void arm_cycle(struct qts_lua_strategy *s, int64_t ts_ns)
{
    for (int i = 0; i < QTS_LUA_MAX_TIMERS; i++)
        if (s->timers[i].used && s->timers[i].id == s->cycle_timer)
            s->timers[i].due_ns = (ts_ns / s->cycle_ns + 1) * s->cycle_ns;
    s->cycle_armed = true;
    if (s->event_time)
        s->intents_this_event++;
}

void qts_lua_strategy_mirror(struct qts_lua_strategy *s, const struct qts_ev_hdr *ev)
{
    if (s->cycle_timer && !s->cycle_armed && ev->type >= QTS_EV_TRADE && ev->type <= QTS_EV_BAR)
        arm_cycle(s, ev->ts_exch_ns);
    switch (ev->type) {
    case QTS_EV_TRADE: {
        const struct qts_trade *t = (const struct qts_trade *)ev;
        struct qts_lua_pos *p = pos_of(s, ev->instrument);
        p->last_px = t->px, p->px_exp = ev->px_exp, p->qty_exp = ev->qty_exp;
        break;
    }
    case QTS_EV_QUOTE: {
        const struct qts_quote *q = (const struct qts_quote *)ev;
        struct qts_lua_pos *p = pos_of(s, ev->instrument);
        if (q->bid_px > 0 && q->ask_px > 0)
            p->last_px = (q->bid_px + q->ask_px) / 2;
        p->px_exp = ev->px_exp, p->qty_exp = ev->qty_exp;
        break;
    }
    case QTS_EV_BOOK: mirror_book(s, (const struct qts_book_update *)ev); break;
    case QTS_EV_BAR: {
        const struct qts_bar *b = (const struct qts_bar *)ev;
        mirror_bar(s, b);
        struct qts_lua_pos *p = pos_of(s, ev->instrument);
        /* the close marks the position, as in the host's portfolio */
        p->last_px = b->close, p->px_exp = ev->px_exp, p->qty_exp = ev->qty_exp;
        break;
    }
    case QTS_EV_FILL: {
        const struct qts_fill *f = (const struct qts_fill *)ev;
        struct qts_lua_pos *p = pos_of(s, ev->instrument);
        p->qty += f->side == QTS_SIDE_SELL ? -f->qty : f->qty;
        p->last_px = f->px, p->px_exp = ev->px_exp, p->qty_exp = ev->qty_exp;
        /* what qts_portfolio_apply_fill books, to the unit: the notional
         * rounded once to cash units, then the fee */
        int64_t notional = qts_cash_notional(f->px, ev->px_exp, f->qty, ev->qty_exp);
        s->cash += (f->side == QTS_SIDE_SELL ? notional : -notional) - f->fee;
        break;
    }
    default: break;
    }
}

bool qts_lua_strategy_wants(const struct qts_lua_strategy *s, const struct qts_ev_hdr *ev)
{
    switch (ev->type) {
    case QTS_EV_ORDER: return ((const struct qts_order_event *)ev)->strategy_id == s->id;
    case QTS_EV_FILL: return ((const struct qts_fill *)ev)->strategy_id == s->id;
    case QTS_EV_TIMER: return false;
    default: break;
    }
    if (!s->symbols)
        return true;
    for (size_t i = 0; i < s->n_symbols; i++)
        if (s->symbols[i] == ev->instrument)
            return true;
    return false;
}
