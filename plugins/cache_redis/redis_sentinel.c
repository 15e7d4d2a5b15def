/* redis_sentinel.c — finding the primary through Redis Sentinel
 * (docs/cache.md "Failover through Sentinel", docs/adr/0022-shared-tier.md).
 *
 * With `sentinels:` configured every connection attempt starts here: the
 * sentinels are asked in turn (SENTINEL get-master-addr-by-name) on a
 * short-lived hiredis connection of their own, on the host's loop; the
 * first answer names the primary and redis_connect_primary() connects to
 * it. Setup then checks with ROLE that the server is the primary (a
 * sentinel may still name a demoted one). A lost connection, a READONLY
 * reply or a server that is not the primary is a connection failure like
 * any other (redis_fail: back-off, breaker), and the next attempt asks
 * Sentinel again, so the plugin follows a failover by itself.
 *
 * While the breaker is open (no attempt for breaker_open_ms) Sentinel is
 * still asked, every reconnect_min_ms doubling to reconnect_max_ms: a
 * primary at a new address is a new server, and the plugin connects to it at once instead of waiting out the
 * breaker opened by the old one's failures.
 *
 * Nothing here blocks: hiredis resolves host names with a blocking
 * getaddrinfo, so configure sentinels by IP address (as for `host`).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "redis_cache.h"
#include "redis_uv.h"

int redis_sentinel_config(struct redis_cache *c, const char *list, struct qts_err *err)
{
    char buf[2048];
    if (strlen(list) >= sizeof buf)
        return qts_err_set(err, QTS_ECONFIG, "cache_redis: sentinels too long");
    snprintf(buf, sizeof buf, "%s", list);
    char *save = NULL;
    for (char *t = strtok_r(buf, ", ", &save); t; t = strtok_r(NULL, ", ", &save)) {
        char *colon = strrchr(t, ':');
        char *end = NULL;
        long port = colon ? strtol(colon + 1, &end, 10) : 0;
        if (!colon || colon == t || end == colon + 1 || *end || port <= 0 || port > 65535 ||
            (size_t)(colon - t) >= sizeof c->sentinels[0].host)
            return qts_err_set(err, QTS_ECONFIG,
                               "cache_redis: sentinels item \"%s\" is not host:port", t);
        if (c->n_sentinels == SENTINELS_MAX)
            return qts_err_set(err, QTS_ECONFIG, "cache_redis: more than %d sentinels",
                               SENTINELS_MAX);
        int i = c->n_sentinels++;
        memcpy(c->sentinels[i].host, t, (size_t)(colon - t));
        c->sentinels[i].host[colon - t] = '\0';
        c->sentinels[i].port = (int)port;
    }
    if (c->n_sentinels == 0)
        return qts_err_set(err, QTS_ECONFIG, "cache_redis: sentinels is empty");
    return 0;
}

void redis_sentinel_drop(struct redis_cache *c)
{
    redisAsyncContext *sac = c->sac;
    c->sac = NULL;
    if (sac)
        redisAsyncFree(sac); /* its pending reply callback runs with NULL */
}

static void ask(struct redis_cache *c);

/* The current sentinel failed: the next one, or the round failed. */
static void next_sentinel(struct redis_cache *c, const char *why)
{
    const int i = c->sentinel_at;
    /* a long reason is cut: the message is for the log */
    if (snprintf(c->sentinel_err, sizeof c->sentinel_err, "sentinel %s:%d: %s",
                 c->sentinels[i].host, c->sentinels[i].port, why) >= (int)sizeof c->sentinel_err)
        c->sentinel_err[sizeof c->sentinel_err - 1] = '\0';
    redis_sentinel_drop(c);
    c->sentinel_at = (c->sentinel_at + 1) % c->n_sentinels;
    if (++c->sentinel_tried < c->n_sentinels) {
        ask(c);
        return;
    }
    /* no sentinel answered */
    if (c->sentinel_peek) { /* the breaker stays open; the watchdog asks again */
        c->sentinel_peek = false;
        c->state = ST_IDLE;
        return;
    }
    c->state = ST_IDLE;
    char detail[400];
    snprintf(detail, sizeof detail, "no sentinel named the primary of %s (last: %s)",
             c->master_name, c->sentinel_err);
    redis_fail(c, "sentinel", detail);
}

/* A sentinel named the primary `host`:`port`. */
static void resolved(struct redis_cache *c, const char *host, int port)
{
    bool moved = strcmp(host, c->host_name) != 0 || port != c->port;
    if (moved) {
        if (c->ever_connected || c->sentinel_peek)
            LOG(c, QTS_LOG_WARN,
                "redis sentinel: the primary of %s is now %s:%d (was %s:%d); following it",
                c->master_name, host, port, c->host_name, c->port);
        else
            LOG(c, QTS_LOG_INFO, "redis sentinel: the primary of %s is %s:%d", c->master_name, host,
                port);
        snprintf(c->host_name, sizeof c->host_name, "%s", host);
        c->port = port;
        /* a new server starts with a clean record: the failures were the old one's */
        c->st.consecutive_failures = 0;
        c->backoff_ms = c->reconnect_min_ms;
        if (c->breaker == QTS_CACHE_OPEN)
            c->breaker = QTS_CACHE_HALF_OPEN; /* this connection is the probe */
    }
    if (c->sentinel_peek) {
        c->sentinel_peek = false;
        if (!moved) { /* same server as the one that failed: wait out the breaker */
            c->state = ST_IDLE;
            return;
        }
        c->next_attempt_ns = 0;
    }
    redis_connect_primary(c);
}

