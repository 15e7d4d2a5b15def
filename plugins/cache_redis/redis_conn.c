/* redis_conn.c — the connection of the Redis tier: connect (TCP, unix
 * socket or through the TLS bridge), setup (AUTH, SELECT, SCRIPT LOAD), the
 * circuit breaker and back-off, the watchdog that times connects and
 * commands out, and the ring that matches replies to commands in order.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "redis_cache.h"
#include "redis_uv.h"

/* The scripts loaded at connect: writes atomic with their TTL. */
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
/* KEYS[1]=counter, KEYS[2]=what each host holds (hash), KEYS[3]=when each
 * host's lease runs out (hash, Unix ms). ARGV: delta limit ttl_ms host
 * lease_ms held restate(0|1). A host whose lease ran out (it stopped
 * renewing: dead or cut off) gives back what it held before anything else
 * is decided; a host that finds itself given back re-adds what it still
 * holds (`held`), so the counter never undercounts a live host. `restate`
 * (sent as each connection comes up) replaces what the server has for
 * this host with `held`: after a failover the new primary may lack the
 * last reservations the old one acknowledged but had not replicated.
 * -> {granted 0|1, used, held} */
static const char BUDGET_SCRIPT[] =
    "local used = tonumber(redis.call('GET', KEYS[1]) or '0')\n"
    "local delta = tonumber(ARGV[1])\n"
    "local limit = tonumber(ARGV[2])\n"
    "local host = ARGV[4]\n"
    "local lease = tonumber(ARGV[5])\n"
    "local t = redis.call('TIME')\n"
    "local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
    "local alive = redis.call('HGETALL', KEYS[3])\n"
    "for i = 1, #alive, 2 do\n"
    "  if alive[i] ~= host and tonumber(alive[i + 1]) < now then\n"
    "    used = used - tonumber(redis.call('HGET', KEYS[2], alive[i]) or '0')\n"
    "    redis.call('HDEL', KEYS[2], alive[i])\n"
    "    redis.call('HDEL', KEYS[3], alive[i])\n"
    "  end\n"
    "end\n"
    "if used < 0 then used = 0 end\n"
    "local mine = tonumber(redis.call('HGET', KEYS[2], host) or '-1')\n"
    "if mine < 0 then mine = tonumber(ARGV[6]); used = used + mine\n"
    "elseif ARGV[7] == '1' then used = used - mine + tonumber(ARGV[6]); mine = tonumber(ARGV[6]) "
    "end\n"
    "local granted = 1\n"
    "if delta > 0 and used + delta > limit then granted = 0; delta = 0 end\n"
    "if delta < -mine then delta = -mine end\n"
    "used = used + delta\n"
    "mine = mine + delta\n"
    "if used < 0 then used = 0 end\n"
    "local ttl = tonumber(ARGV[3])\n"
    "local v = string.format('%d', used)\n"
    "if ttl > 0 then redis.call('SET', KEYS[1], v, 'PX', ttl)\n"
    "else redis.call('SET', KEYS[1], v) end\n"
    "redis.call('HSET', KEYS[2], host, string.format('%d', mine))\n"
    "if lease > 0 then redis.call('HSET', KEYS[3], host, string.format('%d', now + lease))\n"
    "else redis.call('HDEL', KEYS[3], host) end\n"
    "if ttl > 0 then redis.call('PEXPIRE', KEYS[2], ttl); redis.call('PEXPIRE', KEYS[3], ttl) end\n"
    "return {granted, used, mine}\n";
/* KEYS[1]=claimed key ARGV: owner ttl_ms release(0|1) -> {0|1, owner} */
static const char CLAIM_SCRIPT[] = "local cur = redis.call('GET', KEYS[1])\n"
                                   "if ARGV[3] == '1' then\n"
                                   "  if cur == ARGV[1] then redis.call('DEL', KEYS[1]) end\n"
                                   "  return {1, ARGV[1]}\n"
                                   "end\n"
                                   "if cur and cur ~= ARGV[1] then return {0, cur} end\n"
                                   "redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])\n"
                                   "return {1, ARGV[1]}\n";

