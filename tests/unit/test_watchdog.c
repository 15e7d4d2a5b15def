/* test_watchdog.c — stalled core loop / worker detection: sampled on a
 * synthetic clock, and once with the real thread against the safety state. */
#include "test_support.h"

#include <string.h>
#include <time.h>

#include "safety.h"
#include "watchdog.h"

#define MS INT64_C(1000000)

static int codes[16], n_codes;

static void rec(void *ctx, int code, const char *msg)
{
    (void)ctx;
    (void)msg;
    if (n_codes < 16)
        codes[n_codes++] = code;
}

static void test_warn_then_stall_once_and_rearm(void **state)
{
    (void)state;
    n_codes = 0;
    struct qts_watchdog *wd = qts_watchdog_new(rec, NULL);
    struct qts_watch *core = qts_watchdog_add(wd, "core", 200, QTS_SC_AN040, 1000, QTS_SC_FS060);
    struct qts_watch *w1 = qts_watchdog_add(wd, "strategy.1", 0, 0, 2000, QTS_SC_GR091);
    int64_t t = 0;
    for (int i = 0; i < 50; i++) { /* both beat: nothing */
        qts_watchdog_beat(core);
        qts_watchdog_beat(w1);
        qts_watchdog_check(wd, t += 100 * MS);
    }
    assert_int_equal(n_codes, 0);
    /* the core loop stops beating; the worker keeps going */
    for (int i = 0; i < 30; i++) {
        qts_watchdog_beat(w1);
        qts_watchdog_check(wd, t += 100 * MS);
    }
    assert_int_equal(n_codes, 2);
    assert_int_equal(codes[0], QTS_SC_AN040);
    assert_int_equal(codes[1], QTS_SC_FS060);
    assert_true(qts_watchdog_stalled(wd, "core"));
    assert_false(qts_watchdog_stalled(wd, "strategy.1"));
    /* it beats again: re-armed; the worker now stalls */
    qts_watchdog_beat(core);
    qts_watchdog_check(wd, t += 100 * MS);
    assert_false(qts_watchdog_stalled(wd, "core"));
    for (int i = 0; i < 25; i++) {
        qts_watchdog_beat(core);
        qts_watchdog_check(wd, t += 100 * MS);
    }
    assert_int_equal(n_codes, 3);
    assert_int_equal(codes[2], QTS_SC_GR091);
    qts_watchdog_free(wd);
}

static void raise_safety(void *ctx, int code, const char *msg) { qts_safety_raise(ctx, code, msg); }

static void test_thread_detects_stalled_loop(void **state)
{
    (void)state;
    struct qts_safety *s = qts_safety_new(NULL);
    struct qts_watchdog *wd = qts_watchdog_new(raise_safety, s);
    struct qts_watch *core = qts_watchdog_add(wd, "core", 0, 0, 30, QTS_SC_FS060);
    qts_watchdog_beat(core);
    assert_int_equal(qts_watchdog_start(wd, 5), 0);
    /* this thread is the "core loop" and stops beating: wait for the trip
     * (no timing is asserted; the bound is only a safety net) */
    struct timespec ts = {0, 5 * 1000000};
    for (int i = 0; i < 1000 && qts_safety_state(s) == QTS_SAFETY_NORMAL; i++)
        nanosleep(&ts, NULL);
    assert_int_equal(qts_safety_state(s), QTS_SAFETY_FAIL);
    assert_false(qts_safety_trading_allowed(s));
    qts_watchdog_stop(wd);
    qts_watchdog_free(wd);
    qts_safety_free(s);
}

QTS_TEST_MAIN(test_warn_then_stall_once_and_rearm, test_thread_detects_stalled_loop)
