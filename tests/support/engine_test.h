/* engine_test.h — for tests that run the whole host end to end (replay
 * configurations): load a configuration and run the engine to the end.
 * Header-only, so a test binary that does not include it links no engine. */
#ifndef QTS_ENGINE_TEST_H
#define QTS_ENGINE_TEST_H

#include "test_support.h"

#include <stdio.h>

#include "config.h"
#include "engine.h"

/* Load `cfg_path` (borrowed; diagnostics go to stderr) and run it to the end
 * into `run_dir`; asserts that loading, creating and running succeed and
 * fills *st. Returns the finished engine, owned: qts_engine_free() it, then
 * qts_config_unref() *cfg_out (owned too). */
static inline struct qts_engine *qts_test_engine_run(const char *cfg_path, const char *run_dir,
                                                     struct qts_engine_stats *st,
                                                     struct qts_config **cfg_out)
{
    struct qts_config *cfg = NULL;
    struct qts_diags d;
    qts_diags_init(&d);
    int rc = qts_config_load(cfg_path, &cfg, &d);
    for (size_t i = 0; i < d.n; i++) {
        char line[600];
        qts_diag_format(&d.v[i], line, sizeof line);
        fprintf(stderr, "%s\n", line);
    }
    qts_diags_cleanup(&d);
    assert_int_equal(rc, 0);
    struct qts_engine_opts opts = {.run_dir = run_dir};
    struct qts_engine *e = NULL;
    struct qts_err err;
    qts_err_clear(&err);
    rc = qts_engine_new(cfg, &opts, &e, &err);
    if (rc != 0)
        fprintf(stderr, "engine: %s\n", err.msg);
    assert_int_equal(rc, 0);
    rc = qts_engine_run(e, &err);
    if (rc != 0)
        fprintf(stderr, "run: %s\n", err.msg);
    assert_int_equal(rc, 0);
    qts_engine_get_stats(e, st);
    *cfg_out = cfg;
    return e;
}

#endif
