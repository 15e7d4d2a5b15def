/* md_common.c — see md_common.h. */
#include "md_common.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "util.h"

void qts_md_levels_push(struct qts_md_levels *l, int64_t px, int64_t qty)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 256;
        l->v = qts_xrealloc(l->v, (size_t)l->cap * sizeof *l->v);
    }
    l->v[l->n].px = px;
    l->v[l->n].qty = qty;
    l->n++;
}

void qts_md_levels_free(struct qts_md_levels *l)
{
    free(l->v);
    memset(l, 0, sizeof *l);
}

/* ---------------------------------------------------------------- symbols */

void qts_md_symtab_init(struct qts_md_symtab *t)
{
    memset(t, 0, sizeof *t);
    t->def_px_exp = 8;
    t->def_qty_exp = 8;
    qts_strlcpy(t->def_venue, "unknown", sizeof t->def_venue);
}

void qts_md_symtab_cleanup(struct qts_md_symtab *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->v[i]);
    free(t->v);
    t->v = NULL;
    t->n = t->cap = 0;
    t->last = NULL;
}

static struct qts_md_inst *find(struct qts_md_symtab *t, const char *sym, size_t n)
{
    /* no stored symbol is that long, and symbol[n] below must stay inside */
    if (n >= QTS_SYMBOL_MAX)
        return NULL;
    if (t->last && strncmp(t->last->symbol, sym, n) == 0 && t->last->symbol[n] == '\0')
        return t->last;
    for (size_t i = 0; i < t->n; i++)
        if (strncmp(t->v[i]->symbol, sym, n) == 0 && t->v[i]->symbol[n] == '\0')
            return t->last = t->v[i];
    return NULL;
}

static struct qts_md_inst *add(struct qts_md_symtab *t, const char *sym, size_t n,
                               const char *venue, unsigned px, unsigned qty, struct qts_err *err)
{
    if (n == 0 || n >= QTS_SYMBOL_MAX) {
        qts_err_set(err, QTS_EINVAL, "symbol length %zu out of range", n);
        return NULL;
    }
    if (px > QTS_MAX_EXP || qty > QTS_MAX_EXP) {
        qts_err_set(err, QTS_ERANGE, "exponent out of range for %.*s", (int)n, sym);
        return NULL;
    }
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 8;
        t->v = qts_xrealloc(t->v, t->cap * sizeof *t->v);
    }
    struct qts_md_inst *e = qts_xcalloc(1, sizeof *e);
    memcpy(e->symbol, sym, n);
    qts_strlcpy(e->venue, venue ? venue : t->def_venue, sizeof e->venue);
    e->px_exp = (uint8_t)px;
    e->qty_exp = (uint8_t)qty;
    e->id = QTS_MD_NO_ID;
    e->index = (uint32_t)t->n;
    t->v[t->n++] = e;
    return e;
}

int qts_md_symtab_configure(struct qts_md_symtab *t, const char *spec, struct qts_err *err)
{
    const char *p = spec;
    while (p && *p) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char item[96];
        if (len >= sizeof item)
            return qts_err_set(err, QTS_ECONFIG, "symbols: entry too long");
        memcpy(item, p, len);
        item[len] = '\0';
        char *s = item;
        while (*s == ' ')
            s++;
        char *c1 = strchr(s, ':');
        char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (!c1 || !c2)
            return qts_err_set(err, QTS_ECONFIG, "symbols: '%s' is not SYMBOL:px_exp:qty_exp", s);
        *c1 = '\0';
        char *e1, *e2;
        long px = strtol(c1 + 1, &e1, 10), qty = strtol(c2 + 1, &e2, 10);
        if (e1 != c2 || (*e2 != '\0' && *e2 != ' ') || px < 0 || qty < 0 || px > QTS_MAX_EXP ||
            qty > QTS_MAX_EXP)
            return qts_err_set(err, QTS_ECONFIG, "symbols: bad exponents for '%s'", s);
        struct qts_md_inst *e = find(t, s, strlen(s));
        if (e) {
            e->px_exp = (uint8_t)px;
            e->qty_exp = (uint8_t)qty;
        } else if (!add(t, s, strlen(s), NULL, (unsigned)px, (unsigned)qty, err)) {
            return err ? err->code : QTS_EINVAL;
        }
        p = end ? end + 1 : NULL;
    }
    return 0;
}

