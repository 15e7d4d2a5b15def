/* lua_strategy.h — one strategy: its lua_State, sandbox, module, mirrors.
 *
 * A strategy object is used by exactly one thread at a time (its worker).
 * The core never calls into it; it only reads the atomic status fields and
 * drains the intent ring (single consumer). All Lua runs through the host
 * prelude in host/lua/qts/ (host.lua, ffi_cdefs.lua, enums.lua, init.lua,
 * dispatch.lua): C calls one Lua function per batch with lua_pcall and a
 * traceback handler; the dispatcher pulls events with qts_ffi_next_event()
 * and calls the module's callbacks.
 *
 * Memory: lua_newstate() with an allocator that refuses to grow past
 * `mem_limit` bytes; Lua then raises "not enough memory", which halts the
 * strategy with QTS_ENOMEM.
 */
#ifndef QTS_LUA_STRATEGY_H
#define QTS_LUA_STRATEGY_H

#include <limits.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "oms_ids.h"
#include "qts/qts_err.h"
#include "qts/qts_types.h"
#include "ring.h"

/* Buckets of the time one dispatch spends in Lua (a callback; in a replay
 * batch, the events delivered together): upper bounds in ns. */
#define QTS_LUA_CB_BUCKETS 12
extern const int64_t qts_lua_cb_bounds_ns[QTS_LUA_CB_BUCKETS];

struct lua_State;
struct qts_clock;

#define QTS_LUA_BOOK_DEPTH 20 /* levels per side kept for a book event / mirror */
#define QTS_LUA_MAX_TIMERS 16
#define QTS_LUA_BAR_KEEP 256 /* bars kept per (instrument, period) for ctx:bars */
#define QTS_LUA_MAX_PARAMS 64
#define QTS_LUA_ERR_MAX 512

/* Timer event delivered to on_timer (shared with Lua: layout-tested). */
struct qts_timer_event {
    struct qts_ev_hdr h; /* h.type = QTS_EV_TIMER */
    uint64_t timer_id;
};

/* Storage for any event the runtime delivers; book levels live inline and
 * `u.book.bids/asks` point into `levels`. */
struct qts_lua_event {
    union {
        struct qts_ev_hdr h;
        struct qts_trade trade;
        struct qts_quote quote;
        struct qts_book_update book;
        struct qts_bar bar;
        struct qts_order_event order;
        struct qts_fill fill;
        struct qts_timer_event timer;
    } u;
    struct qts_level levels[2 * QTS_LUA_BOOK_DEPTH];
};

/* Copy `ev` (borrowed) into `dst`; book levels beyond QTS_LUA_BOOK_DEPTH
 * are cut. Returns 0 or QTS_EINVAL (unknown type, struct_size too small). */
int qts_lua_event_copy(struct qts_lua_event *dst, const struct qts_ev_hdr *ev);
/* Repoint book level pointers after a raw memcpy of the storage. */
void qts_lua_event_fix(void *storage);

/* Instruments known to the runtime: append-only, readable without locks. */
struct qts_lua_instruments {
    struct qts_instrument *v; /* owned, capacity `cap` */
    size_t cap;
    atomic_size_t n;     /* published count */
    uint32_t *pos_of_id; /* owned, `cap` entries: id -> position + 1 (0 =
                                * none); NULL = look up by scanning */
};

/* Message from a strategy to the core (intent ring element). */
enum qts_lua_msg_kind { QTS_LUA_MSG_ORDER = 1, QTS_LUA_MSG_CANCEL = 2 };
struct qts_lua_msg {
    uint32_t kind;
    uint32_t strategy_id;
    uint64_t order_id; /* CANCEL: the order; ORDER: intent.order_id */
    uint64_t evno;     /* lockstep event number that produced it */
    struct qts_order_intent intent;
};

enum qts_lua_state {
    QTS_LUA_ST_NEW = 0,
    QTS_LUA_ST_RUNNING = 1,
    QTS_LUA_ST_HALTED = 2,  /* error rate or memory limit; orders cancelled */
    QTS_LUA_ST_FAILED = 3,  /* stuck past its deadline; thread abandoned */
    QTS_LUA_ST_STOPPED = 4, /* removed (file deleted, runtime stopped) */
    QTS_LUA_ST_LOAD_FAILED = 5,
};
const char *qts_lua_state_name(int state);

struct qts_lua_param {
    char key[64];
    char value[192];
};

/* Per-strategy view of positions, cash, books and bars, kept on the worker
 * from the events the strategy receives (never read across threads). */
struct qts_lua_pos {
    int64_t qty;
    int64_t last_px;
    uint8_t px_exp, qty_exp;
};
/* The capital pools as the host last computed them (docs/decide.md): the
 * runtime owns one, every strategy borrows it for on_cycle's snapshot. The
 * core writes, strategies read (relaxed: three figures a snapshot shows). */
