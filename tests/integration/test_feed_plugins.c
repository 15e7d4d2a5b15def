/* test_feed_plugins.c — the real feed_replay.so and feed_synthetic.so,
 * loaded with dlopen and driven through their descriptor, with a small host
 * services table written here (the caller side only). */
#include "test_support.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "book.h"
#include "qts/qts_plugin.h"
#include "test_host_api.h"

#define MAX_KV 16
#define MAX_INST 8

struct thost {
    const char *keys[MAX_KV];
    const char *vals[MAX_KV];
    int n_kv;
    struct qts_instrument inst[MAX_INST];
    int n_inst;
    uint64_t trades, quotes, books, bars, warns, malformed_metric;
    char last_warn[512];
    char all_warns[4096]; /* every WARN and ERROR line, newline-separated */
    uint64_t hash;
    struct qts_book book; /* of instrument 0 */
    uint64_t book_gaps;
    int64_t last_ts;
    bool out_of_order;
    int refuse; /* events still to refuse with QTS_EAGAIN (the host's pace) */
};

static const char *find_kv(struct thost *h, const char *k)
{
    for (int i = 0; i < h->n_kv; i++)
        if (strcmp(h->keys[i], k) == 0)
            return h->vals[i];
    return NULL;
}

static QTS_PRINTF(3, 4) void h_log(void *o, int level, const char *fmt, ...)
{
    struct thost *h = o;
    va_list ap;
    va_start(ap, fmt);
    char buf[512];
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (level >= QTS_LOG_WARN) {
        h->warns++;
        snprintf(h->last_warn, sizeof h->last_warn, "%s", buf);
        size_t used = strlen(h->all_warns);
        snprintf(h->all_warns + used, sizeof h->all_warns - used, "%s\n", buf);
    }
}

static const char *h_cfg_text(void *o, const char *path) { return find_kv(o, path); }

QTS_TEST_HOST_CFG_GETTERS(h, h_cfg_text)

static void h_metric_add(void *o, const char *name, int64_t d)
{
    struct thost *h = o;
    if (strcmp(name, "malformed") == 0)
        h->malformed_metric += (uint64_t)d;
}

static int h_define(void *o, const struct qts_instrument *in, uint32_t *id)
{
    struct thost *h = o;
    for (int i = 0; i < h->n_inst; i++)
        if (strcmp(h->inst[i].symbol, in->symbol) == 0) {
            *id = (uint32_t)i;
            return 0;
        }
    if (h->n_inst == MAX_INST)
        return QTS_EFULL;
    h->inst[h->n_inst] = *in;
    *id = (uint32_t)h->n_inst++;
    return 0;
}

static const struct qts_instrument *h_find(void *o, const char *sym)
{
    struct thost *h = o;
    for (int i = 0; i < h->n_inst; i++)
        if (strcmp(h->inst[i].symbol, sym) == 0)
            return &h->inst[i];
    return NULL;
}

static void mix(struct thost *h, const void *p, size_t n)
{
    const unsigned char *c = p;
    for (size_t i = 0; i < n; i++)
        h->hash = (h->hash ^ c[i]) * 0x100000001b3ULL;
}

static void seen(struct thost *h, const struct qts_ev_hdr *e)
{
    assert_true(e->instrument < (uint32_t)h->n_inst);
    assert_int_equal(e->px_exp, h->inst[e->instrument].px_exp);
    if (e->ts_recv_ns < h->last_ts)
        h->out_of_order = true;
    h->last_ts = e->ts_recv_ns;
    mix(h, &e->ts_exch_ns, 8);
}

/* true if the host refuses this event: not due yet at its pace */
static bool held(struct thost *h)
{
    if (h->refuse <= 0)
        return false;
    h->refuse--;
    return true;
}

static int h_trade(void *o, const struct qts_trade *t)
{
    struct thost *h = o;
    if (held(h))
        return QTS_EAGAIN;
    seen(h, &t->h);
    mix(h, &t->px, 8);
    h->trades++;
    return 0;
}

static int h_quote(void *o, const struct qts_quote *q)
{
    struct thost *h = o;
    seen(h, &q->h);
    h->quotes++;
    return 0;
}

