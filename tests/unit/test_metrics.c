/* test_metrics.c — the named counter/gauge registry. */
#include "test_support.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "metrics.h"
#include "qts/qts_err.h"

static void test_counters_and_gauges(void **state)
{
    (void)state;
    struct qts_metrics *m = qts_metrics_new();
    int64_t v = 99;
    assert_int_equal(qts_metrics_get(m, "x.count", &v), QTS_ENOENT);
    assert_int_equal(v, 0);
    qts_metrics_add(m, "x.count", 2);
    qts_metrics_add(m, "x.count", 3);
    qts_metrics_set(m, "x.gauge", -7);
    qts_metrics_set(m, "x.gauge", 11);
    assert_int_equal(qts_metrics_get(m, "x.count", &v), 0);
    assert_int_equal(v, 5);
    assert_int_equal(qts_metrics_get(m, "x.gauge", &v), 0);
    assert_int_equal(v, 11);
    qts_metrics_free(m);
    qts_metrics_free(NULL);
}

static void sum_cb(void *arg, const char *name, int64_t value)
{
    int64_t *sum = arg;
    if (strncmp(name, "m.", 2) == 0)
        *sum += value;
}

static void test_many_names_grow_the_table(void **state)
{
    (void)state;
    struct qts_metrics *m = qts_metrics_new();
    char name[32];
    for (int i = 0; i < 1000; i++) {
        snprintf(name, sizeof name, "m.%d", i);
        qts_metrics_add(m, name, i);
    }
    for (int i = 0; i < 1000; i += 97) {
        int64_t v;
        snprintf(name, sizeof name, "m.%d", i);
        assert_int_equal(qts_metrics_get(m, name, &v), 0);
        assert_int_equal(v, i);
    }
    int64_t sum = 0;
    qts_metrics_foreach(m, sum_cb, &sum);
    assert_int_equal(sum, 999 * 1000 / 2);
    qts_metrics_free(m);
}

static void *adder(void *arg)
{
    for (int i = 0; i < 10000; i++)
        qts_metrics_add(arg, "shared", 1);
    return NULL;
}

static void test_concurrent_adds(void **state)
{
    (void)state;
    struct qts_metrics *m = qts_metrics_new();
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, adder, m);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    int64_t v;
    assert_int_equal(qts_metrics_get(m, "shared", &v), 0);
    assert_int_equal(v, 40000);
    qts_metrics_free(m);
}

QTS_TEST_MAIN(test_counters_and_gauges, test_many_names_grow_the_table, test_concurrent_adds)
