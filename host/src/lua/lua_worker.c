/* lua_worker.c — the worker side of the Lua runtime (lua_runtime.h):
 * worker threads, their commands and batches, the busy token and the
 * watchdog that replaces a stuck thread; and the same delivery run inline.
 *
 * Inline (replay). The runtime has one worker struct and no thread: the
 * core calls qts__lua_deliver()/qts__lua_fire_timers() itself and commands
 * run when they are posted. No busy token, no watchdog: a runaway callback
 * is stopped by the strategy's instruction limit (lua_budget.c).
 *
 * Threads (paper, live). Each worker is a struct worker served by one thread at a time.
 * Every entry into Lua is bracketed by a "busy" token (a per-worker
 * sequence number, with the start time and the strategy). The core's
 * watchdog (tick(), and step()/sync() while they wait) abandons a worker
 * thread whose token is older than stuck_ns by swapping the token with a
 * compare-and-swap: the strategy is marked FAILED, its orders are cancelled
 * through the sink, and a fresh thread takes over the same worker (its
 * rings, its other strategies, the batch in progress). The old thread, if
 * its callback ever returns, fails its own compare-and-swap and exits
 * without touching anything. Its lua_State is never used or freed again:
 * the stuck strategy and the old worker memory are kept on a process-wide
 * list, so a late return cannot touch freed memory.
 */
#include "lua_runtime_internal.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "util.h"

/* Memory an abandoned thread may still reach: never freed. */
static pthread_mutex_t g_abandoned_mu = PTHREAD_MUTEX_INITIALIZER;
static void **g_abandoned;
static size_t g_abandoned_n;

void qts__lua_keep_forever(void *p)
{
    pthread_mutex_lock(&g_abandoned_mu);
    g_abandoned = qts_xrealloc(g_abandoned, (g_abandoned_n + 1) * sizeof *g_abandoned);
    g_abandoned[g_abandoned_n++] = p;
    pthread_mutex_unlock(&g_abandoned_mu);
}

int qts__lua_cond_wait_ns(pthread_cond_t *cv, pthread_mutex_t *mu, long ns)
{
    /* condition variables wait on CLOCK_REALTIME (their default attribute) */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += ns;
    if (ts.tv_nsec >= 1000000000) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000;
    }
    return pthread_cond_timedwait(cv, mu, &ts);
}

/* ------------------------------------------------------------------ busy token */

static uint64_t busy_enter(struct qts_lua_worker *w, struct qts_lua_strategy *s)
{
    if (w->rt->inline_run)
        return 0; /* no other thread to watch this one */
    uint64_t tok = ++w->busy_seq;
    atomic_store(&w->busy_strat, s);
    atomic_store(&w->busy_since, qts_mono_ns());
    atomic_store(&w->busy, tok);
    return tok;
}

/* false: this thread was abandoned and must exit without touching anything */
static bool busy_leave(struct qts_lua_worker *w, uint64_t tok)
{
    if (w->rt->inline_run)
        return true;
    uint_fast64_t expect = tok;
    return atomic_compare_exchange_strong(&w->busy, &expect, 0);
}

/* ------------------------------------------------------------------ worker side */

static void remove_from_worker(struct qts_lua_worker *w, struct qts_lua_strategy *s)
{
    for (size_t i = 0; i < w->n_strats; i++)
        if (w->strats[i] == s) {
            memmove(w->strats + i, w->strats + i + 1, (w->n_strats - i - 1) * sizeof *w->strats);
            w->n_strats--;
            return;
        }
}

