/* test_plugin_reload.c — the plugin manager with real fixture plugins:
 * reload under a continuous event stream (timer-driven and lockstep poll),
 * rollback on every kind of failure, slow drain, the broker refusal rule,
 * name uniqueness, the file-watch and SIGHUP triggers, post from a plugin
 * thread and the host services. Leak-free under ASan is part of the test:
 * every case closes the manager and runs the loop dry. */
#include "manager_test.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "config_node.h"
#include "metrics.h"
#include "plugin_loader.h"
#include "plugin_manager.h"
#include "util.h"

#define MAX_SEQ (1u << 21)

struct rig {
    uv_loop_t loop;
    uv_timer_t guard; /* keeps UV_RUN_ONCE from blocking forever */
    char *tmp;
    char gen_dir[512], plugin_dir[512];
    struct qts_metrics *metrics;
    struct qts_event_sink sink;
    struct qts_plugin_env env;
    struct qts_plugin_manager *m;
    struct qts_cfg_node *cfg;
    uint8_t *seen; /* count per trade_id */
    uint64_t n_events, n_dupes, max_seq;
    uint64_t tag_count[8];
    bool has_orders;
    int n_notified, last_status;
    char last_why[256];
};

static const char *fx(const char *name) { return qts_test_fixture_so(name); }

static int on_trade(void *ctx, const struct qts_plugin_origin *from, const struct qts_trade *t)
{
    struct rig *r = ctx;
    (void)from;
    r->n_events++;
    if (t->trade_id >= MAX_SEQ)
        fail_msg("trade_id %llu out of range", (unsigned long long)t->trade_id);
    if (r->seen[t->trade_id]++)
        r->n_dupes++;
    if (t->trade_id > r->max_seq)
        r->max_seq = t->trade_id;
    r->tag_count[t->h.flags & 7]++;
    return 0;
}

static bool has_orders(void *ctx, const char *slot)
{
    struct rig *r = ctx;
    (void)slot;
    return r->has_orders;
}

static void on_reload(void *ctx, const char *slot, int status, const char *why)
{
    struct rig *r = ctx;
    (void)slot;
    r->n_notified++;
    r->last_status = status;
    qts_strlcpy(r->last_why, why ? why : "", sizeof r->last_why);
}

static void on_guard(uv_timer_t *t) { (void)t; }

static struct rig *rig_new(const char *yaml, bool watch, bool sighup)
{
    struct rig *r = qts_xcalloc(1, sizeof *r);
    assert_int_equal(uv_loop_init(&r->loop), 0);
    uv_timer_init(&r->loop, &r->guard);
    uv_timer_start(&r->guard, on_guard, 50, 50);
    r->tmp = qts_test_tmpdir();
    snprintf(r->gen_dir, sizeof r->gen_dir, "%s/plugins.gen", r->tmp);
    snprintf(r->plugin_dir, sizeof r->plugin_dir, "%s/plugins", r->tmp);
    assert_int_equal(mkdir(r->plugin_dir, 0755), 0);
    r->seen = qts_xcalloc(MAX_SEQ, 1);
    r->metrics = qts_metrics_new();
    r->sink.ctx = r;
    r->sink.trade = on_trade;
    r->env.loop = &r->loop;
    r->env.metrics = r->metrics;
    r->env.sink = &r->sink;
    r->cfg = qts_test_cfg_node("fixture.yaml", yaml);
    struct qts_plugin_manager_opts o = {.env = &r->env,
                                        .gen_dir = r->gen_dir,
                                        .watch_dir = watch ? r->plugin_dir : NULL,
                                        .debounce_ms = 30,
                                        .drain_poll_ms = 2,
                                        .handle_sighup = sighup,
                                        .has_working_orders = has_orders,
                                        .orders_ctx = r,
                                        .on_reload = on_reload,
                                        .reload_ctx = r};
    struct qts_err err;
    assert_int_equal(qts_plugin_manager_new(&o, &r->m, &err), 0);
    return r;
}

