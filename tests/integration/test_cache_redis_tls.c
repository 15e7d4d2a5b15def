/* test_cache_redis_tls.c — cache_redis over TLS against real redis-servers
 * started here with a throwaway CA made by the openssl command: every write
 * kind with its TTL and a read back over TLS, a server signed by another CA
 * or carrying another name refused (connection failure: breaker, writes
 * return at once), mutual TLS, AUTH over TLS, a TLS server killed and
 * restarted (writes resume).
 *
 * Each server also listens in plain text on a second port, where the test
 * checks with hiredis what the plugin wrote over TLS. Needs QTS_REDIS_SERVER
 * (scripts/with-services), a redis-server built with TLS and the openssl
 * command; exits 77 without them. */
#include "test_support.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "cache_test_host.h"
#include "redis_test.h"

static char *g_dir;         /* certificates */
static char g_path[8][512]; /* ca, srv.crt, srv.key, ca2, srv2.crt, srv2.key, cli.crt, cli.key */
enum { CA, SRV_CRT, SRV_KEY, CA2, SRV2_CRT, SRV2_KEY, CLI_CRT, CLI_KEY };

/* ------------------------------------------------------------ helpers */

static int run(const char *fmt, ...)
{
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    if (getenv("QTS_TEST_DEBUG"))
        fprintf(stderr, "%s\n", cmd);
    return system(cmd);
}

/* Two CAs; a server certificate from each (CN localhost, SAN localhost and
 * 127.0.0.1); a client certificate from the first. EC keys: fast. */
static int make_certs(const char *d)
{
    static const char *const names[] = {"ca.crt",   "srv.crt",  "srv.key", "ca2.crt",
                                        "srv2.crt", "srv2.key", "cli.crt", "cli.key"};
    for (int i = 0; i < 8; i++)
        snprintf(g_path[i], sizeof g_path[i], "%s/%s", d, names[i]);
    const char *key = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
    if (run("cd %s && printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\n' > srv.ext && "
            "printf 'extendedKeyUsage=clientAuth\\n' > cli.ext",
            d) != 0)
        return -1;
    for (int k = 1; k <= 2; k++) {
        const char *sfx = k == 1 ? "" : "2";
        if (run("cd %s && openssl req -x509 %s -keyout ca%s.key -out ca%s.crt -days 2 "
                "-subj '/CN=qts test CA %d' >/dev/null 2>&1",
                d, key, sfx, sfx, k) != 0 ||
            run("cd %s && openssl req %s -keyout srv%s.key -out srv%s.csr -subj /CN=localhost "
                ">/dev/null 2>&1 && openssl x509 -req -in srv%s.csr -CA ca%s.crt -CAkey ca%s.key "
                "-CAcreateserial -out srv%s.crt -days 2 -extfile srv.ext >/dev/null 2>&1",
                d, key, sfx, sfx, sfx, sfx, sfx, sfx) != 0)
            return -1;
    }
    if (run("cd %s && openssl req %s -keyout cli.key -out cli.csr -subj /CN=qts-client "
            ">/dev/null 2>&1 && openssl x509 -req -in cli.csr -CA ca.crt -CAkey ca.key "
            "-CAcreateserial -out cli.crt -days 2 -extfile cli.ext >/dev/null 2>&1",
            d, key) != 0)
        return -1;
    return chmod(g_path[CLI_KEY], 0600);
}

static int free_port(void)
{
    int port = qts_th_free_port();
    assert_true(port > 0);
    return port;
}

struct server {
    pid_t pid;
    int plain, tls;
};

/* redis-server with a plain port (for the test's checks) and a TLS port
 * (for the plugin). `cert`/`key`: its certificate; clients verified against
 * the first CA when `auth_clients`. Returns false if it did not come up. */
static bool spawn_server(struct server *s, int cert, int key, bool auth_clients,
                         const char *const *extra)
{
    const char *bin = getenv("QTS_REDIS_SERVER");
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        char log[600];
        snprintf(log, sizeof log, "%s/redis-%d.log", g_dir, s->tls);
        const char *args[] = {"--port",
                              redis_port_str(s->plain),
                              "--tls-port",
                              redis_port_str(s->tls),
                              "--bind",
                              "127.0.0.1",
                              "--tls-cert-file",
                              g_path[cert],
                              "--tls-key-file",
                              g_path[key],
                              "--tls-ca-cert-file",
                              g_path[CA],
                              "--tls-auth-clients",
                              auth_clients ? "yes" : "no",
                              NULL};
        redis_server_exec(bin, args, extra, log);
    }
    s->pid = pid;
    for (int i = 0; i < 200; i++) {
        if (waitpid(pid, NULL, WNOHANG) == pid) { /* e.g. a port taken meanwhile */
            s->pid = 0;
            return false;
        }
        if (qts_th_port_open(s->plain) && qts_th_port_open(s->tls))
            return true;
        struct timespec ts = {0, 20 * 1000000};
        nanosleep(&ts, NULL);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    s->pid = 0;
    return false;
}

