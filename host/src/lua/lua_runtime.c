/* lua_runtime.c — see lua_runtime.h. The core-thread side: lifecycle,
 * instruments and strategies, events in (post, lockstep step, back-pressure
 * backlog), intents out (drain), tick, sync and status. Worker threads and
 * the watchdog are in lua_worker.c, reload and file watch in lua_reload.c. */
#include "lua_runtime_internal.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "build_info.h"
#include "config_tree.h"
#include "log.h"
#include "util.h"

/* The prelude next to the running binary (<prefix>/bin/qts finds
 * <prefix>/share/qts/lua, wherever the prefix was installed or moved), else
 * the build tree's, else the configured install prefix's. */
static const char *default_lua_dir(char *buf, size_t cap)
{
    struct stat st;
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = '\0';
            char probe[PATH_MAX + 40];
            snprintf(probe, sizeof probe, "%s/../share/qts/lua/qts/host.lua", exe);
            if (stat(probe, &st) == 0 &&
                (size_t)snprintf(buf, cap, "%s/../share/qts/lua", exe) < cap)
                return buf;
        }
    }
    if (stat(QTS_LUA_DIR_BUILD "/qts/host.lua", &st) == 0)
        return QTS_LUA_DIR_BUILD;
    return QTS_LUA_DIR_INSTALL;
}

int qts_lua_runtime_new(const struct qts_lua_settings *set, struct qts_lua_runtime **out,
                        struct qts_err *err)
{
    *out = NULL;
    if (!set || !set->sink.submit_intent || !set->sink.cancel || !set->sink.cancel_all)
        return qts_err_set(err, QTS_EINVAL,
                           "lua runtime: sink needs submit_intent, cancel, cancel_all");
    struct qts_lua_runtime *rt = qts_xcalloc(1, sizeof *rt);
    rt->op_state = 1; /* BALANCED until the Decide stage says otherwise */
    rt->set = *set;
    if (!rt->set.n_workers)
        rt->set.n_workers = 1;
    if (!rt->set.max_instruments)
        rt->set.max_instruments = 1024;
    if (!rt->set.p0_ring_cap)
        rt->set.p0_ring_cap = 4096;
    if (!rt->set.batch_max)
        rt->set.batch_max = 256;
    if (!rt->set.stuck_ns)
        rt->set.stuck_ns = INT64_C(2000000000);
    if (!rt->set.scan_interval_ns)
        rt->set.scan_interval_ns = INT64_C(500000000);
    char found[PATH_MAX];
    qts_strlcpy(rt->lua_dir, set->lua_dir ? set->lua_dir : default_lua_dir(found, sizeof found),
                sizeof rt->lua_dir);
    rt->set.lua_dir = rt->lua_dir;
    qts_clock_init(&rt->own_clock, QTS_CLOCK_MONOTONIC);
    rt->clock = set->clock ? set->clock : &rt->own_clock;
    rt->inst.cap = rt->set.max_instruments;
    rt->inst.v = qts_xcalloc(rt->inst.cap, sizeof *rt->inst.v);
    rt->inst.pos_of_id = qts_xcalloc(rt->inst.cap, sizeof *rt->inst.pos_of_id);
    atomic_init(&rt->inst.n, 0);
    if (!rt->set.max_instructions)
        rt->set.max_instructions = QTS_LUA_MAX_INSTRUCTIONS_DEFAULT;
    rt->next_evno = 1;
    /* Replay runs every strategy on the core thread (docs/adr/0006): one
     * worker struct, no thread, whatever n_workers says. */
    rt->inline_run = rt->set.lockstep;
    rt->n_workers = rt->inline_run ? 1 : rt->set.n_workers;
    rt->workers = qts_xcalloc(rt->n_workers, sizeof *rt->workers);
    for (uint32_t i = 0; i < rt->n_workers; i++) {
        rt->workers[i] = qts__lua_worker_new(rt, (int)i);
        if (!rt->inline_run && qts__lua_worker_start(rt->workers[i]) != 0) {
            qts_lua_runtime_free(rt);
            return qts_err_set(err, QTS_ESYS, "lua runtime: cannot start worker thread");
        }
    }
    *out = rt;
    return 0;
}

