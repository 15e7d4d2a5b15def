/* test_risk_budget.c — the cross-host budget over the real cache_memory
 * plugin: leases, refusals at the limit, two hosts on one counter, and
 * both failure policies when the counter is unreachable. */
#include "test_support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache_test_host.h"
#include "risk_budget.h"
#include "util.h"

struct fx {
    struct qts_th_pair cache;  /* first: qts_th_pair_teardown frees the fixture */
    struct qts_cache_ops wrap; /* budget op the test can cut off */
    bool is_down;
};

static struct fx *g_fx;

static int wrap_budget(void *self, struct qts_str key, int64_t delta, int64_t limit, int64_t ttl_ms,
                       qts_cache_budget_fn cb, void *arg)
{
    if (g_fx->is_down)
        return QTS_ENET;
    return g_fx->cache.in.ops->budget(self, key, delta, limit, ttl_ms, cb, arg);
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    g_fx = f;
    qts_th_init(&f->cache.th);
    if (qts_th_open(&f->cache.th, &f->cache.in, "cache_memory", NULL) < 0)
        return -1;
    f->wrap = *f->cache.in.ops;
    f->wrap.budget = wrap_budget;
    *state = f;
    return 0;
}

struct bud {
    int status;
    int64_t used;
};

static void on_budget(void *arg, int status, int64_t used)
{
    struct bud *b = arg;
    b->status = status;
    b->used = used;
}

static int64_t counter(struct fx *f, const char *key)
{
    struct bud b = {-1, -1};
    f->cache.in.ops->budget(f->cache.in.self, (struct qts_str){key, strlen(key)}, 0, INT64_MAX, 0,
                            on_budget, &b);
    return b.used;
}

static void test_lease_consume_and_limit(void **state)
{
    struct fx *f = *state;
    struct qts_risk_budget_cfg cfg = {.key = "acct", .limit = 1000, .chunk = 100};
    struct qts_risk_budget *b;
    assert_int_equal(qts_risk_budget_new(&f->wrap, f->cache.in.self, &cfg, &b, NULL), 0);
    struct qts_risk_budget_stats st;
    qts_risk_budget_stats(b, &st);
    assert_int_equal(st.leased, 100); /* the first chunk is taken at once */
    struct qts_err err;
    int granted = 0;
    for (int i = 0; i < 200; i++)
        if (qts_risk_budget_consume(b, 30, &err) == 0)
            granted++;
    /* 1000 / 30 = 33 orders fit; a refused check tops up for the next */
    assert_int_equal(granted, 33);
    qts_risk_budget_stats(b, &st);
    assert_int_equal(st.used, 990);
    assert_true(st.leased <= 1000);
    assert_int_equal(counter(f, "acct"), st.leased);
    assert_int_equal(qts_risk_budget_consume(b, 30, &err), QTS_ERISK);
    assert_non_null(strstr(err.msg, "cross-host budget"));
    /* exposure closed: given back, and the spare part released */
    qts_risk_budget_return(b, 900);
    qts_risk_budget_stats(b, &st);
    assert_int_equal(st.used, 90);
    assert_true(st.leased <= 90 + 2 * 100);
    assert_int_equal(counter(f, "acct"), st.leased);
    qts_risk_budget_free(b);
    assert_int_equal(counter(f, "acct"), 90); /* the unused lease went back */
}

static void test_two_hosts_never_exceed(void **state)
{
    struct fx *f = *state;
    struct qts_risk_budget_cfg cfg = {.key = "shared", .limit = 10000, .chunk = 700};
    struct qts_risk_budget *a, *b;
    assert_int_equal(qts_risk_budget_new(&f->wrap, f->cache.in.self, &cfg, &a, NULL), 0);
    assert_int_equal(qts_risk_budget_new(&f->wrap, f->cache.in.self, &cfg, &b, NULL), 0);
    srand(7);
    int64_t used_a = 0, used_b = 0;
    for (int i = 0; i < 5000; i++) {
        struct qts_risk_budget *x = (rand() & 1) ? a : b;
        int64_t *u = x == a ? &used_a : &used_b;
        int64_t amt = 1 + rand() % 120;
        if (rand() % 3 == 0 && *u > 0) {
            int64_t back = QTS_MIN(*u, amt);
            qts_risk_budget_return(x, back);
            *u -= back;
        } else if (qts_risk_budget_consume(x, amt, NULL) == 0) {
            *u += amt;
        }
        assert_true(used_a + used_b <= 10000);
        struct qts_risk_budget_stats sa, sb;
        qts_risk_budget_stats(a, &sa);
        qts_risk_budget_stats(b, &sb);
        assert_true(sa.leased + sb.leased <= 10000);
        assert_int_equal(counter(f, "shared"), sa.leased + sb.leased);
    }
    qts_risk_budget_free(a);
    qts_risk_budget_free(b);
}

static void test_unreachable_refuse(void **state)
{
    struct fx *f = *state;
    struct qts_risk_budget_cfg cfg = {
        .key = "r", .limit = 1000, .chunk = 100, .policy = QTS_BUDGET_REFUSE};
    struct qts_risk_budget *b;
    assert_int_equal(qts_risk_budget_new(&f->wrap, f->cache.in.self, &cfg, &b, NULL), 0);
    f->is_down = true;
    struct qts_err err;
    /* what is already leased stays usable: it is reserved in the counter */
    assert_int_equal(qts_risk_budget_consume(b, 60, &err), 0);
    assert_int_equal(qts_risk_budget_consume(b, 60, &err), QTS_ERISK);
    assert_non_null(strstr(err.msg, "refusing new risk"));
    struct qts_risk_budget_stats st;
    qts_risk_budget_stats(b, &st);
    assert_false(st.is_reachable);
    f->is_down = false;
    assert_int_equal(qts_risk_budget_consume(b, 60, &err), QTS_ERISK); /* triggers a top-up */
    assert_int_equal(qts_risk_budget_consume(b, 60, &err), 0);
    qts_risk_budget_stats(b, &st);
    assert_true(st.is_reachable);
    qts_risk_budget_free(b);
}

static void test_unreachable_local_share(void **state)
{
    struct fx *f = *state;
    struct qts_risk_budget_cfg cfg = {.key = "l",
                                      .limit = 1000,
                                      .chunk = 100,
                                      .policy = QTS_BUDGET_LOCAL_SHARE,
                                      .local_share = 0.4};
    struct qts_risk_budget *b;
    assert_int_equal(qts_risk_budget_new(&f->wrap, f->cache.in.self, &cfg, &b, NULL), 0);
    f->is_down = true;
    int granted = 0;
    for (int i = 0; i < 20; i++)
        if (qts_risk_budget_consume(b, 50, NULL) == 0)
            granted++;
    assert_int_equal(granted, 8); /* 0.4 x 1000 = 400 = 8 x 50 */
    f->is_down = false;
    /* back: the first check reserves what was used beyond the lease */
    assert_int_equal(qts_risk_budget_consume(b, 50, NULL), QTS_ERISK);
    struct qts_risk_budget_stats st;
    qts_risk_budget_stats(b, &st);
    assert_true(st.is_reachable);
    assert_true(st.leased >= 450);
    assert_int_equal(counter(f, "l"), st.leased);
    assert_int_equal(qts_risk_budget_consume(b, 50, NULL), 0);
    qts_risk_budget_free(b);
}

QTS_TEST_MAIN_FIXTURE(setup, qts_th_pair_teardown, test_lease_consume_and_limit,
                      test_two_hosts_never_exceed, test_unreachable_refuse,
                      test_unreachable_local_share)
