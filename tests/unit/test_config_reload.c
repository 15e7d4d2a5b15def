/* test_config_reload.c — a real SIGHUP, sent to this process while a uv loop
 * runs, reloads the configuration: a broken file is rejected and the running
 * snapshot stays; a good file replaces it; a reader holding the old snapshot
 * keeps it alive. */
#include "test_support.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "config_reload.h"
#include "settings.h"
#include "util.h"

struct fixture {
    char *dir;
    char path[512];
    uv_loop_t loop;
    uv_timer_t guard; /* stops a run that would otherwise hang: never a timing assertion */
    struct qts_config_holder holder;
    int callbacks;
    char last_host[64];
    int guard_fired;
};

static void on_guard(uv_timer_t *t)
{
    struct fixture *f = t->data;
    f->guard_fired = 1;
    uv_stop(t->loop);
}

static void on_reload(void *ud, struct qts_config *next)
{
    struct fixture *f = ud;
    f->callbacks++;
    qts_strlcpy(f->last_host, qts_config_settings(next)->host_id, sizeof f->last_host);
}

/* Run the loop until the holder has seen `want` reload attempts. */
static void run_until(struct fixture *f, uint64_t want)
{
    uv_timer_start(&f->guard, on_guard, 20000, 0);
    while (f->holder.reloads_ok + f->holder.reloads_failed < want && !f->guard_fired)
        uv_run(&f->loop, UV_RUN_ONCE);
    uv_timer_stop(&f->guard);
    assert_false(f->guard_fired);
}

static int setup(void **state)
{
    struct fixture *f = qts_xcalloc(1, sizeof *f);
    f->dir = qts_test_tmpdir();
    snprintf(f->path, sizeof f->path, "%s/qts.yaml", f->dir);
    QTS_ASSERT(qts_test_write_file(f->path, "host_id: first\nstrategies: {workers: 2}\n") == 0);
    struct qts_diags d;
    qts_diags_init(&d);
    struct qts_config *c = NULL;
    QTS_ASSERT(qts_config_load(f->path, &c, &d) == 0);
    qts_diags_cleanup(&d);
    qts_config_holder_init(&f->holder, c);
    f->holder.on_reload = on_reload;
    f->holder.on_reload_ud = f;
    QTS_ASSERT(uv_loop_init(&f->loop) == 0);
    uv_timer_init(&f->loop, &f->guard);
    f->guard.data = f;
    QTS_ASSERT(qts_config_watch_sighup(&f->holder, &f->loop) == 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    qts_config_unwatch_sighup(&f->holder);
    uv_close((uv_handle_t *)&f->guard, NULL);
    uv_run(&f->loop, UV_RUN_DEFAULT); /* finish the closes */
    QTS_ASSERT(uv_loop_close(&f->loop) == 0);
    qts_config_holder_cleanup(&f->holder);
    qts_test_rmtree(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

static const char *host_now(struct fixture *f, char *buf, size_t cap)
{
    struct qts_config *c = qts_config_holder_get(&f->holder);
    qts_strlcpy(buf, qts_config_settings(c)->host_id, cap);
    qts_config_unref(c);
    return buf;
}

static void test_sighup_broken_file_keeps_snapshot(void **state)
{
    struct fixture *f = *state;
    char buf[64];
    struct qts_config *before = qts_config_holder_get(&f->holder);
    /* broken: a misspelt key */
    assert_int_equal(qts_test_write_file(f->path, "host_id: second\nstrategies: {wrokers: x}\n"),
                     0);
    assert_int_equal(raise(SIGHUP), 0);
    run_until(f, 1);
    assert_int_equal(f->holder.reloads_failed, 1);
    assert_int_equal(f->holder.reloads_ok, 0);
    assert_int_equal(f->callbacks, 0);
    struct qts_config *now = qts_config_holder_get(&f->holder);
    assert_ptr_equal(now, before);
    assert_string_equal(host_now(f, buf, sizeof buf), "first");
    assert_int_equal(qts_config_settings(now)->strategy_workers, 2);
    qts_config_unref(now);
    qts_config_unref(before);

    /* a syntax error is rejected the same way */
    assert_int_equal(qts_test_write_file(f->path, "host_id: [unclosed\n"), 0);
    assert_int_equal(kill(getpid(), SIGHUP), 0);
    run_until(f, 2);
    assert_int_equal(f->holder.reloads_failed, 2);
    assert_string_equal(host_now(f, buf, sizeof buf), "first");
}

static void test_sighup_good_file_swaps_and_readers_keep_old(void **state)
{
    struct fixture *f = *state;
    char buf[64];
    struct qts_config *reader = qts_config_holder_get(&f->holder); /* in use across reload */
    assert_int_equal(qts_test_write_file(f->path, "host_id: second\nmode: paper\n"), 0);
    assert_int_equal(kill(getpid(), SIGHUP), 0);
    run_until(f, 1);
    assert_int_equal(f->holder.reloads_ok, 1);
    assert_int_equal(f->callbacks, 1);
    assert_string_equal(f->last_host, "second");
    assert_string_equal(host_now(f, buf, sizeof buf), "second");
    struct qts_config *now = qts_config_holder_get(&f->holder);
    assert_int_equal(qts_config_settings(now)->mode, QTS_MODE_PAPER);
    assert_int_equal(qts_config_settings(now)->strategy_workers, 1);
    qts_config_unref(now);
    /* the old snapshot is still whole for the reader that holds it */
    assert_string_equal(qts_config_settings(reader)->host_id, "first");
    assert_int_equal(qts_config_settings(reader)->strategy_workers, 2);
    qts_config_unref(reader);
}

static void test_reload_call_reports_errors(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(qts_test_write_file(f->path, "mode: sometimes\n"), 0);
    struct qts_diags d;
    qts_diags_init(&d);
    assert_int_equal(qts_config_reload(&f->holder, &d), QTS_ECONFIG);
    assert_int_equal(d.n, 1);
    assert_string_equal(d.v[0].path, "mode");
    assert_int_equal(d.v[0].line, 1);
    assert_int_equal(d.v[0].col, 7);
    qts_diags_cleanup(&d);
    assert_int_equal(qts_config_reload(&f->holder, NULL), QTS_ECONFIG);
    assert_int_equal(f->holder.reloads_failed, 2);
}

QTS_TEST_MAIN_FIXTURE(setup, teardown, test_sighup_broken_file_keeps_snapshot,
                      test_sighup_good_file_swaps_and_readers_keep_old,
                      test_reload_call_reports_errors)