static int ensure_defined(struct qts_md_symtab *t, struct qts_md_inst *e, struct qts_err *err)
{
    if (e->id != QTS_MD_NO_ID)
        return 0;
    if (!t->define) {
        e->id = e->index;
        return 0;
    }
    return t->define(t->define_arg, e, err);
}

struct qts_md_inst *qts_md_symtab_get(struct qts_md_symtab *t, const char *sym, size_t n,
                                      struct qts_err *err)
{
    struct qts_md_inst *e = find(t, sym, n);
    if (!e) {
        e = add(t, sym, n, NULL, t->def_px_exp, t->def_qty_exp, err);
        if (!e)
            return NULL;
        t->last = e;
    }
    if (QTS_UNLIKELY(e->id == QTS_MD_NO_ID) && ensure_defined(t, e, err) < 0)
        return NULL;
    return e;
}

struct qts_md_inst *qts_md_symtab_put(struct qts_md_symtab *t, const char *sym, const char *venue,
                                      unsigned px_exp, unsigned qty_exp, struct qts_err *err)
{
    size_t n = strlen(sym);
    struct qts_md_inst *e = find(t, sym, n);
    if (e) {
        if (e->id == QTS_MD_NO_ID && venue && venue[0]) /* the data knows its venue */
            qts_strlcpy(e->venue, venue, sizeof e->venue);
        if (e->px_exp != px_exp || e->qty_exp != qty_exp) {
            qts_err_set(err, QTS_ECONFIG,
                        "symbol %s: exponents %u/%u in the data, %u/%u configured", sym, px_exp,
                        qty_exp, e->px_exp, e->qty_exp);
            return NULL;
        }
    } else {
        e = add(t, sym, n, venue, px_exp, qty_exp, err);
        if (!e)
            return NULL;
    }
    if (e->id == QTS_MD_NO_ID && ensure_defined(t, e, err) < 0)
        return NULL;
    return e;
}

/* ---------------------------------------------------------------- numbers */

int qts_md_parse_fixed(const char *s, size_t n, unsigned exp, int64_t *out)
{
    if (QTS_UNLIKELY(exp > QTS_MAX_EXP))
        return QTS_ERANGE;
    size_t i = 0;
    bool neg = false;
    if (i < n && (s[i] == '-' || s[i] == '+')) {
        neg = s[i] == '-';
        i++;
    }
    uint64_t v = 0;
    unsigned digits = 0, sig = 0;
    for (; i < n && (unsigned)(s[i] - '0') < 10; i++, digits++) {
        v = v * 10 + (uint64_t)(s[i] - '0');
        if (v)
            sig++;
        if (QTS_UNLIKELY(sig > 18))
            return QTS_ERANGE;
    }
    unsigned frac = 0;
    if (i < n && s[i] == '.') {
        i++;
        for (; i < n && (unsigned)(s[i] - '0') < 10; i++, digits++) {
            if (frac < exp) {
                v = v * 10 + (uint64_t)(s[i] - '0');
                frac++;
                if (v)
                    sig++;
                if (QTS_UNLIKELY(sig > 18))
                    return QTS_ERANGE;
            } else if (s[i] != '0') {
                return QTS_ERANGE; /* more precision than configured */
            }
        }
    }
    if (QTS_UNLIKELY(digits == 0 || i != n))
        return QTS_EPARSE;
    if (qts_md_widen_decimals(&v, frac, exp) != 0)
        return QTS_ERANGE;
    *out = neg ? -(int64_t)v : (int64_t)v;
    return 0;
}

