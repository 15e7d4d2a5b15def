/* lua_runtime.c — see lua_runtime.h.
 *
 * Threads. Each worker is a struct worker served by one thread at a time.
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
#include "lua_runtime.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <uv.h>

#include "build_info.h"
#include "clock.h"
#include "config_tree.h"
#include "log.h"
#include "util.h"

enum cmd_kind { CMD_OPEN = 1, CMD_CLOSE = 2, CMD_RELOAD = 3 };
struct cmd {
    int kind;
    struct qts_lua_strategy *s;
};

enum op_kind { OP_NONE = 0, OP_DELIVER = 1, OP_CMD = 2 };

struct worker {
    struct qts_lua_runtime *rt;
    int index;
    pthread_mutex_t mu;
    pthread_cond_t cv;       /* wakes the worker */
    pthread_cond_t done_cv;  /* worker -> core: job or command finished */
    atomic_int sleeping;
    bool stop;               /* under mu */

    /* strategies pinned here (worker thread only, except at free) */
    struct qts_lua_strategy **strats;
    size_t n_strats, cap_strats;
    size_t n_assigned;       /* core side count */

    /* commands (under mu) */
    struct cmd *cmds;
    size_t n_cmds, cap_cmds;
    uint64_t cmd_posted, cmd_done; /* under mu */

    /* live inputs */
    struct qts_ring p0;      /* struct qts_lua_event */
    struct qts_mdslots md;
    struct qts_lua_event *backlog; /* core side, FIFO */
    size_t bl_head, bl_n, bl_cap;

    /* batch storage (worker thread) */
    struct qts_lua_event *evbuf;
    const struct qts_ev_hdr **ptrs;
    const struct qts_ev_hdr **sel;
    size_t *sel_idx;

    /* lockstep job (under mu for seq numbers) */
    const struct qts_ev_hdr *const *job_evs;
    size_t job_n;
    bool job_step;           /* step (stop on intent, leads) vs post */
    uint64_t job_seq, job_done;
    atomic_uint_fast64_t job_seq_a, job_done_a; /* copies for spinning without mu */

    /* operation in progress, for a replacement thread to resume */
    int op;
    const struct qts_ev_hdr *const *op_evs;
    size_t op_n;
    bool op_step;
    size_t op_pos;           /* next strategy index */

    /* watchdog token */
    atomic_uint_fast64_t busy;
    atomic_int_fast64_t busy_since;
    _Atomic(struct qts_lua_strategy *) busy_strat;
    uint64_t busy_seq;
    pthread_t thread;        /* the serving thread (detached) */
    size_t sel_cap;
    bool exited;             /* under mu: the serving thread left its loop */
    bool abandoned_thread;   /* a thread of this worker was abandoned */
    bool leak;
};

struct qts_lua_runtime {
    struct qts_lua_settings set;
    char lua_dir[PATH_MAX];
    struct qts_clock own_clock;
    struct qts_clock *clock;
    struct qts_lua_instruments inst;
    struct worker **workers;
    uint32_t n_workers;
    struct qts_lua_strategy **strats; /* all, core side; index = id - 1 */
    size_t n_strats, cap_strats;
    struct { int64_t mtime_ns; off_t size; ino_t ino; bool present; } *files;
    uint64_t next_evno;
    int64_t next_scan_ns;
    struct watch *watch;
    struct qts_lua_metrics m;
};

/* Memory an abandoned thread may still reach: never freed. */
static pthread_mutex_t g_abandoned_mu = PTHREAD_MUTEX_INITIALIZER;
static void **g_abandoned;
static size_t g_abandoned_n;

static void keep_forever(void *p)
{
    pthread_mutex_lock(&g_abandoned_mu);
    g_abandoned = qts_xrealloc(g_abandoned, (g_abandoned_n + 1) * sizeof *g_abandoned);
    g_abandoned[g_abandoned_n++] = p;
    pthread_mutex_unlock(&g_abandoned_mu);
}

