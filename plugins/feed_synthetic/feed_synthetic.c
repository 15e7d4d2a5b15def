/* feed_synthetic.c — seeded synthetic trades and L2 book (md_synth.c), one
 * generator per symbol, merged by time; pulled by the host with poll().
 * Config keys: plugins/feed_synthetic/README.md. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feed_common.h"
#include "md_synth.h"
#include "qts/qts_plugin.h"

struct gen {
    struct qts_md_synth s;
    union qts_md_event ev;
    bool has;
    uint64_t n_out; /* events emitted from this generator */
};

struct synth {
    struct feed_host fh;
    struct qts_md_symtab syms;
    struct gen **g; /* owned, n_g; each owned and never moved: events
                             * point into their generator */
    size_t n_g;
    struct qts_md_synth_opts o;
    char *symbols; /* owned */
    uint64_t max_events, n_emitted;
    uint64_t *skip; /* owned: per generator, from import_state */
    size_t n_skip;
};

static void destroy(void *self)
{
    struct synth *y = self;
    if (!y)
        return;
    for (size_t i = 0; i < y->n_g; i++) {
        qts_md_synth_cleanup(&y->g[i]->s);
        free(y->g[i]);
    }
    free(y->g);
    free(y->skip);
    free(y->symbols);
    qts_md_symtab_cleanup(&y->syms);
    free(y);
}

static int get_int(struct synth *y, const char *k, int64_t *v, int64_t lo, int64_t hi,
                   struct qts_err *err)
{
    int rc = y->fh.host->cfg_int(y->fh.owner, k, v, err);
    if (rc == QTS_ENOENT)
        return 0;
    if (rc < 0)
        return rc;
    if (*v < lo || *v > hi)
        return qts_err_set(err, QTS_ECONFIG, "%s must be in %lld..%lld", k, (long long)lo,
                           (long long)hi);
    return 0;
}

static int get_double(struct synth *y, const char *k, double *v, struct qts_err *err)
{
    int rc = y->fh.host->cfg_double(y->fh.owner, k, v, err);
    return rc == QTS_ENOENT ? 0 : rc;
}

static int get_fixed(struct synth *y, const char *k, unsigned exp, int64_t *v, struct qts_err *err)
{
    const char *s = NULL;
    int rc = y->fh.host->cfg_str(y->fh.owner, k, &s, err);
    if (rc == QTS_ENOENT)
        return 0;
    if (rc < 0)
        return rc;
    if (qts_md_parse_fixed(s, strlen(s), exp, v) < 0 || *v <= 0)
        return qts_err_set(err, QTS_ECONFIG,
                           "%s '%s' is not a positive decimal with at "
                           "most %u decimals",
                           k, s, exp);
    return 0;
}

