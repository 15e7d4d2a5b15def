/* test_admin.c — the admin socket: owner-only permissions, line protocol,
 * peer identity on approvals, and `kill` through the socket cancelling
 * every working order of a pipeline with a scripted broker. */
#include "exec_fixture.h"

#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include "admin_socket.h"
#include "cli.h"
#include "safety.h"

struct host {
    struct fx *f;
    struct qts_safety *s;
    char last_who[256];
};

static int h_status(void *ctx, char *out, size_t cap)
{
    struct host *h = ctx;
    char sj[1024];
    qts_safety_status_json(h->s, sj, sizeof sj);
    snprintf(out, cap, "{\"safety\":%s,\"working_orders\":%zu}", sj,
             qts_oms_working_children(qts_exec_oms(h->f->x)));
    return 0;
}

static int h_kill(void *ctx, const char *who, const char *reason, char *out, size_t cap)
{
    struct host *h = ctx;
    qts_strlcpy(h->last_who, who, sizeof h->last_who);
    size_t n = qts_safety_kill_exec(h->s, h->f->x, false, who, reason);
    snprintf(out, cap, "{\"cancelled\":%zu}", n);
    return 0;
}

static int h_resume(void *ctx, const char *who, const char *reason, char *out, size_t cap)
{
    struct host *h = ctx;
    struct qts_err err;
    int rc = qts_safety_recover(h->s, true, who, reason, &err);
    if (rc < 0) {
        snprintf(out, cap, "%s", err.msg);
        return rc;
    }
    snprintf(out, cap, "{\"state\":\"%s\"}", qts_safety_state_name(rc));
    return 0;
}

static void test_json_helpers(void **state)
{
    (void)state;
    const char *j = "{\"x\":{\"cmd\":\"no\"},\"cmd\" : \"kill\",\"reason\":\"a \\\"b\\\"\\n\","
                    "\"approve\":true,\"n\":3}";
    char v[64];
    assert_true(qts_json_get_str(j, "cmd", v, sizeof v));
    assert_string_equal(v, "kill");
    assert_true(qts_json_get_str(j, "reason", v, sizeof v));
    assert_string_equal(v, "a \"b\"\n");
    bool b = false;
    assert_true(qts_json_get_bool(j, "approve", &b));
    assert_true(b);
    assert_false(qts_json_get_str(j, "n", v, sizeof v));
    assert_false(qts_json_get_str(j, "missing", v, sizeof v));
    assert_false(qts_json_get_str("not json", "cmd", v, sizeof v));
    char e[64];
    qts_json_escape(e, sizeof e, "q\"\\\n");
    assert_string_equal(e, "q\\\"\\\\\\u000a");
}

static void test_handle_line(void **state)
{
    (void)state;
    struct host h = {0};
    h.f = fx_new();
    fx_start(h.f);
    h.s = qts_safety_new(NULL);
    struct qts_admin_handlers hd = {
        .status = h_status, .kill = h_kill, .resume = h_resume, .ctx = &h};
    char out[4096];
    qts_admin_handle_line(&hd, "uid 7 bob", "{\"cmd\":\"status\"}", out, sizeof out);
    assert_non_null(strstr(out, "{\"ok\":true,\"result\":{\"safety\":{\"state\":\"NORMAL\""));
    qts_admin_handle_line(&hd, "uid 7 bob", "{\"cmd\":\"resume\",\"reason\":\"x\"}", out,
                          sizeof out);
    assert_non_null(strstr(out, "\"ok\":false"));
    qts_admin_handle_line(&hd, "uid 7 bob", "{\"cmd\":\"reload\",\"what\":\"x\"}", out, sizeof out);
    assert_non_null(strstr(out, "reload what"));
    qts_admin_handle_line(&hd, "uid 7 bob", "{\"cmd\":\"reload\"}", out, sizeof out);
    assert_non_null(strstr(out, "operation not supported"));
    qts_admin_handle_line(&hd, "uid 7 bob", "{\"cmd\":\"fly\"}", out, sizeof out);
    assert_non_null(strstr(out, "unknown command"));
    qts_admin_handle_line(&hd, "uid 7 bob", "garbage", out, sizeof out);
    assert_non_null(strstr(out, "malformed"));
    qts_admin_handle_line(&hd, "uid 7 bob", "{\"cmd\":\"kill\",\"by\":\"alice\"}", out, sizeof out);
    assert_string_equal(h.last_who, "alice (uid 7 bob)");
    assert_true(qts_safety_kill_on(h.s));
    qts_safety_free(h.s);
    fx_free(h.f);
}

