/* manager_test.h — for the tests that load the test plugins (built into
 * QTS_FIXTURE_DIR), most through the host's plugin manager on their own
 * libuv loop. Header-only. */
#ifndef QTS_MANAGER_TEST_H
#define QTS_MANAGER_TEST_H

#include "test_support.h"

#include <stdio.h>
#include <uv.h>

#include "config_node.h"
#include "metrics.h"
#include "plugin_manager.h"

/* "<fixture dir>/<name>.so" of a test plugin built for the abi tests, in a
 * static rotating buffer (4 slots). */
static inline const char *qts_test_fixture_so(const char *name)
{
    static char buf[4][1024];
    static int k;
    char *b = buf[k++ % 4];
    snprintf(b, sizeof buf[0], "%s/%s.so", QTS_FIXTURE_DIR, name);
    return b;
}

/* The end of such a test, once `m` is closed (and anything else that must
 * go before the loop runs down): runs `loop` until every handle is closed
 * (asserts it ends), frees m, closes the loop (asserts nothing is left on
 * it), then frees `metrics` and `cfg`. All four are owned and consumed. */
static inline void qts_test_manager_end(struct qts_plugin_manager *m, uv_loop_t *loop,
                                        struct qts_metrics *metrics, struct qts_cfg_node *cfg)
{
    assert_int_equal(uv_run(loop, UV_RUN_DEFAULT), 0);
    qts_plugin_manager_free(m);
    assert_int_equal(uv_loop_close(loop), 0);
    qts_metrics_free(metrics);
    qts__cfg_node_free(cfg);
}

#endif