struct qts_lua_pools_view {
    atomic_int on; /* a `decide.pools` section exists */
    atomic_int state[3];
    _Atomic int64_t capital[3], available[3]; /* cash units (QTS_CASH_EXP) */
};

/* One cycle of a strategy that set `cycle_ms` (docs/decide.md, "The
 * cycle"): its wall-clock stage timings, handed to the sink after the drain
 * that took its intents. */
struct qts_lua_cycle {
    uint32_t strategy_id;
    const char *strategy; /* borrowed: the strategy's name */
    uint64_t cycle;       /* 1, 2, ... per strategy */
    int64_t due_ns;       /* when it was due: a multiple of cycle_ns */
    int64_t ts_ns;        /* the run's clock when it fired (data time in a replay) */
    int64_t cycle_ns, budget_ns;
    int64_t snapshot_ns; /* building the snapshot */
    int64_t strategy_ns; /* on_cycle */
    uint32_t intents;    /* orders and cancels it asked */
};

struct qts_lua_bars {
    uint32_t instrument;
    int64_t period_ns;
    size_t n, head;    /* ring of QTS_LUA_BAR_KEEP */
    struct qts_bar *v; /* owned */
};

struct qts_lua_strategy {
    /* identity and settings (immutable after creation) */
    uint32_t id;
    char name[64];
    char path[PATH_MAX];
    size_t mem_limit;
    int64_t budget_ns;
    uint64_t max_instructions; /* replay: per callback, count hook (lua_budget.c);
                                * 0 = none (live: the watchdog's clock) */
    uint32_t error_limit;
    int64_t error_window_ns;
    int64_t initial_cash; /* QTS_CASH_EXP units */
    struct qts_lua_param params[QTS_LUA_MAX_PARAMS];
    size_t n_params;
    uint32_t *symbols; /* owned instrument ids; NULL = every instrument */
    size_t n_symbols;

    /* shared, borrowed from the runtime */
    const struct qts_bar_history *history; /* ctx:history; read-only; NULL = none */
    struct qts_lua_instruments *instruments;
    struct qts_clock *clock;

    /* Lua (worker thread only) */
    struct lua_State *L;
    size_t mem_used, mem_peak;
    bool mem_refused;
    int ref_dispatch, ref_traceback, ref_host;

    /* current batch (worker thread only) */
    const struct qts_ev_hdr **batch; /* borrowed pointers, cap batch_cap */
    size_t *batch_idx;               /* index of each entry in the step */
    size_t batch_cap, batch_n, batch_pos;
    bool stop_on_intent;
    uint32_t intents_this_event; /* intents (and, in replay, timers set):
                                        * a lockstep step stops after this event */
    uint64_t cur_evno;
    uint64_t evno_base; /* lockstep: number of step entry 0 */
    int worker_index;
    int64_t cur_ts_ns; /* time of the event being handled */

    /* out: order intents and cancels to the core (SPSC, worker -> core) */
    struct qts_ring intents;
    struct qts_oms_strategy_ids order_ids; /* the OMS's ids for its orders */
    uint64_t lead;                         /* lockstep: events processed ahead */
    bool held;                             /* lockstep: stopped on an unreleased intent */
    bool event_time;                       /* lockstep: ctx:now() follows event time */
    size_t progress;                       /* lockstep: step entries consumed */

    /* mirrors (worker thread only) */
    struct qts_lua_pos *pos; /* indexed by instrument id, cap pos_cap */
    size_t pos_cap;
    int64_t cash;                /* QTS_CASH_EXP units: fills' cash flow,
                                        * booked like the portfolio's */
    struct qts_lua_event *books; /* latest book per instrument, lazily */
    size_t books_cap;
    struct qts_lua_bars *bars;
    size_t n_bars;
    struct {
        uint64_t id;
        int64_t due_ns, every_ns;
        bool used;
    } timers[QTS_LUA_MAX_TIMERS];
    uint64_t timer_seq;
    struct qts_lua_event timer_ev;

    /* the cycle (M.cycle_ms): a repeating timer of its own, armed on the
     * first market event at the next multiple of cycle_ns of the run's
     * clock, so strategies with one period fire on the same step */
    struct qts_lua_pools_view *pools; /* borrowed from the runtime */
    uint64_t cycle_timer;             /* timer id; 0 = no cycle */
    int64_t cycle_ns, cycle_budget_ns;
    bool cycle_armed;
    int64_t cyc_due_ns;           /* when the cycle firing now was due */
    int64_t cyc_t0, cyc_t1;       /* qts_mono_ns() at the start and after the snapshot */
    uint64_t cyc_pushed0;         /* n_pushed at the start */
    uint64_t n_pushed;            /* intents and cancels queued, ever */
    struct qts_lua_cycle cyc_rec; /* written while cyc_pending == 0 */
    atomic_int cyc_pending;       /* 1: cyc_rec waits for the core's drain */
    uint64_t cyc_seq;
    atomic_uint_fast64_t cyc_lost; /* records the core had not taken yet */