int qts_md_parse_u64(const char *s, size_t n, uint64_t *out)
{
    if (n == 0 || n > 19)
        return n ? QTS_ERANGE : QTS_EPARSE;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned d = (unsigned)(s[i] - '0');
        if (d > 9)
            return QTS_EPARSE;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

static int num2(const char *s, int *out)
{
    unsigned a = (unsigned)(s[0] - '0'), b = (unsigned)(s[1] - '0');
    if (a > 9 || b > 9)
        return -1;
    *out = (int)(a * 10 + b);
    return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
 * civil-from-days inverse). */
static int64_t days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

int qts_md_parse_time(const char *s, size_t n, int64_t *ns_out)
{
    if (n == 0)
        return QTS_EPARSE;
    if (n < 10 || s[4] != '-') { /* integer epoch */
        uint64_t v;
        int rc = qts_md_parse_u64(s, n, &v);
        if (rc < 0)
            return rc;
        uint64_t unit = v < 100000000000ULL         ? 1000000000ULL /* seconds */
                        : v < 100000000000000ULL    ? 1000000ULL    /* milliseconds */
                        : v < 100000000000000000ULL ? 1000ULL       /* microseconds */
                                                    : 1ULL;
        /* checked: 99999999999 s is beyond int64 ns (and beyond uint64) */
        if (__builtin_mul_overflow(v, unit, &v) || v > (uint64_t)INT64_MAX)
            return QTS_ERANGE;
        *ns_out = (int64_t)v;
        return 0;
    }
    int y1, y2, mo, d, h = 0, mi = 0, se = 0;
    if (num2(s, &y1) || num2(s + 2, &y2) || s[4] != '-' || num2(s + 5, &mo) || s[7] != '-' ||
        num2(s + 8, &d))
        return QTS_EPARSE;
    int y = y1 * 100 + y2;
    if (mo < 1 || mo > 12 || d < 1 || d > 31)
        return QTS_EPARSE;
    size_t i = 10;
    int64_t frac_ns = 0, tz_s = 0;
    if (i < n) {
        if ((s[i] != ' ' && s[i] != 'T') || n < i + 9 || num2(s + i + 1, &h) || s[i + 3] != ':' ||
            num2(s + i + 4, &mi) || s[i + 6] != ':' || num2(s + i + 7, &se) || h > 23 || mi > 59 ||
            se > 60)
            return QTS_EPARSE;
        i += 9;
        if (i < n && s[i] == '.') {
            i++;
            int k = 0;
            for (; i < n && (unsigned)(s[i] - '0') < 10; i++, k++)
                if (k < 9)
                    frac_ns = frac_ns * 10 + (s[i] - '0');
            if (k == 0)
                return QTS_EPARSE;
            for (; k < 9; k++)
                frac_ns *= 10;
        }
        if (i < n && s[i] == 'Z') {
            i++;
        } else if (i < n && (s[i] == '+' || s[i] == '-')) {
            int th, tm;
            if (n < i + 6 || num2(s + i + 1, &th) || s[i + 3] != ':' || num2(s + i + 4, &tm))
                return QTS_EPARSE;
            tz_s = (s[i] == '-' ? -1 : 1) * (int64_t)(th * 3600 + tm * 60);
            i += 6;
        }
        if (i != n)
            return QTS_EPARSE;
    }
    /* years 0000..9999 fit in seconds; in nanoseconds only 1677..2262 do */
    int64_t secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se - tz_s;
    int64_t ns;
    if (__builtin_mul_overflow(secs, 1000000000LL, &ns) || __builtin_add_overflow(ns, frac_ns, &ns))
        return QTS_ERANGE;
    *ns_out = ns;
    return 0;
}

/* ---------------------------------------------------------------- files */

#define FILE_CHUNK (1u << 20)

int qts_md_file_open(struct qts_md_file *f, const char *path, struct qts_err *err)
{
    memset(f, 0, sizeof *f);
    f->fd = -1;
    qts_strlcpy(f->path, path, sizeof f->path);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        return qts_err_set(err, e == ENOENT ? QTS_ENOENT : QTS_EIO, "%s: %s", path, strerror(e));
    }
    struct stat st;
    if (fstat(fd, &st) == 0)
        f->size = (uint64_t)st.st_size;
    unsigned char magic[2] = {0, 0};
    ssize_t k = pread(fd, magic, 2, 0);
    if (k == 2 && magic[0] == 0x1f && magic[1] == 0x8b) {
        gzFile gz = gzdopen(fd, "rb");
        if (!gz) {
            close(fd);
            return qts_err_set(err, QTS_EIO, "%s: cannot open gzip stream", path);
        }
        gzbuffer(gz, 256 * 1024);
        f->gz = gz;
    } else {
        f->fd = fd;
    }
    f->cap = FILE_CHUNK;
    f->buf = qts_xmalloc(f->cap + 1);
    return 0;
}

void qts_md_file_close(struct qts_md_file *f)
{
    if (f->gz)
        gzclose((gzFile)f->gz);
    else if (f->fd >= 0)
        close(f->fd);
    free(f->buf);
    f->buf = NULL;
    f->gz = NULL;
    f->fd = -1;
}

/* Read more bytes after buf[len]; moves unread data to the front first.
 * Returns bytes added (0 at the end), or QTS_EIO. */
