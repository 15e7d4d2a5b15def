/* feed_replay.c — replays market-data files (Binance captures, CSV trades /
 * quotes / bars, qts binary events) in lockstep with the host: the host pulls
 * events with poll(). Several files are merged by receive time. Memory stays
 * constant whatever the file length: each file is streamed through a fixed
 * buffer. Malformed records are counted, logged with file and line (or byte
 * offset) and skipped. Config keys: plugins/feed_replay/README.md. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "feed_common.h"
#include "md_source.h"
#include "qts/qts_plugin.h"

struct cursor {
    struct qts_md_source src;
    union qts_md_event ev; /* next event; levels borrowed from src */
    bool has, open, done;
    char *path;     /* owned */
    uint64_t n_out; /* events emitted from this file */
    uint64_t skip;  /* events to pass over at start (imported state) */
};

/* Depth sequence of one instrument, to report gaps as they pass by. */
struct seqstate {
    uint32_t instrument;
    uint64_t last_u;
};

struct replay {
    struct feed_host fh;
    struct seqstate *seq; /* owned, n_seq */
    size_t n_seq;
    uint64_t n_gaps;
    bool venue_set; /* `venue` configured: never guessed */
    bool quiet;     /* skipping to an imported position: no reports */
    struct qts_md_symtab syms;
    struct qts_md_source_opts opts;
    char symbol[QTS_SYMBOL_MAX];
    struct cursor *cur; /* owned, n_cur */
    size_t n_cur;
    int64_t max_log;
    double max_bad_share; /* of a file's records; beyond it the replay fails */
    uint64_t n_emitted, n_malformed, n_logged;
    uint64_t n_unlogged;     /* counted since the last rate-limited line */
    int64_t next_summary_ns; /* monotonic time of the next rate-limited line */
    int failed;              /* QTS_EPARSE once a file was mostly unreadable */
    bool summary_done;
    /* The part of the data replayed: an event's time (a bar's open time, as
     * in its file) in [start_ns, end_ns), at most `limit` events (0 = all). */
    int64_t start_ns, end_ns;
    uint64_t limit;
    uint64_t n_outside; /* events passed over by start/end */
};

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void report_bad(struct replay *r, const struct qts_err *bad)
{
    if (r->quiet)
        return;
    r->n_malformed++;
    if (r->fh.host->metric_add)
        r->fh.host->metric_add(r->fh.owner, "malformed", 1);
    if ((int64_t)r->n_logged < r->max_log) {
        r->n_logged++;
        r->fh.host->log(r->fh.owner, QTS_LOG_WARN, "malformed record skipped: %s", bad->msg);
        if ((int64_t)r->n_logged == r->max_log)
            r->fh.host->log(r->fh.owner, QTS_LOG_WARN,
                            "further malformed records are logged at most once a second "
                            "(max_log=%lld)",
                            (long long)r->max_log);
        return;
    }
    /* beyond max_log: one line a second with the count and the latest */
    r->n_unlogged++;
    int64_t now = mono_ns();
    if (now >= r->next_summary_ns) {
        r->next_summary_ns = now + 1000000000LL;
        r->fh.host->log(r->fh.owner, QTS_LOG_WARN,
                        "%llu more malformed records skipped (%llu in all), latest: %s",
                        (unsigned long long)r->n_unlogged, (unsigned long long)r->n_malformed,
                        bad->msg);
        r->n_unlogged = 0;
    }
}

/* End of a file: its malformed records against max_bad_share. A file
 * mostly unreadable (wrong format, wrong exponents, garbage) must not pass
 * for a replay of the market: it fails the run. */
static void file_verdict(struct replay *r, struct cursor *c)
{
    uint64_t bad = c->src.n_malformed, all = c->src.n_events + c->src.n_malformed;
    double share = all ? (double)bad / (double)all : 0;
    if (bad && share > r->max_bad_share) {
        r->fh.host->log(r->fh.owner, QTS_LOG_ERROR,
                        "file %s: %llu of %llu records unreadable (%.4g%%, max_bad_share "
                        "%.4g%%): the replay stops",
                        c->path, (unsigned long long)bad, (unsigned long long)all, share * 100,
                        r->max_bad_share * 100);
        r->failed = QTS_EPARSE;
        return;
    }
    r->fh.host->log(r->fh.owner, bad ? QTS_LOG_WARN : QTS_LOG_INFO,
                    "file done path=%s events=%llu malformed=%llu (%.4g%% of records)", c->path,
                    (unsigned long long)c->src.n_events, (unsigned long long)bad, share * 100);
}

/* The time `start` and `end` are compared with: the exchange time when
 * the event has one (a bar's open time), else the receive time. */