/* Returns false when the thread was abandoned. */
static bool run_cmd(struct qts_lua_worker *w, struct cmd c)
{
    struct qts_lua_strategy *s = c.s;
    struct qts_err err;
    w->op = OP_CMD;
    uint64_t tok = busy_enter(w, s);
    switch (c.kind) {
    case CMD_OPEN:
        if (qts_lua_strategy_open(s, w->rt->lua_dir, &err) == 0) {
            bool present = false;
            for (size_t i = 0; i < w->n_strats; i++)
                present |= w->strats[i] == s;
            if (!present) {
                if (w->n_strats == w->cap_strats) {
                    w->cap_strats = w->cap_strats ? w->cap_strats * 2 : 8;
                    w->strats = qts_xrealloc(w->strats, w->cap_strats * sizeof *w->strats);
                }
                w->strats[w->n_strats++] = s;
            }
        }
        break;
    case CMD_CLOSE:
        remove_from_worker(w, s);
        qts_lua_strategy_close(s);
        break;
    case CMD_RELOAD: {
        int64_t t0 = qts_mono_ns();
        if (qts_lua_strategy_reload(s, &err) == 0)
            QTS_DEBUG("reload pause name=%s ns=%lld", s->name, (long long)(qts_mono_ns() - t0));
        break;
    }
    default: break;
    }
    if (!busy_leave(w, tok))
        return false;
    if (c.kind == CMD_CLOSE) {
        /* only a running strategy still has orders to cancel: a halted one
         * had them cancelled when it was halted */
        int running = QTS_LUA_ST_RUNNING;
        if (atomic_compare_exchange_strong(&s->state, &running, QTS_LUA_ST_STOPPED)) {
            qts_strlcpy(s->status_reason, "stopped", sizeof s->status_reason);
            atomic_store(&s->cancel_pending, 1);
        }
    }
    w->op = OP_NONE;
    pthread_mutex_lock(&w->mu);
    w->cmd_done++;
    pthread_cond_broadcast(&w->done_cv);
    pthread_mutex_unlock(&w->mu);
    return true;
}

static bool run_cmds(struct qts_lua_worker *w)
{
    for (;;) {
        pthread_mutex_lock(&w->mu);
        if (w->n_cmds == 0) {
            pthread_mutex_unlock(&w->mu);
            return true;
        }
        struct cmd c = w->cmds[0];
        memmove(w->cmds, w->cmds + 1, (w->n_cmds - 1) * sizeof *w->cmds);
        w->n_cmds--;
        pthread_mutex_unlock(&w->mu);
        if (!run_cmd(w, c))
            return false;
    }
}

/* See lua_runtime_internal.h. */
bool qts__lua_deliver(struct qts_lua_worker *w)
{
    struct qts_lua_runtime *rt = w->rt;
    for (; w->op_pos < w->n_strats; w->op_pos++) {
        struct qts_lua_strategy *s = w->strats[w->op_pos];
        if (atomic_load(&s->state) != QTS_LUA_ST_RUNNING)
            continue;
        size_t k = 0, from = 0;
        if (w->op_step) {
            from = (size_t)QTS_MIN(s->lead, (uint64_t)w->op_n);
            s->evno_base = rt->next_evno;
        } else {
            s->evno_base = rt->next_evno ? rt->next_evno - 1 : 0;
        }
        if (w->op_step) {
            s->progress = w->op_n;
            if (s->held && s->lead > 0) {
                /* it stopped on an intent that is not released yet: it
                 * waits until every strategy has caught up and the venue
                 * has answered (see step()) */
                s->progress = (size_t)QTS_MIN(s->lead, (uint64_t)w->op_n);
                continue;
            }
        }
        for (size_t i = from; i < w->op_n; i++)
            if (qts_lua_strategy_wants(s, w->op_evs[i])) {
                w->sel[k] = w->op_evs[i];
                w->sel_idx[k] = w->op_step ? i : 0;
                k++;
            }
        if (k == 0)
            continue;
        s->stop_on_intent = w->op_step;
        uint64_t tok = busy_enter(w, s);
        qts_lua_strategy_dispatch(s, w->sel, w->sel_idx, k);
        if (!busy_leave(w, tok))
            return false;
        /* Stopped on an intent (possibly at its last event): the step is
         * done for this strategy right after that event. */
        if (w->op_step && s->intents_this_event && s->batch_pos > 0) {
            s->progress = s->batch_idx[s->batch_pos - 1] + 1;
            s->held = true;
        }
        s->stop_on_intent = false;
    }
    w->op = OP_NONE;
    return true;
}

/* See lua_runtime_internal.h. */
bool qts__lua_fire_timers(struct qts_lua_worker *w)
{
    int64_t now = qts_clock_now(w->rt->clock);
    for (size_t i = 0; i < w->n_strats; i++) {
        struct qts_lua_strategy *s = w->strats[i];
        bool due = false;
        for (int t = 0; t < QTS_LUA_MAX_TIMERS; t++)
            due |= s->timers[t].used && s->timers[t].due_ns <= now;
        if (!due || atomic_load(&s->state) != QTS_LUA_ST_RUNNING)
            continue;
        s->evno_base = w->rt->next_evno ? w->rt->next_evno - 1 : 0;
        uint64_t tok = busy_enter(w, s);
        qts_lua_strategy_timers(s, now);
        if (!busy_leave(w, tok))
            return false;
    }
    return true;
}