static void rig_free(struct rig *r)
{
    qts_plugin_manager_close(r->m);
    uv_close((uv_handle_t *)&r->guard, NULL);
    assert_int_equal(uv_run(&r->loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(qts_plugin_manager_retired(r->m), 0);
    qts_plugin_manager_free(r->m);
    assert_int_equal(uv_loop_close(&r->loop), 0);
    qts_metrics_free(r->metrics);
    qts__cfg_node_free(r->cfg);
    qts_test_rmtree(r->tmp);
    free(r->tmp);
    free(r->seen);
    free(r);
}

/* Run the loop until `pred` holds (a safety deadline, not a timing check). */
#define RUN_UNTIL(r, cond)                                        \
    do {                                                          \
        int64_t deadline_ = qts_mono_ns() + INT64_C(30000000000); \
        while (!(cond)) {                                         \
            if (qts_mono_ns() > deadline_)                        \
                fail_msg("timed out waiting for %s", #cond);      \
            uv_run(&(r)->loop, UV_RUN_ONCE);                      \
        }                                                         \
    } while (0)

/* Every number 1..max_seq seen exactly once. */
static void assert_exactly_once(struct rig *r)
{
    assert_int_equal(r->n_dupes, 0);
    for (uint64_t i = 1; i <= r->max_seq; i++)
        if (r->seen[i] != 1)
            fail_msg("trade %llu seen %u times (max %llu)", (unsigned long long)i, r->seen[i],
                     (unsigned long long)r->max_seq);
    assert_int_equal(r->n_events, r->max_seq);
}

static const char *cur_version(struct rig *r, const char *slot)
{
    struct qts_plugin_inst *inst = qts_plugin_manager_current(r->m, slot);
    assert_non_null(inst);
    return qts_plugin_inst_lib(inst)->version;
}

static void add_and_start(struct rig *r, const char *slot, uint32_t kind, const char *path)
{
    struct qts_err err;
    if (qts_plugin_manager_add(r->m, slot, kind, path, r->cfg, &err) != 0)
        fail_msg("add %s: %s", slot, err.msg);
    assert_int_equal(qts_plugin_manager_start(r->m, &err), 0);
}

/* ------------------------------------------------------------ the streams */

struct reloader {
    struct rig *r;
    uv_timer_t t;
    int done, want;
};

static void on_reload_tick(uv_timer_t *t)
{
    struct reloader *rl = t->data;
    struct qts_err err;
    const char *path = fx(rl->done % 2 == 0 ? "fx_good_v2" : "fx_good_v1");
    if (qts_plugin_manager_reload(rl->r->m, "md", path, &err) != 0)
        fail_msg("reload %d: %s", rl->done, err.msg);
    if (++rl->done == rl->want)
        uv_timer_stop(t);
}

static void test_stream_timer_feed_100_reloads(void **state)
{
    (void)state;
    struct rig *r = rig_new("per_tick: 5\ninterval_ms: 1\n", false, false);
    add_and_start(r, "md", QTS_KIND_FEED, fx("fx_good_v1"));
    struct reloader rl = {.r = r, .want = 100};
    uv_timer_init(&r->loop, &rl.t);
    rl.t.data = &rl;
    uv_timer_start(&rl.t, on_reload_tick, 3, 3);
    RUN_UNTIL(r, rl.done == rl.want);
    uint64_t at = r->max_seq;
    RUN_UNTIL(r, r->max_seq > at + 50 && r->n_events > 1000); /* still streaming */
    uv_close((uv_handle_t *)&rl.t, NULL);
    assert_int_equal(qts_plugin_manager_reloads(r->m), 100);
    assert_true(r->tag_count[1] > 0 && r->tag_count[2] > 0);
    int64_t emitted = 0;
    assert_int_equal(qts_metrics_get(r->metrics, "fixture_feed.emitted", &emitted), 0);
    assert_exactly_once(r);
    /* counts in = counts out: what the plugins emitted is what the sink saw */
    assert_int_equal((uint64_t)emitted, r->n_events);
    rig_free(r);
}

/* Lockstep: the host pulls the feed with poll() from an idle handle and
 * reloads between two polls every 8 events; the replay position travels
 * with the state hand-over. */
struct puller {
    struct rig *r;
    uv_idle_t idle;
    int done, want;
    uint64_t at_reload;
};

static void on_idle(uv_idle_t *h)
{
    struct puller *p = h->data;
    if (p->r->n_events >= p->at_reload + 8 && p->done < p->want) {
        struct qts_err err;
        const char *path = fx(p->done % 2 == 0 ? "fx_good_v2" : "fx_good_v1");
        if (qts_plugin_manager_reload(p->r->m, "md", path, &err) != 0)
            fail_msg("reload %d: %s", p->done, err.msg);
        p->done++;
        p->at_reload = p->r->n_events;
        return;
    }
    struct qts_plugin_inst *inst = qts_plugin_manager_current(p->r->m, "md");
    assert_non_null(inst);
    assert_int_equal(qts_plugin_inst_state(inst), QTS_INST_RUNNING);
    const struct qts_feed_ops *ops = qts_plugin_inst_desc(inst)->ops;
    qts_plugin_inst_enter(inst);
    int n = ops->poll(qts_plugin_inst_self(inst), 16);
    qts_plugin_inst_leave(inst);
    assert_true(n > 0);
}

static void test_stream_poll_feed_100_reloads(void **state)
{
    (void)state;
    struct rig *r = rig_new("mode: poll\nper_tick: 4\n", false, false);
    add_and_start(r, "md", QTS_KIND_FEED, fx("fx_good_v1"));
    struct puller p = {.r = r, .want = 100};
    uv_idle_init(&r->loop, &p.idle);
    p.idle.data = &p;
    uv_idle_start(&p.idle, on_idle);
    RUN_UNTIL(r, p.done == p.want && r->n_events >= p.at_reload + 8);
    uv_close((uv_handle_t *)&p.idle, NULL);
    assert_int_equal(qts_plugin_manager_reloads(r->m), 100);
    assert_true(r->max_seq >= 808);
    assert_true(r->tag_count[1] > 0 && r->tag_count[2] > 0);
    assert_exactly_once(r);
    rig_free(r);
}

/* ------------------------------------------------------------- rollbacks */

static void test_init_failure_keeps_old_instance(void **state)
{
    (void)state;
    struct rig *r = rig_new("per_tick: 2\n", false, false);
    add_and_start(r, "md", QTS_KIND_FEED, fx("fx_good_v1"));
    struct qts_plugin_inst *before = qts_plugin_manager_current(r->m, "md");
    RUN_UNTIL(r, r->max_seq >= 10);
    struct qts_err err;
    assert_int_equal(qts_plugin_manager_reload(r->m, "md", fx("fx_init_fails"), &err), QTS_ECONFIG);
    assert_non_null(strstr(err.msg, "init fails on purpose"));
    assert_ptr_equal(qts_plugin_manager_current(r->m, "md"), before);
    assert_int_equal(r->last_status, QTS_ECONFIG);
    uint64_t at = r->max_seq;
    RUN_UNTIL(r, r->max_seq >= at + 10); /* still streaming */
    RUN_UNTIL(r, qts_plugin_manager_retired(r->m) == 0);
    assert_exactly_once(r);
    rig_free(r);
}

static void test_start_failure_rolls_back_with_state(void **state)
{
    (void)state;
    struct rig *r = rig_new("per_tick: 2\n", false, false);
    add_and_start(r, "md", QTS_KIND_FEED, fx("fx_good_v1"));
    RUN_UNTIL(r, r->max_seq >= 10);
    struct qts_err err;
    assert_int_equal(qts_plugin_manager_reload(r->m, "md", fx("fx_start_fails"), &err), QTS_ENET);
    assert_non_null(strstr(err.msg, "start fails on purpose"));
    /* the previous build is back in service, continuing the sequence */
    assert_string_equal(cur_version(r, "md"), "1.0.0");
    uint64_t at = r->max_seq;
    RUN_UNTIL(r, r->max_seq >= at + 10);
    RUN_UNTIL(r, qts_plugin_manager_retired(r->m) == 0);
    assert_exactly_once(r);
    assert_int_equal(qts_plugin_manager_reloads(r->m), 0);
    rig_free(r);
}

static void test_invalid_builds_refused_on_reload(void **state)
{
    (void)state;
    struct rig *r = rig_new("per_tick: 2\n", false, false);
    add_and_start(r, "md", QTS_KIND_FEED, fx("fx_good_v1"));
    struct qts_plugin_inst *before = qts_plugin_manager_current(r->m, "md");
    struct qts_err err;
    assert_int_equal(qts_plugin_manager_reload(r->m, "md", fx("fx_bad_major"), &err), QTS_EABI);
    assert_non_null(strstr(err.msg, "abi_major"));
    assert_int_equal(qts_plugin_manager_reload(r->m, "md", fx("fx_newer_minor"), &err), QTS_EABI);
    assert_int_equal(qts_plugin_manager_reload(r->m, "md", fx("fx_bad_sig"), &err), QTS_EABI);
    assert_non_null(strstr(err.msg, "build_sig"));
    assert_int_equal(qts_plugin_manager_reload(r->m, "md", fx("fx_broker"), &err), QTS_EABI);
    assert_non_null(strstr(err.msg, "kind"));
    assert_ptr_equal(qts_plugin_manager_current(r->m, "md"), before);
    RUN_UNTIL(r, r->max_seq >= 10);
    assert_exactly_once(r);
    rig_free(r);
}

static void test_slow_drain_is_asked_again(void **state)
{
    (void)state;
    struct rig *r = rig_new("per_tick: 2\n", false, false);
    add_and_start(r, "md", QTS_KIND_FEED, fx("fx_slow_drain"));
    RUN_UNTIL(r, r->max_seq >= 10);
    struct qts_plugin_inst *slow = qts_plugin_manager_current(r->m, "md");
    struct qts_err err;
    assert_int_equal(qts_plugin_manager_reload(r->m, "md", fx("fx_good_v2"), &err), 0);
    /* swapped at once; the old one is still draining (stop said EAGAIN) */
    assert_string_equal(cur_version(r, "md"), "2.0.0");
    assert_int_equal(qts_plugin_inst_state(slow), QTS_INST_STOPPING);
    assert_int_equal(qts_plugin_manager_retired(r->m), 1);
    RUN_UNTIL(r, qts_plugin_manager_retired(r->m) == 0);
    uint64_t at = r->max_seq;
    RUN_UNTIL(r, r->max_seq >= at + 10);
    assert_true(r->tag_count[4] > 0 && r->tag_count[2] > 0);
    assert_exactly_once(r);
    rig_free(r);
}

static void test_raw_loop_plugin_drains_its_handles(void **state)
{
    (void)state;
    struct rig *r = rig_new("per_tick: 3\n", false, false);
    add_and_start(r, "md", QTS_KIND_FEED, fx("fx_good_v1"));
    RUN_UNTIL(r, r->max_seq >= 10);
    struct qts_err err;
    for (int i = 0; i < 10; i++) {
        const char *next = i % 2 == 0 ? "fx_raw_loop" : "fx_good_v2";
        if (qts_plugin_manager_reload(r->m, "md", fx(next), &err) != 0)
            fail_msg("reload %s: %s", next, err.msg);
        uint64_t at = r->max_seq;
        RUN_UNTIL(r, r->max_seq >= at + 6);
    }
    RUN_UNTIL(r, qts_plugin_manager_retired(r->m) == 0);
    assert_true(r->tag_count[5] > 0);
    assert_exactly_once(r);
    rig_free(r);
}

static void test_no_xfer_feed_restarts_sequence(void **state)
{
    (void)state;
    /* without hand-over the new build starts from scratch: documented */
    struct rig *r = rig_new("per_tick: 2\n", false, false);
    add_and_start(r, "md", QTS_KIND_FEED, fx("fx_good_v1"));
    RUN_UNTIL(r, r->max_seq >= 10);
    struct qts_err err;
    assert_int_equal(qts_plugin_manager_reload(r->m, "md", fx("fx_no_xfer"), &err), 0);
    RUN_UNTIL(r, r->tag_count[3] >= 4);
    assert_true(r->n_dupes > 0);
    rig_free(r);
}

/* ---------------------------------------------------------------- brokers */

static void test_broker_with_working_orders_not_reloaded(void **state)
{
    (void)state;
    struct rig *r = rig_new("{}\n", false, false);
    add_and_start(r, "exec", QTS_KIND_BROKER, fx("fx_broker"));
    struct qts_plugin_inst *before = qts_plugin_manager_current(r->m, "exec");
    r->has_orders = true;
    struct qts_err err;
    assert_int_equal(qts_plugin_manager_reload(r->m, "exec", NULL, &err), QTS_EBUSY);
    assert_non_null(strstr(err.msg, "working orders"));
    assert_int_equal(r->last_status, QTS_EBUSY);
    assert_ptr_equal(qts_plugin_manager_current(r->m, "exec"), before);
    r->has_orders = false;
    assert_int_equal(qts_plugin_manager_reload(r->m, "exec", NULL, &err), 0);
    assert_ptr_not_equal(qts_plugin_manager_current(r->m, "exec"), before);
    rig_free(r);
}

static void test_plugin_names_are_unique(void **state)
{
    (void)state;
    struct rig *r = rig_new("per_tick: 1\n", false, false);
    add_and_start(r, "md", QTS_KIND_FEED, fx("fx_good_v1"));
    struct qts_err err;
    assert_int_equal(
        qts_plugin_manager_add(r->m, "md2", QTS_KIND_FEED, fx("fx_good_v2"), r->cfg, &err),
        QTS_EEXIST);
    assert_non_null(strstr(err.msg, "already loaded in slot md"));
    assert_int_equal(
        qts_plugin_manager_add(r->m, "md", QTS_KIND_FEED, fx("fx_good_v2"), r->cfg, &err),
        QTS_EEXIST);
    rig_free(r);
}

/* --------------------------------------------------------------- triggers */

/* Deploy like an operator: write a temporary name, rename into place. */
static void deploy(struct rig *r, const char *fixture, const char *name)
{
    char tmp[700], dst[700];
    snprintf(tmp, sizeof tmp, "%s/.%s.tmp", r->plugin_dir, name);
    snprintf(dst, sizeof dst, "%s/%s", r->plugin_dir, name);
    qts_test_copy_file(fx(fixture), tmp, 0644);
    assert_int_equal(rename(tmp, dst), 0);
}

static void test_new_file_in_plugin_dir_triggers_reload(void **state)
{
    (void)state;
    struct rig *r = rig_new("per_tick: 2\n", true, false);
    deploy(r, "fx_good_v1", "feed.so");
    char path[700];
    snprintf(path, sizeof path, "%s/feed.so", r->plugin_dir);
    add_and_start(r, "md", QTS_KIND_FEED, path);
    RUN_UNTIL(r, r->max_seq >= 10);
    /* a file that is not the slot's does nothing */
    deploy(r, "fx_good_v2", "other.so");
    deploy(r, "fx_good_v2", "feed.so");
    RUN_UNTIL(r, r->n_notified == 1);
    assert_int_equal(r->last_status, 0);
    assert_string_equal(cur_version(r, "md"), "2.0.0");
    /* a bad build is refused and the running one stays */
    deploy(r, "fx_bad_sig", "feed.so");
    RUN_UNTIL(r, r->n_notified == 2);
    assert_int_equal(r->last_status, QTS_EABI);
    assert_string_equal(cur_version(r, "md"), "2.0.0");
    /* so is a good build that anyone could have written */
    char tmpf[700];
    snprintf(tmpf, sizeof tmpf, "%s/.feed.so.tmp", r->plugin_dir);
    qts_test_copy_file(fx("fx_good_v1"), tmpf, 0644);
    assert_int_equal(chmod(tmpf, 0666), 0);
    assert_int_equal(rename(tmpf, path), 0);
    RUN_UNTIL(r, r->n_notified == 3);
    assert_int_equal(r->last_status, QTS_EPERM);
    assert_non_null(strstr(r->last_why, "writable by others"));
    assert_string_equal(cur_version(r, "md"), "2.0.0");
    uint64_t at = r->max_seq;
    RUN_UNTIL(r, r->max_seq >= at + 10);
    assert_exactly_once(r);
    rig_free(r);
}

static void test_sighup_reloads_changed_plugins(void **state)
{
    (void)state;
    struct rig *r = rig_new("per_tick: 2\n", false, true);
    deploy(r, "fx_good_v1", "feed.so");
    char path[700];
    snprintf(path, sizeof path, "%s/feed.so", r->plugin_dir);
    add_and_start(r, "md", QTS_KIND_FEED, path);
    RUN_UNTIL(r, r->max_seq >= 10);
    /* unchanged file: SIGHUP reloads nothing */
    raise(SIGHUP);
    for (int i = 0; i < 5; i++)
        uv_run(&r->loop, UV_RUN_ONCE);
    assert_int_equal(r->n_notified, 0);
    deploy(r, "fx_good_v2", "feed.so");
    raise(SIGHUP);
    RUN_UNTIL(r, r->n_notified == 1);
    assert_int_equal(r->last_status, 0);
    assert_string_equal(cur_version(r, "md"), "2.0.0");
    assert_exactly_once(r);
    rig_free(r);
}

/* ------------------------------------------------------- host services */

static void test_post_from_plugin_thread(void **state)
{
    (void)state;
    struct rig *r = rig_new("mode: poll\npost_thread: 2000\npost_base: 1\n", false, false);
    add_and_start(r, "md", QTS_KIND_FEED, fx("fx_good_v1"));
    RUN_UNTIL(r, r->n_events == 2000);
    assert_exactly_once(r);
    rig_free(r);
}

static void test_secrets_and_metrics(void **state)
{
    (void)state;
    setenv("QTS_SECRET_FIXTURE_KEY", "s3cret", 1);
    struct rig *r = rig_new("{}\n", false, false);
    add_and_start(r, "exec", QTS_KIND_BROKER, fx("fx_broker"));
    int64_t v = 0;
    assert_int_equal(qts_metrics_get(r->metrics, "fixture_broker.secret_len", &v), 0);
    assert_int_equal(v, 6);
    rig_free(r);
    unsetenv("QTS_SECRET_FIXTURE_KEY");

    /* from a 0600 file; a group-readable file is refused */
    r = rig_new("{}\n", false, false);
    char sd[700], f[800];
    snprintf(sd, sizeof sd, "%s/secrets", r->tmp);
    assert_int_equal(mkdir(sd, 0700), 0);
    snprintf(f, sizeof f, "%s/fixture_key", sd);
    assert_int_equal(qts_test_write_file(f, "abcd\n"), 0);
    assert_int_equal(chmod(f, 0640), 0);
    r->env.secrets_dir = sd;
    add_and_start(r, "exec", QTS_KIND_BROKER, fx("fx_broker"));
    assert_int_equal(qts_metrics_get(r->metrics, "fixture_broker.secret_len", &v), QTS_ENOENT);
    assert_int_equal(chmod(f, 0600), 0);
    struct qts_err err;
    assert_int_equal(qts_plugin_manager_reload(r->m, "exec", NULL, &err), 0);
    assert_int_equal(qts_metrics_get(r->metrics, "fixture_broker.secret_len", &v), 0);
    assert_int_equal(v, 4);
    rig_free(r);
}

struct post_try {
    const struct qts_host_api *api;
    void *owner;
    int rc;
    int *ran;
};

static void count_post(void *arg) { (*(int *)arg)++; }

static void *post_thread(void *arg)
{
    struct post_try *t = arg;
    t->rc = t->api->post(t->owner, count_post, t->ran);
    return NULL;
}

/* The slot's config: is checked against the plugin's key table before init:
 * a misspelt key or a wrong type refuses the plugin, with the place. */
static void test_config_checked_against_key_table(void **state)
{
    (void)state;
    struct rig *r = rig_new("per_tick: 1\nper_tik: 2\ninterval_ms: soon\n", false, false);
    struct qts_err err;
    assert_int_equal(
        qts_plugin_manager_add(r->m, "md", QTS_KIND_FEED, fx("fx_good_v1"), r->cfg, &err),
        QTS_ECONFIG);
    assert_non_null(strstr(err.msg, "fixture.yaml:2:1: feeds[md].config.per_tik: unknown key "
                                    "'per_tik' (did you mean 'per_tick'?)"));
    assert_non_null(strstr(err.msg, "(and 1 more)"));
    assert_null(qts_plugin_manager_current(r->m, "md"));
    rig_free(r);

    r = rig_new("per_tick: 1\ninterval_ms: soon\n", false, false);
    assert_int_equal(
        qts_plugin_manager_add(r->m, "md", QTS_KIND_FEED, fx("fx_good_v1"), r->cfg, &err),
        QTS_ECONFIG);
    assert_non_null(strstr(err.msg, "fixture.yaml:2:14: feeds[md].config.interval_ms: expected "
                                    "a duration in milliseconds (an integer), got 'soon'"));
    rig_free(r);
}

/* A plugin built for ABI 1.2 has no key table: it still loads and its
 * config: is not checked; a reload to a build with a table checks it. */
static void test_old_minor_without_key_table_loads(void **state)
{
    (void)state;
    struct rig *r = rig_new("per_tick: 1\nper_tik: 2\n", false, false);
    add_and_start(r, "md", QTS_KIND_FEED, fx("fx_old_minor"));
    struct qts_plugin_inst *old = qts_plugin_manager_current(r->m, "md");
    assert_null(qts_plugin_inst_lib(old)->desc.config_keys);
    struct qts_err err;
    assert_int_equal(qts_plugin_manager_reload(r->m, "md", fx("fx_good_v2"), &err), QTS_ECONFIG);
    assert_non_null(strstr(err.msg, "did you mean 'per_tick'?"));
    assert_ptr_equal(qts_plugin_manager_current(r->m, "md"), old);
    rig_free(r);
}

/* The services table called directly with an instance as owner. */
static void test_host_api_rules(void **state)
{
    (void)state;
    /* plugins without a key table: their config: may hold anything */
    struct rig *r = rig_new("mode: poll\nnested:\n  n: 7\n", false, false);
    add_and_start(r, "exec", QTS_KIND_BROKER, fx("fx_broker_no_keys"));
    add_and_start(r, "md", QTS_KIND_FEED, fx("fx_old_minor"));
    const struct qts_host_api *api = qts_plugin_host_api();
    assert_int_equal(api->struct_size, sizeof *api);
    struct qts_plugin_inst *broker = qts_plugin_manager_current(r->m, "exec");
    struct qts_plugin_inst *feed = qts_plugin_manager_current(r->m, "md");

    /* configuration: own subtree, dotted paths, typed errors with position */
    int64_t n = 0;
    struct qts_err err;
    assert_int_equal(api->cfg_int(feed, "nested.n", &n, &err), 0);
    assert_int_equal(n, 7);
    assert_int_equal(api->cfg_int(feed, "mode", &n, &err), QTS_ECONFIG);
    assert_non_null(strstr(err.msg, "fixture.yaml:1"));
    assert_int_equal(api->cfg_int(feed, "absent", &n, &err), QTS_ENOENT);
    const char *str = NULL;
    assert_int_equal(api->cfg_str(feed, "nested", &str, &err), QTS_ECONFIG);

    /* post: threads only for plugins that declare them */
    int ran = 0;
    struct post_try t = {api, broker, 1, &ran};
    pthread_t th;
    pthread_create(&th, NULL, post_thread, &t);
    pthread_join(th, NULL);
    assert_int_equal(t.rc, QTS_EPERM);
    t.owner = feed;
    pthread_create(&th, NULL, post_thread, &t);
    pthread_join(th, NULL);
    assert_int_equal(t.rc, 0);
    assert_int_equal(api->post(broker, count_post, &ran), 0); /* loop thread: fine */
    RUN_UNTIL(r, ran == 2);

    /* timers and HTTP belong to their owner */
    uint64_t id;
    assert_int_equal(api->timer_start(feed, 1000, 0, count_post, &ran, &id), 0);
    assert_int_equal(qts_plugin_inst_timers(feed), 1);
    assert_int_equal(api->timer_stop(broker, id), QTS_ENOENT);
    assert_int_equal(api->http_cancel(feed, 12345), QTS_ENOENT);
    struct qts_http_request req = {.struct_size = sizeof req, .url = "http://127.0.0.1:1/"};
    assert_int_equal(api->http_request(feed, &req, NULL, NULL, NULL), QTS_EUNSUPPORTED);
    assert_null(api->uv_loop(feed)); /* not QTS_CAP_RAW_LOOP */
    /* the unfinished timer is cancelled when the instance is unloaded */
    rig_free(r);
    assert_int_equal(ran, 2);
}

static void test_events_after_stop_are_dropped(void **state)
{
    (void)state;
    struct rig *r = rig_new("mode: poll\n", false, false);
    add_and_start(r, "md", QTS_KIND_FEED, fx("fx_good_v1"));
    struct qts_plugin_inst *old = qts_plugin_manager_current(r->m, "md");
    struct qts_err err;
    /* no reload while plugin code is on the stack */
    qts_plugin_inst_enter(old);
    assert_int_equal(qts_plugin_manager_reload(r->m, "md", fx("fx_good_v2"), &err), QTS_EBUSY);
    qts_plugin_inst_leave(old);
    assert_int_equal(qts_plugin_manager_reload(r->m, "md", fx("fx_good_v2"), &err), 0);
    /* still referenced by its post handle until the loop closes it */
    qts_plugin_inst_enter(old);
    assert_int_equal(qts_plugin_inst_state(old), QTS_INST_STOPPED);
    const struct qts_feed_ops *ops = qts_plugin_inst_desc(old)->ops;
    ops->poll(qts_plugin_inst_self(old), 3); /* a misbehaving late emit */
    assert_int_equal(qts_plugin_inst_dropped(old), 3);
    assert_int_equal(r->n_events, 0);
    int64_t v;
    assert_int_equal(qts_metrics_get(r->metrics, "plugins.dropped_events", &v), 0);
    assert_int_equal(v, 3);
    qts_plugin_inst_leave(old);
    rig_free(r);
}

QTS_TEST_MAIN(test_stream_timer_feed_100_reloads, test_stream_poll_feed_100_reloads,
              test_init_failure_keeps_old_instance, test_start_failure_rolls_back_with_state,
              test_invalid_builds_refused_on_reload, test_slow_drain_is_asked_again,
              test_raw_loop_plugin_drains_its_handles, test_no_xfer_feed_restarts_sequence,
              test_broker_with_working_orders_not_reloaded, test_plugin_names_are_unique,
              test_new_file_in_plugin_dir_triggers_reload, test_sighup_reloads_changed_plugins,
              test_post_from_plugin_thread, test_secrets_and_metrics,
              test_config_checked_against_key_table, test_old_minor_without_key_table_loads,
              test_host_api_rules, test_events_after_stop_are_dropped)