/* ---------------------------------------------------------------- breaker */

void redis_drop_connection(struct redis_cache *c)
{
    redisAsyncContext *ac = c->ac;
    c->ac = NULL;
    c->state = ST_IDLE;
    if (ac)
        redisAsyncFree(ac); /* pending callbacks run with NULL replies */
    if (c->tls_conn) {      /* after hiredis: its commands fail as "not sent" */
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
    c->backoff_ms =
        c->backoff_ms * 2 > c->reconnect_max_ms ? c->reconnect_max_ms : c->backoff_ms * 2;
}

/* A connection-level failure: counts for the breaker, drops the connection
 * and schedules the next attempt. */
void redis_fail(struct redis_cache *c, const char *what, const char *detail)
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
        (c->breaker == QTS_CACHE_UP &&
         c->st.consecutive_failures >= (uint64_t)c->breaker_failures)) {
        if (c->breaker == QTS_CACHE_UP) {
            c->st.breaker_opens++;
            LOG(c, QTS_LOG_ERROR, "redis circuit breaker open failures=%u retry_in_ms=%" PRId64,
                c->st.consecutive_failures, c->breaker_open_ms);
        }
        c->breaker = QTS_CACHE_OPEN;
        c->opened_ns = mono_ns();
        c->host->metric_set(c->owner, "breaker_open", 1);
    }
    redis_drop_connection(c);
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
    /* restate what this host holds in every budget counter first (the
     * server may be a new primary that lacks the last reservations) */
    redis_budget_restate(c);
    if (c->in_outage) {
        c->in_outage = false;
        LOG(c, QTS_LOG_INFO, "redis back at %s:%d failures=%" PRIu64 " dropped=%" PRIu64,
            c->host_name, c->port, c->st.failures, c->st.writes_dropped);
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

/* A READONLY error: the server was demoted to a replica (a failover).
 * Counted as a connection failure; the next attempt asks Sentinel (or the
 * configured address) again. Returns true when `r` was one. */
static bool demoted(struct redis_cache *c, const redisReply *r)
{
    if (!r || r->type != REDIS_REPLY_ERROR || strncmp(r->str, "READONLY", 8) != 0 || !c->ac ||
        c->state != ST_UP)
        return false;
    char detail[320];
    snprintf(detail, sizeof detail, "%s:%d answers READONLY: it is a replica now (failover)",
             c->host_name, c->port);
    redis_fail(c, "failover", detail); /* inside a callback: hiredis frees it after */
    return true;
}

/* One setup command (AUTH, SELECT, SCRIPT LOAD, ROLE) answered; the last
 * one decides the connection. */
static void setup_step(struct redis_cache *c, const redisReply *r)
{
    if (--c->setup_left == 0 && r) {
        if (c->setup_failed) {
            c->setup_failed = false;
            /* inside a hiredis callback: the free is deferred by hiredis */
            redis_fail(c, "setup", "AUTH/SELECT/SCRIPT LOAD/ROLE refused");
        } else {
            connected_ok(c);
        }
    }
}

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
            if (demoted(c, r))
                break;
            if (r && r->type == REDIS_REPLY_ERROR && strncmp(r->str, "NOSCRIPT", 8) == 0 && c->ac &&
                c->state == ST_UP) {
                /* SCRIPT FLUSH on the server: a new connection loads them
                 * again. Not a failure of Redis: the breaker is not told. */
                LOG(c, QTS_LOG_WARN, "redis lost its scripts (SCRIPT FLUSH?); reconnecting");
                redis_drop_connection(c); /* inside a callback: hiredis frees it after */
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
        if (!r) { /* sent but unanswered: Redis may or may not have applied it */
            /* the host took a release off its lease already: what this
             * host holds (restated after the reconnect) follows it */
            if (p.delta < 0 && p.bkey < c->n_budget_keys) {
                int64_t *held = &c->budget_keys[p.bkey].held;
                *held = *held + p.delta > 0 ? *held + p.delta : 0;
            }
            if (cb)
                cb(p.arg, c->is_stopping ? QTS_ECANCELED : QTS_EUNKNOWN, 0);
        } else if (r->type == REDIS_REPLY_ARRAY && r->elements == 3 &&
                   r->element[0]->type == REDIS_REPLY_INTEGER &&
                   r->element[1]->type == REDIS_REPLY_INTEGER &&
                   r->element[2]->type == REDIS_REPLY_INTEGER) {
            redis_budget_held(c, p.bkey, r->element[2]->integer);
            if (cb)
                cb(p.arg, r->element[0]->integer ? 0 : QTS_EREJECT, r->element[1]->integer);
        } else {
            int e = demoted(c, r) ? QTS_ENET : QTS_EIO; /* READONLY: not applied */
            if (cb)
                cb(p.arg, e, 0);
        }
        break;
    }
    case CMD_CLAIM: {
        qts_cache_get_fn cb = (qts_cache_get_fn)p.cb;
        if (!r)
            cb(p.arg, c->is_stopping ? QTS_ECANCELED : QTS_EUNKNOWN, (struct qts_str){"", 0});
        else if (r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
                 r->element[0]->type == REDIS_REPLY_INTEGER &&
                 r->element[1]->type == REDIS_REPLY_STRING)
            cb(p.arg, r->element[0]->integer ? 0 : QTS_EREJECT,
               (struct qts_str){r->element[1]->str, r->element[1]->len});
        else
            cb(p.arg, demoted(c, r) ? QTS_ENET : QTS_EIO, (struct qts_str){"", 0});
        break;
    }
    case CMD_ROLE: {
        /* a sentinel named this server; it must still be the primary */
        bool primary = r && r->type == REDIS_REPLY_ARRAY && r->elements >= 1 &&
                       r->element[0]->type == REDIS_REPLY_STRING &&
                       strcmp(r->element[0]->str, "master") == 0;
        if (r && !primary) {
            c->setup_failed = true;
            LOG(c, QTS_LOG_WARN,
                "redis %s:%d is not the primary of %s (a sentinel's stale answer); asking "
                "Sentinel again",
                c->host_name, c->port, c->master_name);
        }
        setup_step(c, r);
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
        setup_step(c, r);
        break;
    case CMD_SCAN:
        redis_scan_reply(c, p.scan, r);
        redis_scan_unref(p.scan);
        break;
    case CMD_HGETALL:
        redis_hgetall_reply(c, p.scan, r, p.arg);
        redis_scan_unref(p.scan);
        break;
    default: break;
    }
}

