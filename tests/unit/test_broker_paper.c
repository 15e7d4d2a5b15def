/* test_broker_paper.c — the paper broker plugin (the real .so, loaded with
 * dlopen) driven by a host-services table written here: market orders walk
 * the book, queue position with trades and cancels ahead, partial fills,
 * latency, fees, rejects, cancel, modify, determinism, state transfer. */
#include "test_support.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "portfolio.h"
#include "qts/qts_plugin.h"
#include "util.h"

/* ------------------------------------------------------------- test host */

#define MAX_REPORTS 256
/* optional sink for every report (the replay test feeds a portfolio) */
static void (*g_sink)(const struct qts_exec_report *r);
#define MAX_CFG 16

struct cfg_kv {
    const char *key;
    char type; /* 'i' 'd' 'b' */
    int64_t i;
    double d;
};

static struct {
    int64_t now;
    struct qts_exec_report rep[MAX_REPORTS];
    size_t n_rep;
    struct cfg_kv cfg[MAX_CFG];
    size_t n_cfg;
    qts_timer_fn timer_cb;
    void *timer_arg;
    int64_t timer_due;
    uint64_t n_positions;
    int64_t last_pos_qty;
    int64_t last_pos_avg;
    uint64_t done_req;
} H;

static void *h_alloc(void *owner, size_t n) { (void)owner; return malloc(n); }
static void h_free(void *owner, void *p) { (void)owner; free(p); }
static void h_log(void *owner, int level, const char *fmt, ...)
{
    (void)owner; (void)level; (void)fmt;
}
static int64_t h_now(void *owner) { (void)owner; return H.now; }
static int h_timer_start(void *owner, uint64_t timeout_ms, uint64_t repeat_ms, qts_timer_fn cb,
                         void *arg, uint64_t *id)
{
    (void)owner; (void)repeat_ms;
    H.timer_cb = cb;
    H.timer_arg = arg;
    H.timer_due = H.now + (int64_t)timeout_ms * 1000000;
    *id = 1;
    return 0;
}
static int h_timer_stop(void *owner, uint64_t id)
{
    (void)owner; (void)id;
    H.timer_cb = NULL;
    return 0;
}

static const struct cfg_kv *cfg_find(const char *key, char type)
{
    for (size_t i = 0; i < H.n_cfg; i++)
        if (strcmp(H.cfg[i].key, key) == 0 && H.cfg[i].type == type)
            return &H.cfg[i];
    return NULL;
}
static const char *g_cfg_rule; /* queue_cancel_rule, NULL = absent */
static int h_cfg_str(void *o, const char *p, const char **out, struct qts_err *e)
{
    (void)o; (void)e;
    if (strcmp(p, "queue_cancel_rule") != 0 || !g_cfg_rule)
        return QTS_ENOENT;
    *out = g_cfg_rule;
    return 0;
}
static int h_cfg_int(void *o, const char *p, int64_t *out, struct qts_err *e)
{
    (void)o; (void)e;
    const struct cfg_kv *kv = cfg_find(p, 'i');
    if (!kv)
        return QTS_ENOENT;
    *out = kv->i;
    return 0;
}
static int h_cfg_double(void *o, const char *p, double *out, struct qts_err *e)
{
    (void)o; (void)e;
    const struct cfg_kv *kv = cfg_find(p, 'd');
    if (!kv)
        return QTS_ENOENT;
    *out = kv->d;
    return 0;
}
static int h_cfg_bool(void *o, const char *p, bool *out, struct qts_err *e)
{
    (void)o; (void)e;
    const struct cfg_kv *kv = cfg_find(p, 'b');
    if (!kv)
        return QTS_ENOENT;
    *out = kv->i != 0;
    return 0;
}

static const struct qts_instrument INSTS[] = {
    {sizeof(struct qts_instrument), 1, "BTCUSDT", "synthetic", 2, 3, 0, 0, 1, 1, 1},
    {sizeof(struct qts_instrument), 2, "ETHUSDT", "synthetic", 2, 3, 0, 0, 5, 10, 10},
    {sizeof(struct qts_instrument), 3, "BTCUSDT.B", "binance", 2, 8, 0, 0, 1, 1, 1},
};
static const struct qts_instrument *h_inst_find(void *o, const char *sym)
{
    (void)o;
    for (size_t i = 0; i < 3; i++)
        if (strcmp(INSTS[i].symbol, sym) == 0)
            return &INSTS[i];
    return NULL;
}
static int h_emit_exec(void *o, const struct qts_exec_report *r)
{
    (void)o;
    if (g_sink) {
        g_sink(r);
        return 0;
    }
    assert_true(H.n_rep < MAX_REPORTS);
    H.rep[H.n_rep++] = *r;
    return 0;
}
static int h_emit_pos(void *o, const struct qts_broker_position *p)
{
    (void)o;
    H.n_positions++;
    H.last_pos_qty = p->qty;
    H.last_pos_avg = p->avg_px;
    return 0;
}
static int h_query_done(void *o, uint64_t req, int st)
{
    (void)o; (void)st;
    H.done_req = req;
    return 0;
}

static const struct qts_host_api HOST = {
    .struct_size = sizeof(struct qts_host_api),
    .abi_major = QTS_ABI_MAJOR,
    .abi_minor = QTS_ABI_MINOR,
    .alloc = h_alloc,
    .free = h_free,
    .log = h_log,
    .now_ns = h_now,
    .timer_start = h_timer_start,
    .timer_stop = h_timer_stop,
    .cfg_str = h_cfg_str,
    .cfg_int = h_cfg_int,
    .cfg_double = h_cfg_double,
    .cfg_bool = h_cfg_bool,
    .instrument_find = h_inst_find,
    .emit_exec_report = h_emit_exec,
    .emit_position = h_emit_pos,
    .emit_query_done = h_query_done,
};

/* ------------------------------------------------------------ plugin load */

static void *g_dl;
static const struct qts_plugin_desc *g_desc;
static const struct qts_broker_ops *g_ops;

static int group_setup(void **state)
{
    (void)state;
    char path[1024];
    snprintf(path, sizeof path, "%s/broker_paper.so", qts_test_plugin_dir());
    g_dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!g_dl) {
        fprintf(stderr, "cannot load %s: %s\n", path, dlerror());
        return -1;
    }
    qts_plugin_entry_fn entry = (qts_plugin_entry_fn)dlsym(g_dl, QTS_PLUGIN_ENTRY_SYMBOL);
    if (!entry)
        return -1;
    g_desc = entry(QTS_ABI_MAJOR, QTS_ABI_MINOR);
    if (!g_desc || strcmp(g_desc->build_sig, QTS_BUILD_SIG) != 0 ||
        g_desc->kind != QTS_KIND_BROKER)
        return -1;
    g_ops = g_desc->ops;
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    if (g_dl && !getenv("QTS_NO_DLCLOSE"))
        dlclose(g_dl);
    return 0;
}

static void cfg_reset(void)
{
    memset(&H, 0, sizeof H);
    H.now = 1000000000;
}
static void cfg_i(const char *k, int64_t v) { H.cfg[H.n_cfg++] = (struct cfg_kv){k, 'i', v, 0}; }
static void cfg_d(const char *k, double v) { H.cfg[H.n_cfg++] = (struct cfg_kv){k, 'd', 0, v}; }
static void cfg_b(const char *k, bool v) { H.cfg[H.n_cfg++] = (struct cfg_kv){k, 'b', v, 0}; }

/* Default venue for the tests: 1 ms order latency, no feed latency,
 * maker 1 bps, taker 5 bps. */
