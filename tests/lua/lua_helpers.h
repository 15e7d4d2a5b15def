/* lua_helpers.h — shared by the tests/lua binaries: a recording sink (the
 * stand-in for the OMS: it is the runtime's documented seam), instruments,
 * event builders. Header-only (static), each test includes it once. */
#ifndef QTS_LUA_HELPERS_H
#define QTS_LUA_HELPERS_H

#include "test_support.h"

#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "lua_runtime.h"
#include "qts/qts_types.h"

#define REC_MAX 8192
#define QTS_HELPER __attribute__((unused))

struct rec_sink {
    struct qts_order_intent intents[REC_MAX];
    size_t n_intents;
    uint64_t cancels[REC_MAX];
    size_t n_cancels;
    uint32_t cancel_all[64];
    size_t n_cancel_all;
    int states[64];
    int reject_code;            /* != 0: submit_intent returns it */
    struct qts_lua_runtime *rt; /* for fills posted back */
};

static QTS_HELPER int rec_submit(void *ctx, const struct qts_order_intent *in)
{
    struct rec_sink *r = ctx;
    if (r->reject_code)
        return r->reject_code;
    if (r->n_intents < REC_MAX)
        r->intents[r->n_intents++] = *in;
    return 0;
}

static QTS_HELPER int rec_cancel(void *ctx, uint32_t sid, uint64_t oid)
{
    struct rec_sink *r = ctx;
    (void)sid;
    if (r->n_cancels < REC_MAX)
        r->cancels[r->n_cancels++] = oid;
    return 0;
}

static QTS_HELPER int rec_cancel_all(void *ctx, uint32_t sid)
{
    struct rec_sink *r = ctx;
    if (r->n_cancel_all < 64)
        r->cancel_all[r->n_cancel_all++] = sid;
    return 0;
}

static QTS_HELPER void rec_state(void *ctx, uint32_t sid, int st, const char *reason)
{
    struct rec_sink *r = ctx;
    (void)reason;
    if (sid < 64)
        r->states[sid] = st;
}

static QTS_HELPER bool rec_cancelled_all(const struct rec_sink *r, uint32_t sid)
{
    for (size_t i = 0; i < r->n_cancel_all; i++)
        if (r->cancel_all[i] == sid)
            return true;
    return false;
}

#define INST_BTC 0
#define INST_ETH 1

/* An instrument with tick and lot of one unit. */
static QTS_HELPER void add_inst(struct qts_lua_runtime *rt, uint32_t id, const char *symbol,
                                uint8_t px_exp, uint8_t qty_exp)
{
    struct qts_instrument in;
    memset(&in, 0, sizeof in);
    in.struct_size = sizeof in;
    in.id = id;
    snprintf(in.symbol, sizeof in.symbol, "%s", symbol);
    in.px_exp = px_exp;
    in.qty_exp = qty_exp;
    in.tick_size = 1;
    in.lot_size = 1;
    assert_int_equal(qts_lua_runtime_add_instrument(rt, &in), 0);
}

/* mk_rt with a lockstep instruction limit per callback (0 = default). */
static QTS_HELPER struct qts_lua_runtime *mk_rt_limit(struct rec_sink *r, bool lockstep,
                                                      uint32_t workers, struct qts_clock *clock,
                                                      int64_t stuck_ns, uint64_t max_instructions)
{
    memset(r, 0, sizeof *r);
    struct qts_lua_settings set;
    memset(&set, 0, sizeof set);
    set.n_workers = workers;
    set.lockstep = lockstep;
    set.clock = clock;
    set.stuck_ns = stuck_ns;
    set.max_instructions = max_instructions;
    set.scan_interval_ns = -1; /* tests scan explicitly */
    set.max_instruments = 16;
    set.sink = (struct qts_lua_sink){sizeof set.sink, r,         rec_submit, rec_cancel,
                                     rec_cancel_all,  rec_state, NULL,       NULL};
    struct qts_lua_runtime *rt = NULL;
    struct qts_err err;
    int rc = qts_lua_runtime_new(&set, &rt, &err);
    if (rc != 0)
        fail_msg("runtime_new: %s", err.msg);
    add_inst(rt, INST_BTC, "BTCUSDT", 2, 3);
    add_inst(rt, INST_ETH, "ETHUSDT", 2, 3);
    r->rt = rt;
    return rt;
}

static QTS_HELPER struct qts_lua_runtime *mk_rt(struct rec_sink *r, bool lockstep, uint32_t workers,
                                                struct qts_clock *clock, int64_t stuck_ns)
{
    return mk_rt_limit(r, lockstep, workers, clock, stuck_ns, 0);
}

static QTS_HELPER uint32_t add_strat(struct qts_lua_runtime *rt, const char *name, const char *file,
                                     int worker, const struct qts_lua_param *params,
                                     size_t n_params)
{
    struct qts_lua_strategy_conf c;
    memset(&c, 0, sizeof c);
    c.name = name;
    c.file = file;
    c.worker = worker;
    c.params = params;
    c.n_params = n_params;
    c.initial_cash = 100000;
    uint32_t id = 0;
    struct qts_err err;
    int rc = qts_lua_runtime_add_strategy(rt, &c, &id, &err);
    if (rc != 0)
        fail_msg("add_strategy %s: %s", name, err.msg);
    return id;
}

/* "<source>/<dir>/<name>" in a rotating static buffer (8 slots). */
static QTS_HELPER const char *source_file(const char *dir, const char *name)
{
    static char buf[8][512];
    static int k;
    k = (k + 1) % 8;
    snprintf(buf[k], sizeof buf[k], "%s/%s/%s", qts_test_source_dir(), dir, name);
    return buf[k];
}

