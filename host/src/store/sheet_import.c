/* sheet_import.c — see sheet_import.h. */
#include "sheet_import.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "sha256.h"
#include "util.h"

#define IMP_PX_EXP 8
#define IMP_QTY_EXP 8
#define KST_OFFSET_S (9 * 3600)

/* ------------------------------------------------------------- CSV */

struct csv_row {
    char **f; /* fields, owned */
    size_t n, cap;
    int line; /* line where the row starts */
};

struct csv {
    struct csv_row *rows;
    size_t n, cap;
};

static void row_push(struct csv_row *r, const char *p, size_t len)
{
    if (r->n == r->cap) {
        r->cap = r->cap ? 2 * r->cap : 16;
        r->f = qts_xrealloc(r->f, r->cap * sizeof *r->f);
    }
    char *s = qts_xmalloc(len + 1);
    memcpy(s, p, len);
    s[len] = '\0';
    r->f[r->n++] = s;
}

static void csv_free(struct csv *c)
{
    for (size_t i = 0; i < c->n; i++) {
        for (size_t k = 0; k < c->rows[i].n; k++)
            free(c->rows[i].f[k]);
        free(c->rows[i].f);
    }
    free(c->rows);
    memset(c, 0, sizeof *c);
}

/* RFC 4180: quoted fields may hold commas, quotes ("") and line breaks. */
static int csv_parse(const char *text, size_t len, struct csv *out)
{
    size_t i = 0;
    int line = 1;
    if (len >= 3 && (unsigned char)text[0] == 0xEF && (unsigned char)text[1] == 0xBB &&
        (unsigned char)text[2] == 0xBF)
        i = 3; /* UTF-8 byte order mark of spreadsheet exports */
    char *buf = qts_xmalloc(len + 1);
    while (i < len) {
        struct csv_row row = {NULL, 0, 0, line};
        for (;;) {
            size_t bl = 0;
            if (i < len && text[i] == '"') {
                i++;
                for (;;) {
                    if (i >= len) {
                        free(buf);
                        for (size_t k = 0; k < row.n; k++)
                            free(row.f[k]);
                        free(row.f);
                        return row.line;
                    }
                    if (text[i] == '"') {
                        if (i + 1 < len && text[i + 1] == '"') {
                            buf[bl++] = '"';
                            i += 2;
                            continue;
                        }
                        i++;
                        break;
                    }
                    if (text[i] == '\n')
                        line++;
                    buf[bl++] = text[i++];
                }
                while (i < len && text[i] != ',' && text[i] != '\n' && text[i] != '\r')
                    buf[bl++] = text[i++];
            } else {
                while (i < len && text[i] != ',' && text[i] != '\n' && text[i] != '\r')
                    buf[bl++] = text[i++];
            }
            row_push(&row, buf, bl);
            if (i < len && text[i] == ',') {
                i++;
                continue;
            }
            if (i < len && text[i] == '\r')
                i++;
            if (i < len && text[i] == '\n')
                i++;
            line++;
            break;
        }
        int blank = row.n == 1 && row.f[0][0] == '\0';
        if (blank) {
            free(row.f[0]);
            free(row.f);
            continue;
        }
        if (out->n == out->cap) {
            out->cap = out->cap ? 2 * out->cap : 64;
            out->rows = qts_xrealloc(out->rows, out->cap * sizeof *out->rows);
        }
        out->rows[out->n++] = row;
    }
    free(buf);
    return 0;
}

/* ------------------------------------------------------------- helpers */

struct ctx {
    struct qts_sheet_import *imp;
    const char *file;
    int line;
    int row_bad;
    int64_t now_ns;
    double total_equity; /* latest History total_equity, for exposure_pct */
};

