/* store_fmt.h — value conversions shared by the store plugins (header-only:
 * a plugin links no host code). Fixed-point <-> decimal text, nanosecond
 * times <-> SQL timestamps, enum names. */
#ifndef QTS_STORE_FMT_H
#define QTS_STORE_FMT_H

/* needs _GNU_SOURCE (gmtime_r): set for store plugins in functions.cmake */

#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "qts/qts_store.h"
#include "qts/qts_types.h"

#define STORE_NS_PER_S INT64_C(1000000000)
#define STORE_NS_PER_MIN (INT64_C(60) * STORE_NS_PER_S)
#define STORE_NS_PER_HOUR (INT64_C(3600) * STORE_NS_PER_S)
#define STORE_NS_PER_DAY (INT64_C(86400) * STORE_NS_PER_S)
/* Day buckets follow the exchange day (Asia/Seoul, UTC+9, no DST). */
#define STORE_DAY_OFFSET_NS (INT64_C(9) * STORE_NS_PER_HOUR)

/* Decimal text of fixed-point `v` with `exp` decimals. Returns length. */
static inline int store_fmt_fixed(char *buf, size_t cap, int64_t v, unsigned exp)
{
    if (exp > QTS_MAX_EXP)
        exp = QTS_MAX_EXP;
    uint64_t a = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    uint64_t p = (uint64_t)qts_pow10_i64[exp];
    if (exp == 0)
        return snprintf(buf, cap, "%s%llu", v < 0 ? "-" : "", (unsigned long long)a);
    return snprintf(buf, cap, "%s%llu.%0*llu", v < 0 ? "-" : "", (unsigned long long)(a / p),
                    (int)exp, (unsigned long long)(a % p));
}

/* Parse decimal text ("60000.01", "-3", "1.5e-05") into fixed-point with
 * `exp` decimals, rounding half away from zero beyond `exp`. 0 or -1. */
static inline int store_parse_fixed(const char *s, unsigned exp, int64_t *out)
{
    if (!s || !*s)
        return -1;
    if (exp > QTS_MAX_EXP)
        exp = QTS_MAX_EXP;
    if (strpbrk(s, "eE")) { /* SQLite renders small REALs in exponent form */
        char *end;
        double d = strtod(s, &end);
        if (*end)
            return -1;
        *out = (int64_t)llround(d * (double)qts_pow10_i64[exp]);
        return 0;
    }
    const char *p = s;
    int neg = 0;
    if (*p == '-' || *p == '+')
        neg = *p++ == '-';
    uint64_t ip = 0, fp = 0;
    unsigned nd = 0, digits = 0;
    while (isdigit((unsigned char)*p)) {
        ip = ip * 10 + (uint64_t)(*p++ - '0');
        digits++;
    }
    int round_up = 0;
    if (*p == '.') {
        p++;
        while (isdigit((unsigned char)*p)) {
            if (nd < exp) {
                fp = fp * 10 + (uint64_t)(*p - '0');
                nd++;
            } else if (nd == exp) {
                round_up = *p >= '5';
                nd++;
            }
            p++;
            digits++;
        }
    }
    if (*p || digits == 0)
        return -1;
    unsigned used = nd > exp ? exp : nd;
    for (unsigned i = used; i < exp; i++)
        fp *= 10;
    uint64_t v = ip * (uint64_t)qts_pow10_i64[exp] + fp + (uint64_t)round_up;
    *out = neg ? -(int64_t)v : (int64_t)v;
    return 0;
}

/* Rescale fixed-point from one exponent to another (rounding). */
static inline int64_t store_rescale(int64_t v, unsigned from, unsigned to)
{
    if (v == QTS_STORE_NULL || from == to)
        return v;
    if (to > from)
        return v * qts_pow10_i64[to - from];
    int64_t d = qts_pow10_i64[from - to];
    return (v >= 0 ? v + d / 2 : v - d / 2) / d;
}