static void *venue_open(void)
{
    void *self = NULL;
    struct qts_err err = {0};
    if (!cfg_find("order_latency_ns", 'i'))
        cfg_i("order_latency_ns", 1000000);
    if (!cfg_find("maker_fee_bps", 'd'))
        cfg_d("maker_fee_bps", 1.0);
    if (!cfg_find("taker_fee_bps", 'd'))
        cfg_d("taker_fee_bps", 5.0);
    assert_int_equal(g_desc->init(&HOST, (void *)&H, &self, &err), 0);
    assert_int_equal(g_desc->start(self, &err), 0);
    return self;
}

static void venue_close(void *self)
{
    assert_int_equal(g_desc->stop(self), 0);
    g_desc->destroy(self);
}

/* BTCUSDT: px_exp 2, qty_exp 3. P(100.5) = 10050, Q(1.5) = 1500. */
#define P(x) ((int64_t)((x) * 100 + 0.5))
#define Q(x) ((int64_t)((x) * 1000 + 0.5))

static void hdr(struct qts_ev_hdr *h, size_t size, int type, uint32_t inst, int64_t ts)
{
    memset(h, 0, size);
    h->struct_size = (uint32_t)size;
    h->type = (uint16_t)type;
    h->px_exp = 2;
    h->qty_exp = 3;
    h->instrument = inst;
    h->ts_exch_ns = ts;
    h->ts_recv_ns = ts;
}

static void book(void *self, int64_t ts, bool snapshot, const struct qts_level *bids,
                 uint32_t nb, const struct qts_level *asks, uint32_t na)
{
    struct qts_book_update b;
    hdr(&b.h, sizeof b, QTS_EV_BOOK, 1, ts);
    b.h.flags = snapshot ? QTS_BOOK_SNAPSHOT : 0;
    b.bids = bids;
    b.n_bids = nb;
    b.asks = asks;
    b.n_asks = na;
    H.now = ts;
    g_ops->on_market(self, &b.h);
}

static void trade(void *self, int64_t ts, int64_t px, int64_t qty, int aggressor)
{
    struct qts_trade t;
    hdr(&t.h, sizeof t, QTS_EV_TRADE, 1, ts);
    t.px = px;
    t.qty = qty;
    t.aggressor = (uint8_t)aggressor;
    H.now = ts;
    g_ops->on_market(self, &t.h);
}

static int submit(void *self, const char *id, const char *sym, int side, int type, int tif,
                  int64_t px, int64_t qty)
{
    struct qts_broker_order o;
    memset(&o, 0, sizeof o);
    o.struct_size = sizeof o;
    snprintf(o.symbol, sizeof o.symbol, "%s", sym);
    snprintf(o.client_order_id, sizeof o.client_order_id, "%s", id);
    o.side = (uint8_t)side;
    o.type = (uint8_t)type;
    o.tif = (uint8_t)tif;
    o.px = px;
    o.qty = qty;
    o.ts_sent_ns = H.now;
    return g_ops->submit(self, &o);
}

/* A standard book: bids 99.00 x 5, 98.50 x 3; asks 100.00 x 1, 100.50 x 2,
 * 101.00 x 5. */
static void std_book(void *self, int64_t ts)
{
    const struct qts_level bids[] = {{P(99.0), Q(5)}, {P(98.5), Q(3)}};
    const struct qts_level asks[] = {{P(101.0), Q(5)}, {P(100.0), Q(1)}, {P(100.5), Q(2)}};
    book(self, ts, true, bids, 2, asks, 3);
}

static size_t count(int exec_type)
{
    size_t n = 0;
    for (size_t i = 0; i < H.n_rep; i++)
        n += H.rep[i].exec_type == exec_type;
    return n;
}

static const struct qts_exec_report *nth(int exec_type, size_t k)
{
    for (size_t i = 0; i < H.n_rep; i++)
        if (H.rep[i].exec_type == exec_type && k-- == 0)
            return &H.rep[i];
    return NULL;
}

/* fee in cash units for px*qty at bps, as the venue computes it */
static int64_t fee(int64_t px, int64_t qty, double bps)
{
    int64_t notional = px * qty * 10; /* px_exp 2 + qty_exp 3 = 5 -> cash exp 6 */
    double f = (double)notional * bps / 10000.0;
    return (int64_t)(f + 0.5);
}

/* ------------------------------------------------------------------- cases */

static void test_market_order_walks_book(void **state)
{
    (void)state;
    cfg_reset();
    void *v = venue_open();
    std_book(v, H.now);
    assert_int_equal(submit(v, "m1", "BTCUSDT", QTS_SIDE_BUY, QTS_ORD_MARKET, QTS_TIF_IOC, 0,
                            Q(2.5)), 0);
    trade(v, H.now + 2000000, P(99.0), Q(0.001), QTS_SIDE_SELL); /* moves the clock */
    assert_int_equal(count(QTS_EXEC_ACK), 1);
    assert_int_equal(count(QTS_EXEC_FILL), 2);
    const struct qts_exec_report *f1 = nth(QTS_EXEC_FILL, 0), *f2 = nth(QTS_EXEC_FILL, 1);
    assert_int_equal(f1->last_px, P(100.0));
    assert_int_equal(f1->last_qty, Q(1));
    assert_int_equal(f1->fill_id, 1);
    assert_int_equal(f1->leaves_qty, Q(1.5));
    assert_int_equal(f2->last_px, P(100.5));
    assert_int_equal(f2->last_qty, Q(1.5));
    assert_int_equal(f2->fill_id, 2);
    assert_int_equal(f2->cum_qty, Q(2.5));
    assert_int_equal(f2->leaves_qty, 0);
    assert_false(f1->is_maker);
    assert_string_equal(f1->client_order_id, "m1");
    /* our impact stays in the venue's book: a second buy of 0.5 pays 100.50 */
    H.n_rep = 0;
    submit(v, "m2", "BTCUSDT", QTS_SIDE_BUY, QTS_ORD_MARKET, QTS_TIF_IOC, 0, Q(1));
    trade(v, H.now + 2000000, P(99.0), Q(0.001), QTS_SIDE_SELL);
    assert_int_equal(nth(QTS_EXEC_FILL, 0)->last_px, P(100.5));
    assert_int_equal(nth(QTS_EXEC_FILL, 0)->last_qty, Q(0.5));
    assert_int_equal(nth(QTS_EXEC_FILL, 1)->last_px, P(101.0));
    venue_close(v);
}

static void test_latency(void **state)
{
    (void)state;
    cfg_reset();
    cfg_i("order_latency_ns", 5000000);
    cfg_i("feed_latency_ns", 2000000);
    void *v = venue_open();
    std_book(v, H.now);
    int64_t sent = H.now;
    submit(v, "l1", "BTCUSDT", QTS_SIDE_BUY, QTS_ORD_MARKET, QTS_TIF_IOC, 0, Q(1));
    /* arrives at sent + 2 ms + 5 ms: a market event 1 ns earlier sees nothing */
    trade(v, sent + 7000000 - 1, P(99.0), Q(0.001), QTS_SIDE_SELL);
    assert_int_equal(H.n_rep, 0);
    /* the book moves before arrival: the order fills against the new book */
    const struct qts_level asks[] = {{P(100.0), 0}, {P(100.25), Q(3)}};
    book(v, sent + 7000000 - 1, false, NULL, 0, asks, 2);
    assert_int_equal(H.n_rep, 0);
    /* no market event: the venue's timer delivers the order on time */
    assert_non_null(H.timer_cb);
    assert_true(H.timer_due >= sent + 7000000);
    H.now = H.timer_due;
    H.timer_cb(H.timer_arg);
    assert_int_equal(count(QTS_EXEC_ACK), 1);
    assert_int_equal(nth(QTS_EXEC_ACK, 0)->ts_venue_ns, sent + 7000000);
    assert_int_equal(nth(QTS_EXEC_FILL, 0)->last_px, P(100.25));
    /* a cancel also travels: sent after a fill it cannot overtake it */
    venue_close(v);
}