int qts_lua_runtime_add_instrument(struct qts_lua_runtime *rt, const struct qts_instrument *in)
{
    size_t n = atomic_load(&rt->inst.n);
    if (in->id >= rt->set.max_instruments || n >= rt->inst.cap)
        return QTS_ERANGE;
    for (size_t i = 0; i < n; i++)
        if (rt->inst.v[i].id == in->id || strcmp(rt->inst.v[i].symbol, in->symbol) == 0)
            return QTS_EEXIST;
    rt->inst.v[n] = *in;
    rt->inst.v[n].struct_size = sizeof *in;
    rt->inst.pos_of_id[in->id] = (uint32_t)n + 1;
    atomic_store_explicit(&rt->inst.n, n + 1, memory_order_release);
    return 0;
}

int qts_lua_runtime_add_strategy(struct qts_lua_runtime *rt, const struct qts_lua_strategy_conf *c,
                                 uint32_t *id_out, struct qts_err *err)
{
    if (!c || !c->name || !c->file)
        return qts_err_set(err, QTS_EINVAL, "strategy needs a name and a file");
    if (c->n_params > QTS_LUA_MAX_PARAMS)
        return qts_err_set(err, QTS_EINVAL, "strategy %s: too many params", c->name);
    uint32_t *ids = NULL;
    if (c->n_symbols) {
        ids = qts_xcalloc(c->n_symbols, sizeof *ids);
        size_t n = atomic_load(&rt->inst.n);
        for (size_t i = 0; i < c->n_symbols; i++) {
            size_t k = 0;
            while (k < n && strcmp(rt->inst.v[k].symbol, c->symbols[i]) != 0)
                k++;
            if (k == n) {
                free(ids);
                return qts_err_set(err, QTS_EINVAL, "strategy %s: unknown symbol %s", c->name,
                                   c->symbols[i]);
            }
            ids[i] = rt->inst.v[k].id;
        }
    }
    uint32_t id = (uint32_t)rt->n_strats + 1;
    struct qts_lua_strategy *s = qts_lua_strategy_new(id, c->name, c->file, &rt->inst, rt->clock);
    s->symbols = ids;
    s->n_symbols = c->n_symbols;
    s->history = rt->set.history;
    for (size_t i = 0; i < c->n_params; i++)
        s->params[i] = c->params[i];
    s->n_params = c->n_params;
    if (c->mem_limit)
        s->mem_limit = c->mem_limit;
    if (c->budget_ns)
        s->budget_ns = c->budget_ns;
    if (c->error_limit)
        s->error_limit = c->error_limit;
    if (c->error_window_ns)
        s->error_window_ns = c->error_window_ns;
    /* rounded, not truncated: the engine hands over the portfolio's units
     * divided by 10^6, and x * 1e6 may land just below the integer */
    s->initial_cash = (int64_t)llround(c->initial_cash * (double)qts_pow10_i64[QTS_CASH_EXP]);
    s->event_time = rt->set.lockstep;
    /* inline, nothing can take the core back from a runaway callback but
     * the strategy's own instruction count (lua_budget.c) */
    s->max_instructions = rt->inline_run && rt->set.max_instructions != QTS_LUA_NO_INSTRUCTION_LIMIT
                              ? rt->set.max_instructions
                              : 0;
    /* worker: pinned, or the least loaded */
    uint32_t wi = 0;
    if (c->worker >= 0) {
        wi = (uint32_t)c->worker % rt->n_workers;
    } else {
        for (uint32_t i = 1; i < rt->n_workers; i++)
            if (rt->workers[i]->n_assigned < rt->workers[wi]->n_assigned)
                wi = i;
    }
    s->worker_index = (int)wi;
    rt->workers[wi]->n_assigned++;
    if (rt->n_strats == rt->cap_strats) {
        rt->cap_strats = rt->cap_strats ? rt->cap_strats * 2 : 8;
        rt->strats = qts_xrealloc(rt->strats, rt->cap_strats * sizeof *rt->strats);
        rt->files = qts_xrealloc(rt->files, rt->cap_strats * sizeof *rt->files);
    }
    atomic_store(&s->op_state, rt->op_state);
    s->pools = &rt->pools;
    rt->strats[rt->n_strats] = s;
    memset(&rt->files[rt->n_strats], 0, sizeof rt->files[0]);
    qts__lua_file_stat(s->path, &rt->files[rt->n_strats].mtime_ns, &rt->files[rt->n_strats].size,
                       &rt->files[rt->n_strats].ino, &rt->files[rt->n_strats].present);
    rt->n_strats++;
    if (rt->files[id - 1].present)
        qts__lua_worker_post_cmd(rt->workers[wi], CMD_OPEN, s);
    else
        QTS_INFO("strategy waiting for its file name=%s file=%s", s->name, s->path);
    if (id_out)
        *id_out = id;
    return 0;
}

