/* md_csv.c — see md_csv.h.
 * Column roles by kind:            a       b        c       d       e       f       g
 *   trades:                        price   qty      side    id
 *   quotes:                        bid_px  bid_qty  ask_px  ask_qty
 *   bars:                          open    high     low     close   volume  trades  */
#include "md_csv.h"

#include <strings.h>
#include <string.h>

#include "util.h"

int qts_md_csv_init(struct qts_md_csv *c, int kind, struct qts_md_symtab *syms, const char *symbol,
                    int64_t bar_period_ns, struct qts_err *err)
{
    memset(c, 0, sizeof *c);
    if (kind < QTS_MD_CSV_TRADES || kind > QTS_MD_CSV_BARS)
        return qts_err_set(err, QTS_EINVAL, "unknown CSV kind %d", kind);
    c->kind = kind;
    c->syms = syms;
    if (symbol)
        qts_strlcpy(c->symbol, symbol, sizeof c->symbol);
    c->bar_period_ns = bar_period_ns > 0 ? bar_period_ns : 0; /* 0: set by the first row */
    return 0;
}

static bool is(const char *s, size_t n, const char *const *names)
{
    for (; *names; names++)
        if (strlen(*names) == n && strncasecmp(s, *names, n) == 0)
            return true;
    return false;
}

static const char *const N_TS[] = {"time",     "timestamp", "timestamp_utc", "date", "ts",
                                   "datetime", NULL};
static const char *const N_SYM[] = {"symbol", "instrument", "sym", NULL};
static const char *const N_PX[] = {"price", "px", NULL};
static const char *const N_QTY[] = {"qty", "quantity", "size", "amount", NULL};
static const char *const N_SIDE[] = {"side", "aggressor", NULL};
static const char *const N_ID[] = {"id", "trade_id", NULL};
static const char *const N_BPX[] = {"bid_px", "bid", "bid_price", NULL};
static const char *const N_BQ[] = {"bid_qty", "bid_size", NULL};
static const char *const N_APX[] = {"ask_px", "ask", "ask_price", NULL};
static const char *const N_AQ[] = {"ask_qty", "ask_size", NULL};
static const char *const N_O[] = {"open", "o", NULL};
static const char *const N_H[] = {"high", "h", NULL};
static const char *const N_L[] = {"low", "l", NULL};
static const char *const N_C[] = {"close", "c", NULL};
static const char *const N_V[] = {"volume", "vol", "v", NULL};
static const char *const N_N[] = {"trades", "n_trades", "count", NULL};

static int split(const char *line, size_t n, const char **f, size_t *fl);

int qts_md_csv_guess(const char *line, size_t n)
{
    const char *f[QTS_MD_CSV_MAXCOL];
    size_t fl[QTS_MD_CSV_MAXCOL];
    int k = split(line, n, f, fl);
    bool o = false, h = false, l = false, c = false, bid = false, ask = false, px = false,
         qty = false;
    for (int i = 0; i < k; i++) {
        size_t len = fl[i];
        while (len && (f[i][len - 1] == '\r' || f[i][len - 1] == ' '))
            len--;
        o |= is(f[i], len, N_O);
        h |= is(f[i], len, N_H);
        l |= is(f[i], len, N_L);
        c |= is(f[i], len, N_C);
        bid |= is(f[i], len, N_BPX);
        ask |= is(f[i], len, N_APX);
        px |= is(f[i], len, N_PX);
        qty |= is(f[i], len, N_QTY);
    }
    if (o && h && l && c)
        return QTS_MD_CSV_BARS;
    if (bid && ask)
        return QTS_MD_CSV_QUOTES;
    if (px && qty)
        return QTS_MD_CSV_TRADES;
    return 0;
}

/* Split into at most QTS_MD_CSV_MAXCOL fields (no quoting: the formats have
 * no text fields that need it). */
static int split(const char *line, size_t n, const char **f, size_t *fl)
{
    int k = 0;
    const char *p = line, *end = line + n;
    for (;;) {
        const char *c = memchr(p, ',', (size_t)(end - p));
        const char *e = c ? c : end;
        if (k == QTS_MD_CSV_MAXCOL)
            return -1;
        const char *b = p;
        while (b < e && *b == ' ')
            b++;
        const char *t = e;
        while (t > b && t[-1] == ' ')
            t--;
        f[k] = b;
        fl[k] = (size_t)(t - b);
        k++;
        if (!c)
            return k;
        p = c + 1;
    }
}

