/* feed_store.c — market data from a store: replays the trades and quotes a
 * run recorded in tick_data, or the bars of ohlcv_1m / ohlcv_1d, from an
 * SQLite file or a PostgreSQL database (the design's "extract from the
 * database" step: record a paper run with store.ticks, backtest on it).
 * Pulled by the host with poll(); rows are read a page at a time in (time,
 * host, rec_id) order, so the events come out in the order they were
 * recorded. Config keys: README.md. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feed_common.h"
#include "feed_store.h"
#include "store_fmt.h"

#define FS_PAGE 4096

struct fs_inst {
    char symbol[QTS_SYMBOL_MAX];
    uint32_t id;
    uint8_t px_exp, qty_exp;
};

struct fs {
    struct feed_host fh;
    void *db;                                                    /* owned, through be */
    const struct fs_backend *be;                                 /* static */
    char *path, *conninfo, *schema, *run_id, *host_id, *symbols; /* owned */
    struct fs_query q;
    int64_t period_ns; /* bars */
    unsigned def_px_exp, def_qty_exp;
    struct fs_row *rows; /* owned page, FS_PAGE */
    int n_rows, at;
    bool eof;
    struct fs_inst *inst; /* owned, n_inst */
    size_t n_inst;
    uint64_t n_emitted, n_skipped;
};

static void destroy(void *self)
{
    struct fs *f = self;
    if (!f)
        return;
    if (f->db)
        f->be->close(f->db);
    free(f->path);
    free(f->conninfo);
    free(f->schema);
    free(f->run_id);
    free(f->host_id);
    free(f->symbols);
    free(f->rows);
    free(f->inst);
    free(f);
}

static char *cfg_str(struct fs *f, const char *k, const char *def)
{
    const char *s = NULL;
    if (f->fh.host->cfg_str(f->fh.owner, k, &s, NULL) == 0 && s)
        return feed_strdup(s);
    return def ? feed_strdup(def) : NULL;
}

/* "2024-08-08", "2024-08-08 12:00:00[.fff][Z|+hh:mm]" or ns since the epoch */
static int cfg_time(struct fs *f, const char *k, int64_t *out, struct qts_err *err)
{
    char *s = cfg_str(f, k, NULL);
    if (!s)
        return 0;
    int rc = 0;
    char *end = NULL;
    long long v = strtoll(s, &end, 10);
    if (*s && !*end)
        *out = v;
    else if (store_parse_ts(s, out) != 0)
        rc = qts_err_set(err, QTS_ECONFIG,
                         "%s '%s' is not a time (YYYY-MM-DD[ HH:MM:SS], UTC, or ns since "
                         "the epoch)",
                         k, s);
    free(s);
    return rc;
}

static int init(const struct qts_host_api *host, void *owner, void **self, struct qts_err *err)
{
    struct fs *f = feed_calloc(1, sizeof *f);
    f->fh.host = host;
    f->fh.owner = owner;
    f->fh.plugin = "feed_store";
    f->path = cfg_str(f, "path", NULL);
    f->conninfo = cfg_str(f, "conninfo", NULL);
    f->schema = cfg_str(f, "schema", "");
    f->run_id = cfg_str(f, "run", "");
    f->host_id = cfg_str(f, "host_id", "");
    f->symbols = feed_cfg_list(&f->fh, "symbols", NULL);
    char *table = cfg_str(f, "table", "tick_data");
    char *kinds = cfg_str(f, "kinds", "all");
    int rc = 0;
    int64_t pe = 2, qe = 0;
    f->q.from_ns = INT64_MIN / 2;
    f->q.to_ns = INT64_MAX / 2;
    if (!!f->path == !!f->conninfo)
        rc = qts_err_set(err, QTS_ECONFIG,
                         "set one of path (an SQLite file) and conninfo (PostgreSQL)");
    else if (strcmp(table, "tick_data") == 0)
        f->q.table = FS_TICKS;
    else if (strcmp(table, "ohlcv_1m") == 0)
        f->q.table = FS_BARS_1M, f->period_ns = STORE_NS_PER_MIN;
    else if (strcmp(table, "ohlcv_1d") == 0)
        f->q.table = FS_BARS_1D, f->period_ns = STORE_NS_PER_DAY;
    else
        rc = qts_err_set(err, QTS_ECONFIG, "table '%s': tick_data, ohlcv_1m or ohlcv_1d", table);
    if (rc == 0 && strcmp(kinds, "all") != 0 && strcmp(kinds, "trades") != 0)
        rc = qts_err_set(err, QTS_ECONFIG, "kinds '%s': all or trades", kinds);
    f->q.trades_only = strcmp(kinds, "trades") == 0;
    free(table);
    free(kinds);
    if (rc == 0 && (rc = cfg_time(f, "from", &f->q.from_ns, err)) == 0)
        rc = cfg_time(f, "to", &f->q.to_ns, err);
    if (rc == 0 && (rc = host->cfg_int(owner, "px_exp", &pe, err)) == QTS_ENOENT)
        rc = 0;
    if (rc == 0 && (rc = host->cfg_int(owner, "qty_exp", &qe, err)) == QTS_ENOENT)
        rc = 0;
    if (rc == 0 && (pe < 0 || pe > QTS_MAX_EXP || qe < 0 || qe > QTS_MAX_EXP))
        rc = qts_err_set(err, QTS_ECONFIG, "px_exp and qty_exp must be in 0..%d", QTS_MAX_EXP);
    if (rc == 0 && f->q.from_ns >= f->q.to_ns)
        rc = qts_err_set(err, QTS_ECONFIG, "from must be before to");
    if (rc != 0) {
        destroy(f);
        return rc;
    }
    f->def_px_exp = (unsigned)pe;
    f->def_qty_exp = (unsigned)qe;
    f->q.run_id = f->run_id;
    f->q.host_id = f->host_id;
    f->q.limit = FS_PAGE;
    f->q.after_ts = f->q.from_ns;
    f->q.after_rec = -1; /* (from, "", -1): every row at `from` is after it */
    *self = f;
    return 0;
}

