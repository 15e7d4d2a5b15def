/* exec_pipeline_fixture.h — what the two micro-pipeline test programs
 * (test_exec_pipeline, test_exec_escape_algo) share on top of
 * exec_fixture.h: a fresh fixture per test, short order words, and the
 * client order id the scripted broker saw. */
#ifndef QTS_EXEC_PIPELINE_FIXTURE_H
#define QTS_EXEC_PIPELINE_FIXTURE_H

#include "exec_fixture.h"

#define BUY QTS_SIDE_BUY
#define SELL QTS_SIDE_SELL
#define LMT QTS_ORD_LIMIT
#define MKT QTS_ORD_MARKET

/* cmocka set-up: *state is a new fixture (owned by the test until
 * teardown frees it). */
static inline int setup(void **state)
{
    *state = fx_new();
    return 0;
}

static inline int teardown(void **state)
{
    fx_free(*state);
    return 0;
}

/* The client order id of the nth submit the broker saw (borrowed from f). */
static inline const char *clordid_of_submit(struct fx *f, int nth)
{
    int i = fx_call(f, 's', nth);
    assert_true(i >= 0);
    return f->calls[i].clordid;
}

/* A test with its own fixture. */
#define FX_TEST(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

#endif
