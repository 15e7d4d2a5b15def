/* test_cache_redis_cfg.c — cache_redis configuration errors, no server
 * needed: TLS settings checked at load (tls_* keys without TLS, a client
 * key readable by others, missing files), bad URLs, a user without a
 * password; a start with nothing listening (plain or TLS) never blocks and
 * reports the cache as not up; a TLS handshake that is never answered ends
 * at the connect timeout. */
#include "test_support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cache_test_host.h"

static int load_with(const char *k1, const char *v1, const char *k2, const char *v2,
                     struct qts_err *err)
{
    struct qts_th th;
    struct qts_th_inst in;
    qts_th_init(&th);
    th.quiet = true;
    int rc = qts_th_load(&th, &in, NULL, "cache_redis", err);
    assert_int_equal(rc, 0);
    if (k1)
        qts_th_cfg(&in, k1, v1);
    if (k2)
        qts_th_cfg(&in, k2, v2);
    rc = qts_th_start(&in, err);
    if (rc < 0)
        in.self = NULL; /* init failed: nothing to destroy */
    qts_th_unload(&in);
    qts_th_cleanup(&th);
    return rc;
}

static bool have_openssl_cli(void) { return system("openssl version >/dev/null 2>&1") == 0; }

/* Run the loop until the breaker is open (two failed connections), up to
 * 10 s: a loaded machine may need more than the few tens of ms it takes. */
static void wait_breaker_open(struct qts_th *th, struct qts_th_inst *in, struct qts_cache_health *h)
{
    for (int i = 0; i < 200; i++) {
        qts_th_run_ms(th, 50);
        assert_int_equal(in->ops->health(in->self, h), 0);
        if (h->state == QTS_CACHE_OPEN)
            break;
    }
    assert_int_equal(h->state, QTS_CACHE_OPEN);
}

/* Load cache_redis with the pairs of `cfg` (borrowed) plus a fast
 * reconnect and a breaker that opens after two failures, and start it
 * where nothing answers: a write is refused at once, then the breaker
 * opens, once; *h is the health at that point. */
static void start_until_breaker_open(struct qts_th *th, struct qts_th_inst *in,
                                     const char *const *cfg, struct qts_cache_health *h)
{
    struct qts_err err;
    assert_int_equal(qts_th_load(th, in, NULL, "cache_redis", &err), 0);
    qts_th_cfg(in, "reconnect_min_ms", "5");
    qts_th_cfg(in, "breaker_failures", "2");
    assert_int_equal(qts_th_start_with(in, cfg, &err), 0);
    assert_int_equal(
        in->ops->set(in->self, (struct qts_str){"k", 1}, (struct qts_str){"v", 1}, 100), QTS_ENET);
    wait_breaker_open(th, in, h);
    assert_int_equal(h->breaker_opens, 1);
}

static void test_tls_config_errors(void **state)
{
    (void)state;
    struct qts_err err;
    /* tls_* keys without TLS: the operator believes the link is encrypted */
    assert_int_equal(load_with("tls_ca_file", "/x/ca.pem", NULL, NULL, &err), QTS_ECONFIG);
    assert_non_null(strstr(err.msg, "TLS is off"));
    assert_int_equal(load_with("url", "redis://127.0.0.1:1", "tls_server_name", "r.example", &err),
                     QTS_ECONFIG);
    assert_int_equal(load_with("tls", "true", "unix_socket", "/tmp/r.sock", &err), QTS_ECONFIG);
    assert_non_null(strstr(err.msg, "unix_socket"));
    assert_int_equal(
        load_with("url", "rediss://127.0.0.1:1", "tls_ca_file", "/nonexistent/qts-ca.pem", &err),
        QTS_ECONFIG);
    assert_non_null(strstr(err.msg, "/nonexistent/qts-ca.pem"));
    assert_int_equal(load_with("tls", "true", "tls_cert_file", "/nonexistent/c.pem", &err),
                     QTS_ECONFIG);
    assert_non_null(strstr(err.msg, "go together"));
    assert_int_equal(load_with("url", "redis://127.0.0.1:1", "tls", "maybe", &err) < 0, 1);
    /* stopped while the name is still being resolved on the thread pool */
    assert_int_equal(load_with("url", "rediss://localhost:1", NULL, NULL, &err), 0);
}

