/* test_plugin_http.c — the asynchronous HTTP service (libcurl multi on the
 * libuv loop) against a local server (tests/fixtures/http_server.py):
 * success, echo of method/headers/body, timeout, connection refused, large
 * body, body limit, cancel, close with requests in flight, and a request
 * made by a real plugin through struct qts_host_api. */
#include "manager_test.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "config_node.h"
#include "http_client.h"
#include "metrics.h"
#include "plugin_manager.h"
#include "util.h"

static FILE *g_srv;
static int g_port;
static pid_t g_pid;

struct result {
    int calls;
    int status, code;
    char *body;
    size_t body_n;
    char x_test[64], x_method[16], x_echo[64];
};

static void on_resp(void *arg, const struct qts_http_response *resp)
{
    struct result *r = arg;
    r->calls++;
    r->status = resp->status;
    r->code = resp->code;
    free(r->body);
    r->body = qts_xmalloc(resp->body.n + 1);
    memcpy(r->body, resp->body.p, resp->body.n);
    r->body[resp->body.n] = '\0';
    r->body_n = resp->body.n;
    for (size_t i = 0; i < resp->n_headers; i++) {
        const struct qts_http_header *h = &resp->headers[i];
        if (strcasecmp(h->name, "X-Test") == 0)
            qts_strlcpy(r->x_test, h->value, sizeof r->x_test);
        if (strcasecmp(h->name, "X-Method") == 0)
            qts_strlcpy(r->x_method, h->value, sizeof r->x_method);
        if (strcasecmp(h->name, "X-Echo-Custom") == 0)
            qts_strlcpy(r->x_echo, h->value, sizeof r->x_echo);
    }
    if (resp->code)
        assert_non_null(resp->error);
}

static int group_setup(void **state)
{
    (void)state;
    unsetenv("http_proxy");
    unsetenv("HTTP_PROXY");
    unsetenv("all_proxy");
    unsetenv("ALL_PROXY");
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "exec python3 %s",
             qts_test_src_path("tests/fixtures/http_server.py"));
    g_srv = popen(cmd, "r");
    if (!g_srv || fscanf(g_srv, "%d %d", &g_port, &g_pid) != 2) {
        fprintf(stderr, "skipped: cannot start tests/fixtures/http_server.py\n");
        return -1;
    }
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    if (g_pid > 0)
        kill(g_pid, SIGTERM);
    if (g_srv)
        pclose(g_srv);
    return 0;
}

struct rig {
    uv_loop_t loop;
    struct qts_http_client *c;
};

static void rig_init(struct rig *r)
{
    assert_int_equal(uv_loop_init(&r->loop), 0);
    struct qts_err err;
    assert_int_equal(qts_http_client_new(&r->loop, &r->c, &err), 0);
}

