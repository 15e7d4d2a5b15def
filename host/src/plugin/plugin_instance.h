/* plugin_instance.h — one plugin instance and the host services it gets
 * (struct qts_host_api).
 *
 * The `owner` handle a plugin passes back on every host call is the
 * instance record (struct qts_plugin_inst). Everything the plugin acquires
 * through it — timers (uv_timer_t), HTTP requests, queued posts, the post
 * uv_async_t, in-flight calls from the host — holds a reference. The
 * instance is destroyed (desc.destroy) only when its stop() has returned 0
 * (or it never started) and the count is back to zero; the plugin manager
 * then unloads the library on a later loop turn.
 *
 * Events a plugin emits go to a small sink table that the engine provides.
 * Emits are accepted while the instance is running or still stopping
 * (stop() returned QTS_EAGAIN: in-flight answers still arrive); after stop()
 * returned 0 they are dropped and counted (qts_plugin_inst_dropped and the
 * metric "plugins.dropped_events").
 *
 * Everything here runs on the loop thread, except these services, which
 * any thread may call: post (QTS_CAP_THREADS), and for a store plugin,
 * whose operations run on the store writer thread: log, now_ns (the run's
 * clock: a virtual clock is read atomically), metric_add/metric_set (the
 * registry locks), alloc/free, secret_get (environment and files only) and
 * the cfg_* readers (the tree is read-only; list joins are locked).
 * timer_start/timer_stop answer QTS_EPERM off the loop thread; http, emits,
 * instrument_* and uv_loop are for the loop thread only.
 */
#ifndef QTS_PLUGIN_INSTANCE_H
#define QTS_PLUGIN_INSTANCE_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "clock.h"
#include "config_tree.h"
#include "qts/qts_plugin.h"

struct qts_plugin_lib;
struct qts_http_client;
struct qts_metrics;
struct qts_timer_svc;

/* Who emitted an event (borrowed for the sink call). */
struct qts_plugin_origin {
    const char *slot;   /* configuration slot, e.g. "md" */
    const char *plugin; /* plugin name */
    uint64_t gen;       /* load generation */
};

/* The engine's entry points for plugin events. Every pointer may be NULL
 * (the event is dropped and counted; the emit returns QTS_EUNSUPPORTED).
 * Events are borrowed for the call: the engine copies what it keeps.
 * Called on the loop thread only. */
struct qts_event_sink {
    void *ctx;
    int (*trade)(void *ctx, const struct qts_plugin_origin *from, const struct qts_trade *ev);
    int (*quote)(void *ctx, const struct qts_plugin_origin *from, const struct qts_quote *ev);
    int (*book)(void *ctx, const struct qts_plugin_origin *from, const struct qts_book_update *ev);
    int (*bar)(void *ctx, const struct qts_plugin_origin *from, const struct qts_bar *ev);
    int (*exec_report)(void *ctx, const struct qts_plugin_origin *from,
                       const struct qts_exec_report *rep);
    int (*position)(void *ctx, const struct qts_plugin_origin *from,
                    const struct qts_broker_position *pos);
    int (*query_done)(void *ctx, const struct qts_plugin_origin *from, uint64_t req_id, int status);
    int (*instrument_define)(void *ctx, const struct qts_instrument *inst, uint32_t *id_out);
    const struct qts_instrument *(*instrument_find)(void *ctx, const char *symbol);
    int (*buying_power)(void *ctx, const struct qts_plugin_origin *from,
                        const struct qts_buying_power *bp);
};

/* Shared services for every instance; all borrowed, must outlive them. */
struct qts_plugin_env {
    uv_loop_t *loop;
    struct qts_http_client *http;      /* NULL: http_request -> QTS_EUNSUPPORTED */
    struct qts_metrics *metrics;       /* NULL: metrics are discarded */
    const struct qts_event_sink *sink; /* NULL: every emit is dropped */
    const struct qts_clock *clock;     /* NULL: wall clock */
    const char *secrets_dir;           /* NULL: secrets from the environment only */
    /* Replay: plugin timers run on this service (virtual time, fired by the
     * engine as data time advances) instead of libuv timers. NULL = libuv. */
    const struct qts_timer_svc *timers;
    /* account.initial_cash (decimal text; NULL = none): what a broker's
     * `initial_cash` reads when its own config: does not set it, so a
     * simulated venue starts with the account's cash (docs/config.md). */
    const char *account_cash;
};