/* Decimal digits of v into dst (no NUL); returns the count. snprintf costs
 * more than the rest of a command's formatting. */
size_t redis_u64_str(char *dst, uint64_t v)
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
static size_t format_resp(char *buf, size_t cap, int argc, const char **argv, const size_t *argvlen)
{
    size_t o = 0;
    if (cap < 32)
        return 0;
    buf[o++] = '*';
    o += redis_u64_str(buf + o, (uint64_t)argc);
    buf[o++] = '\r';
    buf[o++] = '\n';
    for (int i = 0; i < argc; i++) {
        if (cap - o < argvlen[i] + 28) /* "$" + 20 digits + 2 CRLF */
            return 0;
        buf[o++] = '$';
        o += redis_u64_str(buf + o, argvlen[i]);
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
struct pending *redis_send_argv(struct redis_cache *c, int argc, const char **argv,
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
        redis_fail(c, "connect", detail);
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
        if (redis_send_argv(c, c->user[0] ? 3 : 2, argv, len, CMD_SETUP))
            c->setup_left++;
    }
    if (c->db) {
        char db[16];
        int n = snprintf(db, sizeof db, "%d", c->db);
        const char *argv[2] = {"SELECT", db};
        size_t len[2] = {6, (size_t)n};
        if (redis_send_argv(c, 2, argv, len, CMD_SETUP))
            c->setup_left++;
    }
    const char *scripts[N_SCRIPTS] = {HSET_SCRIPT, ZSET_SCRIPT, BUDGET_SCRIPT, CLAIM_SCRIPT};
    for (int i = 0; i < N_SCRIPTS; i++) {
        const char *argv[3] = {"SCRIPT", "LOAD", scripts[i]};
        size_t len[3] = {6, 4, strlen(scripts[i])};
        struct pending *p = redis_send_argv(c, 3, argv, len, CMD_SCRIPT);
        if (p) {
            p->script = (uint8_t)i;
            c->setup_left++;
        }
    }
    if (c->n_sentinels) {
        const char *argv[1] = {"ROLE"};
        size_t len[1] = {4};
        if (redis_send_argv(c, 1, argv, len, CMD_ROLE))
            c->setup_left++;
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
        redis_fail(c, "disconnect", status == REDIS_OK ? "closed" : ac->errstr);
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
    redis_fail(c, c->state == ST_UP ? "tls" : "connect", text);
}

void redis_connect_now(struct redis_cache *c)
{
    c->next_attempt_ns = 0;
    if (c->breaker == QTS_CACHE_OPEN) {
        c->breaker = QTS_CACHE_HALF_OPEN;
        LOG(c, QTS_LOG_INFO, "redis circuit breaker half-open: probing");
    }
    if (c->n_sentinels) { /* Sentinel names the primary first */
        redis_sentinel_resolve(c, false);
        return;
    }
    redis_connect_primary(c);
}

void redis_connect_primary(struct redis_cache *c)
{
    if (c->tls) {
        char msg[256];
        c->state = ST_CONNECTING;
        c->connect_started_ns = mono_ns();
        if (qts_redis_tls_open(c->loop, c->tls_ctx, c->host_name, c->port, c->tls_server_name,
                               c->tls_verify, on_tls_event, c, &c->open_handles, &c->tls_conn, msg,
                               sizeof msg) < 0) {
            c->state = ST_IDLE;
            redis_fail(c, "connect", msg);
        }
        return;
    }
    connect_hiredis(c, c->unix_path[0] ? c->unix_path : NULL);
}

/* hiredis to `unix_path` (our own socket or the bridge's), else TCP. */
static void connect_hiredis(struct redis_cache *c, const char *unix_path)
{
    redisAsyncContext *ac =
        unix_path ? redisAsyncConnectUnix(unix_path) : redisAsyncConnect(c->host_name, c->port);
    if (!ac) {
        redis_fail(c, "connect", "out of memory");
        return;
    }
    if (ac->err) {
        char detail[128];
        snprintf(detail, sizeof detail, "%s", ac->errstr);
        redisAsyncFree(ac);
        redis_fail(c, "connect", detail);
        return;
    }
    if (qts_redis_uv_attach(ac, c->loop, &c->open_handles) != 0) {
        redisAsyncFree(ac);
        redis_fail(c, "connect", "uv_poll_init failed");
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

void redis_watchdog(void *arg)
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
        redis_fail(c, "connect timeout", detail);
        return;
    }
    if (c->ac && c->state == ST_UP && c->count > 0 &&
        now - c->ring[c->head].sent_ns > c->command_timeout_ms * 1000000) {
        redis_fail(c, "command timeout", "reply overdue");
        return;
    }
    redis_sentinel_tick(c, now);
    if (!c->ac && !c->tls_conn && !c->sac && c->next_attempt_ns && now >= c->next_attempt_ns)
        redis_connect_now(c);
    redis_budget_renew(c);
    c->host->metric_set(c->owner, "pending", (int64_t)c->count);
}