static size_t collect_live(struct qts_lua_worker *w)
{
    size_t n = 0, max = w->rt->set.batch_max;
    struct qts_lua_event *e;
    while (n < max && (e = qts_ring_peek(&w->p0)) != NULL) {
        memcpy(&w->evbuf[n], e, sizeof *e);
        qts_lua_event_fix(&w->evbuf[n]);
        qts_ring_drop(&w->p0);
        n++;
    }
    while (n < max && qts_mdslots_take(&w->md, &w->evbuf[n], qts_lua_event_fix))
        n++;
    for (size_t i = 0; i < n; i++)
        w->ptrs[i] = &w->evbuf[i].u.h;
    return n;
}

bool qts__lua_worker_has_input(struct qts_lua_worker *w)
{
    return qts_ring_count(&w->p0) > 0 || qts_ring_count(&w->md.ready) > 0;
}

static void *worker_main(void *arg)
{
    struct qts_lua_worker *w = arg;
    /* A replacement thread first finishes what the abandoned one left. */
    if (w->op == OP_CMD) {
        w->op = OP_NONE;
        pthread_mutex_lock(&w->mu);
        w->cmd_done++;
        pthread_cond_broadcast(&w->done_cv);
        pthread_mutex_unlock(&w->mu);
    } else if (w->op == OP_DELIVER) {
        if (!qts__lua_deliver(w))
            return NULL;
    }
    for (;;) {
        if (!run_cmds(w))
            return NULL;
        pthread_mutex_lock(&w->mu);
        bool stop = w->stop && w->n_cmds == 0;
        pthread_mutex_unlock(&w->mu);
        if (stop)
            break;
        size_t n = collect_live(w);
        if (n) {
            w->op_evs = w->ptrs;
            w->op_n = n;
            w->op_step = false;
            w->op_pos = 0;
            w->op = OP_DELIVER;
            if (!qts__lua_deliver(w))
                return NULL;
        }
        if (!qts__lua_fire_timers(w))
            return NULL;
        if (n)
            continue;
        /* Idle: sleep until woken (or 1 ms, for timers). */
        pthread_mutex_lock(&w->mu);
        atomic_store(&w->sleeping, 1);
        bool work = w->n_cmds > 0 || w->stop || qts__lua_worker_has_input(w);
        if (!work) {
            pthread_cond_broadcast(&w->done_cv); /* sync() waits for idleness */
            qts__lua_cond_wait_ns(&w->cv, &w->mu, 1000000);
        }
        atomic_store(&w->sleeping, 0);
        pthread_mutex_unlock(&w->mu);
    }
    pthread_mutex_lock(&w->mu);
    w->exited = true;
    pthread_cond_broadcast(&w->done_cv);
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

void qts__lua_worker_wake(struct qts_lua_worker *w)
{
    /* The push before this call and the load below must not be reordered
     * (StoreLoad): paired with the worker's seq_cst store of `sleeping`
     * before it re-checks its queues, one of the two sides sees the other. */
    atomic_thread_fence(memory_order_seq_cst);
    if (atomic_load(&w->sleeping)) {
        pthread_mutex_lock(&w->mu);
        pthread_cond_signal(&w->cv);
        pthread_mutex_unlock(&w->mu);
    }
}

int qts__lua_worker_start(struct qts_lua_worker *w)
{
    pthread_t t;
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
    int rc = pthread_create(&t, &a, worker_main, w);
    pthread_attr_destroy(&a);
    if (rc != 0)
        return QTS_ESYS;
    w->thread = t;
    return 0;
}

/* ------------------------------------------------------------------ lifecycle (core side) */

struct qts_lua_worker *qts__lua_worker_new(struct qts_lua_runtime *rt, int index)
{
    struct qts_lua_worker *w = qts_xcalloc(1, sizeof *w);
    w->rt = rt;
    w->index = index;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    pthread_cond_init(&w->done_cv, NULL);
    atomic_init(&w->sleeping, 0);
    atomic_init(&w->busy, 0);
    atomic_init(&w->busy_since, 0);
    atomic_init(&w->busy_strat, NULL);
    /* inline, events are handed over by pointer: no rings */
    if (!rt->inline_run) {
        qts_ring_init(&w->p0, rt->set.p0_ring_cap, sizeof(struct qts_lua_event));
        qts_mdslots_init(&w->md, (size_t)rt->set.max_instruments * 4, sizeof(struct qts_lua_event));
    }
    size_t bm = QTS_MAX((size_t)rt->set.batch_max, 1);
    w->evbuf = qts_xcalloc(bm, sizeof *w->evbuf);
    w->ptrs = qts_xcalloc(bm, sizeof *w->ptrs);
    w->sel = qts_xcalloc(bm, sizeof *w->sel);
    w->sel_idx = qts_xcalloc(bm, sizeof *w->sel_idx);
    w->sel_cap = bm;
    return w;
}

void qts__lua_worker_reserve(struct qts_lua_worker *w, size_t n)
{
    /* inline steps may exceed batch_max */
    if (n <= w->sel_cap)
        return;
    w->sel_cap = n;
    w->sel = qts_xrealloc(w->sel, n * sizeof *w->sel);
    w->sel_idx = qts_xrealloc(w->sel_idx, n * sizeof *w->sel_idx);
}

void qts__lua_worker_free(struct qts_lua_worker *w)
{
    qts_ring_cleanup(&w->p0);
    qts_mdslots_cleanup(&w->md);
    qts_free_all(w->backlog, w->evbuf, w->ptrs, w->sel, w->sel_idx, w->strats, w->cmds);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    pthread_cond_destroy(&w->done_cv);
    free(w);
}

void qts__lua_worker_post_cmd(struct qts_lua_worker *w, int kind, struct qts_lua_strategy *s)
{
    if (w->rt->inline_run) {
        /* no thread: the command runs now, between two steps */
        w->cmd_posted++;
        run_cmd(w, (struct cmd){kind, s});
        return;
    }
    pthread_mutex_lock(&w->mu);
    if (w->n_cmds == w->cap_cmds) {
        w->cap_cmds = w->cap_cmds ? w->cap_cmds * 2 : 8;
        w->cmds = qts_xrealloc(w->cmds, w->cap_cmds * sizeof *w->cmds);
    }
    w->cmds[w->n_cmds++] = (struct cmd){kind, s};
    w->cmd_posted++;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

/* ------------------------------------------------------------------ watchdog */

static void replace_thread(struct qts_lua_runtime *rt, struct qts_lua_worker *w,
                           struct qts_lua_strategy *s, int64_t ran_ns)
{
    char why[200];
    snprintf(why, sizeof why, "stuck in a callback for %.3f s (deadline %.3f s): thread abandoned",
             (double)ran_ns / 1e9, (double)rt->set.stuck_ns / 1e9);
    /* The old thread is still inside s's lua_State; halt() only writes atomics. */
    qts_lua_strategy_halt(s, QTS_LUA_ST_FAILED, why);
    qts_strlcpy(s->last_error, why, sizeof s->last_error);
    rt->m.failed++;
    rt->m.workers_replaced++;
    w->abandoned_thread = true;
    /* The stuck strategy must never be freed: the old thread owns its stack. */
    remove_from_worker(w, s);
    qts__lua_keep_forever(s);
    /* The abandoned thread may spin forever: give it only idle CPU time. */
    struct sched_param sp = {0};
    if (pthread_setschedparam(w->thread, SCHED_IDLE, &sp) != 0)
        QTS_WARN("lua runtime: cannot lower the priority of the abandoned thread");
    if (qts__lua_worker_start(w) != 0)
        QTS_ERROR("lua runtime: cannot start replacement thread for worker %d", w->index);
    else
        QTS_WARN("lua runtime: worker %d continues on a new thread without strategy %s", w->index,
                 s->name);
}

void qts__lua_check_stuck(struct qts_lua_runtime *rt)
{
    int64_t now = qts_mono_ns();
    for (uint32_t i = 0; i < rt->n_workers; i++) {
        struct qts_lua_worker *w = rt->workers[i];
        uint_fast64_t tok = atomic_load(&w->busy);
        if (tok == 0)
            continue;
        int64_t since = atomic_load(&w->busy_since);
        struct qts_lua_strategy *s = atomic_load(&w->busy_strat);
        if (now - since < rt->set.stuck_ns)
            continue;
        uint_fast64_t expect = tok;
        if (!atomic_compare_exchange_strong(&w->busy, &expect, 0))
            continue; /* it returned just now */
        /* This thread now owns the worker until the new thread starts. The
         * old thread keeps the token it knows; its CAS will fail. Mark the
         * worker struct of the abandoned thread as forever-reachable. */
        w->busy_seq += 1u << 20; /* the old thread's tokens never come back */
        replace_thread(rt, w, s, now - since);
    }
}
