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
 *
 * This file: configuration, lifecycle and the descriptor; redis_cache.h
 * lists the other files of the plugin.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "redis_cache.h"

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

static int cfg_int(struct redis_cache *c, const char *path, int64_t *dst, int64_t min, int64_t max,
                   struct qts_err *err)
{
    int64_t v;
    int rc = c->host->cfg_int(c->owner, path, &v, err);
    if (rc == QTS_ENOENT)
        return 0;
    if (rc < 0)
        return rc;
    if (v < min || v > max)
        return qts_err_set(err, QTS_ECONFIG,
                           "cache_redis: %s=%" PRId64 " out of [%" PRId64 ", %" PRId64 "]", path, v,
                           min, max);
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
        (rc = cfg_str(c, "tls_server_name", c->tls_server_name, sizeof c->tls_server_name, err)) <
            0)
        return rc;
    bool has_tls_key = c->tls_ca_file[0] || c->tls_ca_dir[0] || c->tls_cert_file[0] ||
                       c->tls_key_file[0] || c->tls_server_name[0];
    if (!c->tls) {
        /* a tls_* key without TLS is a configuration that thinks it is encrypted */
        if (has_tls_key)
            return qts_err_set(err, QTS_ECONFIG,
                               "cache_redis: tls_* keys are set but TLS is "
                               "off (set tls: true or use a rediss:// url)");
        return 0;
    }
    if (c->unix_path[0])
        return qts_err_set(err, QTS_ECONFIG,
                           "cache_redis: tls and unix_socket exclude each "
                           "other");
    if (!c->tls_server_name[0])
        snprintf(c->tls_server_name, sizeof c->tls_server_name, "%s", c->host_name);
    struct qts_redis_tls_cfg tc = {.verify = c->tls_verify,
                                   .ca_file = c->tls_ca_file,
                                   .ca_dir = c->tls_ca_dir,
                                   .cert_file = c->tls_cert_file,
                                   .key_file = c->tls_key_file};
    char msg[400];
    if (qts_redis_tls_ctx_new(&tc, &c->tls_ctx, msg, sizeof msg) < 0)
        return qts_err_set(err, QTS_ECONFIG, "cache_redis: %s", msg);
    return 0;
}

/* `sentinels` and `master_name`: the primary is whatever Sentinel names
 * (redis_sentinel.c); host/port/url then only give the database,
 * credentials and prefix. */
static int read_sentinel_config(struct redis_cache *c, struct qts_err *err)
{
    int rc;
    char list[2048] = "";
    if ((rc = cfg_str(c, "sentinels", list, sizeof list, err)) < 0 ||
        (rc = cfg_str(c, "master_name", c->master_name, sizeof c->master_name, err)) < 0)
        return rc;
    if (!list[0] && !c->master_name[0])
        return 0;
    if (!list[0] || !c->master_name[0])
        return qts_err_set(err, QTS_ECONFIG,
                           "cache_redis: sentinels and master_name go together (got only %s)",
                           list[0] ? "sentinels" : "master_name");
    if (c->tls || c->unix_path[0])
        return qts_err_set(err, QTS_ECONFIG, "cache_redis: sentinels cannot be combined with %s",
                           c->tls ? "TLS" : "unix_socket");
    return redis_sentinel_config(c, list, err);
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
        return qts_err_set(err, QTS_ECONFIG, "cache_redis: user '%s' without a password", c->user);

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
        (rc = cfg_int(c, "breaker_open_ms", &c->breaker_open_ms, 1, 3600000, err)) < 0 ||
        (rc = cfg_int(c, "budget_lease_ttl_ms", &c->lease_ms, 0, 86400000, err)) < 0)
        return rc;
    v = c->max_pending;
    if ((rc = cfg_int(c, "max_pending", &v, 16, 1 << 22, err)) < 0)
        return rc;
    c->max_pending = (uint32_t)v;
    if ((rc = read_tls_config(c, err)) < 0)
        return rc;
    if ((rc = read_sentinel_config(c, err)) < 0)
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
    c->lease_ms = 10000;
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
    int rc = c->host->timer_start(c->owner, (uint64_t)tick, (uint64_t)tick, redis_watchdog, c,
                                  &c->watchdog);
    if (rc < 0)
        return qts_err_set(err, rc, "cache_redis: watchdog timer: %s", qts_strerror(rc));
    c->is_running = true;
    if (c->tls && !c->tls_verify)
        LOG(c, QTS_LOG_WARN,
            "redis tls_verify is off: the server's certificate and name are "
            "not checked (host=%s)",
            c->host_name);
    /* the first connection is asynchronous: start never waits for Redis */
    redis_connect_now(c);
    return 0;
}

