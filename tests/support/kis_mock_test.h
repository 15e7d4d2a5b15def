/* kis_mock_test.h — the KIS mock server (tests/fixtures/kis_mock.py) as a
 * child process of the broker_kis tests. Header-only (static inline). */
#ifndef QTS_KIS_MOCK_TEST_H
#define QTS_KIS_MOCK_TEST_H

#include "test_support.h"

#include <signal.h>
#include <stdio.h>

/* Starts the mock with `args` (borrowed command-line options) and reads
 * the REST port, WebSocket port and pid it prints. Owned pipe: close it
 * with kis_mock_stop. */
static inline FILE *kis_mock_start(const char *args, int *rest_port, int *ws_port, int *pid)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "exec python3 %s %s",
             qts_test_src_path("tests/fixtures/kis_mock.py"), args);
    FILE *mock = popen(cmd, "r");
    assert_non_null(mock);
    assert_int_equal(fscanf(mock, "%d %d %d", rest_port, ws_port, pid), 3);
    return mock;
}

/* Stops the mock started by kis_mock_start (either may be NULL / 0: no-op)
 * and clears both. */
static inline void kis_mock_stop(FILE **mock, int *pid)
{
    if (*pid > 0)
        kill(*pid, SIGTERM);
    if (*mock)
        pclose(*mock);
    *mock = NULL;
    *pid = 0;
}

#endif
