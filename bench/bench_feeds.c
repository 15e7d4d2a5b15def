/* bench_feeds.c — the feed plugins end to end, loaded with dlopen like the
 * host does: poll -> emit -> L2 book per instrument.
 *   feeds.synthetic_plugin_book : feed_synthetic.so, events/s
 *   feeds.replay_plugin_binary  : feed_replay.so on a qts binary file, events/s
 *   feeds.synthetic_peak_rss_{1M,10M} : peak RSS (KiB) of a child process that
 *     replays 1M / 10M events from feed_synthetic.so into books.
 * Usage: bench_feeds [events (default 2000000)] */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "book.h"
#include "clock.h"
#include "md_binfile.h"
#include "md_synth.h"
#include "qts/qts_plugin.h"
#include "test_host_api.h"

struct bhost {
    const char *keys[8], *vals[8];
    int n;
    struct qts_instrument inst[8];
    int n_inst;
    struct qts_book book[8];
    uint64_t events;
};

/* The value text of key k (borrowed from the host o), NULL when unset. */
static const char *kv(void *o, const char *k)
{
    struct bhost *h = o;
    for (int i = 0; i < h->n; i++)
        if (strcmp(h->keys[i], k) == 0)
            return h->vals[i];
    return NULL;
}

static QTS_PRINTF(3, 4) void b_log(void *o, int l, const char *f, ...)
{
    (void)o;
    if (l >= QTS_LOG_WARN) {
        va_list ap;
        va_start(ap, f);
        vfprintf(stderr, f, ap);
        va_end(ap);
        fputc('\n', stderr);
    }
}

QTS_TEST_HOST_CFG_GETTERS(b, kv)

static int b_define(void *o, const struct qts_instrument *in, uint32_t *id)
{
    struct bhost *h = o;
    for (int i = 0; i < h->n_inst; i++)
        if (strcmp(h->inst[i].symbol, in->symbol) == 0) {
            *id = (uint32_t)i;
            return 0;
        }
    if (h->n_inst == 8)
        return QTS_EFULL;
    h->inst[h->n_inst] = *in;
    *id = (uint32_t)h->n_inst++;
    return 0;
}

/* An emitted event that is counted and kept from being optimised away. */
#define B_COUNT_SERVICE(name, event_type)          \
    static int name(void *o, const event_type *ev) \
    {                                              \
        ((struct bhost *)o)->events++;             \
        qts_bench_keep(ev);                        \
        return 0;                                  \
    }
B_COUNT_SERVICE(b_trade, struct qts_trade)
B_COUNT_SERVICE(b_quote, struct qts_quote)
B_COUNT_SERVICE(b_bar, struct qts_bar)

static int b_book(void *o, const struct qts_book_update *b)
{
    struct bhost *h = o;
    h->events++;
    qts_book_apply(&h->book[b->h.instrument & 7], b);
    return 0;
}

static const struct qts_host_api api = {
    QTS_TEST_HOST_API_HEAD, .log = b_log,
    /* the config: services */
    .cfg_str = b_cfg_str, .cfg_int = b_cfg_int, .cfg_double = b_cfg_double, .cfg_bool = b_cfg_bool,
    /* the feed's output */
    .instrument_define = b_define, .emit_trade = b_trade, .emit_quote = b_quote,
    .emit_book = b_book, .emit_bar = b_bar};

/* Runs plugin `name` with host h to the end; returns elapsed ns. */
static int64_t run_plugin(const char *name, struct bhost *h)
{
    char path[1024];
    const char *dir = getenv("QTS_PLUGIN_DIR") ? getenv("QTS_PLUGIN_DIR") : QTS_BENCH_PLUGIN_DIR;
    snprintf(path, sizeof path, "%s/%s.so", dir, name);
    void *dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!dl) {
        fprintf(stderr, "bench_feeds: %s\n", dlerror());
        exit(1);
    }
    qts_plugin_entry_fn entry = (qts_plugin_entry_fn)dlsym(dl, QTS_PLUGIN_ENTRY_SYMBOL);
    const struct qts_plugin_desc *d = entry(QTS_ABI_MAJOR, QTS_ABI_MINOR);
    const struct qts_feed_ops *ops = d->ops;
    void *self = NULL;
    struct qts_err err;
    for (int i = 0; i < 8; i++)
        qts_book_init(&h->book[i]);
    if (d->init(&api, h, &self, &err) < 0 || d->start(self, &err) < 0) {
        fprintf(stderr, "bench_feeds: %s: %s\n", name, err.msg);
        exit(1);
    }
    int64_t t0 = qts_mono_ns();
    while (ops->poll(self, 4096) > 0) {
    }
    int64_t dt = qts_mono_ns() - t0;
    d->stop(self);
    d->destroy(self);
    for (int i = 0; i < 8; i++)
        qts_book_cleanup(&h->book[i]);
    dlclose(dl);
    return dt;
}

static uint64_t synth_events(void *events)
{
    struct bhost h = {.keys = {"events", "symbols"}, .vals = {events, "AAA,BBB"}, .n = 2};
    run_plugin("feed_synthetic", &h);
    return h.events;
}

static void synth_rss(const char *events, const char *name)
{
    qts_bench_child_rss(name, synth_events, (void *)events,
                        "\"what\":\"peak RSS, feed_synthetic.so -> emit -> book\"");
}

int main(int argc, char **argv)
{
    const char *n = argc > 1 ? argv[1] : "2000000";
    struct bhost h = {.keys = {"events", "symbols"}, .vals = {n, "AAA,BBB"}, .n = 2};
    int64_t dt = run_plugin("feed_synthetic", &h);
    qts_bench_report_value("feeds.synthetic_plugin_book", "events/s",
                           (double)h.events * 1e9 / (double)dt, h.events, NULL);

    /* a binary file written from the generator, replayed by feed_replay.so */
    char dir[] = "/tmp/qts-bench-feeds-XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    char path[256];
    snprintf(path, sizeof path, "%s/syn.qev", dir);
    struct qts_md_inst in = {.symbol = "SYN", .venue = "synthetic", .px_exp = 2, .qty_exp = 0};
    struct qts_md_synth s;
    struct qts_md_synth_opts o = {.seed = 9, .max_events = strtoull(n, NULL, 10)};
    qts_md_synth_init(&s, &o, &in);
    struct qts_md_binwriter w;
    if (qts_md_binwriter_open(&w, path, NULL) < 0)
        return 1;
    union qts_md_event ev;
    while (qts_md_synth_next(&s, &ev) == 1)
        qts_md_binwriter_write(&w, &in, &ev, NULL);
    qts_md_binwriter_close(&w, NULL);
    qts_md_synth_cleanup(&s);
    struct bhost r = {.keys = {"files"}, .vals = {path}, .n = 1};
    run_plugin("feed_replay", &r); /* warm the page cache */
    r.events = 0;
    r.n_inst = 0;
    dt = run_plugin("feed_replay", &r);
    qts_bench_report_value("feeds.replay_plugin_binary", "events/s",
                           (double)r.events * 1e9 / (double)dt, r.events,
                           "\"includes\":\"read+decode+emit+book\"");
    unlink(path);
    rmdir(dir);
    synth_rss("1000000", "feeds.synthetic_peak_rss_1M");
    synth_rss("10000000", "feeds.synthetic_peak_rss_10M");
    return 0;
}
