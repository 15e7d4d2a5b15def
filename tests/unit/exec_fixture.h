/* exec_fixture.h — shared test fixture for the execution tests: a fake
 * clock with manual timers, a scripted broker that records every call, an
 * instrument table, a market reference and a sink that records events.
 * Header-only (static inline) so each test binary stays one source file. */
#ifndef QTS_EXEC_FIXTURE_H
#define QTS_EXEC_FIXTURE_H

#include "test_support.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "exec_pipeline.h"
#include "oms.h"
#include "safety_codes.h"
#include "timer_svc.h"
#include "util.h"

#define FX_MS INT64_C(1000000)

struct fb_call {
    char op;                       /* 's' submit, 'c' cancel, 'm' modify, 'q' query */
    struct qts_broker_order o;     /* submit */
    char clordid[QTS_CLORDID_MAX]; /* every op */
    int64_t new_px, new_qty;       /* modify */
};

struct fx {
    struct qts_clock clock;
    struct qts_timer_svc timers;
    struct qts_broker_ops ops;
    struct qts_broker_port port;
    /* fake broker script */
    struct fb_call calls[512];
    int n_calls;
    int submit_rc[16]; /* return codes for the next submits */
    int n_submit_rc, submit_i;
    uint64_t req_orders, req_positions;
    bool sync_fill; /* answer ack + full fill inside submit */
    uint64_t next_fill_id;
    /* providers */
    struct qts_instrument inst[3];
    struct qts_mkt_ref ref;
    bool have_ref;
    int64_t cash; /* < 0 = no cash provider answer limit */
    struct qts_bar bars[16];
    size_t n_bars;
    /* sink */
    struct qts_order_event ev[128];
    int n_ev;
    struct qts_fill fills[128];
    int n_fills;
    char safety[64][8];
    int n_safety;
    /* optional: every code also goes here (e.g. to a risk host) */
    void (*safety_to)(void *ctx, int code, const char *msg);
    void *safety_to_ctx; /* borrowed */
    struct qts_recon_diff diffs[32];
    int n_diffs;
    struct qts_exec_params params;
    struct qts_exec *x;
};

static inline int fb_env(void *self)
{
    (void)self;
    return QTS_BROKER_ENV_SIMULATED;
}

static inline int fb_submit(void *self, const struct qts_broker_order *o)
{
    struct fx *f = self;
    struct fb_call *c = &f->calls[f->n_calls++];
    memset(c, 0, sizeof *c);
    c->op = 's';
    c->o = *o;
    qts_strlcpy(c->clordid, o->client_order_id, sizeof c->clordid);
    if (f->submit_i < f->n_submit_rc)
        return f->submit_rc[f->submit_i++];
    if (f->sync_fill && f->x) {
        /* a venue that answers from inside the call (re-entrancy) */
        struct qts_exec_report r;
        memset(&r, 0, sizeof r);
        r.struct_size = sizeof r;
        r.exec_type = QTS_EXEC_ACK;
        qts_strlcpy(r.client_order_id, o->client_order_id, sizeof r.client_order_id);
        r.leaves_qty = -1;
        qts_exec_on_report(f->x, &r);
        r.exec_type = QTS_EXEC_FILL;
        r.last_qty = o->qty;
        r.last_px = o->px ? o->px : f->ref.ask;
        r.cum_qty = o->qty;
        r.fill_id = ++f->next_fill_id;
        qts_exec_on_report(f->x, &r);
    }
    return 0;
}

static inline int fb_cancel(void *self, const char *clordid, const char *venue_id)
{
    struct fx *f = self;
    (void)venue_id;
    struct fb_call *c = &f->calls[f->n_calls++];
    memset(c, 0, sizeof *c);
    c->op = 'c';
    qts_strlcpy(c->clordid, clordid, sizeof c->clordid);
    return 0;
}

static inline int fb_modify(void *self, const struct qts_broker_modify *m)
{
    struct fx *f = self;
    struct fb_call *c = &f->calls[f->n_calls++];
    memset(c, 0, sizeof *c);
    c->op = 'm';
    qts_strlcpy(c->clordid, m->client_order_id, sizeof c->clordid);
    c->new_px = m->new_px;
    c->new_qty = m->new_qty;
    return 0;
}

static inline int fb_query_orders(void *self, uint64_t req)
{
    struct fx *f = self;
    struct fb_call *c = &f->calls[f->n_calls++];
    memset(c, 0, sizeof *c);
    c->op = 'q';
    f->req_orders = req;
    return 0;
}

