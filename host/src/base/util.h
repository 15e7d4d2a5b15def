/* util.h — small helpers used across the host: allocation that aborts on
 * out-of-memory, assertions that stay on in release builds, string copy. */
#ifndef QTS_UTIL_H
#define QTS_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define QTS_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define QTS_MIN(a, b) ((a) < (b) ? (a) : (b))
#define QTS_MAX(a, b) ((a) > (b) ? (a) : (b))

#if defined(__GNUC__)
#define QTS_LIKELY(x) __builtin_expect(!!(x), 1)
#define QTS_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define QTS_NORETURN __attribute__((noreturn))
#define QTS_UNUSED __attribute__((unused))
#else
#define QTS_LIKELY(x) (x)
#define QTS_UNLIKELY(x) (x)
#define QTS_NORETURN
#define QTS_UNUSED
#endif

/* Abort with file and line. Used by the x-allocators and QTS_ASSERT. */
QTS_NORETURN void qts__panic(const char *file, int line, const char *what);

/* Invariants: on in every build type. */
#define QTS_ASSERT(cond)                                                \
    do {                                                                \
        if (QTS_UNLIKELY(!(cond)))                                      \
            qts__panic(__FILE__, __LINE__, "assertion failed: " #cond); \
    } while (0)

/* Allocation that cannot fail: aborts with the caller's file and line.
 * Returned memory is owned by the caller (free with free()). */
#define qts_xmalloc(n) qts__xmalloc((n), __FILE__, __LINE__)
#define qts_xcalloc(k, n) qts__xcalloc((k), (n), __FILE__, __LINE__)
#define qts_xrealloc(p, n) qts__xrealloc((p), (n), __FILE__, __LINE__)
#define qts_xstrdup(s) qts__xstrdup((s), __FILE__, __LINE__)
void *qts__xmalloc(size_t n, const char *file, int line);
void *qts__xcalloc(size_t k, size_t n, const char *file, int line);
void *qts__xrealloc(void *p, size_t n, const char *file, int line);
char *qts__xstrdup(const char *s, const char *file, int line);

/* Free each of the n owned blocks (NULL ones are skipped, as free() does):
 * the teardown of a record's plain buffers as one list instead of a run of
 * free() lines. qts_free_all(a, b, c) frees a, b and c, in that order. */
void qts_free_each(void *const *blocks, size_t n);
#define qts_free_all(...)                       \
    qts_free_each((void *const[]){__VA_ARGS__}, \
                  sizeof((void *const[]){__VA_ARGS__}) / sizeof(void *))

/* Copy `src` into `dst` of `cap` bytes, always NUL-terminated.
 * Returns the length of src (truncated if >= cap). */
size_t qts_strlcpy(char *dst, const char *src, size_t cap);

/* Parse a decimal string ("60000.01", "-0.5", "1e-3" is rejected) into
 * fixed-point with `exp` decimals, exactly (no binary floating point).
 * Extra decimals beyond `exp` must be zeros, else QTS_ERANGE. Returns 0 or
 * QTS_EPARSE / QTS_ERANGE. `n` is the length of `s`. */
int qts_parse_fixed(const char *s, size_t n, unsigned exp, int64_t *out);

/* Format fixed-point `v` with `exp` decimals into buf; returns length. */
int qts_format_fixed(char *buf, size_t cap, int64_t v, unsigned exp);

#endif /* QTS_UTIL_H */
