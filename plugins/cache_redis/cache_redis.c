/* cache_redis.c — the Redis tier: hiredis 0.14 asynchronous API on the
 * host's libuv loop, one pipelined connection.
 *
 * - Every command goes on one connection; replies come back in order, so a
 *   ring of {send time, kind, callback} entries matches them (no allocation
 *   per command on our side).
 * - Timeouts are ours (hiredis 0.14 has none for async): one watchdog timer
 *   checks the oldest unanswered command, the connect deadline, the
 *   reconnect back-off and the breaker's half-open time.
 * - Circuit breaker: `breaker_failures` consecutive failures (connect error,
 *   connect or command timeout, lost connection) open it; after
 *   `breaker_open_ms` one probe connection is made (half-open); success
 *   closes it, failure opens it again.
 * - While not connected every operation returns QTS_ENET at once and is
 *   counted: nothing waits for Redis.
 * - Writes are atomic with their TTL: SET ... PX, or a Lua script (DEL,
 *   HSET/ZADD, PEXPIRE) loaded at connect and called with EVALSHA.
 * - Keys get the host prefix ("qts:<host_id>:" by default); budget keys the
 *   shared prefix ("qts:shared:").
 * - TLS without a TLS-capable hiredis (0.14 has none): an in-process bridge
 *   (redis_tls.c, docs/adr/0003-redis-tls.md) makes the TCP+TLS connection
 *   on the same loop; hiredis then connects in plain text to the bridge's
 *   private unix socket. The connect timeout covers resolve, TCP, handshake
 *   and setup; a failure at any of them is a connection failure (back-off,
 *   breaker).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <uv.h>

#include "qts/qts_plugin.h"
#include "redis_tls.h"
#include "redis_uv.h"

#define PREFIX_MAX 128
#define KEY_MAX 512
#define ARGS_MAX 600 /* 4 + 2 * 298 fields/members */

static const char HSET_SCRIPT[] =
    "redis.call('DEL', KEYS[1])\n"
    "redis.call('HSET', KEYS[1], unpack(ARGV, 2))\n"
    "if tonumber(ARGV[1]) > 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end\n"
    "return 1\n";
static const char ZSET_SCRIPT[] =
    "redis.call('DEL', KEYS[1])\n"
    "redis.call('ZADD', KEYS[1], unpack(ARGV, 2))\n"
    "if tonumber(ARGV[1]) > 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end\n"
    "return 1\n";
/* KEYS[1]=counter ARGV: delta limit ttl_ms -> {granted 0|1, used} */
static const char BUDGET_SCRIPT[] =
    "local used = tonumber(redis.call('GET', KEYS[1]) or '0')\n"
    "local delta = tonumber(ARGV[1])\n"
    "local limit = tonumber(ARGV[2])\n"
    "if delta > 0 and used + delta > limit then return {0, used} end\n"
    "used = used + delta\n"
    "if used < 0 then used = 0 end\n"
    "local v = string.format('%d', used)\n"
    "if tonumber(ARGV[3]) > 0 then redis.call('SET', KEYS[1], v, 'PX', ARGV[3])\n"
    "else redis.call('SET', KEYS[1], v) end\n"
    "return {1, used}\n";

enum { SCRIPT_HSET = 0, SCRIPT_ZSET = 1, SCRIPT_BUDGET = 2, N_SCRIPTS = 3 };

enum cmd_kind { CMD_WRITE = 1, CMD_GET, CMD_BUDGET, CMD_SETUP, CMD_SCRIPT, CMD_SCAN, CMD_HGETALL };

enum conn_state { ST_IDLE = 0, ST_CONNECTING, ST_SETUP, ST_UP };

struct scan_op;

struct pending {
    int64_t sent_ns;
    uint8_t kind;
    uint8_t script;         /* CMD_SCRIPT: which sha */
    void *cb;
    void *arg;
    struct scan_op *scan;
};

struct scan_op {
    struct redis_cache *c;
    qts_cache_entry_fn cb;
    void *arg;
    char match[KEY_MAX];
    int refs;               /* ring entries pointing here */
    bool is_done;           /* cursor back at 0 */
    int status;             /* first failure */
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

    /* connection */
    redisAsyncContext *ac;
    SSL_CTX *tls_ctx;          /* owned; NULL without TLS */
    struct qts_redis_tls *tls_conn; /* owned; the bridge of the current attempt */
    enum conn_state state;
    int open_handles;
    int setup_left;
    bool setup_failed;
    char sha[N_SCRIPTS][41];
    int64_t connect_started_ns;
    int64_t next_attempt_ns;   /* 0 = none scheduled */
    int64_t backoff_ms;
    bool ever_connected;

    /* breaker */
    int breaker;               /* QTS_CACHE_UP (closed), QTS_CACHE_OPEN, QTS_CACHE_HALF_OPEN */
    int64_t opened_ns;
    bool in_outage;            /* logged once per outage */

    /* in-flight ring */
    struct pending *ring;
    uint32_t ring_mask, head, count;

    uint64_t watchdog;
    bool is_running, is_stopping;
    struct qts_cache_health st;
};

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

#define LOG(c, lvl, ...) (c)->host->log((c)->owner, (lvl), __VA_ARGS__)

static void connect_now(struct redis_cache *c);

/* ---------------------------------------------------------------- breaker */

static void drop_connection(struct redis_cache *c)
{
    redisAsyncContext *ac = c->ac;
    c->ac = NULL;
    c->state = ST_IDLE;
    if (ac)
        redisAsyncFree(ac); /* pending callbacks run with NULL replies */
    if (c->tls_conn) { /* after hiredis: its commands fail as "not sent" */
        qts_redis_tls_close(c->tls_conn);
        c->tls_conn = NULL;
    }
}

static void schedule_reconnect(struct redis_cache *c)
{
    if (c->is_stopping)
        return;
    int64_t now = mono_ns();
    if (c->breaker == QTS_CACHE_OPEN) {
        c->next_attempt_ns = c->opened_ns + c->breaker_open_ms * 1000000;
        return;
    }
    c->next_attempt_ns = now + c->backoff_ms * 1000000;
    c->backoff_ms = c->backoff_ms * 2 > c->reconnect_max_ms ? c->reconnect_max_ms
                                                            : c->backoff_ms * 2;
}

/* A connection-level failure: counts for the breaker, drops the connection
 * and schedules the next attempt. */