static void test_limit_queue_trades_and_cancels(void **state)
{
    (void)state;
    cfg_reset();
    void *v = venue_open();
    std_book(v, H.now);
    submit(v, "q1", "BTCUSDT", QTS_SIDE_BUY, QTS_ORD_LIMIT, QTS_TIF_GTC, P(99.0), Q(2));
    int64_t t = H.now + 2000000;
    trade(v, t, P(100.0), Q(0.1), QTS_SIDE_BUY); /* arrival; a buy-side trade elsewhere */
    assert_int_equal(count(QTS_EXEC_ACK), 1);
    assert_int_equal(count(QTS_EXEC_FILL), 0); /* 5 ahead of us at 99.00 */
    /* sellers hit 99.00 for 3: queue ahead 5 -> 2, nothing for us */
    trade(v, t + 1, P(99.0), Q(3), QTS_SIDE_SELL);
    assert_int_equal(count(QTS_EXEC_FILL), 0);
    /* the feed shows the level 5 -> 2: that is the trade, not a cancel */
    const struct qts_level b1[] = {{P(99.0), Q(2)}};
    book(v, t + 2, false, b1, 1, NULL, 0);
    /* 2 -> 1: one cancel, pro rata: ahead 2 - 2 * 1/2 = 1 */
    const struct qts_level b2[] = {{P(99.0), Q(1)}};
    book(v, t + 3, false, b2, 1, NULL, 0);
    /* more joins behind us: ahead unchanged */
    const struct qts_level b3[] = {{P(99.0), Q(4)}};
    book(v, t + 4, false, b3, 1, NULL, 0);
    /* a trade of 2 at 99: 1 for the one ahead, 1 for us (partial) */
    trade(v, t + 5, P(99.0), Q(2), QTS_SIDE_SELL);
    assert_int_equal(count(QTS_EXEC_FILL), 1);
    const struct qts_exec_report *f = nth(QTS_EXEC_FILL, 0);
    assert_int_equal(f->last_qty, Q(1));
    assert_int_equal(f->last_px, P(99.0));
    assert_true(f->is_maker);
    assert_int_equal(f->leaves_qty, Q(1));
    assert_int_equal(f->fill_id, 1);
    /* a trade through our price fills the rest at our price */
    trade(v, t + 6, P(98.9), Q(5), QTS_SIDE_SELL);
    assert_int_equal(count(QTS_EXEC_FILL), 2);
    f = nth(QTS_EXEC_FILL, 1);
    assert_int_equal(f->last_qty, Q(1));
    assert_int_equal(f->last_px, P(99.0));
    assert_int_equal(f->leaves_qty, 0);
    assert_int_equal(f->cum_qty, Q(2));
    assert_int_equal(f->fill_id, 2);
    venue_close(v);
}

/* ahead after: 10 displayed, we join, 4 more join behind, 6 cancel */
static int64_t ahead_after_cancels(const char *rule)
{
    cfg_reset();
    g_cfg_rule = rule;
    void *v = venue_open();
    const struct qts_level b0[] = {{P(99.0), Q(10)}};
    const struct qts_level a0[] = {{P(100.0), Q(10)}};
    book(v, H.now, true, b0, 1, a0, 1);
    submit(v, "r", "BTCUSDT", QTS_SIDE_BUY, QTS_ORD_LIMIT, QTS_TIF_GTC, P(99.0), Q(1));
    trade(v, H.now + 2000000, P(100.0), Q(0.001), QTS_SIDE_BUY);
    const struct qts_level b1[] = {{P(99.0), Q(14)}};
    book(v, H.now + 1, false, b1, 1, NULL, 0);
    const struct qts_level b2[] = {{P(99.0), Q(8)}};
    book(v, H.now + 1, false, b2, 1, NULL, 0);
    /* probe: sell 1 at a time until we fill; returns the whole probes
     * that went to the queue ahead (ahead in (n, n + 1]) */
    int64_t probed = 0;
    while (count(QTS_EXEC_FILL) == 0 && probed < Q(20)) {
        trade(v, H.now + 1, P(99.0), Q(1), QTS_SIDE_SELL);
        probed += Q(1);
    }
    venue_close(v);
    g_cfg_rule = NULL;
    return probed - Q(1);
}

static void test_queue_cancel_rules(void **state)
{
    (void)state;
    /* pro rata: 10 - floor(10 * 6/14 in qty units) = 5.715: the 6th probe fills */
    assert_int_equal(ahead_after_cancels(NULL), Q(5));
    assert_int_equal(ahead_after_cancels("pro_rata"), Q(5));
    /* front: 10 - 6 = 4 (the 5th probe fills) */
    assert_int_equal(ahead_after_cancels("front"), Q(4));
    /* back: the 4 that joined behind us cancel first, then 2 of those ahead */
    assert_int_equal(ahead_after_cancels("back"), Q(8));
    cfg_reset();
    g_cfg_rule = "fifo";
    void *v = NULL;
    struct qts_err err = {0};
    assert_int_equal(g_desc->init(&HOST, (void *)&H, &v, &err), QTS_ECONFIG);
    assert_non_null(strstr(err.msg, "queue_cancel_rule"));
    g_cfg_rule = NULL;
}

static void test_partial_fill_and_ioc_expiry(void **state)
{
    (void)state;
    cfg_reset();
    void *v = venue_open();
    std_book(v, H.now);
    /* limit IOC buy 5 at 100.50: takes 1 + 2, expires 2 */
    submit(v, "p1", "BTCUSDT", QTS_SIDE_BUY, QTS_ORD_LIMIT, QTS_TIF_IOC, P(100.5), Q(5));
    /* GTC buy 4 at 101.00 after that: takes 4 of the 5 at 101 */
    submit(v, "p2", "BTCUSDT", QTS_SIDE_BUY, QTS_ORD_LIMIT, QTS_TIF_GTC, P(101.0), Q(6));
    /* moves the clock; a buyer's trade does not touch our resting buys */
    trade(v, H.now + 2000000, P(101.0), Q(0.001), QTS_SIDE_BUY);
    assert_int_equal(count(QTS_EXEC_FILL), 3);
    assert_int_equal(count(QTS_EXEC_EXPIRED), 1);
    const struct qts_exec_report *e = nth(QTS_EXEC_EXPIRED, 0);
    assert_string_equal(e->client_order_id, "p1");
    assert_int_equal(e->cum_qty, Q(3));
    const struct qts_exec_report *f = nth(QTS_EXEC_FILL, 2);
    assert_string_equal(f->client_order_id, "p2");
    assert_int_equal(f->last_qty, Q(5));
    assert_int_equal(f->leaves_qty, Q(1)); /* rests at 101 for the last 1 */
    /* FOK that cannot be filled whole expires with nothing filled */
    H.n_rep = 0;
    submit(v, "p3", "BTCUSDT", QTS_SIDE_BUY, QTS_ORD_LIMIT, QTS_TIF_FOK, P(105.0), Q(1));
    trade(v, H.now + 2000000, P(101.0), Q(0.001), QTS_SIDE_BUY);
    assert_int_equal(count(QTS_EXEC_FILL), 0);
    assert_int_equal(count(QTS_EXEC_EXPIRED), 1);
    venue_close(v);
}

