/* test_impact_model.c — the learned impact model: defaults below five
 * samples (spec §7.5 example), least-squares recovery of a known power law
 * from noisy samples, forgetting, the fill-probability estimate, and
 * save/load of the parameters. */
#include "test_support.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "impact_model.h"
#include "util.h"

static void test_defaults_until_five_samples(void **state)
{
    (void)state;
    struct qts_impact_model *m = qts_impact_new(NULL);
    bool def = false;
    /* spec §7.5: qty 1 000, volume 1 000 000, spread 5 bps -> 1.58 bps */
    double imp = qts_impact_predict_impact(m, "X", 5.0, 1000, 1000000, &def);
    assert_true(def);
    assert_true(fabs(imp - 5.0 * sqrt(0.001) * 10) < 1e-12);
    assert_true(fabs(imp - 1.58) < 0.005);
    assert_true(fabs(qts_impact_predict_slippage(m, "X", 5.0, 1000, 1000000, NULL) - (2.5 + imp)) <
                1e-12);
    assert_true(qts_impact_predict_impact(m, "X", 5.0, 0, 1000000, NULL) == 0);
    assert_true(qts_impact_predict_impact(m, "X", 5.0, 10, 0, NULL) == 0);
    /* four samples: still the defaults */
    for (int i = 0; i < 4; i++) {
        struct qts_impact_sample s = {
            .slip_bps = 1 + 3.0, .spread_bps = 2, .qty = 1 + i, .volume = 100};
        assert_int_equal(qts_impact_add(m, "X", &s), 0);
    }
    qts_impact_predict_impact(m, "X", 5.0, 10, 100, &def);
    assert_true(def);
    struct qts_impact_sample s = {.slip_bps = 4, .spread_bps = 2, .qty = 5, .volume = 100};
    qts_impact_add(m, "X", &s);
    qts_impact_predict_impact(m, "X", 5.0, 10, 100, &def);
    assert_false(def);
    /* a constant impact of 3 bps whatever the size: beta -> 0, k -> 3 */
    const struct qts_impact_fit *f = qts_impact_get(m, "X");
    assert_true(fabs(f->k - 3) < 1e-9 && fabs(f->beta) < 1e-9);
    struct qts_impact_sample bad = {.slip_bps = 1, .spread_bps = 1, .qty = 0, .volume = 1};
    assert_int_equal(qts_impact_add(m, "X", &bad), QTS_EINVAL);
    qts_impact_free(m);
}

/* deterministic noise in [-1, 1] */
static double noise(uint64_t *s)
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(*s >> 11) / (double)(1ULL << 53) * 2 - 1;
}

static void test_fit_recovers_known_law(void **state)
{
    (void)state;
    const double k = 25.0, beta = 0.6;
    struct qts_impact_model *m = qts_impact_new(NULL);
    uint64_t seed = 42;
    for (int i = 0; i < 400; i++) {
        double part = exp(-6 + 5 * (noise(&seed) + 1) / 2); /* 0.25 % .. 37 % */
        double spread = 1 + (noise(&seed) + 1);
        double imp = k * pow(part, beta) * exp(0.1 * noise(&seed)); /* +-10 % noise */
        struct qts_impact_sample s = {
            .slip_bps = spread / 2 + imp, .spread_bps = spread, .qty = part * 1000, .volume = 1000};
        assert_int_equal(qts_impact_add(m, "BTC", &s), 0);
    }
    const struct qts_impact_fit *f = qts_impact_get(m, "BTC");
    assert_non_null(f);
    assert_true(f->fitted);
    assert_true(fabs(f->k / k - 1) < 0.03);
    assert_true(fabs(f->beta - beta) < 0.02);
    assert_true(f->resid_sd < 0.1);
    double p = qts_impact_predict_slippage(m, "BTC", 2.0, 10, 1000, NULL);
    assert_true(fabs(p - (1.0 + k * pow(0.01, beta))) < 0.05 * k * pow(0.01, beta));
    /* another symbol is independent */
    bool def;
    qts_impact_predict_impact(m, "ETH", 2, 1, 10, &def);
    assert_true(def);
    qts_impact_free(m);
}