static void fail(struct redis_cache *c, const char *what, const char *detail)
{
    c->st.failures++;
    c->st.consecutive_failures++;
    c->host->metric_add(c->owner, "failures", 1);
    if (!c->in_outage) {
        c->in_outage = true;
        LOG(c, QTS_LOG_WARN,
            "redis unavailable what=%s detail=\"%s\"; trading continues on in-process "
            "state, writes are dropped and counted until it is back",
            what, detail ? detail : "");
    }
    if (c->breaker == QTS_CACHE_HALF_OPEN ||
        (c->breaker == QTS_CACHE_UP && c->st.consecutive_failures >= (uint64_t)c->breaker_failures)) {
        if (c->breaker == QTS_CACHE_UP) {
            c->st.breaker_opens++;
            LOG(c, QTS_LOG_ERROR, "redis circuit breaker open failures=%u retry_in_ms=%" PRId64,
                c->st.consecutive_failures, c->breaker_open_ms);
        }
        c->breaker = QTS_CACHE_OPEN;
        c->opened_ns = mono_ns();
        c->host->metric_set(c->owner, "breaker_open", 1);
    }
    drop_connection(c);
    schedule_reconnect(c);
}

static void connected_ok(struct redis_cache *c)
{
    c->state = ST_UP;
    c->st.consecutive_failures = 0;
    c->backoff_ms = c->reconnect_min_ms;
    if (c->ever_connected)
        c->st.reconnects++;
    c->ever_connected = true;
    if (c->breaker != QTS_CACHE_UP)
        c->host->metric_set(c->owner, "breaker_open", 0);
    c->breaker = QTS_CACHE_UP;
    if (c->in_outage) {
        c->in_outage = false;
        LOG(c, QTS_LOG_INFO, "redis back failures=%" PRIu64 " dropped=%" PRIu64,
            c->st.failures, c->st.writes_dropped);
    } else {
        LOG(c, QTS_LOG_INFO, "redis connected prefix=%s", c->prefix);
    }
}

/* ------------------------------------------------------------------- ring */

static struct pending *ring_push(struct redis_cache *c)
{
    struct pending *p = &c->ring[(c->head + c->count) & c->ring_mask];
    c->count++;
    memset(p, 0, sizeof *p);
    p->sent_ns = mono_ns();
    return p;
}

static int reply_status(const redisReply *r)
{
    if (!r)
        return QTS_ENET;
    if (r->type == REDIS_REPLY_ERROR)
        return QTS_EREJECT;
    return 0;
}

static void scan_unref(struct scan_op *s);
static void scan_reply(struct redis_cache *c, struct scan_op *s, redisReply *r);
static void hgetall_reply(struct redis_cache *c, struct scan_op *s, redisReply *r, char *key);

static void on_reply(redisAsyncContext *ac, void *reply, void *priv)
{
    struct redis_cache *c = priv;
    (void)ac;
    redisReply *r = reply;
    if (c->count == 0)
        return; /* cannot happen: one ring entry per command */
    struct pending p = c->ring[c->head];
    c->head = (c->head + 1) & c->ring_mask;
    c->count--;
    int st = reply_status(r);
    if (r && st == 0 && c->state == ST_UP && c->st.consecutive_failures)
        c->st.consecutive_failures = 0;
    switch (p.kind) {
    case CMD_WRITE:
        if (st == 0)
            c->st.writes_ok++;
        else {
            c->st.writes_failed++;
            if (r && r->type == REDIS_REPLY_ERROR && strncmp(r->str, "NOSCRIPT", 8) == 0 &&
                c->ac && c->state == ST_UP) {
                /* SCRIPT FLUSH on the server: a new connection loads them
                 * again. Not a failure of Redis: the breaker is not told. */
                LOG(c, QTS_LOG_WARN, "redis lost its scripts (SCRIPT FLUSH?); reconnecting");
                drop_connection(c); /* inside a callback: hiredis frees it after */
                c->next_attempt_ns = mono_ns();
            }
        }
        break;
    case CMD_GET: {
        qts_cache_get_fn cb = (qts_cache_get_fn)p.cb;
        struct qts_str v = {"", 0};
        if (!r)
            cb(p.arg, c->is_stopping ? QTS_ECANCELED : QTS_ENET, v);
        else if (r->type == REDIS_REPLY_NIL)
            cb(p.arg, QTS_ENOENT, v);
        else if (r->type == REDIS_REPLY_STRING)
            cb(p.arg, 0, (struct qts_str){r->str, r->len});
        else if (r->type == REDIS_REPLY_INTEGER) {
            char buf[32];
            int n = snprintf(buf, sizeof buf, "%lld", r->integer);
            cb(p.arg, 0, (struct qts_str){buf, (size_t)n});
        } else
            cb(p.arg, QTS_EINVAL, v);
        break;
    }
    case CMD_BUDGET: {
        qts_cache_budget_fn cb = (qts_cache_budget_fn)p.cb;
        if (!r) /* sent but unanswered: Redis may or may not have applied it */
            cb(p.arg, c->is_stopping ? QTS_ECANCELED : QTS_EUNKNOWN, 0);
        else if (r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
                 r->element[0]->type == REDIS_REPLY_INTEGER &&
                 r->element[1]->type == REDIS_REPLY_INTEGER)
            cb(p.arg, r->element[0]->integer ? 0 : QTS_EREJECT, r->element[1]->integer);
        else
            cb(p.arg, QTS_EIO, 0);
        break;
    }
    case CMD_SETUP:
    case CMD_SCRIPT:
        if (st != 0 || (p.kind == CMD_SCRIPT && r->type != REDIS_REPLY_STRING)) {
            if (!c->setup_failed && r) {
                c->setup_failed = true;
                LOG(c, QTS_LOG_ERROR, "redis setup failed: %s",
                    r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
            }
            c->setup_failed = true;
        } else if (p.kind == CMD_SCRIPT) {
            snprintf(c->sha[p.script], sizeof c->sha[p.script], "%.*s", (int)r->len, r->str);
        }
        if (--c->setup_left == 0 && r) {
            if (c->setup_failed) {
                c->setup_failed = false;
                /* inside a hiredis callback: the free is deferred by hiredis */
                fail(c, "setup", "AUTH/SELECT/SCRIPT LOAD refused");
            } else {
                connected_ok(c);
            }
        }
        break;
    case CMD_SCAN:
        scan_reply(c, p.scan, r);
        scan_unref(p.scan);
        break;
    case CMD_HGETALL:
        hgetall_reply(c, p.scan, r, p.arg);
        scan_unref(p.scan);
        break;
    default:
        break;
    }
}

/* Decimal digits of v into dst (no NUL); returns the count. snprintf costs
 * more than the rest of a command's formatting. */
static size_t u64_str(char *dst, uint64_t v)
{
    char tmp[20];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++)
        dst[i] = tmp[n - 1 - i];
    return n;
}

