/* md_binance.c — see md_binance.h.
 *
 * A single-pass scanner specialised for these messages, not a general JSON
 * parser: it records where each known key's value is, skips unknown values
 * with a strict grammar, and converts numbers and decimal strings exactly at
 * the end, once the symbol (and so the exponents) is known. */
#include "md_binance.h"

#include <string.h>

#include "util.h"

void qts_md_binance_init(struct qts_md_binance *d, struct qts_md_symtab *syms)
{
    memset(d, 0, sizeof *d);
    d->syms = syms;
}

void qts_md_binance_cleanup(struct qts_md_binance *d)
{
    qts_md_levels_free(&d->bids);
    qts_md_levels_free(&d->asks);
}

struct span {
    const char *p; /* NULL = absent */
    size_t n;
    uint64_t v; /* numbers: value parsed while scanning, when is_num */
    bool is_num;
};

/* The fields we use. Strings are stored without quotes; arrays as the whole
 * text from '[' to the matching ']'. */
struct fields {
    struct span stream, e, s, X;
    struct span E, T, U, u, pu, t, lid; /* numbers */
    struct span b, a, B, A, p, q;       /* decimal strings, or arrays (b, a) */
    struct span bids, asks;             /* snapshot arrays */
    int m;                              /* -1 absent, 0 false, 1 true */
    bool b_is_arr, a_is_arr;
    bool b_done, a_done; /* level lists already parsed into the scratch */
};

struct scan {
    const char *p, *end;
    const char *why;
    struct qts_md_binance *d;     /* level scratch */
    const struct qts_md_inst *in; /* known once "s" names the last symbol */
    struct qts_err *err;
    int lvl_rc; /* a level list failed: err says why */
};

static inline void ws(struct scan *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\t'))
        s->p++;
}

static bool fail(struct scan *s, const char *why)
{
    if (!s->why)
        s->why = why;
    return false;
}

/* String without escapes (Binance never sends any in these fields). */
static bool str(struct scan *s, struct span *out)
{
    if (s->p >= s->end || *s->p != '"')
        return fail(s, "expected a string");
    const char *b = ++s->p, *q = b, *end = s->end;
    /* strings here are short: a plain loop beats memchr's call overhead */
    while (q < end && *q != '"' && *q != '\\')
        q++;
    if (q == end)
        return fail(s, "unterminated string");
    if (*q == '\\')
        return fail(s, "escape sequence in a string");
    out->p = b;
    out->n = (size_t)(q - b);
    s->p = q + 1;
    return true;
}

static bool number(struct scan *s, struct span *out)
{
    const char *b = s->p;
    if (s->p < s->end && *s->p == '-')
        s->p++;
    while (s->p < s->end && ((unsigned)(*s->p - '0') < 10 || *s->p == '.' || *s->p == 'e' ||
                             *s->p == 'E' || *s->p == '+' || *s->p == '-'))
        s->p++;
    if (s->p == b)
        return fail(s, "expected a value");
    out->p = b;
    out->n = (size_t)(s->p - b);
    return true;
}

static bool lit(struct scan *s, const char *w, size_t n)
{
    if ((size_t)(s->end - s->p) < n || memcmp(s->p, w, n) != 0)
        return fail(s, "bad literal");
    s->p += n;
    return true;
}

static bool value(struct scan *s, int depth);

/* A member's key and the ':' after it (spaces allowed before the ':'). */
static bool key_colon(struct scan *s, struct span *k)
{
    if (!str(s, k))
        return false;
    ws(s);
    if (s->p >= s->end || *s->p != ':')
        return fail(s, "expected ':'");
    s->p++;
    return true;
}

/* Any array or object, validated and skipped. */
static bool compound(struct scan *s, int depth)
{
    if (depth > 16)
        return fail(s, "nesting too deep");
    char open = *s->p, close = open == '[' ? ']' : '}';
    s->p++;
    ws(s);
    if (s->p < s->end && *s->p == close) {
        s->p++;
        return true;
    }
    for (;;) {
        ws(s);
        if (open == '{') {
            struct span k;
            if (!key_colon(s, &k))
                return false;
            ws(s);
        }
        if (!value(s, depth + 1))
            return false;
        ws(s);
        if (s->p < s->end && *s->p == ',') {
            s->p++;
            continue;
        }
        if (s->p < s->end && *s->p == close) {
            s->p++;
            return true;
        }
        return fail(s, "expected ',' or a closing bracket");
    }
}