static int header(struct qts_md_csv *c, const char **f, const size_t *fl, int k,
                  struct qts_err *err)
{
    c->c_ts = c->c_sym = c->c_a = c->c_b = c->c_c = c->c_d = c->c_e = c->c_f = c->c_g = -1;
    for (int i = 0; i < k; i++) {
        const char *s = f[i];
        size_t n = fl[i];
        if ((i == 0 && n == 0) || is(s, n, N_TS))
            c->c_ts = i;
        else if (is(s, n, N_SYM))
            c->c_sym = i;
        else if (c->kind == QTS_MD_CSV_TRADES) {
            if (is(s, n, N_PX))
                c->c_a = i;
            else if (is(s, n, N_QTY))
                c->c_b = i;
            else if (is(s, n, N_SIDE))
                c->c_c = i;
            else if (is(s, n, N_ID))
                c->c_d = i;
        } else if (c->kind == QTS_MD_CSV_QUOTES) {
            if (is(s, n, N_BPX))
                c->c_a = i;
            else if (is(s, n, N_BQ))
                c->c_b = i;
            else if (is(s, n, N_APX))
                c->c_c = i;
            else if (is(s, n, N_AQ))
                c->c_d = i;
        } else {
            if (is(s, n, N_O))
                c->c_a = i;
            else if (is(s, n, N_H))
                c->c_b = i;
            else if (is(s, n, N_L))
                c->c_c = i;
            else if (is(s, n, N_C))
                c->c_d = i;
            else if (is(s, n, N_V))
                c->c_e = i;
            else if (is(s, n, N_N))
                c->c_f = i;
        }
    }
    const char *miss = NULL;
    if (c->c_ts < 0)
        miss = "time";
    else if (c->kind == QTS_MD_CSV_TRADES && (c->c_a < 0 || c->c_b < 0))
        miss = "price/qty";
    else if (c->kind == QTS_MD_CSV_QUOTES && (c->c_a < 0 || c->c_c < 0))
        miss = "bid_px/ask_px";
    else if (c->kind == QTS_MD_CSV_BARS && (c->c_a < 0 || c->c_b < 0 || c->c_c < 0 || c->c_d < 0))
        miss = "open/high/low/close";
    else if (c->c_sym < 0 && c->symbol[0] == '\0')
        miss = "symbol (no column and no symbol configured)";
    if (miss) /* nothing in this file can be read */
        return qts_err_set(err, QTS_ECONFIG, "CSV header lacks a %s column", miss);
    c->ncols = k;
    c->has_header = true;
    return 0;
}

static int fx(const char **f, const size_t *fl, int col, unsigned exp, int64_t *out,
              const char *name, struct qts_err *err)
{
    if (col < 0) {
        *out = 0;
        return 0;
    }
    int rc = qts_md_parse_fixed(f[col], fl[col], exp, out);
    if (rc < 0)
        return qts_err_set(err, rc, "%s '%.*s': %s", name, (int)(fl[col] > 40 ? 40 : fl[col]),
                           f[col],
                           rc == QTS_ERANGE ? "more decimals than configured or too large"
                                            : "not a decimal number");
    return 0;
}