enum qts_plugin_inst_state {
    QTS_INST_NEW = 0,      /* created, init not yet called */
    QTS_INST_READY = 1,    /* init succeeded */
    QTS_INST_RUNNING = 2,  /* start called */
    QTS_INST_STOPPING = 3, /* stop returned QTS_EAGAIN; asked again later */
    QTS_INST_STOPPED = 4,  /* stop returned 0 (or aborted); draining */
    QTS_INST_DESTROYED = 5 /* destroy called; only the record is left */
};

struct qts_plugin_inst; /* opaque */

typedef void (*qts_plugin_inst_fn)(void *arg, struct qts_plugin_inst *inst);

/* Create an instance of `lib` (its refcount is not touched: the caller
 * keeps the library until the instance is destroyed). `slot` is copied;
 * `cfg` (the plugin's `config:` subtree, may be NULL) and `env` are
 * borrowed and must outlive the instance. */
struct qts_plugin_inst *qts_plugin_inst_new(const struct qts_plugin_env *env,
                                            struct qts_plugin_lib *lib, const char *slot,
                                            uint64_t gen, const struct qts_cfg_node *cfg);
/* Called once the instance has been destroyed (refs reached zero). May run
 * inside a libuv callback: defer heavy work (dlclose) to a later turn. */
void qts_plugin_inst_on_destroyed(struct qts_plugin_inst *inst, qts_plugin_inst_fn cb, void *arg);
/* Free the record. Only in state NEW or DESTROYED. */
void qts_plugin_inst_free(struct qts_plugin_inst *inst);

/* Lifecycle (loop thread). init: NEW -> READY. start: READY -> RUNNING.
 * stop: RUNNING/STOPPING -> STOPPING (QTS_EAGAIN) or STOPPED (0; also when
 * the plugin's stop fails, which is logged). abort: any state before
 * STOPPED -> STOPPED without calling stop (after a failed init or start, or
 * an instance that never started). */
int qts_plugin_inst_init(struct qts_plugin_inst *inst, struct qts_err *err);
int qts_plugin_inst_start(struct qts_plugin_inst *inst, struct qts_err *err);
int qts_plugin_inst_stop(struct qts_plugin_inst *inst);
void qts_plugin_inst_abort(struct qts_plugin_inst *inst);

/* State hand-over (both sides QTS_CAP_STATE_XFER). `out`/`p` borrowed. */
int qts_plugin_inst_export(struct qts_plugin_inst *inst, char **out, size_t *n,
                           struct qts_err *err); /* *out owned: free() */
int qts_plugin_inst_import(struct qts_plugin_inst *inst, const void *p, size_t n,
                           struct qts_err *err);

/* Bracket every host -> plugin call made outside this module (kind
 * operations), so a reload never destroys an instance mid-call. */
void qts_plugin_inst_enter(struct qts_plugin_inst *inst);
void qts_plugin_inst_leave(struct qts_plugin_inst *inst);
/* Host -> plugin calls currently on the stack (> 0 inside a plugin callback). */
int qts_plugin_inst_in_call(const struct qts_plugin_inst *inst);

enum qts_plugin_inst_state qts_plugin_inst_state(const struct qts_plugin_inst *inst);
void *qts_plugin_inst_self(const struct qts_plugin_inst *inst);
struct qts_plugin_lib *qts_plugin_inst_lib(const struct qts_plugin_inst *inst);
const struct qts_plugin_desc *qts_plugin_inst_desc(const struct qts_plugin_inst *inst);
const char *qts_plugin_inst_slot(const struct qts_plugin_inst *inst);
uint64_t qts_plugin_inst_gen(const struct qts_plugin_inst *inst);
/* References still held (timers, requests, posts, handles, calls, life). */
int qts_plugin_inst_refs(const struct qts_plugin_inst *inst);
/* Events dropped because they were emitted after stop. */
uint64_t qts_plugin_inst_dropped(const struct qts_plugin_inst *inst);
/* Timers and HTTP requests currently held. */
size_t qts_plugin_inst_timers(const struct qts_plugin_inst *inst);
size_t qts_plugin_inst_http(const struct qts_plugin_inst *inst);

/* The services table (static, shared by every instance). */
const struct qts_host_api *qts_plugin_host_api(void);

#endif
