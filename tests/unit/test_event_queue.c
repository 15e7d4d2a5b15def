/* test_event_queue.c — strict priority, conflation, overflow policies, and
 * the flood test: market data at many times the processing rate while
 * fills arrive; every fill is handled within a stated bound (virtual time). */
#include "test_support.h"

#include <stdlib.h>
#include <string.h>

#include "event_queue.h"
#include "qts/qts_err.h"
#include "util.h"

static struct qts_clock clk;

static struct qts_evq *mk(uint32_t p1cap, uint32_t conflate)
{
    qts_clock_init(&clk, QTS_CLOCK_VIRTUAL);
    qts_clock_advance_to(&clk, 1000);
    struct qts_evq_config c;
    qts_evq_config_default(&c);
    c.cap[QTS_EVQ_P0] = 4;
    c.cap[QTS_EVQ_P1] = p1cap;
    c.cap[QTS_EVQ_P2] = 4;
    c.cap[QTS_EVQ_P3] = 4;
    c.conflate_depth = conflate;
    c.p0_trip_depth = 6;
    c.clock = &clk;
    return qts_evq_new(&c);
}

static void test_strict_priority(void **state)
{
    (void)state;
    struct qts_evq *q = mk(16, 16);
    int v;
    for (v = 0; v < 3; v++) {
        qts_evq_push(q, QTS_EVQ_P3, 1, 0, &v, sizeof v);
        qts_evq_push(q, QTS_EVQ_P2, 1, (uint32_t)v, &v, sizeof v);
        qts_evq_push(q, QTS_EVQ_P1, 1, (uint32_t)v, &v, sizeof v);
    }
    v = 99;
    qts_evq_push(q, QTS_EVQ_P0, 7, 0, &v, sizeof v);
    struct qts_evq_item it;
    int order[16], n = 0;
    while (qts_evq_pop(q, &it))
        order[n++] = it.prio;
    assert_int_equal(n, 10);
    assert_int_equal(order[0], 0);
    for (int i = 1; i < 4; i++)
        assert_int_equal(order[i], 1);
    for (int i = 4; i < 7; i++)
        assert_int_equal(order[i], 2);
    for (int i = 7; i < 10; i++)
        assert_int_equal(order[i], 3);
    qts_evq_free(q);
}

static void test_p0_never_dropped_and_trips(void **state)
{
    (void)state;
    struct qts_evq *q = mk(16, 16);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(qts_evq_push(q, QTS_EVQ_P0, 1, 0, &i, sizeof i), 0);
    struct qts_evq_stats st;
    qts_evq_stats(q, &st);
    assert_int_equal(st.depth[0], 1000);
    assert_int_equal(st.p0_trips, 1);
    struct qts_evq_item it;
    for (int i = 0; i < 1000; i++) {
        assert_true(qts_evq_pop(q, &it));
        int v;
        memcpy(&v, it.data, sizeof v);
        assert_int_equal(v, i); /* in order, none lost */
    }
    assert_false(qts_evq_pop(q, &it));
    qts_evq_free(q);
}

static void test_p1_conflates_per_key_keeps_place(void **state)
{
    (void)state;
    struct qts_evq *q = mk(100, 2);
    int v = 1;
    qts_evq_push(q, QTS_EVQ_P1, 1, 10, &v, sizeof v); /* A */
    qts_evq_push(q, QTS_EVQ_P1, 1, 20, &v, sizeof v); /* B */
    v = 2;
    assert_int_equal(qts_evq_push(q, QTS_EVQ_P1, 1, 10, &v, sizeof v), 1); /* A replaced */
    v = 3;
    assert_int_equal(qts_evq_push(q, QTS_EVQ_P1, 2, 10, &v, sizeof v), 0); /* other type */
    assert_int_equal(qts_evq_depth(q, QTS_EVQ_P1), 3);
    struct qts_evq_item it;
    assert_true(qts_evq_pop(q, &it));
    int got;
    memcpy(&got, it.data, sizeof got);
    assert_int_equal(it.key, 10);
    assert_int_equal(got, 2); /* the latest value, first in line */
    assert_true(qts_evq_pop(q, &it));
    assert_int_equal(it.key, 20);
    qts_evq_free(q);
}

