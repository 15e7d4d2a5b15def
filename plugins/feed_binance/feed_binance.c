/* feed_binance.c — Binance public market data, spot and USD-M futures, no
 * keys: trades, bookTicker and diff-depth over one combined-stream
 * WebSocket (bn_ws.c), the depth snapshot and exchangeInfo over the host's
 * HTTP service (libcurl on the core loop). The feed delivers on its own
 * (QTS_CAP_THREADS: no poll): it defines the instruments from
 * exchangeInfo, then emits every frame as it arrives.
 *
 * Each symbol's depth is synchronised by Binance's rules for a local order
 * book: diffs are buffered while a REST snapshot is fetched; the snapshot
 * goes to the host (QTS_BOOK_SNAPSHOT); buffered diffs with u <= lastUpdateId
 * (futures: u < lastUpdateId) are dropped; the first one applied must have
 * U <= lastUpdateId+1 <= u (futures: U <= lastUpdateId <= u); each later one
 * U == previous u + 1 (futures: pu == previous u). Any break is logged as a
 * gap and the symbol resynchronises from a new snapshot; so does every
 * symbol after a reconnect. Config keys: plugins/feed_binance/README.md. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "bn_book.h"
#include "bn_ws.h"
#include "feed_common.h"
#include "md_binance.h"
#include "qts/qts_plugin.h"

enum sync_state {
    SYNC_IDLE = 0, /* no diff since (re)connect: the first one starts a sync */
    SYNC_SNAP,     /* buffering diffs, the snapshot is on its way */
    SYNC_FIRST,    /* snapshot applied, the bridging diff is next */
    SYNC_LIVE,     /* in sequence */
};

#define BUF_MAX 4096 /* diffs buffered while a snapshot is fetched */

struct bsym {
    char name[QTS_SYMBOL_MAX]; /* as configured, upper case */
    bool listed;               /* found in exchangeInfo */
    uint8_t px_exp, qty_exp;
    int64_t tick, lot, min_qty;
    int state;
    uint64_t last_u;
    uint32_t gen; /* bumped on every resync: late snapshot answers are ignored */
    char **buf;   /* owned lines "<recv ns> <json>", buf_n of them */
    size_t buf_n;
    struct bn_book book;
    uint64_t frames, gaps, resyncs, logged_mismatch;
};

struct bfeed {
    struct feed_host fh;
    bool usdm, stopped;
    char ws_url[256], rest_url[256], depth_speed[16];
    int64_t depth_limit, rc_min, rc_max, session_max_s;
    struct bsym *s; /* owned, n_s */
    size_t n_s;
    struct qts_md_symtab syms;
    struct qts_md_binance dec;
    struct bn_ws *ws;
    uint64_t info_timer;
    char *line; /* owned scratch for "<recv ns> <json>" */
    size_t line_cap;
    uint64_t reconnects, ups;
    /* frame received (service thread) -> emitted into the host (core loop),
     * ns; the newest LAT_MAX kept, summed up at stop */
    int64_t *lat;
    size_t lat_n;
    uint64_t lat_total;
};

#define LAT_MAX (1u << 20)

struct http_arg {
    struct bfeed *f;
    size_t sym; /* index in f->s, or SIZE_MAX for exchangeInfo */
    uint32_t gen;
};

#define LOG(f, lvl, ...) (f)->fh.host->log((f)->fh.owner, (lvl), __VA_ARGS__)

static struct bsym *find_sym(struct bfeed *f, const char *name)
{
    for (size_t i = 0; i < f->n_s; i++)
        if (strcmp(f->s[i].name, name) == 0)
            return &f->s[i];
    return NULL;
}

/* qts_md_define_fn: only symbols exchangeInfo listed are defined, with
 * their tick and lot sizes. */