static int64_t event_time(const union qts_md_event *ev)
{
    return ev->h.ts_exch_ns ? ev->h.ts_exch_ns : ev->h.ts_recv_ns;
}

/* Load c->ev with the next good event of its file within start/end. */
static void advance(struct replay *r, struct cursor *c)
{
    c->has = false;
    while (!c->done) {
        struct qts_err bad;
        int rc = qts_md_source_next(&c->src, &c->ev, &bad);
        if (rc == 1) {
            int64_t t = event_time(&c->ev);
            if (t < r->start_ns || t >= r->end_ns) {
                r->n_outside++;
                continue;
            }
            c->has = true;
            return;
        }
        if (rc == 0) {
            c->done = true;
            if (!r->quiet)
                file_verdict(r, c);
            return;
        }
        report_bad(r, &bad);
    }
}

static const char *symbol_of(struct replay *r, uint32_t id)
{
    for (size_t i = 0; i < r->syms.n; i++)
        if (r->syms.v[i]->id == id)
            return r->syms.v[i]->symbol;
    return "?";
}

/* Venue rules (docs/market-data.md): spot U == previous u + 1, futures
 * pu == previous u. A gap leaves any book built from this feed stale until
 * the next snapshot; it is logged and counted here so the operator sees it. */
static void check_sequence(struct replay *r, const struct qts_book_update *b)
{
    if (b->last_update_id == 0 || (b->h.flags & QTS_BOOK_SNAPSHOT))
        return;
    struct seqstate *s = NULL;
    for (size_t i = 0; i < r->n_seq; i++)
        if (r->seq[i].instrument == b->h.instrument)
            s = &r->seq[i];
    if (!s) {
        r->seq = feed_realloc(r->seq, (r->n_seq + 1) * sizeof *r->seq);
        s = &r->seq[r->n_seq++];
        s->instrument = b->h.instrument;
        s->last_u = 0;
    }
    if (s->last_u && b->last_update_id > s->last_u) {
        bool fut = (b->h.flags & QTS_BOOK_HAS_PREV) != 0;
        bool ok = fut ? b->prev_update_id == s->last_u : b->first_update_id == s->last_u + 1;
        if (!ok) {
            r->n_gaps++;
            if (r->fh.host->metric_add)
                r->fh.host->metric_add(r->fh.owner, "depth_gaps", 1);
            r->fh.host->log(r->fh.owner, QTS_LOG_WARN,
                            "depth sequence gap symbol=%s previous_u=%llu U=%llu pu=%llu: "
                            "the book is stale until the next snapshot",
                            symbol_of(r, b->h.instrument), (unsigned long long)s->last_u,
                            (unsigned long long)b->first_update_id,
                            (unsigned long long)b->prev_update_id);
        }
    }
    if (b->last_update_id > s->last_u)
        s->last_u = b->last_update_id;
}

static void destroy(void *self)
{
    struct replay *r = self;
    if (!r)
        return;
    for (size_t i = 0; i < r->n_cur; i++) {
        if (r->cur[i].open)
            qts_md_source_close(&r->cur[i].src);
        free(r->cur[i].path);
    }
    free(r->cur);
    free(r->seq);
    qts_md_symtab_cleanup(&r->syms);
    free(r);
}

static int cfg_int_or(struct replay *r, const char *k, int64_t def, int64_t *out,
                      struct qts_err *err)
{
    *out = def;
    int rc = r->fh.host->cfg_int(r->fh.owner, k, out, err);
    return rc == QTS_ENOENT ? 0 : rc;
}

static bool cfg_has(struct replay *r, const char *k)
{
    int64_t v;
    return r->fh.host->cfg_int(r->fh.owner, k, &v, NULL) == 0;
}

/* A time key: "2024-01-02", "2024-01-02 09:30:00" (UTC unless it carries an
 * offset). `end` given as a date alone takes in that
 * whole day: it ends at the next midnight. */
static int cfg_time(struct replay *r, const char *k, bool is_end, int64_t def, int64_t *out,
                    struct qts_err *err)
{
    *out = def;
    const char *s;
    int rc = r->fh.host->cfg_str(r->fh.owner, k, &s, err);
    if (rc == QTS_ENOENT)
        return 0;
    if (rc < 0)
        return rc;
    size_t n = strlen(s);
    int64_t t;
    if (qts_md_parse_time(s, n, &t) < 0)
        return qts_err_set(err, QTS_ECONFIG,
                           "%s '%s': expected a date (2024-01-02), a date and time "
                           "(2024-01-02 09:30:00, UTC unless an offset follows)",
                           k, s);
    if (is_end && n == 10 && s[4] == '-')
        t += 86400000000000LL;
    *out = t;
    return 0;
}