static void flush_backlog(struct qts_lua_worker *w)
{
    while (w->bl_n) {
        if (qts_ring_push(&w->p0, &w->backlog[w->bl_head]) != 0)
            break;
        w->bl_head = (w->bl_head + 1) % w->bl_cap;
        w->bl_n--;
    }
    if (w->bl_n == 0)
        w->bl_head = 0;
}

static void backlog_push(struct qts_lua_worker *w, const struct qts_lua_event *e)
{
    if (w->bl_n == w->bl_cap) {
        size_t cap = w->bl_cap ? w->bl_cap * 2 : 64;
        struct qts_lua_event *nb = qts_xmalloc(cap * sizeof *nb);
        for (size_t i = 0; i < w->bl_n; i++)
            nb[i] = w->backlog[(w->bl_head + i) % w->bl_cap];
        free(w->backlog);
        w->backlog = nb;
        w->bl_cap = cap;
        w->bl_head = 0;
    }
    w->backlog[(w->bl_head + w->bl_n) % w->bl_cap] = *e;
    w->bl_n++;
}

static void notify_state(struct qts_lua_runtime *rt, struct qts_lua_strategy *s)
{
    int st = atomic_load(&s->state);
    if (st == QTS_LUA_ST_HALTED)
        rt->m.halted++;
    else if (st == QTS_LUA_ST_FAILED && rt->inline_run)
        rt->m.failed++; /* its instruction limit (threads: counted by the watchdog) */
    rt->set.sink.cancel_all(rt->set.sink.ctx, s->id);
    if (rt->set.sink.strategy_state)
        rt->set.sink.strategy_state(rt->set.sink.ctx, s->id, st, s->status_reason);
}

int qts_lua_runtime_tick(struct qts_lua_runtime *rt)
{
    qts__lua_check_stuck(rt);
    if (rt->set.scan_interval_ns > 0) {
        int64_t now = qts_mono_ns();
        if (now >= rt->next_scan_ns) {
            rt->next_scan_ns = now + rt->set.scan_interval_ns;
            qts_lua_runtime_scan(rt);
        }
    }
    for (uint32_t i = 0; i < rt->n_workers; i++)
        if (rt->workers[i]->bl_n) {
            flush_backlog(rt->workers[i]);
            qts__lua_worker_wake(rt->workers[i]);
        }
    return qts_lua_runtime_drain(rt);
}

/* ------------------------------------------------------------------ events */

/* Replay: the strategies take the events on this (the core) thread, in
 * the core's order: no hand-off, nothing to wait for. step: due timers
 * fire first, then the step rules of lua_runtime.h apply. */
static void run_inline(struct qts_lua_runtime *rt, const struct qts_ev_hdr *const *evs, size_t n,
                       bool step)
{
    struct qts_lua_worker *w = rt->workers[0];
    qts__lua_worker_reserve(w, n);
    if (step)
        qts__lua_fire_timers(w);
    w->op_evs = evs;
    w->op_n = n;
    w->op_step = step;
    w->op_pos = 0;
    w->op = OP_DELIVER;
    qts__lua_deliver(w);
    w->op_evs = NULL; /* borrowed for this call only */
}