static bool value(struct scan *s, int depth)
{
    if (s->p >= s->end)
        return fail(s, "unexpected end of line");
    switch (*s->p) {
    case '"': {
        struct span x;
        return str(s, &x);
    }
    case '[':
    case '{': return compound(s, depth);
    case 't': return lit(s, "true", 4);
    case 'f': return lit(s, "false", 5);
    case 'n': return lit(s, "null", 4);
    default: {
        struct span x;
        return number(s, &x);
    }
    }
}

/* Array of [px, qty] string pairs: only delimit it here (fast path: the
 * first "]]" or "[]"), the strict check happens in levels(). */
static bool level_array(struct scan *s, struct span *out)
{
    const char *b = s->p;
    if (s->end - s->p >= 2 && s->p[1] == ']') {
        s->p += 2;
    } else {
        const char *q = s->p;
        for (;;) {
            q = memchr(q, ']', (size_t)(s->end - q));
            if (!q || q + 1 >= s->end)
                return fail(s, "unterminated level array");
            if (q[1] == ']')
                break;
            q++;
        }
        s->p = q + 2;
    }
    out->p = b;
    out->n = (size_t)(s->p - b);
    return true;
}

static bool obj(struct scan *s, struct fields *f, bool top);
static int levels_at(const char *start, const char *end, const char *name,
                     const struct qts_md_inst *in, struct qts_md_levels *l, struct qts_err *err,
                     const char **after);

/* Level list of b/a: parsed in place when the instrument is already known
 * (the symbol precedes the lists in every Binance message), else only
 * delimited for a second pass. */
static bool side_levels(struct scan *s, struct span *sp, bool *done, bool bid)
{
    if (!s->in)
        return level_array(s, sp);
    const char *after = NULL;
    int rc = levels_at(s->p, s->end, bid ? "b" : "a", s->in, bid ? &s->d->bids : &s->d->asks,
                       s->err, &after);
    if (rc < 0) {
        s->lvl_rc = rc;
        return fail(s, "bad level list");
    }
    sp->p = s->p;
    sp->n = (size_t)(after - s->p);
    s->p = after;
    *done = true;
    return true;
}

