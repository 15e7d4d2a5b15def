/* test_cache_redis_cfg.c — cache_redis configuration errors, no server
 * needed: TLS is refused clearly (hiredis 0.14 has no TLS), bad URLs, a
 * user without a password; and a start with nothing listening never blocks
 * and reports the cache as not up. */
#include "test_support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache_test_host.h"

static int load_with(const char *k1, const char *v1, const char *k2, const char *v2,
                     struct qts_err *err)
{
    struct qts_th th;
    struct qts_th_inst in;
    qts_th_init(&th);
    th.quiet = true;
    int rc = qts_th_load(&th, &in, NULL, "cache_redis", err);
    assert_int_equal(rc, 0);
    if (k1)
        qts_th_cfg(&in, k1, v1);
    if (k2)
        qts_th_cfg(&in, k2, v2);
    rc = qts_th_start(&in, err);
    if (rc < 0)
        in.self = NULL; /* init failed: nothing to destroy */
    qts_th_unload(&in);
    qts_th_cleanup(&th);
    return rc;
}

static void test_tls_refused(void **state)
{
    (void)state;
    struct qts_err err;
    assert_int_equal(load_with("tls", "true", NULL, NULL, &err), QTS_EUNSUPPORTED);
    assert_non_null(strstr(err.msg, "hiredis >= 1.0"));
    assert_int_equal(load_with("url", "rediss://h:6380", NULL, NULL, &err), QTS_EUNSUPPORTED);
    assert_non_null(strstr(err.msg, "TLS"));
}

static void test_bad_config(void **state)
{
    (void)state;
    struct qts_err err;
    assert_int_equal(load_with("url", "http://x", NULL, NULL, &err), QTS_ECONFIG);
    assert_int_equal(load_with("url", "redis://h:99999", NULL, NULL, &err), QTS_ECONFIG);
    assert_int_equal(load_with("user", "alice", "password_secret", "QTS_TEST_NO_SUCH_SECRET",
                               &err), QTS_ECONFIG);
    assert_non_null(strstr(err.msg, "without a password"));
    assert_int_equal(load_with("prefix", "x:", "shared_prefix", "x:", &err), QTS_ECONFIG);
    assert_int_equal(load_with("breaker_failures", "0", NULL, NULL, &err), QTS_ECONFIG);
}

static void test_nothing_listening_never_blocks(void **state)
{
    (void)state;
    struct qts_th th;
    struct qts_th_inst in;
    qts_th_init(&th);
    th.quiet = true;
    struct qts_err err;
    assert_int_equal(qts_th_load(&th, &in, NULL, "cache_redis", &err), 0);
    qts_th_cfg(&in, "url", "redis://127.0.0.1:1"); /* nothing listens on port 1 */
    qts_th_cfg(&in, "reconnect_min_ms", "5");
    qts_th_cfg(&in, "breaker_failures", "2");
    assert_int_equal(qts_th_start(&in, &err), 0);
    struct qts_str k = {"k", 1}, v = {"v", 1};
    assert_int_equal(in.ops->set(in.self, k, v, 100), QTS_ENET);
    qts_th_run_ms(&th, 100);
    struct qts_cache_health h = {.struct_size = sizeof h};
    assert_int_equal(in.ops->health(in.self, &h), 0);
    assert_int_equal(h.state, QTS_CACHE_OPEN);
    assert_true(h.failures >= 2);
    assert_int_equal(h.breaker_opens, 1);
    assert_int_equal(h.writes_dropped, 1);
    assert_int_equal(th.log_count[QTS_LOG_WARN], 1); /* logged once */
    qts_th_unload(&in);
    qts_th_cleanup(&th);
}

int main(void)
{
    unsetenv("QTS_REDIS_URL");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tls_refused),
        cmocka_unit_test(test_bad_config),
        cmocka_unit_test(test_nothing_listening_never_blocks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