static int start_thread(struct worker *w);

/* Lockstep hand-offs are frequent and short: both sides spin this long
 * before sleeping on a condition variable (a futex wake-up costs ~10 us). */
#define HANDOFF_SPIN_NS 50000

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __asm__ volatile("pause");
#endif
}

/* Spin until *v != not (or >= at_least when at_least != 0); true if it happened. */
static bool spin_until_changed(atomic_uint_fast64_t *v, uint64_t not_value, int64_t ns)
{
    int64_t until = qts_mono_ns() + ns;
    for (unsigned i = 1;; i++) {
        if (atomic_load_explicit(v, memory_order_acquire) != not_value)
            return true;
        /* a few hundred ns of pause, then yield: on a busy machine the
         * other side may need this very core */
        if (i < 256)
            cpu_relax();
        else
            sched_yield();
        if ((i & 15) == 0 && qts_mono_ns() > until)
            return false;
    }
}

/* ------------------------------------------------------------------ busy token */

static uint64_t busy_enter(struct worker *w, struct qts_lua_strategy *s)
{
    uint64_t tok = ++w->busy_seq;
    atomic_store(&w->busy_strat, s);
    atomic_store(&w->busy_since, qts_mono_ns());
    atomic_store(&w->busy, tok);
    return tok;
}

/* false: this thread was abandoned and must exit without touching anything */
static bool busy_leave(struct worker *w, uint64_t tok)
{
    uint_fast64_t expect = tok;
    return atomic_compare_exchange_strong(&w->busy, &expect, 0);
}

/* ------------------------------------------------------------------ worker side */

static void remove_from_worker(struct worker *w, struct qts_lua_strategy *s)
{
    for (size_t i = 0; i < w->n_strats; i++)
        if (w->strats[i] == s) {
            memmove(w->strats + i, w->strats + i + 1, (w->n_strats - i - 1) * sizeof *w->strats);
            w->n_strats--;
            return;
        }
}

/* Returns false when the thread was abandoned. */
static bool run_cmd(struct worker *w, struct cmd c)
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
    default:
        break;
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

static bool run_cmds(struct worker *w)
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

/* Deliver op_evs[0..op_n) to every strategy from op_pos on. */
static bool run_deliver(struct worker *w)
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

static bool fire_timers(struct worker *w)
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

static size_t collect_live(struct worker *w)
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

