/* test_exec_split.c — OrderSplit schedules: DIRECT, TWAP, VWAP (profile,
 * bars, fallback), ICEBERG, lots, and the 10-children cap. */
#include "test_support.h"

#include <string.h>

#include "exec_split.h"
#include "qts/qts_err.h"
#include "util.h"

static int64_t sum(const struct qts_slice *s, int n)
{
    int64_t t = 0;
    for (int i = 0; i < n; i++)
        t += s[i].qty;
    return t;
}

/* The plan of `r` has exactly the `k` slices of quantities `want`, in order. */
static void expect_plan(const struct qts_split_req *r, const int64_t *want, int k)
{
    struct qts_slice s[QTS_SPLIT_MAX];
    int n = qts_split_plan(r, s, QTS_SPLIT_MAX, NULL);
    assert_int_equal(n, k);
    for (int i = 0; i < k; i++)
        assert_int_equal(s[i].qty, want[i]);
}

static void test_direct(void **state)
{
    (void)state;
    struct qts_slice s[QTS_SPLIT_MAX];
    struct qts_split_req r = {.algo = QTS_ALGO_DIRECT, .qty = 70, .lot = 10, .max_children = 10};
    assert_int_equal(qts_split_plan(&r, s, QTS_SPLIT_MAX, NULL), 1);
    assert_int_equal(s[0].qty, 70);
    assert_int_equal(s[0].offset_ns, 0);
    r.qty = 75; /* not a lot multiple */
    assert_int_equal(qts_split_plan(&r, s, QTS_SPLIT_MAX, NULL), QTS_EINVAL);
}

static void test_twap_schedule(void **state)
{
    (void)state;
    struct qts_slice s[QTS_SPLIT_MAX];
    struct qts_split_req r = {.algo = QTS_ALGO_TWAP,
                              .qty = 1030,
                              .lot = 10,
                              .duration_ns = 50000,
                              .slices = 5,
                              .max_children = 10};
    int capped = -1;
    int n = qts_split_plan(&r, s, QTS_SPLIT_MAX, &capped);
    assert_int_equal(n, 5);
    assert_int_equal(capped, 0);
    /* 103 lots over 5: 21,21,21,20,20 lots */
    int64_t want[] = {210, 210, 210, 200, 200};
    for (int i = 0; i < 5; i++) {
        assert_int_equal(s[i].qty, want[i]);
        assert_int_equal(s[i].offset_ns, 10000 * i);
    }
    assert_int_equal(sum(s, n), 1030);
    /* more slices than the cap: capped at 10, GR060 reported */
    r.slices = 40;
    n = qts_split_plan(&r, s, QTS_SPLIT_MAX, &capped);
    assert_int_equal(n, 10);
    assert_int_equal(capped, 1);
    assert_int_equal(sum(s, n), 1030);
    assert_int_equal(s[9].offset_ns, 45000);
    /* fewer lots than slices: one lot each */
    r.qty = 30;
    r.slices = 5;
    n = qts_split_plan(&r, s, QTS_SPLIT_MAX, &capped);
    assert_int_equal(n, 3);
    assert_int_equal(sum(s, n), 30);
    /* default slice count */
    r.qty = 1000;
    r.slices = 0;
    r.default_slices = 4;
    assert_int_equal(qts_split_plan(&r, s, QTS_SPLIT_MAX, NULL), 4);
}