static void test_overflow_policies(void **state)
{
    (void)state;
    struct qts_evq *q = mk(4, 100);
    for (int i = 0; i < 6; i++) {
        qts_evq_push(q, QTS_EVQ_P1, 1, (uint32_t)i, &i, sizeof i);
        qts_evq_push(q, QTS_EVQ_P3, 1, 0, &i, sizeof i);
    }
    struct qts_evq_stats st;
    qts_evq_stats(q, &st);
    assert_int_equal(st.depth[1], 4);
    assert_int_equal(st.depth[3], 4);
    assert_int_equal(st.dropped[1], 2);
    assert_int_equal(st.dropped[3], 2);
    /* P2: collapse a queued timer of the same key, else refuse */
    for (int i = 0; i < 4; i++)
        assert_int_equal(qts_evq_push(q, QTS_EVQ_P2, 5, (uint32_t)i, &i, sizeof i), 0);
    int v = 42;
    assert_int_equal(qts_evq_push(q, QTS_EVQ_P2, 5, 2, &v, sizeof v), 1);
    assert_int_equal(qts_evq_push(q, QTS_EVQ_P2, 5, 9, &v, sizeof v), QTS_EFULL);
    assert_int_equal(qts_evq_push(q, 4, 5, 9, &v, sizeof v), QTS_EINVAL);
    char js[4096];
    qts_evq_json(q, js, sizeof js);
    assert_non_null(strstr(js, "\"P2\":{\"depth\":4"));
    qts_evq_free(q);
}

/* Flood: every 100 us of virtual time, 50 quotes arrive for 20 instruments
 * (500 000/s); a quote costs 10 us to handle (100 000/s: 5x overload); a
 * fill arrives every 1 ms and costs 5 us. The consumer pops one event at a
 * time and the clock advances by its cost. */
static void test_flood_fills_first(void **state)
{
    (void)state;
    qts_clock_init(&clk, QTS_CLOCK_VIRTUAL);
    qts_clock_advance_to(&clk, 1000);
    struct qts_evq_config c;
    qts_evq_config_default(&c);
    c.clock = &clk;
    struct qts_evq *q = qts_evq_new(&c);
    const int64_t US = 1000;
    int64_t t = 1000, next_md = t, next_fill = t;
    int fills_sent = 0, fills_seen = 0, quotes = 0;
    int64_t worst_fill = 0;
    uint64_t seq = 0;
    while (fills_sent < 2000 || qts_evq_depth(q, QTS_EVQ_P0) > 0) {
        /* arrivals due by now */
        while (next_md <= t) {
            for (int k = 0; k < 50; k++) {
                uint32_t inst = (uint32_t)(seq++ % 20);
                qts_evq_push(q, QTS_EVQ_P1, 2, inst, &seq, sizeof seq);
            }
            next_md += 100 * US;
        }
        while (next_fill <= t && fills_sent < 2000) {
            int64_t stamp = next_fill;
            qts_evq_push(q, QTS_EVQ_P0, 6, 0, &stamp, sizeof stamp);
            fills_sent++;
            next_fill += 1000 * US;
        }
        struct qts_evq_item it;
        if (!qts_evq_pop(q, &it)) {
            t = next_md < next_fill ? next_md : next_fill;
        } else if (it.prio == QTS_EVQ_P0) {
            t += 5 * US;
            int64_t stamp;
            memcpy(&stamp, it.data, sizeof stamp);
            if (t - stamp > worst_fill)
                worst_fill = t - stamp; /* arrival -> handled */
            fills_seen++;
        } else {
            t += 10 * US;
            quotes++;
        }
        qts_clock_advance_to(&clk, t);
    }
    struct qts_evq_stats st;
    qts_evq_stats(q, &st);
    print_message("flood: fills %d/%d, worst fill %lld us, quotes handled %d of %llu, "
                  "conflated %llu, P1 max depth %u\n",
                  fills_seen, fills_sent, (long long)(worst_fill / US), quotes,
                  (unsigned long long)st.pushed[1], (unsigned long long)st.conflated[1],
                  st.max_depth[1]);
    assert_int_equal(fills_seen, 2000);
    /* bound: the one quote being handled when the fill arrives (10 us) plus
     * the fill's own handling (5 us) */
    assert_true(worst_fill <= 15 * US);
    /* the overload was real and market data stayed bounded by conflation */
    assert_true(st.pushed[1] >= 4 * (uint64_t)quotes);
    assert_true(st.conflated[1] > 0);
    assert_true(st.max_depth[1] <= c.conflate_depth + 20);
    assert_int_equal(st.dropped[0], 0);
    qts_evq_free(q);
}