static int define_inst(void *arg, struct qts_md_inst *inst, struct qts_err *err)
{
    struct bfeed *f = arg;
    struct bsym *s = find_sym(f, inst->symbol);
    if (!s || !s->listed)
        return qts_err_set(err, QTS_EINVAL, "symbol %s is not subscribed", inst->symbol);
    struct qts_instrument in;
    memset(&in, 0, sizeof in);
    in.struct_size = sizeof in;
    feed_copy(in.symbol, s->name, sizeof in.symbol);
    feed_copy(in.venue, f->usdm ? "binance-usdm" : "binance", sizeof in.venue);
    in.px_exp = s->px_exp;
    in.qty_exp = s->qty_exp;
    in.flags = QTS_INST_TRADABLE;
    in.tick_size = s->tick;
    in.lot_size = s->lot;
    in.min_qty = s->min_qty;
    uint32_t id = 0;
    int rc = f->fh.host->instrument_define(f->fh.owner, &in, &id);
    if (rc < 0)
        return qts_err_set(err, rc, "instrument %s rejected by the host (%s)", s->name,
                           qts_strerror(rc));
    inst->id = id;
    return 0;
}

static void free_buf(struct bsym *s)
{
    for (size_t i = 0; i < s->buf_n; i++)
        free(s->buf[i]);
    s->buf_n = 0;
}

static void destroy(void *self)
{
    struct bfeed *f = self;
    if (!f)
        return;
    bn_ws_stop(f->ws);
    for (size_t i = 0; i < f->n_s; i++) {
        free_buf(&f->s[i]);
        free(f->s[i].buf);
        bn_book_free(&f->s[i].book);
    }
    free(f->s);
    qts_md_binance_cleanup(&f->dec);
    qts_md_symtab_cleanup(&f->syms);
    free(f->line);
    free(f->lat);
    free(f);
}

static int cfg_str(struct bfeed *f, const char *k, char *out, size_t cap, struct qts_err *err)
{
    const char *v = NULL;
    int rc = f->fh.host->cfg_str(f->fh.owner, k, &v, err);
    if (rc == QTS_ENOENT)
        return 0;
    if (rc < 0)
        return rc;
    feed_copy(out, v, cap);
    return 0;
}

static int cfg_int(struct bfeed *f, const char *k, int64_t *v, int64_t lo, int64_t hi,
                   struct qts_err *err)
{
    int rc = f->fh.host->cfg_int(f->fh.owner, k, v, err);
    if (rc == QTS_ENOENT)
        return 0;
    if (rc < 0)
        return rc;
    if (*v < lo || *v > hi)
        return qts_err_set(err, QTS_ECONFIG, "%s must be in %" PRId64 "..%" PRId64, k, lo, hi);
    return 0;
}