static void QTS_PRINTF(3, 4) bad(struct ctx *c, const char *col, const char *fmt, ...)
{
    struct qts_sheet_import *imp = c->imp;
    char msg[256], full[384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(full, sizeof full, "%s:%d: %s: %s", c->file, c->line, col, msg);
    if (imp->n_errors == imp->cap_errors) {
        imp->cap_errors = imp->cap_errors ? 2 * imp->cap_errors : 16;
        imp->errors = qts_xrealloc(imp->errors, imp->cap_errors * sizeof *imp->errors);
    }
    imp->errors[imp->n_errors++] = qts_xstrdup(full);
    c->row_bad = 1;
}

static union qts_store_any *new_rec(struct qts_sheet_import *imp, int kind, size_t size, int64_t ts)
{
    if (imp->n == imp->cap) {
        imp->cap = imp->cap ? 2 * imp->cap : 64;
        imp->recs = qts_xrealloc(imp->recs, imp->cap * sizeof *imp->recs);
    }
    union qts_store_any *r = &imp->recs[imp->n++];
    memset(r, 0, sizeof *r);
    r->h.struct_size = (uint32_t)size;
    r->h.kind = (uint16_t)kind;
    r->h.ts_ns = ts;
    return r;
}

/* Trimmed copy of a field into buf; "" when absent. */
static const char *field(const struct csv_row *r, int col, char *buf, size_t cap)
{
    buf[0] = '\0';
    if (col < 0 || (size_t)col >= r->n)
        return buf;
    const char *s = r->f[col];
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        n--;
    if (n >= cap)
        n = cap - 1;
    memcpy(buf, s, n);
    buf[n] = '\0';
    return buf;
}

static int col_of(const struct csv_row *hdr, const char *name)
{
    for (size_t i = 0; i < hdr->n; i++) {
        char b[128];
        if (strcasecmp(field(hdr, (int)i, b, sizeof b), name) == 0)
            return (int)i;
    }
    return -1;
}

/* Number text without thousands separators; "" stays "". */
static void strip_number(const char *in, char *out, size_t cap)
{
    size_t k = 0;
    for (const char *p = in; *p && k + 1 < cap; p++)
        if (*p != ',' && *p != ' ')
            out[k++] = *p;
    out[k] = '\0';
}

/* Fixed-point value of column `col`; `required` reports a blank. Returns 1
 * with *out set, 0 when blank (and not required), -1 on error. */
static int get_fixed(struct ctx *c, const struct csv_row *r, int col, const char *name,
                     unsigned exp, int required, int64_t *out)
{
    char raw[128], num[128];
    field(r, col, raw, sizeof raw);
    strip_number(raw, num, sizeof num);
    if (!*num) {
        if (required) {
            bad(c, name, "required value missing (RC001)");
            return -1;
        }
        *out = QTS_STORE_NULL;
        return 0;
    }
    int rc = qts_parse_fixed(num, strlen(num), exp, out);
    if (rc == QTS_ERANGE) {
        bad(c, name, "'%s' has more than %u decimals or is out of range (RC002)", raw, exp);
        return -1;
    }
    if (rc) {
        bad(c, name, "'%s' is not a number (RC002)", raw);
        return -1;
    }
    return 1;
}

/* A ratio: "0.015" or "1.5%". NaN when blank. */
static int get_double(struct ctx *c, const struct csv_row *r, int col, const char *name,
                      double *out)
{
    char raw[128], num[128];
    field(r, col, raw, sizeof raw);
    strip_number(raw, num, sizeof num);
    *out = NAN;
    if (!*num)
        return 0;
    size_t n = strlen(num);
    int pct = num[n - 1] == '%';
    if (pct)
        num[n - 1] = '\0';
    char *end;
    errno = 0;
    double d = strtod(num, &end);
    if (end == num || *end || errno || !isfinite(d)) {
        bad(c, name, "'%s' is not a number (RC002)", raw);
        return -1;
    }
    *out = pct ? d / 100.0 : d;
    return 1;
}

/* Years a time in int64 nanoseconds since 1970 can hold (1677..2262),
 * with a margin; a year past them overflowed the conversion. */
#define QTS_SHEET_YEAR_MIN 1900
#define QTS_SHEET_YEAR_MAX 2200

/* "YYYY-MM-DD[ HH:MM[:SS]]" (or '/' separators, 'T', an optional offset
 * "+09:00" or "Z"); no offset = Korea time. Returns 0 or -1. */
static int parse_when(const char *s, int64_t *ns, char date_out[11])
{
    int y, mo, d, h = 0, mi = 0, sec = 0, n = 0;
    char sep1, sep2;
    if (sscanf(s, "%4d%c%2d%c%2d%n", &y, &sep1, &mo, &sep2, &d, &n) != 5 || sep1 != sep2 ||
        (sep1 != '-' && sep1 != '/') || mo < 1 || mo > 12 || d < 1 || d > 31 ||
        y < QTS_SHEET_YEAR_MIN || y > QTS_SHEET_YEAR_MAX)
        return -1;
    const char *p = s + n;
    if (*p == ' ' || *p == 'T') {
        int m2 = 0;
        if (sscanf(p + 1, "%2d:%2d%n", &h, &mi, &m2) != 2)
            return -1;
        p += 1 + m2;
        if (*p == ':') {
            if (sscanf(p + 1, "%2d%n", &sec, &m2) != 1)
                return -1;
            p += 1 + m2;
        }
        if (h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 60)
            return -1;
    }
    int64_t off = KST_OFFSET_S;
    if (*p == 'Z') {
        off = 0;
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh = 0, om = 0;
        if (sscanf(p + 1, "%2d:%2d", &oh, &om) < 1)
            return -1;
        off = (*p == '-' ? -1 : 1) * (oh * 3600 + om * 60);
        p += strlen(p);
    }
    if (*p)
        return -1;
    static const int mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (d > mdays[mo - 1] ||
        (mo == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)))
        return -1;
    int64_t secs =
        qts_days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + sec - off;
    *ns = secs * INT64_C(1000000000);
    if (date_out)
        snprintf(date_out, 11, "%04d-%02d-%02d", y, mo, d);
    return 0;
}

