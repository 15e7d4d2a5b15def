/* test_risk_control.c — the risk and safety modules wired as the engine wires
 * them: live guard at start, limits and per-strategy overrides from the
 * configuration, the pre-trade hook in the pipeline, the socket's kill
 * leaving no working order, the KILL file, status, orderly stop. */
#include "exec_fixture.h"

#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include "admin_socket.h"
#include "config.h"
#include "settings.h"
#include "risk_control.h"

static struct qts_config *load(const char *dir, const char *extra)
{
    char yaml[2048];
    snprintf(yaml, sizeof yaml,
             "mode: paper\n"
             "paths: {var_dir: %s}\n"
             "risk: {max_order_qty: 100}\n"
             "strategies:\n"
             "  list:\n"
             "    - {name: small, file: s.lua, risk: {max_order_qty: 5}}\n"
             "%s",
             dir, extra ? extra : "");
    struct qts_diags d;
    qts_diags_init(&d);
    struct qts_config *c = NULL;
    assert_int_equal(qts_config_load_string("t.yaml", yaml, &c, &d), 0);
    qts_diags_cleanup(&d);
    return c;
}

static int64_t sid(void *ctx, const char *name)
{
    (void)ctx;
    return strcmp(name, "small") == 0 ? 2 : -1;
}

static size_t no_positions(void *ctx, struct qts_risk_pos_view *out, size_t cap)
{
    (void)ctx;
    (void)out;
    (void)cap;
    return 0;
}

static int extra(void *ctx, char *out, size_t cap)
{
    (void)ctx;
    return snprintf(out, cap, "\"positions\":[]");
}

/* read by qts_risk_control_new only: one view at a time is enough */
static struct qts_risk_settings g_rset;

static struct qts_risk_control_env env_for(struct fx *f, const struct qts_settings *s,
                                           uv_loop_t *loop)
{
    qts_settings_risk_view(s, &g_rset);
    struct qts_risk_control_env env = {.loop = loop,
                                       .timers = &f->timers,
                                       .exec = f->x,
                                       .settings = &g_rset,
                                       .broker_env = QTS_BROKER_ENV_SIMULATED,
                                       .positions = no_positions,
                                       .strategy_id = sid,
                                       .status_extra = extra,
                                       .ctx = f};
    return env;
}

/* A temporary var directory, its configuration and an exec fixture whose
 * safety codes reach the risk host (when one is made), as the engine wires
 * them. */
struct rig {
    char *dir;
    struct qts_config *c;
    struct fx *f;
    struct qts_risk_control *h; /* NULL until made; freed by rig_close */
    struct qts_safety *s;       /* borrowed from h */
};

/* The directory, the configuration (`extra` strategies appended, or NULL)
 * and a started exec fixture; no risk host yet. */
static void rig_open(struct rig *r, const char *extra)
{
    memset(r, 0, sizeof *r);
    r->dir = qts_test_tmpdir();
    r->c = load(r->dir, extra);
    r->f = fx_new();
    fx_start(r->f);
}

static void rig_close(struct rig *r)
{
    qts_risk_control_free(r->h); /* NULL when the test made none or freed it */
    fx_free(r->f);
    qts_config_unref(r->c);
    qts_test_rmtree(r->dir);
    free(r->dir);
}

static void to_risk_control(void *ctx, int code, const char *msg)
{
    qts_risk_control_on_exec_safety(ctx, code, msg);
}

/* rig_open, then the risk host on no loop, the exec's safety codes wired to it. */
static void rig_up(struct rig *r)
{
    rig_open(r, NULL);
    struct qts_risk_control_env env = env_for(r->f, qts_config_settings(r->c), NULL);
    struct qts_err err;
    assert_int_equal(qts_risk_control_new(&env, &r->h, &err), 0);
    r->f->safety_to = to_risk_control;
    r->f->safety_to_ctx = r->h;
    r->s = qts_risk_control_safety(r->h);
}

static void rig_down(struct rig *r) { rig_close(r); }