static long fill(struct qts_md_file *f, struct qts_err *err)
{
    if (f->eof)
        return 0;
    if (f->read_err)
        return qts_err_set(err, QTS_EIO, "%s", f->err_msg);
    if (f->pos > 0) {
        memmove(f->buf, f->buf + f->pos, f->len - f->pos);
        f->buf_off += f->pos;
        f->len -= f->pos;
        f->pos = 0;
    }
    if (f->len == f->cap) {
        if (f->cap >= QTS_MD_MAX_RECORD)
            return QTS_ERANGE;
        f->cap *= 2;
        f->buf = qts_xrealloc(f->buf, f->cap + 1);
    }
    size_t want = f->cap - f->len;
    long got;
    if (f->gz) {
        int r = gzread((gzFile)f->gz, f->buf + f->len, (unsigned)want);
        int zerr = Z_OK;
        const char *msg = gzerror((gzFile)f->gz, &zerr);
        if (r < 0 || (zerr != Z_OK && zerr != Z_STREAM_END)) {
            f->read_err = QTS_EIO;
            snprintf(f->err_msg, sizeof f->err_msg, "damaged gzip data near byte %llu: %s",
                     (unsigned long long)(f->buf_off + f->len + (r > 0 ? (size_t)r : 0)),
                     zerr == Z_BUF_ERROR ? "truncated file" : msg);
            if (r > 0) { /* keep what was decoded; report at the next fill */
                f->len += (size_t)r;
                return r;
            }
            return qts_err_set(err, QTS_EIO, "%s", f->err_msg);
        }
        got = r;
    } else {
        ssize_t r;
        do
            r = read(f->fd, f->buf + f->len, want);
        while (r < 0 && errno == EINTR);
        if (r < 0) {
            f->read_err = QTS_EIO;
            snprintf(f->err_msg, sizeof f->err_msg, "read failed: %s", strerror(errno));
            return qts_err_set(err, QTS_EIO, "%s", f->err_msg);
        }
        got = (long)r;
    }
    if (got == 0)
        f->eof = true;
    f->len += (size_t)got;
    return got;
}

int qts_md_file_line(struct qts_md_file *f, const char **line, size_t *n, struct qts_err *err)
{
    bool skipping = false;
    for (;;) {
        char *start = f->buf + f->pos;
        char *nl = memchr(start, '\n', f->len - f->pos);
        if (nl) {
            size_t k = (size_t)(nl - start);
            f->line_no++;
            f->rec_off = f->buf_off + f->pos;
            f->pos += k + 1;
            if (skipping)
                return qts_err_set(err, QTS_ERANGE, "line longer than %u bytes", QTS_MD_MAX_RECORD);
            if (k > 0 && start[k - 1] == '\r')
                k--;
            start[k] = '\0';
            *line = start;
            *n = k;
            return 1;
        }
        long r = fill(f, err);
        if (r == QTS_ERANGE) { /* over the cap: drop what we have */
            skipping = true;
            f->buf_off += f->len;
            f->len = f->pos = 0;
            continue;
        }
        if (r < 0)
            return (int)r;
        if (r == 0) {
            if (f->pos == f->len)
                return 0;
            /* last line without '\n' */
            f->line_no++;
            f->rec_off = f->buf_off + f->pos;
            size_t k = f->len - f->pos;
            start = f->buf + f->pos;
            f->pos = f->len;
            if (skipping)
                return 0;
            if (k > 0 && start[k - 1] == '\r')
                k--;
            start[k] = '\0';
            *line = start;
            *n = k;
            return 1;
        }
    }
}

long qts_md_file_peek(struct qts_md_file *f, size_t need, const uint8_t **p, struct qts_err *err)
{
    while (f->len - f->pos < need) {
        if (need > f->cap && f->pos == 0) {
            if (need > QTS_MD_MAX_RECORD)
                break;
            while (f->cap < need)
                f->cap *= 2;
            f->buf = qts_xrealloc(f->buf, f->cap + 1);
        }
        long r = fill(f, err);
        if (r < 0)
            return r;
        if (r == 0)
            break;
    }
    *p = (const uint8_t *)f->buf + f->pos;
    f->rec_off = f->buf_off + f->pos;
    return (long)(f->len - f->pos);
}

void qts_md_file_consume(struct qts_md_file *f, size_t n) { f->pos += n; }

double qts_md_file_progress(const struct qts_md_file *f)
{
    if (f->size == 0)
        return 1.0;
    uint64_t at;
    if (f->gz)
        at = (uint64_t)gzoffset((gzFile)f->gz);
    else
        at = f->buf_off + f->pos;
    double x = (double)at / (double)f->size;
    return x > 1.0 ? 1.0 : x;
}