static void rig_cleanup(struct rig *r)
{
    qts_http_client_close(r->c);
    assert_int_equal(uv_run(&r->loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(uv_loop_close(&r->loop), 0);
}

static void run_until_calls(struct rig *r, struct result *res, int n)
{
    int64_t deadline = qts_mono_ns() + INT64_C(30000000000);
    while (res->calls < n) {
        if (qts_mono_ns() > deadline)
            fail_msg("no HTTP callback");
        uv_run(&r->loop, UV_RUN_ONCE);
    }
}

static void get(struct rig *r, const char *path, uint32_t timeout_ms, struct result *res)
{
    char url[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", g_port, path);
    struct qts_http_request req = {
        .struct_size = sizeof req, .method = "GET", .url = url, .timeout_ms = timeout_ms};
    struct qts_err err;
    assert_int_equal(qts_http_request(r->c, &req, on_resp, res, NULL, &err), 0);
}

static void test_ok(void **state)
{
    (void)state;
    struct rig r;
    rig_init(&r);
    struct result res = {0};
    get(&r, "/ok", 5000, &res);
    assert_int_equal(res.calls, 0); /* never inside the call */
    run_until_calls(&r, &res, 1);
    assert_int_equal(res.code, 0);
    assert_int_equal(res.status, 200);
    assert_string_equal(res.body, "ok");
    assert_string_equal(res.x_test, "yes");
    /* 404 is an HTTP answer, not a transport error */
    get(&r, "/missing", 5000, &res);
    run_until_calls(&r, &res, 2);
    assert_int_equal(res.code, 0);
    assert_int_equal(res.status, 404);
    assert_int_equal(qts_http_pending(r.c), 0);
    free(res.body);
    rig_cleanup(&r);
}

static void test_echo_method_headers_body(void **state)
{
    (void)state;
    struct rig r;
    rig_init(&r);
    struct result res = {0};
    char url[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/echo", g_port);
    const struct qts_http_header hdrs[] = {{"X-Custom", "abc"},
                                           {"Content-Type", "application/json"}};
    static const char body[] = "{\"a\":1,\"nul\":\"\0x\"}";
    struct qts_http_request req = {
        .struct_size = sizeof req,
        .method = "PUT",
        .url = url,
        .headers = hdrs,
        .n_headers = 2,
        .body = {body, sizeof body - 1},
    };
    assert_int_equal(qts_http_request(r.c, &req, on_resp, &res, NULL, NULL), 0);
    run_until_calls(&r, &res, 1);
    assert_int_equal(res.status, 200);
    assert_string_equal(res.x_method, "PUT");
    assert_string_equal(res.x_echo, "abc");
    assert_int_equal(res.body_n, sizeof body - 1);
    assert_memory_equal(res.body, body, sizeof body - 1);
    req.method = "POST";
    assert_int_equal(qts_http_request(r.c, &req, on_resp, &res, NULL, NULL), 0);
    run_until_calls(&r, &res, 2);
    assert_string_equal(res.x_method, "POST");
    free(res.body);
    rig_cleanup(&r);
}

static void test_timeout(void **state)
{
    (void)state;
    struct rig r;
    rig_init(&r);
    struct result res = {0};
    get(&r, "/slow?ms=3000", 150, &res);
    run_until_calls(&r, &res, 1);
    assert_int_equal(res.code, QTS_ETIMEDOUT);
    assert_int_equal(res.status, 0);
    free(res.body);
    rig_cleanup(&r);
}

static void test_connection_refused(void **state)
{
    (void)state;
    /* a port that was just free: bind, read it back, close */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t len = sizeof a;
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    close(fd);
    struct rig r;
    rig_init(&r);
    struct result res = {0};
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/ok", ntohs(a.sin_port));
    struct qts_http_request req = {.struct_size = sizeof req, .url = url};
    assert_int_equal(qts_http_request(r.c, &req, on_resp, &res, NULL, NULL), 0);
    run_until_calls(&r, &res, 1);
    assert_int_equal(res.code, QTS_ENET);
    assert_int_equal(res.status, 0);
    free(res.body);
    rig_cleanup(&r);
}

static void test_large_body_and_limit(void **state)
{
    (void)state;
    struct rig r;
    rig_init(&r);
    struct result res = {0};
    get(&r, "/big?bytes=8000000", 20000, &res);
    run_until_calls(&r, &res, 1);
    assert_int_equal(res.code, 0);
    assert_int_equal(res.body_n, 8000000);
    for (size_t i = 0; i < res.body_n; i += 99991)
        assert_int_equal(res.body[i], '0' + (int)(i % 10));
    qts_http_client_set_max_body(r.c, 100000);
    get(&r, "/big?bytes=200000", 20000, &res);
    run_until_calls(&r, &res, 2);
    assert_int_equal(res.code, QTS_ERANGE);
    free(res.body);
    rig_cleanup(&r);
}

static void test_cancel_and_close(void **state)
{
    (void)state;
    struct rig r;
    rig_init(&r);
    struct result a = {0}, b = {0};
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/slow?ms=2000", g_port);
    struct qts_http_request req = {.struct_size = sizeof req, .url = url};
    uint64_t id;
    assert_int_equal(qts_http_request(r.c, &req, on_resp, &a, &id, NULL), 0);
    assert_int_equal(qts_http_request(r.c, &req, on_resp, &b, NULL, NULL), 0);
    uv_run(&r.loop, UV_RUN_NOWAIT);
    assert_int_equal(qts_http_cancel(r.c, id), 0);
    assert_int_equal(a.calls, 0); /* later, on the loop */
    assert_int_equal(qts_http_cancel(r.c, id), QTS_ENOENT);
    run_until_calls(&r, &a, 1);
    assert_int_equal(a.code, QTS_ECANCELED);
    /* closing the client answers what is still in flight, once */
    qts_http_client_close(r.c);
    assert_int_equal(b.calls, 1);
    assert_int_equal(b.code, QTS_ECANCELED);
    assert_int_equal(uv_run(&r.loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(a.calls, 1);
    assert_int_equal(uv_loop_close(&r.loop), 0);
    free(a.body);
    free(b.body);
}

static void test_invalid_requests_get_no_callback(void **state)
{
    (void)state;
    struct rig r;
    rig_init(&r);
    struct result res = {0};
    struct qts_http_request req = {.struct_size = 4, .url = "http://127.0.0.1/"};
    struct qts_err err;
    assert_int_equal(qts_http_request(r.c, &req, on_resp, &res, NULL, &err), QTS_EINVAL);
    req.struct_size = sizeof req;
    req.url = NULL;
    assert_int_equal(qts_http_request(r.c, &req, on_resp, &res, NULL, &err), QTS_EINVAL);
    rig_cleanup(&r);
    assert_int_equal(res.calls, 0);
}

/* A broker plugin fetching a URL through host->http_request. */
static void test_plugin_request_through_host_api(void **state)
{
    (void)state;
    uv_loop_t loop;
    assert_int_equal(uv_loop_init(&loop), 0);
    struct qts_http_client *c;
    assert_int_equal(qts_http_client_new(&loop, &c, NULL), 0);
    struct qts_metrics *metrics = qts_metrics_new();
    struct qts_plugin_env env = {.loop = &loop, .http = c, .metrics = metrics};
    char *tmp = qts_test_tmpdir();
    char gen[600], yaml[256];
    snprintf(gen, sizeof gen, "%s/plugins.gen", tmp);
    snprintf(yaml, sizeof yaml, "http_url: http://127.0.0.1:%d/big?bytes=12345\n", g_port);
    struct qts_cfg_node *cfg = qts_test_cfg_node("t.yaml", yaml);
    struct qts_plugin_manager_opts o = {.env = &env, .gen_dir = gen};
    struct qts_plugin_manager *m;
    assert_int_equal(qts_plugin_manager_new(&o, &m, NULL), 0);
    char path[600];
    snprintf(path, sizeof path, "%s/fx_broker.so", QTS_FIXTURE_DIR);
    struct qts_err err;
    assert_int_equal(qts_plugin_manager_add(m, "exec", QTS_KIND_BROKER, path, cfg, &err), 0);
    assert_int_equal(qts_plugin_manager_start(m, &err), 0);
    struct qts_plugin_inst *inst = qts_plugin_manager_current(m, "exec");
    assert_int_equal(qts_plugin_inst_http(inst), 1);
    int64_t v = 0, deadline = qts_mono_ns() + INT64_C(30000000000);
    while (qts_metrics_get(metrics, "fixture_broker.http_status", &v) != 0) {
        assert_true(qts_mono_ns() < deadline);
        uv_run(&loop, UV_RUN_ONCE);
    }
    assert_int_equal(v, 200);
    assert_int_equal(qts_metrics_get(metrics, "fixture_broker.http_body_bytes", &v), 0);
    assert_int_equal(v, 12345);
    assert_int_equal(qts_plugin_inst_http(inst), 0);
    /* a request still in flight at unload is cancelled, answered once */
    assert_int_equal(qts_plugin_manager_reload(m, "exec", NULL, &err), 0);
    qts_plugin_manager_close(m);
    qts_http_client_close(c);
    qts_test_manager_end(m, &loop, metrics, cfg);
    qts_test_rmtree(tmp);
    free(tmp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ok),
        cmocka_unit_test(test_echo_method_headers_body),
        cmocka_unit_test(test_timeout),
        cmocka_unit_test(test_connection_refused),
        cmocka_unit_test(test_large_body_and_limit),
        cmocka_unit_test(test_cancel_and_close),
        cmocka_unit_test(test_invalid_requests_get_no_callback),
        cmocka_unit_test(test_plugin_request_through_host_api),
    };
    if (system("python3 -c 'import http.server' >/dev/null 2>&1") != 0) {
        fprintf(stderr, "skipped: python3 absent\n");
        return QTS_TEST_SKIP;
    }
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