static int start(void *self, struct qts_err *err)
{
    struct fs *f = self;
    int rc = f->path ? fs_sqlite_open(f->path, &f->db, &f->be, err)
                     : fs_postgres_open(f->conninfo, f->schema, &f->db, &f->be, err);
    if (rc != 0)
        return rc;
    f->rows = feed_calloc(FS_PAGE, sizeof *f->rows);
    static const char *const tables[] = {"tick_data", "ohlcv_1m", "ohlcv_1d"};
    f->fh.host->log(f->fh.owner, QTS_LOG_INFO, "store feed %s table=%s run=%s host=%s",
                    f->path ? f->path : "postgres", tables[f->q.table],
                    f->run_id[0] ? f->run_id : "(every run)",
                    f->host_id[0] ? f->host_id : "(every host)");
    return 0;
}

static int stop(void *self)
{
    (void)self;
    return 0;
}

/* Is `sym` one of the configured symbols (none configured: every one)? */
static bool wanted(const struct fs *f, const char *sym)
{
    if (!f->symbols)
        return true;
    size_t n = strlen(sym);
    for (const char *p = f->symbols; *p;) {
        const char *c = strchr(p, ',');
        size_t len = c ? (size_t)(c - p) : strlen(p);
        while (len && *p == ' ')
            p++, len--;
        if (len == n && memcmp(p, sym, n) == 0)
            return true;
        if (!c)
            break;
        p = c + 1;
    }
    return false;
}

/* The instrument of a symbol, defined in the host on first use with the
 * configured instrument's exponents (else px_exp/qty_exp). */
static const struct fs_inst *inst_of(struct fs *f, const char *sym, struct qts_err *err)
{
    for (size_t i = 0; i < f->n_inst; i++)
        if (strcmp(f->inst[i].symbol, sym) == 0)
            return &f->inst[i];
    struct qts_md_inst mi;
    memset(&mi, 0, sizeof mi);
    feed_copy(mi.symbol, sym, sizeof mi.symbol);
    feed_copy(mi.venue, "store", sizeof mi.venue);
    const struct qts_instrument *known =
        f->fh.host->instrument_find ? f->fh.host->instrument_find(f->fh.owner, sym) : NULL;
    mi.px_exp = known ? known->px_exp : (uint8_t)f->def_px_exp;
    mi.qty_exp = known ? known->qty_exp : (uint8_t)f->def_qty_exp;
    if (known)
        feed_copy(mi.venue, known->venue, sizeof mi.venue);
    if (feed_define(&f->fh, &mi, err) != 0)
        return NULL;
    f->inst = feed_realloc(f->inst, (f->n_inst + 1) * sizeof *f->inst);
    struct fs_inst *d = &f->inst[f->n_inst++];
    feed_copy(d->symbol, sym, sizeof d->symbol);
    d->id = mi.id;
    d->px_exp = mi.px_exp;
    d->qty_exp = mi.qty_exp;
    return d;
}

static int64_t fixed(const struct fs_row *r, int k, unsigned exp, bool *bad)
{
    int64_t v = 0;
    if (r->null[k] || store_parse_fixed(r->v[k], exp, &v) != 0)
        *bad = true;
    return v;
}

/* The event of one row into *ev; 1 = made, 0 = skipped (a quote without
 * both sides, an unparsable value), < 0 error. */
