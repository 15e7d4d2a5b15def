/* engine_test.h — for tests that run the whole host end to end (replay
 * configurations): load a configuration and run the engine to the end.
 * Header-only, so a test binary that does not include it links no engine. */
#ifndef QTS_ENGINE_TEST_H
#define QTS_ENGINE_TEST_H

#include "test_support.h"

#include <stdio.h>

#include "config.h"
#include "engine.h"

/* Load `cfg_path` (borrowed; diagnostics go to stderr; asserts it loads)
 * and create an engine writing into `run_dir` (borrowed). Returns
 * qts_engine_new's code (its message in *err, also printed); *cfg_out and
 * *e_out are owned: qts_engine_free() the engine, then qts_config_unref()
 * the configuration. */
static inline int qts_test_engine_new(const char *cfg_path, const char *run_dir,
                                      struct qts_config **cfg_out, struct qts_engine **e_out,
                                      struct qts_err *err)
{
    assert_int_equal(qts_test_config_load(cfg_path, NULL, cfg_out, NULL), 0);
    struct qts_engine_opts opts = {.run_dir = run_dir};
    *e_out = NULL;
    qts_err_clear(err);
    int rc = qts_engine_new(*cfg_out, &opts, e_out, err);
    if (rc != 0)
        fprintf(stderr, "engine: %s\n", err->msg);
    return rc;
}

/* Load `cfg_path` (borrowed; diagnostics go to stderr) and run it to the end
 * into `run_dir`; asserts that loading, creating and running succeed and
 * fills *st. Returns the finished engine, owned: qts_engine_free() it, then
 * qts_config_unref() *cfg_out (owned too). */
static inline struct qts_engine *qts_test_engine_run(const char *cfg_path, const char *run_dir,
                                                     struct qts_engine_stats *st,
                                                     struct qts_config **cfg_out)
{
    struct qts_engine *e = NULL;
    struct qts_err err;
    assert_int_equal(qts_test_engine_new(cfg_path, run_dir, cfg_out, &e, &err), 0);
    int rc = qts_engine_run(e, &err);
    if (rc != 0)
        fprintf(stderr, "run: %s\n", err.msg);
    assert_int_equal(rc, 0);
    qts_engine_get_stats(e, st);
    return e;
}

#endif
