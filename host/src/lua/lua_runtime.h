/* lua_runtime.h — strategy workers, event hand-off, isolation, hot reload.
 *
 * The runtime owns the strategies (one lua_State each, see lua_strategy.h).
 * Live and paper: one or more worker threads, each strategy pinned to one;
 * the core never runs Lua, it posts events, drains order intents and ticks
 * the runtime. Replay (settings.lockstep): no worker thread at all; the
 * strategies run on the calling (core) thread inside step() and post(), in
 * the core's order (docs/adr/0006-replay-strategies-inline.md). Either way
 * all calls come from one core thread (they are not thread-safe among
 * themselves).
 *
 * Wiring (the engine does exactly this):
 *     rt = qts_lua_runtime_new(&settings, &err);          // sink = OMS entry points
 *     qts_lua_runtime_add_instrument(rt, &inst);          // per instrument
 *     qts_lua_runtime_add_strategy(rt, &conf, &id, &err);  // per strategies: entry
 *     loop:  qts_lua_runtime_post(rt, ev)                  // live/paper: any event
 *            qts_lua_runtime_step(rt, evs, n, &used)       // replay: market data
 *            qts_lua_runtime_drain(rt)                     // intents -> sink
 *            qts_lua_runtime_tick(rt)                      // watchdog, halts, reload scan
 *     qts_lua_runtime_free(rt);
 *
 * Back-pressure (live/paper, ARCHITECTURE §2): order and fill events go
 * through a bounded ring per worker; when it is full they wait in a
 * core-side backlog and are never dropped. Market data goes through a
 * conflating slot per (instrument, kind): a worker that falls behind sees
 * the latest value, and every replaced value is counted
 * (metrics.md_conflated).
 *
 * Lockstep (replay): qts_lua_runtime_step() runs a batch of events through
 * every interested strategy and returns. A strategy stops at the first
 * event after which it emitted an intent; the step reports how many events
 * are fully done (`consumed`), and intents are released to the sink in
 * event order, so the core can simulate fills before the next event: the
 * result equals one-event-at-a-time processing. Nothing can take the core
 * back from a runaway callback, so each callback is limited in Lua VM
 * instructions (settings.max_instructions; lua_budget.c): past it the
 * strategy fails, no clock involved.
 */
#ifndef QTS_LUA_RUNTIME_H
#define QTS_LUA_RUNTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lua_strategy.h"
#include "qts/qts_err.h"
#include "qts/qts_types.h"

struct qts_clock;
struct qts_cfg_node;
struct uv_loop_s;
struct qts_lua_runtime;

/* Where intents go: called on the core thread from drain()/tick(). `ctx`
 * is passed back unchanged. A negative return from submit_intent makes the
 * runtime deliver a REJECTED order event with that code to the strategy. */
struct qts_lua_sink {
    uint32_t struct_size;
    void *ctx;                                                          /* borrowed */
    int (*submit_intent)(void *ctx, const struct qts_order_intent *in); /* in: borrowed */
    int (*cancel)(void *ctx, uint32_t strategy_id, uint64_t order_id);
    /* Cancel every working order of a strategy (halted, failed, deleted). */
    int (*cancel_all)(void *ctx, uint32_t strategy_id);
    /* Optional: a strategy changed state (enum qts_lua_state); reason borrowed. */
    void (*strategy_state)(void *ctx, uint32_t strategy_id, int state, const char *reason);
    /* Optional: every order intent of one drain (one event) in one call,
     * instead of submit_intent one by one (the Decide stage looks at them
     * together). rc[i] as submit_intent's return for in[i]; both borrowed. */
    void (*submit_batch)(void *ctx, const struct qts_order_intent *const *in, size_t n, int *rc);
    /* Optional: a strategy's cycle ended (M.cycle_ms; c borrowed); handed
     * over by the drain that took the cycle's intents, decide_ns the wall
     * time that drain spent handing intents to the sink. */
    void (*cycle)(void *ctx, const struct qts_lua_cycle *c, int64_t decide_ns);
};

/* Lockstep: a callback running this many Lua VM instructions (about a
 * second of the LuaJIT interpreter) fails its strategy. */