/* RESP array of bulk strings into buf; returns its length, or 0 if it does
 * not fit (the caller then lets hiredis format it). */
static size_t format_resp(char *buf, size_t cap, int argc, const char **argv,
                          const size_t *argvlen)
{
    size_t o = 0;
    if (cap < 32)
        return 0;
    buf[o++] = '*';
    o += u64_str(buf + o, (uint64_t)argc);
    buf[o++] = '\r';
    buf[o++] = '\n';
    for (int i = 0; i < argc; i++) {
        if (cap - o < argvlen[i] + 28) /* "$" + 20 digits + 2 CRLF */
            return 0;
        buf[o++] = '$';
        o += u64_str(buf + o, argvlen[i]);
        buf[o++] = '\r';
        buf[o++] = '\n';
        memcpy(buf + o, argv[i], argvlen[i]);
        o += argvlen[i];
        buf[o++] = '\r';
        buf[o++] = '\n';
    }
    return o;
}

/* Send argv; on success one ring entry is added and returned. */
static struct pending *send_argv(struct redis_cache *c, int argc, const char **argv,
                                 const size_t *argvlen, uint8_t kind)
{
    if (!c->ac || c->count > c->ring_mask) /* ring full */
        return NULL;
    /* formatting on the stack saves hiredis an allocation per command */
    char buf[4096];
    size_t n = format_resp(buf, sizeof buf, argc, argv, argvlen);
    int rc = n ? redisAsyncFormattedCommand(c->ac, on_reply, c, buf, n)
               : redisAsyncCommandArgv(c->ac, on_reply, c, argc, argv, argvlen);
    if (rc != REDIS_OK)
        return NULL;
    struct pending *p = ring_push(c);
    p->kind = kind;
    return p;
}

/* ------------------------------------------------------------- connection */

static void on_connect(const redisAsyncContext *ac, int status)
{
    struct redis_cache *c = ac->data;
    if (ac != c->ac)
        return;
    if (status != REDIS_OK) {
        char detail[128];
        snprintf(detail, sizeof detail, "%s", ac->errstr);
        c->ac = NULL; /* hiredis frees it after this callback */
        c->state = ST_IDLE;
        fail(c, "connect", detail);
        return;
    }
    c->state = ST_SETUP;
    if (!c->unix_path[0] && !c->tls) /* notice a dead peer on an idle connection */
        redisEnableKeepAlive((redisContext *)&ac->c);
    c->setup_left = 0;
    c->setup_failed = false;
    if (c->password[0]) {
        const char *argv[3] = {"AUTH", c->user[0] ? c->user : c->password, c->password};
        size_t len[3] = {4, strlen(argv[1]), strlen(c->password)};
        if (send_argv(c, c->user[0] ? 3 : 2, argv, len, CMD_SETUP))
            c->setup_left++;
    }
    if (c->db) {
        char db[16];
        int n = snprintf(db, sizeof db, "%d", c->db);
        const char *argv[2] = {"SELECT", db};
        size_t len[2] = {6, (size_t)n};
        if (send_argv(c, 2, argv, len, CMD_SETUP))
            c->setup_left++;
    }
    const char *scripts[N_SCRIPTS] = {HSET_SCRIPT, ZSET_SCRIPT, BUDGET_SCRIPT};
    for (int i = 0; i < N_SCRIPTS; i++) {
        const char *argv[3] = {"SCRIPT", "LOAD", scripts[i]};
        size_t len[3] = {6, 4, strlen(scripts[i])};
        struct pending *p = send_argv(c, 3, argv, len, CMD_SCRIPT);
        if (p) {
            p->script = (uint8_t)i;
            c->setup_left++;
        }
    }
}

static void on_disconnect(const redisAsyncContext *ac, int status)
{
    struct redis_cache *c = ac->data;
    if (ac != c->ac)
        return; /* we dropped it ourselves */
    c->ac = NULL;
    c->state = ST_IDLE;
    if (!c->is_stopping)
        fail(c, "disconnect", status == REDIS_OK ? "closed" : ac->errstr);
}

static void connect_hiredis(struct redis_cache *c, const char *unix_path);

static void on_tls_event(void *arg, enum qts_redis_tls_event ev, const char *text)
{
    struct redis_cache *c = arg;
    if (ev == QTS_REDIS_TLS_READY) {
        connect_hiredis(c, text);
        return;
    }
    /* a handshake failure is a connection failure like any other */
    fail(c, c->state == ST_UP ? "tls" : "connect", text);
}

static void connect_now(struct redis_cache *c)
{
    c->next_attempt_ns = 0;
    if (c->breaker == QTS_CACHE_OPEN) {
        c->breaker = QTS_CACHE_HALF_OPEN;
        LOG(c, QTS_LOG_INFO, "redis circuit breaker half-open: probing");
    }
    if (c->tls) {
        char msg[256];
        c->state = ST_CONNECTING;
        c->connect_started_ns = mono_ns();
        if (qts_redis_tls_open(c->loop, c->tls_ctx, c->host_name, c->port, c->tls_server_name,
                               c->tls_verify, on_tls_event, c, &c->open_handles, &c->tls_conn,
                               msg, sizeof msg) < 0) {
            c->state = ST_IDLE;
            fail(c, "connect", msg);
        }
        return;
    }
    connect_hiredis(c, c->unix_path[0] ? c->unix_path : NULL);
}

/* hiredis to `unix_path` (our own socket or the bridge's), else TCP. */
static void connect_hiredis(struct redis_cache *c, const char *unix_path)
{
    redisAsyncContext *ac = unix_path ? redisAsyncConnectUnix(unix_path)
                                      : redisAsyncConnect(c->host_name, c->port);
    if (!ac) {
        fail(c, "connect", "out of memory");
        return;
    }
    if (ac->err) {
        char detail[128];
        snprintf(detail, sizeof detail, "%s", ac->errstr);
        redisAsyncFree(ac);
        fail(c, "connect", detail);
        return;
    }
    if (qts_redis_uv_attach(ac, c->loop, &c->open_handles) != 0) {
        redisAsyncFree(ac);
        fail(c, "connect", "uv_poll_init failed");
        return;
    }
    ac->data = c;
    c->ac = ac;
    if (!c->tls_conn) { /* through the bridge the clock started with the TCP connect */
        c->state = ST_CONNECTING;
        c->connect_started_ns = mono_ns();
    }
    redisAsyncSetDisconnectCallback(ac, on_disconnect);
    redisAsyncSetConnectCallback(ac, on_connect);
}