static int init(const struct qts_host_api *host, void *owner, void **self, struct qts_err *err)
{
    struct replay *r = feed_calloc(1, sizeof *r);
    r->fh.host = host;
    r->fh.owner = owner;
    r->fh.plugin = "feed_replay";
    qts_md_symtab_init(&r->syms);
    r->syms.define = feed_define;
    r->syms.define_arg = &r->fh;
    char *files = NULL;
    int rc = 0;
    const char *s = NULL;

    r->opts.format = QTS_MD_FMT_AUTO;
    if ((rc = host->cfg_str(owner, "format", &s, err)) == 0) {
        r->opts.format = qts_md_format_parse(s);
        if (r->opts.format < 0) {
            rc = qts_err_set(err, QTS_ECONFIG,
                             "format '%s': expected auto, binance, "
                             "csv-trades, csv-quotes, csv-bars or binary",
                             s);
            goto fail;
        }
    } else if (rc != QTS_ENOENT) {
        goto fail;
    }
    const char *venue = r->opts.format == QTS_MD_FMT_BINANCE ? "binance" : "replay";
    if ((rc = host->cfg_str(owner, "venue", &s, err)) == 0) {
        venue = s;
        r->venue_set = true;
    } else if (rc != QTS_ENOENT)
        goto fail;
    feed_copy(r->syms.def_venue, venue, sizeof r->syms.def_venue);
    int64_t v;
    if ((rc = cfg_int_or(r, "default_px_exp", 8, &v, err)) < 0)
        goto fail;
    if (v < 0 || v > QTS_MAX_EXP) {
        rc = qts_err_set(err, QTS_ECONFIG, "default_px_exp out of range");
        goto fail;
    }
    r->syms.def_px_exp = (uint8_t)v;
    if ((rc = cfg_int_or(r, "default_qty_exp", 8, &v, err)) < 0)
        goto fail;
    if (v < 0 || v > QTS_MAX_EXP) {
        rc = qts_err_set(err, QTS_ECONFIG, "default_qty_exp out of range");
        goto fail;
    }
    r->syms.def_qty_exp = (uint8_t)v;
    char *syms = feed_cfg_list(&r->fh, "symbols", NULL);
    if (syms) {
        rc = qts_md_symtab_configure(&r->syms, syms, err);
        free(syms);
        if (rc < 0)
            goto fail;
    }
    for (size_t i = 0; i < r->syms.n; i++) /* configured entries take the venue */
        feed_copy(r->syms.v[i]->venue, venue, sizeof r->syms.v[i]->venue);
    if ((rc = host->cfg_str(owner, "symbol", &s, err)) == 0)
        feed_copy(r->symbol, s, sizeof r->symbol);
    else if (rc != QTS_ENOENT)
        goto fail;
    r->opts.symbol = r->symbol[0] ? r->symbol : NULL;
    if ((rc = cfg_int_or(r, "bar_period_s", 0, &v, err)) < 0) /* 0: by the file's times */
        goto fail;
    if (v < 0 || (v == 0 && rc == 0 && cfg_has(r, "bar_period_s"))) {
        rc = qts_err_set(err, QTS_ECONFIG, "bar_period_s must be positive");
        goto fail;
    }
    r->opts.bar_period_ns = v * 1000000000LL;
    if ((rc = cfg_time(r, "start", false, INT64_MIN, &r->start_ns, err)) < 0 ||
        (rc = cfg_time(r, "end", true, INT64_MAX, &r->end_ns, err)) < 0)
        goto fail;
    if (r->start_ns >= r->end_ns) {
        rc = qts_err_set(err, QTS_ECONFIG, "start must be before end");
        goto fail;
    }
    if ((rc = cfg_int_or(r, "limit", 0, &v, err)) < 0)
        goto fail;
    if (v < 0) {
        rc = qts_err_set(err, QTS_ECONFIG, "limit must be >= 0 (0 = every event)");
        goto fail;
    }
    r->limit = (uint64_t)v;
    if ((rc = cfg_int_or(r, "max_log", 20, &r->max_log, err)) < 0)
        goto fail;
    r->max_bad_share = 0.001;
    rc = host->cfg_double(owner, "max_bad_share", &r->max_bad_share, err);
    if (rc < 0 && rc != QTS_ENOENT)
        goto fail;
    if (!(r->max_bad_share >= 0 && r->max_bad_share <= 1)) {
        rc = qts_err_set(err, QTS_ECONFIG, "max_bad_share must be within [0, 1]");
        goto fail;
    }
    /* `speed` is the host's to apply (it paces what it polls); checked here */
    double speed = 0;
    rc = host->cfg_double(owner, "speed", &speed, err);
    if (rc < 0 && rc != QTS_ENOENT)
        goto fail;
    if (speed < 0) {
        rc = qts_err_set(err, QTS_ECONFIG, "speed must be >= 0 (0 = the host's pace)");
        goto fail;
    }
    files = feed_cfg_list(&r->fh, "files", NULL);
    if (!files || !files[0]) {
        rc = qts_err_set(err, QTS_ECONFIG, "feed_replay: `files` is required");
        goto fail;
    }
    for (char *p = files; p;) {
        char *c = strchr(p, ',');
        if (c)
            *c = '\0';
        while (*p == ' ')
            p++;
        if (*p) {
            r->cur = feed_realloc(r->cur, (r->n_cur + 1) * sizeof *r->cur);
            memset(&r->cur[r->n_cur], 0, sizeof *r->cur);
            r->cur[r->n_cur++].path = feed_strdup(p);
        }
        p = c ? c + 1 : NULL;
    }
    free(files);
    *self = r;
    return 0;
fail:
    free(files);
    destroy(r);
    return rc < 0 ? rc : QTS_ECONFIG;
}