static void test_fees_maker_taker(void **state)
{
    (void)state;
    cfg_reset();
    cfg_d("maker_fee_bps", -0.5); /* rebate */
    cfg_d("taker_fee_bps", 7.5);
    void *v = venue_open();
    std_book(v, H.now);
    submit(v, "t1", "BTCUSDT", QTS_SIDE_BUY, QTS_ORD_MARKET, QTS_TIF_IOC, 0, Q(1));
    submit(v, "k1", "BTCUSDT", QTS_SIDE_SELL, QTS_ORD_LIMIT, QTS_TIF_GTC, P(100.5), Q(1));
    trade(v, H.now + 2000000, P(100.5), Q(5), QTS_SIDE_BUY);
    assert_int_equal(count(QTS_EXEC_FILL), 2);
    const struct qts_exec_report *taker = nth(QTS_EXEC_FILL, 0), *maker = nth(QTS_EXEC_FILL, 1);
    assert_false(taker->is_maker);
    assert_int_equal(taker->fee, fee(P(100.0), Q(1), 7.5));
    assert_int_equal(taker->fee, 75000); /* 100.00 * 7.5 bps = 0.075 */
    assert_true(maker->is_maker);
    assert_int_equal(maker->fee, -5025); /* 100.50 * -0.5 bps */
    venue_close(v);
}

static void test_rejects(void **state)
{
    (void)state;
    cfg_reset();
    cfg_d("price_band_bps", 100); /* 1 % around the mid (99.50) */
    cfg_d("initial_cash", 150.0);
    void *v = venue_open();
    std_book(v, H.now);
    submit(v, "r1", "NOPE", QTS_SIDE_BUY, QTS_ORD_LIMIT, QTS_TIF_GTC, P(99), Q(1));
    submit(v, "r2", "BTCUSDT", QTS_SIDE_BUY, QTS_ORD_LIMIT, QTS_TIF_GTC, P(90), Q(1));
    submit(v, "r3", "BTCUSDT", QTS_SIDE_BUY, QTS_ORD_LIMIT, QTS_TIF_GTC, P(99), Q(2));
    submit(v, "r4", "BTCUSDT", QTS_SIDE_SELL, QTS_ORD_LIMIT, QTS_TIF_GTC, P(100), Q(1));
    submit(v, "r5", "BTCUSDT", QTS_SIDE_BUY, QTS_ORD_LIMIT, QTS_TIF_POST, P(100), Q(1));
    submit(v, "r6", "ETHUSDT", QTS_SIDE_BUY, QTS_ORD_LIMIT, QTS_TIF_GTC, 7, 10); /* tick 5 */
    submit(v, "r7", "BTCUSDT", QTS_SIDE_BUY, QTS_ORD_LIMIT, QTS_TIF_GTC, P(99), 0);
    trade(v, H.now + 2000000, P(99.0), Q(0.001), QTS_SIDE_SELL);
    assert_int_equal(count(QTS_EXEC_REJECT), 7);
    assert_int_equal(count(QTS_EXEC_ACK), 0);
    const char *why[] = {"unknown instrument", "price band", "insufficient cash",
                         "insufficient position", "post-only", "tick", "quantity"};
    for (size_t i = 0; i < 7; i++) {
        const struct qts_exec_report *r = nth(QTS_EXEC_REJECT, i);
        assert_non_null(r);
        char text[sizeof r->text];
        memcpy(text, r->text, sizeof text);
        if (!strstr(text, why[i]))
            fail_msg("reject %zu: '%s' lacks '%s'", i, text, why[i]);
        assert_true(r->code < 0);
    }
    assert_int_equal(nth(QTS_EXEC_REJECT, 0)->code, QTS_ENOENT);
    /* with shorting allowed the sell is accepted */
    venue_close(v);
    cfg_reset();
    cfg_b("allow_short", true);
    v = venue_open();
    std_book(v, H.now);
    submit(v, "s1", "BTCUSDT", QTS_SIDE_SELL, QTS_ORD_LIMIT, QTS_TIF_GTC, P(100), Q(1));
    trade(v, H.now + 2000000, P(99.0), Q(0.001), QTS_SIDE_SELL);
    assert_int_equal(count(QTS_EXEC_ACK), 1);
    venue_close(v);
}

static void test_cancel(void **state)
{
    (void)state;
    cfg_reset();
    void *v = venue_open();
    std_book(v, H.now);
    submit(v, "c1", "BTCUSDT", QTS_SIDE_BUY, QTS_ORD_LIMIT, QTS_TIF_GTC, P(98.0), Q(1));
    trade(v, H.now + 2000000, P(99.0), Q(0.001), QTS_SIDE_SELL);
    assert_int_equal(g_ops->cancel(v, "c1", NULL), 0);
    assert_int_equal(g_ops->cancel(v, "zz", NULL), 0);
    /* before the cancel arrives a trade through 98 fills us */
    trade(v, H.now + 500000, P(97.0), Q(0.4), QTS_SIDE_SELL);
    assert_int_equal(count(QTS_EXEC_FILL), 1);
    trade(v, H.now + 2000000, P(99.0), Q(0.001), QTS_SIDE_SELL);
    assert_int_equal(count(QTS_EXEC_CANCELLED), 1);
    const struct qts_exec_report *c = nth(QTS_EXEC_CANCELLED, 0);
    assert_string_equal(c->client_order_id, "c1");
    assert_int_equal(c->cum_qty, Q(0.4));
    assert_int_equal(c->leaves_qty, 0);
    assert_int_equal(count(QTS_EXEC_CANCEL_REJECT), 1);
    assert_string_equal(nth(QTS_EXEC_CANCEL_REJECT, 0)->client_order_id, "zz");
    /* cancelled: later trades do not fill it; a second cancel is rejected */
    trade(v, H.now + 1, P(97.0), Q(5), QTS_SIDE_SELL);
    assert_int_equal(count(QTS_EXEC_FILL), 1);
    g_ops->cancel(v, "c1", NULL);
    trade(v, H.now + 2000000, P(99.0), Q(0.001), QTS_SIDE_SELL);
    assert_int_equal(count(QTS_EXEC_CANCEL_REJECT), 2);
    /* cancel by venue order id */
    submit(v, "c2", "BTCUSDT", QTS_SIDE_BUY, QTS_ORD_LIMIT, QTS_TIF_GTC, P(98.0), Q(1));
    trade(v, H.now + 2000000, P(99.0), Q(0.001), QTS_SIDE_BUY);
    const struct qts_exec_report *ack = nth(QTS_EXEC_ACK, 1);
    assert_non_null(ack);
    char venue_id[QTS_VENUE_ID_MAX];
    memcpy(venue_id, ack->venue_order_id, sizeof venue_id);
    assert_int_equal(g_ops->cancel(v, "", venue_id), 0);
    assert_int_equal(g_ops->cancel(v, NULL, NULL), QTS_EINVAL);
    trade(v, H.now + 2000000, P(99.0), Q(0.001), QTS_SIDE_BUY);
    assert_int_equal(count(QTS_EXEC_CANCELLED), 2);
    assert_string_equal(nth(QTS_EXEC_CANCELLED, 1)->client_order_id, "c2");
    venue_close(v);
}

static void modify(void *v, const char *id, int64_t px, int64_t qty)
{
    struct qts_broker_modify m;
    memset(&m, 0, sizeof m);
    m.struct_size = sizeof m;
    snprintf(m.client_order_id, sizeof m.client_order_id, "%s", id);
    m.new_px = px;
    m.new_qty = qty;
    assert_int_equal(g_ops->modify(v, &m), 0);
}