/* A client key readable by others is refused at load, before any I/O. */
static void test_tls_key_mode(void **state)
{
    (void)state;
    if (!have_openssl_cli()) {
        printf("skipped: openssl command absent\n");
        skip();
    }
    char *dir = qts_test_tmpdir();
    char cmd[2048], crt[512], key[512];
    snprintf(crt, sizeof crt, "%s/c.crt", dir);
    snprintf(key, sizeof key, "%s/c.key", dir);
    snprintf(cmd, sizeof cmd,
             "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
             "-keyout %s -out %s -days 1 -subj /CN=qts-test >/dev/null 2>&1",
             key, crt);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(chmod(key, 0644), 0);
    struct qts_th th;
    struct qts_th_inst in;
    qts_th_init(&th);
    th.quiet = true;
    struct qts_err err;
    const char *tls_cfg[] = {"url", "rediss://127.0.0.1:1", "tls_ca_file", crt, "tls_cert_file",
                             crt,   "tls_key_file",         key,           NULL};
    assert_int_equal(qts_th_load(&th, &in, NULL, "cache_redis", &err), 0);
    for (int i = 0; tls_cfg[i]; i += 2)
        qts_th_cfg(&in, tls_cfg[i], tls_cfg[i + 1]);
    assert_int_equal(qts_th_start(&in, &err), QTS_ECONFIG);
    assert_non_null(strstr(err.msg, "0600"));
    in.self = NULL;
    qts_th_unload(&in);
    /* 0600: loads, and with nothing listening fails like a plain connection */
    assert_int_equal(chmod(key, 0600), 0);
    struct qts_cache_health h = {.struct_size = sizeof h};
    start_until_breaker_open(&th, &in, tls_cfg, &h);
    qts_th_unload(&in);
    qts_th_cleanup(&th);
    qts_test_rmtree(dir);
    free(dir);
}

/* A server that accepts TCP but never answers the TLS handshake: the
 * connect timeout covers the handshake, nothing blocks, the breaker opens. */
static void on_silent_conn(uv_stream_t *server, int status)
{
    if (status < 0)
        return;
    uv_tcp_t *cl = malloc(sizeof *cl);
    uv_tcp_init(server->loop, cl);
    if (uv_accept(server, (uv_stream_t *)cl) != 0) {
        uv_close((uv_handle_t *)cl, (uv_close_cb)free);
        return;
    }
    cl->data = server->data;
    /* kept open, never read: closed when the test walks the loop */
}

static void close_walk(uv_handle_t *h, void *arg)
{
    uv_tcp_t *server = arg;
    if (h->type == UV_TCP && h != (uv_handle_t *)server && h->data == server && !uv_is_closing(h))
        uv_close(h, (uv_close_cb)free);
}

static void test_tls_handshake_timeout(void **state)
{
    (void)state;
    struct qts_th th;
    struct qts_th_inst in;
    qts_th_init(&th);
    th.quiet = true;
    th.watch[0] = "no answer (tls handshake)";
    uv_tcp_t server;
    uv_tcp_init(&th.loop, &server);
    server.data = &server;
    struct sockaddr_in sa;
    uv_ip4_addr("127.0.0.1", 0, &sa);
    assert_int_equal(uv_tcp_bind(&server, (const struct sockaddr *)&sa, 0), 0);
    assert_int_equal(uv_listen((uv_stream_t *)&server, 8, on_silent_conn), 0);
    struct sockaddr_in bound;
    int bl = sizeof bound;
    assert_int_equal(uv_tcp_getsockname(&server, (struct sockaddr *)&bound, &bl), 0);
    char url[64];
    snprintf(url, sizeof url, "rediss://127.0.0.1:%d", ntohs(bound.sin_port));
    const char *cfg[] = {"url", url, "connect_timeout_ms", "30", NULL};
    struct qts_cache_health h = {.struct_size = sizeof h};
    start_until_breaker_open(&th, &in, cfg, &h);
    assert_int_equal(th.watch_hits[0], 1); /* the first failure of the outage, logged once */
    qts_th_unload(&in);
    uv_walk(&th.loop, close_walk, &server);
    uv_close((uv_handle_t *)&server, NULL);
    qts_th_cleanup(&th);
}