static int h_book(void *o, const struct qts_book_update *b)
{
    struct thost *h = o;
    if (held(h))
        return QTS_EAGAIN;
    seen(h, &b->h);
    h->books++;
    if (b->h.instrument == 0 && qts_book_apply(&h->book, b) == QTS_BOOK_GAP)
        h->book_gaps++;
    for (uint32_t i = 0; i < b->n_bids; i++)
        mix(h, &b->bids[i], sizeof b->bids[i]);
    return 0;
}

static int h_bar(void *o, const struct qts_bar *b)
{
    struct thost *h = o;
    seen(h, &b->h);
    h->bars++;
    return 0;
}

static const struct qts_host_api api = {QTS_TEST_HOST_API_HEAD,     .alloc = qts_test_host_alloc,
                                        .free = qts_test_host_free, .log = h_log,
                                        .cfg_str = h_cfg_str,       .cfg_int = h_cfg_int,
                                        .cfg_double = h_cfg_double, .cfg_bool = h_cfg_bool,
                                        .metric_add = h_metric_add, .instrument_define = h_define,
                                        .instrument_find = h_find,  .emit_trade = h_trade,
                                        .emit_quote = h_quote,      .emit_book = h_book,
                                        .emit_bar = h_bar};

struct loaded {
    void *dl;
    const struct qts_plugin_desc *d;
    const struct qts_feed_ops *ops;
    void *self;
};

static void load(struct loaded *l, const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s.so", qts_test_plugin_dir(), name);
    l->dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!l->dl)
        fprintf(stderr, "dlopen: %s\n", dlerror());
    assert_non_null(l->dl);
    qts_plugin_entry_fn entry = (qts_plugin_entry_fn)dlsym(l->dl, QTS_PLUGIN_ENTRY_SYMBOL);
    assert_non_null(entry);
    l->d = entry(QTS_ABI_MAJOR, QTS_ABI_MINOR);
    assert_non_null(l->d);
    assert_string_equal(l->d->name, name);
    assert_string_equal(l->d->build_sig, QTS_BUILD_SIG);
    assert_int_equal(l->d->kind, QTS_KIND_FEED);
    l->ops = l->d->ops;
    assert_non_null(l->ops->poll);
}

static void unload(struct loaded *l)
{
    if (l->self) {
        assert_int_equal(l->d->stop(l->self), 0);
        l->d->destroy(l->self);
    }
    if (!getenv("QTS_NO_DLCLOSE"))
        dlclose(l->dl);
}

/* Poll until the end; returns the number of events. */
static uint64_t drain(struct loaded *l)
{
    uint64_t n = 0;
    for (;;) {
        int rc = l->ops->poll(l->self, 4096);
        if (rc == QTS_EEOF)
            break;
        assert_true(rc > 0);
        n += (uint64_t)rc;
    }
    assert_true(l->ops->progress(l->self) >= 0.99);
    return n;
}

static void host_init(struct thost *h)
{
    memset(h, 0, sizeof *h);
    qts_book_init(&h->book);
}

static void set(struct thost *h, const char *k, const char *v)
{
    h->keys[h->n_kv] = k;
    h->vals[h->n_kv++] = v;
}

static void test_replay_binance_capture(void **state)
{
    (void)state;
    const char *a = qts_test_data_path("binance/spot_btcusdt_20240808.gz");
    const char *b = qts_test_data_path("binance/spot_btcusdt_20240809.gz");
    if (!a || !b) {
        printf("skipped: ../shared/data/binance absent\n");
        return;
    }
    char files[2048];
    snprintf(files, sizeof files, "%s,%s", a, b);
    struct thost h;
    host_init(&h);
    set(&h, "files", files);
    set(&h, "symbols", "BTCUSDT:2:8"); /* format auto: recognised */
    struct loaded l;
    load(&l, "feed_replay");
    struct qts_err err;
    assert_int_equal(l.d->init(&api, &h, &l.self, &err), 0);
    assert_int_equal(l.d->start(l.self, &err), 0);
    uint64_t n = drain(&l);
    assert_int_equal(n, 99574);
    assert_int_equal(h.n_inst, 1);
    assert_string_equal(h.inst[0].symbol, "BTCUSDT");
    assert_string_equal(h.inst[0].venue, "binance");
    assert_int_equal(h.trades, 9757 + 10147);
    assert_int_equal(h.quotes, 28040 + 45134);
    assert_int_equal(h.books, 3451 + 3044 + 1);
    assert_int_equal(h.warns, 0);
    assert_int_equal(h.book_gaps, 0);
    assert_false(h.out_of_order);
    unload(&l);
    qts_book_cleanup(&h.book);
}

