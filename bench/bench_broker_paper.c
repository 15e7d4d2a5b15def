/* bench_broker_paper.c — cost of the simulated venue per market event
 * (L2 diffs and trades, with 64 of our orders resting in the book), and of
 * one portfolio fill. Reference: applying the same diffs to a plain sorted
 * array book (what any L2 consumer pays), measured in the same run.
 * The event stream is a seeded random walk, identical on every run. */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "clock.h"
#include "portfolio.h"
#include "qts/qts_plugin.h"
#include "test_host_api.h"

static int64_t g_now;
static uint64_t g_reports;

static void h_log(void *o, int l, const char *f, ...)
{
    (void)o;
    (void)l;
    (void)f;
}
static int64_t h_now(void *o)
{
    (void)o;
    return g_now;
}
/* one order's latency 1 us, shorting allowed, no cash check */
static const char *h_cfg_value(void *o, const char *key)
{
    (void)o;
    if (strcmp(key, "order_latency_ns") == 0)
        return "1000";
    if (strcmp(key, "allow_short") == 0)
        return "true";
    if (strcmp(key, "check_cash") == 0)
        return "false";
    return NULL;
}
QTS_TEST_HOST_CFG_GETTERS(h, h_cfg_value)
static const struct qts_instrument INST = {
    sizeof(struct qts_instrument), 1, "BTCUSDT", "synthetic", 2, 5, 0, 0, 1, 1, 1};
static const struct qts_instrument *h_find(void *o, const char *s)
{
    (void)o;
    return strcmp(s, "BTCUSDT") == 0 ? &INST : NULL;
}
static int h_emit(void *o, const struct qts_exec_report *r)
{
    (void)o;
    (void)r;
    g_reports++;
    return 0;
}

static const struct qts_host_api HOST = {QTS_TEST_HOST_API_HEAD,
                                         .alloc = qts_test_host_alloc,
                                         .free = qts_test_host_free,
                                         .log = h_log,
                                         .now_ns = h_now,
                                         .cfg_str = h_cfg_str,
                                         .cfg_int = h_cfg_int,
                                         .cfg_double = h_cfg_double,
                                         .cfg_bool = h_cfg_bool,
                                         .instrument_find = h_find,
                                         .emit_exec_report = h_emit};

static uint64_t rng = 42;
static uint64_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* reference book: bids sorted descending in a plain array */
struct ref_book {
    struct qts_level v[4096];
    size_t n;
};
static void ref_set(struct ref_book *b, int64_t px, int64_t qty)
{
    size_t lo = 0, hi = b->n;
    while (lo < hi) {
        size_t m = (lo + hi) / 2;
        if (b->v[m].px > px)
            lo = m + 1;
        else
            hi = m;
    }
    if (lo < b->n && b->v[lo].px == px) {
        if (qty)
            b->v[lo].qty = qty;
        else
            memmove(&b->v[lo], &b->v[lo + 1], (--b->n - lo) * sizeof b->v[0]);
    } else if (qty && b->n < 4096) {
        memmove(&b->v[lo + 1], &b->v[lo], (b->n - lo) * sizeof b->v[0]);
        b->v[lo].px = px;
        b->v[lo].qty = qty;
        b->n++;
    }
}