static void test_live_guard_refuses(void **state)
{
    (void)state;
    struct rig r;
    rig_open(&r, NULL);
    struct qts_risk_control_env env = env_for(r.f, qts_config_settings(r.c), NULL);
    env.broker_env = QTS_BROKER_ENV_REAL; /* a real broker under mode paper */
    struct qts_err err;
    assert_int_equal(qts_risk_control_new(&env, &r.h, &err), QTS_EPERM);
    assert_null(r.h);
    assert_non_null(strstr(err.msg, "mode"));
    rig_close(&r);
}

static void test_limits_overrides_and_codes(void **state)
{
    (void)state;
    struct rig r;
    rig_open(&r, NULL);
    struct fx *f = r.f;
    struct qts_risk_control_env env = env_for(f, qts_config_settings(r.c), NULL);
    struct qts_err err;
    assert_int_equal(qts_risk_control_new(&env, &r.h, &err), 0);
    struct qts_risk_control *h = r.h;
    /* global limit 100, strategy 2 ("small") 5 */
    uint64_t id;
    struct qts_order_intent in = fx_intent(1, 1, QTS_SIDE_BUY, QTS_ORD_LIMIT, 60000, 100);
    assert_int_equal(qts_exec_submit(f->x, &in, &id, &err), 0);
    in.qty = 101;
    assert_int_equal(qts_exec_submit(f->x, &in, &id, &err), QTS_ERISK);
    assert_non_null(strstr(err.msg, "GR107"));
    in = fx_intent(2, 1, QTS_SIDE_BUY, QTS_ORD_LIMIT, 60000, 6);
    assert_int_equal(qts_exec_submit(f->x, &in, &id, &err), QTS_ERISK);
    /* the pipeline's codes reach the state machine */
    qts_risk_control_on_exec_safety(h, QTS_SC_FS092, "escape");
    assert_int_equal(qts_safety_state(qts_risk_control_safety(h)), QTS_SAFETY_NORMAL);
    qts_risk_control_on_exec_safety(h, QTS_SC_FS090, "all sends failed");
    assert_int_equal(qts_safety_state(qts_risk_control_safety(h)), QTS_SAFETY_FAIL);
    in = fx_intent(1, 1, QTS_SIDE_BUY, QTS_ORD_LIMIT, 60000, 1);
    assert_int_equal(qts_exec_submit(f->x, &in, &id, &err), QTS_ERISK);
    assert_non_null(strstr(err.msg, "GR102"));
    struct qts_precheck_reject rej;
    assert_int_equal(qts_risk_control_cancel_allowed(h, 1, &rej), 0);
    char js[65536];
    int n = qts_risk_control_status_json(h, js, sizeof js);
    assert_true(n > 0 && (size_t)n < sizeof js);
    assert_non_null(strstr(js, "\"mode\":\"paper\""));
    assert_non_null(strstr(js, "\"state\":\"FAIL\""));
    assert_non_null(strstr(js, "\"GR107\":2"));
    assert_non_null(strstr(js, "\"positions\":[]"));
    /* a reload: new global limit; a broken one keeps the running limits */
    qts_safety_recover(qts_risk_control_safety(h), false, NULL, NULL, NULL);
    struct qts_config *c2 = load(r.dir, NULL);
    struct qts_settings *s2 = (struct qts_settings *)qts_config_settings(c2);
    s2->risk.max_order_qty = 3;
    struct qts_risk_settings r2;
    qts_settings_risk_view(s2, &r2);
    assert_int_equal(qts_risk_control_reload(h, &r2, &err), 0);
    in = fx_intent(1, 1, QTS_SIDE_BUY, QTS_ORD_LIMIT, 60000, 4);
    assert_int_equal(qts_exec_submit(f->x, &in, &id, &err), QTS_ERISK);
    s2->risk.loop_period_ms = 5; /* out of range */
    assert_int_equal(qts_risk_control_reload(h, &r2, &err), QTS_ECONFIG);
    in.qty = 3;
    assert_int_equal(qts_exec_submit(f->x, &in, &id, &err), 0);
    qts_config_unref(c2);
    /* orderly stop cancels the working orders (safety.cancel_on_stop) */
    assert_int_equal(qts_risk_control_stop_orders(h), 2);
    rig_close(&r);
}