int qts_lua_runtime_step(struct qts_lua_runtime *rt, const struct qts_ev_hdr *const *evs, size_t n,
                         size_t *consumed)
{
    *consumed = 0;
    if (!rt->set.lockstep)
        return QTS_ESTATE;
    if (n == 0)
        return 0;
    /* Timers run on data time. Due ones fire first, in a step of their own
     * (consumed = 0): what they send reaches the venue before the events.
     * Then the batch ends before the next due time, so a timer fires before
     * the same event whatever the batch size. */
    int64_t now = qts_clock_now(rt->clock), next_due = INT64_MAX;
    bool due_now = false;
    for (size_t i = 0; i < rt->n_strats; i++) {
        struct qts_lua_strategy *s = rt->strats[i];
        if (atomic_load(&s->state) != QTS_LUA_ST_RUNNING)
            continue;
        for (int t = 0; t < QTS_LUA_MAX_TIMERS; t++) {
            if (!s->timers[t].used)
                continue;
            if (s->timers[t].due_ns <= now)
                due_now = true;
            else if (s->timers[t].due_ns < next_due)
                next_due = s->timers[t].due_ns;
        }
    }
    if (due_now) {
        run_inline(rt, evs, 0, true);
        return 0;
    }
    if (next_due != INT64_MAX) {
        size_t cut = 1;
        while (cut < n && evs[cut]->ts_exch_ns < next_due)
            cut++;
        n = cut;
    }
    run_inline(rt, evs, n, true);
    size_t c = n;
    for (size_t i = 0; i < rt->n_strats; i++) {
        struct qts_lua_strategy *s = rt->strats[i];
        if (atomic_load(&s->state) == QTS_LUA_ST_RUNNING && s->progress < c)
            c = s->progress;
    }
    for (size_t i = 0; i < rt->n_strats; i++) {
        struct qts_lua_strategy *s = rt->strats[i];
        uint64_t done = s->progress > s->lead ? s->progress : s->lead;
        s->lead = done > c ? done - c : 0;
        if (s->lead == 0)
            s->held = false; /* its intents are released by this step */
        s->progress = 0;
    }
    rt->next_evno += c;
    rt->m.md_posted += c;
    *consumed = c;
    return 0;
}

int qts_lua_runtime_post(struct qts_lua_runtime *rt, const struct qts_ev_hdr *ev)
{
    if (!ev || ev->type == QTS_EV_NONE || ev->type > QTS_EV_FEEDBACK || ev->type == QTS_EV_TIMER)
        return QTS_EINVAL;
    bool p0 = ev->type == QTS_EV_ORDER || ev->type == QTS_EV_FILL || ev->type == QTS_EV_FEEDBACK;
    if (rt->set.lockstep) {
        if (p0) {
            /* the strategy it concerns takes it now (qts_lua_strategy_wants) */
            rt->m.p0_posted++;
            run_inline(rt, &ev, 1, false);
            return 0;
        }
        /* market data through post() in replay: a one-event step; when
         * due timers fired first, their intents go to the sink before the
         * event (step() callers do this themselves) */
        size_t used = 0;
        int rc;
        while ((rc = qts_lua_runtime_step(rt, &ev, 1, &used)) == 0 && used == 0)
            qts_lua_runtime_drain(rt);
        return rc;
    }
    struct qts_lua_event e;
    int rc = qts_lua_event_copy(&e, ev);
    if (rc != 0)
        return rc;
    if (p0) {
        uint32_t sid = ev->type == QTS_EV_ORDER  ? ((const struct qts_order_event *)ev)->strategy_id
                       : ev->type == QTS_EV_FILL ? ((const struct qts_fill *)ev)->strategy_id
                                                 : 0;
        struct qts_lua_strategy *s = sid ? qts__lua_strat_by_id(rt, sid) : NULL;
        rt->m.p0_posted++;
        for (uint32_t i = 0; i < rt->n_workers; i++) {
            struct qts_lua_worker *w = rt->workers[i];
            if (s ? (int)i != s->worker_index : w->n_assigned == 0)
                continue;
            flush_backlog(w);
            if (w->bl_n || qts_ring_push(&w->p0, &e) != 0) {
                backlog_push(w, &e);
                rt->m.p0_backlogged++;
                if (w->bl_n > rt->m.p0_backlog_max)
                    rt->m.p0_backlog_max = w->bl_n;
            }
            qts__lua_worker_wake(w);
        }
        return 0;
    }
    if (ev->instrument >= rt->set.max_instruments)
        return QTS_ERANGE;
    if (ev->type == QTS_EV_BOOK && !(ev->flags & QTS_BOOK_SNAPSHOT))
        return QTS_EINVAL; /* conflation needs depth snapshots (see header) */
    uint32_t key = ev->instrument * 4 + (uint32_t)(ev->type - QTS_EV_TRADE);
    rt->m.md_posted++;
    for (uint32_t i = 0; i < rt->n_workers; i++) {
        struct qts_lua_worker *w = rt->workers[i];
        if (w->n_assigned == 0)
            continue;
        qts_mdslots_put(&w->md, key, &e, sizeof e, qts_lua_event_fix);
        qts__lua_worker_wake(w);
    }
    return 0;
}