int qts_md_csv_decode(struct qts_md_csv *c, const char *line, size_t n, union qts_md_event *ev,
                      struct qts_err *err)
{
    if (n == 0 || (n == 1 && line[0] == '\r'))
        return 0;
    const char *f[QTS_MD_CSV_MAXCOL];
    size_t fl[QTS_MD_CSV_MAXCOL];
    int k = split(line, n, f, fl);
    if (k < 0)
        return qts_err_set(err, QTS_EPARSE, "more than %d columns", QTS_MD_CSV_MAXCOL);
    if (!c->has_header) {
        int rc = header(c, f, fl, k, err);
        return rc < 0 ? rc : 0;
    }
    if (k != c->ncols)
        return qts_err_set(err, QTS_EPARSE, "%d columns, the header has %d", k, c->ncols);
    int64_t ts;
    if (qts_md_parse_time(f[c->c_ts], fl[c->c_ts], &ts) < 0)
        return qts_err_set(err, QTS_EPARSE, "bad time '%.*s'",
                           (int)(fl[c->c_ts] > 40 ? 40 : fl[c->c_ts]), f[c->c_ts]);
    if (c->bar_period_ns == 0) /* not configured: "2024-01-02" is a daily bar */
        c->bar_period_ns =
            fl[c->c_ts] == 10 && f[c->c_ts][4] == '-' ? 86400000000000LL : 60000000000LL;
    struct qts_md_inst *in = c->c_sym >= 0
                                 ? qts_md_symtab_get(c->syms, f[c->c_sym], fl[c->c_sym], err)
                                 : qts_md_symtab_get(c->syms, c->symbol, strlen(c->symbol), err);
    if (!in)
        return err ? err->code : QTS_EINVAL;
    memset(ev, 0, sizeof *ev);
    ev->h.px_exp = in->px_exp;
    ev->h.qty_exp = in->qty_exp;
    ev->h.instrument = in->id;
    ev->h.ts_exch_ns = ts;
    ev->h.ts_recv_ns = ts;
    unsigned pe = in->px_exp, qe = in->qty_exp;
    if (c->kind == QTS_MD_CSV_TRADES) {
        struct qts_trade *t = &ev->trade;
        t->h.type = QTS_EV_TRADE;
        t->h.struct_size = sizeof *t;
        if (fx(f, fl, c->c_a, pe, &t->px, "price", err) < 0 ||
            fx(f, fl, c->c_b, qe, &t->qty, "qty", err) < 0)
            return err ? err->code : QTS_EPARSE;
        if (t->px <= 0 || t->qty <= 0)
            return qts_err_set(err, QTS_ERANGE, "price and qty must be positive");
        if (c->c_c >= 0 && fl[c->c_c] > 0) {
            char s0 = f[c->c_c][0];
            if (s0 == 'b' || s0 == 'B')
                t->aggressor = QTS_SIDE_BUY;
            else if (s0 == 's' || s0 == 'S')
                t->aggressor = QTS_SIDE_SELL;
            else
                return qts_err_set(err, QTS_EPARSE, "side '%.*s' is not buy or sell",
                                   (int)(fl[c->c_c] > 20 ? 20 : fl[c->c_c]), f[c->c_c]);
        }
        if (c->c_d >= 0 && fl[c->c_d] > 0 &&
            qts_md_parse_u64(f[c->c_d], fl[c->c_d], &t->trade_id) < 0)
            return qts_err_set(err, QTS_EPARSE, "bad trade id");
        return 1;
    }
    if (c->kind == QTS_MD_CSV_QUOTES) {
        struct qts_quote *q = &ev->quote;
        q->h.type = QTS_EV_QUOTE;
        q->h.struct_size = sizeof *q;
        if (fx(f, fl, c->c_a, pe, &q->bid_px, "bid_px", err) < 0 ||
            fx(f, fl, c->c_b, qe, &q->bid_qty, "bid_qty", err) < 0 ||
            fx(f, fl, c->c_c, pe, &q->ask_px, "ask_px", err) < 0 ||
            fx(f, fl, c->c_d, qe, &q->ask_qty, "ask_qty", err) < 0)
            return err ? err->code : QTS_EPARSE;
        if (q->bid_px < 0 || q->ask_px < 0 || q->bid_qty < 0 || q->ask_qty < 0)
            return qts_err_set(err, QTS_ERANGE, "negative price or quantity");
        return 1;
    }
    struct qts_bar *b = &ev->bar;
    b->h.type = QTS_EV_BAR;
    b->h.struct_size = sizeof *b;
    b->period_ns = c->bar_period_ns;
    if (fx(f, fl, c->c_a, pe, &b->open, "open", err) < 0 ||
        fx(f, fl, c->c_b, pe, &b->high, "high", err) < 0 ||
        fx(f, fl, c->c_c, pe, &b->low, "low", err) < 0 ||
        fx(f, fl, c->c_d, pe, &b->close, "close", err) < 0 ||
        fx(f, fl, c->c_e, qe, &b->volume, "volume", err) < 0)
        return err ? err->code : QTS_EPARSE;
    if (c->c_f >= 0 && fl[c->c_f] > 0) {
        uint64_t nt;
        if (qts_md_parse_u64(f[c->c_f], fl[c->c_f], &nt) < 0 || nt > (uint64_t)INT64_MAX)
            return qts_err_set(err, QTS_EPARSE, "bad trade count");
        b->n_trades = (int64_t)nt;
    }
    if (b->high < b->low || b->open > b->high || b->open < b->low || b->close > b->high ||
        b->close < b->low || b->volume < 0)
        return qts_err_set(err, QTS_ERANGE, "inconsistent bar (high/low/open/close)");
    /* bars are stamped at their close: that is when they are known */
    if (__builtin_add_overflow(ts, b->period_ns, &b->h.ts_recv_ns))
        return qts_err_set(err, QTS_ERANGE, "bar close time out of range");
    return 1;
}