/* ------------------------------------------------ through the socket */

struct client {
    const char *path;
    uv_async_t *done;
    char replies[4][2048];
    int rcs[4];
};

static void *client_run(void *arg)
{
    struct client *c = arg;
    const char *req[4] = {
        "{\"cmd\":\"status\"}",
        "{\"cmd\":\"kill\",\"reason\":\"drill\",\"by\":\"carol\"}",
        "{\"cmd\":\"status\"}",
        "{\"cmd\":\"resume\",\"approve\":true,\"reason\":\"drill over\",\"by\":\"carol\"}",
    };
    for (int i = 0; i < 4; i++)
        c->rcs[i] =
            qts_admin_call(c->path, req[i], c->replies[i], sizeof c->replies[i], 5000, NULL);
    uv_async_send(c->done);
    return NULL;
}

static struct qts_admin *g_admin;
static void on_done(uv_async_t *a)
{
    qts_admin_close(g_admin);
    uv_close((uv_handle_t *)a, NULL);
}

static void test_socket_kill_leaves_no_working_order(void **state)
{
    (void)state;
    char *dir = qts_test_tmpdir();
    char path[256];
    snprintf(path, sizeof path, "%s/qts.sock", dir);
    struct host h = {0};
    h.f = fx_new();
    fx_start(h.f);
    h.s = qts_safety_new(NULL);
    for (int i = 0; i < 25; i++) {
        struct qts_order_intent in = fx_intent(1, 1, QTS_SIDE_BUY, QTS_ORD_LIMIT, 60000, 10);
        fx_submit(h.f, &in);
    }
    for (int i = 0; i < h.f->n_calls; i++)
        fx_report(h.f, QTS_EXEC_ACK, h.f->calls[i].clordid, 0, 0, 0, 0);
    assert_int_equal(qts_oms_working_children(qts_exec_oms(h.f->x)), 25);

    uv_loop_t loop;
    uv_loop_init(&loop);
    struct qts_admin_handlers hd = {
        .status = h_status, .kill = h_kill, .resume = h_resume, .ctx = &h};
    struct qts_err err;
    assert_int_equal(qts_admin_open(&loop, path, &hd, &g_admin, &err), 0);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_true(S_ISSOCK(st.st_mode));
    assert_int_equal(st.st_mode & 0777, 0600);
    /* a second host on the same socket is refused */
    struct qts_admin *other = NULL;
    assert_int_equal(qts_admin_open(&loop, path, &hd, &other, &err), QTS_EBUSY);

    uv_async_t done;
    uv_async_init(&loop, &done, on_done);
    struct client c = {.path = path, .done = &done};
    pthread_t t;
    pthread_create(&t, NULL, client_run, &c);
    uv_run(&loop, UV_RUN_DEFAULT);
    pthread_join(t, NULL);
    assert_int_equal(uv_loop_close(&loop), 0);

    for (int i = 0; i < 4; i++)
        assert_int_equal(c.rcs[i], 0);
    assert_non_null(strstr(c.replies[0], "\"working_orders\":25"));
    assert_non_null(strstr(c.replies[1], "{\"ok\":true,\"result\":{\"cancelled\":25}}"));
    assert_non_null(strstr(c.replies[2], "\"kill\":true"));
    /* the venue confirms the cancels the kill handed over */
    assert_int_equal(fx_count(h.f, 'c'), 25);
    for (int i = 0; i < h.f->n_calls; i++)
        if (h.f->calls[i].op == 'c')
            fx_report(h.f, QTS_EXEC_CANCELLED, h.f->calls[i].clordid, 0, 0, 0, 0);
    assert_int_equal(qts_oms_working_children(qts_exec_oms(h.f->x)), 0);
    /* who approved: the name given plus the peer's uid from the socket */
    char uid[32];
    snprintf(uid, sizeof uid, "uid %u", (unsigned)getuid());
    assert_non_null(strstr(h.last_who, "carol ("));
    assert_non_null(strstr(h.last_who, uid));
    struct qts_safety_approval a;
    assert_true(qts_safety_last_approval(h.s, &a));
    assert_non_null(strstr(a.who, uid));
    assert_string_equal(a.reason, "drill over");
    assert_false(qts_safety_kill_on(h.s));
    /* the socket is gone after close; a client says no host runs */
    char out[256];
    assert_int_equal(qts_admin_call(path, "{\"cmd\":\"status\"}", out, sizeof out, 100, &err),
                     QTS_ENOENT);
    qts_safety_free(h.s);
    fx_free(h.f);
    qts_test_rmtree(dir);
    free(dir);
}