static int init(const struct qts_host_api *host, void *owner, void **self, struct qts_err *err)
{
    struct bfeed *f = feed_calloc(1, sizeof *f);
    f->fh.host = host;
    f->fh.owner = owner;
    f->fh.plugin = "feed_binance";
    qts_md_symtab_init(&f->syms);
    f->syms.define = define_inst;
    f->syms.define_arg = f;
    qts_md_binance_init(&f->dec, &f->syms);
    char market[16] = "spot";
    f->depth_limit = 1000;
    f->rc_min = 500;
    f->rc_max = 30000;
    f->session_max_s = 85800; /* 23 h 50 min: before Binance's 24-hour cut */
    feed_copy(f->depth_speed, "100ms", sizeof f->depth_speed);
    int rc;
    if ((rc = cfg_str(f, "market", market, sizeof market, err)) < 0 ||
        (rc = cfg_str(f, "ws_url", f->ws_url, sizeof f->ws_url, err)) < 0 ||
        (rc = cfg_str(f, "rest_url", f->rest_url, sizeof f->rest_url, err)) < 0 ||
        (rc = cfg_str(f, "depth_speed", f->depth_speed, sizeof f->depth_speed, err)) < 0 ||
        (rc = cfg_int(f, "depth_limit", &f->depth_limit, 5, 5000, err)) < 0 ||
        (rc = cfg_int(f, "reconnect_min_ms", &f->rc_min, 10, 600000, err)) < 0 ||
        (rc = cfg_int(f, "reconnect_max_ms", &f->rc_max, 10, 3600000, err)) < 0 ||
        (rc = cfg_int(f, "session_max_s", &f->session_max_s, 0, 86400, err)) < 0)
        goto fail;
    if (strcmp(market, "spot") != 0 && strcmp(market, "usdm") != 0) {
        rc = qts_err_set(err, QTS_ECONFIG, "market '%s': expected spot or usdm", market);
        goto fail;
    }
    if (strcmp(f->depth_speed, "100ms") != 0 && strcmp(f->depth_speed, "0ms") != 0 &&
        strcmp(f->depth_speed, "250ms") != 0 && strcmp(f->depth_speed, "500ms") != 0 &&
        strcmp(f->depth_speed, "1000ms") != 0) {
        rc = qts_err_set(err, QTS_ECONFIG,
                         "depth_speed '%s': expected 0ms, 100ms, 250ms, "
                         "500ms or 1000ms",
                         f->depth_speed);
        goto fail;
    }
    f->usdm = market[0] == 'u';
    if (!f->ws_url[0])
        feed_copy(f->ws_url,
                  f->usdm ? "wss://fstream.binance.com" : "wss://stream.binance.com:9443",
                  sizeof f->ws_url);
    if (!f->rest_url[0])
        feed_copy(f->rest_url, f->usdm ? "https://fapi.binance.com" : "https://api.binance.com",
                  sizeof f->rest_url);
    if (strncmp(f->ws_url, "ws://", 5) != 0 && strncmp(f->ws_url, "wss://", 6) != 0) {
        rc = qts_err_set(err, QTS_ECONFIG, "ws_url '%s': expected ws:// or wss://", f->ws_url);
        goto fail;
    }
    char *list = feed_cfg_list(&f->fh, "symbols", NULL);
    if (!list) {
        rc = qts_err_set(err, QTS_ECONFIG, "symbols: name at least one symbol, e.g. BTCUSDT");
        goto fail;
    }
    for (char *p = list, *save = NULL, *t; (t = strtok_r(p, ", ", &save)); p = NULL) {
        f->s = feed_realloc(f->s, (f->n_s + 1) * sizeof *f->s);
        struct bsym *s = &f->s[f->n_s++];
        memset(s, 0, sizeof *s);
        feed_copy(s->name, t, sizeof s->name);
        for (char *c = s->name; *c; c++)
            if (*c >= 'a' && *c <= 'z')
                *c = (char)(*c - 'a' + 'A');
    }
    free(list);
    if (!f->n_s) {
        rc = qts_err_set(err, QTS_ECONFIG, "symbols: name at least one symbol, e.g. BTCUSDT");
        goto fail;
    }
    *self = f;
    return 0;
fail:
    destroy(f);
    return rc;
}

/* "<recv ns> <json>" in f->line, as md_binance reads captures. */
static const char *make_line(struct bfeed *f, const char *json, size_t n, int64_t recv_ns,
                             size_t *len)
{
    if (n + 32 > f->line_cap) {
        f->line_cap = n + 4096;
        f->line = feed_realloc(f->line, f->line_cap);
    }
    int k = snprintf(f->line, 32, "%" PRId64 " ", recv_ns);
    memcpy(f->line + k, json, n);
    *len = (size_t)k + n;
    f->line[*len] = '\0';
    return f->line;
}

static void request_snapshot(struct bfeed *f, size_t i);

static void log_mismatch(struct bfeed *f, struct bsym *s)
{
    if (s->logged_mismatch++ >= 5)
        return;
    const struct bn_top *b = &s->book.bad_book, *t = &s->book.bad_ticker;
    LOG(f, QTS_LOG_WARN,
        "%s: the book at u=%" PRIu64 " differs from its bookTicker: book %" PRId64 " x %" PRId64
        " / %" PRId64 " x %" PRId64 ", bookTicker %" PRId64 " x %" PRId64 " / %" PRId64
        " x %" PRId64,
        s->name, t->u, b->bid_px, b->bid_qty, b->ask_px, b->ask_qty, t->bid_px, t->bid_qty,
        t->ask_px, t->ask_qty);
}