static int init(const struct qts_host_api *host, void *owner, void **self, struct qts_err *err)
{
    struct synth *y = feed_calloc(1, sizeof *y);
    y->fh.host = host;
    y->fh.owner = owner;
    y->fh.plugin = "feed_synthetic";
    qts_md_symtab_init(&y->syms);
    feed_copy(y->syms.def_venue, "synthetic", sizeof y->syms.def_venue);
    y->syms.define = feed_define;
    y->syms.define_arg = &y->fh;
    int rc;
    int64_t px_exp = 2, qty_exp = 0, seed = 1, events = 0, depth = 20;
    int64_t start_ns = 1700000000LL * 1000000000LL;
    if ((rc = get_int(y, "px_exp", &px_exp, 0, QTS_MAX_EXP, err)) < 0 ||
        (rc = get_int(y, "qty_exp", &qty_exp, 0, QTS_MAX_EXP, err)) < 0 ||
        (rc = get_int(y, "seed", &seed, INT64_MIN, INT64_MAX, err)) < 0 ||
        (rc = get_int(y, "events", &events, 0, INT64_MAX, err)) < 0 ||
        (rc = get_int(y, "depth", &depth, 4, QTS_MD_SYNTH_MAX_DEPTH, err)) < 0 ||
        (rc = get_int(y, "start_time_ns", &start_ns, 0, INT64_MAX, err)) < 0)
        goto fail;
    y->o.seed = (uint64_t)seed;
    y->o.depth = (uint32_t)depth;
    y->o.start_ns = start_ns;
    y->max_events = (uint64_t)events;
    y->o.rate_per_s = 1000;
    y->o.vol_ticks = 0.05;
    double speed = 0; /* the host's to apply (it paces what it polls); checked here */
    if ((rc = get_double(y, "rate", &y->o.rate_per_s, err)) < 0 ||
        (rc = get_double(y, "vol_ticks", &y->o.vol_ticks, err)) < 0 ||
        (rc = get_double(y, "speed", &speed, err)) < 0 ||
        (rc = get_double(y, "vol_bps_min", &y->o.vol_bps_min, err)) < 0 ||
        (rc = get_double(y, "trade_size_sigma", &y->o.trade_sigma, err)) < 0)
        goto fail;
    if (y->o.rate_per_s <= 0 || speed < 0 || y->o.vol_ticks <= 0) {
        rc = qts_err_set(err, QTS_ECONFIG, "rate and vol_ticks must be > 0, speed >= 0");
        goto fail;
    }
    if (y->o.vol_bps_min < 0 || y->o.vol_bps_min > 10000 || y->o.trade_sigma < 0 ||
        y->o.trade_sigma > 10) {
        rc = qts_err_set(err, QTS_ECONFIG,
                         "vol_bps_min must be in 0..10000 and trade_size_sigma in 0..10");
        goto fail;
    }
    y->o.start_px = 100 * qts_pow10_i64[px_exp];
    y->o.tick = 1;
    y->o.lot = 1;
    if ((rc = get_fixed(y, "start_price", (unsigned)px_exp, &y->o.start_px, err)) < 0 ||
        (rc = get_fixed(y, "tick", (unsigned)px_exp, &y->o.tick, err)) < 0 ||
        (rc = get_fixed(y, "lot", (unsigned)qty_exp, &y->o.lot, err)) < 0 ||
        (rc = get_fixed(y, "trade_size_median", (unsigned)qty_exp, &y->o.trade_median, err)) < 0)
        goto fail;
    bool quotes = false;
    rc = host->cfg_bool(owner, "quotes", &quotes, err);
    if (rc < 0 && rc != QTS_ENOENT)
        goto fail;
    y->o.quotes = quotes;
    y->symbols = feed_cfg_list(&y->fh, "symbols", NULL);
    if (!y->symbols)
        y->symbols = feed_strdup("SYNTH");
    y->syms.def_px_exp = (uint8_t)px_exp;
    y->syms.def_qty_exp = (uint8_t)qty_exp;
    *self = y;
    return 0;
fail:
    destroy(y);
    return rc;
}

static int start(void *self, struct qts_err *err)
{
    struct synth *y = self;
    char *list = feed_strdup(y->symbols);
    int rc = 0;
    for (char *p = list; p;) {
        char *c = strchr(p, ',');
        if (c)
            *c = '\0';
        while (*p == ' ')
            p++;
        if (*p) {
            struct qts_md_inst *in = qts_md_symtab_get(&y->syms, p, strlen(p), err);
            if (!in) {
                rc = err ? err->code : QTS_EINVAL;
                break;
            }
            y->g = feed_realloc(y->g, (y->n_g + 1) * sizeof *y->g);
            struct gen *g = feed_calloc(1, sizeof *g);
            y->g[y->n_g++] = g;
            struct qts_md_synth_opts o = y->o;
            o.seed = y->o.seed + 0x9e37ULL * (y->n_g - 1);
            qts_md_synth_init(&g->s, &o, in);
            g->has = qts_md_synth_next(&g->s, &g->ev) == 1;
            /* resume: the generator is deterministic, so replaying it to the
             * imported position gives the same next event */
            uint64_t k = y->n_g - 1 < y->n_skip ? y->skip[y->n_g - 1] : 0;
            for (uint64_t j = 0; j < k && g->has; j++)
                g->has = qts_md_synth_next(&g->s, &g->ev) == 1;
            g->n_out = k;
            y->n_emitted += k;
        }
        p = c ? c + 1 : NULL;
    }
    free(list);
    if (rc == 0)
        y->fh.host->log(y->fh.owner, QTS_LOG_INFO,
                        "synthetic feed symbols=%s seed=%llu events=%llu", y->symbols,
                        (unsigned long long)y->o.seed, (unsigned long long)y->max_events);
    return rc;
}

static int stop(void *self)
{
    (void)self;
    return 0;
}