/* ------------------------------------------------------------------ intents */

static void deliver_reject(struct qts_lua_runtime *rt, struct qts_lua_strategy *s,
                           const struct qts_order_intent *in, int code)
{
    struct qts_order_event oe;
    memset(&oe, 0, sizeof oe);
    oe.h.struct_size = sizeof oe;
    oe.h.type = QTS_EV_ORDER;
    oe.h.instrument = in->instrument;
    oe.h.ts_exch_ns = oe.h.ts_recv_ns = qts_clock_now(rt->clock);
    oe.order_id = in->order_id;
    oe.strategy_id = s->id;
    oe.kind = QTS_OE_REJECTED;
    oe.side = in->side;
    oe.state = QTS_OS_REJECTED;
    oe.code = code;
    oe.leaves_qty = in->qty;
    snprintf(oe.reason, sizeof oe.reason, "%s", qts_strerror(code));
    memcpy(oe.tag, in->tag, sizeof oe.tag);
    size_t n = atomic_load(&rt->inst.n);
    for (size_t i = 0; i < n; i++)
        if (rt->inst.v[i].id == in->instrument) {
            oe.h.px_exp = rt->inst.v[i].px_exp;
            oe.h.qty_exp = rt->inst.v[i].qty_exp;
        }
    qts_lua_runtime_post(rt, &oe.h);
}

/* The intents of one drain, held for the sink's submit_batch. */
struct drain_batch {
    struct qts_order_intent in[QTS_LUA_DRAIN_BATCH];
    const struct qts_order_intent *ptr[QTS_LUA_DRAIN_BATCH];
    struct qts_lua_strategy *from[QTS_LUA_DRAIN_BATCH];
    int rc[QTS_LUA_DRAIN_BATCH];
    size_t n;
};

static void flush_drain_batch(struct qts_lua_runtime *rt, struct drain_batch *b)
{
    if (!b->n)
        return;
    rt->set.sink.submit_batch(rt->set.sink.ctx, b->ptr, b->n, b->rc);
    for (size_t i = 0; i < b->n; i++)
        if (b->rc[i] < 0) {
            rt->m.rejected_by_sink++;
            deliver_reject(rt, b->from[i], &b->in[i], b->rc[i]);
        }
    b->n = 0;
}

void qts_lua_runtime_set_operating_state(struct qts_lua_runtime *rt, int op_state)
{
    rt->op_state = op_state;
    for (size_t i = 0; i < rt->n_strats; i++)
        atomic_store(&rt->strats[i]->op_state, op_state);
}