static void test_forgetting_tracks_a_change(void **state)
{
    (void)state;
    struct qts_impact_params p;
    qts_impact_params_default(&p);
    p.forget = 0.9;
    struct qts_impact_model *m = qts_impact_new(&p);
    for (int i = 0; i < 200; i++) {
        double part = 0.01 * (1 + i % 10);
        struct qts_impact_sample s = {
            .slip_bps = 10 * sqrt(part), .spread_bps = 0, .qty = part, .volume = 1};
        qts_impact_add(m, "X", &s);
    }
    for (int i = 0; i < 200; i++) { /* the law doubles */
        double part = 0.01 * (1 + i % 10);
        struct qts_impact_sample s = {
            .slip_bps = 20 * sqrt(part), .spread_bps = 0, .qty = part, .volume = 1};
        qts_impact_add(m, "X", &s);
    }
    const struct qts_impact_fit *f = qts_impact_get(m, "X");
    assert_true(fabs(f->k - 20) < 0.01);
    assert_true(fabs(f->beta - 0.5) < 0.001);
    qts_impact_free(m);
}

static void test_fill_probability(void **state)
{
    (void)state;
    assert_int_equal(qts_fp_bucket(0), 0);
    assert_int_equal(qts_fp_bucket(1), 1);
    assert_int_equal(qts_fp_bucket(2), 2);
    assert_int_equal(qts_fp_bucket(4), 3);
    assert_int_equal(qts_fp_bucket(7), 4);
    assert_int_equal(qts_fp_bucket(30), 5);
    struct qts_impact_model *m = qts_impact_new(NULL);
    /* prior: 0.6 at the touch within 60 s, 0.3 within 1 s */
    assert_true(fabs(qts_impact_fill_prob(m, "X", 0, 60) - 0.6) < 1e-12);
    assert_true(fabs(qts_impact_fill_prob(m, "X", 0, 1) - 0.3) < 1e-12);
    assert_true(fabs(qts_impact_fill_prob(m, "X", 1, 60) - 0.3) < 1e-12);
    assert_true(qts_impact_fill_prob(m, "X", 0, 0) == 0);
    /* 98 orders at the touch: all filled after 5 s */
    for (int i = 0; i < 98; i++)
        qts_impact_add_passive(m, "X", 0, 5.0, 5.0);
    /* 1 s: 0 of 98 observed, prior weight 2 at 0.3 -> 0.6/100 */
    assert_true(fabs(qts_impact_fill_prob(m, "X", 0, 1) - 0.006) < 1e-12);
    /* 10 s: 98 of 98 -> (98 + 2*0.48)/100 */
    assert_true(fabs(qts_impact_fill_prob(m, "X", 0, 10) - 0.9896) < 1e-12);
    /* 60 s is at least the 10 s value (monotone) */
    assert_true(qts_impact_fill_prob(m, "X", 0, 60) >= 0.9896);
    /* log-time interpolation between 1 s and 10 s: sqrt(10) s is the middle */
    double mid = qts_impact_fill_prob(m, "X", 0, sqrt(10.0));
    assert_true(fabs(mid - (0.006 + 0.9896) / 2) < 1e-12);
    /* cancelled after 2 s without a fill: censored for 10 s and 60 s */
    qts_impact_add_passive(m, "X", 20, -1, 2.0);
    const struct qts_impact_fit *f = qts_impact_get(m, "X");
    assert_true(f->fp_n[5][0] == 1 && f->fp_n[5][1] == 0 && f->fp_n[5][2] == 0);
    qts_impact_free(m);
}

