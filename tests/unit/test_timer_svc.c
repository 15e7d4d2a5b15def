/* test_timer_svc.c — the timer service: the fake fires in deadline order
 * with the clock set to each deadline; the libuv one fires on the loop and
 * never fires a stopped timer. */
#include "test_support.h"

#include <uv.h>

#include "clock.h"
#include "timer_svc.h"

struct rec {
    struct qts_timer_svc *t;
    int order[16];
    int64_t at[16];
    int n;
};

struct arg {
    struct rec *r;
    int tag;
    bool rearm;
};

static void on_fire(void *p)
{
    struct arg *a = p;
    if (a->r->n < 16) {
        a->r->order[a->r->n] = a->tag;
        a->r->at[a->r->n] = qts_timer_svc_now(a->r->t);
    }
    a->r->n++;
    if (a->rearm) {
        a->rearm = false;
        qts_timer_svc_start(a->r->t, 5, on_fire, a, NULL);
    }
}

static void test_fake_order_and_clock(void **state)
{
    (void)state;
    struct qts_clock c;
    qts_clock_init(&c, QTS_CLOCK_VIRTUAL);
    qts_clock_advance_to(&c, 1000);
    struct qts_timer_svc t;
    assert_int_equal(qts_fake_timers_new(&c, &t), 0);
    struct rec r = {.t = &t};
    struct arg a1 = {&r, 1, false}, a2 = {&r, 2, true}, a3 = {&r, 3, false}, a4 = {&r, 4, false};
    uint64_t id1, id2, id3, id4;
    qts_timer_svc_start(&t, 30, on_fire, &a1, &id1);
    qts_timer_svc_start(&t, 10, on_fire, &a2, &id2);
    qts_timer_svc_start(&t, 10, on_fire, &a3, &id3); /* same deadline: start order */
    qts_timer_svc_start(&t, 20, on_fire, &a4, &id4);
    assert_true(id1 && id2 && id3 && id4 && id1 != id2);
    assert_int_equal(qts_timer_svc_stop(&t, id4), 0);
    assert_int_equal(qts_timer_svc_stop(&t, id4), QTS_ENOENT);
    assert_int_equal(qts_fake_timers_advance(&t, 9), 0);
    assert_int_equal(qts_timer_svc_now(&t), 1009);
    /* 2 and 3 at 1010, then 2's re-arm at 1015, then 1 at 1030 */
    assert_int_equal(qts_fake_timers_advance(&t, 100), 4);
    assert_int_equal(r.n, 4);
    assert_int_equal(r.order[0], 2);
    assert_int_equal(r.order[1], 3);
    assert_int_equal(r.order[2], 2);
    assert_int_equal(r.order[3], 1);
    assert_int_equal(r.at[0], 1010);
    assert_int_equal(r.at[2], 1015);
    assert_int_equal(r.at[3], 1030);
    assert_int_equal(qts_timer_svc_now(&t), 1109);
    assert_int_equal(qts_fake_timers_pending(&t), 0);
    qts_timer_svc_free(&t);
}

static void test_uv_fires_and_stops(void **state)
{
    (void)state;
    uv_loop_t loop;
    assert_int_equal(uv_loop_init(&loop), 0);
    struct qts_timer_svc t;
    assert_int_equal(qts_uv_timers_new(&loop, NULL, &t), 0);
    struct rec r = {.t = &t};
    struct arg a1 = {&r, 1, false}, a2 = {&r, 2, false}, a3 = {&r, 3, false};
    uint64_t id1, id2, id3;
    qts_timer_svc_start(&t, 1000000, on_fire, &a1, &id1);
    qts_timer_svc_start(&t, 0, on_fire, &a2, &id2);
    qts_timer_svc_start(&t, 2000000, on_fire, &a3, &id3);
    assert_int_equal(qts_timer_svc_stop(&t, id3), 0);
    uv_run(&loop, UV_RUN_DEFAULT); /* returns when no timer is left */
    assert_int_equal(r.n, 2);
    assert_int_equal(r.order[0], 2);
    assert_int_equal(r.order[1], 1);
    /* stale ids never match a reused slot */
    uint64_t id4;
    qts_timer_svc_start(&t, 1000000, on_fire, &a1, &id4);
    assert_true(id4 != id1 && id4 != id2);
    assert_int_equal(qts_timer_svc_stop(&t, id1), QTS_ENOENT);
    assert_int_equal(qts_timer_svc_stop(&t, id3), QTS_ENOENT);
    assert_int_equal(qts_timer_svc_stop(&t, id4), 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(r.n, 2);
    /* many at once, stopped in any order */
    uint64_t ids[200];
    for (int i = 0; i < 200; i++)
        qts_timer_svc_start(&t, 1000000, on_fire, &a1, &ids[i]);
    for (int i = 0; i < 200; i += 2)
        assert_int_equal(qts_timer_svc_stop(&t, ids[i]), 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(r.n, 102);
    r.n = 2;
    /* a timer still armed at free is closed, never fired */
    qts_timer_svc_start(&t, 1000000000, on_fire, &a3, &id3);
    qts_timer_svc_free(&t);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(r.n, 2);
    assert_int_equal(uv_loop_close(&loop), 0);
}

QTS_TEST_MAIN(test_fake_order_and_clock, test_uv_fires_and_stops)