static void test_vwap_profile(void **state)
{
    (void)state;
    /* the spec's worked example: 1000 shares over 9 buckets */
    double w[] = {0.15, 0.12, 0.10, 0.08, 0.08, 0.10, 0.12, 0.15, 0.10};
    struct qts_slice s[QTS_SPLIT_MAX];
    struct qts_split_req r = {.algo = QTS_ALGO_VWAP,
                              .qty = 1000,
                              .lot = 1,
                              .duration_ns = 9000,
                              .max_children = 10,
                              .profile = w,
                              .n_profile = 9};
    int n = qts_split_plan(&r, s, QTS_SPLIT_MAX, NULL);
    assert_int_equal(n, 9);
    int64_t want[] = {150, 120, 100, 80, 80, 100, 120, 150, 100};
    for (int i = 0; i < 9; i++) {
        assert_int_equal(s[i].qty, want[i]);
        assert_int_equal(s[i].offset_ns, 1000 * i);
    }
    /* uneven: the last bucket takes the remainder, sum exact */
    double w3[] = {1, 1, 1};
    r.profile = w3;
    r.n_profile = 3;
    r.qty = 100;
    expect_plan(&r, (const int64_t[]){33, 33, 34}, 3);
    /* 20 buckets, at most 10 children: neighbours merged, sum exact */
    double w20[20];
    for (int i = 0; i < 20; i++)
        w20[i] = i < 10 ? 1 : 3;
    r.profile = w20;
    r.n_profile = 20;
    r.qty = 800;
    int capped = 0;
    n = qts_split_plan(&r, s, QTS_SPLIT_MAX, &capped);
    assert_int_equal(n, 10);
    assert_int_equal(capped, 1);
    assert_int_equal(sum(s, n), 800);
    assert_int_equal(s[0].qty, 40);  /* 2 / 80 of 800... weight 2 of 80 */
    assert_int_equal(s[9].qty, 120); /* weight 6 of 80 */
}

static void test_vwap_from_bars_and_fallback(void **state)
{
    (void)state;
    struct qts_bar bars[4];
    memset(bars, 0, sizeof bars);
    int64_t vols[] = {100, 300, 100, 500};
    for (int i = 0; i < 4; i++)
        bars[i].volume = vols[i];
    double w[8];
    /* the three most recent bars */
    size_t nw = qts_split_profile_from_bars(bars, 4, w, 3);
    assert_int_equal(nw, 3);
    assert_true(w[0] == 300 && w[1] == 100 && w[2] == 500);
    struct qts_slice s[QTS_SPLIT_MAX];
    struct qts_split_req r = {.algo = QTS_ALGO_VWAP,
                              .qty = 90,
                              .lot = 1,
                              .duration_ns = 3000,
                              .max_children = 10,
                              .profile = w,
                              .n_profile = nw};
    expect_plan(&r, (const int64_t[]){30, 10, 50}, 3);
    /* bars without volume: no profile; the plan falls back to equal slices */
    memset(bars, 0, sizeof bars);
    assert_int_equal(qts_split_profile_from_bars(bars, 4, w, 8), 0);
    r.profile = NULL;
    r.n_profile = 0;
    r.default_slices = 3;
    int n = qts_split_plan(&r, s, QTS_SPLIT_MAX, NULL);
    assert_int_equal(n, 3);
    assert_int_equal(s[0].qty, 30);
    assert_int_equal(s[2].offset_ns, 2000);
}

static void test_iceberg(void **state)
{
    (void)state;
    struct qts_slice s[QTS_SPLIT_MAX];
    struct qts_split_req r = {
        .algo = QTS_ALGO_ICEBERG, .qty = 250, .lot = 10, .display_qty = 100, .max_children = 10};
    int n = qts_split_plan(&r, s, QTS_SPLIT_MAX, NULL);
    assert_int_equal(n, 3);
    assert_int_equal(s[0].qty, 100);
    assert_int_equal(s[1].qty, 100);
    assert_int_equal(s[2].qty, 50);
    /* display too small for the cap: the display grows to fit 10 chunks */
    r.qty = 1000;
    r.display_qty = 10;
    int capped = 0;
    n = qts_split_plan(&r, s, QTS_SPLIT_MAX, &capped);
    assert_int_equal(n, 10);
    assert_int_equal(capped, 1);
    assert_int_equal(s[0].qty, 100);
    assert_int_equal(sum(s, n), 1000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_direct),       cmocka_unit_test(test_twap_schedule),
        cmocka_unit_test(test_vwap_profile), cmocka_unit_test(test_vwap_from_bars_and_fallback),
        cmocka_unit_test(test_iceberg),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