/* "2026-11-24 12:00:00.123456+00" (microseconds; PostgreSQL input). */
static inline int store_fmt_ts(char *buf, size_t cap, int64_t ns)
{
    int64_t s = ns / STORE_NS_PER_S, rem = ns % STORE_NS_PER_S;
    if (rem < 0) {
        rem += STORE_NS_PER_S;
        s -= 1;
    }
    time_t t = (time_t)s;
    struct tm tm;
    gmtime_r(&t, &tm);
    return snprintf(buf, cap, "%04d-%02d-%02d %02d:%02d:%02d.%06lld+00", tm.tm_year + 1900,
                    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                    (long long)(rem / 1000));
}

/* Parse "YYYY-MM-DD[ T]HH:MM:SS[.ffffff][+HH[:MM]|Z]" (the PostgreSQL text
 * output with DateStyle ISO) into UTC ns. A missing offset means UTC. */
static inline int store_parse_ts(const char *s, int64_t *out)
{
    int y, mo, d, h = 0, mi = 0, sec = 0, n = 0;
    if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3)
        return -1;
    const char *p = s + n;
    int64_t frac_ns = 0;
    if (*p == ' ' || *p == 'T') {
        int m2 = 0;
        if (sscanf(p + 1, "%2d:%2d:%2d%n", &h, &mi, &sec, &m2) != 3)
            return -1;
        p += 1 + m2;
        if (*p == '.') {
            p++;
            int64_t scale = 100000000;
            while (isdigit((unsigned char)*p)) {
                frac_ns += (*p - '0') * scale;
                scale /= 10;
                p++;
            }
        }
    }
    int64_t off_s = 0;
    if (*p == '+' || *p == '-') {
        int sign = *p == '-' ? -1 : 1, oh = 0, om = 0;
        p++;
        if (sscanf(p, "%2d", &oh) != 1)
            return -1;
        p += 2;
        if (*p == ':')
            p++;
        if (isdigit((unsigned char)*p)) {
            sscanf(p, "%2d", &om);
            p += 2;
        }
        off_s = sign * (oh * 3600 + om * 60);
    } else if (*p == 'Z') {
        p++;
    }
    if (*p)
        return -1;
    int64_t days = qts_days_from_civil(y, (unsigned)mo, (unsigned)d);
    int64_t secs = days * 86400 + h * 3600 + mi * 60 + sec - off_s;
    *out = secs * STORE_NS_PER_S + frac_ns;
    return 0;
}

/* Exchange-day bucket start (UTC ns) and its "YYYY-MM-DD" label. */
static inline int64_t store_day_start_ns(int64_t ns)
{
    int64_t k = ns + STORE_DAY_OFFSET_NS;
    int64_t r = k % STORE_NS_PER_DAY;
    if (r < 0)
        r += STORE_NS_PER_DAY;
    return k - r - STORE_DAY_OFFSET_NS;
}

static inline const char *store_side_str(int side)
{
    return side == QTS_SIDE_SELL ? "SELL" : "BUY";
}

static inline int store_side_parse(const char *s)
{
    return s && strcmp(s, "SELL") == 0 ? QTS_SIDE_SELL : QTS_SIDE_BUY;
}

static inline int store_order_terminal(int state)
{
    return state == QTS_OS_FILLED || state == QTS_OS_CANCELLED || state == QTS_OS_REJECTED ||
           state == QTS_OS_EXPIRED;
}

/* Copy into a fixed array, always terminated. */
static inline void store_copy(char *dst, size_t cap, const char *src)
{
    if (!src)
        src = "";
    size_t n = strlen(src);
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* FNV-1a 64 of a migration's text (recorded in schema_migrations.checksum). */
static inline uint64_t store_fnv1a(const char *s)
{
    uint64_t h = UINT64_C(1469598103934665603);
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= UINT64_C(1099511628211);
    }
    return h;
}

/* One embedded migration (generated from sql/<backend>/NNNN_name.sql). */
struct store_migration {
    int version;
    const char *name;
    const char *sql;
};

#endif