#define QTS_LUA_MAX_INSTRUCTIONS_DEFAULT UINT64_C(1000000000)
/* max_instructions: no limit, and the strategy's code is JIT-compiled. */
#define QTS_LUA_NO_INSTRUCTION_LIMIT UINT64_MAX

struct qts_bar_history;
struct qts_lua_settings {
    uint32_t n_workers;        /* default 1; live/paper only (lockstep has none) */
    bool lockstep;             /* replay: Lua runs inside step() and post() */
    const char *lua_dir;       /* host prelude; NULL = build tree, then install dir */
    struct qts_clock *clock;   /* borrowed; NULL = monotonic. Replay: virtual. */
    uint32_t max_instruments;  /* instrument ids must be < this; default 1024 */
    uint32_t p0_ring_cap;      /* per worker, default 4096 */
    uint32_t batch_max;        /* events per dispatch, default 256 */
    int64_t stuck_ns;          /* a callback running longer is "stuck"; default 2 s */
    int64_t scan_interval_ns;  /* tick() rescans strategy files this often
                                  * (monotonic); 0 = 500 ms, < 0 = only on scan() */
    uint64_t max_instructions; /* lockstep: Lua VM instructions one callback may
                                  * run before its strategy fails; 0 = default,
                                  * QTS_LUA_NO_INSTRUCTION_LIMIT = none */
    struct qts_lua_sink sink;  /* copied */
    /* bars read back from the store for ctx:history (bar_history.h);
     * borrowed, filled before strategies start; NULL = none */
    const struct qts_bar_history *history;
};

/* One strategy entry (what the YAML `strategies:` list maps onto). */
struct qts_lua_strategy_conf {
    const char *name; /* copied */
    const char *file; /* copied; may not exist yet (started when it appears) */
    const struct qts_lua_param *params;
    size_t n_params; /* copied */
    const char *const *symbols;
    size_t n_symbols;        /* copied; none = all */
    int worker;              /* -1: least loaded */
    size_t mem_limit;        /* bytes; 0 = 64 MiB */
    int64_t budget_ns;       /* per callback (checked per dispatch); 0 = 1 ms */
    uint32_t error_limit;    /* errors ... 0 = 10 */
    int64_t error_window_ns; /* ... within this window halt it; 0 = 60 s */
    double initial_cash;     /* for ctx:cash()/equity(); kept as cash units (rounded) */
};

struct qts_lua_strategy_info {
    uint32_t id;
    int state; /* enum qts_lua_state */
    int worker;
    uint64_t events, callbacks, errors, budget_over, reloads, reload_failures;
    uint64_t intents_full;
    size_t mem_used, mem_peak;
    char last_error[QTS_LUA_ERR_MAX];
    char reason[QTS_LUA_ERR_MAX];
    /* dispatches per bucket (non-cumulative; [QTS_LUA_CB_BUCKETS] = above
     * the last bound) and their total time */
    uint64_t cb_buckets[QTS_LUA_CB_BUCKETS + 1];
    uint64_t cb_ns_sum;
};

struct qts_lua_metrics {
    uint64_t md_posted, md_conflated;  /* market data in, values replaced unread */
    uint64_t p0_posted, p0_backlogged; /* P0 events, of which waited in the backlog */
    size_t p0_backlog_max;
    uint64_t intents, cancels, rejected_by_sink;
    uint64_t halted, failed, workers_replaced;
};

int qts_lua_runtime_new(const struct qts_lua_settings *set, struct qts_lua_runtime **out,
                        struct qts_err *err);
/* Stops the workers (on_stop for running strategies) and frees everything
 * except what an abandoned (stuck) thread may still touch. */
void qts_lua_runtime_free(struct qts_lua_runtime *rt);

/* Copied. id < max_instruments. */
int qts_lua_runtime_add_instrument(struct qts_lua_runtime *rt, const struct qts_instrument *in);
/* Registers and schedules the load on its worker (on_init runs there).
 * Symbols must be known instruments. Load errors show in info/log. */
int qts_lua_runtime_add_strategy(struct qts_lua_runtime *rt, const struct qts_lua_strategy_conf *c,
                                 uint32_t *id_out, struct qts_err *err);