    /* instruction limit (lua_budget.c; the thread running the strategy) */
    uint64_t instr_used; /* counted for the current callback, in hook periods */
    uint64_t instr_mark; /* n_events when the count started */
    bool instr_tripped;  /* over the limit: every instruction now raises */

    /* error accounting (worker thread writes, anyone reads) */
    int64_t *err_ts; /* ring of error_limit timestamps */
    size_t err_head, err_n;

    /* status visible to the core */
    atomic_int state;    /* enum qts_lua_state */
    atomic_int op_state; /* the host's operating state (0 aggressive, 1 balanced, 2 defensive) */
    atomic_int cancel_pending; /* core must call sink->cancel_all */
    atomic_int reload_pending; /* 1 reload, 2 stop (file deleted) */
    atomic_uint_fast64_t n_callbacks, n_errors, n_budget_over, n_events;
    atomic_uint_fast64_t n_reloads, n_reload_fail;
    atomic_uint_fast64_t n_intents_full;
    /* time in Lua per dispatch: a count per bucket of qts_lua_cb_bounds_ns
     * (the last: above them all) and the sum, for /metrics */
    atomic_uint_fast64_t cb_buckets[QTS_LUA_CB_BUCKETS + 1], cb_ns_sum;
    char last_error[QTS_LUA_ERR_MAX]; /* written by the worker, read after sync */
    char status_reason[QTS_LUA_ERR_MAX];
};

/* Create the strategy object and its intent ring. Strings are copied;
 * `instruments` and `clock` are borrowed and must outlive the strategy.
 * Does not touch Lua (qts_lua_strategy_open does, on the worker). Owned by
 * the caller: qts_lua_strategy_free(). */
struct qts_lua_strategy *qts_lua_strategy_new(uint32_t id, const char *name, const char *path,
                                              struct qts_lua_instruments *instruments,
                                              struct qts_clock *clock);
void qts_lua_strategy_free(struct qts_lua_strategy *s);

/* Create the lua_State, run the prelude from `lua_dir` (borrowed), load
 * the file, call on_init. On failure the state is closed and `err` says
 * file:line. */
int qts_lua_strategy_open(struct qts_lua_strategy *s, const char *lua_dir, struct qts_err *err);
/* Deliver `n` events (borrowed pointers; idx[i] = index in the caller's
 * step, may be NULL) through the dispatcher. Errors in callbacks are
 * logged and counted; the dispatcher is re-entered after the failing event
 * so no event is lost. Returns 0, QTS_EHALTED if the strategy got halted,
 * QTS_ESTATE if not running. */
int qts_lua_strategy_dispatch(struct qts_lua_strategy *s, const struct qts_ev_hdr *const *evs,
                              const size_t *idx, size_t n);
/* Fire due timers (clock time). */
int qts_lua_strategy_timers(struct qts_lua_strategy *s, int64_t now_ns);
/* Hot reload from s->path: compile, old on_stop -> new on_reload (or
 * on_init). On any error the old module keeps running and err says why. */
int qts_lua_strategy_reload(struct qts_lua_strategy *s, struct qts_err *err);
/* Call on_end(ctx, state, reason) of a running strategy; `reason`
 * borrowed. QTS_ELUA when it raised (logged; the strategy keeps running). */
int qts_lua_strategy_end(struct qts_lua_strategy *s, const char *reason);
/* Call on_stop (result discarded) and close the lua_State. */
void qts_lua_strategy_close(struct qts_lua_strategy *s);
/* Update mirrors from an event (called before dispatch). */
void qts_lua_strategy_mirror(struct qts_lua_strategy *s, const struct qts_ev_hdr *ev);
bool qts_lua_strategy_wants(const struct qts_lua_strategy *s, const struct qts_ev_hdr *ev);
/* Halt: state HALTED, cancel_pending set, reason recorded. */
void qts_lua_strategy_halt(struct qts_lua_strategy *s, int state, const char *reason);

/* Instruction limit (lua_budget.c), for strategies with max_instructions:
 * install makes every function compiled from strategy source JIT-off (the
 * count hook never runs in compiled code) and sets the count hook; arm
 * starts a new callback's count (each entry into Lua); disarm removes the
 * hook (before lua_close, whose finalizers must run even after a trip). */
void qts_lua_budget_install(struct qts_lua_strategy *s);
void qts_lua_budget_arm(struct qts_lua_strategy *s);
void qts_lua_budget_disarm(struct qts_lua_strategy *s);

#endif /* QTS_LUA_STRATEGY_H */
