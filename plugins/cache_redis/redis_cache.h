/* redis_cache.h — internal to cache_redis: the plugin's state (struct
 * redis_cache), the ring of commands in flight (struct pending), a warm-start
 * scan (struct scan_op), and the functions the plugin's files share. Not an
 * ABI: only the files of plugins/cache_redis include it.
 *
 *   cache_redis.c   configuration, lifecycle, descriptor
 *   redis_conn.c    connection, circuit breaker, watchdog, the ring of
 *                   commands in flight and their replies
 *   redis_cmds.c    the cache operations (set, get, del, hset, zset, budget,
 *                   health) and the warm-start scan; the operations table
 *   redis_tls.c     the TLS bridge (redis_tls.h)
 *   redis_uv.c      hiredis on the libuv loop (redis_uv.h)
 *   redis_sentinel.c  finding the primary through Redis Sentinel
 *
 * Everything runs on the host's loop thread. Pointers to struct redis_cache
 * passed between these files are borrowed: the host owns the instance
 * (host->alloc in redis_init, freed by redis_destroy). The instance owns
 * the ring, the hiredis context `ac` and the TLS bridge; a struct scan_op
 * is owned by its own reference count (one per ring entry pointing at it). */
#ifndef QTS_REDIS_CACHE_H
#define QTS_REDIS_CACHE_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <uv.h>

#include "qts/qts_plugin.h"
#include "redis_tls.h"

#define PREFIX_MAX 128
#define KEY_MAX 512
#define BUDGET_KEYS_MAX 8
#define ARGS_MAX 600 /* 4 + 2 * 298 fields/members */
#define SENTINELS_MAX 8

enum { SCRIPT_HSET = 0, SCRIPT_ZSET = 1, SCRIPT_BUDGET = 2, SCRIPT_CLAIM = 3, N_SCRIPTS = 4 };

enum cmd_kind {
    CMD_WRITE = 1,
    CMD_GET,
    CMD_BUDGET,
    CMD_SETUP,
    CMD_SCRIPT,
    CMD_SCAN,
    CMD_HGETALL,
    CMD_CLAIM,
    CMD_ROLE /* setup through Sentinel: is this server the primary? */
};

/* ST_RESOLVING: asking Sentinel for the primary (sentinels configured) */
enum conn_state { ST_IDLE = 0, ST_RESOLVING, ST_CONNECTING, ST_SETUP, ST_UP };

struct scan_op;

struct pending {
    int64_t sent_ns;
    uint8_t kind;
    uint8_t script; /* CMD_SCRIPT: which sha */
    uint8_t bkey;   /* CMD_BUDGET: index in budget_keys */
    int64_t delta;  /* CMD_BUDGET: what was asked (a lost release still counts) */
    void *cb;
    void *arg;
    struct scan_op *scan;
};

struct scan_op {
    struct redis_cache *c;
    qts_cache_entry_fn cb;
    void *arg;
    char match[KEY_MAX];
    int refs;     /* ring entries pointing here */
    bool is_done; /* cursor back at 0 */
    int status;   /* first failure */
};

struct redis_cache {
    const struct qts_host_api *host;
    void *owner;
    uv_loop_t *loop;

    /* configuration */
    char host_name[256];
    int port;
    char unix_path[256];
    int db;
    char user[128];
    char password[256];
    char prefix[PREFIX_MAX];
    size_t prefix_n;
    char shared_prefix[PREFIX_MAX];
    size_t shared_n;
    int64_t connect_timeout_ms, command_timeout_ms;
    int64_t reconnect_min_ms, reconnect_max_ms;
    int64_t breaker_failures, breaker_open_ms;
    uint32_t max_pending;
    bool tls, tls_verify;
    char tls_ca_file[256], tls_ca_dir[256], tls_cert_file[256], tls_key_file[256];
    char tls_server_name[256];

    /* Sentinel (empty: host/port name the server). host_name/port then
     * hold the primary Sentinel named last. */
    struct {
        char host[256];
        int port;
    } sentinels[SENTINELS_MAX];
    int n_sentinels;
    char master_name[128];
    redisAsyncContext *sac; /* owned: the query in progress, NULL between */
    int sentinel_at;    /* the sentinel being asked (next round starts at the one that answered) */
    int sentinel_tried; /* sentinels asked in this round */
    int64_t sentinel_started_ns;
    bool sentinel_peek; /* asked while the breaker is open: connect only to a new primary */
    int64_t next_peek_ns;
    int64_t peek_ms;        /* the interval of those questions (0: breaker not open) */
    char sentinel_err[160]; /* the last sentinel's failure, for the log */