static void watchdog(void *arg)
{
    struct redis_cache *c = arg;
    int64_t now = mono_ns();
    if ((c->ac || c->tls_conn) && c->state != ST_UP && c->state != ST_IDLE &&
        now - c->connect_started_ns > c->connect_timeout_ms * 1000000) {
        char detail[64];
        if (c->state == ST_SETUP)
            snprintf(detail, sizeof detail, "setup unanswered");
        else if (c->tls_conn && !c->ac)
            snprintf(detail, sizeof detail, "no answer (%s)", qts_redis_tls_stage(c->tls_conn));
        else
            snprintf(detail, sizeof detail, "no answer");
        fail(c, "connect timeout", detail);
        return;
    }
    if (c->ac && c->state == ST_UP && c->count > 0 &&
        now - c->ring[c->head].sent_ns > c->command_timeout_ms * 1000000) {
        fail(c, "command timeout", "reply overdue");
        return;
    }
    if (!c->ac && !c->tls_conn && c->next_attempt_ns && now >= c->next_attempt_ns)
        connect_now(c);
    c->host->metric_set(c->owner, "pending", (int64_t)c->count);
}

/* ------------------------------------------------------------------ ops */

static bool writable(struct redis_cache *c)
{
    if (c->state != ST_UP || !c->ac) {
        c->st.writes_dropped++;
        return false;
    }
    if (c->count >= c->max_pending) {
        c->st.writes_dropped++;
        return false;
    }
    return true;
}

static int make_key(const char *prefix, size_t pn, struct qts_str key, char *buf, size_t *n)
{
    if (!key.n || pn + key.n >= KEY_MAX)
        return QTS_EINVAL;
    memcpy(buf, prefix, pn);
    memcpy(buf + pn, key.p, key.n);
    *n = pn + key.n;
    buf[*n] = '\0';
    return 0;
}

static int unavailable(struct redis_cache *c)
{
    return c->count >= c->max_pending && c->state == ST_UP ? QTS_EFULL : QTS_ENET;
}

static int op_set(void *self, struct qts_str key, struct qts_str value, int64_t ttl_ms)
{
    struct redis_cache *c = self;
    char k[KEY_MAX];
    size_t kn;
    if (ttl_ms < 0 || make_key(c->prefix, c->prefix_n, key, k, &kn) < 0)
        return QTS_EINVAL;
    if (!writable(c))
        return unavailable(c);
    char ttl[24];
    size_t tn = u64_str(ttl, (uint64_t)ttl_ms);
    const char *argv[5] = {"SET", k, value.p ? value.p : "", "PX", ttl};
    size_t len[5] = {3, kn, value.n, 2, tn};
    if (!send_argv(c, ttl_ms > 0 ? 5 : 3, argv, len, CMD_WRITE)) {
        c->st.writes_dropped++;
        return QTS_ENET;
    }
    return 0;
}

static int op_get(void *self, struct qts_str key, qts_cache_get_fn cb, void *arg)
{
    struct redis_cache *c = self;
    char k[KEY_MAX];
    size_t kn;
    if (!cb || make_key(c->prefix, c->prefix_n, key, k, &kn) < 0)
        return QTS_EINVAL;
    if (c->state != ST_UP || c->count >= c->max_pending)
        return unavailable(c);
    const char *argv[2] = {"GET", k};
    size_t len[2] = {3, kn};
    struct pending *p = send_argv(c, 2, argv, len, CMD_GET);
    if (!p)
        return QTS_ENET;
    p->cb = (void *)cb;
    p->arg = arg;
    return 0;
}

static int op_del(void *self, struct qts_str key)
{
    struct redis_cache *c = self;
    char k[KEY_MAX];
    size_t kn;
    if (make_key(c->prefix, c->prefix_n, key, k, &kn) < 0)
        return QTS_EINVAL;
    if (!writable(c))
        return unavailable(c);
    const char *argv[2] = {"UNLINK", k};
    size_t len[2] = {6, kn};
    if (!send_argv(c, 2, argv, len, CMD_WRITE)) {
        c->st.writes_dropped++;
        return QTS_ENET;
    }
    return 0;
}

/* EVALSHA <sha> 1 key ttl a0 b0 a1 b1 ... (pairs). `num` non-NULL: the
 * first element of each pair is a number (zset score). */
static int eval_pairs(struct redis_cache *c, int script, struct qts_str key,
                      const double *num, const struct qts_str *a, const struct qts_str *b,
                      size_t n, int64_t ttl_ms)
{
    char k[KEY_MAX];
    size_t kn;
    if (ttl_ms < 0 || 5 + 2 * n > ARGS_MAX || make_key(c->prefix, c->prefix_n, key, k, &kn) < 0)
        return QTS_EINVAL;
    if (!writable(c))
        return unavailable(c);
    const char *argv[ARGS_MAX];
    size_t len[ARGS_MAX];
    char ttl[24];
    char (*scores)[32] = NULL;
    int argc = 0;
    if (n == 0) { /* an empty hash or set does not exist in Redis */
        argv[argc] = "UNLINK"; len[argc++] = 6;
        argv[argc] = k; len[argc++] = kn;
    } else {
        int tn = snprintf(ttl, sizeof ttl, "%" PRId64, ttl_ms);
        argv[argc] = "EVALSHA"; len[argc++] = 7;
        argv[argc] = c->sha[script]; len[argc++] = 40;
        argv[argc] = "1"; len[argc++] = 1;
        argv[argc] = k; len[argc++] = kn;
        argv[argc] = ttl; len[argc++] = (size_t)tn;
        if (num) {
            scores = c->host->alloc(c->owner, n * sizeof *scores);
            if (!scores)
                return QTS_ENOMEM;
        }
        for (size_t i = 0; i < n; i++) {
            if (num) {
                int sn = snprintf(scores[i], sizeof scores[i], "%.17g", num[i]);
                argv[argc] = scores[i]; len[argc++] = (size_t)sn;
                argv[argc] = a[i].p ? a[i].p : ""; len[argc++] = a[i].n;
            } else {
                argv[argc] = a[i].p ? a[i].p : ""; len[argc++] = a[i].n;
                argv[argc] = b[i].p ? b[i].p : ""; len[argc++] = b[i].n;
            }
        }
    }
    struct pending *p = send_argv(c, argc, argv, len, CMD_WRITE);
    if (scores)
        c->host->free(c->owner, scores);
    if (!p) {
        c->st.writes_dropped++;
        return QTS_ENET;
    }
    return 0;
}