static void test_modify(void **state)
{
    (void)state;
    cfg_reset();
    void *v = venue_open();
    std_book(v, H.now);
    submit(v, "a", "BTCUSDT", QTS_SIDE_BUY, QTS_ORD_LIMIT, QTS_TIF_GTC, P(99.0), Q(3));
    submit(v, "b", "BTCUSDT", QTS_SIDE_BUY, QTS_ORD_LIMIT, QTS_TIF_GTC, P(99.0), Q(1));
    trade(v, H.now + 2000000, P(100.0), Q(0.001), QTS_SIDE_BUY);
    /* a: smaller at the same price keeps its place */
    modify(v, "a", P(99.0), Q(2));
    trade(v, H.now + 2000000, P(100.0), Q(0.001), QTS_SIDE_BUY);
    assert_int_equal(count(QTS_EXEC_REPLACED), 1);
    assert_int_equal(nth(QTS_EXEC_REPLACED, 0)->leaves_qty, Q(2));
    /* 5 ahead, then a (2), then b: a trade of 7 fills a only */
    trade(v, H.now + 1, P(99.0), Q(7), QTS_SIDE_SELL);
    assert_int_equal(count(QTS_EXEC_FILL), 1);
    assert_string_equal(nth(QTS_EXEC_FILL, 0)->client_order_id, "a");
    assert_int_equal(nth(QTS_EXEC_FILL, 0)->last_qty, Q(2));
    /* b moves to 98.50 (back of that queue, 3 ahead) and grows to 2 */
    modify(v, "b", P(98.5), Q(2));
    trade(v, H.now + 2000000, P(100.0), Q(0.001), QTS_SIDE_BUY);
    assert_int_equal(count(QTS_EXEC_REPLACED), 2);
    trade(v, H.now + 1, P(98.5), Q(4), QTS_SIDE_SELL);
    assert_int_equal(count(QTS_EXEC_FILL), 2);
    assert_int_equal(nth(QTS_EXEC_FILL, 1)->last_qty, Q(1));
    assert_int_equal(nth(QTS_EXEC_FILL, 1)->last_px, P(98.5));
    /* modify below the filled quantity is refused; the order stays */
    modify(v, "b", P(98.5), Q(1));
    trade(v, H.now + 2000000, P(100.0), Q(0.001), QTS_SIDE_BUY);
    assert_int_equal(count(QTS_EXEC_CANCEL_REJECT), 1);
    /* a modify to a crossing price takes liquidity */
    modify(v, "b", P(100.0), Q(2));
    trade(v, H.now + 2000000, P(99.0), Q(0.001), QTS_SIDE_SELL);
    assert_int_equal(count(QTS_EXEC_FILL), 3);
    assert_int_equal(nth(QTS_EXEC_FILL, 2)->last_px, P(100.0));
    assert_false(nth(QTS_EXEC_FILL, 2)->is_maker);
    assert_int_equal(nth(QTS_EXEC_FILL, 2)->leaves_qty, 0);
    venue_close(v);
}

struct membuf {
    struct qts_buf b;
    unsigned char *p;
    size_t n;
};

static int mb_append(struct qts_buf *buf, const void *p, size_t n)
{
    struct membuf *m = (struct membuf *)buf;
    m->p = realloc(m->p, m->n + n);
    memcpy(m->p + m->n, p, n);
    m->n += n;
    return 0;
}

/* Export the venue, destroy it, import into a fresh instance. */
static void *reload(void *v)
{
    struct membuf mb = {{sizeof(struct qts_buf), mb_append, NULL}, NULL, 0};
    assert_int_equal(g_desc->stop(v), 0);
    assert_int_equal(g_desc->export_state(v, &mb.b), 0);
    g_desc->destroy(v);
    void *w = NULL;
    struct qts_err err = {0};
    assert_int_equal(g_desc->init(&HOST, (void *)&H, &w, &err), 0);
    assert_int_equal(g_desc->import_state(w, mb.p, mb.n), 0);
    assert_int_equal(g_desc->start(w, &err), 0);
    free(mb.p);
    return w;
}

/* A fixed script with jitter: returns a hash of every report. With
 * reload_at >= 0 the venue is hot-reloaded (state transfer) at that step. */
static uint64_t run_script(int64_t seed, int reload_at)
{
    cfg_reset();
    cfg_i("latency_jitter_ns", 3000000);
    cfg_i("seed", seed);
    void *v = venue_open();
    std_book(v, H.now);
    char id[16];
    for (int i = 0; i < 20; i++) {
        if (i == reload_at)
            v = reload(v);
        snprintf(id, sizeof id, "o%d", i);
        int side = i % 2 ? QTS_SIDE_SELL : QTS_SIDE_BUY;
        if (side == QTS_SIDE_SELL && i < 6)
            side = QTS_SIDE_BUY;
        submit(v, id, "BTCUSDT", side, i % 3 ? QTS_ORD_LIMIT : QTS_ORD_MARKET,
               QTS_TIF_GTC, side == QTS_SIDE_BUY ? P(99.0) : P(100.5), Q(0.3));
        trade(v, H.now + 700000, i % 2 ? P(99.0) : P(100.5), Q(1), i % 2 ? QTS_SIDE_SELL : QTS_SIDE_BUY);
        const struct qts_level asks[] = {{P(100.0), Q(1 + i % 3)}};
        book(v, H.now + 300000, false, NULL, 0, asks, 1);
    }
    trade(v, H.now + 10000000, P(99.0), Q(0.001), QTS_SIDE_SELL);
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < H.n_rep; i++) {
        const struct qts_exec_report *r = &H.rep[i];
        int64_t f[] = {r->exec_type, r->last_px, r->last_qty, r->cum_qty, r->leaves_qty,
                       r->fee, (int64_t)r->fill_id, r->ts_venue_ns};
        for (size_t k = 0; k < sizeof f / sizeof f[0]; k++)
            h = (h ^ (uint64_t)f[k]) * 1099511628211ULL;
        for (const char *c = r->client_order_id; *c; c++)
            h = (h ^ (uint8_t)*c) * 1099511628211ULL;
    }
    assert_true(H.n_rep > 20);
    venue_close(v);
    return h;
}

static void test_deterministic_for_seed(void **state)
{
    (void)state;
    uint64_t a = run_script(7, -1), b = run_script(7, -1), c = run_script(8, -1);
    assert_true(a == b);
    assert_true(a != c); /* jitter changes arrival times */
    /* a hot reload in the middle (orders resting and in flight, generator
     * state) changes nothing */
    assert_true(run_script(7, 9) == a);
    assert_true(run_script(7, 15) == a);
}

static void test_state_export_import(void **state)
{
    (void)state;
    cfg_reset();
    void *v = venue_open();
    std_book(v, H.now);
    submit(v, "x1", "BTCUSDT", QTS_SIDE_BUY, QTS_ORD_LIMIT, QTS_TIF_GTC, P(99.0), Q(2));
    trade(v, H.now + 2000000, P(100.0), Q(0.001), QTS_SIDE_BUY);
    trade(v, H.now + 1, P(99.0), Q(6), QTS_SIDE_SELL); /* 5 ahead, 1 for us */
    assert_int_equal(count(QTS_EXEC_FILL), 1);
    submit(v, "x2", "BTCUSDT", QTS_SIDE_SELL, QTS_ORD_LIMIT, QTS_TIF_GTC, P(101.0), Q(0.5));
    /* x2 is still in flight when the broker is reloaded */
    assert_true(g_desc->caps & QTS_CAP_STATE_XFER);
    struct membuf mb = {{sizeof(struct qts_buf), mb_append, NULL}, NULL, 0};
    assert_int_equal(g_desc->export_state(v, &mb.b), 0);
    venue_close(v);

    void *w = NULL;
    struct qts_err err = {0};
    assert_int_equal(g_desc->init(&HOST, (void *)&H, &w, &err), 0);
    assert_int_equal(g_desc->import_state(w, mb.p, mb.n - 1), QTS_EPARSE);
    g_desc->destroy(w);
    assert_int_equal(g_desc->init(&HOST, (void *)&H, &w, &err), 0);
    assert_int_equal(g_desc->import_state(w, mb.p, mb.n), 0);
    assert_int_equal(g_desc->start(w, &err), 0);
    free(mb.p);
    H.n_rep = 0;
    trade(w, H.now + 2000000, P(99.0), Q(1), QTS_SIDE_SELL); /* x2 arrives; x1 fills 1 */
    assert_int_equal(count(QTS_EXEC_ACK), 1);
    assert_string_equal(nth(QTS_EXEC_ACK, 0)->client_order_id, "x2");
    assert_int_equal(count(QTS_EXEC_FILL), 1);
    const struct qts_exec_report *f = nth(QTS_EXEC_FILL, 0);
    assert_string_equal(f->client_order_id, "x1");
    assert_int_equal(f->fill_id, 2); /* fill ids continue */
    assert_int_equal(f->leaves_qty, 0);
    /* the bought position came across: 2 held, 0.5 offered */
    assert_int_equal(g_ops->query_positions(w, 42), 0);
    assert_int_equal(H.last_pos_qty, Q(2));
    assert_int_equal(H.last_pos_avg, P(99.0));
    assert_int_equal(H.done_req, 42);
    H.n_rep = 0;
    assert_int_equal(g_ops->query_open_orders(w, 43), 0);
    assert_int_equal(count(QTS_EXEC_STATUS), 1);
    assert_string_equal(nth(QTS_EXEC_STATUS, 0)->client_order_id, "x2");
    venue_close(w);
}