static void test_save_load_roundtrip(void **state)
{
    (void)state;
    char *dir = qts_test_tmpdir();
    char path[1024];
    snprintf(path, sizeof path, "%s/model.txt", dir);
    struct qts_impact_model *m = qts_impact_new(NULL);
    for (int i = 0; i < 20; i++) {
        double part = 0.001 * (i + 1);
        struct qts_impact_sample s = {
            .slip_bps = 1 + 7 * pow(part, 0.7), .spread_bps = 2, .qty = part * 50, .volume = 50};
        qts_impact_add(m, "BTCUSDT", &s);
        qts_impact_add_passive(m, "BTCUSDT", i % 4, i % 3 ? 2.5 : -1, 30);
    }
    struct qts_impact_sample s = {.slip_bps = 3, .spread_bps = 1, .qty = 1, .volume = 9};
    qts_impact_add(m, "ETHUSDT", &s);
    struct qts_err err;
    qts_err_clear(&err);
    assert_int_equal(qts_impact_save(m, path, NULL, &err), 0);
    struct qts_impact_model *b = qts_impact_new(NULL);
    assert_int_equal(qts_impact_load(b, path, &err), 0);
    assert_int_equal(qts_impact_count(b), 2);
    const struct qts_impact_fit *x = qts_impact_get(m, "BTCUSDT"),
                                *y = qts_impact_get(b, "BTCUSDT");
    assert_non_null(y);
    assert_true(y->fitted);
    assert_true(x->k == y->k && x->beta == y->beta && x->n == y->n);
    assert_true(fabs(y->k - 7) < 1e-6 && fabs(y->beta - 0.7) < 1e-6);
    assert_memory_equal(x->fp_n, y->fp_n, sizeof x->fp_n);
    assert_memory_equal(x->fp_k, y->fp_k, sizeof x->fp_k);
    assert_false(qts_impact_get(b, "ETHUSDT")->fitted);
    /* predictions agree after the restart */
    assert_true(qts_impact_predict_slippage(m, "BTCUSDT", 2, 3, 100, NULL) ==
                qts_impact_predict_slippage(b, "BTCUSDT", 2, 3, 100, NULL));
    assert_true(qts_impact_fill_prob(m, "BTCUSDT", 1, 5) ==
                qts_impact_fill_prob(b, "BTCUSDT", 1, 5));
    /* missing and malformed files */
    snprintf(path, sizeof path, "%s/none.txt", dir);
    assert_int_equal(qts_impact_load(b, path, &err), QTS_ENOENT);
    snprintf(path, sizeof path, "%s/bad.txt", dir);
    assert_int_equal(qts_test_write_file(path, "# qts impact model v1\nBTC n=x k=1\n"), 0);
    assert_int_equal(qts_impact_load(b, path, &err), QTS_EPARSE);
    assert_int_equal(qts_impact_count(b), 2); /* a failed load keeps the model */
    qts_impact_free(m);
    qts_impact_free(b);
    qts_test_rmtree(dir);
    free(dir);
}

/* The store's record of a key (impact_models) gives back the same fit:
 * sums, fill counts, parameters and predictions; malformed fill counts
 * are refused and leave the model as it was. */
static void test_store_record_roundtrip(void **state)
{
    (void)state;
    struct qts_impact_model *m = qts_impact_new(NULL);
    for (int i = 0; i < 12; i++) {
        double part = 0.002 * (i + 1);
        struct qts_impact_sample s = {
            .slip_bps = 1 + 9 * pow(part, 0.6), .spread_bps = 2, .qty = part * 40, .volume = 40};
        qts_impact_add(m, "BTCUSDT/buy/direct", &s);
        qts_impact_add_passive(m, "BTCUSDT/buy/direct", i % 6, i % 2 ? 0.5 : -1, 70);
    }
    const struct qts_impact_fit *x = qts_impact_get(m, "BTCUSDT/buy/direct");
    struct qts_store_impact_model r;
    qts_impact_to_record(x, &r);
    assert_int_equal(r.h.kind, QTS_REC_IMPACT_MODEL);
    assert_string_equal(r.model_key, "BTCUSDT/buy/direct");
    assert_true(r.confidence == x->confidence && r.confidence > 0 && r.confidence < 1);
    assert_true(fabs(r.k - 9) < 1e-6 && fabs(r.beta - 0.6) < 1e-6);
    struct qts_impact_model *b = qts_impact_new(NULL);
    assert_int_equal(qts_impact_put_record(b, &r), 0);
    const struct qts_impact_fit *y = qts_impact_get(b, "BTCUSDT/buy/direct");
    assert_non_null(y);
    assert_true(y->fitted && y->k == x->k && y->beta == x->beta && y->n == x->n);
    assert_true(y->confidence == x->confidence);
    assert_memory_equal(x->fp_n, y->fp_n, sizeof x->fp_n);
    assert_memory_equal(x->fp_k, y->fp_k, sizeof x->fp_k);
    /* an unfitted key: no parameters (NULL in the table) */
    struct qts_impact_sample one = {.slip_bps = 3, .spread_bps = 1, .qty = 1, .volume = 9};
    qts_impact_add(m, "ETHUSDT", &one);
    qts_impact_to_record(qts_impact_get(m, "ETHUSDT"), &r);
    assert_true(isnan(r.k) && isnan(r.confidence) && r.n == 1);
    /* malformed fill counts */
    qts_strlcpy(r.fill_counts, "1/2,garbage", sizeof r.fill_counts);
    assert_int_equal(qts_impact_put_record(b, &r), QTS_EPARSE);
    assert_int_equal(qts_impact_count(b), 1);
    /* merge refits with the target's min_samples */
    struct qts_impact_params p;
    qts_impact_params_default(&p);
    p.min_samples = 50;
    struct qts_impact_model *c = qts_impact_new(&p);
    qts_impact_merge(c, b);
    assert_false(qts_impact_get(c, "BTCUSDT/buy/direct")->fitted);
    qts_impact_free(m);
    qts_impact_free(b);
    qts_impact_free(c);
}