static int op_hset(void *self, struct qts_str key, const struct qts_str *fields,
                   const struct qts_str *values, size_t n, int64_t ttl_ms)
{
    if (n && (!fields || !values))
        return QTS_EINVAL;
    return eval_pairs(self, SCRIPT_HSET, key, NULL, fields, values, n, ttl_ms);
}

static int op_zset_replace(void *self, struct qts_str key, const double *scores,
                           const struct qts_str *members, size_t n, int64_t ttl_ms)
{
    if (n && (!scores || !members))
        return QTS_EINVAL;
    return eval_pairs(self, SCRIPT_ZSET, key, scores, members, NULL, n, ttl_ms);
}

static int op_health(void *self, struct qts_cache_health *out)
{
    struct redis_cache *c = self;
    if (!out || out->struct_size < sizeof(uint32_t))
        return QTS_EINVAL;
    struct qts_cache_health h = c->st;
    if (c->breaker == QTS_CACHE_OPEN)
        h.state = QTS_CACHE_OPEN;
    else if (c->breaker == QTS_CACHE_HALF_OPEN)
        h.state = QTS_CACHE_HALF_OPEN;
    else
        h.state = c->state == ST_UP ? QTS_CACHE_UP : QTS_CACHE_CONNECTING;
    h.pending = c->count;
    size_t n = out->struct_size < sizeof h ? out->struct_size : sizeof h;
    h.struct_size = out->struct_size;
    memcpy(out, &h, n);
    return 0;
}

static int op_budget(void *self, struct qts_str key, int64_t delta, int64_t limit,
                     int64_t ttl_ms, qts_cache_budget_fn cb, void *arg)
{
    struct redis_cache *c = self;
    char k[KEY_MAX];
    size_t kn;
    if (!cb || ttl_ms < 0 || limit < 0 ||
        make_key(c->shared_prefix, c->shared_n, key, k, &kn) < 0)
        return QTS_EINVAL;
    if (c->state != ST_UP || c->count >= c->max_pending)
        return unavailable(c);
    char d[24], l[24], t[24];
    int dn = snprintf(d, sizeof d, "%" PRId64, delta);
    int ln = snprintf(l, sizeof l, "%" PRId64, limit);
    int tn = snprintf(t, sizeof t, "%" PRId64, ttl_ms);
    const char *argv[7] = {"EVALSHA", c->sha[SCRIPT_BUDGET], "1", k, d, l, t};
    size_t len[7] = {7, 40, 1, kn, (size_t)dn, (size_t)ln, (size_t)tn};
    struct pending *p = send_argv(c, 7, argv, len, CMD_BUDGET);
    if (!p)
        return QTS_ENET;
    p->cb = (void *)cb;
    p->arg = arg;
    return 0;
}

/* ----------------------------------------------------------- warm start */

static void scan_unref(struct scan_op *s)
{
    if (--s->refs > 0)
        return;
    struct redis_cache *c = s->c;
    if (!s->is_done && s->status == 0)
        s->status = QTS_ENET;
    s->cb(s->arg, s->status, (struct qts_str){"", 0}, NULL, NULL, 0, true);
    c->host->free(c->owner, s);
}

static bool scan_send(struct redis_cache *c, struct scan_op *s, const char *cursor, size_t cn)
{
    const char *argv[6] = {"SCAN", cursor, "MATCH", s->match, "COUNT", "1000"};
    size_t len[6] = {4, cn, 5, strlen(s->match), 5, 4};
    struct pending *p = send_argv(c, 6, argv, len, CMD_SCAN);
    if (!p)
        return false;
    p->scan = s;
    s->refs++;
    return true;
}

static void scan_reply(struct redis_cache *c, struct scan_op *s, redisReply *r)
{
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
        r->element[0]->type != REDIS_REPLY_STRING || r->element[1]->type != REDIS_REPLY_ARRAY) {
        if (!s->status)
            s->status = r ? QTS_EIO : c->is_stopping ? QTS_ECANCELED : QTS_ENET;
        return;
    }
    redisReply *keys = r->element[1];
    for (size_t i = 0; i < keys->elements; i++) {
        redisReply *k = keys->element[i];
        if (k->type != REDIS_REPLY_STRING)
            continue;
        const char *argv[2] = {"HGETALL", k->str};
        size_t len[2] = {7, k->len};
        struct pending *p = send_argv(c, 2, argv, len, CMD_HGETALL);
        if (!p) {
            s->status = QTS_ENET;
            return;
        }
        /* the key travels in the reply order: keep it in arg */
        char *copy = c->host->alloc(c->owner, k->len + 1);
        if (!copy) {
            s->status = QTS_ENOMEM;
            p->arg = NULL;
        } else {
            memcpy(copy, k->str, k->len);
            copy[k->len] = '\0';
            p->arg = copy;
        }
        p->scan = s;
        s->refs++;
    }
    const char *cursor = r->element[0]->str;
    if (strcmp(cursor, "0") == 0)
        s->is_done = true;
    else if (!scan_send(c, s, cursor, r->element[0]->len))
        s->status = QTS_ENET;
}

/* `key` is the copy made when the HGETALL was queued (owned, freed here). */
static void hgetall_reply(struct redis_cache *c, struct scan_op *s, redisReply *r, char *key)
{
    if (key && r && r->type == REDIS_REPLY_ARRAY && r->elements >= 2 && s->status == 0) {
        size_t n = r->elements / 2;
        struct qts_str *f = c->host->alloc(c->owner, 2 * n * sizeof *f);
        if (f) {
            struct qts_str *v = f + n;
            size_t m = 0;
            for (size_t i = 0; i < n; i++) {
                redisReply *a = r->element[2 * i], *b = r->element[2 * i + 1];
                if (a->type != REDIS_REPLY_STRING || b->type != REDIS_REPLY_STRING)
                    continue;
                f[m] = (struct qts_str){a->str, a->len};
                v[m++] = (struct qts_str){b->str, b->len};
            }
            size_t kl = strlen(key);
            struct qts_str k = {key + c->prefix_n, kl > c->prefix_n ? kl - c->prefix_n : 0};
            s->cb(s->arg, 0, k, f, v, m, false);
            c->host->free(c->owner, f);
        } else {
            s->status = QTS_ENOMEM;
        }
    } else if (!r && s->status == 0) {
        s->status = c->is_stopping ? QTS_ECANCELED : QTS_ENET;
    }
    if (key)
        c->host->free(c->owner, key);
}

