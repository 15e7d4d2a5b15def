/* broker_paper_fixture.h — shared fixture for the paper broker tests
 * (test_broker_paper, test_broker_paper_flow): the real broker_paper.so
 * loaded with dlopen, driven by a host-services table written here that
 * records every report, and helpers that feed it books, trades and orders.
 * Header-only (static inline) so each test binary stays one source file. */
#ifndef QTS_BROKER_PAPER_FIXTURE_H
#define QTS_BROKER_PAPER_FIXTURE_H

#include "test_support.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qts/qts_plugin.h"
#include "test_host_api.h"
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

static inline void h_log(void *owner, int level, const char *fmt, ...)
{
    (void)owner;
    (void)level;
    (void)fmt;
}
static inline int64_t h_now(void *owner)
{
    (void)owner;
    return H.now;
}
static inline int h_timer_start(void *owner, uint64_t timeout_ms, uint64_t repeat_ms,
                                qts_timer_fn cb, void *arg, uint64_t *id)
{
    (void)owner;
    (void)repeat_ms;
    H.timer_cb = cb;
    H.timer_arg = arg;
    H.timer_due = H.now + (int64_t)timeout_ms * 1000000;
    *id = 1;
    return 0;
}
static inline int h_timer_stop(void *owner, uint64_t id)
{
    (void)owner;
    (void)id;
    H.timer_cb = NULL;
    return 0;
}

static inline const struct cfg_kv *cfg_find(const char *key, char type)
{
    for (size_t i = 0; i < H.n_cfg; i++)
        if (strcmp(H.cfg[i].key, key) == 0 && H.cfg[i].type == type)
            return &H.cfg[i];
    return NULL;
}
static const char *g_cfg_rule;                       /* queue_cancel_rule, NULL = absent */
static const char *g_cfg_impact, *g_cfg_impact_file; /* impact_model, impact_file */
static inline int h_cfg_str(void *o, const char *p, const char **out, struct qts_err *e)
{
    (void)o;
    (void)e;
    if (strcmp(p, "impact_model") == 0 && g_cfg_impact) {
        *out = g_cfg_impact;
        return 0;
    }
    if (strcmp(p, "impact_file") == 0 && g_cfg_impact_file) {
        *out = g_cfg_impact_file;
        return 0;
    }
    if (strcmp(p, "queue_cancel_rule") != 0 || !g_cfg_rule)
        return QTS_ENOENT;
    *out = g_cfg_rule;
    return 0;
}
/* The host's typed configuration getters: the value set with cfg_i, cfg_d
 * or cfg_b, QTS_ENOENT when the key was not set with that type. */
#define H_CFG_GETTER(name, ctype, tag, expr)                                      \
    static inline int name(void *o, const char *p, ctype *out, struct qts_err *e) \
    {                                                                             \
        (void)o;                                                                  \
        (void)e;                                                                  \
        const struct cfg_kv *kv = cfg_find(p, tag);                               \
        if (!kv)                                                                  \
            return QTS_ENOENT;                                                    \
        *out = (expr);                                                            \
        return 0;                                                                 \
    }
H_CFG_GETTER(h_cfg_int, int64_t, 'i', kv->i)
H_CFG_GETTER(h_cfg_double, double, 'd', kv->d)
H_CFG_GETTER(h_cfg_bool, bool, 'b', kv->i != 0)

static const struct qts_instrument INSTS[] = {
    {sizeof(struct qts_instrument), 1, "BTCUSDT", "synthetic", 2, 3, 0, 0, 1, 1, 1},
    {sizeof(struct qts_instrument), 2, "ETHUSDT", "synthetic", 2, 3, 0, 0, 5, 10, 10},
    {sizeof(struct qts_instrument), 3, "BTCUSDT.B", "binance", 2, 8, 0, 0, 1, 1, 1},
};
static inline const struct qts_instrument *h_inst_find(void *o, const char *sym)
{
    (void)o;
    for (size_t i = 0; i < 3; i++)
        if (strcmp(INSTS[i].symbol, sym) == 0)
            return &INSTS[i];
    return NULL;
}
static inline int h_emit_exec(void *o, const struct qts_exec_report *r)
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
static inline int h_emit_pos(void *o, const struct qts_broker_position *p)
{
    (void)o;
    H.n_positions++;
    H.last_pos_qty = p->qty;
    H.last_pos_avg = p->avg_px;
    return 0;
}
static inline int h_query_done(void *o, uint64_t req, int st)
{
    (void)o;
    (void)st;
    H.done_req = req;
    return 0;
}