/* Stop a strategy (on_stop, cancel_all through the sink). */
int qts_lua_runtime_remove_strategy(struct qts_lua_runtime *rt, uint32_t id);
/* Recompile the file and swap between two events. */
int qts_lua_runtime_reload(struct qts_lua_runtime *rt, uint32_t id);
/* Stat every strategy file: changed -> reload, deleted -> stop and cancel,
 * appeared -> start. Returns the number of actions. */
int qts_lua_runtime_scan(struct qts_lua_runtime *rt);

/* Reload as soon as a file changes: uv_fs_event on the folders of the
 * strategies added so far, debounced (30 ms), then scan(). Runs on `loop`,
 * which must be the core thread's loop (borrowed). unwatch() closes the
 * handles (their memory goes when the loop runs the close callbacks); free()
 * calls it if needed. tick()'s periodic scan works with or without this. */
int qts_lua_runtime_watch(struct qts_lua_runtime *rt, struct uv_loop_s *loop, struct qts_err *err);
void qts_lua_runtime_unwatch(struct qts_lua_runtime *rt);

/* Any event (borrowed; copied before return). Replay: returns once the
 * event is processed; market data posted here is a one-event step (it may
 * drain timer intents to the sink first): prefer step() for batches. */
int qts_lua_runtime_post(struct qts_lua_runtime *rt, const struct qts_ev_hdr *ev);
/* Lockstep only: evs borrowed. The next call must start at evs[*consumed]
 * (drain() and answer the intents first). Advance the clock to evs[0]'s time
 * before each call. *consumed may be 0: due timers fired first. A batch
 * must end where the venue may act on orders already working. */
int qts_lua_runtime_step(struct qts_lua_runtime *rt, const struct qts_ev_hdr *const *evs, size_t n,
                         size_t *consumed);
/* Hand pending intents/cancels to the sink; cancel_all for strategies that
 * were halted, failed or stopped. Returns the number of messages handed over. */
int qts_lua_runtime_drain(struct qts_lua_runtime *rt);
/* The operating state strategies read with ctx:operating_state() (enum
 * qts_op_state of decide/pools.h: 0 AGGRESSIVE, 1 BALANCED, 2 DEFENSIVE). */
void qts_lua_runtime_set_operating_state(struct qts_lua_runtime *rt, int op_state);
/* The capital pools' figures on_cycle's snapshot shows (decide/pools.h;
 * cash units). on = false: no pools. Three of each, scalp, swing, portfolio. */
void qts_lua_runtime_set_pools(struct qts_lua_runtime *rt, bool on, const int *state,
                               const int64_t *capital, const int64_t *available);
/* The run ends (`reason` borrowed: "end of data", "stop"): each running
 * strategy's on_end, on the core thread in a replay (inline). Their orders
 * wait in the intent rings for the next drain. Returns how many ran;
 * QTS_ESTATE when the strategies run on worker threads. */
int qts_lua_runtime_end(struct qts_lua_runtime *rt, const char *reason);
/* Watchdog (stuck callbacks), backlog flush, file scan every
 * scan_interval_ns, then drain(). Cheap; call it every loop turn. */
int qts_lua_runtime_tick(struct qts_lua_runtime *rt);
/* Wait until workers have run every queued command and event. 0 or QTS_ETIMEDOUT. */
int qts_lua_runtime_sync(struct qts_lua_runtime *rt, int64_t timeout_ns);

/* Flatten a strategy's `params:` map (borrowed config subtree, scalars
 * only) into key/value pairs for qts_lua_strategy_conf. Returns the count
 * or QTS_ECONFIG with file:line:col in err (nested value, too many, too long). */
int qts_lua_params_from_cfg(const struct qts_cfg_node *params, struct qts_lua_param *out,
                            size_t cap, struct qts_err *err);

int qts_lua_runtime_info(struct qts_lua_runtime *rt, uint32_t id,
                         struct qts_lua_strategy_info *out);
void qts_lua_runtime_metrics(struct qts_lua_runtime *rt, struct qts_lua_metrics *out);

#endif /* QTS_LUA_RUNTIME_H */