static inline int fb_query_positions(void *self, uint64_t req)
{
    struct fx *f = self;
    f->req_positions = req;
    return 0;
}

static inline const struct qts_instrument *fx_instrument(void *ctx, uint32_t id)
{
    struct fx *f = ctx;
    for (size_t i = 0; i < QTS_ARRAY_LEN(f->inst); i++)
        if (f->inst[i].struct_size && f->inst[i].id == id)
            return &f->inst[i];
    return NULL;
}

static inline int fx_market(void *ctx, uint32_t inst, struct qts_mkt_ref *out)
{
    struct fx *f = ctx;
    (void)inst;
    if (!f->have_ref)
        return QTS_ENOENT;
    *out = f->ref;
    return 0;
}

static inline size_t fx_bars(void *ctx, uint32_t inst, struct qts_bar *out, size_t cap)
{
    struct fx *f = ctx;
    (void)inst;
    size_t n = f->n_bars < cap ? f->n_bars : cap;
    memcpy(out, f->bars + (f->n_bars - n), n * sizeof *out);
    return n;
}

static inline int64_t fx_cash(void *ctx, uint32_t strategy)
{
    struct fx *f = ctx;
    (void)strategy;
    return f->cash < 0 ? INT64_MAX : f->cash;
}

static inline void fx_on_order(void *ctx, const struct qts_order_event *ev)
{
    struct fx *f = ctx;
    if (f->n_ev < (int)QTS_ARRAY_LEN(f->ev))
        f->ev[f->n_ev++] = *ev;
}

static inline void fx_on_fill(void *ctx, const struct qts_fill *fl)
{
    struct fx *f = ctx;
    if (f->n_fills < (int)QTS_ARRAY_LEN(f->fills))
        f->fills[f->n_fills++] = *fl;
}

/* Records the code's text ("FS092") so tests can name it. */
static inline void fx_on_safety(void *ctx, int code, const char *msg)
{
    struct fx *f = ctx;
    if (f->n_safety < (int)QTS_ARRAY_LEN(f->safety))
        qts_strlcpy(f->safety[f->n_safety++], qts_safety_code_str(code), sizeof f->safety[0]);
    if (f->safety_to)
        f->safety_to(f->safety_to_ctx, code, msg);
}

static inline void fx_on_recon(void *ctx, const struct qts_recon_diff *d)
{
    struct fx *f = ctx;
    if (f->n_diffs < (int)QTS_ARRAY_LEN(f->diffs))
        f->diffs[f->n_diffs++] = *d;
}

/* A fixture with defaults: instrument 1 = KRX-like (price exp 0, tick 100,
 * lot 1), instrument 2 = crypto-like (px exp 2, qty exp 3, tick 1, lot 10),
 * reference bid/ask 60000/60100, unlimited cash. Call fx_start after
 * changing params/ops. */
static inline struct fx *fx_new(void)
{
    struct fx *f = qts_xcalloc(1, sizeof *f);
    qts_clock_init(&f->clock, QTS_CLOCK_VIRTUAL);
    qts_clock_advance_to(&f->clock, INT64_C(1700000000000000000));
    qts_fake_timers_new(&f->clock, &f->timers);
    f->ops.struct_size = sizeof f->ops;
    f->ops.env = fb_env;
    f->ops.submit = fb_submit;
    f->ops.cancel = fb_cancel;
    f->ops.modify = fb_modify;
    f->ops.query_open_orders = fb_query_orders;
    f->ops.query_positions = fb_query_positions;
    f->port.ops = &f->ops;
    f->port.self = f;
    struct qts_instrument a = {.struct_size = sizeof a,
                               .id = 1,
                               .symbol = "005930",
                               .venue = "krx",
                               .px_exp = 0,
                               .qty_exp = 0,
                               .flags = QTS_INST_TRADABLE,
                               .tick_size = 100,
                               .lot_size = 1,
                               .min_qty = 1};
    struct qts_instrument b = {.struct_size = sizeof b,
                               .id = 2,
                               .symbol = "BTCUSDT",
                               .venue = "synthetic",
                               .px_exp = 2,
                               .qty_exp = 3,
                               .flags = QTS_INST_TRADABLE,
                               .tick_size = 1,
                               .lot_size = 10,
                               .min_qty = 10};
    f->inst[0] = a;
    f->inst[1] = b;
    f->ref.bid = 60000;
    f->ref.ask = 60100;
    f->ref.last = 60000;
    f->ref.ts_ns = 0; /* no time stamp: not aged (tests that age it set it) */
    f->have_ref = true;
    f->cash = -1;
    qts_exec_params_default(&f->params);
    qts_strlcpy(f->params.host_id, "t1", sizeof f->params.host_id);
    return f;
}