static const struct qts_host_api HOST = QTS_TEST_BROKER_HOST_API(h);

/* ------------------------------------------------------------ plugin load */

static void *g_dl;
static const struct qts_plugin_desc *g_desc;
static const struct qts_broker_ops *g_ops;

static inline int group_setup(void **state)
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
    if (!g_desc || strcmp(g_desc->build_sig, QTS_BUILD_SIG) != 0 || g_desc->kind != QTS_KIND_BROKER)
        return -1;
    g_ops = g_desc->ops;
    return 0;
}

static inline int group_teardown(void **state)
{
    (void)state;
    if (g_dl && !getenv("QTS_NO_DLCLOSE"))
        dlclose(g_dl);
    return 0;
}

static inline void cfg_reset(void)
{
    memset(&H, 0, sizeof H);
    H.now = 1000000000;
}
static inline void cfg_put(struct cfg_kv kv) { H.cfg[H.n_cfg++] = kv; }
static inline void cfg_i(const char *k, int64_t v) { cfg_put((struct cfg_kv){k, 'i', v, 0}); }
static inline void cfg_d(const char *k, double v) { cfg_put((struct cfg_kv){k, 'd', 0, v}); }
static inline void cfg_b(const char *k, bool v) { cfg_put((struct cfg_kv){k, 'b', v, 0}); }

/* Default venue for the tests: 1 ms order latency, no feed latency,
 * maker 1 bps, taker 5 bps. */
static inline void *venue_open(void)
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

static inline void venue_close(void *self)
{
    assert_int_equal(g_desc->stop(self), 0);
    g_desc->destroy(self);
}

/* BTCUSDT: px_exp 2, qty_exp 3. P(100.5) = 10050, Q(1.5) = 1500. */
#define P(x) ((int64_t)((x)*100 + 0.5))
#define Q(x) ((int64_t)((x)*1000 + 0.5))

static inline void hdr(struct qts_ev_hdr *h, size_t size, int type, uint32_t inst, int64_t ts)
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

static inline void book(void *self, int64_t ts, bool snapshot, const struct qts_level *bids,
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

static inline void trade(void *self, int64_t ts, int64_t px, int64_t qty, int aggressor)
{
    struct qts_trade t;
    hdr(&t.h, sizeof t, QTS_EV_TRADE, 1, ts);
    t.px = px;
    t.qty = qty;
    t.aggressor = (uint8_t)aggressor;
    H.now = ts;
    g_ops->on_market(self, &t.h);
}

static inline int submit(void *self, const char *id, const char *sym, int side, int type, int tif,
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

/* Modify order `id` to px x qty, as the OMS would. */
static inline void modify(void *v, const char *id, int64_t px, int64_t qty)
{
    struct qts_broker_modify m;
    memset(&m, 0, sizeof m);
    m.struct_size = sizeof m;
    snprintf(m.client_order_id, sizeof m.client_order_id, "%s", id);
    m.new_px = px;
    m.new_qty = qty;
    assert_int_equal(g_ops->modify(v, &m), 0);
}

/* A standard book: bids 99.00 x 5, 98.50 x 3; asks 100.00 x 1, 100.50 x 2,
 * 101.00 x 5. */
static inline void std_book(void *self, int64_t ts)
{
    const struct qts_level bids[] = {{P(99.0), Q(5)}, {P(98.5), Q(3)}};
    const struct qts_level asks[] = {{P(101.0), Q(5)}, {P(100.0), Q(1)}, {P(100.5), Q(2)}};
    book(self, ts, true, bids, 2, asks, 3);
}

static inline size_t count(int exec_type)
{
    size_t n = 0;
    for (size_t i = 0; i < H.n_rep; i++)
        n += H.rep[i].exec_type == exec_type;
    return n;
}

static inline const struct qts_exec_report *nth(int exec_type, size_t k)
{
    for (size_t i = 0; i < H.n_rep; i++)
        if (H.rep[i].exec_type == exec_type && k-- == 0)
            return &H.rep[i];
    return NULL;
}

/* fee in cash units for px*qty at bps, as the venue computes it */
static inline int64_t fee(int64_t px, int64_t qty, double bps)
{
    int64_t notional = px * qty * 10; /* px_exp 2 + qty_exp 3 = 5 -> cash exp 6 */
    double f = (double)notional * bps / 10000.0;
    return (int64_t)(f + 0.5);
}

#endif
