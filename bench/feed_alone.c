/* feed_alone.c — see feed_alone.h. */
#include "feed_alone.h"

#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "book.h"
#include "clock.h"
#include "qts/qts_plugin.h"
#include "test_host_api.h"

#define HOST_INSTRUMENTS 8

struct feed_host {
    const struct qts_bench_feed_conf *conf; /* borrowed */
    struct qts_instrument inst[HOST_INSTRUMENTS];
    int n_inst;
    struct qts_book book[HOST_INSTRUMENTS];
    uint64_t events;
};

/* The value text of key k (borrowed from the configuration), NULL when unset. */
static const char *kv(void *o, const char *k)
{
    const struct qts_bench_feed_conf *c = ((struct feed_host *)o)->conf;
    for (int i = 0; i < c->n; i++)
        if (strcmp(c->keys[i], k) == 0)
            return c->vals[i];
    return NULL;
}

static QTS_PRINTF(3, 4) void fh_log(void *o, int l, const char *f, ...)
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

QTS_TEST_HOST_CFG_GETTERS(fh, kv)

static int fh_define(void *o, const struct qts_instrument *in, uint32_t *id)
{
    struct feed_host *h = o;
    for (int i = 0; i < h->n_inst; i++)
        if (strcmp(h->inst[i].symbol, in->symbol) == 0) {
            *id = (uint32_t)i;
            return 0;
        }
    if (h->n_inst == HOST_INSTRUMENTS)
        return QTS_EFULL;
    h->inst[h->n_inst] = *in;
    *id = (uint32_t)h->n_inst++;
    return 0;
}

/* An emitted event that is counted and kept from being optimised away. */
#define FH_COUNT_SERVICE(name, event_type)         \
    static int name(void *o, const event_type *ev) \
    {                                              \
        ((struct feed_host *)o)->events++;         \
        qts_bench_keep(ev);                        \
        return 0;                                  \
    }
FH_COUNT_SERVICE(fh_trade, struct qts_trade)
FH_COUNT_SERVICE(fh_quote, struct qts_quote)
FH_COUNT_SERVICE(fh_bar, struct qts_bar)

static int fh_book(void *o, const struct qts_book_update *b)
{
    struct feed_host *h = o;
    h->events++;
    qts_book_apply(&h->book[b->h.instrument % HOST_INSTRUMENTS], b);
    return 0;
}

static const struct qts_host_api api = {QTS_TEST_HOST_API_HEAD, .log = fh_log,
                                        /* the config: services */
                                        .cfg_str = fh_cfg_str, .cfg_int = fh_cfg_int,
                                        .cfg_double = fh_cfg_double, .cfg_bool = fh_cfg_bool,
                                        /* the feed's output */
                                        .instrument_define = fh_define, .emit_trade = fh_trade,
                                        .emit_quote = fh_quote, .emit_book = fh_book,
                                        .emit_bar = fh_bar};

void qts_bench_feed_run(const char *plugin, const struct qts_bench_feed_conf *conf,
                        struct qts_bench_feed_result *out)
{
    char path[1024];
    const char *dir = getenv("QTS_PLUGIN_DIR") ? getenv("QTS_PLUGIN_DIR") : QTS_BENCH_PLUGIN_DIR;
    snprintf(path, sizeof path, "%s/%s.so", dir, plugin);
    void *dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!dl) {
        fprintf(stderr, "bench: %s\n", dlerror());
        exit(1);
    }
    qts_plugin_entry_fn entry = (qts_plugin_entry_fn)dlsym(dl, QTS_PLUGIN_ENTRY_SYMBOL);
    const struct qts_plugin_desc *d = entry(QTS_ABI_MAJOR, QTS_ABI_MINOR);
    const struct qts_feed_ops *ops = d->ops;
    struct feed_host *h = calloc(1, sizeof *h);
    h->conf = conf;
    for (int i = 0; i < HOST_INSTRUMENTS; i++)
        qts_book_init(&h->book[i]);
    void *self = NULL;
    struct qts_err err;
    if (d->init(&api, h, &self, &err) < 0 || d->start(self, &err) < 0) {
        fprintf(stderr, "bench: %s: %s\n", plugin, err.msg);
        exit(1);
    }
    int64_t t0 = qts_mono_ns();
    while (ops->poll(self, 4096) > 0) {
    }
    out->ns = qts_mono_ns() - t0;
    out->events = h->events;
    d->stop(self);
    d->destroy(self);
    for (int i = 0; i < HOST_INSTRUMENTS; i++)
        qts_book_cleanup(&h->book[i]);
    free(h);
    dlclose(dl);
}