static bool member(struct scan *s, struct fields *f, bool top)
{
    struct span k;
    const char *q = s->p;
    if (s->end - q >= 4 && q[0] == '"' && q[2] == '"' && q[3] == ':' && q[1] != '\\') {
        k.p = q + 1; /* one-letter key, the common case */
        k.n = 1;
        s->p = q + 4;
    } else if (!key_colon(s, &k)) {
        return false;
    }
    ws(s);
    if (s->p >= s->end)
        return fail(s, "unexpected end of line");
    struct span *num = NULL, *sv = NULL;
    char c = *s->p;
    if (k.n == 1) {
        switch (k.p[0]) {
        case 'e': sv = &f->e; break;
        case 's':
            if (!str(s, &f->s))
                return false;
            /* a name as long as the stored one's buffer cannot be it */
            if (s->d->cur && f->s.n < sizeof s->d->cur->symbol &&
                strncmp(s->d->cur->symbol, f->s.p, f->s.n) == 0 &&
                s->d->cur->symbol[f->s.n] == '\0')
                s->in = s->d->cur;
            return true;
        case 'X': sv = &f->X; break;
        case 'E': num = &f->E; break;
        case 'T': num = &f->T; break;
        case 'U': num = &f->U; break;
        case 'u': num = &f->u; break;
        case 't': num = &f->t; break;
        case 'B': sv = &f->B; break;
        case 'A': sv = &f->A; break;
        case 'p': sv = &f->p; break;
        case 'q': sv = &f->q; break;
        case 'b':
        case 'a': { /* a side's levels (depth) or its best price (bookTicker) */
            bool bid = k.p[0] == 'b';
            if (c == '[') {
                *(bid ? &f->b_is_arr : &f->a_is_arr) = true;
                return side_levels(s, bid ? &f->b : &f->a, bid ? &f->b_done : &f->a_done, bid);
            }
            sv = bid ? &f->b : &f->a;
            break;
        }
        case 'm':
            if (c == 't') {
                f->m = 1;
                return lit(s, "true", 4);
            }
            if (c == 'f') {
                f->m = 0;
                return lit(s, "false", 5);
            }
            return fail(s, "m is not a boolean");
        default: break;
        }
    } else if (k.n == 2 && k.p[0] == 'p' && k.p[1] == 'u') {
        num = &f->pu;
    } else if (top && k.n == 6 && memcmp(k.p, "stream", 6) == 0) {
        sv = &f->stream;
    } else if (top && k.n == 4 && memcmp(k.p, "data", 4) == 0) {
        if (c != '{')
            return fail(s, "data is not an object");
        return obj(s, f, false);
    } else if (k.n == 12 && memcmp(k.p, "lastUpdateId", 12) == 0) {
        num = &f->lid;
    } else if (k.n == 4 && memcmp(k.p, "bids", 4) == 0 && c == '[') {
        return level_array(s, &f->bids);
    } else if (k.n == 4 && memcmp(k.p, "asks", 4) == 0 && c == '[') {
        return level_array(s, &f->asks);
    }
    if (sv)
        return str(s, sv);
    if (num) {
        if ((unsigned)(c - '0') >= 10)
            return fail(s, "expected an unsigned number");
        /* unsigned integer parsed in the same pass */
        const char *b = s->p, *e = s->end, *x = b;
        uint64_t v = 0;
        while (x < e && (unsigned)(*x - '0') < 10 && x - b < 19) {
            v = v * 10 + (uint64_t)(*x - '0');
            x++;
        }
        if (x < e && (*x == ',' || *x == '}' || *x == ' ')) {
            num->p = b;
            num->n = (size_t)(x - b);
            num->v = v;
            num->is_num = true;
            s->p = x;
            return true;
        }
        return number(s, num); /* not a plain integer: u64_field rejects it */
    }
    return value(s, 1);
}

static bool obj(struct scan *s, struct fields *f, bool top)
{
    if (s->p >= s->end || *s->p != '{')
        return fail(s, "expected '{'");
    s->p++;
    ws(s);
    if (s->p < s->end && *s->p == '}') {
        s->p++;
        return true;
    }
    for (;;) {
        ws(s);
        if (!member(s, f, top))
            return false;
        ws(s);
        if (s->p < s->end && *s->p == ',') {
            s->p++;
            continue;
        }
        if (s->p < s->end && *s->p == '}') {
            s->p++;
            return true;
        }
        return fail(s, "expected ',' or '}'");
    }
}

static int u64_field(struct span sp, const char *name, uint64_t *out, struct qts_err *err)
{
    if (!sp.p)
        return qts_err_set(err, QTS_EPARSE, "missing field %s", name);
    if (sp.is_num) {
        *out = sp.v;
        return 0;
    }
    if (qts_md_parse_u64(sp.p, sp.n, out) < 0)
        return qts_err_set(err, QTS_EPARSE, "bad integer in %s: '%.*s'", name,
                           (int)(sp.n > 40 ? 40 : sp.n), sp.p);
    return 0;
}

static int fixed_field(struct span sp, const char *name, unsigned exp, int64_t *out,
                       struct qts_err *err)
{
    if (!sp.p)
        return qts_err_set(err, QTS_EPARSE, "missing field %s", name);
    int rc = qts_md_parse_fixed(sp.p, sp.n, exp, out);
    if (QTS_UNLIKELY(rc < 0))
        return qts_err_set(err, rc, "%s '%.*s': %s", name, (int)(sp.n > 40 ? 40 : sp.n), sp.p,
                           rc == QTS_ERANGE ? "more decimals than configured or too large"
                                            : "not a decimal number");
    return 0;
}

/* Parse the decimal that starts at p and ends at the next '"', in one pass
 * (same rules as qts_md_parse_fixed). *stop = the closing quote, or NULL.
 * Returns 0, QTS_EPARSE or QTS_ERANGE. */