static void test_bad_config(void **state)
{
    (void)state;
    struct qts_err err;
    assert_int_equal(load_with("url", "http://x", NULL, NULL, &err), QTS_ECONFIG);
    assert_int_equal(load_with("url", "redis://h:99999", NULL, NULL, &err), QTS_ECONFIG);
    assert_int_equal(load_with("user", "alice", "password_secret", "QTS_TEST_NO_SUCH_SECRET", &err),
                     QTS_ECONFIG);
    assert_non_null(strstr(err.msg, "without a password"));
    assert_int_equal(load_with("prefix", "x:", "shared_prefix", "x:", &err), QTS_ECONFIG);
    assert_int_equal(load_with("breaker_failures", "0", NULL, NULL, &err), QTS_ECONFIG);
    /* Sentinel: both keys or neither, items host:port */
    assert_int_equal(load_with("sentinels", "127.0.0.1:26379", NULL, NULL, &err), QTS_ECONFIG);
    assert_non_null(strstr(err.msg, "go together"));
    assert_int_equal(load_with("master_name", "m", NULL, NULL, &err), QTS_ECONFIG);
    assert_int_equal(load_with("sentinels", "127.0.0.1:1,10.0.0.1", "master_name", "m", &err),
                     QTS_ECONFIG);
    assert_non_null(strstr(err.msg, "\"10.0.0.1\" is not host:port"));
    assert_int_equal(load_with("sentinels", "127.0.0.1:0", "master_name", "m", &err), QTS_ECONFIG);
}

/* No sentinel answers: a failed attempt like a refused connection (logged
 * once, with the reason), nothing blocks, the breaker opens. */
static void test_sentinel_nothing_listening(void **state)
{
    (void)state;
    struct qts_th th;
    struct qts_th_inst in;
    qts_th_init(&th);
    th.quiet = true;
    const char *cfg[] = {"sentinels", "127.0.0.1:1,127.0.0.1:2", "master_name", "qts", NULL};
    struct qts_cache_health h = {.struct_size = sizeof h};
    start_until_breaker_open(&th, &in, cfg, &h);
    assert_true(h.failures >= 2);
    assert_int_equal(th.log_count[QTS_LOG_WARN], 1);
    qts_th_unload(&in);
    qts_th_cleanup(&th);
}

static void test_nothing_listening_never_blocks(void **state)
{
    (void)state;
    struct qts_th th;
    struct qts_th_inst in;
    qts_th_init(&th);
    th.quiet = true;
    const char *cfg[] = {"url", "redis://127.0.0.1:1", NULL}; /* nothing listens on port 1 */
    struct qts_cache_health h = {.struct_size = sizeof h};
    start_until_breaker_open(&th, &in, cfg, &h);
    assert_true(h.failures >= 2);
    assert_int_equal(h.writes_dropped, 1);
    assert_int_equal(th.log_count[QTS_LOG_WARN], 1); /* logged once */
    qts_th_unload(&in);
    qts_th_cleanup(&th);
}

int main(void)
{
    unsetenv("QTS_REDIS_URL");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tls_config_errors),
        cmocka_unit_test(test_tls_key_mode),
        cmocka_unit_test(test_tls_handshake_timeout),
        cmocka_unit_test(test_bad_config),
        cmocka_unit_test(test_nothing_listening_never_blocks),
        cmocka_unit_test(test_sentinel_nothing_listening),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
