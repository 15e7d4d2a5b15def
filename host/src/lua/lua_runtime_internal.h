/* lua_runtime_internal.h — what the files of the Lua runtime share (not
 * for use outside host/src/lua/):
 *   lua_worker.c   worker threads, commands, batches, busy token, watchdog;
 *                  the delivery a replay runs inline
 *   lua_runtime.c  lifecycle, instruments, strategies, post/step, drain,
 *                  back-pressure backlog, tick, sync, info
 *   lua_reload.c   strategy file scan, reload commands, uv file watch
 * The core thread owns struct qts_lua_runtime; each struct qts_lua_worker is
 * shared between the core and the one thread serving it (fields say which
 * side writes them, "under mu" when both do). In a replay (inline_run) there
 * is one worker struct and no thread: the core thread does everything. */
#ifndef QTS_LUA_RUNTIME_INTERNAL_H
#define QTS_LUA_RUNTIME_INTERNAL_H

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "clock.h"
#include "lua_runtime.h"
#include "lua_strategy.h"
#include "ring.h"

enum cmd_kind { CMD_OPEN = 1, CMD_CLOSE = 2, CMD_RELOAD = 3 };
struct cmd {
    int kind;
    struct qts_lua_strategy *s;
};

enum op_kind { OP_NONE = 0, OP_DELIVER = 1, OP_CMD = 2 };

struct qts_lua_worker {
    struct qts_lua_runtime *rt;
    int index;
    pthread_mutex_t mu;
    pthread_cond_t cv;      /* wakes the worker */
    pthread_cond_t done_cv; /* worker -> core: job or command finished */
    atomic_int sleeping;
    bool stop; /* under mu */

    /* strategies pinned here (worker thread only, except at free) */
    struct qts_lua_strategy **strats;
    size_t n_strats, cap_strats;
    size_t n_assigned; /* core side count */

    /* commands (under mu) */
    struct cmd *cmds;
    size_t n_cmds, cap_cmds;
    uint64_t cmd_posted, cmd_done; /* under mu */

    /* live inputs (not allocated inline) */
    struct qts_ring p0; /* struct qts_lua_event */
    struct qts_mdslots md;
    struct qts_lua_event *backlog; /* core side, FIFO */
    size_t bl_head, bl_n, bl_cap;

    /* batch storage (worker thread) */
    struct qts_lua_event *evbuf;
    const struct qts_ev_hdr **ptrs;
    const struct qts_ev_hdr **sel;
    size_t *sel_idx;

    /* delivery in progress: a replacement thread resumes it; inline, the
     * core sets it up for each step or P0 event */
    int op;
    const struct qts_ev_hdr *const *op_evs; /* borrowed */
    size_t op_n;
    bool op_step;  /* a replay step: stop on intent, leads (lua_runtime.h) */
    size_t op_pos; /* next strategy index */

    /* watchdog token */
    atomic_uint_fast64_t busy;
    atomic_int_fast64_t busy_since;
    _Atomic(struct qts_lua_strategy *) busy_strat;
    uint64_t busy_seq;
    pthread_t thread; /* the serving thread (detached) */
    size_t sel_cap;
    bool exited;           /* under mu: the serving thread left its loop */
    bool abandoned_thread; /* a thread of this worker was abandoned */
    bool leak;
};

struct qts_lua_watch;

/* Intents one drain hands the sink's submit_batch per call. */
#define QTS_LUA_DRAIN_BATCH 64

struct qts_lua_runtime {
    struct qts_lua_settings set;
    char lua_dir[PATH_MAX];
    struct qts_clock own_clock;
    struct qts_clock *clock;
    struct qts_lua_instruments inst;
    struct qts_lua_worker **workers;
    uint32_t n_workers;
    bool inline_run; /* replay: one worker struct, no thread; Lua runs on the core */
    struct qts_lua_strategy **strats; /* all, core side; index = id - 1 */
    size_t n_strats, cap_strats;
    struct {
        int64_t mtime_ns;
        off_t size;
        ino_t ino;
        bool present;
    } * files;
    uint64_t next_evno;
    int op_state; /* the Decide stage's operating state, handed to new strategies */
    struct qts_lua_pools_view pools; /* the pools' figures, every strategy borrows it */
    int64_t next_scan_ns;
    struct qts_lua_watch *watch;
    struct qts_lua_metrics m;
};

static inline struct qts_lua_strategy *qts__lua_strat_by_id(struct qts_lua_runtime *rt, uint32_t id)
{
    if (id == 0 || id > rt->n_strats)
        return NULL;
    return rt->strats[id - 1];
}

static inline struct qts_lua_worker *qts__lua_worker_of(struct qts_lua_runtime *rt,
                                                        struct qts_lua_strategy *s)
{
    return rt->workers[s->worker_index];
}

/* ---- lua_worker.c */

/* Keep `p` (owned, handed over) reachable forever: memory an abandoned
 * thread may still touch is never freed. */
void qts__lua_keep_forever(void *p);
/* pthread_cond_timedwait for at most ns (< 1 s) from now; its result. */
int qts__lua_cond_wait_ns(pthread_cond_t *cv, pthread_mutex_t *mu, long ns);
/* Owned by the runtime: qts__lua_worker_free (unless a thread was abandoned). */
struct qts_lua_worker *qts__lua_worker_new(struct qts_lua_runtime *rt, int index);
void qts__lua_worker_free(struct qts_lua_worker *w);
/* Start a detached thread serving w (again, after an abandoned one). */
int qts__lua_worker_start(struct qts_lua_worker *w);
/* Wake the worker if it sleeps (after pushing input). */
void qts__lua_worker_wake(struct qts_lua_worker *w);
/* Queue a command for s (borrowed; the runtime owns it) on w; inline it
 * runs before this returns. */
void qts__lua_worker_post_cmd(struct qts_lua_worker *w, int kind, struct qts_lua_strategy *s);
/* Room for an inline step of n events. */
void qts__lua_worker_reserve(struct qts_lua_worker *w, size_t n);
/* Deliver w->op_evs[0..op_n) to w's running strategies from op_pos on
 * (op_step: the replay step rules of lua_runtime.h). False when the calling
 * thread was abandoned meanwhile (never inline). */
bool qts__lua_deliver(struct qts_lua_worker *w);
/* on_timer for w's strategies with timers due by the runtime clock; false
 * as for qts__lua_deliver. */
bool qts__lua_fire_timers(struct qts_lua_worker *w);
/* Live input waiting in the P0 ring or the market-data slots. */
bool qts__lua_worker_has_input(struct qts_lua_worker *w);
/* Watchdog: abandon threads stuck in a callback longer than stuck_ns. */
void qts__lua_check_stuck(struct qts_lua_runtime *rt);

/* ---- lua_reload.c */

/* stat() a strategy file; *present false when it does not exist. */
void qts__lua_file_stat(const char *path, int64_t *mt, off_t *sz, ino_t *ino, bool *present);

#endif /* QTS_LUA_RUNTIME_INTERNAL_H */