static int seen_prio[8], n_seen;
static int take(void *ctx, const struct qts_evq_item *it)
{
    struct qts_evq *q = ctx;
    if (n_seen < 8)
        seen_prio[n_seen] = it->prio;
    n_seen++;
    if (n_seen == 1) { /* a fill arrives while a quote is being handled */
        int v = 1;
        qts_evq_push(q, QTS_EVQ_P0, 6, 0, &v, sizeof v);
    }
    return 0;
}

static void test_drain_batches_with_p0_first(void **state)
{
    (void)state;
    struct qts_evq *q = mk(100, 100);
    int v = 0;
    for (uint32_t k = 0; k < 5; k++)
        qts_evq_push(q, QTS_EVQ_P1, 2, k, &v, sizeof v);
    n_seen = 0;
    assert_int_equal(qts_evq_drain(q, 3, take, q), 3);
    assert_int_equal(seen_prio[0], QTS_EVQ_P1);
    assert_int_equal(seen_prio[1], QTS_EVQ_P0); /* next, ahead of the queued quotes */
    assert_int_equal(seen_prio[2], QTS_EVQ_P1);
    assert_int_equal(qts_evq_drain(q, 100, take, q), 3);
    assert_int_equal(qts_evq_drain(q, 100, take, q), 0);
    qts_evq_free(q);
}

static int fails_left, handled_vals[16], n_handled, n_dead;
static int flaky(void *ctx, const struct qts_evq_item *it)
{
    (void)ctx;
    int v;
    memcpy(&v, it->data, sizeof v);
    if (v == 1 && fails_left > 0) {
        fails_left--;
        return QTS_EIO;
    }
    if (v == 2)
        return QTS_EIO; /* always fails */
    handled_vals[n_handled++] = v;
    return 0;
}
static void dead(void *ctx, const struct qts_evq_item *it)
{
    (void)ctx;
    assert_int_equal(it->prio, QTS_EVQ_P0);
    assert_int_equal(it->retries, 3);
    n_dead++;
}

static void test_failed_handler_retries_in_order_then_dead_letter(void **state)
{
    (void)state;
    qts_clock_init(&clk, QTS_CLOCK_VIRTUAL);
    struct qts_evq_config c;
    qts_evq_config_default(&c);
    c.clock = &clk;
    c.on_dead = dead;
    struct qts_evq *q = qts_evq_new(&c);
    for (int v = 1; v <= 3; v++)
        qts_evq_push(q, QTS_EVQ_P0, 6, 0, &v, sizeof v);
    fails_left = 2;
    n_handled = n_dead = 0;
    while (qts_evq_drain(q, 100, flaky, NULL) > 0) {
    }
    /* 1 failed twice and was retried ahead of 2 and 3; 2 failed 3 times */
    assert_int_equal(n_handled, 2);
    assert_int_equal(handled_vals[0], 1);
    assert_int_equal(handled_vals[1], 3);
    assert_int_equal(n_dead, 1);
    struct qts_evq_stats st;
    qts_evq_stats(q, &st);
    assert_int_equal(st.retried[0], 4);
    assert_int_equal(st.dead[0], 1);
    assert_int_equal(qts_evq_depth(q, QTS_EVQ_P0), 0);
    qts_evq_free(q);
}

QTS_TEST_MAIN(test_strict_priority, test_p0_never_dropped_and_trips,
              test_p1_conflates_per_key_keeps_place, test_overflow_policies, test_flood_fills_first,
              test_drain_batches_with_p0_first,
              test_failed_handler_retries_in_order_then_dead_letter)