static void test_replay_corrupt_file_is_reported(void **state)
{
    (void)state;
    char *dir = qts_test_tmpdir();
    char p[1024], bars[1024], files[2100];
    snprintf(p, sizeof p, "%s/q.csv", dir);
    snprintf(bars, sizeof bars, "%s/b.csv", dir);
    assert_int_equal(qts_test_write_file(p, "time,bid_px,bid_qty,ask_px,ask_qty\n"
                                            "2024-01-02 09:00:00,1.1,5,1.2,6\n"
                                            "2024-01-02 09:00:01,1.1,x,1.2,6\n"
                                            "2024-01-02 08:00:00,1.1,5,1.2,6\n"
                                            "2024-01-02 09:00:02,1.1,5,1.2,6\n"),
                     0);
    assert_int_equal(qts_test_write_file(bars, "time,open,high,low,close\n"
                                               "2024-01-02 09:00:00,1.0,1.5,0.5,1.2\n"),
                     0);
    snprintf(files, sizeof files, "%s", p);
    struct thost h;
    host_init(&h);
    set(&h, "files", files);
    set(&h, "format", "csv-quotes");
    set(&h, "symbol", "EURUSD");
    set(&h, "symbols", "EURUSD:1:0");
    set(&h, "max_bad_share", "0.5"); /* 2 of 4: within it */
    struct loaded l;
    load(&l, "feed_replay");
    struct qts_err err;
    assert_int_equal(l.d->init(&api, &h, &l.self, &err), 0);
    assert_int_equal(l.d->start(l.self, &err), 0);
    assert_int_equal(drain(&l), 2);
    assert_int_equal(h.quotes, 2);
    assert_int_equal(h.malformed_metric, 2);
    assert_int_equal(h.warns, 3); /* the two records, the file's total */
    assert_non_null(strstr(h.all_warns, "q.csv:4: time goes backwards"));
    assert_non_null(strstr(h.last_warn, "events=2 malformed=2 (50% of records)"));
    unload(&l);

    /* the same file with the default max_bad_share (0.1%): the replay fails */
    qts_book_cleanup(&h.book);
    host_init(&h);
    set(&h, "files", files);
    set(&h, "format", "csv-quotes");
    set(&h, "symbol", "EURUSD");
    set(&h, "symbols", "EURUSD:1:0");
    load(&l, "feed_replay");
    assert_int_equal(l.d->init(&api, &h, &l.self, &err), 0);
    assert_int_equal(l.d->start(l.self, &err), 0);
    int rc = 0;
    while ((rc = l.ops->poll(l.self, 4096)) > 0)
        ;
    assert_int_equal(rc, QTS_EPARSE);
    assert_non_null(
        strstr(h.last_warn, "q.csv: 2 of 4 records unreadable (50%, max_bad_share 0.1%)"));
    unload(&l);

    /* a missing file fails start with a clear error, nothing crashes */
    struct thost h2;
    host_init(&h2);
    set(&h2, "files", "/nonexistent/file.csv");
    set(&h2, "format", "csv-bars");
    load(&l, "feed_replay");
    assert_int_equal(l.d->init(&api, &h2, &l.self, &err), 0);
    assert_int_equal(l.d->start(l.self, &err), QTS_ENOENT);
    assert_non_null(strstr(err.msg, "/nonexistent/file.csv"));
    unload(&l);

    /* bad configuration is refused at init */
    struct thost h3;
    host_init(&h3);
    set(&h3, "files", bars);
    set(&h3, "format", "csv-candles");
    load(&l, "feed_replay");
    l.self = NULL;
    assert_int_equal(l.d->init(&api, &h3, &l.self, &err), QTS_ECONFIG);
    assert_non_null(strstr(err.msg, "csv-candles"));
    unload(&l);
    qts_test_rmtree(dir);
    free(dir);
}

