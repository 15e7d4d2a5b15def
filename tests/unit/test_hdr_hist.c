/* test_hdr_hist.c — the latency histogram: exact small values, bounded
 * relative error, percentiles, merging. */
#include "test_support.h"

#include <stdio.h>
#include <string.h>

#include "hdr_hist.h"
#include "util.h"

static void test_small_values_exact(void **state)
{
    (void)state;
    struct qts_hdr_hist h;
    qts_hdr_init(&h);
    for (int v = 1; v <= 100; v++)
        qts_hdr_record(&h, v);
    assert_int_equal(h.count, 100);
    assert_int_equal(qts_hdr_percentile(&h, 50), 50);
    assert_int_equal(qts_hdr_percentile(&h, 99), 99);
    assert_int_equal(qts_hdr_percentile(&h, 100), 100);
    assert_int_equal(qts_hdr_percentile(&h, 0), 1);
}

static void test_bucket_bounds(void **state)
{
    (void)state;
    /* every value lies inside its bucket, and buckets are at most 1/64 wide */
    int64_t vals[] = {0,        1,    127,   128,     129,       255,
                      256,      1000, 12345, 1000000, 987654321, INT64_C(1) << 40,
                      INT64_MAX};
    for (size_t i = 0; i < QTS_ARRAY_LEN(vals); i++) {
        size_t idx = qts_hdr_index(vals[i]);
        assert_true(idx < QTS_HDR_BUCKETS);
        int64_t lo = qts_hdr_bucket_low(idx), hi = qts_hdr_bucket_high(idx);
        assert_true(lo <= vals[i]);
        assert_true(vals[i] <= hi);
        if (vals[i] >= 128)
            assert_true((double)(hi - lo) <= (double)lo / 64.0 + 1);
    }
    /* indexes grow with values */
    size_t prev = 0;
    for (int64_t v = 1; v < (INT64_C(1) << 50); v = v * 3 / 2 + 1) {
        size_t idx = qts_hdr_index(v);
        assert_true(idx >= prev);
        prev = idx;
    }
}

static void test_percentiles_within_error(void **state)
{
    (void)state;
    struct qts_hdr_hist h;
    qts_hdr_init(&h);
    for (int64_t v = 1000; v <= 1000000; v += 1000)
        qts_hdr_record(&h, v);
    int64_t p50 = qts_hdr_percentile(&h, 50), p99 = qts_hdr_percentile(&h, 99);
    assert_true(p50 >= 500000 && p50 <= 500000 + 500000 / 64 + 1);
    assert_true(p99 >= 990000 && p99 <= 990000 + 990000 / 64 + 1);
    assert_int_equal(qts_hdr_percentile(&h, 100), 1000000);
    assert_true(qts_hdr_mean(&h) > 500000 && qts_hdr_mean(&h) < 501000);
}

static void test_merge_and_json(void **state)
{
    (void)state;
    struct qts_hdr_hist a, b, both;
    qts_hdr_init(&a);
    qts_hdr_init(&b);
    qts_hdr_init(&both);
    for (int i = 0; i < 1000; i++) {
        qts_hdr_record(&a, 100 + i);
        qts_hdr_record(&b, 50000 + i * 7);
        qts_hdr_record(&both, 100 + i);
        qts_hdr_record(&both, 50000 + i * 7);
    }
    qts_hdr_merge(&a, &b);
    assert_int_equal(a.count, both.count);
    assert_int_equal(a.min, both.min);
    assert_int_equal(a.max, both.max);
    assert_memory_equal(a.buckets, both.buckets, sizeof a.buckets);
    assert_int_equal(qts_hdr_percentile(&a, 99), qts_hdr_percentile(&both, 99));
    char buf[256];
    qts_hdr_json(&a, buf, sizeof buf);
    assert_non_null(strstr(buf, "\"n\":2000"));
    assert_non_null(strstr(buf, "\"p99\":"));
    /* empty histogram */
    struct qts_hdr_hist e;
    qts_hdr_init(&e);
    assert_int_equal(qts_hdr_percentile(&e, 99), 0);
    qts_hdr_record(&e, -5); /* clamped */
    assert_int_equal(e.min, 0);
}

QTS_TEST_MAIN(test_small_values_exact, test_bucket_bounds, test_percentiles_within_error,
              test_merge_and_json)