static int op_scan_hashes(void *self, struct qts_str pattern, qts_cache_entry_fn cb, void *arg)
{
    struct redis_cache *c = self;
    if (!cb || !pattern.n || c->prefix_n + pattern.n >= KEY_MAX)
        return QTS_EINVAL;
    if (c->state != ST_UP)
        return QTS_ENET;
    struct scan_op *s = c->host->alloc(c->owner, sizeof *s);
    if (!s)
        return QTS_ENOMEM;
    memset(s, 0, sizeof *s);
    s->c = c;
    s->cb = cb;
    s->arg = arg;
    /* the prefix is matched literally: escape glob characters in it */
    size_t o = 0;
    for (size_t i = 0; i < c->prefix_n; i++) {
        char ch = c->prefix[i];
        if (ch == '*' || ch == '?' || ch == '[' || ch == ']' || ch == '\\')
            s->match[o++] = '\\';
        s->match[o++] = ch;
        if (o + pattern.n + 2 >= KEY_MAX) {
            c->host->free(c->owner, s);
            return QTS_EINVAL;
        }
    }
    memcpy(s->match + o, pattern.p, pattern.n);
    s->match[o + pattern.n] = '\0';
    s->refs = 1; /* ours until the first SCAN is queued */
    if (!scan_send(c, s, "0", 1)) {
        c->host->free(c->owner, s);
        return QTS_ENET;
    }
    s->refs--;
    return 0;
}

/* ------------------------------------------------------------ lifecycle */

static int cfg_str(struct redis_cache *c, const char *path, char *dst, size_t cap,
                   struct qts_err *err)
{
    const char *v;
    int rc = c->host->cfg_str(c->owner, path, &v, err);
    if (rc == QTS_ENOENT)
        return 0;
    if (rc < 0)
        return rc;
    if (strlen(v) >= cap)
        return qts_err_set(err, QTS_ECONFIG, "cache_redis: %s too long", path);
    strcpy(dst, v);
    return 1;
}

static int cfg_int(struct redis_cache *c, const char *path, int64_t *dst, int64_t min,
                   int64_t max, struct qts_err *err)
{
    int64_t v;
    int rc = c->host->cfg_int(c->owner, path, &v, err);
    if (rc == QTS_ENOENT)
        return 0;
    if (rc < 0)
        return rc;
    if (v < min || v > max)
        return qts_err_set(err, QTS_ECONFIG, "cache_redis: %s=%" PRId64 " out of [%" PRId64
                           ", %" PRId64 "]", path, v, min, max);
    *dst = v;
    return 1;
}

/* redis[s]://[user[:password]@]host[:port][/db]; rediss:// turns TLS on. */
static int parse_url(struct redis_cache *c, const char *url, struct qts_err *err)
{
    const char *p;
    if (strncmp(url, "rediss://", 9) == 0) {
        c->tls = true;
        p = url + 9;
    } else if (strncmp(url, "redis://", 8) == 0) {
        p = url + 8;
    } else {
        return qts_err_set(err, QTS_ECONFIG,
                           "cache_redis: url must start with redis:// or rediss://");
    }
    const char *at = strrchr(p, '@');
    if (at) {
        const char *colon = memchr(p, ':', (size_t)(at - p));
        size_t un = (size_t)((colon ? colon : at) - p);
        if (un >= sizeof c->user)
            return qts_err_set(err, QTS_ECONFIG, "cache_redis: url user too long");
        memcpy(c->user, p, un);
        c->user[un] = '\0';
        if (colon) {
            size_t pn = (size_t)(at - colon - 1);
            if (pn >= sizeof c->password)
                return qts_err_set(err, QTS_ECONFIG, "cache_redis: url password too long");
            memcpy(c->password, colon + 1, pn);
            c->password[pn] = '\0';
        }
        p = at + 1;
    }
    size_t hn = strcspn(p, ":/");
    if (hn == 0 || hn >= sizeof c->host_name)
        return qts_err_set(err, QTS_ECONFIG, "cache_redis: url has no host");
    memcpy(c->host_name, p, hn);
    c->host_name[hn] = '\0';
    p += hn;
    if (*p == ':') {
        char *end;
        long port = strtol(p + 1, &end, 10);
        if (end == p + 1 || port <= 0 || port > 65535)
            return qts_err_set(err, QTS_ECONFIG, "cache_redis: bad port in url");
        c->port = (int)port;
        p = end;
    }
    if (*p == '/' && p[1]) {
        char *end;
        long db = strtol(p + 1, &end, 10);
        if (*end || db < 0 || db > 15)
            return qts_err_set(err, QTS_ECONFIG, "cache_redis: bad database in url");
        c->db = (int)db;
    }
    return 0;
}

static int cfg_flag(struct redis_cache *c, const char *path, bool *dst, struct qts_err *err)
{
    int rc = c->host->cfg_bool(c->owner, path, dst, err);
    return rc == QTS_ENOENT ? 0 : rc;
}