static void upper(char *s)
{
    for (; *s; s++)
        *s = (char)toupper((unsigned char)*s);
}

static int need_cols(struct ctx *c, const struct csv_row *hdr, const char *const *names)
{
    int ok = 1;
    for (size_t i = 0; names[i]; i++)
        if (col_of(hdr, names[i]) < 0) {
            c->line = hdr->line;
            bad(c, names[i], "column missing from the header (RC003)");
            ok = 0;
        }
    return ok;
}

/* ------------------------------------------------------------- sheets */

static void import_history(struct ctx *c, const struct csv *t)
{
    static const char *const req[] = {"date", "total_equity", NULL};
    const struct csv_row *h = &t->rows[0];
    if (!need_cols(c, h, req))
        return;
    int cd = col_of(h, "date"), ce = col_of(h, "total_equity"), cp = col_of(h, "daily_pnl"),
        cr = col_of(h, "daily_return"), cc = col_of(h, "cumulative_return"),
        cv = col_of(h, "volatility_20d"), cw = col_of(h, "high_watermark"),
        cdd = col_of(h, "drawdown"), cm = col_of(h, "mdd"), cn = col_of(h, "note");
    int64_t latest_ts = INT64_MIN;
    for (size_t i = 1; i < t->n; i++) {
        const struct csv_row *r = &t->rows[i];
        c->line = r->line;
        c->row_bad = 0;
        struct qts_store_account a;
        memset(&a, 0, sizeof a);
        char b[128];
        int64_t ts = 0;
        field(r, cd, b, sizeof b);
        if (!*b)
            bad(c, "date", "required value missing (RC001)");
        else if (parse_when(b, &ts, a.date) != 0)
            bad(c, "date", "'%s' is not a date YYYY-MM-DD (RC002)", b);
        get_fixed(c, r, ce, "total_equity", QTS_CASH_EXP, 1, &a.total_equity);
        get_fixed(c, r, cp, "daily_pnl", QTS_CASH_EXP, 0, &a.daily_pnl);
        get_double(c, r, cr, "daily_return", &a.daily_return);
        get_double(c, r, cc, "cumulative_return", &a.cumulative_return);
        get_double(c, r, cv, "volatility_20d", &a.volatility_20d);
        get_fixed(c, r, cw, "high_watermark", QTS_CASH_EXP, 0, &a.high_watermark);
        get_double(c, r, cdd, "drawdown", &a.drawdown);
        get_double(c, r, cm, "mdd", &a.mdd);
        field(r, cn, a.note, sizeof a.note);
        if (c->row_bad)
            continue;
        if (a.total_equity < 0) {
            bad(c, "total_equity", "negative equity");
            continue;
        }
        if (ts > latest_ts) {
            latest_ts = ts;
            c->total_equity = qts_fixed_to_double(a.total_equity, QTS_CASH_EXP);
        }
        union qts_store_any *rec = new_rec(c->imp, QTS_REC_ACCOUNT, sizeof a, ts);
        a.h = rec->h;
        rec->account = a;
    }
}