/* A buy of 10 of instrument 1, acknowledged; returns its order id. */
static uint64_t rig_buy_acked(struct rig *r)
{
    uint64_t id;
    struct qts_err err;
    struct qts_order_intent in = fx_intent(1, 1, QTS_SIDE_BUY, QTS_ORD_LIMIT, 60000, 10);
    assert_int_equal(qts_exec_submit(r->f->x, &in, &id, &err), 0);
    fx_report(r->f, QTS_EXEC_ACK, "t1-1", 0, 0, 0, 0);
    return id;
}

/* A reconciliation (adopting the broker's positions or not) in which the
 * broker holds `qty` of instrument 1 and no open order. */
static void rig_reconcile(struct rig *r, bool adopting, int64_t qty)
{
    assert_int_equal(adopting ? qts_exec_reconcile_adopting(r->f->x) : qts_exec_reconcile(r->f->x),
                     0);
    struct qts_broker_position bp = {.struct_size = sizeof bp, .instrument = 1, .qty = qty};
    qts_exec_on_position(r->f->x, &bp);
    qts_exec_on_query_done(r->f->x, r->f->req_orders, 0);
    qts_exec_on_query_done(r->f->x, r->f->req_positions, 0);
}

/* A reconciliation that finds our position differs from the broker's raises
 * FS070, and the state machine applies the table's rule for it (a trip:
 * NORMAL -> FAIL), whatever the call site thinks of it. */
static void test_recon_mismatch_moves_safety_state(void **state)
{
    (void)state;
    struct rig r;
    rig_up(&r);
    uint64_t id = rig_buy_acked(&r);
    fx_report(r.f, QTS_EXEC_FILL, "t1-1", 10, 60000, 1, 10);
    assert_int_equal(qts_exec_order(r.f->x, id)->state, QTS_XS_COMPLETE);
    assert_int_equal(qts_safety_state(r.s), QTS_SAFETY_NORMAL);
    rig_reconcile(&r, false, 0); /* we hold 10; the broker says we hold nothing */
    assert_true(fx_has_safety(r.f, "FS070"));
    assert_int_equal(qts_safety_code_info(QTS_SC_FS070)->effect, QTS_SE_TRIP);
    assert_int_equal(qts_safety_state(r.s), QTS_SAFETY_FAIL);
    assert_false(qts_safety_trading_allowed(r.s));
    rig_down(&r);
}

/* A start-up reconciliation that adopts the broker's positions
 * (startup.adopt_positions): the venue holding what we do not is the
 * expected case, reported for adoption, and no FS070; a later plain
 * reconciliation trips again. */
static void test_recon_adopting_positions_does_not_trip(void **state)
{
    (void)state;
    struct rig r;
    rig_up(&r);
    rig_reconcile(&r, true, 10);
    assert_false(fx_has_safety(r.f, "FS070"));
    assert_int_equal(qts_safety_state(r.s), QTS_SAFETY_NORMAL);
    rig_reconcile(&r, false, 4); /* the OMS took the 10 over; now the venue says 4 */
    assert_true(fx_has_safety(r.f, "FS070"));
    assert_int_equal(qts_safety_state(r.s), QTS_SAFETY_FAIL);
    rig_down(&r);
}

/* A venue reporting more than was ordered (FS041) trips as the table says. */
static void test_overfill_trips(void **state)
{
    (void)state;
    struct rig r;
    rig_up(&r);
    rig_buy_acked(&r);
    fx_report(r.f, QTS_EXEC_FILL, "t1-1", 12, 60000, 1, 12);
    assert_true(fx_has_safety(r.f, "FS041"));
    assert_int_equal(qts_safety_state(r.s), QTS_SAFETY_FAIL);
    rig_down(&r);
}

static void test_bad_override_refused(void **state)
{
    (void)state;
    struct rig r;
    rig_open(&r, "    - {name: other, file: o.lua, risk: {mae_partial_pct: 0.5}}\n");
    struct qts_risk_control_env env = env_for(r.f, qts_config_settings(r.c), NULL);
    struct qts_err err;
    assert_int_equal(qts_risk_control_new(&env, &r.h, &err), QTS_ECONFIG);
    assert_non_null(strstr(err.msg, "other")); /* no id for it */
    rig_close(&r);
}

/* ---------------------------------------------- on a libuv loop */

