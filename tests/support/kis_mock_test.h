/* kis_mock_test.h — the KIS mock server (tests/fixtures/kis_mock.py) as a
 * child process of the broker_kis tests. Header-only (static inline). */
#ifndef QTS_KIS_MOCK_TEST_H
#define QTS_KIS_MOCK_TEST_H

#include "test_support.h"

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Whether the mock can run here (python3 and openssl present; says
 * "skipped" when not). When it can, sets the account secrets the mock
 * accepts and clears the proxy variables (the mock is on loopback). */
static inline bool kis_mock_usable(void)
{
    if (system("command -v openssl >/dev/null 2>&1 && command -v python3 >/dev/null 2>&1") != 0) {
        fprintf(stderr, "skipped: python3 or openssl absent (the KIS mock needs both)\n");
        return false;
    }
    setenv("QTS_SECRET_KIS_APP_KEY", "PSmockappkey0000000000000000000000000", 1);
    setenv("QTS_SECRET_KIS_APP_SECRET", "mocksecret", 1);
    setenv("QTS_SECRET_KIS_ACCOUNT", "50000000-01", 1);
    setenv("QTS_SECRET_KIS_HTS_ID", "mockuser", 1);
    static const char *const proxies[] = {"http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"};
    for (size_t i = 0; i < sizeof proxies / sizeof proxies[0]; i++)
        unsetenv(proxies[i]);
    return true;
}

/* Starts the mock for environment `env` ("vts", "prod"), keeping its state
 * under `state_dir`, with fast tokens, rate limits, ticks and pings, and
 * then `args` (borrowed command-line options, "" for none); reads the REST
 * port, WebSocket port and pid it prints. Owned pipe: close it with
 * kis_mock_stop. */
static inline FILE *kis_mock_start(const char *env, const char *state_dir, const char *args,
                                   int *rest_port, int *ws_port, int *pid)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd,
             "exec python3 %s --env %s --token-interval 1 --rate 20 --tick 0.1 --ping 0.3 "
             "--state-dir %s %s",
             qts_test_src_path("tests/fixtures/kis_mock.py"), env, state_dir, args);
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

/* The mock's stats.json under `state_dir` (borrowed) as text; owned (free),
 * "" when it cannot be read. */
static inline char *kis_mock_stats(const char *state_dir)
{
    char path[1100];
    snprintf(path, sizeof path, "%s/stats.json", state_dir);
    FILE *f = fopen(path, "r");
    char *buf = malloc(65536);
    assert_non_null(buf);
    size_t n = f ? fread(buf, 1, 65535, f) : 0;
    if (f)
        fclose(f);
    buf[n] = '\0';
    return buf;
}

/* The number after "key": in the mock's stats.json under `state_dir`; -1
 * when it is not there. */
static inline long kis_mock_stat(const char *state_dir, const char *key)
{
    char *buf = kis_mock_stats(state_dir), pat[80];
    snprintf(pat, sizeof pat, "\"%s\": ", key);
    const char *p = strstr(buf, pat);
    long v = p ? strtol(p + strlen(pat), NULL, 10) : -1;
    free(buf);
    return v;
}

/* POST `json` (borrowed; no single quotes) to `path` of the mock's REST
 * port: its test hooks. Asserts it was accepted. */
static inline void kis_mock_post(int rest_port, const char *path, const char *json)
{
    char cmd[1200];
    snprintf(cmd, sizeof cmd,
             "python3 -c \"import urllib.request as u; u.urlopen(u.Request("
             "'http://127.0.0.1:%d%s', data=b'%s', method='POST')).read()\"",
             rest_port, path, json);
    assert_int_equal(system(cmd), 0);
}

#endif