static void quote(void *self, int64_t ts, int64_t bp, int64_t bq, int64_t ap, int64_t aq)
{
    struct qts_quote q;
    hdr(&q.h, sizeof q, QTS_EV_QUOTE, 1, ts);
    q.bid_px = bp;
    q.bid_qty = bq;
    q.ask_px = ap;
    q.ask_qty = aq;
    H.now = ts;
    g_ops->on_market(self, &q.h);
}

static void test_quotes_top_of_book(void **state)
{
    (void)state;
    cfg_reset();
    void *v = venue_open();
    quote(v, H.now, P(99.0), Q(5), P(100.0), Q(1));
    submit(v, "q", "BTCUSDT", QTS_SIDE_BUY, QTS_ORD_LIMIT, QTS_TIF_GTC, P(99.0), Q(1));
    quote(v, H.now + 2000000, P(99.0), Q(5), P(100.0), Q(1)); /* arrives: 5 ahead */
    assert_int_equal(count(QTS_EXEC_ACK), 1);
    /* a better bid hides our level: the queue is unknown, not empty */
    quote(v, H.now + 1, P(99.5), Q(2), P(100.0), Q(1));
    trade(v, H.now + 1, P(99.0), Q(4), QTS_SIDE_SELL);
    assert_int_equal(count(QTS_EXEC_FILL), 0);
    trade(v, H.now + 1, P(99.0), Q(2), QTS_SIDE_SELL);
    assert_int_equal(count(QTS_EXEC_FILL), 1);
    assert_int_equal(nth(QTS_EXEC_FILL, 0)->last_qty, Q(1));
    /* a market order against quotes walks the one visible level only */
    submit(v, "m", "BTCUSDT", QTS_SIDE_BUY, QTS_ORD_MARKET, QTS_TIF_IOC, 0, Q(3));
    quote(v, H.now + 2000000, P(99.0), Q(5), P(100.0), Q(1));
    assert_int_equal(count(QTS_EXEC_FILL), 2);
    assert_int_equal(nth(QTS_EXEC_FILL, 1)->last_qty, Q(1));
    assert_int_equal(count(QTS_EXEC_EXPIRED), 1);
    venue_close(v);
}

/* ------------------------------------------------ replay of real Binance data */

struct replay {
    struct qts_portfolio *pf;
    uint64_t hash;
    int64_t n_fills, n_maker, n_taker, n_reports, n_rejects;
    int64_t last_ts;
    char open_buy[QTS_CLORDID_MAX], open_sell[QTS_CLORDID_MAX];
    int64_t cum[4096];          /* per order number: filled quantity */
    uint32_t last_fill_id[4096];
    int64_t qty[4096];
};
static struct replay R;

static int order_no(const char *clordid) { return atoi(clordid + 1); }

static void replay_sink(const struct qts_exec_report *r)
{
    R.n_reports++;
    int64_t f[] = {r->exec_type, r->last_px, r->last_qty, r->cum_qty, r->leaves_qty, r->fee,
                   (int64_t)r->fill_id, r->ts_venue_ns, r->is_maker};
    for (size_t k = 0; k < sizeof f / sizeof f[0]; k++)
        R.hash = (R.hash ^ (uint64_t)f[k]) * 1099511628211ULL;
    int no = order_no(r->client_order_id);
    assert_true(no >= 0 && no < 4096);
    if (r->exec_type == QTS_EXEC_REJECT)
        R.n_rejects++;
    if (r->exec_type == QTS_EXEC_FILL) {
        /* fill ids run 1, 2, 3 per order; never more than ordered */
        assert_int_equal(r->fill_id, R.last_fill_id[no] + 1);
        R.last_fill_id[no] = (uint32_t)r->fill_id;
        R.cum[no] += r->last_qty;
        assert_int_equal(R.cum[no], r->cum_qty);
        assert_true(R.cum[no] <= R.qty[no]);
        assert_int_equal(r->leaves_qty, R.qty[no] - R.cum[no]);
        R.n_fills++;
        if (r->is_maker)
            R.n_maker++;
        else
            R.n_taker++;
        struct qts_fill fl;
        memset(&fl, 0, sizeof fl);
        fl.h.struct_size = sizeof fl;
        fl.h.instrument = r->instrument;
        fl.h.px_exp = r->px_exp;
        fl.h.qty_exp = r->qty_exp;
        fl.h.ts_exch_ns = r->ts_venue_ns;
        fl.order_id = (uint64_t)no;
        fl.fill_id = r->fill_id;
        fl.strategy_id = 1 + (uint32_t)(no % 2);
        fl.side = r->side;
        fl.is_maker = r->is_maker;
        fl.px = r->last_px;
        fl.qty = r->last_qty;
        fl.fee = r->fee;
        assert_int_equal(qts_portfolio_apply_fill(R.pf, &fl), 0);
        int64_t eq = qts_portfolio_equity(R.pf);
        assert_int_equal(eq, qts_portfolio_initial_cash(R.pf) + qts_portfolio_realized(R.pf) +
                                 qts_portfolio_unrealized(R.pf) - qts_portfolio_fees(R.pf));
    }
    bool done = r->exec_type == QTS_EXEC_REJECT || r->exec_type == QTS_EXEC_CANCELLED ||
                r->exec_type == QTS_EXEC_EXPIRED || (r->exec_type == QTS_EXEC_FILL && r->leaves_qty == 0);
    if (done && strcmp(r->client_order_id, R.open_buy) == 0)
        R.open_buy[0] = '\0';
    if (done && strcmp(r->client_order_id, R.open_sell) == 0)
        R.open_sell[0] = '\0';
}

/* The text after `key` ("\"p\":\"") up to the next '"'. */
static const char *jstr(const char *line, const char *key, size_t *n)
{
    const char *p = strstr(line, key);
    if (!p)
        return NULL;
    p += strlen(key);
    const char *e = strchr(p, '"');
    *n = e ? (size_t)(e - p) : 0;
    return e ? p : NULL;
}

static int64_t jint(const char *line, const char *key)
{
    const char *p = strstr(line, key);
    return p ? strtoll(p + strlen(key), NULL, 10) : 0;
}

static int64_t fixed(const char *s, size_t n, unsigned exp)
{
    int64_t v = 0;
    assert_int_equal(qts_parse_fixed(s, n, exp, &v), 0);
    return v;
}