/* The server's own words when it did not come up. */
static void print_server_log(const struct server *s)
{
    run("tail -n 5 %s/redis-%d.log >&2", g_dir, s->tls);
}

/* New ports unless s has some (a restart): a few tries, since a port found
 * free can be taken before the server binds it. */
static bool start_server_once(struct server *s, int cert, int key, bool auth_clients,
                              const char *const *extra)
{
    bool is_fresh = !s->plain;
    for (int attempt = 0; attempt < (is_fresh ? 5 : 1); attempt++) {
        if (is_fresh) {
            s->plain = free_port();
            do
                s->tls = free_port();
            while (s->tls == s->plain);
        }
        if (spawn_server(s, cert, key, auth_clients, extra))
            return true;
    }
    print_server_log(s);
    return false;
}

static void start_server(struct server *s, int cert, int key, bool auth_clients,
                         const char *const *extra)
{
    assert_true(start_server_once(s, cert, key, auth_clients, extra));
}

static void kill_server(struct server *s)
{
    if (s->pid > 0) {
        kill(s->pid, SIGKILL);
        waitpid(s->pid, NULL, 0);
    }
    s->pid = 0;
}

static redisContext *plain_connect(const struct server *s, const char *password)
{
    return redis_connect(s->plain, password);
}

/* s started as start_server does; th a host, quiet unless QTS_TEST_DEBUG */
static void open_host(struct qts_th *th, struct server *s, int cert, int key, bool auth_clients,
                      const char *const *extra)
{
    start_server(s, cert, key, auth_clients, extra);
    qts_th_init(th);
    th->quiet = !getenv("QTS_TEST_DEBUG");
}

/* Unloads `a` and `b` (either may be NULL: already unloaded), then ends
 * the host and the server. */
static void close_host(struct qts_th *th, struct server *s, struct qts_th_inst *a,
                       struct qts_th_inst *b)
{
    if (a)
        qts_th_unload(a);
    if (b)
        qts_th_unload(b);
    qts_th_cleanup(th);
    kill_server(s);
}

/* GET `key` over s's plain port (AUTH with `password` unless NULL) is `want` */
static void expect_plain_get(const struct server *s, const char *password, const char *key,
                             const char *want)
{
    redisContext *c = plain_connect(s, password);
    char out[256];
    redis_cmd_str(c, out, sizeof out, "GET %s", key);
    assert_string_equal(out, want);
    redisFree(c);
}

static bool has_key(const char *const *extra, const char *key)
{
    for (int i = 0; extra && extra[i]; i += 2)
        if (strcmp(extra[i], key) == 0)
            return true;
    return false;
}

/* Load and start cache_redis against s's TLS port with the first CA;
 * `extra` adds or replaces keys. */
static void start_plugin(struct qts_th *th, struct qts_th_inst *in, const struct server *s,
                         const char *const *extra)
{
    struct qts_err err;
    assert_int_equal(qts_th_load(th, in, NULL, "cache_redis", &err), 0);
    char url[64];
    snprintf(url, sizeof url, "rediss://127.0.0.1:%d", s->tls);
    const char *defaults[] = {"url",
                              url,
                              "tls_ca_file",
                              g_path[CA],
                              "prefix",
                              "qts:tls:",
                              "command_timeout_ms",
                              "2000",
                              "connect_timeout_ms",
                              "2000",
                              NULL};
    for (int i = 0; defaults[i]; i += 2)
        if (!has_key(extra, defaults[i]))
            qts_th_cfg(in, defaults[i], defaults[i + 1]);
    assert_int_equal(qts_th_start_with(in, extra, &err), 0);
}

static struct qts_cache_health health(struct qts_th_inst *in)
{
    struct qts_cache_health h;
    assert_int_equal(qts_th_health(in, &h), 0);
    return h;
}