/* After the URL: `tls: false` wins over rediss://, `tls: true` over redis://. */
static int read_tls_config(struct redis_cache *c, struct qts_err *err)
{
    int rc;
    c->tls_verify = true;
    if ((rc = cfg_flag(c, "tls", &c->tls, err)) < 0 ||
        (rc = cfg_flag(c, "tls_verify", &c->tls_verify, err)) < 0 ||
        (rc = cfg_str(c, "tls_ca_file", c->tls_ca_file, sizeof c->tls_ca_file, err)) < 0 ||
        (rc = cfg_str(c, "tls_ca_dir", c->tls_ca_dir, sizeof c->tls_ca_dir, err)) < 0 ||
        (rc = cfg_str(c, "tls_cert_file", c->tls_cert_file, sizeof c->tls_cert_file, err)) < 0 ||
        (rc = cfg_str(c, "tls_key_file", c->tls_key_file, sizeof c->tls_key_file, err)) < 0 ||
        (rc = cfg_str(c, "tls_server_name", c->tls_server_name, sizeof c->tls_server_name,
                      err)) < 0)
        return rc;
    bool has_tls_key = c->tls_ca_file[0] || c->tls_ca_dir[0] || c->tls_cert_file[0] ||
                       c->tls_key_file[0] || c->tls_server_name[0];
    if (!c->tls) {
        /* a tls_* key without TLS is a configuration that thinks it is encrypted */
        if (has_tls_key)
            return qts_err_set(err, QTS_ECONFIG, "cache_redis: tls_* keys are set but TLS is "
                               "off (set tls: true or use a rediss:// url)");
        return 0;
    }
    if (c->unix_path[0])
        return qts_err_set(err, QTS_ECONFIG, "cache_redis: tls and unix_socket exclude each "
                           "other");
    if (!c->tls_server_name[0])
        snprintf(c->tls_server_name, sizeof c->tls_server_name, "%s", c->host_name);
    struct qts_redis_tls_cfg tc = {
        .verify = c->tls_verify,
        .ca_file = c->tls_ca_file,
        .ca_dir = c->tls_ca_dir,
        .cert_file = c->tls_cert_file,
        .key_file = c->tls_key_file,
    };
    char msg[400];
    if (qts_redis_tls_ctx_new(&tc, &c->tls_ctx, msg, sizeof msg) < 0)
        return qts_err_set(err, QTS_ECONFIG, "cache_redis: %s", msg);
    return 0;
}

static int read_config(struct redis_cache *c, struct qts_err *err)
{
    int rc;
    char url[512] = "";
    if ((rc = cfg_str(c, "url", url, sizeof url, err)) < 0)
        return rc;
    if (!url[0] && getenv("QTS_REDIS_URL"))
        snprintf(url, sizeof url, "%s", getenv("QTS_REDIS_URL"));
    if (url[0] && (rc = parse_url(c, url, err)) < 0)
        return rc;
    if ((rc = cfg_str(c, "host", c->host_name, sizeof c->host_name, err)) < 0)
        return rc;
    int64_t v = c->port;
    if ((rc = cfg_int(c, "port", &v, 1, 65535, err)) < 0)
        return rc;
    c->port = (int)v;
    v = c->db;
    if ((rc = cfg_int(c, "db", &v, 0, 15, err)) < 0)
        return rc;
    c->db = (int)v;
    if ((rc = cfg_str(c, "unix_socket", c->unix_path, sizeof c->unix_path, err)) < 0)
        return rc;
    if ((rc = cfg_str(c, "user", c->user, sizeof c->user, err)) < 0)
        return rc;
    if ((rc = cfg_str(c, "password", c->password, sizeof c->password, err)) < 0)
        return rc;
    if (!c->password[0]) {
        /* the password's secret name is configurable; the secret itself
         * comes from the environment or a 0600 file */
        char name[128] = "QTS_REDIS_PASSWORD";
        if ((rc = cfg_str(c, "password_secret", name, sizeof name, err)) < 0)
            return rc;
        struct qts_err e2;
        if (c->host->secret_get(c->owner, name, c->password, sizeof c->password, &e2) < 0)
            c->password[0] = '\0';
    }
    if (!c->user[0] && getenv("QTS_REDIS_USER"))
        snprintf(c->user, sizeof c->user, "%s", getenv("QTS_REDIS_USER"));
    if (c->user[0] && !c->password[0])
        return qts_err_set(err, QTS_ECONFIG, "cache_redis: user '%s' without a password",
                           c->user);

    char host_id[64] = "";
    if ((rc = cfg_str(c, "host_id", host_id, sizeof host_id, err)) < 0)
        return rc;
    if (!host_id[0] && getenv("QTS_HOST_ID"))
        snprintf(host_id, sizeof host_id, "%s", getenv("QTS_HOST_ID"));
    if (!host_id[0] && gethostname(host_id, sizeof host_id) != 0)
        snprintf(host_id, sizeof host_id, "host");
    host_id[sizeof host_id - 1] = '\0';
    snprintf(c->prefix, sizeof c->prefix, "qts:%s:", host_id);
    if ((rc = cfg_str(c, "prefix", c->prefix, sizeof c->prefix, err)) < 0)
        return rc;
    if ((rc = cfg_str(c, "shared_prefix", c->shared_prefix, sizeof c->shared_prefix, err)) < 0)
        return rc;
    c->prefix_n = strlen(c->prefix);
    c->shared_n = strlen(c->shared_prefix);
    if (c->shared_n && c->prefix_n && strcmp(c->prefix, c->shared_prefix) == 0)
        return qts_err_set(err, QTS_ECONFIG, "cache_redis: prefix and shared_prefix must differ");

    if ((rc = cfg_int(c, "connect_timeout_ms", &c->connect_timeout_ms, 1, 60000, err)) < 0 ||
        (rc = cfg_int(c, "command_timeout_ms", &c->command_timeout_ms, 1, 60000, err)) < 0 ||
        (rc = cfg_int(c, "reconnect_min_ms", &c->reconnect_min_ms, 1, 60000, err)) < 0 ||
        (rc = cfg_int(c, "reconnect_max_ms", &c->reconnect_max_ms, 1, 600000, err)) < 0 ||
        (rc = cfg_int(c, "breaker_failures", &c->breaker_failures, 1, 1000, err)) < 0 ||
        (rc = cfg_int(c, "breaker_open_ms", &c->breaker_open_ms, 1, 3600000, err)) < 0)
        return rc;
    v = c->max_pending;
    if ((rc = cfg_int(c, "max_pending", &v, 16, 1 << 22, err)) < 0)
        return rc;
    c->max_pending = (uint32_t)v;
    if ((rc = read_tls_config(c, err)) < 0)
        return rc;
    qts_err_clear(err);
    return 0;
}