static void emit_ev(struct bfeed *f, const union qts_md_event *ev)
{
    int rc = feed_emit(&f->fh, ev);
    if (rc < 0 && rc != QTS_EAGAIN)
        f->fh.host->metric_add(f->fh.owner, "emit_failed", 1);
}

/* A gap: log it, buffer nothing older, fetch a new snapshot. */
static void resync(struct bfeed *f, size_t i, const char *why)
{
    struct bsym *s = &f->s[i];
    s->gaps++;
    f->fh.host->metric_add(f->fh.owner, "gaps", 1);
    LOG(f, QTS_LOG_WARN, "%s: depth gap (%s): resynchronising from a REST snapshot", s->name, why);
    free_buf(s);
    request_snapshot(f, i);
}

/* One diff in order, by the rules in the head comment. Returns false when it
 * broke the sequence (a resync has started). */
static bool apply_diff(struct bfeed *f, size_t i, const union qts_md_event *ev)
{
    struct bsym *s = &f->s[i];
    const struct qts_book_update *d = &ev->book;
    uint64_t U = d->first_update_id, u = d->last_update_id;
    char why[160];
    if (f->usdm ? u < s->last_u : u <= s->last_u)
        return true; /* older than the book: dropped */
    if (s->state == SYNC_FIRST) {
        bool ok =
            f->usdm ? U <= s->last_u && s->last_u <= u : U <= s->last_u + 1 && s->last_u + 1 <= u;
        if (!ok) {
            snprintf(why, sizeof why,
                     "first diff U=%" PRIu64 " u=%" PRIu64 " does not bridge lastUpdateId=%" PRIu64,
                     U, u, s->last_u);
            resync(f, i, why);
            return false;
        }
    } else if (f->usdm ? d->prev_update_id != s->last_u : U != s->last_u + 1) {
        snprintf(why, sizeof why, "expected %s%" PRIu64 ", got U=%" PRIu64 " u=%" PRIu64,
                 f->usdm ? "pu=" : "U=", f->usdm ? s->last_u : s->last_u + 1, U, u);
        resync(f, i, why);
        return false;
    }
    s->state = SYNC_LIVE;
    s->last_u = u;
    if (bn_book_diff(&s->book, d))
        log_mismatch(f, s);
    emit_ev(f, ev);
    return true;
}

static size_t sym_index(struct bfeed *f, uint32_t instrument)
{
    for (size_t i = 0; i < f->n_s; i++) {
        const struct qts_instrument *in = f->fh.host->instrument_find(f->fh.owner, f->s[i].name);
        if (in && in->id == instrument)
            return i;
    }
    return SIZE_MAX;
}

static void on_depth(struct bfeed *f, size_t i, const union qts_md_event *ev, const char *line,
                     size_t len)
{
    struct bsym *s = &f->s[i];
    if (s->state == SYNC_IDLE) {
        request_snapshot(f, i);
    }
    if (s->state == SYNC_SNAP) {
        if (s->buf_n == BUF_MAX) { /* the snapshot is late: keep the newest */
            free(s->buf[0]);
            memmove(s->buf, s->buf + 1, (BUF_MAX - 1) * sizeof *s->buf);
            s->buf_n--;
        }
        s->buf = feed_realloc(s->buf, (s->buf_n + 1) * sizeof *s->buf);
        char *c = feed_realloc(NULL, len + 1);
        memcpy(c, line, len + 1);
        s->buf[s->buf_n++] = c;
        return;
    }
    apply_diff(f, i, ev);
}

