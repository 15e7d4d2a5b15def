/* test_store_plugin.c — a store plugin is served like every other plugin:
 * a slot in the plugin manager with the one host-services table. A fixture
 * store (fixtures/store_fixture.c) reports what the services returned:
 * the run's clock (virtual here, as in a replay), timers (refused off the
 * loop thread, where the store writer calls), metrics, the secrets lookup
 * ($QTS_SECRET_<NAME>) and its configuration, which the host builds from
 * the slot's subtree and values it derives; a store slot is never
 * reloaded. */
#include "test_support.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "config_node.h"
#include "metrics.h"
#include "plugin_manager.h"
#include "store_plugin.h"
#include "util.h"

#define T0_NS INT64_C(1795132865000000000) /* data time, far from the wall clock */

static const char *fixture_path(void)
{
    static char buf[1024];
    snprintf(buf, sizeof buf, "%s/fx_store.so", QTS_FIXTURE_DIR);
    return buf;
}

struct rig {
    uv_loop_t loop;
    char *tmp;
    char gen_dir[512];
    struct qts_clock clock;
    struct qts_metrics *metrics;
    struct qts_plugin_env env;
    struct qts_plugin_manager *m;
    struct qts_store_plugin *store;
};

static int setup(void **state)
{
    struct rig *r = qts_xcalloc(1, sizeof *r);
    uv_loop_init(&r->loop);
    r->tmp = qts_test_tmpdir();
    snprintf(r->gen_dir, sizeof r->gen_dir, "%s/gen", r->tmp);
    qts_clock_init(&r->clock, QTS_CLOCK_VIRTUAL);
    qts_clock_advance_to(&r->clock, T0_NS);
    r->metrics = qts_metrics_new();
    r->env = (struct qts_plugin_env){.loop = &r->loop, .metrics = r->metrics, .clock = &r->clock};
    struct qts_plugin_manager_opts mo = {.env = &r->env, .gen_dir = r->gen_dir};
    struct qts_err e;
    assert_int_equal(qts_plugin_manager_new(&mo, &r->m, &e), 0);
    setenv("QTS_SECRET_FX_STORE_SECRET", "s3cret", 1);
    *state = r;
    return 0;
}

static int teardown(void **state)
{
    struct rig *r = *state;
    qts_plugin_manager_close(r->m);
    while (!qts_plugin_manager_closed(r->m))
        uv_run(&r->loop, UV_RUN_ONCE);
    qts_store_plugin_close(r->store);
    qts_plugin_manager_free(r->m);
    uv_run(&r->loop, UV_RUN_DEFAULT);
    uv_loop_close(&r->loop);
    qts_metrics_free(r->metrics);
    unsetenv("QTS_SECRET_FX_STORE_SECRET");
    qts_test_rmtree(r->tmp);
    free(r->tmp);
    free(r);
    return 0;
}

static void ping(const struct qts_store_port *port, char *out, size_t cap)
{
    struct qts_err e;
    qts_err_clear(&e);
    assert_int_equal(port->ops->ping(port->self, &e), 0);
    qts_strlcpy(out, e.msg, cap);
}

struct off_loop {
    const struct qts_store_port *port;
    char msg[256];
};

static void *ping_thread(void *arg)
{
    struct off_loop *o = arg;
    struct qts_err e;
    qts_err_clear(&e);
    o->port->ops->ping(o->port->self, &e);
    qts_strlcpy(o->msg, e.msg, sizeof o->msg);
    return NULL;
}

static void test_slot_gets_host_services(void **state)
{
    struct rig *r = *state;
    const char *kv[] = {"retention.tick_days", "3", NULL};
    struct qts_err e;
    if (qts_store_plugin_add(r->m, fixture_path(), NULL, kv, &r->store, &e) != 0)
        fail_msg("add: %s", e.msg);
    const struct qts_store_port *port = qts_store_plugin_port(r->store);
    char msg[256], want[256];
    ping(port, msg, sizeof msg);
    /* the run's (virtual) clock, a working timer on the loop thread */
    snprintf(want, sizeof want, "now=%lld timer=0 secret=s3cret cfg=3", (long long)T0_NS);
    assert_string_equal(msg, want);
    int64_t pings = 0;
    assert_int_equal(qts_metrics_get(r->metrics, "fx_store.pings", &pings), 0);
    assert_int_equal(pings, 1);

    /* from another thread (the store writer's place): the clock as the
     * loop moved it, metrics and secrets work, timers are refused */
    qts_clock_advance_to(&r->clock, T0_NS + 5);
    struct off_loop o = {.port = port};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, ping_thread, &o), 0);
    pthread_join(t, NULL);
    snprintf(want, sizeof want, "now=%lld timer=%d secret=s3cret cfg=3", (long long)(T0_NS + 5),
             QTS_EPERM);
    assert_string_equal(o.msg, want);
    assert_int_equal(qts_metrics_get(r->metrics, "fx_store.pings", &pings), 0);
    assert_int_equal(pings, 2);
}