static uint64_t run_synthetic(const char *seed, const char *events, uint64_t *n_out,
                              struct thost *h)
{
    host_init(h);
    set(h, "seed", seed);
    set(h, "events", events);
    set(h, "symbols", "AAA,BBB");
    set(h, "tick", "0.05");
    struct loaded l;
    load(&l, "feed_synthetic");
    struct qts_err err;
    assert_int_equal(l.d->init(&api, h, &l.self, &err), 0);
    assert_int_equal(l.d->start(l.self, &err), 0);
    *n_out = drain(&l);
    unload(&l);
    qts_book_cleanup(&h->book);
    return h->hash;
}

static void test_synthetic_plugin(void **state)
{
    (void)state;
    struct thost h;
    uint64_t n1, n2, n3;
    uint64_t a = run_synthetic("7", "50000", &n1, &h);
    assert_int_equal(n1, 50000);
    assert_int_equal(h.n_inst, 2);
    assert_int_equal(h.book_gaps, 0);
    assert_true(h.trades > 1000);
    assert_false(h.out_of_order);
    assert_int_equal(h.inst[0].px_exp, 2);
    uint64_t b = run_synthetic("7", "50000", &n2, &h);
    assert_int_equal(a, b); /* same seed, same data */
    uint64_t c = run_synthetic("8", "50000", &n3, &h);
    assert_true(a != c);
}

static void test_synthetic_quotes_option(void **state)
{
    (void)state;
    struct thost h;
    host_init(&h);
    set(&h, "events", "10000");
    set(&h, "quotes", "true");
    set(&h, "px_exp", "4");
    set(&h, "start_price", "1.2345");
    struct loaded l;
    load(&l, "feed_synthetic");
    struct qts_err err;
    assert_int_equal(l.d->init(&api, &h, &l.self, &err), 0);
    assert_int_equal(l.d->start(l.self, &err), 0);
    assert_int_equal(drain(&l), 10000);
    assert_true(h.quotes > 1000);
    assert_int_equal(h.inst[0].px_exp, 4);
    assert_string_equal(h.inst[0].venue, "synthetic");
    struct qts_level bid;
    qts_book_best_bid(&h.book, &bid);
    assert_true(bid.px > 11000 && bid.px < 14000); /* near 1.2345 */
    unload(&l);
    qts_book_cleanup(&h.book);

    /* a bad value is refused at init with the key named */
    host_init(&h);
    set(&h, "start_price", "1.23456");
    set(&h, "px_exp", "4");
    load(&l, "feed_synthetic");
    l.self = NULL;
    assert_int_equal(l.d->init(&api, &h, &l.self, &err), QTS_ECONFIG);
    assert_non_null(strstr(err.msg, "start_price"));
    unload(&l);
}

/* Pacing is the host's: an event it refuses with QTS_EAGAIN stays with the
 * feed and comes again at the next poll, so the stream is the same. */
static void synthetic_stream(struct thost *h, int refuse_at_0, int refuse_at_50)
{
    host_init(h);
    set(h, "events", "100");
    set(h, "speed", "3"); /* read by the host; the feed only checks it */
    struct loaded l;
    load(&l, "feed_synthetic");
    struct qts_err err;
    assert_int_equal(l.d->init(&api, h, &l.self, &err), 0);
    assert_int_equal(l.d->start(l.self, &err), 0);
    h->refuse = refuse_at_0;
    if (refuse_at_0)
        assert_int_equal(l.ops->poll(l.self, 10), 0); /* the first one held */
    assert_int_equal(l.ops->poll(l.self, 50), 50);
    h->refuse = refuse_at_50;
    int rc, n = 50;
    while ((rc = l.ops->poll(l.self, 7)) != QTS_EEOF) {
        assert_true(rc >= 0);
        n += rc;
    }
    assert_int_equal(n, 100);
    unload(&l);
    qts_book_cleanup(&h->book);
}