static int redis_stop(void *self)
{
    struct redis_cache *c = self;
    /* the last writes (budget given back, claims released, heartbeat
     * deleted) are sent from the loop: wait for their answers, at most twice
     * the command timeout, before the connection goes */
    if (!c->is_stopping && c->state == ST_UP && c->count > 0) {
        int64_t now = mono_ns();
        if (!c->drain_until_ns)
            c->drain_until_ns = now + 2 * c->command_timeout_ms * 1000000;
        if (now < c->drain_until_ns)
            return QTS_EAGAIN;
    }
    if (!c->is_stopping) {
        /* what is still in hiredis's output buffer (the drain timed out on
         * a loaded machine) goes to the socket before it closes: Redis
         * applies it even though the answers are not awaited */
        if (c->ac && c->state == ST_UP)
            redisAsyncHandleWrite(c->ac);
        c->is_stopping = true;
        if (c->is_running)
            c->host->timer_stop(c->owner, c->watchdog);
        c->is_running = false;
        redis_drop_connection(c);
        redis_sentinel_drop(c);
    }
    return c->open_handles > 0 ? QTS_EAGAIN : 0;
}

static void redis_destroy(void *self)
{
    struct redis_cache *c = self;
    if (!c)
        return;
    if (c->ac) /* destroy after a failed start */
        redis_drop_connection(c);
    redis_sentinel_drop(c);
    qts_redis_tls_ctx_free(c->tls_ctx);
    c->host->free(c->owner, c->ring);
    c->host->free(c->owner, c);
}

/* Every key of the plugin's config: (docs/cache.md); the defaults are the
 * ones redis_init and read_config start from. */
static const struct qts_cfg_key redis_keys[] = {
    QTS_CFG_STR("url", NULL,
                "redis://[user[:password]@]host[:port][/db]; rediss:// turns TLS on "
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
    QTS_CFG_STR("host_id", NULL,
                "part of the default prefix (default $QTS_HOST_ID, else the "
                "machine's host name)"),
    QTS_CFG_STR("prefix", NULL, "this host's keys (default qts:<host_id>:)"),
    QTS_CFG_STR("shared_prefix",
                "qts:shared:", "budget counters and ownership claims shared by all hosts"),
    QTS_CFG_DURATION("connect_timeout_ms", "500", "connection timeout"),
    QTS_CFG_DURATION("command_timeout_ms", "50", "oldest unanswered command"),
    QTS_CFG_DURATION("reconnect_min_ms", "100", "first reconnect back-off"),
    QTS_CFG_DURATION("reconnect_max_ms", "2000", "longest reconnect back-off"),
    QTS_CFG_INT("breaker_failures", "5", "consecutive failures that open the breaker"),
    QTS_CFG_DURATION("breaker_open_ms", "30000", "time before the half-open probe"),
    QTS_CFG_INT("max_pending", "16384", "commands in flight before operations return QTS_EFULL"),
    QTS_CFG_DURATION(
        "budget_lease_ttl_ms", "10000",
        "a host silent this long gives back what it holds in shared budgets; 0 = never"),
    QTS_CFG_LIST("sentinels", NULL,
                 "Redis Sentinel addresses, host:port items (IP addresses); with master_name "
                 "the primary is the one Sentinel names"),
    QTS_CFG_STR("master_name", NULL, "the name the sentinels monitor the primary under"),
    QTS_CFG_END};

QTS_PLUGIN_DEFINE("cache_redis", QTS_KIND_CACHE, "1.0.0", &redis_ops, redis_keys, QTS_CAP_RAW_LOOP,
                  .init = redis_init, .start = redis_start, .stop = redis_stop,
                  .destroy = redis_destroy);