static bool is_up(void *arg) { return health(arg).state == QTS_CACHE_UP; }
static bool is_open(void *arg) { return health(arg).state == QTS_CACHE_OPEN; }
static bool is_idle(void *arg) { return health(arg).pending == 0; }
static bool has_failed(void *arg) { return health(arg).failures > 0; }

static struct qts_str S(const char *s) {
    return (struct qts_str){s, strlen(s)};
}

struct got {
    bool done;
    int status;
    char *v;
    size_t n;
};

static void on_get(void *arg, int status, struct qts_str v)
{
    struct got *g = arg;
    g->status = status;
    g->v = malloc(v.n + 1);
    memcpy(g->v, v.p, v.n);
    g->v[v.n] = '\0';
    g->n = v.n;
    g->done = true;
}

/* --------------------------------------------------------------- tests */

static void test_tls_every_write_kind(void **state)
{
    (void)state;
    struct server s = {0};
    struct qts_th th;
    open_host(&th, &s, SRV_CRT, SRV_KEY, false, NULL);
    struct qts_th_inst a, b;
    start_plugin(&th, &a, &s, NULL); /* checked name = the IP address */
    char url[64];
    snprintf(url, sizeof url, "rediss://localhost:%d", s.tls);
    const char *by_name[] = {"url", url, "prefix", "qts:tls2:", NULL};
    start_plugin(&th, &b, &s, by_name); /* resolved on the thread pool; name and SNI localhost */
    assert_true(qts_th_wait_for(&th, is_up, &a, 5000));
    assert_true(qts_th_wait_for(&th, is_up, &b, 5000));

    assert_int_equal(a.ops->set(a.self, S("price"), S("101.5"), 60000), 0);
    struct qts_str f[2] = {S("bid"), S("ask")}, v[2] = {S("1"), S("2")};
    assert_int_equal(a.ops->hset(a.self, S("h"), f, v, 2, 60000), 0);
    double sc[2] = {1.5, 2.5};
    struct qts_str m[2] = {S("1.5:10"), S("2.5:20")};
    assert_int_equal(a.ops->zset_replace(a.self, S("z"), sc, m, 2, 60000), 0);
    /* a value larger than TLS records, the bridge's buffers and its high-water mark */
    size_t big_n = 3000000; /* past the bridge's 1 MiB high-water mark: reading pauses */
    char *big = malloc(big_n);
    for (size_t i = 0; i < big_n; i++)
        big[i] = (char)('a' + i % 26);
    assert_int_equal(a.ops->set(a.self, S("big"), (struct qts_str){big, big_n}, 60000), 0);
    assert_int_equal(b.ops->set(b.self, S("k"), S("v"), 0), 0);
    struct got g = {0};
    assert_int_equal(a.ops->get(a.self, S("big"), on_get, &g), 0);
    assert_true(qts_th_run_until(&th, &g.done, 5000));
    assert_int_equal(g.status, 0);
    assert_int_equal(g.n, big_n);
    assert_memory_equal(g.v, big, big_n);
    free(g.v);
    free(big);
    assert_true(qts_th_wait_for(&th, is_idle, &a, 5000));
    assert_true(qts_th_wait_for(&th, is_idle, &b, 5000));
    assert_int_equal(health(&a).writes_ok, 4);
    assert_int_equal(health(&a).failures, 0);

    redisContext *c = plain_connect(&s, NULL);
    char out[256];
    redis_cmd_str(c, out, sizeof out, "GET %s", "qts:tls:price");
    assert_string_equal(out, "101.5");
    long long pttl = redis_cmd_int(c, "PTTL %s", "qts:tls:price");
    assert_true(pttl > 0 && pttl <= 60000);
    redis_cmd_str(c, out, sizeof out, "HGETALL %s", "qts:tls:h");
    assert_string_equal(out, "bid;1;ask;2;");
    assert_true(redis_cmd_int(c, "PTTL %s", "qts:tls:h") > 0);
    redis_cmd_str(c, out, sizeof out, "ZREVRANGE %s 0 -1", "qts:tls:z");
    assert_string_equal(out, "2.5:20;1.5:10;");
    assert_true(redis_cmd_int(c, "PTTL %s", "qts:tls:z") > 0);
    redis_cmd_str(c, out, sizeof out, "GET %s", "qts:tls2:k");
    assert_string_equal(out, "v");
    redisFree(c);

    close_host(&th, &s, &a, &b);
}