static void test_synthetic_held_by_host(void **state)
{
    (void)state;
    struct thost a, b;
    synthetic_stream(&a, 0, 0);
    synthetic_stream(&b, 1, 3);
    assert_int_equal(b.refuse, 0);
    assert_int_equal(a.trades + a.books, 100);
    assert_int_equal(b.trades, a.trades);
    assert_int_equal(b.books, a.books);
    assert_true(a.hash == b.hash);
}

static void test_convert_then_replay_binary(void **state)
{
    (void)state;
    const char *in = qts_test_data_path("binance/spot_ethusdt_20240808.gz");
    if (!in) {
        printf("skipped: ../shared/data/binance absent\n");
        return;
    }
    char *dir = qts_test_tmpdir();
    char out[1024], cmd[4096];
    snprintf(out, sizeof out, "%s/eth.qev", dir);
    snprintf(cmd, sizeof cmd, "'%s/qts' convert '%s' '%s' --symbols ETHUSDT:2:8 2>/dev/null",
             qts_test_build_dir(), in, out);
    assert_int_equal(system(cmd), 0);
    struct thost h;
    host_init(&h);
    set(&h, "files", out);
    set(&h, "symbols", "ETHUSDT:2:8");
    struct loaded l;
    load(&l, "feed_replay");
    struct qts_err err;
    assert_int_equal(l.d->init(&api, &h, &l.self, &err), 0);
    assert_int_equal(l.d->start(l.self, &err), 0);
    assert_int_equal(drain(&l), 24077 + 3434 + 6106 + 1);
    assert_int_equal(h.n_inst, 1);
    assert_string_equal(h.inst[0].venue, "binance");
    assert_int_equal(h.book_gaps, 0);
    assert_int_equal(h.warns, 0);
    unload(&l);
    qts_book_cleanup(&h.book);

    /* the file's exponents disagree with the configuration: refused, reported */
    host_init(&h);
    set(&h, "files", out);
    set(&h, "symbols", "ETHUSDT:2:4");
    load(&l, "feed_replay");
    assert_int_equal(l.d->init(&api, &h, &l.self, &err), 0);
    assert_int_equal(l.d->start(l.self, &err), 0);
    /* the file's only record is the refusal: nothing of it is readable */
    assert_int_equal(l.ops->poll(l.self, 100), QTS_EPARSE);
    assert_int_equal(h.warns, 2);
    assert_non_null(strstr(h.all_warns, "exponents"));
    assert_non_null(strstr(h.last_warn, "1 of 1 records unreadable"));
    unload(&l);
    qts_book_cleanup(&h.book);
    qts_test_rmtree(dir);
    free(dir);
}

static void test_replay_reports_depth_gap(void **state)
{
    (void)state;
    char *dir = qts_test_tmpdir();
    char p[1024];
    snprintf(p, sizeof p, "%s/d.txt", dir);
    assert_int_equal(
        qts_test_write_file(p, "10 "
                               "{\"stream\":\"xyz@depth@100ms\",\"data\":{\"E\":1,\"s\":\"XYZ\","
                               "\"U\":1,\"u\":2,\"b\":[[\"1.5\",\"2\"]],\"a\":[]}}\n"
                               "11 "
                               "{\"stream\":\"xyz@depth@100ms\",\"data\":{\"E\":2,\"s\":\"XYZ\","
                               "\"U\":3,\"u\":4,\"b\":[],\"a\":[[\"1.6\",\"1\"]]}}\n"
                               "12 "
                               "{\"stream\":\"xyz@depth@100ms\",\"data\":{\"E\":3,\"s\":\"XYZ\","
                               "\"U\":6,\"u\":7,\"b\":[],\"a\":[]}}\n"),
        0);
    struct thost h;
    host_init(&h);
    set(&h, "files", p);
    struct loaded l;
    load(&l, "feed_replay");
    struct qts_err err;
    assert_int_equal(l.d->init(&api, &h, &l.self, &err), 0);
    assert_int_equal(l.d->start(l.self, &err), 0);
    assert_int_equal(drain(&l), 3);
    assert_int_equal(h.warns, 1);
    assert_non_null(strstr(h.last_warn, "depth sequence gap symbol=XYZ previous_u=4 U=6"));
    unload(&l);
    qts_book_cleanup(&h.book);
    qts_test_rmtree(dir);
    free(dir);
}

