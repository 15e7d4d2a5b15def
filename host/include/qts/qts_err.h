/* qts_err.h — status codes and the error detail carried across boundaries.
 *
 * Every function that can fail returns an int: 0 on success, a negative
 * QTS_E* code on failure. Positive values appear only where a function
 * documents a count. At boundaries (config load, plugin load, broker, store,
 * cache, HTTP) an optional last parameter `struct qts_err *err` (may be NULL)
 * receives the code and a human-readable message.
 *
 * This header is part of the plugin ABI: codes are never renumbered or
 * reused, only appended. Everything here is header-only so plugins need no
 * host symbol to use it.
 */
#ifndef QTS_ERR_H
#define QTS_ERR_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* X(name, value, message). Values are part of the ABI. */
#define QTS_ERR_MAP(X)                                         \
    X(OK, 0, "success")                                        \
    X(EINVAL, -1, "invalid argument")                          \
    X(ENOMEM, -2, "out of memory")                             \
    X(EAGAIN, -3, "try again later")                           \
    X(ENOENT, -4, "not found")                                 \
    X(EEXIST, -5, "already exists")                            \
    X(EIO, -6, "input/output error")                           \
    X(ETIMEDOUT, -7, "timed out")                              \
    X(EPERM, -8, "not permitted")                              \
    X(EBUSY, -9, "busy")                                       \
    X(ECLOSED, -10, "closed")                                  \
    X(ERANGE, -11, "value out of range")                       \
    X(EPARSE, -12, "malformed input")                          \
    X(ECONFIG, -13, "configuration error")                     \
    X(EABI, -14, "plugin ABI mismatch")                        \
    X(ESTATE, -15, "operation not valid in the current state") \
    X(EUNSUPPORTED, -16, "operation not supported")            \
    X(EFULL, -17, "queue full")                                \
    X(EEOF, -18, "end of data")                                \
    X(EREJECT, -19, "rejected")                                \
    X(ERISK, -20, "rejected by risk checks")                   \
    X(ERATELIMIT, -21, "rate limited")                         \
    X(EAUTH, -22, "authentication failed")                     \
    X(ENET, -23, "network error")                              \
    X(EUNKNOWN, -24, "outcome unknown")                        \
    X(EHALTED, -25, "halted")                                  \
    X(ELUA, -26, "strategy error")                             \
    X(EDB, -27, "database error")                              \
    X(ECANCELED, -28, "canceled")                              \
    X(ESYS, -29, "system call failed")

enum qts_status {
#define QTS_ERR_ENUM_(name, value, msg) QTS_##name = (value),
    QTS_ERR_MAP(QTS_ERR_ENUM_)
#undef QTS_ERR_ENUM_
};

/* Detail of a failure. `msg` is always NUL-terminated. */
struct qts_err {
    int code;
    char msg[256];
};

/* Static text for a code ("invalid argument"); never NULL. */
static inline const char *qts_strerror(int code)
{
    switch (code) {
#define QTS_ERR_STR_(name, value, msg) \
    case (value): return (msg);
        QTS_ERR_MAP(QTS_ERR_STR_)
#undef QTS_ERR_STR_
    default: return "unknown error code";
    }
}

/* Symbolic name of a code ("QTS_EINVAL"); never NULL. */
static inline const char *qts_err_name(int code)
{
    switch (code) {
#define QTS_ERR_NAME_(name, value, msg) \
    case (value): return "QTS_" #name;
        QTS_ERR_MAP(QTS_ERR_NAME_)
#undef QTS_ERR_NAME_
    default: return "QTS_E?";
    }
}

#if defined(__GNUC__)
#define QTS_PRINTF(fmt_idx, arg_idx) __attribute__((format(printf, fmt_idx, arg_idx)))
#else
#define QTS_PRINTF(fmt_idx, arg_idx)
#endif

/* Fill `err` (may be NULL) and return `code`, so callers can write
 * `return qts_err_set(err, QTS_EINVAL, "bad %s", what);`. */
static inline QTS_PRINTF(3, 4) int qts_err_set(struct qts_err *err, int code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        err->code = code;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return code;
}

static inline void qts_err_clear(struct qts_err *err)
{
    if (err) {
        err->code = 0;
        err->msg[0] = '\0';
    }
}

#ifdef __cplusplus
}
#endif
#endif /* QTS_ERR_H */