static void test_tls_wrong_ca_or_name_refused(void **state)
{
    (void)state;
    struct server s = {0};
    struct qts_th th;
    open_host(&th, &s, SRV2_CRT, SRV2_KEY, false, NULL); /* signed by the second CA */
    th.watch[0] = "certificate verify failed";
    th.watch[1] = "hostname mismatch";
    th.watch[2] = "host=127.0.0.1:";
    struct qts_th_inst a;
    const char *fast[] = {"reconnect_min_ms",
                          "5",
                          "reconnect_max_ms",
                          "10",
                          "breaker_failures",
                          "3",
                          "breaker_open_ms",
                          "60000",
                          NULL};
    start_plugin(&th, &a, &s, fast);
    /* writes never wait for the handshake: refused at once while not up */
    for (int i = 0; i < 100; i++)
        assert_int_equal(a.ops->set(a.self, S("k"), S("v"), 1000), QTS_ENET);
    assert_true(qts_th_wait_for(&th, is_open, &a, 5000));
    struct qts_cache_health h = health(&a);
    assert_int_equal(h.breaker_opens, 1);
    assert_true(h.failures >= 3);
    assert_int_equal(h.writes_ok, 0);
    assert_int_equal(h.writes_dropped, 100);
    assert_int_equal(th.watch_hits[0], 1); /* logged once, with the cause */
    assert_true(th.watch_hits[2] >= 1);    /* and the host */
    assert_int_equal(th.log_count[QTS_LOG_WARN], 1);
    assert_int_equal(th.log_count[QTS_LOG_ERROR], 1); /* breaker open */
    assert_int_equal(a.ops->set(a.self, S("k"), S("v"), 1000), QTS_ENET);
    qts_th_unload(&a);

    /* the right CA but another name */
    kill_server(&s);
    start_server(&s, SRV_CRT, SRV_KEY, false, NULL);
    struct qts_th_inst b;
    const char *other[] = {"tls_server_name",
                           "redis.example",
                           "breaker_failures",
                           "1",
                           "breaker_open_ms",
                           "60000",
                           NULL};
    start_plugin(&th, &b, &s, other);
    assert_true(qts_th_wait_for(&th, is_open, &b, 5000));
    assert_int_equal(th.watch_hits[1], 1);
    qts_th_unload(&b);

    /* tls_verify: false accepts the unknown CA, and says so */
    kill_server(&s);
    start_server(&s, SRV2_CRT, SRV2_KEY, false, NULL);
    th.watch[3] = "tls_verify is off";
    struct qts_th_inst c;
    const char *noverify[] = {"tls_verify", "false", NULL};
    start_plugin(&th, &c, &s, noverify);
    assert_true(qts_th_wait_for(&th, is_up, &c, 5000));
    assert_int_equal(th.watch_hits[3], 1);
    close_host(&th, &s, &c, NULL);
}

static void test_mutual_tls(void **state)
{
    (void)state;
    struct server s = {0};
    struct qts_th th;
    open_host(&th, &s, SRV_CRT, SRV_KEY, true, NULL); /* client certificates required */
    struct qts_th_inst a, b;
    const char *cert[] = {"tls_cert_file", g_path[CLI_CRT], "tls_key_file", g_path[CLI_KEY], NULL};
    start_plugin(&th, &a, &s, cert);
    const char *none[] = {"breaker_failures", "1", "breaker_open_ms", "60000", NULL};
    start_plugin(&th, &b, &s, none);
    assert_true(qts_th_wait_for(&th, is_up, &a, 5000));
    assert_int_equal(a.ops->set(a.self, S("mtls"), S("yes"), 60000), 0);
    assert_true(qts_th_wait_for(&th, is_idle, &a, 5000));
    assert_int_equal(health(&a).writes_ok, 1);
    assert_true(qts_th_wait_for(&th, is_open, &b, 5000)); /* without a certificate: refused */
    assert_int_equal(health(&b).writes_ok, 0);
    expect_plain_get(&s, NULL, "qts:tls:mtls", "yes");
    close_host(&th, &s, &a, &b);
}