static int poll_events(void *self, uint32_t max_events)
{
    struct synth *y = self;
    uint32_t n = 0;
    while (n < max_events) {
        if (y->max_events && y->n_emitted >= y->max_events)
            return n ? (int)n : QTS_EEOF;
        struct gen *best = NULL;
        for (size_t i = 0; i < y->n_g; i++)
            if (y->g[i]->has && (!best || y->g[i]->ev.h.ts_recv_ns < best->ev.h.ts_recv_ns))
                best = y->g[i];
        if (!best)
            return n ? (int)n : QTS_EEOF;
        int rc = feed_emit(&y->fh, &best->ev);
        if (rc == QTS_EAGAIN)
            break; /* the host's pace: not due yet, offered again next poll */
        if (rc < 0)
            return rc;
        y->n_emitted++;
        best->n_out++;
        n++;
        best->has = qts_md_synth_next(&best->s, &best->ev) == 1;
    }
    return (int)n;
}

/* State for a hot reload: "feed_synthetic 1\n" then one count per
 * generator ("<count>\n"), in `symbols` order. */
static int export_state(void *self, struct qts_buf *out)
{
    struct synth *y = self;
    static const char head[] = "feed_synthetic 1\n";
    int rc = out->append(out, head, sizeof head - 1);
    for (size_t i = 0; i < y->n_g && rc == 0; i++) {
        char line[32];
        int n = snprintf(line, sizeof line, "%llu\n", (unsigned long long)y->g[i]->n_out);
        rc = out->append(out, line, (size_t)n);
    }
    return rc;
}

static int import_state(void *self, const void *p, size_t n)
{
    struct synth *y = self;
    const char *s = p, *end = s + n;
    static const char head[] = "feed_synthetic 1\n";
    if (n < sizeof head - 1 || memcmp(s, head, sizeof head - 1) != 0)
        return QTS_EINVAL;
    s += sizeof head - 1;
    while (s < end) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        uint64_t v;
        if (!nl || qts_md_parse_u64(s, (size_t)(nl - s), &v) < 0)
            return QTS_EINVAL;
        y->skip = feed_realloc(y->skip, (y->n_skip + 1) * sizeof *y->skip);
        y->skip[y->n_skip++] = v;
        s = nl + 1;
    }
    return 0;
}

static double progress(void *self)
{
    struct synth *y = self;
    return y->max_events ? (double)y->n_emitted / (double)y->max_events : 0.0;
}

static const struct qts_feed_ops ops = {
    .struct_size = sizeof(struct qts_feed_ops), .poll = poll_events, .progress = progress};

/* Every key of the plugin's config:; the defaults are the ones init starts
 * from. */
static const struct qts_cfg_key synth_keys[] = {
    QTS_CFG_LIST("symbols", "SYNTH", "instruments; each gets its own generator (seed + index)"),
    QTS_CFG_INT("seed", "1", "random seed"),
    QTS_CFG_INT("events", "0", "total events to emit, then end of data; 0 = endless"),
    QTS_CFG_DEC("rate", "1000",
                "mean book changes per second of data time, per instrument (a trade adds "
                "the book diff it causes)"),
    QTS_CFG_INT("px_exp", "2", "price decimals"),
    QTS_CFG_INT("qty_exp", "0", "quantity decimals"),
    QTS_CFG_STR("start_price", "100", "first mid price (a decimal)"),
    QTS_CFG_STR("tick", NULL, "price tick (a decimal; default one unit of px_exp)"),
    QTS_CFG_STR("lot", NULL,
                "quantity unit of order sizes (a decimal; default one unit of "
                "qty_exp)"),
    QTS_CFG_INT("depth", "20", "price levels kept per side (4..256)"),
    QTS_CFG_DEC("vol_ticks", "0.05", "fair-value volatility, ticks per event"),
    QTS_CFG_DEC("vol_bps_min", "0",
                "> 0: calibrated mode, fair value a geometric random walk with this stdev of "
                "1-minute returns in basis points (replaces vol_ticks), the book requoted "
                "around it"),
    QTS_CFG_STR("trade_size_median", NULL,
                "log-normal trade sizes with this median (a decimal quantity; default: "
                "geometric, 14 lots on average)"),
    QTS_CFG_DEC("trade_size_sigma", "0", "shape of the log-normal trade sizes (stdev of log size)"),
    QTS_CFG_INT("start_time_ns", "1700000000000000000", "time stamp of the first event"),
    FEED_KEY_SPEED,
    QTS_CFG_BOOL("quotes", "false",
                 "also emit a top-of-book quote after each diff that changes "
                 "the top"),
    QTS_CFG_END};

QTS_PLUGIN_DEFINE("feed_synthetic", QTS_KIND_FEED, "1.0.0", &ops, synth_keys, QTS_CAP_STATE_XFER,
                  .init = init, .start = start, .stop = stop, .destroy = destroy,
                  .export_state = export_state, .import_state = import_state);