static void import_position(struct ctx *c, const struct csv *t)
{
    static const char *const req[] = {"symbol", "qty", "avg_price_current_currency", NULL};
    const struct csv_row *h = &t->rows[0];
    if (!need_cols(c, h, req))
        return;
    int cs = col_of(h, "symbol"), cq = col_of(h, "qty"),
        ca = col_of(h, "avg_price_current_currency"), cm = col_of(h, "market"),
        cv = col_of(h, "market_value_krw"), cu = col_of(h, "unrealized_pnl_krw"),
        ct = col_of(h, "strategy");
    for (size_t i = 1; i < t->n; i++) {
        const struct csv_row *r = &t->rows[i];
        c->line = r->line;
        c->row_bad = 0;
        struct qts_store_position p;
        memset(&p, 0, sizeof p);
        p.px_exp = IMP_PX_EXP;
        p.qty_exp = IMP_QTY_EXP;
        field(r, cs, p.symbol, sizeof p.symbol);
        if (!*p.symbol)
            bad(c, "symbol", "required value missing (RC001)");
        if (get_fixed(c, r, cq, "qty", IMP_QTY_EXP, 1, &p.qty) > 0 && p.qty < 0)
            bad(c, "qty", "negative quantity (long-only positions)");
        get_fixed(c, r, ca, "avg_price_current_currency", IMP_PX_EXP, 1, &p.avg_px);
        field(r, cm, p.market, sizeof p.market);
        get_fixed(c, r, cv, "market_value_krw", QTS_CASH_EXP, 0, &p.exposure_value);
        get_fixed(c, r, cu, "unrealized_pnl_krw", QTS_CASH_EXP, 0, &p.unrealized_pnl);
        char st[32];
        field(r, ct, st, sizeof st);
        upper(st);
        if (!*st)
            strcpy(st, "NET");
        if (strcmp(st, "NET") && strcmp(st, "SCALP") && strcmp(st, "SWING") &&
            strcmp(st, "PORTFOLIO"))
            bad(c, "strategy", "'%s' is not NET, SCALP, SWING or PORTFOLIO", st);
        qts_strlcpy(p.strategy_type, st, sizeof p.strategy_type);
        if (c->row_bad)
            continue;
        /* the sheet has no exposure_pct: recomputed from the latest equity */
        p.exposure_pct = p.exposure_value != QTS_STORE_NULL && c->total_equity > 0
                             ? qts_fixed_to_double(p.exposure_value, QTS_CASH_EXP) / c->total_equity
                             : NAN;
        union qts_store_any *rec = new_rec(c->imp, QTS_REC_POSITION, sizeof p, c->now_ns);
        p.h = rec->h;
        rec->position = p;
    }
}