static int start(void *self, struct qts_err *err)
{
    struct replay *r = self;
    for (size_t i = 0; i < r->n_cur; i++) {
        struct cursor *c = &r->cur[i];
        int rc = qts_md_source_open(&c->src, c->path, &r->opts, &r->syms, err);
        if (rc < 0)
            return rc;
        c->open = true;
        if (c->src.format == QTS_MD_FMT_BINANCE && !r->venue_set) {
            feed_copy(r->syms.def_venue, "binance", sizeof r->syms.def_venue);
            for (size_t k = 0; k < r->syms.n; k++)
                if (r->syms.v[k]->id == QTS_MD_NO_ID)
                    feed_copy(r->syms.v[k]->venue, "binance", sizeof r->syms.v[k]->venue);
        }
        r->fh.host->log(r->fh.owner, QTS_LOG_INFO, "replay file path=%s format=%s", c->path,
                        qts_md_format_name(c->src.format));
        advance(r, c);
        if (c->skip) { /* resume where the previous instance stopped */
            r->quiet = true;
            for (uint64_t k = 0; k < c->skip && c->has; k++)
                advance(r, c);
            r->quiet = false;
            c->n_out = c->skip;
            r->n_emitted += c->skip; /* `limit` counts what the old instance delivered */
            r->fh.host->log(r->fh.owner, QTS_LOG_INFO, "replay resumed path=%s after=%llu", c->path,
                            (unsigned long long)c->skip);
        }
    }
    return 0;
}

/* State for a hot reload: how many events each file has delivered.
 * Text: "feed_replay 1\n" then "<count> <path>\n" per file. */
static int export_state(void *self, struct qts_buf *out)
{
    struct replay *r = self;
    static const char head[] = "feed_replay 1\n";
    int rc = out->append(out, head, sizeof head - 1);
    for (size_t i = 0; i < r->n_cur && rc == 0; i++) {
        char line[64];
        int n = snprintf(line, sizeof line, "%llu ", (unsigned long long)r->cur[i].n_out);
        rc = out->append(out, line, (size_t)n);
        if (rc == 0)
            rc = out->append(out, r->cur[i].path, strlen(r->cur[i].path));
        if (rc == 0)
            rc = out->append(out, "\n", 1);
    }
    return rc;
}

static int import_state(void *self, const void *p, size_t n)
{
    struct replay *r = self;
    const char *s = p, *end = s + n;
    static const char head[] = "feed_replay 1\n";
    if (n < sizeof head - 1 || memcmp(s, head, sizeof head - 1) != 0)
        return QTS_EINVAL;
    s += sizeof head - 1;
    while (s < end) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        const char *sp = memchr(s, ' ', (size_t)(end - s));
        if (!nl || !sp || sp > nl)
            return QTS_EINVAL;
        uint64_t count;
        if (qts_md_parse_u64(s, (size_t)(sp - s), &count) < 0)
            return QTS_EINVAL;
        size_t plen = (size_t)(nl - sp - 1);
        bool found = false;
        for (size_t i = 0; i < r->n_cur; i++)
            if (strlen(r->cur[i].path) == plen && memcmp(r->cur[i].path, sp + 1, plen) == 0) {
                r->cur[i].skip = count;
                found = true;
            }
        if (!found)
            r->fh.host->log(r->fh.owner, QTS_LOG_WARN,
                            "imported state names a file no longer configured: %.*s", (int)plen,
                            sp + 1);
        s = nl + 1;
    }
    return 0;
}