static bool has_input(struct worker *w)
{
    return qts_ring_count(&w->p0) > 0 || qts_ring_count(&w->md.ready) > 0;
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct qts_lua_runtime *rt = w->rt;
    /* A replacement thread first finishes what the abandoned one left. */
    if (w->op == OP_CMD) {
        w->op = OP_NONE;
        pthread_mutex_lock(&w->mu);
        w->cmd_done++;
        pthread_cond_broadcast(&w->done_cv);
        pthread_mutex_unlock(&w->mu);
    } else if (w->op == OP_DELIVER) {
        if (!run_deliver(w))
            return NULL;
        if (rt->set.lockstep) {
            pthread_mutex_lock(&w->mu);
            w->job_done = w->job_seq;
            atomic_store(&w->job_done_a, w->job_done);
            pthread_cond_broadcast(&w->done_cv);
            pthread_mutex_unlock(&w->mu);
        }
    }
    for (;;) {
        if (!run_cmds(w))
            return NULL;
        pthread_mutex_lock(&w->mu);
        bool stop = w->stop && w->n_cmds == 0;
        bool job = w->job_seq != w->job_done;
        pthread_mutex_unlock(&w->mu);
        if (stop)
            break;
        if (rt->set.lockstep) {
            if (job) {
                w->op_evs = w->job_evs;
                w->op_n = w->job_n;
                w->op_step = w->job_step;
                w->op_pos = 0;
                /* replay timers fire only in step(), before the events */
                if (w->op_step && !fire_timers(w))
                    return NULL;
                w->op = OP_DELIVER;
                if (!run_deliver(w))
                    return NULL;
                pthread_mutex_lock(&w->mu);
                w->job_done = w->job_seq;
            atomic_store(&w->job_done_a, w->job_done);
                pthread_cond_broadcast(&w->done_cv);
                pthread_mutex_unlock(&w->mu);
                continue;
            }
        } else {
            size_t n = collect_live(w);
            if (n) {
                w->op_evs = w->ptrs;
                w->op_n = n;
                w->op_step = false;
                w->op_pos = 0;
                w->op = OP_DELIVER;
                if (!run_deliver(w))
                    return NULL;
            }
            if (!fire_timers(w))
                return NULL;
            if (n)
                continue;
        }
        if (rt->set.lockstep && w->n_strats &&
            spin_until_changed(&w->job_seq_a, atomic_load(&w->job_done_a), HANDOFF_SPIN_NS))
            continue;
        /* Idle: sleep until woken (or 1 ms, for timers). */
        pthread_mutex_lock(&w->mu);
        atomic_store(&w->sleeping, 1);
        bool work = w->n_cmds > 0 || w->stop || w->job_seq != w->job_done ||
                    (!rt->set.lockstep && has_input(w));
        if (!work) {
            pthread_cond_broadcast(&w->done_cv); /* sync() waits for idleness */
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += 1000000;
            if (ts.tv_nsec >= 1000000000) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000;
            }
            pthread_cond_timedwait(&w->cv, &w->mu, &ts);
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

static void wake(struct worker *w)
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

static int start_thread(struct worker *w)
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

/* ------------------------------------------------------------------ core side */

static struct worker *worker_new(struct qts_lua_runtime *rt, int index)
{
    struct worker *w = qts_xcalloc(1, sizeof *w);
    w->rt = rt;
    w->index = index;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    pthread_cond_init(&w->done_cv, NULL);
    atomic_init(&w->sleeping, 0);
    atomic_init(&w->busy, 0);
    atomic_init(&w->busy_since, 0);
    atomic_init(&w->busy_strat, NULL);
    atomic_init(&w->job_seq_a, 0);
    atomic_init(&w->job_done_a, 0);
    qts_ring_init(&w->p0, rt->set.p0_ring_cap, sizeof(struct qts_lua_event));
    qts_mdslots_init(&w->md, (size_t)rt->set.max_instruments * 4, sizeof(struct qts_lua_event));
    size_t bm = QTS_MAX((size_t)rt->set.batch_max, 1);
    w->evbuf = qts_xcalloc(bm, sizeof *w->evbuf);
    w->ptrs = qts_xcalloc(bm, sizeof *w->ptrs);
    w->sel = qts_xcalloc(bm, sizeof *w->sel);
    w->sel_idx = qts_xcalloc(bm, sizeof *w->sel_idx);
    w->sel_cap = bm;
    return w;
}

static void sel_reserve(struct worker *w, size_t n)
{
    /* lockstep jobs may exceed batch_max; only called while the worker waits */
    if (n <= w->sel_cap)
        return;
    w->sel_cap = n;
    w->sel = qts_xrealloc(w->sel, n * sizeof *w->sel);
    w->sel_idx = qts_xrealloc(w->sel_idx, n * sizeof *w->sel_idx);
}

static void worker_free(struct worker *w)
{
    qts_ring_cleanup(&w->p0);
    qts_mdslots_cleanup(&w->md);
    free(w->backlog);
    free(w->evbuf);
    free(w->ptrs);
    free(w->sel);
    free(w->sel_idx);
    free(w->strats);
    free(w->cmds);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    pthread_cond_destroy(&w->done_cv);
    free(w);
}

static void post_cmd(struct worker *w, int kind, struct qts_lua_strategy *s)
{
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

static const char *default_lua_dir(void)
{
    struct stat st;
    if (stat(QTS_LUA_DIR_BUILD "/qts/host.lua", &st) == 0)
        return QTS_LUA_DIR_BUILD;
    return QTS_LUA_DIR_INSTALL;
}

int qts_lua_runtime_new(const struct qts_lua_settings *set, struct qts_lua_runtime **out,
                        struct qts_err *err)
{
    *out = NULL;
    if (!set || !set->sink.submit_intent || !set->sink.cancel || !set->sink.cancel_all)
        return qts_err_set(err, QTS_EINVAL, "lua runtime: sink needs submit_intent, cancel, cancel_all");
    struct qts_lua_runtime *rt = qts_xcalloc(1, sizeof *rt);
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
    qts_strlcpy(rt->lua_dir, set->lua_dir ? set->lua_dir : default_lua_dir(), sizeof rt->lua_dir);
    rt->set.lua_dir = rt->lua_dir;
    qts_clock_init(&rt->own_clock, QTS_CLOCK_MONOTONIC);
    rt->clock = set->clock ? set->clock : &rt->own_clock;
    rt->inst.cap = rt->set.max_instruments;
    rt->inst.v = qts_xcalloc(rt->inst.cap, sizeof *rt->inst.v);
    rt->inst.pos_of_id = qts_xcalloc(rt->inst.cap, sizeof *rt->inst.pos_of_id);
    atomic_init(&rt->inst.n, 0);
    rt->next_evno = 1;
    rt->n_workers = rt->set.n_workers;
    rt->workers = qts_xcalloc(rt->n_workers, sizeof *rt->workers);
    for (uint32_t i = 0; i < rt->n_workers; i++) {
        rt->workers[i] = worker_new(rt, (int)i);
        if (start_thread(rt->workers[i]) != 0) {
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

static struct qts_lua_strategy *strat_by_id(struct qts_lua_runtime *rt, uint32_t id)
{
    if (id == 0 || id > rt->n_strats)
        return NULL;
    return rt->strats[id - 1];
}

static struct worker *worker_of(struct qts_lua_runtime *rt, struct qts_lua_strategy *s)
{
    return rt->workers[s->worker_index];
}

static void file_stat(const char *path, int64_t *mt, off_t *sz, ino_t *ino, bool *present)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        *present = false;
        return;
    }
    *present = true;
    *mt = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
    *sz = st.st_size;
    *ino = st.st_ino;
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
    s->initial_cash = (int64_t)(c->initial_cash * 1e6);
    s->event_time = rt->set.lockstep;
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
    rt->strats[rt->n_strats] = s;
    memset(&rt->files[rt->n_strats], 0, sizeof rt->files[0]);
    file_stat(s->path, &rt->files[rt->n_strats].mtime_ns, &rt->files[rt->n_strats].size,
              &rt->files[rt->n_strats].ino, &rt->files[rt->n_strats].present);
    rt->n_strats++;
    if (rt->files[id - 1].present)
        post_cmd(rt->workers[wi], CMD_OPEN, s);
    else
        QTS_INFO("strategy waiting for its file name=%s file=%s", s->name, s->path);
    if (id_out)
        *id_out = id;
    return 0;
}

int qts_lua_runtime_remove_strategy(struct qts_lua_runtime *rt, uint32_t id)
{
    struct qts_lua_strategy *s = strat_by_id(rt, id);
    if (!s)
        return QTS_ENOENT;
    int st = atomic_load(&s->state);
    if (st == QTS_LUA_ST_FAILED)
        return 0;
    post_cmd(worker_of(rt, s), CMD_CLOSE, s);
    return 0;
}

int qts_lua_runtime_reload(struct qts_lua_runtime *rt, uint32_t id)
{
    struct qts_lua_strategy *s = strat_by_id(rt, id);
    if (!s)
        return QTS_ENOENT;
    if (atomic_load(&s->state) == QTS_LUA_ST_FAILED)
        return QTS_ESTATE;
    post_cmd(worker_of(rt, s), CMD_RELOAD, s);
    return 0;
}

int qts_lua_runtime_scan(struct qts_lua_runtime *rt)
{
    int actions = 0;
    for (size_t i = 0; i < rt->n_strats; i++) {
        struct qts_lua_strategy *s = rt->strats[i];
        int st = atomic_load(&s->state);
        if (st == QTS_LUA_ST_FAILED)
            continue;
        int64_t mt = 0;
        off_t sz = 0;
        ino_t ino = 0;
        bool present = false;
        file_stat(s->path, &mt, &sz, &ino, &present);
        if (!present && rt->files[i].present) {
            QTS_INFO("strategy file deleted, stopping name=%s file=%s", s->name, s->path);
            post_cmd(worker_of(rt, s), CMD_CLOSE, s);
            actions++;
        } else if (present && !rt->files[i].present) {
            QTS_INFO("strategy file appeared, starting name=%s file=%s", s->name, s->path);
            post_cmd(worker_of(rt, s), CMD_OPEN, s);
            actions++;
        } else if (present && (mt != rt->files[i].mtime_ns || sz != rt->files[i].size ||
                               ino != rt->files[i].ino)) {
            if (st == QTS_LUA_ST_RUNNING) {
                post_cmd(worker_of(rt, s), CMD_RELOAD, s);
            } else {
                /* a fixed file after a failed load or a halt: start afresh */
                if (st == QTS_LUA_ST_HALTED)
                    post_cmd(worker_of(rt, s), CMD_CLOSE, s);
                post_cmd(worker_of(rt, s), CMD_OPEN, s);
            }
            actions++;
        }
        rt->files[i].present = present;
        rt->files[i].mtime_ns = mt;
        rt->files[i].size = sz;
        rt->files[i].ino = ino;
    }
    return actions;
}

/* ------------------------------------------------------------------ file watch */

/* One block for all handles; freed by the last close callback, so the
 * runtime may be gone by then. */
struct watch {
    struct qts_lua_runtime *rt; /* NULL once unwatched */
    uv_timer_t debounce;
    size_t n, open_handles;
    uv_fs_event_t ev[];
};

static void watch_closed(uv_handle_t *h)
{
    struct watch *wa = h->data;
    if (--wa->open_handles == 0)
        free(wa);
}

static void watch_debounced(uv_timer_t *t)
{
    struct watch *wa = t->data;
    if (wa->rt)
        qts_lua_runtime_scan(wa->rt);
}

static void watch_event(uv_fs_event_t *h, const char *file, int events, int status)
{
    (void)file, (void)events, (void)status;
    struct watch *wa = h->data;
    uv_timer_start(&wa->debounce, watch_debounced, 30, 0);
}

int qts_lua_runtime_watch(struct qts_lua_runtime *rt, struct uv_loop_s *loop, struct qts_err *err)
{
    if (rt->watch)
        return qts_err_set(err, QTS_EBUSY, "lua runtime: already watching");
    char (*dirs)[PATH_MAX] = qts_xcalloc(rt->n_strats + 1, PATH_MAX);
    size_t nd = 0;
    for (size_t i = 0; i < rt->n_strats; i++) {
        char d[PATH_MAX];
        qts_strlcpy(d, rt->strats[i]->path, sizeof d);
        char *slash = strrchr(d, '/');
        if (slash)
            *slash = '\0';
        else
            qts_strlcpy(d, ".", sizeof d);
        size_t k = 0;
        while (k < nd && strcmp(dirs[k], d) != 0)
            k++;
        if (k == nd)
            memcpy(dirs[nd++], d, sizeof d);
    }
    struct watch *wa = qts_xcalloc(1, sizeof *wa + nd * sizeof wa->ev[0]);
    wa->rt = rt;
    uv_timer_init(loop, &wa->debounce);
    wa->debounce.data = wa;
    wa->open_handles = 1;
    int rc = 0;
    for (size_t i = 0; i < nd; i++) {
        uv_fs_event_init(loop, &wa->ev[i]);
        wa->ev[i].data = wa;
        wa->open_handles++;
        wa->n++;
        rc = uv_fs_event_start(&wa->ev[i], watch_event, dirs[i], 0);
        if (rc != 0) {
            qts_err_set(err, QTS_EIO, "lua runtime: cannot watch %s: %s", dirs[i], uv_strerror(rc));
            break;
        }
    }
    free(dirs);
    rt->watch = wa;
    if (rc != 0) {
        qts_lua_runtime_unwatch(rt);
        return QTS_EIO;
    }
    return 0;
}

void qts_lua_runtime_unwatch(struct qts_lua_runtime *rt)
{
    struct watch *wa = rt->watch;
    if (!wa)
        return;
    rt->watch = NULL;
    wa->rt = NULL;
    uv_close((uv_handle_t *)&wa->debounce, watch_closed);
    for (size_t i = 0; i < wa->n; i++)
        uv_close((uv_handle_t *)&wa->ev[i], watch_closed);
}

/* ------------------------------------------------------------------ watchdog */

static void replace_thread(struct qts_lua_runtime *rt, struct worker *w, struct qts_lua_strategy *s,
                           int64_t ran_ns)
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
    keep_forever(s);
    /* The abandoned thread may spin forever: give it only idle CPU time. */
    struct sched_param sp = {0};
    if (pthread_setschedparam(w->thread, SCHED_IDLE, &sp) != 0)
        QTS_WARN("lua runtime: cannot lower the priority of the abandoned thread");
    if (start_thread(w) != 0)
        QTS_ERROR("lua runtime: cannot start replacement thread for worker %d", w->index);
    else
        QTS_WARN("lua runtime: worker %d continues on a new thread without strategy %s",
                 w->index, s->name);
}

static void check_stuck(struct qts_lua_runtime *rt)
{
    int64_t now = qts_mono_ns();
    for (uint32_t i = 0; i < rt->n_workers; i++) {
        struct worker *w = rt->workers[i];
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

static void flush_backlog(struct worker *w)
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

static void backlog_push(struct worker *w, const struct qts_lua_event *e)
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
    rt->set.sink.cancel_all(rt->set.sink.ctx, s->id);
    if (rt->set.sink.strategy_state)
        rt->set.sink.strategy_state(rt->set.sink.ctx, s->id, st, s->status_reason);
}

int qts_lua_runtime_tick(struct qts_lua_runtime *rt)
{
    check_stuck(rt);
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
            wake(rt->workers[i]);
        }
    return qts_lua_runtime_drain(rt);
}

/* ------------------------------------------------------------------ events */

static int wait_job(struct qts_lua_runtime *rt, struct worker *w, uint64_t seq)
{
    spin_until_changed(&w->job_done_a, seq - 1, HANDOFF_SPIN_NS);
    pthread_mutex_lock(&w->mu);
    while (w->job_done < seq) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 5000000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        int rc = pthread_cond_timedwait(&w->done_cv, &w->mu, &ts);
        if (rc == ETIMEDOUT) {
            pthread_mutex_unlock(&w->mu);
            check_stuck(rt);
            pthread_mutex_lock(&w->mu);
        }
    }
    pthread_mutex_unlock(&w->mu);
    return 0;
}

/* only_worker >= 0: hand the job to that worker alone (an order or fill
 * event concerns one strategy). */
static void run_job(struct qts_lua_runtime *rt, const struct qts_ev_hdr *const *evs, size_t n,
                    bool step, int only_worker)
{
    uint64_t seqs[64];
    QTS_ASSERT(rt->n_workers <= 64);
    for (uint32_t i = 0; i < rt->n_workers; i++) {
        struct worker *w = rt->workers[i];
        seqs[i] = 0;
        if (w->n_assigned == 0 || (only_worker >= 0 && (int)i != only_worker))
            continue;
        pthread_mutex_lock(&w->mu);
        sel_reserve(w, n);
        w->job_evs = evs;
        w->job_n = n;
        w->job_step = step;
        seqs[i] = ++w->job_seq;
        atomic_store(&w->job_seq_a, w->job_seq);
        pthread_cond_signal(&w->cv);
        pthread_mutex_unlock(&w->mu);
    }
    for (uint32_t i = 0; i < rt->n_workers; i++)
        if (seqs[i])
            wait_job(rt, rt->workers[i], seqs[i]);
}

int qts_lua_runtime_step(struct qts_lua_runtime *rt, const struct qts_ev_hdr *const *evs,
                         size_t n, size_t *consumed)
{
    *consumed = 0;
    if (!rt->set.lockstep)
        return QTS_ESTATE;
    if (n == 0)
        return 0;
    /* Timers run on data time. Due ones fire first, in a step of their own
     * (consumed = 0): what they send reaches the venue before the events.
     * Then the batch ends before the next due time, so a timer fires before
     * the same event whatever the batch size. Workers are idle here. */
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
        run_job(rt, evs, 0, true, -1);
        return 0;
    }
    if (next_due != INT64_MAX) {
        size_t cut = 1;
        while (cut < n && evs[cut]->ts_exch_ns < next_due)
            cut++;
        n = cut;
    }
    run_job(rt, evs, n, true, -1);
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
            uint32_t sid = ev->type == QTS_EV_ORDER ? ((const struct qts_order_event *)ev)->strategy_id
                           : ev->type == QTS_EV_FILL ? ((const struct qts_fill *)ev)->strategy_id : 0;
            struct qts_lua_strategy *s = sid ? strat_by_id(rt, sid) : NULL;
            rt->m.p0_posted++;
            run_job(rt, &ev, 1, false, s ? s->worker_index : -1);
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
        uint32_t sid = ev->type == QTS_EV_ORDER ? ((const struct qts_order_event *)ev)->strategy_id
                       : ev->type == QTS_EV_FILL ? ((const struct qts_fill *)ev)->strategy_id : 0;
        struct qts_lua_strategy *s = sid ? strat_by_id(rt, sid) : NULL;
        rt->m.p0_posted++;
        for (uint32_t i = 0; i < rt->n_workers; i++) {
            struct worker *w = rt->workers[i];
            if (s ? (int)i != s->worker_index : w->n_assigned == 0)
                continue;
            flush_backlog(w);
            if (w->bl_n || qts_ring_push(&w->p0, &e) != 0) {
                backlog_push(w, &e);
                rt->m.p0_backlogged++;
                if (w->bl_n > rt->m.p0_backlog_max)
                    rt->m.p0_backlog_max = w->bl_n;
            }
            wake(w);
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
        struct worker *w = rt->workers[i];
        if (w->n_assigned == 0)
            continue;
        qts_mdslots_put(&w->md, key, &e, sizeof e, qts_lua_event_fix);
        wake(w);
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

int qts_lua_runtime_drain(struct qts_lua_runtime *rt)
{
    int count = 0;
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
            if (msg.kind == QTS_LUA_MSG_ORDER) {
                rt->m.intents++;
                int rc = rt->set.sink.submit_intent(rt->set.sink.ctx, &msg.intent);
                if (rc < 0) {
                    rt->m.rejected_by_sink++;
                    deliver_reject(rt, s, &msg.intent, rc);
                }
            } else {
                rt->m.cancels++;
                rt->set.sink.cancel(rt->set.sink.ctx, msg.strategy_id, msg.order_id);
            }
        }
    }
    return count;
}

/* ------------------------------------------------------------------ sync, info */

int qts_lua_runtime_sync(struct qts_lua_runtime *rt, int64_t timeout_ns)
{
    int64_t deadline = qts_mono_ns() + timeout_ns;
    for (uint32_t i = 0; i < rt->n_workers; i++) {
        struct worker *w = rt->workers[i];
        for (;;) {
            pthread_mutex_lock(&w->mu);
            bool idle = w->cmd_done == w->cmd_posted && w->job_done == w->job_seq &&
                        (rt->set.lockstep || (!has_input(w) && w->bl_n == 0)) &&
                        atomic_load(&w->busy) == 0 && atomic_load(&w->sleeping);
            if (!idle) {
                struct timespec ts;
                clock_gettime(CLOCK_REALTIME, &ts);
                ts.tv_nsec += 2000000;
                if (ts.tv_nsec >= 1000000000) {
                    ts.tv_sec++;
                    ts.tv_nsec -= 1000000000;
                }
                pthread_cond_timedwait(&w->done_cv, &w->mu, &ts);
            }
            pthread_mutex_unlock(&w->mu);
            if (idle)
                break;
            check_stuck(rt);
            if (w->bl_n) {
                flush_backlog(w);
                wake(w);
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
            return qts_err_set(err, QTS_ECONFIG, "%s:%d:%d: params: more than %zu keys", file,
                               line, col, cap);
        if (qts_cfg_type(v) != QTS_CFG_SCALAR && qts_cfg_type(v) != QTS_CFG_NULL)
            return qts_err_set(err, QTS_ECONFIG, "%s:%d:%d: params.%s: only scalar values", file,
                               line, col, key);
        const char *val = qts_cfg_str(v);
        if (strlen(key) >= sizeof out[i].key || (val && strlen(val) >= sizeof out[i].value))
            return qts_err_set(err, QTS_ECONFIG, "%s:%d:%d: params.%s: key or value too long",
                               file, line, col, key);
        qts_strlcpy(out[i].key, key, sizeof out[i].key);
        qts_strlcpy(out[i].value, val ? val : "", sizeof out[i].value);
    }
    return (int)n;
}

int qts_lua_runtime_info(struct qts_lua_runtime *rt, uint32_t id, struct qts_lua_strategy_info *out)
{
    struct qts_lua_strategy *s = strat_by_id(rt, id);
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
            post_cmd(worker_of(rt, s), CMD_CLOSE, s);
    }
    qts_lua_runtime_sync(rt, rt->set.stuck_ns * 2);
    bool abandoned_any = false;
    for (uint32_t i = 0; i < rt->n_workers; i++) {
        struct worker *w = rt->workers[i];
        pthread_mutex_lock(&w->mu);
        w->stop = true;
        pthread_cond_signal(&w->cv);
        pthread_mutex_unlock(&w->mu);
    }
    /* Detached threads: wait until each has left its loop (busy == 0 and no
     * further wake-ups needed); a stuck one keeps its worker forever. */
    for (uint32_t i = 0; i < rt->n_workers; i++) {
        struct worker *w = rt->workers[i];
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
        struct worker *w = rt->workers[i];
        if (w->leak || w->abandoned_thread)
            keep_forever(w);
        else
            worker_free(w);
    }
    (void)abandoned_any;
    for (size_t i = 0; i < rt->n_strats; i++) {
        struct qts_lua_strategy *s = rt->strats[i];
        if (atomic_load(&s->state) == QTS_LUA_ST_FAILED)
            continue; /* kept forever (see replace_thread) */
        qts_lua_strategy_free(s);
    }
    free(rt->strats);
    free(rt->files);
    free(rt->workers);
    if (!abandoned_any)
        free(rt->inst.v), free(rt->inst.pos_of_id);
    else
        keep_forever(rt->inst.v), keep_forever(rt->inst.pos_of_id);
    if (abandoned_any)
        keep_forever(rt);
    else
        free(rt);
}