static void import_ledger(struct ctx *c, const struct csv *t)
{
    static const char *const req[] = {"timestamp", "symbol", "side", "qty", "price", NULL};
    const struct csv_row *h = &t->rows[0];
    if (!need_cols(c, h, req))
        return;
    int cts = col_of(h, "timestamp"), cs = col_of(h, "symbol"), cd = col_of(h, "side"),
        cq = col_of(h, "qty"), cp = col_of(h, "price"), ca = col_of(h, "amount_krw"),
        cf = col_of(h, "fee_tax"), cg = col_of(h, "strategy"), co = col_of(h, "order_id"),
        cb = col_of(h, "broker"), cn = col_of(h, "pnl");
    for (size_t i = 1; i < t->n; i++) {
        const struct csv_row *r = &t->rows[i];
        c->line = r->line;
        c->row_bad = 0;
        struct qts_store_ledger l;
        memset(&l, 0, sizeof l);
        l.px_exp = IMP_PX_EXP;
        l.qty_exp = IMP_QTY_EXP;
        char b[128];
        int64_t ts = 0;
        field(r, cts, b, sizeof b);
        if (!*b)
            bad(c, "timestamp", "required value missing (RC001)");
        else if (parse_when(b, &ts, NULL) != 0)
            bad(c, "timestamp", "'%s' is not a timestamp YYYY-MM-DD HH:MM[:SS] (RC002)", b);
        field(r, cs, l.symbol, sizeof l.symbol);
        if (!*l.symbol)
            bad(c, "symbol", "required value missing (RC001)");
        field(r, cd, b, sizeof b);
        upper(b);
        if (strcmp(b, "BUY") == 0)
            l.side = QTS_SIDE_BUY;
        else if (strcmp(b, "SELL") == 0)
            l.side = QTS_SIDE_SELL;
        else
            bad(c, "side", "'%s' is not BUY or SELL", b);
        if (get_fixed(c, r, cq, "qty", IMP_QTY_EXP, 1, &l.qty) > 0 && l.qty <= 0)
            bad(c, "qty", "quantity must be positive");
        if (get_fixed(c, r, cp, "price", IMP_PX_EXP, 1, &l.px) > 0 && l.px < 0)
            bad(c, "price", "negative price");
        int has_amount = get_fixed(c, r, ca, "amount_krw", QTS_CASH_EXP, 0, &l.amount);
        if (get_fixed(c, r, cf, "fee_tax", QTS_CASH_EXP, 0, &l.fee) == 0)
            l.fee = 0;
        field(r, cg, l.strategy_tag, sizeof l.strategy_tag);
        field(r, co, l.order_id, sizeof l.order_id);
        field(r, cb, l.broker, sizeof l.broker);
        get_fixed(c, r, cn, "pnl", QTS_CASH_EXP, 0, &l.realized_pnl);
        if (c->row_bad)
            continue;
        if (has_amount == 0) {
            /* amount missing: qty * price, in cash units (exact for these exponents) */
            double amt =
                qts_fixed_to_double(l.qty, IMP_QTY_EXP) * qts_fixed_to_double(l.px, IMP_PX_EXP);
            l.amount = llround(amt * 1e6);
        }
        char norm[512];
        int n = snprintf(norm, sizeof norm, "%lld|%s|%u|%lld|%lld|%lld|%lld|%s|%s|%s|%lld",
                         (long long)ts, l.symbol, l.side, (long long)l.qty, (long long)l.px,
                         (long long)l.amount, (long long)l.fee, l.strategy_tag, l.order_id,
                         l.broker, (long long)l.realized_pnl);
        qts_sha256(norm, (size_t)n, l.src_hash);
        l.has_src_hash = 1;
        union qts_store_any *rec = new_rec(c->imp, QTS_REC_LEDGER, sizeof l, ts);
        l.h = rec->h;
        rec->ledger = l;
    }
}

static const char *infer_type(const char *v)
{
    if (!*v)
        return "string";
    if (!strcasecmp(v, "true") || !strcasecmp(v, "false"))
        return "bool";
    char *end;
    errno = 0;
    strtoll(v, &end, 10);
    if (!*end && !errno)
        return "int";
    strtod(v, &end);
    if (!*end)
        return "float";
    if (*v == '{' || *v == '[')
        return "json";
    return "string";
}

static void import_strategy(struct ctx *c, const struct csv *t, const char *default_id)
{
    const struct csv_row *h = &t->rows[0];
    if (col_of(h, "param_name") < 0 && col_of(h, "win_rate") >= 0) {
        /* the performance view of the "Strategy" sheet: an output, not data */
        c->line = h->line;
        bad(c, "header",
            "this is the performance view of the Strategy sheet (strategy, trades, "
            "win_rate, ...); it is regenerated from the ledger, not imported (RC003)");
        return;
    }
    static const char *const req[] = {"param_name", "value", NULL};
    if (!need_cols(c, h, req))
        return;
    int ci = col_of(h, "strategy_id"), cn = col_of(h, "param_name"), cv = col_of(h, "value"),
        cd = col_of(h, "description");
    for (size_t i = 1; i < t->n; i++) {
        const struct csv_row *r = &t->rows[i];
        c->line = r->line;
        c->row_bad = 0;
        struct qts_store_param p;
        memset(&p, 0, sizeof p);
        field(r, ci, p.strategy_id, sizeof p.strategy_id);
        if (!*p.strategy_id)
            qts_strlcpy(p.strategy_id, default_id, sizeof p.strategy_id);
        field(r, cn, p.param_name, sizeof p.param_name);
        if (!*p.param_name)
            bad(c, "param_name", "required value missing (RC001)");
        char v[512];
        field(r, cv, v, sizeof v);
        if (strlen(v) >= sizeof p.value)
            bad(c, "value", "longer than %zu characters", sizeof p.value - 1);
        qts_strlcpy(p.value, v, sizeof p.value);
        field(r, cd, p.description, sizeof p.description);
        qts_strlcpy(p.value_type, infer_type(p.value), sizeof p.value_type);
        if (c->row_bad)
            continue;
        union qts_store_any *rec = new_rec(c->imp, QTS_REC_PARAM, sizeof p, c->now_ns);
        p.h = rec->h;
        rec->param = p;
    }
}