static int redis_init(const struct qts_host_api *host, void *owner, void **self,
                      struct qts_err *err)
{
    if (host->struct_size < offsetof(struct qts_host_api, uv_loop) + sizeof(void *) ||
        !host->uv_loop || !host->uv_loop(owner))
        return qts_err_set(err, QTS_EUNSUPPORTED,
                           "cache_redis: the host gives no uv loop (host_api.uv_loop, ABI 1.1)");
    struct redis_cache *c = host->alloc(owner, sizeof *c);
    if (!c)
        return qts_err_set(err, QTS_ENOMEM, "cache_redis: out of memory");
    memset(c, 0, sizeof *c);
    c->host = host;
    c->owner = owner;
    c->loop = host->uv_loop(owner);
    snprintf(c->host_name, sizeof c->host_name, "127.0.0.1");
    c->port = 6379;
    snprintf(c->shared_prefix, sizeof c->shared_prefix, "qts:shared:");
    c->connect_timeout_ms = 500;
    c->command_timeout_ms = 50;
    c->reconnect_min_ms = 100;
    c->reconnect_max_ms = 2000;
    c->breaker_failures = 5;
    c->breaker_open_ms = 30000;
    c->max_pending = 16384;
    c->st.struct_size = sizeof c->st;
    int rc = read_config(c, err);
    if (rc < 0) {
        qts_redis_tls_ctx_free(c->tls_ctx);
        host->free(owner, c);
        return rc;
    }
    uint32_t cap = 16;
    while (cap < c->max_pending + 64)
        cap <<= 1;
    c->ring = host->alloc(owner, cap * sizeof *c->ring);
    if (!c->ring) {
        qts_redis_tls_ctx_free(c->tls_ctx);
        host->free(owner, c);
        return qts_err_set(err, QTS_ENOMEM, "cache_redis: out of memory");
    }
    c->ring_mask = cap - 1;
    c->backoff_ms = c->reconnect_min_ms;
    c->breaker = QTS_CACHE_UP;
    *self = c;
    return 0;
}

static int redis_start(void *self, struct qts_err *err)
{
    struct redis_cache *c = self;
    int64_t tick = c->command_timeout_ms / 4;
    if (tick < 1)
        tick = 1;
    if (tick > 50)
        tick = 50;
    int rc = c->host->timer_start(c->owner, (uint64_t)tick, (uint64_t)tick, watchdog, c,
                                  &c->watchdog);
    if (rc < 0)
        return qts_err_set(err, rc, "cache_redis: watchdog timer: %s", qts_strerror(rc));
    c->is_running = true;
    if (c->tls && !c->tls_verify)
        LOG(c, QTS_LOG_WARN, "redis tls_verify is off: the server's certificate and name are "
            "not checked (host=%s)", c->host_name);
    /* the first connection is asynchronous: start never waits for Redis */
    connect_now(c);
    return 0;
}

static int redis_stop(void *self)
{
    struct redis_cache *c = self;
    if (!c->is_stopping) {
        c->is_stopping = true;
        if (c->is_running)
            c->host->timer_stop(c->owner, c->watchdog);
        c->is_running = false;
        drop_connection(c);
    }
    return c->open_handles > 0 ? QTS_EAGAIN : 0;
}

static void redis_destroy(void *self)
{
    struct redis_cache *c = self;
    if (!c)
        return;
    if (c->ac) /* destroy after a failed start */
        drop_connection(c);
    qts_redis_tls_ctx_free(c->tls_ctx);
    c->host->free(c->owner, c->ring);
    c->host->free(c->owner, c);
}

static const struct qts_cache_ops redis_ops = {
    .struct_size = sizeof(struct qts_cache_ops),
    .set = op_set,
    .get = op_get,
    .del = op_del,
    .hset = op_hset,
    .zset_replace = op_zset_replace,
    .health = op_health,
    .budget = op_budget,
    .scan_hashes = op_scan_hashes,
};

/* Every key of the plugin's config: (docs/cache.md); the defaults are the
 * ones redis_init and read_config start from. */
static const struct qts_cfg_key redis_keys[] = {
    QTS_CFG_STR("url", NULL, "redis://[user[:password]@]host[:port][/db]; rediss:// turns TLS on "
                "(default $QTS_REDIS_URL)"),
    QTS_CFG_STR("host", "127.0.0.1", "server host; overrides the URL"),
    QTS_CFG_INT("port", "6379", "server port; overrides the URL"),
    QTS_CFG_INT("db", "0", "database number 0..15; overrides the URL"),
    QTS_CFG_STR("unix_socket", NULL, "connect through a unix socket instead"),
    QTS_CFG_STR("user", NULL, "ACL user (Redis 6+), needs a password (default $QTS_REDIS_USER)"),
    QTS_CFG_STR("password", NULL, "password in the file (prefer password_secret)"),
    QTS_CFG_STR("password_secret", "QTS_REDIS_PASSWORD",
                "name of the secret holding the password (environment or 0600 file)"),
    QTS_CFG_BOOL("tls", "false", "TLS to Redis (true for rediss://); an explicit value wins"),
    QTS_CFG_BOOL("tls_verify", "true", "check the server's certificate chain and name"),
    QTS_CFG_STR("tls_ca_file", NULL, "PEM file of the CAs that sign the server's certificate"),
    QTS_CFG_STR("tls_ca_dir", NULL, "directory of hashed CA certificates"),
    QTS_CFG_STR("tls_server_name", NULL, "name the server's certificate must carry (default host)"),
    QTS_CFG_STR("tls_cert_file", NULL, "client certificate chain (PEM) for mutual TLS"),
    QTS_CFG_STR("tls_key_file", NULL, "its private key: unencrypted PEM, mode 0600 or stricter"),
    QTS_CFG_STR("host_id", NULL, "part of the default prefix (default $QTS_HOST_ID, else the "
                "machine's host name)"),
    QTS_CFG_STR("prefix", NULL, "this host's keys (default qts:<host_id>:)"),
    QTS_CFG_STR("shared_prefix", "qts:shared:", "budget counters shared by all hosts"),
    QTS_CFG_DURATION("connect_timeout_ms", "500", "connection timeout"),
    QTS_CFG_DURATION("command_timeout_ms", "50", "oldest unanswered command"),
    QTS_CFG_DURATION("reconnect_min_ms", "100", "first reconnect back-off"),
    QTS_CFG_DURATION("reconnect_max_ms", "2000", "longest reconnect back-off"),
    QTS_CFG_INT("breaker_failures", "5", "consecutive failures that open the breaker"),
    QTS_CFG_DURATION("breaker_open_ms", "30000", "time before the half-open probe"),
    QTS_CFG_INT("max_pending", "16384", "commands in flight before operations return QTS_EFULL"),
    QTS_CFG_END
};

QTS_PLUGIN_DEFINE("cache_redis", QTS_KIND_CACHE, "1.0.0", &redis_ops, redis_keys,
                  QTS_CAP_RAW_LOOP, .init = redis_init, .start = redis_start, .stop = redis_stop,
                  .destroy = redis_destroy);