static int stop(void *self)
{
    (void)self;
    return 0;
}

static int poll_events(void *self, uint32_t max_events)
{
    struct replay *r = self;
    uint32_t n = 0;
    while (n < max_events) {
        if (r->failed) /* file_verdict said why */
            return n ? (int)n : r->failed;
        struct cursor *best = NULL;
        bool at_limit = r->limit && r->n_emitted >= r->limit;
        for (size_t i = 0; i < r->n_cur && !at_limit; i++) {
            struct cursor *c = &r->cur[i];
            if (c->has && (!best || c->ev.h.ts_recv_ns < best->ev.h.ts_recv_ns))
                best = c;
        }
        if (!best) {
            if (!r->summary_done) {
                r->summary_done = true;
                r->fh.host->log(r->fh.owner, QTS_LOG_INFO,
                                "replay done events=%llu malformed=%llu depth_gaps=%llu "
                                "outside_start_end=%llu%s",
                                (unsigned long long)r->n_emitted,
                                (unsigned long long)r->n_malformed, (unsigned long long)r->n_gaps,
                                (unsigned long long)r->n_outside,
                                at_limit ? " (limit reached)" : "");
            }
            return n ? (int)n : QTS_EEOF;
        }
        int rc = feed_emit(&r->fh, &best->ev);
        if (rc == QTS_EAGAIN)
            break; /* the host's pace: not due yet, offered again next poll */
        if (rc < 0)
            return rc;
        if (best->ev.h.type == QTS_EV_BOOK)
            check_sequence(r, &best->ev.book);
        best->n_out++;
        r->n_emitted++;
        n++;
        advance(r, best);
    }
    return (int)n;
}

static double progress(void *self)
{
    struct replay *r = self;
    if (!r->n_cur)
        return 1.0;
    double sum = 0;
    for (size_t i = 0; i < r->n_cur; i++)
        sum += r->cur[i].done ? 1.0 : r->cur[i].open ? qts_md_source_progress(&r->cur[i].src) : 0;
    return sum / (double)r->n_cur;
}

static const struct qts_feed_ops ops = {
    .struct_size = sizeof(struct qts_feed_ops), .poll = poll_events, .progress = progress};

/* Every key of the plugin's config:; the defaults are the ones init starts
 * from. */
static const struct qts_cfg_key replay_keys[] = {
    QTS_CFG_LIST("files", NULL,
                 "files to replay (required); several files are merged by "
                 "receive time"),
    QTS_CFG_STR("format", "auto",
                "auto (each file by its content: binary, Binance, or CSV by its header's "
                "columns), binance, csv-trades, csv-quotes, csv-bars or binary"),
    QTS_CFG_LIST("symbols", NULL, "per-symbol exponents, SYMBOL:px_exp:qty_exp entries"),
    QTS_CFG_INT("default_px_exp", "8", "price decimals of symbols not in symbols"),
    QTS_CFG_INT("default_qty_exp", "8", "quantity decimals of symbols not in symbols"),
    QTS_CFG_STR("symbol", NULL, "symbol of CSV files without a symbol column"),
    QTS_CFG_STR("venue", NULL,
                "venue of the instruments defined (default binance for Binance "
                "captures, else replay; binary files carry their own)"),
    QTS_CFG_INT("bar_period_s", NULL,
                "bar length for CSV bars, seconds (default: 86400 when a file's times are "
                "dates alone, else 60)"),
    QTS_CFG_STR("start", NULL,
                "first time replayed: 2024-01-02, 2024-01-02 09:30:00 (UTC unless an offset "
                "follows); an event's time is its exchange time (a bar's "
                "open time)"),
    QTS_CFG_STR("end", NULL, "end of the replay, excluded; a date alone includes that whole day"),
    QTS_CFG_INT("limit", "0", "at most this many events from this slot (0 = all)"),
    FEED_KEY_SPEED,
    QTS_CFG_INT("max_log", "20",
                "malformed records logged one by one at WARN; later ones are "
                "counted and summed up at most once a second"),
    QTS_CFG_DEC("max_bad_share", "0.001",
                "largest share of a file's records that may be malformed; beyond "
                "it the replay stops and the run fails"),
    QTS_CFG_END};

QTS_PLUGIN_DEFINE("feed_replay", QTS_KIND_FEED, "1.0.0", &ops, replay_keys, QTS_CAP_STATE_XFER,
                  .init = init, .start = start, .stop = stop, .destroy = destroy,
                  .export_state = export_state, .import_state = import_state);