/* Weighted samples: a sample of weight w counts as w samples (n = sum of
 * weights); a half-weight outlier pulls the fit half as hard. */
static void test_weighted_samples(void **state)
{
    (void)state;
    struct qts_impact_model *m = qts_impact_new(NULL);
    for (int i = 0; i < 8; i++) {
        double part = 0.01 * (i + 1);
        struct qts_impact_sample s = {.slip_bps = 1 + 20 * pow(part, 0.5),
                                      .spread_bps = 2,
                                      .qty = part * 100,
                                      .volume = 100,
                                      .weight = 0.5};
        assert_int_equal(qts_impact_add(m, "W", &s), 0);
    }
    const struct qts_impact_fit *f = qts_impact_get(m, "W");
    assert_true(fabs(f->n - 4.0) < 1e-12); /* 8 samples of weight 0.5 */
    assert_false(f->fitted);               /* min_samples (5) counts weight: 4 < 5 */
    qts_impact_free(m);
}

/* A prediction takes the symbol/side/algo fit, else the symbol's, else the
 * defaults; the confidence grows with the samples. */
static void test_key_fallback_and_confidence(void **state)
{
    (void)state;
    struct qts_impact_model *m = qts_impact_new(NULL);
    char key[QTS_IMPACT_KEY_MAX];
    qts_impact_key(key, sizeof key, "BTC", QTS_SIDE_BUY, QTS_ALGO_TWAP);
    assert_string_equal(key, "BTC/buy/twap");
    enum qts_impact_src src;
    double conf;
    double imp =
        qts_impact_predict_for(m, "BTC", QTS_SIDE_BUY, QTS_ALGO_TWAP, 2, 10, 1000, &src, &conf);
    assert_int_equal(src, QTS_IMPACT_SRC_DEFAULT);
    assert_true(fabs(imp - 10 * 2 * sqrt(0.01)) < 1e-9);
    assert_true(conf == 0);
    for (int i = 0; i < 10; i++) { /* symbol law k = 30, beta = 0.5 */
        double part = 0.01 * (i + 1);
        struct qts_impact_sample s = {
            .slip_bps = 1 + 30 * sqrt(part), .spread_bps = 2, .qty = part * 1000, .volume = 1000};
        qts_impact_add(m, "BTC", &s);
    }
    imp = qts_impact_predict_for(m, "BTC", QTS_SIDE_BUY, QTS_ALGO_TWAP, 2, 10, 1000, &src, &conf);
    assert_int_equal(src, QTS_IMPACT_SRC_SYMBOL);
    assert_true(fabs(imp - 3.0) < 1e-6);
    double conf10 = conf;
    assert_true(conf10 > 0.6 && conf10 < 1); /* 10/15, residual ~0 */
    for (int i = 0; i < 10; i++) {           /* the twap key: k = 10 */
        double part = 0.01 * (i + 1);
        struct qts_impact_sample s = {
            .slip_bps = 1 + 10 * sqrt(part), .spread_bps = 2, .qty = part * 1000, .volume = 1000};
        qts_impact_add(m, key, &s);
    }
    imp = qts_impact_predict_for(m, "BTC", QTS_SIDE_BUY, QTS_ALGO_TWAP, 2, 10, 1000, &src, &conf);
    assert_int_equal(src, QTS_IMPACT_SRC_KEY);
    assert_true(fabs(imp - 1.0) < 1e-6);
    /* the sell side has no key of its own: the symbol's law */
    imp = qts_impact_predict_for(m, "BTC", QTS_SIDE_SELL, QTS_ALGO_TWAP, 2, 10, 1000, &src, NULL);
    assert_int_equal(src, QTS_IMPACT_SRC_SYMBOL);
    qts_impact_free(m);
}

QTS_TEST_MAIN(test_defaults_until_five_samples, test_fit_recovers_known_law,
              test_forgetting_tracks_a_change, test_fill_probability, test_save_load_roundtrip,
              test_store_record_roundtrip, test_weighted_samples, test_key_fallback_and_confidence)