static void import_config(struct ctx *c, const struct csv *t, const char *scope)
{
    static const char *const req[] = {"CATEGORY", "KEY", "VALUE", NULL};
    const struct csv_row *h = &t->rows[0];
    if (!need_cols(c, h, req))
        return;
    int cc = col_of(h, "CATEGORY"), cs = col_of(h, "SUB_CATEGORY"), ck = col_of(h, "KEY"),
        cv = col_of(h, "VALUE"), cd = col_of(h, "DESCRIPTION"), ct = col_of(h, "TAG");
    for (size_t i = 1; i < t->n; i++) {
        const struct csv_row *r = &t->rows[i];
        c->line = r->line;
        c->row_bad = 0;
        struct qts_store_config x;
        memset(&x, 0, sizeof x);
        qts_strlcpy(x.scope, scope, sizeof x.scope);
        field(r, cc, x.category, sizeof x.category);
        if (!*x.category)
            bad(c, "CATEGORY", "required value missing (RC001)");
        field(r, cs, x.subcategory, sizeof x.subcategory);
        field(r, ck, x.key, sizeof x.key);
        upper(x.key); /* looked up case-insensitively: stored upper-case */
        if (!*x.key)
            bad(c, "KEY", "required value missing (RC001)");
        field(r, cv, x.value, sizeof x.value);
        if (!*x.value)
            bad(c, "VALUE", "required value missing (RC001)");
        field(r, cd, x.description, sizeof x.description);
        field(r, ct, x.tag, sizeof x.tag);
        if (c->row_bad)
            continue;
        union qts_store_any *rec = new_rec(c->imp, QTS_REC_CONFIG, sizeof x, c->now_ns);
        x.h = rec->h;
        rec->config = x;
    }
}

/* ------------------------------------------------------------- driver */

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 65536, n = 0;
    char *buf = qts_xmalloc(cap);
    size_t r;
    while ((r = fread(buf + n, 1, cap - n, f)) > 0) {
        n += r;
        if (n == cap) {
            cap *= 2;
            buf = qts_xrealloc(buf, cap);
        }
    }
    fclose(f);
    *len = n;
    return buf;
}

int qts_sheet_import_load(const char *dir, const char *strategy_id, int64_t now_ns,
                          struct qts_sheet_import *out)
{
    memset(out, 0, sizeof *out);
    /* History first: positions' exposure_pct needs the latest equity */
    static const char *const files[] = {"History.csv",     "Position.csv",     "T_Ledger.csv",
                                        "Strategy.csv",    "Config_Local.csv", "Config_Scalp.csv",
                                        "Config_Swing.csv"};
    struct ctx c = {.imp = out, .now_ns = now_ns};
    int found = 0;
    for (size_t k = 0; k < QTS_ARRAY_LEN(files); k++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, files[k]);
        size_t len;
        char *text = read_file(path, &len);
        if (!text)
            continue;
        found++;
        c.file = files[k];
        size_t before = out->n;
        struct csv t = {0};
        int bad_line = csv_parse(text, len, &t);
        free(text);
        if (bad_line) {
            c.line = bad_line;
            bad(&c, "row", "unterminated quoted field");
        } else if (t.n == 0) {
            c.line = 1;
            bad(&c, "header", "empty file: no header row");
        } else if (k == 0) {
            import_history(&c, &t);
        } else if (k == 1) {
            import_position(&c, &t);
        } else if (k == 2) {
            import_ledger(&c, &t);
        } else if (k == 3) {
            import_strategy(&c, &t, strategy_id ? strategy_id : "DEFAULT");
        } else {
            import_config(&c, &t, k == 4 ? "LOCAL" : k == 5 ? "SCALP" : "SWING");
        }
        csv_free(&t);
        qts_strlcpy(out->files[out->n_files].file, files[k], sizeof out->files[0].file);
        out->files[out->n_files++].rows = out->n - before;
    }
    return found ? 0 : QTS_ENOENT;
}

void qts_sheet_import_free(struct qts_sheet_import *imp)
{
    if (!imp)
        return;
    for (size_t i = 0; i < imp->n_errors; i++)
        free(imp->errors[i]);
    free(imp->errors);
    free(imp->recs);
    memset(imp, 0, sizeof *imp);
}
