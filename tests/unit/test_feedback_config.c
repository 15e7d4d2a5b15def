/* test_feedback_config.c — the `feedback:` section: defaults, values
 * reaching the TCA, unknown keys and bad values refused, enabled: false. */
#include "test_support.h"

#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "settings.h"
#include "feedback.h"
#include "tca.h"

static struct qts_config *load(const char *yaml)
{
    struct qts_config *cfg = NULL;
    assert_int_equal(qts_test_config_load("t.yaml", yaml, &cfg, NULL), 0);
    return cfg;
}

static int make(const char *yaml, struct qts_feedback **fb, struct qts_err *err)
{
    struct qts_config *cfg = load(yaml);
    struct qts_tca_env env;
    memset(&env, 0, sizeof env);
    int rc = qts_feedback_new(qts_config_settings(cfg)->feedback, "/nonexistent", true, &env, NULL,
                              fb, err);
    qts_config_unref(cfg);
    return rc;
}

static void test_feedback_section(void **state)
{
    (void)state;
    struct qts_feedback *fb = NULL;
    struct qts_err err;
    qts_err_clear(&err);
    /* absent: on, with the defaults */
    assert_int_equal(make("mode: replay\n", &fb, &err), 0);
    assert_non_null(fb);
    const struct qts_tca_params *p = qts_tca_params(qts_feedback_tca(fb));
    assert_int_equal(p->score_version, 1);
    assert_false(p->adjust_orders);
    assert_int_equal(p->min_samples, 5);
    assert_true(p->max_impact_bps == 20.0);
    qts_feedback_free(fb);
    /* values */
    assert_int_equal(make("feedback: {score_version: 2, adjust_orders: true, min_samples: 8,"
                          " max_impact_bps: 12.5, lookback_s: 3600, window_s: 30}\n",
                          &fb, &err),
                     0);
    p = qts_tca_params(qts_feedback_tca(fb));
    assert_int_equal(p->score_version, 2);
    assert_true(p->adjust_orders);
    assert_int_equal(p->min_samples, 8);
    assert_true(p->max_impact_bps == 12.5);
    assert_true(p->lookback_ns == 3600LL * 1000000000LL);
    assert_true(p->window_ns == 30LL * 1000000000LL);
    qts_feedback_free(fb);
    /* refused */
    assert_int_equal(make("feedback: {min_sample: 3}\n", &fb, &err), QTS_ECONFIG);
    assert_non_null(strstr(err.msg, "min_sample"));
    assert_null(fb);
    assert_int_equal(make("feedback: {score_version: 3}\n", &fb, &err), QTS_ECONFIG);
    assert_int_equal(make("feedback: {weight_fill: 2}\n", &fb, &err), QTS_ECONFIG);
    /* off */
    assert_int_equal(make("feedback: {enabled: false}\n", &fb, &err), 0);
    assert_null(fb);
}

QTS_TEST_MAIN(test_feedback_section)