static void test_auth_over_tls(void **state)
{
    (void)state;
    struct server s = {0};
    const char *auth[] = {"--requirepass", "s3cret", "--user", "alice", "on",
                          ">alicepw",      "~*",     "&*",     "+@all", NULL};
    struct qts_th th;
    open_host(&th, &s, SRV_CRT, SRV_KEY, false, auth);
    struct qts_th_inst x, y, z;
    const char *pw[] = {"password", "s3cret", NULL};
    start_plugin(&th, &x, &s, pw);
    setenv("QTS_TEST_REDIS_TLS_PW", "alicepw", 1);
    const char *acl[] = {
        "user", "alice", "password_secret", "QTS_TEST_REDIS_TLS_PW", "prefix", "qts:tlsacl:", NULL};
    start_plugin(&th, &y, &s, acl);
    const char *bad[] = {"password", "wrong", "breaker_failures", "1", "breaker_open_ms",
                         "60000",    NULL};
    start_plugin(&th, &z, &s, bad);
    assert_true(qts_th_wait_for(&th, is_up, &x, 5000));
    assert_true(qts_th_wait_for(&th, is_up, &y, 5000));
    assert_true(qts_th_wait_for(&th, is_open, &z, 5000));
    assert_int_equal(x.ops->set(x.self, S("a"), S("1"), 60000), 0);
    assert_int_equal(y.ops->set(y.self, S("a"), S("2"), 60000), 0);
    assert_true(qts_th_wait_for(&th, is_idle, &x, 5000));
    assert_true(qts_th_wait_for(&th, is_idle, &y, 5000));
    expect_plain_get(&s, "s3cret", "qts:tls:a", "1");
    expect_plain_get(&s, "s3cret", "qts:tlsacl:a", "2");
    qts_th_unload(&x);
    close_host(&th, &s, &y, &z);
    unsetenv("QTS_TEST_REDIS_TLS_PW");
}

static void test_tls_server_killed_and_restarted(void **state)
{
    (void)state;
    struct server s = {0};
    struct qts_th th;
    open_host(&th, &s, SRV_CRT, SRV_KEY, false, NULL);
    th.watch[0] = "redis back";
    struct qts_th_inst a;
    const char *fast[] = {"reconnect_min_ms",
                          "10",
                          "reconnect_max_ms",
                          "40",
                          "breaker_failures",
                          "3",
                          "breaker_open_ms",
                          "200",
                          NULL};
    start_plugin(&th, &a, &s, fast);
    assert_true(qts_th_wait_for(&th, is_up, &a, 5000));
    assert_int_equal(a.ops->set(a.self, S("r"), S("before"), 60000), 0);
    assert_true(qts_th_wait_for(&th, is_idle, &a, 5000));

    kill_server(&s);
    assert_true(qts_th_wait_for(&th, has_failed, &a, 5000));
    assert_int_equal(a.ops->set(a.self, S("r"), S("during"), 60000), QTS_ENET);
    assert_true(qts_th_wait_for(&th, is_open, &a, 5000));
    assert_int_equal(health(&a).breaker_opens, 1);

    start_server(&s, SRV_CRT, SRV_KEY, false, NULL); /* same ports */
    assert_true(qts_th_wait_for(&th, is_up, &a, 5000));
    assert_true(health(&a).reconnects >= 1);
    assert_int_equal(th.watch_hits[0], 1);
    assert_int_equal(a.ops->set(a.self, S("r"), S("after"), 60000), 0);
    assert_true(qts_th_wait_for(&th, is_idle, &a, 5000));
    expect_plain_get(&s, NULL, "qts:tls:r", "after");
    close_host(&th, &s, &a, NULL);
}

int main(void)
{
    const char *bin = qts_test_service_env("QTS_REDIS_SERVER");
    if (!bin)
        return QTS_TEST_SKIP;
    if (system("openssl version >/dev/null 2>&1") != 0) {
        printf("skipped: the openssl command is absent\n");
        return QTS_TEST_SKIP;
    }
    unsetenv("QTS_REDIS_URL");
    g_dir = qts_test_tmpdir();
    if (make_certs(g_dir) != 0) {
        printf("skipped: could not make test certificates with openssl\n");
        qts_test_rmtree(g_dir);
        free(g_dir);
        return QTS_TEST_SKIP;
    }
    struct server probe = {0};
    if (!start_server_once(&probe, SRV_CRT, SRV_KEY, false, NULL)) {
        printf("skipped: %s does not start with --tls-port (built without TLS?)\n", bin);
        qts_test_rmtree(g_dir);
        free(g_dir);
        return QTS_TEST_SKIP;
    }
    kill_server(&probe);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tls_every_write_kind),
        cmocka_unit_test(test_tls_wrong_ca_or_name_refused),
        cmocka_unit_test(test_mutual_tls),
        cmocka_unit_test(test_auth_over_tls),
        cmocka_unit_test(test_tls_server_killed_and_restarted),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    qts_test_rmtree(g_dir);
    free(g_dir);
    return rc;
}