/* Parse [["px","qty"],...] after `key` into lv; returns the count. */
static uint32_t jlevels(const char *line, const char *key, struct qts_level *lv, uint32_t cap)
{
    const char *p = strstr(line, key);
    uint32_t n = 0;
    if (!p)
        return 0;
    p += strlen(key);
    while (*p == '[' || *p == ',') {
        if (p[0] == ',' && p[1] != '[')
            break;
        if (*p == ',')
            p++;
        if (p[0] != '[' || p[1] != '"')
            break;
        const char *a = p + 2, *ae = strchr(a, '"');
        const char *b = ae + 3, *be = strchr(b, '"');
        if (n < cap) {
            lv[n].px = fixed(a, (size_t)(ae - a), 2);
            lv[n].qty = fixed(b, (size_t)(be - b), 8);
            n++;
        }
        p = be + 2; /* past "] */
    }
    return n;
}

static void rhdr(struct qts_ev_hdr *h, size_t size, int type, int64_t ts)
{
    memset(h, 0, size);
    h->struct_size = (uint32_t)size;
    h->type = (uint16_t)type;
    h->px_exp = 2;
    h->qty_exp = 8;
    h->instrument = 3;
    h->ts_exch_ns = ts;
    h->ts_recv_ns = ts;
}

#define MAX_LV 1200
#define LOT 1000000 /* 0.01 BTC at 8 decimals */

/* Replays the first BTCUSDT spot file. A simple script quotes one buy at the
 * best bid and, when long, one sell at the best ask, re-quoting when the
 * price moves; every 400 trades it also sends a market order. */
static uint64_t replay_once(const char *path, int64_t *n_fills_out)
{
    cfg_reset();
    memset(&R, 0, sizeof R);
    R.hash = 1469598103934665603ULL;
    R.pf = qts_portfolio_new(1000000000000LL); /* 1 000 000 */
    g_sink = replay_sink;
    cfg_i("latency_jitter_ns", 2000000);
    cfg_i("seed", 11);
    void *v = venue_open();
    gzFile gz = gzopen(path, "rb");
    assert_non_null(gz);
    static char line[1 << 17];
    static struct qts_level bids[MAX_LV], asks[MAX_LV];
    int64_t snap_id = -1, best_bid = 0, best_ask = 0, n_trades = 0, last_sample = 0;
    int next_no = 1;
    while (gzgets(gz, line, sizeof line)) {
        int64_t ts = 0;
        if (!strstr(line, "\"stream\"")) {
            snap_id = jint(line, "\"lastUpdateId\":");
            struct qts_book_update b;
            ts = R.last_ts;
            rhdr(&b.h, sizeof b, QTS_EV_BOOK, ts);
            b.h.flags = QTS_BOOK_SNAPSHOT;
            b.n_bids = jlevels(line, "\"bids\":[", bids, MAX_LV);
            b.n_asks = jlevels(line, "\"asks\":[", asks, MAX_LV);
            b.bids = bids;
            b.asks = asks;
            g_ops->on_market(v, &b.h);
            continue;
        }
        if (strstr(line, "@depth")) {
            if (snap_id < 0 || jint(line, "\"u\":") <= snap_id)
                continue;
            ts = jint(line, "\"E\":") * 1000000;
            struct qts_book_update b;
            rhdr(&b.h, sizeof b, QTS_EV_BOOK, ts);
            b.n_bids = jlevels(line, "\"b\":[", bids, MAX_LV);
            b.n_asks = jlevels(line, "\"a\":[", asks, MAX_LV);
            b.bids = bids;
            b.asks = asks;
            H.now = ts > H.now ? ts : H.now;
            g_ops->on_market(v, &b.h);
        } else if (strstr(line, "@bookTicker")) {
            size_t n;
            const char *s;
            if ((s = jstr(line, "\"b\":\"", &n)))
                best_bid = fixed(s, n, 2);
            if ((s = jstr(line, "\"a\":\"", &n)))
                best_ask = fixed(s, n, 2);
            continue; /* the strategy's view; the venue has the L2 book */
        } else if (strstr(line, "@trade")) {
            size_t np, nq;
            const char *ps = jstr(line, "\"p\":\"", &np), *qs = jstr(line, "\"q\":\"", &nq);
            ts = jint(line, "\"T\":") * 1000000;
            struct qts_trade t;
            rhdr(&t.h, sizeof t, QTS_EV_TRADE, ts);
            t.px = fixed(ps, np, 2);
            t.qty = fixed(qs, nq, 8);
            t.aggressor = strstr(line, "\"m\":true") ? QTS_SIDE_SELL : QTS_SIDE_BUY;
            H.now = ts > H.now ? ts : H.now;
            g_ops->on_market(v, &t.h);
            qts_portfolio_mark(R.pf, 3, t.px, 2);
            n_trades++;
        } else {
            continue;
        }
        R.last_ts = ts > R.last_ts ? ts : R.last_ts;
        if (R.last_ts - last_sample >= 1000000000LL) {
            qts_portfolio_sample(R.pf, R.last_ts);
            last_sample = R.last_ts;
        }
        if (!best_bid || !best_ask || next_no >= 4000)
            continue;
        char id[16];
        const struct qts_position *pos = qts_portfolio_position(R.pf, 3);
        int64_t held = pos ? pos->qty : 0;
        if (!R.open_buy[0] && held < 5 * LOT) {
            snprintf(id, sizeof id, "o%d", next_no);
            R.qty[next_no++] = LOT;
            submit(v, id, "BTCUSDT.B", QTS_SIDE_BUY, QTS_ORD_LIMIT, QTS_TIF_GTC, best_bid, LOT);
            snprintf(R.open_buy, sizeof R.open_buy, "%s", id);
        }
        if (!R.open_sell[0] && held >= LOT) {
            snprintf(id, sizeof id, "o%d", next_no);
            R.qty[next_no++] = LOT;
            submit(v, id, "BTCUSDT.B", QTS_SIDE_SELL, QTS_ORD_LIMIT, QTS_TIF_GTC, best_ask, LOT);
            snprintf(R.open_sell, sizeof R.open_sell, "%s", id);
        }
        if (n_trades % 400 == 399 && held >= 2 * LOT) {
            snprintf(id, sizeof id, "o%d", next_no);
            R.qty[next_no++] = LOT;
            submit(v, id, "BTCUSDT.B", QTS_SIDE_SELL, QTS_ORD_MARKET, QTS_TIF_IOC, 0, LOT);
        }
        if (n_trades % 150 == 149 && R.open_buy[0])
            g_ops->cancel(v, R.open_buy, NULL); /* re-quote at the new best */
    }
    gzclose(gz);
    /* the venue's position is the sum of the fills the portfolio saw */
    H.last_pos_qty = 0;
    g_ops->query_positions(v, 1);
    const struct qts_position *pos = qts_portfolio_position(R.pf, 3);
    assert_int_equal(H.last_pos_qty, pos ? pos->qty : 0);
    if (pos && pos->qty)
        assert_int_equal(H.last_pos_avg, qts_position_avg_px(pos));
    venue_close(v);
    g_sink = NULL;
    *n_fills_out = R.n_fills;
    fprintf(stderr, "replay: %d orders, %lld reports, %lld fills (%lld maker, %lld taker), "
                    "equity %lld\n", next_no - 1, (long long)R.n_reports, (long long)R.n_fills,
            (long long)R.n_maker, (long long)R.n_taker, (long long)qts_portfolio_equity(R.pf));
    assert_true(R.n_maker > 0);
    assert_true(R.n_taker > 0);
    assert_int_equal(R.n_rejects, 0);
    qts_portfolio_free(R.pf);
    return R.hash;
}

static void test_replay_real_data(void **state)
{
    (void)state;
    const char *path = qts_test_data_path("binance/spot_btcusdt_20240808.gz");
    if (!path) {
        fprintf(stderr, "skipped: ../shared/data/binance/spot_btcusdt_20240808.gz absent\n");
        skip();
    }
    char p[1024];
    snprintf(p, sizeof p, "%s", path);
    int64_t n1, n2;
    uint64_t a = replay_once(p, &n1), b = replay_once(p, &n2);
    assert_true(n1 > 20);
    assert_int_equal(n1, n2);
    assert_true(a == b);
}

