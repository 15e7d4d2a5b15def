/* util.c — see util.h. */
#include "util.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "qts/qts_err.h"
#include "qts/qts_types.h"

void qts__panic(const char *file, int line, const char *what)
{
    fprintf(stderr, "qts: fatal: %s at %s:%d\n", what, file, line);
    fflush(stderr);
    abort();
}

void *qts__xmalloc(size_t n, const char *file, int line)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        qts__panic(file, line, "out of memory");
    return p;
}

void *qts__xcalloc(size_t k, size_t n, const char *file, int line)
{
    void *p = calloc(k ? k : 1, n ? n : 1);
    if (!p)
        qts__panic(file, line, "out of memory");
    return p;
}

void *qts__xrealloc(void *p, size_t n, const char *file, int line)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        qts__panic(file, line, "out of memory");
    return q;
}

char *qts__xstrdup(const char *s, const char *file, int line)
{
    size_t n = strlen(s) + 1;
    char *p = qts__xmalloc(n, file, line);
    memcpy(p, s, n);
    return p;
}

void qts_free_each(void *const *blocks, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(blocks[i]);
}

size_t qts_strlcpy(char *dst, const char *src, size_t cap)
{
    size_t n = strlen(src);
    if (cap) {
        size_t k = n < cap - 1 ? n : cap - 1;
        memcpy(dst, src, k);
        dst[k] = '\0';
    }
    return n;
}

int qts_parse_fixed(const char *s, size_t n, unsigned exp, int64_t *out)
{
    if (exp > QTS_MAX_EXP)
        return QTS_ERANGE;
    size_t i = 0;
    int neg = 0;
    if (i < n && (s[i] == '-' || s[i] == '+')) {
        neg = s[i] == '-';
        i++;
    }
    uint64_t v = 0;
    int digits = 0;
    const uint64_t lim = (uint64_t)INT64_MAX;
    for (; i < n && s[i] >= '0' && s[i] <= '9'; i++, digits++) {
        uint64_t d = (uint64_t)(s[i] - '0');
        if (v > (lim - d) / 10)
            return QTS_ERANGE;
        v = v * 10 + d;
    }
    unsigned frac = 0;
    if (i < n && s[i] == '.') {
        i++;
        for (; i < n && s[i] >= '0' && s[i] <= '9'; i++, digits++) {
            uint64_t d = (uint64_t)(s[i] - '0');
            if (frac < exp) {
                if (v > (lim - d) / 10)
                    return QTS_ERANGE;
                v = v * 10 + d;
                frac++;
            } else if (d != 0) {
                return QTS_ERANGE; /* more precision than the instrument has */
            }
        }
    }
    if (digits == 0 || i != n)
        return QTS_EPARSE;
    for (; frac < exp; frac++) {
        if (v > lim / 10)
            return QTS_ERANGE;
        v *= 10;
    }
    *out = neg ? -(int64_t)v : (int64_t)v;
    return 0;
}

int qts_format_fixed(char *buf, size_t cap, int64_t v, unsigned exp)
{
    if (exp == 0 || exp > QTS_MAX_EXP)
        return snprintf(buf, cap, "%" PRId64, v);
    uint64_t a = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    uint64_t p = (uint64_t)qts_pow10_i64[exp];
    return snprintf(buf, cap, "%s%" PRIu64 ".%0*" PRIu64, v < 0 ? "-" : "", a / p, (int)exp, a % p);
}