/* Starts the pipeline over the fixture's providers and sinks; prob (may be
 * NULL: the pipeline's own estimate) answers its fill-probability queries. */
static inline void fx_start_with_prob(struct fx *f,
                                      double (*prob)(void *ctx, uint32_t instrument,
                                                     double dist_ticks, double horizon_s))
{
    struct qts_exec_env env = {
        .port = f->port,
        .timers = &f->timers,
        .clock = &f->clock,
        .prov = {.instrument = fx_instrument,
                 .market = fx_market,
                 .recent_bars = fx_bars,
                 .cash_available = fx_cash,
                 .ctx = f,
                 .fill_prob = prob},
        .sink = {.on_order = fx_on_order,
                 .on_fill = fx_on_fill,
                 .on_safety = fx_on_safety,
                 .on_recon = fx_on_recon,
                 .ctx = f},
    };
    f->x = qts_exec_new(&f->params, &env);
    assert_non_null(f->x);
}

static inline void fx_start(struct fx *f) { fx_start_with_prob(f, NULL); }

static inline void fx_free(struct fx *f)
{
    if (!f)
        return;
    qts_exec_free(f->x);
    qts_timer_svc_free(&f->timers);
    free(f);
}

static inline struct qts_order_intent fx_intent(uint32_t strategy, uint32_t inst, uint8_t side,
                                                uint8_t type, int64_t px, int64_t qty)
{
    struct qts_order_intent in;
    memset(&in, 0, sizeof in);
    in.struct_size = sizeof in;
    in.strategy_id = strategy;
    in.instrument = inst;
    in.side = side;
    in.type = type;
    in.tif = QTS_TIF_DAY;
    in.algo = QTS_ALGO_DIRECT;
    in.px = px;
    in.qty = qty;
    qts_strlcpy(in.tag, "t", sizeof in.tag);
    return in;
}

static inline uint64_t fx_submit(struct fx *f, const struct qts_order_intent *in)
{
    uint64_t id = 0;
    struct qts_err err;
    int rc = qts_exec_submit(f->x, in, &id, &err);
    if (rc != 0)
        fail_msg("submit rejected: %s", err.msg);
    return id;
}

static inline int fx_report(struct fx *f, uint8_t type, const char *clordid, int64_t qty,
                            int64_t px, uint64_t fill_id, int64_t cum)
{
    struct qts_exec_report r;
    memset(&r, 0, sizeof r);
    r.struct_size = sizeof r;
    r.exec_type = type;
    qts_strlcpy(r.client_order_id, clordid, sizeof r.client_order_id);
    snprintf(r.venue_order_id, sizeof r.venue_order_id, "V-%s", clordid);
    r.last_qty = qty;
    r.last_px = px;
    r.fill_id = fill_id;
    r.cum_qty = cum;
    r.leaves_qty = -1;
    return qts_exec_on_report(f->x, &r);
}

static inline const struct qts_parent *fx_order(struct fx *f, uint64_t id)
{
    return qts_exec_order(f->x, id);
}

/* Index of the n-th call of kind `op` (0-based), or -1. */
static inline int fx_call(const struct fx *f, char op, int nth)
{
    for (int i = 0; i < f->n_calls; i++)
        if (f->calls[i].op == op && nth-- == 0)
            return i;
    return -1;
}

static inline int fx_count(const struct fx *f, char op)
{
    int n = 0;
    for (int i = 0; i < f->n_calls; i++)
        n += f->calls[i].op == op;
    return n;
}

static inline bool fx_has_safety(const struct fx *f, const char *code)
{
    for (int i = 0; i < f->n_safety; i++)
        if (strcmp(f->safety[i], code) == 0)
            return true;
    return false;
}

static inline const struct qts_order_event *fx_last_ev(const struct fx *f)
{
    return f->n_ev ? &f->ev[f->n_ev - 1] : NULL;
}

static inline void fx_advance_ms(struct fx *f, int64_t ms)
{
    qts_fake_timers_advance(&f->timers, ms * FX_MS);
}

#endif