static inline int quoted_fixed(const char *p, const char *end, unsigned exp, int64_t *out,
                               const char **stop)
{
    uint64_t v = 0;
    unsigned sig = 0, frac = 0, digits = 0;
    int rc = 0;
    *stop = NULL;
    for (; p < end && (unsigned)(*p - '0') < 10; p++, digits++) {
        v = v * 10 + (uint64_t)(*p - '0');
        sig += v != 0;
    }
    if (p < end && *p == '.') {
        for (p++; p < end && (unsigned)(*p - '0') < 10; p++, digits++) {
            if (frac < exp) {
                v = v * 10 + (uint64_t)(*p - '0');
                sig += v != 0;
                frac++;
            } else if (*p != '0') {
                rc = QTS_ERANGE;
            }
        }
    }
    if (p >= end || *p != '"' || digits == 0) {
        while (p < end && *p != '"')
            p++;
        *stop = p < end ? p : NULL;
        return QTS_EPARSE;
    }
    *stop = p;
    if (rc < 0 || sig > 18)
        return QTS_ERANGE;
    if (qts_md_widen_decimals(&v, frac, exp) != 0)
        return QTS_ERANGE;
    *out = (int64_t)v;
    return 0;
}

/* Strictly parse [["px","qty"],...] into l. */
/* Strictly parse [["px","qty"],...] starting at `start` (bounded by `end`)
 * into l; *after = the byte after the closing ']'. */
static int levels_at(const char *start, const char *end, const char *name,
                     const struct qts_md_inst *in, struct qts_md_levels *l, struct qts_err *err,
                     const char **after)
{
    l->n = 0;
    const char *p = start;
    if (p >= end || *p != '[')
        return qts_err_set(err, QTS_EPARSE, "%s: expected '['", name);
    p++;
    if (p < end && *p == ']') {
        *after = p + 1;
        return 0;
    }
    for (;;) {
        const char *a, *b, *c, *d;
        if (end - p < 7 || p[0] != '[' || p[1] != '"')
            goto bad;
        a = p + 2;
        int64_t px = 0, qty = 0;
        int rc = quoted_fixed(a, end, in->px_exp, &px, &b);
        if (!b || end - b < 4 || b[1] != ',' || b[2] != '"')
            goto bad;
        c = b + 3;
        int rc2 = quoted_fixed(c, end, in->qty_exp, &qty, &d);
        if (!d || end - d < 2 || d[1] != ']')
            goto bad;
        if (rc == 0)
            rc = rc2;
        if (QTS_UNLIKELY(rc < 0 || px <= 0 || qty < 0))
            return qts_err_set(err, rc < 0 ? rc : QTS_ERANGE,
                               "%s: bad level [\"%.*s\",\"%.*s\"] for %s (px_exp %u, qty_exp %u)",
                               name, (int)(b - a > 30 ? 30 : b - a), a,
                               (int)(d - c > 30 ? 30 : d - c), c, in->symbol, in->px_exp,
                               in->qty_exp);
        qts_md_levels_push(l, px, qty);
        p = d + 2;
        if (p < end && *p == ',') {
            p++;
            continue;
        }
        if (p < end && *p == ']') {
            *after = p + 1;
            return 0;
        }
        goto bad;
    }
bad:
    return qts_err_set(err, QTS_EPARSE, "%s: malformed level list near offset %ld", name,
                       (long)(p - start));
}

static int levels(struct span sp, const char *name, const struct qts_md_inst *in,
                  struct qts_md_levels *l, struct qts_err *err)
{
    const char *after = NULL;
    int rc = levels_at(sp.p, sp.p + sp.n, name, in, l, err, &after);
    if (rc == 0 && after != sp.p + sp.n)
        return qts_err_set(err, QTS_EPARSE, "%s: trailing bytes in the level list", name);
    return rc;
}