struct membuf {
    struct qts_buf b;
    char data[4096];
    size_t n;
};

static int membuf_append(struct qts_buf *buf, const void *p, size_t n)
{
    struct membuf *m = (struct membuf *)buf;
    if (m->n + n > sizeof m->data)
        return QTS_EFULL;
    memcpy(m->data + m->n, p, n);
    m->n += n;
    return 0;
}

/* Runs `name` with config (keys, vals) to the end, optionally handing over to
 * a second instance through export/import after `polls` polls. Returns the
 * hash of everything emitted; *n = events. */
static uint64_t run_with_handover(const char *name, const char **keys, const char **vals, int nkv,
                                  int polls, uint64_t *n)
{
    struct thost h;
    host_init(&h);
    for (int i = 0; i < nkv; i++)
        set(&h, keys[i], vals[i]);
    struct loaded a;
    load(&a, name);
    assert_true(a.d->caps & QTS_CAP_STATE_XFER);
    struct qts_err err;
    assert_int_equal(a.d->init(&api, &h, &a.self, &err), 0);
    assert_int_equal(a.d->start(a.self, &err), 0);
    *n = 0;
    if (polls >= 0) {
        for (int i = 0; i < polls; i++) {
            int rc = a.ops->poll(a.self, 1000);
            assert_true(rc > 0);
            *n += (uint64_t)rc;
        }
        struct membuf m = {.b = {.struct_size = sizeof m.b, .append = membuf_append}};
        assert_int_equal(a.d->stop(a.self), 0);
        assert_int_equal(a.d->export_state(a.self, &m.b), 0);
        a.d->destroy(a.self);
        a.self = NULL;
        unload(&a);
        load(&a, name);
        assert_int_equal(a.d->init(&api, &h, &a.self, &err), 0);
        assert_int_equal(a.d->import_state(a.self, m.data, m.n), 0);
        assert_int_equal(a.d->start(a.self, &err), 0);
    }
    *n += drain(&a);
    unload(&a);
    assert_int_equal(h.book_gaps, 0);
    qts_book_cleanup(&h.book);
    return h.hash;
}

static void test_state_handover(void **state)
{
    (void)state;
    const char *sk[] = {"seed", "events", "symbols"};
    const char *sv[] = {"11", "30000", "AAA,BBB,CCC"};
    uint64_t n1, n2;
    uint64_t whole = run_with_handover("feed_synthetic", sk, sv, 3, -1, &n1);
    uint64_t split = run_with_handover("feed_synthetic", sk, sv, 3, 7, &n2);
    assert_int_equal(n1, 30000);
    assert_int_equal(n2, 30000);
    assert_int_equal(whole, split);

    const char *a = qts_test_data_path("binance/spot_ethusdt_20240808.gz");
    const char *b = qts_test_data_path("binance/spot_ethusdt_20240809.gz");
    if (!a || !b) {
        printf("skipped: ../shared/data/binance absent\n");
        return;
    }
    char files[2048];
    snprintf(files, sizeof files, "%s,%s", a, b);
    const char *rk[] = {"files", "symbols"};
    const char *rv[] = {files, "ETHUSDT:2:8"};
    whole = run_with_handover("feed_replay", rk, rv, 2, -1, &n1);
    split = run_with_handover("feed_replay", rk, rv, 2, 12, &n2);
    assert_int_equal(n1, 79744);
    assert_int_equal(n2, 79744);
    assert_int_equal(whole, split);
}

QTS_TEST_MAIN(test_replay_binance_capture, test_replay_corrupt_file_is_reported,
              test_synthetic_plugin, test_synthetic_quotes_option, test_synthetic_held_by_host,
              test_convert_then_replay_binary, test_replay_reports_depth_gap, test_state_handover)
