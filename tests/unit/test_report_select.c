/* test_report_select.c — exact order statistics over passes of a stream
 * (report_select.h) against a full sort: heavy ties (a single key), values
 * spread over many orders of magnitude, negatives and zeros of both signs,
 * more values than one collecting pass may keep, and a stream that shrinks
 * between passes (an error, not a wrong answer). */
#include "test_support.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report_select.h"

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The k-th smallest of v[0..n) by passes; the number of passes in *passes. */
static double select_k(const double *v, size_t n, uint64_t k, int *passes)
{
    struct qts_sel s;
    qts_sel_init(&s, k);
    int r = 0;
    for (*passes = 1; *passes < 20; (*passes)++) {
        for (size_t i = 0; i < n; i++)
            qts_sel_feed(&s, v[i]);
        if ((r = qts_sel_end_pass(&s)) != 0)
            break;
    }
    assert_int_equal(r, 1);
    qts_sel_free(&s);
    return s.value;
}

static void check_all_ranks(const double *v, size_t n, size_t step)
{
    double *sorted = malloc(n * sizeof *sorted);
    memcpy(sorted, v, n * sizeof *v);
    qsort(sorted, n, sizeof *sorted, cmp_dbl);
    for (size_t k = 0; k < n; k += step) {
        int passes;
        double got = select_k(v, n, k, &passes);
        if (!(got == sorted[k]))
            fail_msg("rank %zu: %.17g != %.17g", k, got, sorted[k]);
        assert_true(passes <= 7);
    }
    free(sorted);
}

static void test_matches_sort(void **state)
{
    (void)state;
    enum { N = 50000 };
    double *v = malloc(N * sizeof *v);
    srand(7);
    for (size_t i = 0; i < N; i++) { /* slippage-like: clustered, signed, some zeros */
        double x = ((double)rand() / RAND_MAX - 0.5) * 40;
        v[i] = i % 7 == 0 ? 0.0 : i % 11 == 0 ? -0.0 : i % 5 == 0 ? x * 1e-9 : x;
    }
    v[3] = 1e300;
    v[4] = -1e300;
    check_all_ranks(v, N, 997);
    check_all_ranks(v, 1, 1);
    for (size_t i = 0; i < N; i++) /* one value repeated: more than a pass may keep */
        v[i] = 2.5;
    check_all_ranks(v, N, 4999);
    for (size_t i = 0; i < N; i++) /* two close values, many of each */
        v[i] = i % 2 ? 1.0 : nextafter(1.0, 2.0);
    check_all_ranks(v, N, 2503);
    free(v);
}

static void test_stream_changed(void **state)
{
    (void)state;
    double v[100];
    for (int i = 0; i < 100; i++)
        v[i] = i;
    struct qts_sel s;
    qts_sel_init(&s, 90);
    for (int i = 0; i < 100; i++)
        qts_sel_feed(&s, v[i]);
    assert_int_equal(qts_sel_end_pass(&s), 0);
    for (int i = 0; i < 50; i++) /* the second pass sees half the stream */
        qts_sel_feed(&s, v[i]);
    assert_int_equal(qts_sel_end_pass(&s), -1);
    qts_sel_free(&s);
}

QTS_TEST_MAIN(test_matches_sort, test_stream_changed)
