/* test_host_api.h — pieces of a host-services table (struct qts_host_api)
 * for the small hosts the tests and benchmarks write themselves: the
 * table's head, heap services, the four configuration getters over a lookup
 * that gives each key's value as text, and the whole table of a host that
 * drives a broker plugin. Header-only and plugin-ABI only (no host code, no
 * cmocka), so test hosts, test plugins and benchmarks alike may include it. */
#ifndef QTS_TEST_HOST_API_H
#define QTS_TEST_HOST_API_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "qts/qts_plugin.h"

/* The first members of every test host's table, for a designated
 * initializer: `static const struct qts_host_api api = {QTS_TEST_HOST_API_HEAD, ...};` */
#define QTS_TEST_HOST_API_HEAD                                              \
    .struct_size = sizeof(struct qts_host_api), .abi_major = QTS_ABI_MAJOR, \
    .abi_minor = QTS_ABI_MINOR

/* Heap services: a plugin's blocks come from malloc and go back to free
 * (the block is owned by the plugin between the two calls). */
static inline void *qts_test_host_alloc(void *owner, size_t n)
{
    (void)owner;
    return malloc(n);
}
static inline void qts_test_host_free(void *owner, void *p)
{
    (void)owner;
    free(p);
}

/* The getters' answers for the value text `v` of key `path` (both
 * borrowed; v NULL: the key is absent, QTS_ENOENT). A value that does not
 * parse is QTS_ECONFIG with err filled, as the host answers. */
static inline int qts_test_cfg_text_str(const char *v, const char **out)
{
    if (!v)
        return QTS_ENOENT;
    *out = v;
    return 0;
}

/* An integer (into *i when i is not NULL) or else a number (into *d). */
static inline int qts_test_cfg_text_num(const char *v, const char *path, int64_t *i, double *d,
                                        struct qts_err *err)
{
    if (!v)
        return QTS_ENOENT;
    char *end;
    long long as_int = i ? strtoll(v, &end, 10) : 0;
    double as_double = i ? 0 : strtod(v, &end);
    if (*end)
        return qts_err_set(err, QTS_ECONFIG, "%s: not %s", path, i ? "an integer" : "a number");
    if (i)
        *i = as_int;
    else
        *d = as_double;
    return 0;
}

static inline int qts_test_cfg_text_bool(const char *v, const char *path, bool *out,
                                         struct qts_err *err)
{
    if (!v)
        return QTS_ENOENT;
    if (strcmp(v, "true") == 0)
        *out = true;
    else if (strcmp(v, "false") == 0)
        *out = false;
    else
        return qts_err_set(err, QTS_ECONFIG, "%s: not a boolean", path);
    return 0;
}

/* Defines prefix##_cfg_str, _cfg_int, _cfg_double and _cfg_bool, the
 * table's getters, over `lookup`: a function (void *owner, const char *key)
 * returning the key's value text (borrowed) or NULL. */
#define QTS_TEST_HOST_CFG_GETTERS(prefix, lookup)                                                 \
    static int prefix##_cfg_str(void *o, const char *path, const char **out, struct qts_err *err) \
    {                                                                                             \
        (void)err;                                                                                \
        return qts_test_cfg_text_str(lookup(o, path), out);                                       \
    }                                                                                             \
    static int prefix##_cfg_int(void *o, const char *path, int64_t *out, struct qts_err *err)     \
    {                                                                                             \
        return qts_test_cfg_text_num(lookup(o, path), path, out, NULL, err);                      \
    }                                                                                             \
    static int prefix##_cfg_double(void *o, const char *path, double *out, struct qts_err *err)   \
    {                                                                                             \
        return qts_test_cfg_text_num(lookup(o, path), path, NULL, out, err);                      \
    }                                                                                             \
    static int prefix##_cfg_bool(void *o, const char *path, bool *out, struct qts_err *err)       \
    {                                                                                             \
        return qts_test_cfg_text_bool(lookup(o, path), path, out, err);                           \
    }

/* A lookup that knows no key, for QTS_TEST_HOST_CFG_GETTERS: every getter
 * answers QTS_ENOENT, so the plugin runs on its defaults. */
static inline const char *qts_test_cfg_no_key(void *owner, const char *key)
{
    (void)owner;
    (void)key;
    return NULL;
}

/* The table of a host that drives a broker plugin, for
 * `static const struct qts_host_api HOST = QTS_TEST_BROKER_HOST_API(h);`:
 * heap services from this header, the rest prefix##_log, _now, _timer_start,
 * _timer_stop, _cfg_str, _cfg_int, _cfg_double, _cfg_bool, _inst_find,
 * _emit_exec, _emit_pos and _query_done, written by the test. */
#define QTS_TEST_BROKER_HOST_API(prefix)                                                   \
    {                                                                                      \
        QTS_TEST_HOST_API_HEAD,                                                            \
            .alloc = qts_test_host_alloc, .free = qts_test_host_free, .log = prefix##_log, \
            .now_ns = prefix##_now, .timer_start = prefix##_timer_start,                   \
            .timer_stop = prefix##_timer_stop, .cfg_str = prefix##_cfg_str,                \
            .cfg_int = prefix##_cfg_int, .cfg_double = prefix##_cfg_double,                \
            .cfg_bool = prefix##_cfg_bool, .instrument_find = prefix##_inst_find,          \
            .emit_exec_report = prefix##_emit_exec, .emit_position = prefix##_emit_pos,    \
            .emit_query_done = prefix##_query_done                                         \
    }

#endif