static void test_slot_never_reloaded(void **state)
{
    struct rig *r = *state;
    struct qts_err e;
    assert_int_equal(qts_store_plugin_add(r->m, fixture_path(), NULL, NULL, &r->store, &e), 0);
    assert_int_equal(qts_plugin_manager_reload(r->m, "store", NULL, &e), QTS_EUNSUPPORTED);
    assert_non_null(strstr(e.msg, "restart"));
    assert_int_equal(qts_plugin_manager_reload_all(r->m, false), 0);
    assert_int_equal(qts_plugin_manager_reloads(r->m), 0);
}

/* `qts migrate`/`qts import` open a store on its own: the same table (wall
 * clock, libuv timers, the secrets lookup), not a smaller one. */
static void test_standalone_gets_host_services(void **state)
{
    (void)state;
    const char *kv[] = {"retention.tick_days", "9", NULL};
    struct qts_store_plugin *p = NULL;
    struct qts_err e;
    if (qts_store_plugin_open(QTS_FIXTURE_DIR, "fx_store", kv, &p, &e) != 0)
        fail_msg("open: %s", e.msg);
    char msg[256];
    int64_t before = qts_wall_ns();
    ping(qts_store_plugin_port(p), msg, sizeof msg);
    long long now = 0;
    int timer_rc = -1;
    char secret[64] = "", cfg[16] = "";
    assert_int_equal(
        sscanf(msg, "now=%lld timer=%d secret=%63s cfg=%15s", &now, &timer_rc, secret, cfg), 4);
    assert_true(now >= before);
    assert_int_equal(timer_rc, 0);
    assert_string_equal(secret, "s3cret"); /* $QTS_SECRET_FX_STORE_SECRET */
    assert_string_equal(cfg, "9");
    qts_store_plugin_close(p);
    /* a file that is not there: an error, nothing left open */
    p = NULL;
    assert_int_not_equal(qts_store_plugin_open(QTS_FIXTURE_DIR, "no_such_store", kv, &p, &e), 0);
    assert_null(p);
}

static struct qts_cfg_node *parse_yaml(const char *text)
{
    return qts_test_cfg_node("t.yaml", text);
}

/* A map built in code: a slot's subtree copied with its places, dotted
 * keys nesting, values set over it (a store slot's derived `path`). */
static void test_built_map(void **state)
{
    (void)state;
    struct qts_cfg_node *src = parse_yaml("path: qts.db\nretention:\n  tick_days: 3\n"
                                          "retention.bar_1m_days: 9\nlist: [1, 2]\n");
    struct qts_cfg_node *m = qts__cfg_map_new();
    qts__cfg_map_put_all(m, src);
    qts__cfg_map_put(m, "path", "/var/qts/qts.db", NULL);
    qts__cfg_map_put(m, "host_id", "h1", NULL);
    assert_string_equal(qts_cfg_str(qts_cfg_get(m, "path")), "/var/qts/qts.db");
    assert_string_equal(qts_cfg_str(qts_cfg_get(m, "host_id")), "h1");
    int64_t v = 0;
    struct qts_err e;
    assert_int_equal(qts_cfg_int(qts_cfg_get(m, "retention.tick_days"), &v, &e), 0);
    assert_int_equal(v, 3);
    assert_int_equal(qts_cfg_int(qts_cfg_get(m, "retention.bar_1m_days"), &v, &e), 0);
    assert_int_equal(v, 9);
    assert_null(qts_cfg_get(m, "list")); /* scalars only */
    const char *file;
    int line, col;
    qts_cfg_where(qts_cfg_get(m, "retention.tick_days"), &file, &line, &col);
    assert_string_equal(file, "t.yaml");
    assert_int_equal(line, 3);
    qts__cfg_node_free(m);
    qts__cfg_node_free(src);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_built_map),
        cmocka_unit_test_setup_teardown(test_slot_gets_host_services, setup, teardown),
        cmocka_unit_test_setup_teardown(test_slot_never_reloaded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_standalone_gets_host_services, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