static int64_t wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void note_latency(struct bfeed *f, int64_t recv_ns)
{
    if (!f->lat)
        f->lat = feed_calloc(LAT_MAX, sizeof *f->lat);
    f->lat[f->lat_total++ % LAT_MAX] = wall_now() - recv_ns;
    if (f->lat_n < LAT_MAX)
        f->lat_n++;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static void on_frame(struct bfeed *f, const char *json, size_t n, int64_t recv_ns)
{
    size_t len;
    const char *line = make_line(f, json, n, recv_ns, &len);
    union qts_md_event ev;
    struct qts_err err;
    qts_err_clear(&err);
    int rc = qts_md_binance_decode(&f->dec, line, len, &ev, &err);
    if (rc == 0)
        return; /* a stream qts does not use, or a subscription answer */
    if (rc < 0) {
        f->fh.host->metric_add(f->fh.owner, "malformed", 1);
        LOG(f, QTS_LOG_WARN, "malformed frame skipped: %s", err.msg);
        return;
    }
    size_t i = sym_index(f, ev.h.instrument);
    if (i == SIZE_MAX)
        return;
    struct bsym *s = &f->s[i];
    s->frames++;
    f->fh.host->metric_add(f->fh.owner, "frames", 1);
    switch (ev.h.type) {
    case QTS_EV_BOOK:
        on_depth(f, i, &ev, line, len);
        if (s->state == SYNC_SNAP)
            return; /* buffered, not handed over yet */
        break;
    case QTS_EV_QUOTE:
        if (s->state == SYNC_LIVE || s->state == SYNC_FIRST)
            if (bn_book_ticker(&s->book, &ev.quote, s->last_u))
                log_mismatch(f, s);
        emit_ev(f, &ev);
        break;
    default: emit_ev(f, &ev); break;
    }
    note_latency(f, recv_ns);
}

/* The snapshot of symbol i arrived: to the host, then the buffered diffs. */
static void on_snapshot(struct bfeed *f, size_t i, const struct qts_http_response *r)
{
    struct bsym *s = &f->s[i];
    if (r->code != 0 || r->status != 200) {
        LOG(f, QTS_LOG_WARN, "%s: depth snapshot failed (%s, HTTP %d): retrying", s->name,
            r->error ? r->error : "no error text", r->status);
        request_snapshot(f, i);
        return;
    }
    size_t len;
    const char *line = make_line(f, r->body.p, r->body.n, f->fh.host->now_ns(f->fh.owner), &len);
    struct qts_err err;
    qts_err_clear(&err);
    union qts_md_event ev;
    struct qts_md_inst *in = qts_md_symtab_get(&f->syms, s->name, strlen(s->name), &err);
    f->dec.cur = in; /* a snapshot names no symbol */
    int rc = in ? qts_md_binance_decode(&f->dec, line, len, &ev, &err) : -1;
    if (rc != 1 || ev.h.type != QTS_EV_BOOK || !(ev.h.flags & QTS_BOOK_SNAPSHOT)) {
        LOG(f, QTS_LOG_WARN, "%s: depth snapshot unreadable (%s): retrying", s->name,
            rc < 0 ? err.msg : "not a snapshot");
        request_snapshot(f, i);
        return;
    }
    s->resyncs++;
    f->fh.host->metric_add(f->fh.owner, "snapshots", 1);
    s->last_u = ev.book.last_update_id;
    s->state = SYNC_FIRST;
    bn_book_snapshot(&s->book, &ev.book);
    emit_ev(f, &ev);
    LOG(f, QTS_LOG_INFO,
        "%s: book synchronised from a snapshot (lastUpdateId=%" PRIu64 ", %zu diffs buffered)",
        s->name, s->last_u, s->buf_n);
    /* the buffered diffs, in order; a break starts another resync */
    char **buf = s->buf;
    size_t n = s->buf_n;
    s->buf = NULL;
    s->buf_n = 0;
    bool ok = true;
    for (size_t k = 0; k < n; k++) {
        if (ok) {
            union qts_md_event d;
            size_t bl = strlen(buf[k]);
            if (qts_md_binance_decode(&f->dec, buf[k], bl, &d, &err) == 1 &&
                d.h.type == QTS_EV_BOOK) {
                if (s->state == SYNC_SNAP)
                    on_depth(f, i, &d, buf[k], bl); /* a resync started: buffer again */
                else
                    ok = apply_diff(f, i, &d) || s->state == SYNC_SNAP;
            }
        }
        free(buf[k]);
    }
    free(buf);
}

static void on_http(void *arg, const struct qts_http_response *r);

static void request_snapshot(struct bfeed *f, size_t i)
{
    struct bsym *s = &f->s[i];
    s->state = SYNC_SNAP;
    s->gen++;
    char url[512];
    snprintf(url, sizeof url, "%s%s?symbol=%s&limit=%" PRId64, f->rest_url,
             f->usdm ? "/fapi/v1/depth" : "/api/v3/depth", s->name, f->depth_limit);
    struct http_arg *a = feed_calloc(1, sizeof *a);
    a->f = f;
    a->sym = i;
    a->gen = s->gen;
    struct qts_http_request req = {
        .struct_size = sizeof req, .method = "GET", .url = url, .timeout_ms = 10000};
    uint64_t id;
    if (f->fh.host->http_request(f->fh.owner, &req, on_http, a, &id) != 0) {
        free(a);
        LOG(f, QTS_LOG_ERROR, "%s: depth snapshot request refused by the host", s->name);
    }
}

/* exponent = decimals of a decimal string without its trailing zeros */
static unsigned decimals(const char *v)
{
    const char *dot = strchr(v, '.');
    if (!dot)
        return 0;
    size_t n = strlen(dot + 1);
    while (n && dot[1 + n - 1] == '0')
        n--;
    return (unsigned)n;
}

static void start_ws(struct bfeed *f);
static void request_info(struct bfeed *f);

static void retry_info(void *arg)
{
    struct bfeed *f = arg;
    if (!f->stopped)
        request_info(f);
}

static void on_info(struct bfeed *f, const struct qts_http_response *r)
{
    json_error_t je;
    json_t *root = NULL;
    if (r->code == 0 && r->status == 200)
        root = json_loadb(r->body.p, r->body.n, 0, &je);
    json_t *arr = root ? json_object_get(root, "symbols") : NULL;
    if (!json_is_array(arr)) {
        LOG(f, QTS_LOG_ERROR, "exchangeInfo from %s failed (%s, HTTP %d): retrying in 5 s",
            f->rest_url,
            r->code ? r->error
            : root  ? "no symbols"
                    : "not JSON",
            r->status);
        json_decref(root);
        f->fh.host->timer_start(f->fh.owner, 5000, 0, retry_info, f, &f->info_timer);
        return;
    }
    size_t listed = 0;
    size_t k;
    json_t *e;
    json_array_foreach(arr, k, e)
    {
        struct bsym *s = find_sym(f, json_string_value(json_object_get(e, "symbol")) ?: "");
        if (!s)
            continue;
        const char *tick = NULL, *step = NULL, *minq = NULL;
        size_t j;
        json_t *flt;
        json_array_foreach(json_object_get(e, "filters"), j, flt)
        {
            const char *t = json_string_value(json_object_get(flt, "filterType"));
            if (t && strcmp(t, "PRICE_FILTER") == 0)
                tick = json_string_value(json_object_get(flt, "tickSize"));
            else if (t && strcmp(t, "LOT_SIZE") == 0) {
                step = json_string_value(json_object_get(flt, "stepSize"));
                minq = json_string_value(json_object_get(flt, "minQty"));
            }
        }
        /* quantities: spot depth carries base-asset precision (8), wider
         * than the lot; futures carry quantityPrecision */
        json_t *qp = json_object_get(e, f->usdm ? "quantityPrecision" : "baseAssetPrecision");
        if (!tick || !step || !json_is_integer(qp)) {
            LOG(f, QTS_LOG_ERROR, "exchangeInfo: %s lacks tickSize, stepSize or its precision",
                s->name);
            continue;
        }
        s->px_exp = (uint8_t)decimals(tick);
        s->qty_exp = (uint8_t)json_integer_value(qp);
        if (decimals(step) > s->qty_exp)
            s->qty_exp = (uint8_t)decimals(step);
        qts_md_parse_fixed(tick, strlen(tick), s->px_exp, &s->tick);
        qts_md_parse_fixed(step, strlen(step), s->qty_exp, &s->lot);
        if (minq)
            qts_md_parse_fixed(minq, strlen(minq), s->qty_exp, &s->min_qty);
        s->listed = true;
        struct qts_err err;
        qts_err_clear(&err);
        if (!qts_md_symtab_put(&f->syms, s->name, f->usdm ? "binance-usdm" : "binance", s->px_exp,
                               s->qty_exp, &err)) {
            LOG(f, QTS_LOG_ERROR, "%s: %s", s->name, err.msg);
            s->listed = false;
            continue;
        }
        listed++;
        LOG(f, QTS_LOG_INFO, "%s: tick %s, lot %s, exponents %u/%u", s->name, tick, step, s->px_exp,
            s->qty_exp);
    }
    json_decref(root);
    for (size_t i = 0; i < f->n_s; i++)
        if (!f->s[i].listed)
            LOG(f, QTS_LOG_ERROR, "%s is not a Binance %s symbol (exchangeInfo): no data for it",
                f->s[i].name, f->usdm ? "USD-M futures" : "spot");
    if (listed)
        start_ws(f);
}

static void on_http(void *arg, const struct qts_http_response *r)
{
    struct http_arg *a = arg;
    struct bfeed *f = a->f;
    if (!f->stopped) {
        if (a->sym == SIZE_MAX)
            on_info(f, r);
        else if (a->gen == f->s[a->sym].gen && f->s[a->sym].state == SYNC_SNAP)
            on_snapshot(f, a->sym, r);
    }
    free(a);
}

static void request_info(struct bfeed *f)
{
    char url[4096];
    int k = snprintf(url, sizeof url, "%s%s", f->rest_url,
                     f->usdm ? "/fapi/v1/exchangeInfo" : "/api/v3/exchangeInfo");
    if (!f->usdm) { /* spot answers for the symbols asked: symbols=["A","B"] */
        k += snprintf(url + k, sizeof url - (size_t)k, "?symbols=%%5B");
        for (size_t i = 0; i < f->n_s && k < (int)sizeof url - 64; i++)
            k += snprintf(url + k, sizeof url - (size_t)k, "%s%%22%s%%22", i ? "," : "",
                          f->s[i].name);
        snprintf(url + k, sizeof url - (size_t)k, "%%5D");
    }
    struct http_arg *a = feed_calloc(1, sizeof *a);
    a->f = f;
    a->sym = SIZE_MAX;
    struct qts_http_request req = {
        .struct_size = sizeof req, .method = "GET", .url = url, .timeout_ms = 15000};
    uint64_t id;
    if (f->fh.host->http_request(f->fh.owner, &req, on_http, a, &id) != 0) {
        free(a);
        LOG(f, QTS_LOG_ERROR, "exchangeInfo request refused by the host");
    }
}

static void on_ws(void *arg, int event, const char *text, size_t n, int64_t recv_ns)
{
    struct bfeed *f = arg;
    if (f->stopped)
        return;
    if (event == BN_WS_FRAME) {
        on_frame(f, text, n, recv_ns);
    } else if (event == BN_WS_UP) {
        if (f->ups++)
            f->fh.host->metric_add(f->fh.owner, "reconnects", 1);
        LOG(f, QTS_LOG_INFO, "live: connected to %s (%zu symbols)", f->ws_url, f->n_s);
    } else {
        LOG(f, QTS_LOG_WARN,
            "connection lost%s%.*s: reconnecting with back-off; every book "
            "resynchronises",
            n ? ": " : "", (int)n, text);
        for (size_t i = 0; i < f->n_s; i++) {
            free_buf(&f->s[i]);
            f->s[i].state = SYNC_IDLE;
            f->s[i].gen++;
        }
    }
}

static int post_shim(void *ctx, void (*fn)(void *), void *arg)
{
    struct bfeed *f = ctx;
    return f->fh.host->post(f->fh.owner, fn, arg);
}

static void start_ws(struct bfeed *f)
{
    char url[4096];
    int k = snprintf(url, sizeof url, "%s/stream?streams=", f->ws_url);
    for (size_t i = 0; i < f->n_s && k < (int)sizeof url - 128; i++) {
        if (!f->s[i].listed)
            continue;
        char low[QTS_SYMBOL_MAX];
        feed_copy(low, f->s[i].name, sizeof low);
        for (char *c = low; *c; c++)
            if (*c >= 'A' && *c <= 'Z')
                *c = (char)(*c - 'A' + 'a');
        k += snprintf(url + k, sizeof url - (size_t)k, "%s%s@trade/%s@bookTicker/%s@depth@%s",
                      url[k - 1] == '=' ? "" : "/", low, low, low, f->depth_speed);
    }
    struct bn_ws_opts o = {.url = url,
                           .on_event = on_ws,
                           .arg = f,
                           .post = post_shim,
                           .post_ctx = f,
                           .reconnect_min_ms = (uint32_t)f->rc_min,
                           .reconnect_max_ms = (uint32_t)f->rc_max,
                           .session_max_s = (uint32_t)f->session_max_s};
    int rc = bn_ws_start(&o, &f->ws);
    if (rc != 0)
        LOG(f, QTS_LOG_ERROR, "WebSocket to %s not started: %s", url, qts_strerror(rc));
}

static int start(void *self, struct qts_err *err)
{
    struct bfeed *f = self;
    (void)err;
    LOG(f, QTS_LOG_INFO, "live market data: Binance %s, %zu symbol(s), REST %s, WebSocket %s",
        f->usdm ? "USD-M futures" : "spot", f->n_s, f->rest_url, f->ws_url);
    request_info(f);
    return 0;
}

static int stop(void *self)
{
    struct bfeed *f = self;
    if (f->stopped)
        return 0;
    f->stopped = true;
    bn_ws_stop(f->ws);
    f->ws = NULL;
    for (size_t i = 0; i < f->n_s; i++) {
        struct bsym *s = &f->s[i];
        LOG(f, QTS_LOG_INFO,
            "%s: %" PRIu64 " frames; book checked against %" PRIu64 " bookTicker(s), %" PRIu64
            " differ; %" PRIu64 " gap(s), %" PRIu64 " snapshot(s)",
            s->name, s->frames, s->book.checks, s->book.mismatches, s->gaps, s->resyncs);
    }
    if (f->lat_n) {
        qsort(f->lat, f->lat_n, sizeof *f->lat, cmp_i64);
        LOG(f, QTS_LOG_INFO,
            "latency frame received -> handed to the host: n=%zu p50=%" PRId64 " ns p99=%" PRId64
            " ns max=%" PRId64 " ns",
            f->lat_n, f->lat[f->lat_n / 2], f->lat[f->lat_n * 99 / 100], f->lat[f->lat_n - 1]);
    }
    return 0;
}

static const struct qts_feed_ops ops = {.struct_size = sizeof(struct qts_feed_ops)};

static const struct qts_cfg_key keys[] = {
    QTS_CFG_LIST("symbols", NULL,
                 "Binance symbols (required), e.g. BTCUSDT,ETHUSDT; tick and lot "
                 "sizes come from exchangeInfo"),
    QTS_CFG_STR("market", "spot", "spot or usdm (USD-M futures)"),
    QTS_CFG_STR("ws_url", NULL,
                "WebSocket base (default wss://stream.binance.com:9443, usdm "
                "wss://fstream.binance.com); /stream?streams=... is appended"),
    QTS_CFG_STR("rest_url", NULL,
                "REST base (default https://api.binance.com, usdm https://fapi.binance.com)"),
    QTS_CFG_STR("depth_speed", "100ms",
                "diff-depth stream interval: 0ms, 100ms, 250ms, 500ms "
                "or 1000ms"),
    QTS_CFG_INT("depth_limit", "1000", "levels per side of the REST depth snapshot"),
    QTS_CFG_INT("reconnect_min_ms", "500", "first reconnect delay; doubled per failure"),
    QTS_CFG_INT("reconnect_max_ms", "30000", "longest reconnect delay"),
    QTS_CFG_INT("session_max_s", "85800",
                "a connection older than this is renewed (Binance cuts them at 24 h); 0 = never"),
    QTS_CFG_END};

QTS_PLUGIN_DEFINE("feed_binance", QTS_KIND_FEED, "1.0.0", &ops, keys, QTS_CAP_THREADS, .init = init,
                  .start = start, .stop = stop, .destroy = destroy);