static void on_sentinel_reply(redisAsyncContext *ac, void *reply, void *priv)
{
    struct redis_cache *c = priv;
    redisReply *r = reply;
    if (ac != c->sac)
        return; /* dropped: a timeout or a stop moved on already */
    if (!r) {
        c->sac = NULL; /* hiredis is freeing it */
        next_sentinel(c, "connection lost");
        return;
    }
    if (r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
        r->element[0]->type == REDIS_REPLY_STRING && r->element[1]->type == REDIS_REPLY_STRING) {
        char host[256];
        long port = strtol(r->element[1]->str, NULL, 10);
        snprintf(host, sizeof host, "%.*s", (int)r->element[0]->len, r->element[0]->str);
        if (port > 0 && port <= 65535 && host[0]) {
            redis_sentinel_drop(c); /* inside its callback: hiredis frees it after */
            resolved(c, host, (int)port);
            return;
        }
    }
    char why[128];
    if (r->type == REDIS_REPLY_NIL)
        snprintf(why, sizeof why, "does not know master %.100s", c->master_name);
    else if (r->type == REDIS_REPLY_ERROR)
        snprintf(why, sizeof why, "%.100s", r->str);
    else
        snprintf(why, sizeof why, "unexpected reply");
    next_sentinel(c, why);
}

static void on_sentinel_connect(const redisAsyncContext *ac, int status)
{
    struct redis_cache *c = ac->data;
    if (ac != c->sac || status == REDIS_OK)
        return;
    char why[128];
    snprintf(why, sizeof why, "%s", ac->errstr);
    /* hiredis frees it after this callback; its reply callback then runs
     * with NULL, finds ac != c->sac and is ignored */
    c->sac = NULL;
    next_sentinel(c, why);
}

static void on_sentinel_disconnect(const redisAsyncContext *ac, int status)
{
    (void)ac;
    (void)status; /* the reply callback (NULL reply) already moved on */
}

/* Ask sentinel c->sentinel_at. */
static void ask(struct redis_cache *c)
{
    const int i = c->sentinel_at;
    c->sentinel_started_ns = mono_ns();
    redisAsyncContext *ac = redisAsyncConnect(c->sentinels[i].host, c->sentinels[i].port);
    if (!ac || ac->err) {
        char why[128];
        snprintf(why, sizeof why, "%s", ac ? ac->errstr : "out of memory");
        if (ac)
            redisAsyncFree(ac);
        next_sentinel(c, why);
        return;
    }
    if (qts_redis_uv_attach(ac, c->loop, &c->open_handles) != 0) {
        redisAsyncFree(ac);
        next_sentinel(c, "uv_poll_init failed");
        return;
    }
    ac->data = c;
    c->sac = ac;
    redisAsyncSetConnectCallback(ac, on_sentinel_connect);
    redisAsyncSetDisconnectCallback(ac, on_sentinel_disconnect);
    /* queued now, sent once connected */
    const char *argv[3] = {"SENTINEL", "get-master-addr-by-name", c->master_name};
    size_t len[3] = {8, 23, strlen(c->master_name)};
    if (redisAsyncCommandArgv(ac, on_sentinel_reply, c, 3, argv, len) != REDIS_OK)
        next_sentinel(c, "command not queued");
}

void redis_sentinel_resolve(struct redis_cache *c, bool peek)
{
    if (c->sac)
        return; /* a query is under way */
    c->sentinel_peek = peek;
    c->sentinel_tried = 0;
    if (!peek) {
        c->state = ST_RESOLVING;
        c->connect_started_ns = mono_ns();
    }
    ask(c);
}

void redis_sentinel_tick(struct redis_cache *c, int64_t now)
{
    if (c->n_sentinels == 0 || c->is_stopping)
        return;
    if (c->sac && now - c->sentinel_started_ns > c->connect_timeout_ms * 1000000) {
        next_sentinel(c, "no answer");
        return;
    }
    if (c->breaker != QTS_CACHE_OPEN) {
        c->peek_ms = 0;
        return;
    }
    /* breaker open: ask every reconnect_min_ms, doubling to reconnect_max_ms */
    if (c->sac || c->ac)
        return;
    if (c->peek_ms == 0) {
        c->peek_ms = c->reconnect_min_ms;
        c->next_peek_ns = now + c->peek_ms * 1000000;
    } else if (now >= c->next_peek_ns) {
        c->peek_ms = c->peek_ms * 2 > c->reconnect_max_ms ? c->reconnect_max_ms : c->peek_ms * 2;
        c->next_peek_ns = now + c->peek_ms * 1000000;
        redis_sentinel_resolve(c, true);
    }
}
