/* qts_plugin.h — the plugin ABI: descriptor, host services, kind tables.
 *
 * A plugin is a shared object that exports exactly one symbol,
 * `qts_plugin_entry`, returning a static descriptor. Everything the plugin
 * may call in the host arrives as a table (struct qts_host_api) together with
 * an opaque `owner` handle that the plugin passes back on every call, so the
 * host knows which instance asked and can clean up after it (timers, HTTP
 * requests, posts) when it is unloaded.
 *
 * Versioning: every struct here starts with `uint32_t struct_size`; fields
 * are only appended. QTS_ABI_MAJOR changes when anything is removed or
 * changed (all plugins must be rebuilt); QTS_ABI_MINOR when fields are
 * appended (a plugin built against minor <= the host's loads). The build
 * signature must match exactly (pointer size, time_t size, sanitizers).
 *
 * Threading: init/start/stop/destroy/export/import and every kind operation
 * are called on the core loop thread. A plugin that owns threads declares
 * QTS_CAP_THREADS and hands data back only through host->post().
 *
 * Ownership: pointers passed by the host to a plugin are borrowed for the
 * duration of the call unless stated otherwise; the plugin copies what it
 * keeps. A plugin frees only what it allocated.
 *
 * docs/plugins.md is the guide for plugin authors.
 */
#ifndef QTS_PLUGIN_H
#define QTS_PLUGIN_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "qts_err.h"
#include "qts_types.h"