static void hdr(union qts_md_event *ev, unsigned type, size_t size, const struct qts_md_inst *in,
                int64_t exch, int64_t recv)
{
    ev->h.struct_size = (uint32_t)size;
    ev->h.type = (uint16_t)type;
    ev->h.px_exp = in->px_exp;
    ev->h.qty_exp = in->qty_exp;
    ev->h.instrument = in->id;
    ev->h.flags = 0;
    ev->h.ts_exch_ns = exch;
    ev->h.ts_recv_ns = recv;
    ev->h.seq = 0;
}

int qts_md_binance_decode(struct qts_md_binance *d, const char *line, size_t n,
                          union qts_md_event *ev, struct qts_err *err)
{
    const char *end = line + n;
    const char *p = line;
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    if (p == end)
        return 0;
    const char *sp = memchr(p, ' ', (size_t)(end - p));
    if (!sp)
        return qts_err_set(err, QTS_EPARSE, "no receive time before the JSON");
    uint64_t recv_u;
    if (qts_md_parse_u64(p, (size_t)(sp - p), &recv_u) < 0 || recv_u > (uint64_t)INT64_MAX)
        return qts_err_set(err, QTS_EPARSE, "bad receive time '%.*s'",
                           (int)(sp - p > 30 ? 30 : sp - p), p);
    int64_t recv = (int64_t)recv_u;

    struct fields f;
    memset(&f, 0, sizeof f);
    f.m = -1;
    struct qts_err lerr;
    struct scan s = {sp + 1, end, NULL, d, NULL, err ? err : &lerr, 0};
    ws(&s);
    if (!obj(&s, &f, true)) {
        if (s.lvl_rc)
            return s.lvl_rc;
        return qts_err_set(err, QTS_EPARSE, "bad JSON at column %ld: %s", (long)(s.p - line) + 1,
                           s.why ? s.why : "?");
    }
    ws(&s);
    if (s.p != end)
        return qts_err_set(err, QTS_EPARSE, "trailing bytes after the JSON at column %ld",
                           (long)(s.p - line) + 1);

    /* exchange time: T (transaction/trade time) if present, else E */
    uint64_t E = 0, T = 0;
    if (f.E.p && u64_field(f.E, "E", &E, err) < 0)
        return QTS_EPARSE;
    if (f.T.p && u64_field(f.T, "T", &T, err) < 0)
        return QTS_EPARSE;
    if (E > (uint64_t)INT64_MAX / 1000000 || T > (uint64_t)INT64_MAX / 1000000)
        return qts_err_set(err, QTS_ERANGE, "event time out of range");
    int64_t exch;
    if (E) {
        d->exch_minus_recv_ns = (int64_t)E * 1000000 - recv;
        d->has_offset = true;
    }
    if (T)
        exch = (int64_t)T * 1000000;
    else if (E)
        exch = (int64_t)E * 1000000;
    else if (__builtin_add_overflow(recv, d->has_offset ? d->exch_minus_recv_ns : 0, &exch))
        /* spot bookTicker and snapshots carry no time: estimated from the
         * offset of an earlier line, which damaged input can make absurd */
        return qts_err_set(err, QTS_ERANGE, "estimated exchange time out of range");