/* The CLI commands against a host loop running on another thread. */
struct bg {
    uv_loop_t loop;
    uv_async_t stop;
    struct qts_admin *admin;
    int kills, resumes, reloads;
    char what[32];
};

static int b_status(void *ctx, char *out, size_t cap)
{
    (void)ctx;
    snprintf(out, cap, "{\"mode\":\"paper\",\"safety\":{\"state\":\"NORMAL\"}}");
    return 0;
}

static int b_kill(void *ctx, const char *who, const char *reason, char *out, size_t cap)
{
    struct bg *b = ctx;
    (void)who;
    (void)reason;
    b->kills++;
    snprintf(out, cap, "{\"cancelled\":0}");
    return 0;
}

static int b_resume(void *ctx, const char *who, const char *reason, char *out, size_t cap)
{
    struct bg *b = ctx;
    (void)who;
    (void)reason;
    b->resumes++;
    snprintf(out, cap, "not in LOCKDOWN");
    return QTS_ESTATE;
}

static int b_reload(void *ctx, const char *what, char *out, size_t cap)
{
    struct bg *b = ctx;
    b->reloads++;
    qts_strlcpy(b->what, what, sizeof b->what);
    snprintf(out, cap, "{}");
    return 0;
}

static void bg_stop(uv_async_t *a)
{
    struct bg *b = a->data;
    qts_admin_close(b->admin);
    uv_close((uv_handle_t *)a, NULL);
}

static void *bg_run(void *arg)
{
    struct bg *b = arg;
    uv_run(&b->loop, UV_RUN_DEFAULT);
    return NULL;
}

static void test_cli_commands(void **state)
{
    (void)state;
    char *dir = qts_test_tmpdir();
    char path[256];
    snprintf(path, sizeof path, "%s/qts.sock", dir);
    struct bg *b = qts_xcalloc(1, sizeof *b);
    uv_loop_init(&b->loop);
    struct qts_admin_handlers hd = {
        .status = b_status, .kill = b_kill, .resume = b_resume, .reload = b_reload, .ctx = b};
    assert_int_equal(qts_admin_open(&b->loop, path, &hd, &b->admin, NULL), 0);
    uv_async_init(&b->loop, &b->stop, bg_stop);
    b->stop.data = b;
    pthread_t t;
    pthread_create(&t, NULL, bg_run, b);
    char *a1[] = {"qts", "status", "-s", path, NULL};
    assert_int_equal(qts_cli_main(4, a1), QTS_EXIT_OK);
    char *a2[] = {"qts", "kill", "--socket", path, "--reason", "drill", NULL};
    assert_int_equal(qts_cli_main(6, a2), QTS_EXIT_OK);
    char *a3[] = {"qts", "resume", "-s", path, NULL};
    assert_int_equal(qts_cli_main(4, a3), QTS_EXIT_USAGE); /* no --approve */
    char *a4[] = {"qts", "resume", "-s", path, "--approve", "ok now", NULL};
    assert_int_equal(qts_cli_main(6, a4), QTS_EXIT_FAILURE); /* the host refused */
    char *a5[] = {"qts", "reload", "strategies", "-s", path, "--json", NULL};
    assert_int_equal(qts_cli_main(6, a5), QTS_EXIT_OK);
    char *a6[] = {"qts", "reload", "everything", "-s", path, NULL};
    assert_int_equal(qts_cli_main(5, a6), QTS_EXIT_USAGE);
    uv_async_send(&b->stop);
    pthread_join(t, NULL);
    assert_int_equal(uv_loop_close(&b->loop), 0);
    assert_int_equal(b->kills, 1);
    assert_int_equal(b->resumes, 1);
    assert_int_equal(b->reloads, 1);
    assert_string_equal(b->what, "strategies");
    char *a7[] = {"qts", "status", "-s", path, NULL};
    assert_int_equal(qts_cli_main(4, a7), QTS_EXIT_FAILURE); /* no host any more */
    free(b);
    qts_test_rmtree(dir);
    free(dir);
}

QTS_TEST_MAIN(test_json_helpers, test_handle_line, test_socket_kill_leaves_no_working_order,
              test_cli_commands)
