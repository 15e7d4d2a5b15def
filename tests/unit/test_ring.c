/* test_ring.c — the SPSC ring keeps order and refuses when full; the
 * conflating slot table delivers the latest value per key, never an older
 * one after a newer, and accounts for every value: delivered + conflated ==
 * published, with a producer and a consumer on two threads. */
#include "test_support.h"

#include <pthread.h>
#include <string.h>

#include "qts/qts_err.h"
#include "ring.h"

#define N_PUSH 200000

static void test_ring_fifo_and_full(void **state)
{
    (void)state;
    struct qts_ring r;
    assert_int_equal(qts_ring_init(&r, 3, sizeof(uint64_t)), 0); /* rounded to 4 */
    for (uint64_t i = 0; i < 4; i++)
        assert_int_equal(qts_ring_push(&r, &i), 0);
    uint64_t x = 99;
    assert_int_equal(qts_ring_push(&r, &x), QTS_EFULL);
    for (uint64_t i = 0; i < 4; i++) {
        assert_int_equal(qts_ring_pop(&r, &x), 0);
        assert_int_equal(x, i);
    }
    assert_int_equal(qts_ring_pop(&r, &x), QTS_EAGAIN);
    qts_ring_cleanup(&r);
}

static void *producer(void *arg)
{
    struct qts_ring *r = arg;
    for (uint64_t i = 0; i < N_PUSH; i++)
        while (qts_ring_push(r, &i) != 0)
            ;
    return NULL;
}

static void test_ring_two_threads(void **state)
{
    (void)state;
    struct qts_ring r;
    qts_ring_init(&r, 64, sizeof(uint64_t));
    pthread_t t;
    pthread_create(&t, NULL, producer, &r);
    for (uint64_t want = 0; want < N_PUSH;) {
        uint64_t x;
        if (qts_ring_pop(&r, &x) == 0) {
            assert_int_equal(x, want);
            want++;
        }
    }
    pthread_join(t, NULL);
    qts_ring_cleanup(&r);
}

struct md_ctx {
    struct qts_mdslots *t;
};

static void *md_producer(void *arg)
{
    struct qts_mdslots *t = arg;
    for (uint64_t i = 1; i <= N_PUSH; i++) {
        uint64_t v[4] = {i, i, i, i}; /* torn reads would show mismatches */
        qts_mdslots_put(t, (uint32_t)(i % 3), v, sizeof v, NULL);
    }
    return NULL;
}

static void test_mdslots_accounting(void **state)
{
    (void)state;
    struct qts_mdslots t;
    assert_int_equal(qts_mdslots_init(&t, 3, 4 * sizeof(uint64_t)), 0);
    pthread_t th;
    pthread_create(&th, NULL, md_producer, &t);
    uint64_t last[3] = {0, 0, 0}, delivered = 0;
    for (;;) {
        uint64_t v[4];
        if (qts_mdslots_take(&t, v, NULL)) {
            assert_true(v[0] == v[1] && v[1] == v[2] && v[2] == v[3]);
            uint32_t key = (uint32_t)(v[0] % 3);
            assert_true(v[0] > last[key]); /* never older, never twice */
            last[key] = v[0];
            delivered++;
            continue;
        }
        if (atomic_load(&t.published) == N_PUSH && qts_ring_count(&t.ready) == 0) {
            /* producer done and nothing pending */
            pthread_join(th, NULL);
            if (!qts_mdslots_take(&t, v, NULL))
                break;
            uint32_t key = (uint32_t)(v[0] % 3);
            assert_true(v[0] > last[key]);
            last[key] = v[0];
            delivered++;
            break;
        }
    }
    /* the last value of every key was delivered */
    assert_int_equal(last[0], N_PUSH - (N_PUSH % 3));
    assert_int_equal(delivered + atomic_load(&t.conflated), N_PUSH);
    qts_mdslots_cleanup(&t);
}

QTS_TEST_MAIN(test_ring_fifo_and_full, test_ring_two_threads, test_mdslots_accounting)