void qts_lua_runtime_set_pools(struct qts_lua_runtime *rt, bool on, const int *state,
                               const int64_t *capital, const int64_t *available)
{
    for (int k = 0; on && k < 3; k++) {
        atomic_store_explicit(&rt->pools.state[k], state[k], memory_order_relaxed);
        atomic_store_explicit(&rt->pools.capital[k], capital[k], memory_order_relaxed);
        atomic_store_explicit(&rt->pools.available[k], available[k], memory_order_relaxed);
    }
    atomic_store_explicit(&rt->pools.on, on, memory_order_relaxed);
}

/* After a drain: each strategy's finished cycle to the sink's cycle. */
static void hand_cycles(struct qts_lua_runtime *rt, int64_t decide_ns)
{
    for (size_t i = 0; i < rt->n_strats; i++) {
        struct qts_lua_strategy *s = rt->strats[i];
        if (!atomic_load_explicit(&s->cyc_pending, memory_order_acquire))
            continue;
        struct qts_lua_cycle c = s->cyc_rec;
        atomic_store_explicit(&s->cyc_pending, 0, memory_order_release);
        rt->set.sink.cycle(rt->set.sink.ctx, &c, decide_ns);
    }
}

int qts_lua_runtime_end(struct qts_lua_runtime *rt, const char *reason)
{
    if (!rt->inline_run)
        return QTS_ESTATE; /* workers own their lua_States */
    int n = 0;
    for (size_t i = 0; i < rt->n_strats; i++)
        if (atomic_load(&rt->strats[i]->state) == QTS_LUA_ST_RUNNING &&
            qts_lua_strategy_end(rt->strats[i], reason) == 0)
            n++;
    return n;
}

static int drain(struct qts_lua_runtime *rt);

int qts_lua_runtime_drain(struct qts_lua_runtime *rt)
{
    if (!rt->set.sink.cycle)
        return drain(rt);
    int64_t t0 = qts_mono_ns();
    int n = drain(rt);
    hand_cycles(rt, qts_mono_ns() - t0);
    return n;
}

static int drain(struct qts_lua_runtime *rt)
{
    int count = 0;
    /* on the stack (about 10 KB): a broker answering inside a submit
     * drains again, and that drain has its own batch */
    struct drain_batch batch;
    batch.n = 0;
    struct drain_batch *b = rt->set.sink.submit_batch ? &batch : NULL;
    for (size_t i = 0; i < rt->n_strats; i++) {
        struct qts_lua_strategy *s = rt->strats[i];
        if (atomic_load(&s->state) != QTS_LUA_ST_RUNNING) {
            /* intents of a halted, failed or stopped strategy are never
             * submitted (the consumer side may drop them) */
            while (qts_ring_peek(&s->intents))
                qts_ring_drop(&s->intents);
            if (atomic_exchange(&s->cancel_pending, 0))
                notify_state(rt, s);
            continue;
        }
        /* only what was queued when drain started: a strategy answering a
         * rejection with a new order cannot keep this loop going */
        size_t budget = qts_ring_count(&s->intents);
        struct qts_lua_msg *m;
        while (budget-- > 0 && (m = qts_ring_peek(&s->intents)) != NULL) {
            if (rt->set.lockstep && m->evno >= rt->next_evno)
                break; /* produced ahead of the step: released in event order */
            struct qts_lua_msg msg = *m;
            qts_ring_drop(&s->intents);
            count++;
            if (msg.kind == QTS_LUA_MSG_ORDER && b) {
                rt->m.intents++;
                if (b->n == QTS_LUA_DRAIN_BATCH)
                    flush_drain_batch(rt, b);
                b->in[b->n] = msg.intent;
                b->ptr[b->n] = &b->in[b->n];
                b->from[b->n++] = s;
            } else if (msg.kind == QTS_LUA_MSG_ORDER) {
                rt->m.intents++;
                int rc = rt->set.sink.submit_intent(rt->set.sink.ctx, &msg.intent);
                if (rc < 0) {
                    rt->m.rejected_by_sink++;
                    deliver_reject(rt, s, &msg.intent, rc);
                }
            } else {
                if (b) /* the orders asked before the cancel go first */
                    flush_drain_batch(rt, b);
                rt->m.cancels++;
                rt->set.sink.cancel(rt->set.sink.ctx, msg.strategy_id, msg.order_id);
            }
        }
    }
    if (b)
        flush_drain_batch(rt, b);
    return count;
}