    if (f.lid.p) { /* REST depth snapshot */
        if (!d->cur)
            return qts_err_set(err, QTS_EINVAL,
                               "depth snapshot before any message naming its symbol");
        uint64_t lid;
        if (u64_field(f.lid, "lastUpdateId", &lid, err) < 0)
            return QTS_EPARSE;
        if (!f.bids.p || !f.asks.p)
            return qts_err_set(err, QTS_EPARSE, "snapshot without bids/asks");
        int rc = levels(f.bids, "bids", d->cur, &d->bids, err);
        if (rc == 0)
            rc = levels(f.asks, "asks", d->cur, &d->asks, err);
        if (rc < 0)
            return rc;
        hdr(ev, QTS_EV_BOOK, sizeof ev->book, d->cur, exch, recv);
        ev->h.flags = QTS_BOOK_SNAPSHOT;
        ev->book.first_update_id = 0;
        ev->book.last_update_id = lid;
        ev->book.prev_update_id = 0;
        ev->book.n_bids = d->bids.n;
        ev->book.n_asks = d->asks.n;
        ev->book.bids = d->bids.v;
        ev->book.asks = d->asks.v;
        return 1;
    }
    if (!f.stream.p)
        return qts_err_set(err, QTS_EPARSE, "neither a stream message nor a snapshot");
    if (!f.s.p)
        return qts_err_set(err, QTS_EPARSE, "missing symbol field s");
    struct qts_md_inst *in = qts_md_symtab_get(d->syms, f.s.p, f.s.n, err);
    if (!in)
        return err ? err->code : QTS_EINVAL;
    d->cur = in;
    const char *at = memchr(f.stream.p, '@', f.stream.n);
    size_t kn = at ? f.stream.n - (size_t)(at + 1 - f.stream.p) : 0;
    const char *kind = at ? at + 1 : "";
    if ((kn == 5 && memcmp(kind, "trade", 5) == 0)) {
        hdr(ev, QTS_EV_TRADE, sizeof ev->trade, in, exch, recv);
        if (fixed_field(f.p, "p", in->px_exp, &ev->trade.px, err) < 0 ||
            fixed_field(f.q, "q", in->qty_exp, &ev->trade.qty, err) < 0 ||
            u64_field(f.t, "t", &ev->trade.trade_id, err) < 0)
            return err ? err->code : QTS_EPARSE;
        if (f.m < 0)
            return qts_err_set(err, QTS_EPARSE, "missing field m");
        /* m: the buyer is the maker, so the taker sold */
        ev->trade.aggressor = f.m ? QTS_SIDE_SELL : QTS_SIDE_BUY;
        memset(ev->trade.reserved, 0, sizeof ev->trade.reserved);
        if (ev->trade.px <= 0 || ev->trade.qty <= 0)
            return qts_err_set(err, QTS_ERANGE, "trade price or quantity not positive");
        return 1;
    }
    if (kn == 10 && memcmp(kind, "bookTicker", 10) == 0) {
        hdr(ev, QTS_EV_QUOTE, sizeof ev->quote, in, exch, recv);
        if (f.b_is_arr || f.a_is_arr)
            return qts_err_set(err, QTS_EPARSE, "bookTicker b/a are not strings");
        if (fixed_field(f.b, "b", in->px_exp, &ev->quote.bid_px, err) < 0 ||
            fixed_field(f.B, "B", in->qty_exp, &ev->quote.bid_qty, err) < 0 ||
            fixed_field(f.a, "a", in->px_exp, &ev->quote.ask_px, err) < 0 ||
            fixed_field(f.A, "A", in->qty_exp, &ev->quote.ask_qty, err) < 0 ||
            u64_field(f.u, "u", &ev->quote.update_id, err) < 0)
            return err ? err->code : QTS_EPARSE;
        return 1;
    }
    if (kn >= 5 && memcmp(kind, "depth", 5) == 0) {
        if (!f.b_is_arr || !f.a_is_arr)
            return qts_err_set(err, QTS_EPARSE, "depthUpdate without b/a arrays");
        hdr(ev, QTS_EV_BOOK, sizeof ev->book, in, exch, recv);
        uint64_t U, u, pu = 0;
        if (u64_field(f.U, "U", &U, err) < 0 || u64_field(f.u, "u", &u, err) < 0 ||
            (f.pu.p && u64_field(f.pu, "pu", &pu, err) < 0))
            return QTS_EPARSE;
        if (U > u || u == 0)
            return qts_err_set(err, QTS_ERANGE, "update ids U=%llu > u=%llu", (unsigned long long)U,
                               (unsigned long long)u);
        int rc = f.b_done ? 0 : levels(f.b, "b", in, &d->bids, err);
        if (rc == 0 && !f.a_done)
            rc = levels(f.a, "a", in, &d->asks, err);
        if (rc < 0)
            return rc;
        ev->h.flags = f.pu.p ? QTS_BOOK_HAS_PREV : 0;
        ev->book.first_update_id = U;
        ev->book.last_update_id = u;
        ev->book.prev_update_id = pu;
        ev->book.n_bids = d->bids.n;
        ev->book.n_asks = d->asks.n;
        ev->book.bids = d->bids.v;
        ev->book.asks = d->asks.v;
        return 1;
    }
    return 0; /* a stream qts does not use (aggTrade, kline, ...) */
}
