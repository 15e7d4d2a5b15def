/* test_exec_fillprob.c — AdaptiveAdjust guided by the execution-feedback
 * fill-probability estimate (exec_pipeline.h, docs/feedback.md): a child
 * likely to fill where it rests is held for the round; a repriced child
 * goes at least to the most passive distance that reaches the threshold;
 * without a provider the rounds are unchanged. */
#include "exec_fixture.h"

#include <math.h>

static double g_near, g_far; /* probability at distance <= 2 ticks, beyond */
static int g_calls;

static double prob(void *ctx, uint32_t instrument, double dist_ticks, double horizon_s)
{
    (void)ctx;
    (void)instrument;
    assert_true(horizon_s == 1.0); /* one adjust interval */
    g_calls++;
    return dist_ticks <= 2 ? g_near : g_far;
}

static int setup(void **state)
{
    *state = fx_new();
    g_calls = 0;
    return 0;
}

static int teardown(void **state)
{
    fx_free(*state);
    return 0;
}

static void test_likely_fill_is_held(void **state)
{
    struct fx *f = *state;
    g_near = g_far = 0.9;
    fx_start_with_prob(f, prob);
    /* buy 1 tick (100) below the bid 60000 */
    struct qts_order_intent in = fx_intent(1, 1, QTS_SIDE_BUY, QTS_ORD_LIMIT, 59900, 10);
    uint64_t id = fx_submit(f, &in);
    fx_report(f, QTS_EXEC_ACK, "t1-1", 0, 0, 0, 0);
    fx_advance_ms(f, 60000);
    const struct qts_parent *p = fx_order(f, id);
    assert_int_equal(fx_count(f, 'm'), 0); /* held */
    assert_int_equal(p->state, QTS_XS_MONITORING);
    assert_int_equal(p->adjust_rounds, 1);
    assert_true(g_calls >= 1);
}

static void test_reprice_to_probable_distance(void **state)
{
    struct fx *f = *state;
    g_near = 0.6;
    g_far = 0.1;
    f->params.max_slippage_pct = 0.05;
    fx_start_with_prob(f, prob);
    /* 5 ticks below the bid: the 0.1 % step would give 59600 (4 ticks);
     * the estimate reaches 0.5 only within 2 ticks: 59800 */
    struct qts_order_intent in = fx_intent(1, 1, QTS_SIDE_BUY, QTS_ORD_LIMIT, 59500, 10);
    fx_submit(f, &in);
    fx_report(f, QTS_EXEC_ACK, "t1-1", 0, 0, 0, 0);
    fx_advance_ms(f, 60000);
    assert_int_equal(fx_count(f, 'm'), 1);
    assert_int_equal(f->calls[fx_call(f, 'm', 0)].new_px, 59800);
}

static void test_sell_side_and_no_estimate(void **state)
{
    struct fx *f = *state;
    g_near = NAN; /* no estimate: the plain step */
    g_far = NAN;
    fx_start_with_prob(f, prob);
    /* sell 60300 with the ask 60100: step -0.1 % = 60239.7 -> 60200 */
    struct qts_order_intent in = fx_intent(1, 1, QTS_SIDE_SELL, QTS_ORD_LIMIT, 60300, 10);
    fx_submit(f, &in);
    fx_report(f, QTS_EXEC_ACK, "t1-1", 0, 0, 0, 0);
    fx_advance_ms(f, 60000);
    assert_int_equal(f->calls[fx_call(f, 'm', 0)].new_px, 60200);
}

static void test_threshold_validated(void **state)
{
    (void)state;
    struct qts_exec_params p;
    qts_exec_params_default(&p);
    assert_true(p.adjust_fill_prob == 0.5);
    struct qts_err err;
    p.adjust_fill_prob = 1.5;
    assert_int_equal(qts_exec_params_validate(&p, &err), QTS_ECONFIG);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_likely_fill_is_held),
        T(test_reprice_to_probable_distance),
        T(test_sell_side_and_no_estimate),
        T(test_threshold_validated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