static QTS_HELPER const char *fixture(const char *name)
{
    return source_file("tests/lua/strategies", name);
}

static QTS_HELPER const char *example(const char *name) { return source_file("strategies", name); }

/* A runtime with one worker recording into a fresh sink: lockstep on a
 * virtual clock, or free-running without one. lua_fx_close frees both. */
struct lua_fx {
    struct rec_sink *r;         /* owned */
    struct qts_clock clk;       /* the lockstep clock (unused otherwise) */
    struct qts_lua_runtime *rt; /* owned */
};

static QTS_HELPER void lua_fx_open(struct lua_fx *x, bool lockstep)
{
    x->r = calloc(1, sizeof *x->r);
    qts_clock_init(&x->clk, QTS_CLOCK_VIRTUAL);
    x->rt = mk_rt(x->r, lockstep, 1, lockstep ? &x->clk : NULL, 0);
}

static QTS_HELPER void lua_fx_close(struct lua_fx *x)
{
    qts_lua_runtime_free(x->rt);
    free(x->r);
}

/* The configuration of one strategy (name and file borrowed) on `worker`;
 * everything else zero. */
static QTS_HELPER struct qts_lua_strategy_conf lua_conf(const char *name, const char *file,
                                                        int worker)
{
    struct qts_lua_strategy_conf c;
    memset(&c, 0, sizeof c);
    c.name = name;
    c.file = file;
    c.worker = worker;
    return c;
}

static QTS_HELPER int64_t fx(double v, int exp) { return (int64_t)llround(v * pow(10, exp)); }

static QTS_HELPER void hdr(struct qts_ev_hdr *h, uint16_t type, uint32_t size, uint32_t inst,
                           int64_t ts)
{
    static uint64_t seq;
    h->struct_size = size;
    h->type = type;
    h->px_exp = 2;
    h->qty_exp = 3;
    h->instrument = inst;
    h->ts_exch_ns = h->ts_recv_ns = ts;
    h->seq = ++seq;
}

static QTS_HELPER struct qts_trade mk_trade(uint32_t inst, double px, double qty, int64_t ts)
{
    struct qts_trade t;
    memset(&t, 0, sizeof t);
    hdr(&t.h, QTS_EV_TRADE, sizeof t, inst, ts);
    t.px = fx(px, 2);
    t.qty = fx(qty, 3);
    t.aggressor = QTS_SIDE_BUY;
    return t;
}

static QTS_HELPER struct qts_quote mk_quote(uint32_t inst, double bid, double ask, int64_t ts)
{
    struct qts_quote q;
    memset(&q, 0, sizeof q);
    hdr(&q.h, QTS_EV_QUOTE, sizeof q, inst, ts);
    q.bid_px = fx(bid, 2);
    q.ask_px = fx(ask, 2);
    q.bid_qty = fx(1, 3);
    q.ask_qty = fx(1, 3);
    return q;
}

static QTS_HELPER struct qts_fill mk_fill(uint32_t sid, uint64_t oid, uint32_t inst, int side,
                                          double px, double qty, int64_t ts)
{
    struct qts_fill f;
    memset(&f, 0, sizeof f);
    hdr(&f.h, QTS_EV_FILL, sizeof f, inst, ts);
    f.order_id = oid;
    f.strategy_id = sid;
    f.side = (uint8_t)side;
    f.px = fx(px, 2);
    f.qty = fx(qty, 3);
    return f;
}

static QTS_HELPER struct qts_order_event mk_order_ev(uint32_t sid, uint64_t oid, uint32_t inst,
                                                     int kind, int64_t ts)
{
    struct qts_order_event o;
    memset(&o, 0, sizeof o);
    hdr(&o.h, QTS_EV_ORDER, sizeof o, inst, ts);
    o.order_id = oid;
    o.strategy_id = sid;
    o.kind = (uint8_t)kind;
    return o;
}

static QTS_HELPER void sync_ok(struct qts_lua_runtime *rt)
{
    assert_int_equal(qts_lua_runtime_sync(rt, INT64_C(20000000000)), 0);
}

static QTS_HELPER int strat_state(struct qts_lua_runtime *rt, uint32_t id)
{
    struct qts_lua_strategy_info info;
    assert_int_equal(qts_lua_runtime_info(rt, id, &info), 0);
    return info.state;
}

static QTS_HELPER size_t count_tag(const struct rec_sink *r, uint32_t sid, const char *tag)
{
    size_t n = 0;
    for (size_t i = 0; i < r->n_intents; i++)
        if (r->intents[i].strategy_id == sid && (!tag || strcmp(r->intents[i].tag, tag) == 0))
            n++;
    return n;
}

/* Every recorded intent, one line each ("strategy order side qty tag"), to
 * compare two runs. Owned: free. */
static QTS_HELPER char *intent_log(const struct rec_sink *r)
{
    size_t cap = r->n_intents * 96 + 1, len = 0;
    char *log = calloc(1, cap);
    assert_non_null(log);
    for (size_t i = 0; i < r->n_intents; i++)
        len +=
            (size_t)snprintf(log + len, cap - len, "%u %llx %d %lld %s\n",
                             r->intents[i].strategy_id, (unsigned long long)r->intents[i].order_id,
                             r->intents[i].side, (long long)r->intents[i].qty, r->intents[i].tag);
    return log;
}

#endif
