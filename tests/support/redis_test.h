/* redis_test.h — synchronous hiredis helpers for the tests that look at a
 * real redis-server behind the plugin's back. Header-only (static inline):
 * only the binaries that link hiredis include it. */
#ifndef QTS_REDIS_TEST_H
#define QTS_REDIS_TEST_H

#include "test_support.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <unistd.h>

/* `port` as text, in a static rotating buffer (8 slots): for command lines
 * and configuration values. */
static inline const char *redis_port_str(int port)
{
    static char b[8][16];
    static int k;
    char *s = b[k++ % 8];
    snprintf(s, sizeof b[0], "%d", port);
    return s;
}

/* Connected to 127.0.0.1:port (AUTH with `password` unless NULL); asserts
 * it works. Owned: redisFree. */
static inline redisContext *redis_connect(int port, const char *password)
{
    struct timeval tv = {2, 0};
    redisContext *c = redisConnectWithTimeout("127.0.0.1", port, tv);
    assert_non_null(c);
    assert_int_equal(c->err, 0);
    if (password) {
        redisReply *r = redisCommand(c, "AUTH %s", password);
        assert_non_null(r);
        freeReplyObject(r);
    }
    return c;
}

/* An integer reply of `fmt` with one string argument; -999 when not one. */
static inline long long redis_cmd_int(redisContext *c, const char *fmt, const char *arg)
{
    redisReply *r = redisCommand(c, fmt, arg);
    assert_non_null(r);
    long long v = r->type == REDIS_REPLY_INTEGER ? r->integer : -999;
    freeReplyObject(r);
    return v;
}

/* The reply as text into out: a string or status as it is, an array as
 * "a;b;", anything else "(none)". */
static inline void redis_cmd_str(redisContext *c, char *out, size_t cap, const char *fmt,
                                 const char *arg)
{
    redisReply *r = redisCommand(c, fmt, arg);
    assert_non_null(r);
    if (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS) {
        snprintf(out, cap, "%s", r->str);
    } else if (r->type == REDIS_REPLY_ARRAY) {
        size_t o = 0;
        out[0] = '\0';
        for (size_t i = 0; i < r->elements && o < cap; i++)
            o += (size_t)snprintf(out + o, cap - o, "%s;", r->element[i]->str);
    } else {
        snprintf(out, cap, "(none)");
    }
    freeReplyObject(r);
}

/* In a forked child: exec the redis-server `bin` with `args` (borrowed,
 * NULL-ended), no persistence and only warnings logged, then `extra`
 * (borrowed, NULL-ended, or NULL). Its output goes to the file `log`, or
 * with `log` NULL stdout to /dev/null. Never returns (exit 127 on failure). */
static inline void redis_server_exec(const char *bin, const char *const *args,
                                     const char *const *extra, const char *log)
{
    static const char *const quiet[] = {"--save",  "",  "--appendonly", "no", "--loglevel",
                                        "warning", NULL};
    const char *const *parts[] = {args, quiet, extra};
    const char *argv[48];
    int n = 0;
    argv[n++] = bin;
    for (int p = 0; p < 3; p++)
        for (int i = 0; parts[p] && parts[p][i] && n < 47; i++)
            argv[n++] = parts[p][i];
    argv[n] = NULL;
    if (log ? !freopen(log, "w", stdout) || !freopen(log, "a", stderr)
            : !freopen("/dev/null", "w", stdout))
        _exit(127);
    execv(bin, (char *const *)argv);
    _exit(127);
}

#endif