    /* connection */
    redisAsyncContext *ac;
    SSL_CTX *tls_ctx;               /* owned; NULL without TLS */
    struct qts_redis_tls *tls_conn; /* owned; the bridge of the current attempt */
    enum conn_state state;
    int open_handles;
    int setup_left;
    bool setup_failed;
    char sha[N_SCRIPTS][41];
    int64_t connect_started_ns;
    int64_t next_attempt_ns; /* 0 = none scheduled */
    int64_t backoff_ms;
    bool ever_connected;

    /* breaker */
    int breaker; /* QTS_CACHE_UP (closed), QTS_CACHE_OPEN, QTS_CACHE_HALF_OPEN */
    int64_t opened_ns;
    bool in_outage; /* logged once per outage */

    /* in-flight ring */
    struct pending *ring;
    uint32_t ring_mask, head, count;

    /* budget counters this host reserved in: what it holds in each (the
     * script's answer), re-sent as a lease renewal every lease_ms / 3 */
    struct {
        char key[KEY_MAX];
        int64_t held;
        int64_t ttl_ms; /* the counter's TTL as last asked (kept by renewals) */
    } budget_keys[BUDGET_KEYS_MAX];
    int n_budget_keys;
    int64_t lease_ms;      /* budget_lease_ttl_ms: a silent host's holdings go back */
    int64_t next_renew_ns; /* next lease renewal */

    uint64_t watchdog;
    bool is_running, is_stopping;
    int64_t drain_until_ns; /* stop: commands in flight answered, or this passed */
    struct qts_cache_health st;
};

static inline int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

#define LOG(c, lvl, ...) (c)->host->log((c)->owner, (lvl), __VA_ARGS__)

/* ---- redis_conn.c */

/* Drops the hiredis context and the bridge (pending callbacks run with NULL
 * replies); safe inside a hiredis callback. */
void redis_drop_connection(struct redis_cache *c);
/* A connection-level failure: breaker, drop, next attempt. `what` and
 * `detail` borrowed (logged). */
void redis_fail(struct redis_cache *c, const char *what, const char *detail);
void redis_connect_now(struct redis_cache *c);
/* The watchdog timer's callback; `arg` is the struct redis_cache (borrowed). */
void redis_watchdog(void *arg);
/* Decimal digits of v into dst (no NUL); returns the count. */
size_t redis_u64_str(char *dst, uint64_t v);
/* Sends argv (borrowed, copied into hiredis's buffer); on success adds one
 * ring entry and returns it (borrowed, valid until its reply), else NULL. */
struct pending *redis_send_argv(struct redis_cache *c, int argc, const char **argv,
                                const size_t *argvlen, uint8_t kind);

/* Connects hiredis to host_name:port (through the TLS bridge with TLS, or
 * to the unix socket): the step after Sentinel named the primary. */
void redis_connect_primary(struct redis_cache *c);

/* ---- redis_sentinel.c */

/* Parses `sentinels` ("host:port,host:port") into c; 0 or QTS_ECONFIG. */
int redis_sentinel_config(struct redis_cache *c, const char *list, struct qts_err *err);
/* Asks the sentinels in turn for the primary of master_name; on an answer
 * connects to it (redis_connect_primary), when none answers redis_fail().
 * `peek`: only connect when the primary moved (the breaker is open). */
void redis_sentinel_resolve(struct redis_cache *c, bool peek);
/* Watchdog: a sentinel that does not answer within connect_timeout_ms is
 * skipped; while the breaker is open Sentinel is asked whether the primary
 * moved, every reconnect_min_ms doubling to reconnect_max_ms. */
void redis_sentinel_tick(struct redis_cache *c, int64_t now);
/* Drops the query in progress (stop, destroy). */
void redis_sentinel_drop(struct redis_cache *c);

/* ---- redis_cmds.c */

/* The operations table of the descriptor. */
extern const struct qts_cache_ops redis_ops;
/* Drops one reference; the last one reports the end and frees `s`. */
void redis_scan_unref(struct scan_op *s);
/* redis_cmds.c: what this host holds in budget counter `slot` (the
 * script's answer); renew the leases of every counter when due. */
void redis_budget_held(struct redis_cache *c, uint8_t slot, int64_t held);
void redis_budget_renew(struct redis_cache *c);
/* As the connection comes up (nothing else in flight): restate what this
 * host holds in every budget counter (the script's `restate`). */
void redis_budget_restate(struct redis_cache *c);
/* Replies of a warm-start scan; `r` borrowed (NULL: not answered). */
void redis_scan_reply(struct redis_cache *c, struct scan_op *s, redisReply *r);
/* `key` owned: the copy made when the HGETALL was queued, freed here. */
void redis_hgetall_reply(struct redis_cache *c, struct scan_op *s, redisReply *r, char *key);

#endif