/* ------------------------------------------- random order flow: properties */

#define RN 600
static struct {
    int64_t sent[RN], limit[RN], qty[RN], cum[RN], new_px[RN];
    uint8_t side[RN], type[RN];
    uint32_t fill_id[RN];
    bool done[RN];
    int64_t position, n_fills, n_maker;
} F;

static void flow_sink(const struct qts_exec_report *r)
{
    int no = atoi(r->client_order_id + 1);
    assert_true(no >= 0 && no < RN);
    assert_true(r->ts_venue_ns >= F.sent[no] + 1000000); /* never before arrival */
    switch (r->exec_type) {
    case QTS_EXEC_FILL: {
        assert_false(F.done[no]);
        assert_true(r->last_qty > 0);
        assert_int_equal(r->fill_id, F.fill_id[no] + 1);
        F.fill_id[no]++;
        F.cum[no] += r->last_qty;
        assert_int_equal(r->cum_qty, F.cum[no]);
        assert_true(F.cum[no] <= F.qty[no]);
        assert_int_equal(r->leaves_qty, F.qty[no] - F.cum[no]);
        if (F.type[no] == QTS_ORD_LIMIT) /* never worse than the limit */
            assert_true(F.side[no] == QTS_SIDE_BUY ? r->last_px <= F.limit[no]
                                                   : r->last_px >= F.limit[no]);
        if (r->is_maker) {
            assert_int_equal(r->last_px, F.limit[no]);
            F.n_maker++;
        }
        assert_int_equal(r->fee, fee(r->last_px, r->last_qty, r->is_maker ? 1.0 : 5.0));
        F.position += F.side[no] == QTS_SIDE_BUY ? r->last_qty : -r->last_qty;
        F.n_fills++;
        if (r->leaves_qty == 0)
            F.done[no] = true;
        break;
    }
    case QTS_EXEC_REPLACED:
        F.qty[no] = r->cum_qty + r->leaves_qty;
        F.limit[no] = F.new_px[no];
        break;
    case QTS_EXEC_REJECT:
    case QTS_EXEC_CANCELLED:
    case QTS_EXEC_EXPIRED:
        assert_false(F.done[no]);
        F.done[no] = true;
        break;
    default:
        break;
    }
}

static uint64_t g_rnd;
static uint64_t RND(void)
{
    g_rnd ^= g_rnd << 13;
    g_rnd ^= g_rnd >> 7;
    g_rnd ^= g_rnd << 17;
    return g_rnd;
}

static void test_random_flow_properties(void **state)
{
    (void)state;
    cfg_reset();
    memset(&F, 0, sizeof F);
    cfg_b("allow_short", true);
    cfg_d("initial_cash", 5000.0);
    void *v = venue_open();
    g_sink = flow_sink;
    g_rnd = 0x9E3779B97F4A7C15ULL;
    std_book(v, H.now);
    int next = 0;
    for (int step = 0; step < 20000; step++) {
        int64_t ts = H.now + (int64_t)(RND() % 400000);
        int64_t mid = P(100.0) + (int64_t)(RND() % 41) - 20;
        switch (RND() % 4) {
        case 0: { /* a few L2 levels change */
            struct qts_level lv[3];
            for (int k = 0; k < 3; k++)
                lv[k] = (struct qts_level){mid - 1 - (int64_t)(RND() % 10),
                                           (int64_t)(RND() % 4) * Q(0.5)};
            struct qts_level la[3];
            for (int k = 0; k < 3; k++)
                la[k] = (struct qts_level){mid + (int64_t)(RND() % 10),
                                           (int64_t)(RND() % 4) * Q(0.5)};
            book(v, ts, false, lv, 3, la, 3);
            break;
        }
        case 1:
            trade(v, ts, mid - 10 + (int64_t)(RND() % 20), Q(0.1) * (1 + (int64_t)(RND() % 20)),
                  (int)(RND() % 3));
            break;
        default:
            H.now = ts;
            break;
        }
        if (next < RN && RND() % 25 == 0) {
            char id[16];
            int no = next++;
            snprintf(id, sizeof id, "o%d", no);
            F.sent[no] = H.now;
            F.side[no] = RND() % 2 ? QTS_SIDE_BUY : QTS_SIDE_SELL;
            F.type[no] = RND() % 4 ? QTS_ORD_LIMIT : QTS_ORD_MARKET;
            F.qty[no] = Q(0.1) * (1 + (int64_t)(RND() % 30));
            F.limit[no] = F.type[no] == QTS_ORD_LIMIT ? mid - 15 + (int64_t)(RND() % 30) : 0;
            int tif = (int)(RND() % 5);
            if (F.type[no] == QTS_ORD_MARKET && tif == QTS_TIF_POST)
                tif = QTS_TIF_IOC;
            assert_int_equal(submit(v, id, "BTCUSDT", F.side[no], F.type[no], tif,
                                    F.limit[no], F.qty[no]), 0);
        }
        if (next && RND() % 40 == 0) { /* cancel or modify a random order */
            int no = (int)(RND() % (uint64_t)next);
            char id[16];
            snprintf(id, sizeof id, "o%d", no);
            if (RND() % 2) {
                g_ops->cancel(v, id, NULL);
            } else if (F.type[no] == QTS_ORD_LIMIT && !F.new_px[no]) {
                F.new_px[no] = F.limit[no] + (int64_t)(RND() % 5) - 2;
                int64_t nq = F.qty[no] + Q(0.1) * ((int64_t)(RND() % 5) - 2);
                modify(v, id, F.new_px[no], nq > 0 ? nq : Q(0.1));
            }
        }
    }
    H.last_pos_qty = 0;
    g_ops->query_positions(v, 9);
    assert_int_equal(H.last_pos_qty, F.position);
    fprintf(stderr, "random flow: %d orders, %lld fills (%lld maker)\n", next,
            (long long)F.n_fills, (long long)F.n_maker);
    assert_true(F.n_fills > 50);
    assert_true(F.n_maker > 10);
    g_sink = NULL;
    venue_close(v);
}

static void test_idempotent_resubmit(void **state)
{
    (void)state;
    cfg_reset();
    void *v = venue_open();
    std_book(v, H.now);
    submit(v, "d1", "BTCUSDT", QTS_SIDE_BUY, QTS_ORD_LIMIT, QTS_TIF_GTC, P(98.0), Q(1));
    submit(v, "d1", "BTCUSDT", QTS_SIDE_BUY, QTS_ORD_LIMIT, QTS_TIF_GTC, P(98.0), Q(1));
    trade(v, H.now + 2000000, P(99.0), Q(0.001), QTS_SIDE_SELL);
    assert_int_equal(count(QTS_EXEC_ACK), 1);
    assert_int_equal(g_ops->env(v), QTS_BROKER_ENV_SIMULATED);
    venue_close(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_market_order_walks_book),
        cmocka_unit_test(test_latency),
        cmocka_unit_test(test_limit_queue_trades_and_cancels),
        cmocka_unit_test(test_queue_cancel_rules),
        cmocka_unit_test(test_partial_fill_and_ioc_expiry),
        cmocka_unit_test(test_fees_maker_taker),
        cmocka_unit_test(test_rejects),
        cmocka_unit_test(test_cancel),
        cmocka_unit_test(test_modify),
        cmocka_unit_test(test_deterministic_for_seed),
        cmocka_unit_test(test_state_export_import),
        cmocka_unit_test(test_quotes_top_of_book),
        cmocka_unit_test(test_idempotent_resubmit),
        cmocka_unit_test(test_replay_real_data),
        cmocka_unit_test(test_random_flow_properties),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