#ifdef __cplusplus
extern "C" {
#endif

#define QTS_ABI_MAJOR 1
#define QTS_ABI_MINOR 5

/* Build signature: things that must agree between host and plugin for the
 * structs to have the same layout and the same allocator behaviour. */
#define QTS_SIG_STR2_(x) #x
#define QTS_SIG_STR_(x) QTS_SIG_STR2_(x)
#if defined(__SANITIZE_ADDRESS__)
#define QTS_SIG_ASAN_ "asan"
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define QTS_SIG_ASAN_ "asan"
#endif
#endif
#ifndef QTS_SIG_ASAN_
#define QTS_SIG_ASAN_ "noasan"
#endif
#define QTS_BUILD_SIG                                                 \
    "qts1;ptr" QTS_SIG_STR_(__SIZEOF_POINTER__) ";long" QTS_SIG_STR_( \
        __SIZEOF_LONG__) ";" QTS_SIG_ASAN_

/* True when the table `tbl` (a pointer to any struct here that starts with
 * struct_size, e.g. the host API or a kind table) is large enough to hold
 * `member` and the member is set: the check before using a field appended
 * in a later minor than the other side may have been built with. */
#define QTS_HAS(tbl, member)                                                               \
    ((tbl) != NULL &&                                                                      \
     (tbl)->struct_size >= offsetof(__typeof__(*(tbl)), member) + sizeof((tbl)->member) && \
     (tbl)->member != NULL)

#if defined(__GNUC__)
#define QTS_PLUGIN_EXPORT __attribute__((visibility("default")))
#else
#define QTS_PLUGIN_EXPORT
#endif

enum qts_plugin_kind {
    QTS_KIND_FEED = 1,
    QTS_KIND_BROKER = 2,
    QTS_KIND_CACHE = 3,
    QTS_KIND_STORE = 4,
};

#define QTS_CAP_STATE_XFER (UINT64_C(1) << 0) /* implements export/import_state */
#define QTS_CAP_THREADS (UINT64_C(1) << 1)    /* owns threads, joins them in stop() */
#define QTS_CAP_RAW_LOOP (UINT64_C(1) << 2)   /* opens its own uv handles */
#define QTS_CAP_RESIDENT (UINT64_C(1) << 3)   /* never dlclose this library */

enum qts_log_level {
    QTS_LOG_TRACE = 0,
    QTS_LOG_DEBUG = 1,
    QTS_LOG_INFO = 2,
    QTS_LOG_WARN = 3,
    QTS_LOG_ERROR = 4,
    QTS_LOG_FATAL = 5,
};

/* A byte string that may hold NULs. Borrowed unless stated. */
struct qts_str {
    const char *p;
    size_t n;
};

/* A growable output buffer owned by the host (export_state writes into it). */
struct qts_buf {
    uint32_t struct_size;
    int (*append)(struct qts_buf *buf, const void *p, size_t n);
    void *host_private;
};

/* ------------------------------------------------------------- HTTP service */

struct qts_http_header {
    const char *name;  /* borrowed */
    const char *value; /* borrowed */
};

struct qts_http_request {
    uint32_t struct_size;
    const char *method;                    /* "GET", "POST", ... borrowed */
    const char *url;                       /* borrowed */
    const struct qts_http_header *headers; /* borrowed, n_headers entries */
    size_t n_headers;
    struct qts_str body;         /* copied by the host before return */
    uint32_t timeout_ms;         /* whole request; 0 = host default */
    uint32_t connect_timeout_ms; /* 0 = host default */
};

struct qts_http_response {
    uint32_t struct_size;
    int status;                            /* HTTP status, 0 if none arrived */
    int code;                              /* 0, QTS_ETIMEDOUT, QTS_ENET, ... */
    const char *error;                     /* text when code != 0 */
    struct qts_str body;                   /* borrowed for the callback */
    const struct qts_http_header *headers; /* borrowed for the callback */
    size_t n_headers;
    int64_t elapsed_ns;
};

/* Called on the core loop exactly once per accepted request (also when the
 * request is cancelled: code QTS_ECANCELED). */
typedef void (*qts_http_fn)(void *arg, const struct qts_http_response *resp);
typedef void (*qts_timer_fn)(void *arg);
typedef void (*qts_post_fn)(void *arg);

/* ------------------------------------------------------------ host services */

struct qts_host_api {
    uint32_t struct_size;
    uint16_t abi_major;
    uint16_t abi_minor;

    /* memory (owned by the caller, free with host->free) */
    void *(*alloc)(void *owner, size_t n);
    void (*free)(void *owner, void *p);

    /* logging: key=value fields are written by the plugin in the message */
    void (*log)(void *owner, int level, const char *fmt, ...) QTS_PRINTF(3, 4);

    /* time: virtual (data) time in replay mode, wall time otherwise */
    int64_t (*now_ns)(void *owner);

    /* timers on the core loop; `repeat_ms` 0 = one shot. Cancelled on unload.
     * From start() on (QTS_ESTATE during init: init does no I/O). */
    int (*timer_start)(void *owner, uint64_t timeout_ms, uint64_t repeat_ms, qts_timer_fn cb,
                       void *arg, uint64_t *timer_id);
    int (*timer_stop)(void *owner, uint64_t timer_id);

    /* thread-safe: run fn(arg) on the core loop. The only call a plugin
     * thread may make. Accepted until stop() has returned 0 (a draining
     * plugin's threads may still hand data back); QTS_ECLOSED after that.
     * Every accepted post runs exactly once. */
    int (*post)(void *owner, qts_post_fn fn, void *arg);

    /* configuration: the plugin's own subtree (`plugins.<slot>.config`).
     * `path` is dotted ("rest.timeout_ms"). Returns QTS_ENOENT when absent
     * (out untouched), QTS_ECONFIG on a wrong type (err says where). */
    int (*cfg_str)(void *owner, const char *path, const char **out,
                   struct qts_err *err); /* *out borrowed until destroy */
    int (*cfg_int)(void *owner, const char *path, int64_t *out, struct qts_err *err);
    int (*cfg_double)(void *owner, const char *path, double *out, struct qts_err *err);
    int (*cfg_bool)(void *owner, const char *path, bool *out, struct qts_err *err);

    /* secrets: from the environment or a 0600 file; never logged */
    int (*secret_get)(void *owner, const char *name, char *buf, size_t cap, struct qts_err *err);

    /* metrics: counters and gauges named "<plugin>.<name>" */
    void (*metric_add)(void *owner, const char *name, int64_t delta);
    void (*metric_set)(void *owner, const char *name, int64_t value);

    /* instruments */
    int (*instrument_define)(void *owner, const struct qts_instrument *inst,
                             uint32_t *id_out); /* copied; existing symbol -> its id */
    const struct qts_instrument *(*instrument_find)(void *owner, const char *symbol);
    /* result borrowed, valid for the run */

    /* events into the core (core loop thread only; copied by the host).
     * Inside poll(), an event not yet due at the host's pace is refused
     * with QTS_EAGAIN: keep it and offer it again at the next poll. */
    int (*emit_trade)(void *owner, const struct qts_trade *ev);
    int (*emit_quote)(void *owner, const struct qts_quote *ev);
    int (*emit_book)(void *owner, const struct qts_book_update *ev);
    int (*emit_bar)(void *owner, const struct qts_bar *ev);
    int (*emit_exec_report)(void *owner, const struct qts_exec_report *rep);
    int (*emit_position)(void *owner, const struct qts_broker_position *pos);
    /* end of a reconciliation answer started with query_* (req_id given there) */
    int (*emit_query_done)(void *owner, uint64_t req_id, int status);

    /* asynchronous HTTP(S) through libcurl multi on the core loop */
    int (*http_request)(void *owner, const struct qts_http_request *req, qts_http_fn cb, void *arg,
                        uint64_t *req_id);
    int (*http_cancel)(void *owner, uint64_t req_id);

    /* QTS_CAP_RAW_LOOP only (NULL for other plugins): the core loop, a
     * `uv_loop_t *`. Each uv handle the plugin opens on it holds a reference:
     * handle_ref after uv_*_init, handle_unref as the last statement of the
     * handle's close callback (the instance may be destroyed inside it).
     * Close every handle in stop() and return QTS_EAGAIN until the close
     * callbacks have run. */
    void *(*uv_loop)(void *owner);
    void (*handle_ref)(void *owner);
    void (*handle_unref)(void *owner);

    /* ---- appended in ABI 1.2 ---- */
    /* answer to qts_broker_ops.query_buying_power (copied by the host) */
    int (*emit_buying_power)(void *owner, const struct qts_buying_power *bp);
};

/* ---------------------------------------------------------------- kind tables */

/* feed: market data. Live feeds emit from their own I/O callbacks; replay
 * feeds are pulled by the host with `poll` so replays run in lockstep. */
struct qts_feed_ops {
    uint32_t struct_size;
    int (*subscribe)(void *self, const char *symbol);   /* optional */
    int (*unsubscribe)(void *self, const char *symbol); /* optional */
    /* optional: emit up to `max_events` events through host->emit_*.
     * Returns the number emitted (>0), 0 if none is ready now, QTS_EEOF at
     * the end of the data, or a negative error. */
    int (*poll)(void *self, uint32_t max_events);
    /* optional: fraction of the data consumed, 0..1, for progress display */
    double (*progress)(void *self);
};

enum qts_broker_env {
    QTS_BROKER_ENV_SIMULATED = 0, /* in-process simulation */
    QTS_BROKER_ENV_PAPER = 1,     /* the venue's paper-trading server */
    QTS_BROKER_ENV_REAL = 2,      /* real money */
};

/* broker: orders. All operations are asynchronous: 0 means "handed over",
 * the outcome arrives as execution reports through host->emit_exec_report. */
struct qts_broker_ops {
    uint32_t struct_size;
    int (*env)(void *self);                                      /* required */
    int (*submit)(void *self, const struct qts_broker_order *o); /* required */
    int (*cancel)(void *self, const char *client_order_id,
                  const char *venue_order_id);                    /* required */
    int (*modify)(void *self, const struct qts_broker_modify *m); /* optional */
    /* optional reconciliation: answer with emit_exec_report(STATUS) per open
     * order / emit_position per position, then emit_query_done(req_id). */
    int (*query_open_orders)(void *self, uint64_t req_id);
    int (*query_positions)(void *self, uint64_t req_id);
    /* optional: market events for simulated venues (borrowed for the call) */
    void (*on_market)(void *self, const struct qts_ev_hdr *ev);

    /* ---- appended in ABI 1.2 (check struct_size before use) ---- */
    /* optional: the venue's current price and order book for `symbol`,
     * answered with emit_trade (last price) and emit_book (flag
     * QTS_BOOK_SNAPSHOT), then emit_query_done(req_id). Used to seed the
     * book at start and after a market-data reconnect. */
    int (*query_market)(void *self, const char *symbol, uint64_t req_id);
    /* optional: cash and quantity the account can buy of `symbol` at `px`
     * (0 = market), answered with emit_buying_power then emit_query_done. */
    int (*query_buying_power)(void *self, const char *symbol, int64_t px, uint64_t req_id);
    /* optional, brokers that also carry the venue's market data: add or
     * drop a real-time subscription while running (QTS_EFULL when the
     * venue's per-session limit is reached). */
    int (*subscribe)(void *self, const char *symbol);
    int (*unsubscribe)(void *self, const char *symbol);

    /* ---- appended in ABI 1.4 (check struct_size before use) ---- */
    /* optional, simulated venues: the replay's data has ended and no event
     * will follow. Orders waiting for a next bar fill at the last prices
     * (docs/paper-broker.md "Bars"). Called once, after the strategies'
     * on_end orders have reached the venue. */
    void (*on_data_end)(void *self);
};

/* cache: the hot-data tier. Writes are fire-and-forget and must never block;
 * `ttl_ms` 0 = no expiry. Value and TTL are set atomically. */
typedef void (*qts_cache_get_fn)(void *arg, int status, struct qts_str value);

/* ---- appended in ABI 1.1: cache health, budget and warm-start scan ---- */
enum qts_cache_state {
    QTS_CACHE_UP = 0,         /* connected, commands flow */
    QTS_CACHE_CONNECTING = 1, /* (re)connecting; writes are dropped and counted */
    QTS_CACHE_OPEN = 2,       /* circuit breaker open: no calls until the probe */
    QTS_CACHE_HALF_OPEN = 3,  /* one probe in flight */
};
struct qts_cache_health {
    uint32_t struct_size;
    int32_t state;    /* enum qts_cache_state */
    uint32_t pending; /* commands sent and not answered yet */
    uint32_t consecutive_failures;
    uint64_t writes_ok;
    uint64_t writes_failed;  /* sent, then failed or timed out */
    uint64_t writes_dropped; /* not sent: down, breaker open or backlog full */
    uint64_t failures;       /* connection failures and command timeouts */
    uint64_t reconnects;     /* successful connections after the first */
    uint64_t breaker_opens;
};
/* Copies h into the caller's out, no more than the out->struct_size bytes the
 * caller's version knows, and keeps that size: for a cache's health op. */
static inline void qts_cache_health_put(struct qts_cache_health *out, struct qts_cache_health h)
{
    size_t n = out->struct_size < sizeof h ? out->struct_size : sizeof h;
    h.struct_size = out->struct_size;
    memcpy(out, &h, n);
}
typedef void (*qts_cache_budget_fn)(void *arg, int status, int64_t used);
typedef void (*qts_cache_entry_fn)(void *arg, int status, struct qts_str key,
                                   const struct qts_str *fields, const struct qts_str *values,
                                   size_t n, bool done);

struct qts_cache_ops {
    uint32_t struct_size;
    int (*set)(void *self, struct qts_str key, struct qts_str value, int64_t ttl_ms); /* required */
    int (*get)(void *self, struct qts_str key, qts_cache_get_fn cb, void *arg);       /* required */
    int (*del)(void *self, struct qts_str key);                                       /* required */
    /* optional: hash of fields, replaced whole, with TTL */
    int (*hset)(void *self, struct qts_str key, const struct qts_str *fields,
                const struct qts_str *values, size_t n, int64_t ttl_ms);
    /* optional: sorted set replaced whole (score = price), with TTL */
    int (*zset_replace)(void *self, struct qts_str key, const double *scores,
                        const struct qts_str *members, size_t n, int64_t ttl_ms);

    /* ---- appended in ABI 1.1 (docs/cache.md) ---- */
    /* optional: state of the connection and counters (copied into *out,
     * whose struct_size the caller sets). */
    int (*health)(void *self, struct qts_cache_health *out);
    /* optional: atomic check-and-add on a budget counter shared by every
     * host (the key lives under the shared prefix, not the host prefix).
     * delta > 0 reserves: granted only if used + delta <= limit; delta < 0
     * releases (the counter never goes below 0). The counter's TTL is set
     * to ttl_ms (0 = none) in the same step. cb runs once, on the core loop,
     * with status 0 (granted), QTS_EREJECT (over the limit) or a transport
     * error, and the counter after the call. Never called when the function
     * returns an error. */
    int (*budget)(void *self, struct qts_str key, int64_t delta, int64_t limit, int64_t ttl_ms,
                  qts_cache_budget_fn cb, void *arg);
    /* optional: every hash whose key (without the host prefix) matches the
     * glob `pattern`, for warm start. cb runs once per hash (done = false)
     * and once at the end (done = true, n = 0) with the final status. All
     * pointers are borrowed for the callback. */
    int (*scan_hashes)(void *self, struct qts_str pattern, qts_cache_entry_fn cb, void *arg);

    /* ---- appended in ABI 1.5 (docs/cache.md, "Several hosts") ---- */
    /* optional: claim a key under the shared prefix for `owner`, atomically:
     * absent -> set to owner with a TTL of ttl_ms; already owner's -> TTL
     * renewed; another owner's -> refused, unchanged. With `release` the key
     * is deleted if (and only if) it holds `owner`. cb runs once on the core
     * loop with 0 (held by owner, or released), QTS_EREJECT (value = the
     * current owner) or a transport error. Never called when the function
     * returns an error. */
    int (*claim)(void *self, struct qts_str key, struct qts_str owner, int64_t ttl_ms, bool release,
                 qts_cache_get_fn cb, void *arg);
};

/* store: durable records. Called on the store writer thread (not the core
 * loop): operations may block. Record layouts: qts_store.h. */
struct qts_store_record;
struct qts_store_load_opts;
struct qts_store_query;
struct qts_store_ops {
    uint32_t struct_size;
    int (*migrate)(void *self, struct qts_err *err); /* required */
    int (*write_batch)(void *self, const struct qts_store_record *const *recs, size_t n,
                       struct qts_err *err);      /* required */
    int (*ping)(void *self, struct qts_err *err); /* optional */
    /* --- appended: store operations of qts_store.h (all optional) --- */
    /* Deliver the state a host needs at start (struct qts_store_load_opts
     * says what, in which order); `cb` gets borrowed records. */
    int (*load_state)(void *self, const struct qts_store_load_opts *opts,
                      int (*cb)(void *arg, const struct qts_store_record *rec), void *arg,
                      struct qts_err *err);
    /* Report queries (struct qts_store_query); results as records. */
    int (*query)(void *self, const struct qts_store_query *q,
                 int (*cb)(void *arg, const struct qts_store_record *rec), void *arg,
                 struct qts_err *err);
    /* Partition maintenance and retention as of `now_ns`: create time-series
     * partitions ahead, drop those wholly older than their retention. */
    int (*maintain)(void *self, int64_t now_ns, struct qts_err *err);
    /* Recompute the rollup buckets touched since the last refresh, up to
     * `now_ns`. */
    int (*refresh_rollups)(void *self, int64_t now_ns, struct qts_err *err);
    /* appended, optional: every row of `table` (a table records are written
     * to: "tick_data", "fills", "runs", ...) that this store's host_id wrote
     * (ohlcv_1m/ohlcv_1d: every row), as records with their rec_id and
     * values with 8 decimals, in key order. `qts migrate --from` copies a
     * store into another with it. QTS_ENOENT for an unknown table. */
    int (*export_table)(void *self, const char *table,
                        int (*cb)(void *arg, const struct qts_store_record *rec), void *arg,
                        struct qts_err *err);
};

/* ------------------------------------------------------- configuration keys */

/* A plugin declares every key of its `config:` subtree in a table (after
 * nginx's command table); the host checks the user's subtree against it
 * when it loads the plugin, with the same file:line:col diagnostics and
 * "did you mean" as for its own keys, before init runs. The plugin still
 * reads values with cfg_str/cfg_int/... and keeps its own defaults and range
 * checks; `default_text` and `doc` are what the user is told (docs, README).
 *
 * `name` is dotted for nested maps ("retention.tick_days"). The table ends
 * with QTS_CFG_END. Its layout is fixed for ABI major 1 (entries are an
 * array: a new member would change the stride), so it is never appended to;
 * `flags` is 0. */
enum qts_cfg_key_type {
    QTS_CFG_KEY_STR = 1,      /* any scalar, read with cfg_str */
    QTS_CFG_KEY_INT = 2,      /* an integer, read with cfg_int */
    QTS_CFG_KEY_DEC = 3,      /* a number (integer or decimal), read with cfg_double */
    QTS_CFG_KEY_BOOL = 4,     /* true/false, read with cfg_bool */
    QTS_CFG_KEY_DURATION = 5, /* integer milliseconds, read with cfg_int */
    QTS_CFG_KEY_LIST = 6,     /* a comma-separated string or a list of scalars */
};

struct qts_cfg_key {
    const char *name;         /* key under config:, dotted when nested */
    uint32_t type;            /* enum qts_cfg_key_type; 0 ends the table */
    uint32_t flags;           /* 0 */
    const char *default_text; /* as the user would write it; NULL = none */
    const char *doc;          /* one line for the user */
};

#define QTS_CFG_KEY_(name_, type_, def_, doc_) \
    {                                          \
        (name_), (type_), 0, (def_), (doc_)    \
    }
#define QTS_CFG_STR(name, def, doc) QTS_CFG_KEY_(name, QTS_CFG_KEY_STR, def, doc)
#define QTS_CFG_INT(name, def, doc) QTS_CFG_KEY_(name, QTS_CFG_KEY_INT, def, doc)
#define QTS_CFG_DEC(name, def, doc) QTS_CFG_KEY_(name, QTS_CFG_KEY_DEC, def, doc)
#define QTS_CFG_BOOL(name, def, doc) QTS_CFG_KEY_(name, QTS_CFG_KEY_BOOL, def, doc)
#define QTS_CFG_DURATION(name, def, doc) QTS_CFG_KEY_(name, QTS_CFG_KEY_DURATION, def, doc)
#define QTS_CFG_LIST(name, def, doc) QTS_CFG_KEY_(name, QTS_CFG_KEY_LIST, def, doc)
#define QTS_CFG_END            \
    {                          \
        NULL, 0, 0, NULL, NULL \
    }

/* ---------------------------------------------------------------- descriptor */

struct qts_plugin_desc {
    uint32_t struct_size;
    uint16_t abi_major;
    uint16_t abi_minor;
    const char *build_sig; /* QTS_BUILD_SIG */
    const char *name;      /* "broker_paper"; copied by the host */
    const char *version;   /* "1.0.0"; copied by the host */
    uint32_t kind;         /* enum qts_plugin_kind */
    uint32_t reserved0;
    uint64_t caps; /* QTS_CAP_* */
    /* init: allocate and read configuration; no I/O. `host` and `owner` stay
     * valid until destroy returns. */
    int (*init)(const struct qts_host_api *host, void *owner, void **self, struct qts_err *err);
    int (*start)(void *self, struct qts_err *err);
    int (*stop)(void *self);     /* 0 = drained; QTS_EAGAIN = ask again */
    void (*destroy)(void *self); /* after stop, or after a failed init/start */
    int (*export_state)(void *self, struct qts_buf *out);     /* optional */
    int (*import_state)(void *self, const void *p, size_t n); /* optional */
    const void *ops; /* struct qts_feed_ops / qts_broker_ops / ... */

    /* ---- appended in ABI 1.3 ---- */
    /* the keys of the plugin's config: subtree, ending with QTS_CFG_END;
     * NULL (or a plugin built before 1.3) = the subtree is not checked.
     * Static data of the plugin: borrowed by the host while it is loaded. */
    const struct qts_cfg_key *config_keys;
};

typedef const struct qts_plugin_desc *(*qts_plugin_entry_fn)(uint16_t host_major,
                                                             uint16_t host_minor);

#define QTS_PLUGIN_ENTRY_SYMBOL "qts_plugin_entry"

/* The whole descriptor and the exported entry in one place:
 *
 *   QTS_PLUGIN_DEFINE("broker_paper", QTS_KIND_BROKER, "1.0.0", &pb_ops, pb_keys,
 *                     QTS_CAP_STATE_XFER, .init = pb_init, .start = pb_start,
 *                     .stop = pb_stop, .destroy = pb_destroy,
 *                     .export_state = pb_export, .import_state = pb_import);
 *
 * The trailing arguments are designated initializers of the lifecycle
 * operations. The entry hands the descriptor to any host: the host checks
 * the ABI numbers and says what does not match. QTS_PLUGIN_DEFINE_AS also
 * takes the head (struct_size, ABI numbers, build signature); only the ABI
 * tests need it, to build plugins that claim another ABI. */
#define QTS_PLUGIN_DEFINE_AS(size_, major_, minor_, sig_, name_, kind_, version_, ops_, keys_, \
                             caps_, ...)                                                       \
    static const struct qts_plugin_desc qts_plugin_desc_ = {.struct_size = (size_),            \
                                                            .abi_major = (major_),             \
                                                            .abi_minor = (minor_),             \
                                                            .build_sig = (sig_),               \
                                                            .name = (name_),                   \
                                                            .version = (version_),             \
                                                            .kind = (kind_),                   \
                                                            .caps = (caps_),                   \
                                                            .ops = (ops_),                     \
                                                            .config_keys = (keys_),            \
                                                            __VA_ARGS__};                      \
    QTS_PLUGIN_EXPORT const struct qts_plugin_desc *qts_plugin_entry(uint16_t host_major,      \
                                                                     uint16_t host_minor);     \
    QTS_PLUGIN_EXPORT const struct qts_plugin_desc *qts_plugin_entry(uint16_t host_major,      \
                                                                     uint16_t host_minor)      \
    {                                                                                          \
        (void)host_major;                                                                      \
        (void)host_minor;                                                                      \
        return &qts_plugin_desc_;                                                              \
    }                                                                                          \
    struct qts_plugin_define_semicolon_
#define QTS_PLUGIN_DEFINE(name_, kind_, version_, ops_, keys_, caps_, ...)             \
    QTS_PLUGIN_DEFINE_AS(sizeof(struct qts_plugin_desc), QTS_ABI_MAJOR, QTS_ABI_MINOR, \
                         QTS_BUILD_SIG, name_, kind_, version_, ops_, keys_, caps_, __VA_ARGS__)

#ifdef __cplusplus
}
#endif
#endif /* QTS_PLUGIN_H */