/* ------------------------------------------------------------------ sync, info */

int qts_lua_runtime_sync(struct qts_lua_runtime *rt, int64_t timeout_ns)
{
    if (rt->inline_run)
        return 0; /* everything ran before the call that asked for it returned */
    int64_t deadline = qts_mono_ns() + timeout_ns;
    for (uint32_t i = 0; i < rt->n_workers; i++) {
        struct qts_lua_worker *w = rt->workers[i];
        for (;;) {
            pthread_mutex_lock(&w->mu);
            bool idle = w->cmd_done == w->cmd_posted && !qts__lua_worker_has_input(w) &&
                        w->bl_n == 0 && atomic_load(&w->busy) == 0 && atomic_load(&w->sleeping);
            if (!idle)
                qts__lua_cond_wait_ns(&w->done_cv, &w->mu, 2000000);
            pthread_mutex_unlock(&w->mu);
            if (idle)
                break;
            qts__lua_check_stuck(rt);
            if (w->bl_n) {
                flush_backlog(w);
                qts__lua_worker_wake(w);
            }
            if (qts_mono_ns() > deadline)
                return QTS_ETIMEDOUT;
        }
    }
    return 0;
}

int qts_lua_params_from_cfg(const struct qts_cfg_node *params, struct qts_lua_param *out,
                            size_t cap, struct qts_err *err)
{
    if (!params || qts_cfg_type(params) == QTS_CFG_NULL)
        return 0;
    const char *file;
    int line, col;
    qts_cfg_where(params, &file, &line, &col);
    if (qts_cfg_type(params) != QTS_CFG_MAP)
        return qts_err_set(err, QTS_ECONFIG, "%s:%d:%d: params must be a map", file, line, col);
    size_t n = qts_cfg_len(params);
    for (size_t i = 0; i < n; i++) {
        const struct qts_cfg_node *v = qts_cfg_at(params, i);
        const char *key = qts_cfg_key_at(params, i);
        qts_cfg_where(v, &file, &line, &col);
        if (i >= cap)
            return qts_err_set(err, QTS_ECONFIG, "%s:%d:%d: params: more than %zu keys", file, line,
                               col, cap);
        if (qts_cfg_type(v) != QTS_CFG_SCALAR && qts_cfg_type(v) != QTS_CFG_NULL)
            return qts_err_set(err, QTS_ECONFIG, "%s:%d:%d: params.%s: only scalar values", file,
                               line, col, key);
        const char *val = qts_cfg_str(v);
        if (strlen(key) >= sizeof out[i].key || (val && strlen(val) >= sizeof out[i].value))
            return qts_err_set(err, QTS_ECONFIG, "%s:%d:%d: params.%s: key or value too long", file,
                               line, col, key);
        qts_strlcpy(out[i].key, key, sizeof out[i].key);
        qts_strlcpy(out[i].value, val ? val : "", sizeof out[i].value);
    }
    return (int)n;
}

int qts_lua_runtime_info(struct qts_lua_runtime *rt, uint32_t id, struct qts_lua_strategy_info *out)
{
    struct qts_lua_strategy *s = qts__lua_strat_by_id(rt, id);
    if (!s)
        return QTS_ENOENT;
    memset(out, 0, sizeof *out);
    out->id = id;
    out->state = atomic_load(&s->state);
    out->worker = s->worker_index;
    out->events = atomic_load(&s->n_events);
    out->callbacks = atomic_load(&s->n_callbacks);
    out->errors = atomic_load(&s->n_errors);
    out->budget_over = atomic_load(&s->n_budget_over);
    out->reloads = atomic_load(&s->n_reloads);
    out->reload_failures = atomic_load(&s->n_reload_fail);
    out->intents_full = atomic_load(&s->n_intents_full);
    for (size_t i = 0; i <= QTS_LUA_CB_BUCKETS; i++)
        out->cb_buckets[i] = atomic_load_explicit(&s->cb_buckets[i], memory_order_relaxed);
    out->cb_ns_sum = atomic_load_explicit(&s->cb_ns_sum, memory_order_relaxed);
    out->mem_used = s->mem_used;
    out->mem_peak = s->mem_peak;
    /* written by the worker before the state/counter it follows; callers
     * read these after sync() */
    qts_strlcpy(out->last_error, s->last_error, sizeof out->last_error);
    qts_strlcpy(out->reason, s->status_reason, sizeof out->reason);
    return 0;
}