int main(void)
{
    enum { N = 200000, LEVELS = 500 };
    char path[1024];
    snprintf(path, sizeof path, "%s/broker_paper.so", QTS_BENCH_PLUGIN_DIR);
    void *dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!dl) {
        fprintf(stderr, "bench_broker_paper: %s\n", dlerror());
        return 1;
    }
    qts_plugin_entry_fn entry = (qts_plugin_entry_fn)dlsym(dl, QTS_PLUGIN_ENTRY_SYMBOL);
    const struct qts_plugin_desc *d = entry ? entry(QTS_ABI_MAJOR, QTS_ABI_MINOR) : NULL;
    if (!d)
        return 1;
    const struct qts_broker_ops *ops = d->ops;
    void *v = NULL;
    struct qts_err err;
    if (d->init(&HOST, NULL, &v, &err) || d->start(v, &err))
        return 1;

    /* snapshot: 500 levels a side around 60000.00 */
    static struct qts_level bids[LEVELS], asks[LEVELS];
    for (int i = 0; i < LEVELS; i++) {
        bids[i] = (struct qts_level){6000000 - 1 - i, 100000 + i};
        asks[i] = (struct qts_level){6000000 + i, 100000 + i};
    }
    struct qts_book_update b;
    qts_bench_event_init(&b.h, sizeof b, QTS_EV_BOOK, 2, 5);
    b.h.instrument = 1;
    b.h.flags = QTS_BOOK_SNAPSHOT;
    b.bids = bids;
    b.n_bids = LEVELS;
    b.asks = asks;
    b.n_asks = LEVELS;
    g_now = b.h.ts_exch_ns = 1;
    ops->on_market(v, &b.h);
    /* 64 resting orders, 32 a side, spread over the top 32 levels */
    for (int i = 0; i < 64; i++) {
        struct qts_broker_order o;
        memset(&o, 0, sizeof o);
        o.struct_size = sizeof o;
        strcpy(o.symbol, "BTCUSDT");
        snprintf(o.client_order_id, sizeof o.client_order_id, "r%d", i);
        o.side = i % 2 ? QTS_SIDE_SELL : QTS_SIDE_BUY;
        o.type = QTS_ORD_LIMIT;
        o.px = o.side == QTS_SIDE_BUY ? 6000000 - 1 - i / 2 : 6000000 + i / 2;
        o.qty = 1000000000; /* large: they keep resting */
        ops->submit(v, &o);
    }
    g_now = 1000000;
    b.h.ts_exch_ns = g_now;
    b.h.flags = 0;
    b.n_bids = b.n_asks = 0;
    ops->on_market(v, &b.h);

    struct qts_bench_samples s_book, s_trade, s_ref, s_pf;
    qts_bench_samples_init(&s_book, N);
    qts_bench_samples_init(&s_trade, N);
    qts_bench_samples_init(&s_ref, N);
    qts_bench_samples_init(&s_pf, N);
    struct qts_level diff[4];
    struct qts_trade t;
    memset(&t, 0, sizeof t);
    t.h = b.h;
    t.h.struct_size = sizeof t;
    t.h.type = QTS_EV_TRADE;
    static struct ref_book ref;
    for (int i = 0; i < LEVELS; i++)
        ref_set(&ref, bids[i].px, bids[i].qty);
    for (int i = 0; i < N; i++) {
        for (int k = 0; k < 4; k++)
            diff[k] = (struct qts_level){6000000 - 1 - (int64_t)(next_rand() % 64),
                                         (int64_t)(next_rand() % 200000)};
        b.bids = diff;
        b.n_bids = 4;
        b.h.ts_exch_ns = ++g_now;
        int64_t t0 = qts_mono_ns();
        ops->on_market(v, &b.h);
        qts_bench_add(&s_book, qts_mono_ns() - t0);
        t0 = qts_mono_ns();
        for (int k = 0; k < 4; k++)
            ref_set(&ref, diff[k].px, diff[k].qty);
        qts_bench_keep(&ref);
        qts_bench_add(&s_ref, qts_mono_ns() - t0);
        t.px = 6000000 - 1 - (int64_t)(next_rand() % 8);
        t.qty = 1000;
        t.aggressor = QTS_SIDE_SELL;
        t.h.ts_exch_ns = ++g_now;
        t0 = qts_mono_ns();
        ops->on_market(v, &t.h);
        qts_bench_add(&s_trade, qts_mono_ns() - t0);
    }
    struct qts_portfolio *pf = qts_portfolio_new(1000000000000LL);
    struct qts_fill f;
    qts_bench_event_init(&f.h, sizeof f, 0, 2, 5);
    f.h.instrument = 1;
    for (int i = 0; i < N; i++) {
        f.h.ts_exch_ns = i;
        f.strategy_id = (uint32_t)(i % 4);
        f.side = next_rand() % 2 ? QTS_SIDE_BUY : QTS_SIDE_SELL;
        f.px = 6000000 + (int64_t)(next_rand() % 1000);
        f.qty = 1000 + (int64_t)(next_rand() % 1000);
        f.fee = 10;
        int64_t t0 = qts_mono_ns();
        qts_portfolio_apply_fill(pf, &f);
        qts_bench_add(&s_pf, qts_mono_ns() - t0);
    }
    char extra[96];
    snprintf(extra, sizeof extra, "\"resting_orders\":64,\"reports\":%llu",
             (unsigned long long)g_reports);
    qts_bench_report_latency("broker_paper.on_market_l2_diff4", &s_book, extra);
    qts_bench_report_latency("broker_paper.on_market_trade", &s_trade, extra);
    qts_bench_report_latency("broker_paper.reference_sorted_array_diff4", &s_ref, NULL);
    qts_bench_report_latency("portfolio.apply_fill", &s_pf, NULL);
    qts_portfolio_free(pf);
    d->stop(v);
    d->destroy(v);
    qts_bench_samples_free(&s_book);
    qts_bench_samples_free(&s_trade);
    qts_bench_samples_free(&s_ref);
    qts_bench_samples_free(&s_pf);
    dlclose(dl);
    return 0;
}