static int make_event(struct fs *f, const struct fs_row *r, union qts_md_event *ev,
                      struct qts_err *err)
{
    const struct fs_inst *in = inst_of(f, r->symbol, err);
    if (!in)
        return err->code ? err->code : QTS_EINVAL;
    memset(ev, 0, sizeof *ev);
    struct qts_ev_hdr *h = &ev->h;
    h->px_exp = in->px_exp;
    h->qty_exp = in->qty_exp;
    h->instrument = in->id;
    h->ts_exch_ns = h->ts_recv_ns = r->ts_ns;
    bool bad = false;
    if (f->q.table != FS_TICKS) {
        h->struct_size = sizeof ev->bar;
        h->type = QTS_EV_BAR;
        h->ts_recv_ns = r->ts_ns + f->period_ns; /* a bar is known when it closes */
        ev->bar.period_ns = f->period_ns;
        ev->bar.open = fixed(r, 0, in->px_exp, &bad);
        ev->bar.high = fixed(r, 1, in->px_exp, &bad);
        ev->bar.low = fixed(r, 2, in->px_exp, &bad);
        ev->bar.close = fixed(r, 3, in->px_exp, &bad);
        ev->bar.volume = r->null[4] ? 0 : fixed(r, 4, in->qty_exp, &bad);
        ev->bar.n_trades = r->n_trades;
    } else if (r->kind == 1) {
        h->struct_size = sizeof ev->trade;
        h->type = QTS_EV_TRADE;
        ev->trade.px = fixed(r, 0, in->px_exp, &bad);
        ev->trade.qty = fixed(r, 1, in->qty_exp, &bad);
        ev->trade.aggressor = QTS_SIDE_NONE; /* tick_data does not keep it */
    } else {
        h->struct_size = sizeof ev->quote;
        h->type = QTS_EV_QUOTE;
        ev->quote.bid_px = fixed(r, 2, in->px_exp, &bad);
        ev->quote.ask_px = fixed(r, 3, in->px_exp, &bad);
    }
    return bad ? 0 : 1;
}

static int poll_events(void *self, uint32_t max_events)
{
    struct fs *f = self;
    uint32_t n = 0;
    struct qts_err err;
    qts_err_clear(&err);
    while (n < max_events) {
        if (f->at == f->n_rows) {
            if (f->eof)
                return n ? (int)n : QTS_EEOF;
            int got = f->be->page(f->db, &f->q, f->rows, &err);
            if (got < 0) {
                f->fh.host->log(f->fh.owner, QTS_LOG_ERROR, "%s", err.msg);
                return got;
            }
            f->n_rows = got;
            f->at = 0;
            f->eof = got < (int)f->q.limit;
            if (got == 0)
                continue;
            const struct fs_row *last = &f->rows[got - 1];
            f->q.after_ts = last->ts_ns;
            feed_copy(f->q.after_key, last->key, sizeof f->q.after_key);
            f->q.after_rec = last->rec_id;
        }
        const struct fs_row *r = &f->rows[f->at];
        if (!wanted(f, r->symbol)) {
            f->at++;
            continue;
        }
        union qts_md_event ev;
        int rc = make_event(f, r, &ev, &err);
        if (rc < 0) {
            f->fh.host->log(f->fh.owner, QTS_LOG_ERROR, "%s", err.msg);
            return rc;
        }
        if (rc == 0) {
            f->n_skipped++;
            f->at++;
            continue;
        }
        rc = feed_emit(&f->fh, &ev);
        if (rc == QTS_EAGAIN)
            break; /* the host's pace: offered again next poll */
        if (rc < 0)
            return rc;
        f->at++;
        f->n_emitted++;
        n++;
    }
    return (int)n;
}

static const struct qts_feed_ops ops = {.struct_size = sizeof(struct qts_feed_ops),
                                        .poll = poll_events};

static const struct qts_cfg_key fs_keys[] = {
    QTS_CFG_STR("path", NULL, "SQLite database file (store_sqlite's path); or conninfo"),
    QTS_CFG_STR("conninfo", NULL, "PostgreSQL connection string; or path"),
    QTS_CFG_STR("schema", NULL,
                "PostgreSQL: the schema holding the tables (default: the search_path)"),
    QTS_CFG_STR("table", "tick_data", "tick_data, ohlcv_1m or ohlcv_1d"),
    QTS_CFG_STR("run", NULL, "tick_data: only the rows of this run id (default: every run's)"),
    QTS_CFG_STR("host_id", NULL, "tick_data: only the rows of this host (default: every host's)"),
    QTS_CFG_STR("kinds", "all", "tick_data: all (trades and quotes) or trades"),
    QTS_CFG_LIST("symbols", NULL, "only these symbols (default: every symbol)"),
    QTS_CFG_STR("from", NULL, "first time replayed (YYYY-MM-DD[ HH:MM:SS] UTC, or ns)"),
    QTS_CFG_STR("to", NULL, "end of the replay, exclusive (same forms)"),
    QTS_CFG_INT("px_exp", "2", "price decimals of a symbol not under instruments:"),
    QTS_CFG_INT("qty_exp", "0", "quantity decimals of a symbol not under instruments:"),
    FEED_KEY_SPEED,
    QTS_CFG_END};

QTS_PLUGIN_DEFINE("feed_store", QTS_KIND_FEED, "1.0.0", &ops, fs_keys, 0, .init = init,
                  .start = start, .stop = stop, .destroy = destroy);