struct cl {
    char path[512];
    uv_async_t *done;
    char reply[65536];
    int rc;
};

static void *client(void *arg)
{
    struct cl *c = arg;
    c->rc = qts_admin_call(c->path, "{\"cmd\":\"kill\",\"reason\":\"drill\",\"by\":\"t\"}",
                           c->reply, sizeof c->reply, 5000, NULL);
    uv_async_send(c->done);
    return NULL;
}

static struct qts_risk_control *g_h;
static void on_done(uv_async_t *a)
{
    qts_risk_control_free(g_h);
    g_h = NULL;
    uv_close((uv_handle_t *)a, NULL);
}

static void test_socket_kill_on_loop(void **state)
{
    (void)state;
    struct rig r; /* r.h stays NULL: on_done frees the host, on its loop */
    rig_open(&r, NULL);
    struct fx *f = r.f;
    for (int i = 0; i < 20; i++) {
        struct qts_order_intent in = fx_intent(1, 1, QTS_SIDE_SELL, QTS_ORD_LIMIT, 60100, 10);
        fx_submit(f, &in);
    }
    for (int i = 0; i < f->n_calls; i++)
        fx_report(f, QTS_EXEC_ACK, f->calls[i].clordid, 0, 0, 0, 0);
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct qts_risk_control_env env = env_for(f, qts_config_settings(r.c), &loop);
    struct qts_err err;
    assert_int_equal(qts_risk_control_new(&env, &g_h, &err), 0);
    struct cl cl;
    snprintf(cl.path, sizeof cl.path, "%s/qts.sock", r.dir);
    struct stat st;
    assert_int_equal(stat(cl.path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    uv_async_t done;
    uv_async_init(&loop, &done, on_done);
    cl.done = &done;
    pthread_t t;
    pthread_create(&t, NULL, client, &cl);
    uv_run(&loop, UV_RUN_DEFAULT);
    pthread_join(t, NULL);
    assert_int_equal(uv_loop_close(&loop), 0);
    assert_int_equal(cl.rc, 0);
    assert_non_null(strstr(cl.reply, "\"orders\":20"));
    assert_int_equal(fx_count(f, 'c'), 20);
    for (int i = 0; i < f->n_calls; i++)
        if (f->calls[i].op == 'c')
            fx_report(f, QTS_EXEC_CANCELLED, f->calls[i].clordid, 0, 0, 0, 0);
    assert_int_equal(qts_oms_working_children(qts_exec_oms(f->x)), 0);
    rig_close(&r);
}

/* the KILL file pulls the switch within a poll (1 s of loop time) */
struct kf {
    struct qts_risk_control *h;
    uv_timer_t check;
    int ticks;
    bool seen;
};

static void on_check(uv_timer_t *t)
{
    struct kf *k = t->data;
    if (qts_safety_kill_on(qts_risk_control_safety(k->h)) || ++k->ticks > 300) {
        k->seen = qts_safety_kill_on(qts_risk_control_safety(k->h));
        qts_risk_control_free(k->h);
        uv_close((uv_handle_t *)t, NULL);
    }
}

static void test_kill_file_on_loop(void **state)
{
    (void)state;
    struct rig r; /* r.h stays NULL: on_check frees the host, on its loop */
    rig_open(&r, NULL);
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct qts_risk_control_env env = env_for(r.f, qts_config_settings(r.c), &loop);
    struct kf k = {0};
    struct qts_err err;
    assert_int_equal(qts_risk_control_new(&env, &k.h, &err), 0);
    char p[600];
    snprintf(p, sizeof p, "%s/KILL", r.dir);
    qts_test_write_file(p, "on\n");
    uv_timer_init(&loop, &k.check);
    k.check.data = &k;
    uv_timer_start(&k.check, on_check, 10, 10);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
    assert_true(k.seen);
    rig_close(&r);
}

QTS_TEST_MAIN(test_live_guard_refuses, test_limits_overrides_and_codes,
              test_recon_mismatch_moves_safety_state, test_recon_adopting_positions_does_not_trip,
              test_overfill_trips, test_bad_override_refused, test_socket_kill_on_loop,
              test_kill_file_on_loop)