void qts_lua_runtime_metrics(struct qts_lua_runtime *rt, struct qts_lua_metrics *out)
{
    *out = rt->m;
    out->md_conflated = 0;
    for (uint32_t i = 0; i < rt->n_workers; i++)
        out->md_conflated += atomic_load(&rt->workers[i]->md.conflated);
}

/* ------------------------------------------------------------------ free */

void qts_lua_runtime_free(struct qts_lua_runtime *rt)
{
    if (!rt)
        return;
    qts_lua_runtime_unwatch(rt);
    /* stop every running strategy on its own worker, then the threads */
    for (size_t i = 0; i < rt->n_strats; i++) {
        struct qts_lua_strategy *s = rt->strats[i];
        int st = atomic_load(&s->state);
        if (st == QTS_LUA_ST_RUNNING || st == QTS_LUA_ST_HALTED)
            qts__lua_worker_post_cmd(qts__lua_worker_of(rt, s), CMD_CLOSE, s);
    }
    qts_lua_runtime_sync(rt, rt->set.stuck_ns * 2);
    bool abandoned_any = false;
    for (uint32_t i = 0; i < rt->n_workers; i++) {
        struct qts_lua_worker *w = rt->workers[i];
        if (rt->inline_run) {
            w->exited = true; /* there is no thread */
            continue;
        }
        pthread_mutex_lock(&w->mu);
        w->stop = true;
        pthread_cond_signal(&w->cv);
        pthread_mutex_unlock(&w->mu);
    }
    /* Detached threads: wait until each has left its loop (busy == 0 and no
     * further wake-ups needed); a stuck one keeps its worker forever. */
    for (uint32_t i = 0; i < rt->n_workers; i++) {
        struct qts_lua_worker *w = rt->workers[i];
        int64_t until = qts_mono_ns() + rt->set.stuck_ns * 2;
        for (;;) {
            pthread_mutex_lock(&w->mu);
            bool gone = w->exited;
            pthread_mutex_unlock(&w->mu);
            if (gone)
                break;
            if (qts_mono_ns() > until) {
                w->leak = true;
                break;
            }
            struct timespec ts = {0, 1000000};
            nanosleep(&ts, NULL);
        }
        abandoned_any |= w->abandoned_thread;
    }
    for (uint32_t i = 0; i < rt->n_workers; i++) {
        struct qts_lua_worker *w = rt->workers[i];
        if (w->leak || w->abandoned_thread)
            qts__lua_keep_forever(w);
        else
            qts__lua_worker_free(w);
    }
    (void)abandoned_any;
    for (size_t i = 0; i < rt->n_strats; i++) {
        struct qts_lua_strategy *s = rt->strats[i];
        if (atomic_load(&s->state) == QTS_LUA_ST_FAILED && !rt->inline_run)
            continue; /* kept forever (see replace_thread) */
        qts_lua_strategy_free(s);
    }
    free(rt->strats);
    free(rt->files);
    free(rt->workers);
    if (!abandoned_any)
        free(rt->inst.v), free(rt->inst.pos_of_id);
    else
        qts__lua_keep_forever(rt->inst.v), qts__lua_keep_forever(rt->inst.pos_of_id);
    if (abandoned_any)
        qts__lua_keep_forever(rt);
    else
        free(rt);
}
