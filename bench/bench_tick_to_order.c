/* bench_tick_to_order.c — tick-to-order: from a decoded market event
 * through a Lua strategy, PreCheck, OrderSplit and AsyncSend to the order
 * handed to the broker plugin's submit operation.
 *
 *  tick_to_order.inline    the strategy runs on the measuring thread (the
 *                          replay and benchmark path: no thread hand-off)
 *  tick_to_order.paper     the paper and live path: the event is posted to
 *                          the strategy's worker thread, the intent comes
 *                          back through the ring, the core drains it into
 *                          the pipeline (the worker hand-off included)
 *  tick_to_order.precheck  PreCheck alone on the same intents (reference)
 *
 * The broker is a table whose submit records the time; outside the timed
 * section the order is then acknowledged and filled, as a venue would, so
 * the working set stays realistic: what is measured is the host's path.
 * Prices follow a random walk so the strategy's limit prices vary. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "build_info.h"
#include "clock.h"
#include "exec_pipeline.h"
#include "log.h"
#include "lua_runtime.h"
#include "lua_strategy.h"
#include "timer_svc.h"

static struct qts_lua_instruments g_inst;
static struct qts_clock g_clock;
static int64_t g_t_submit;
static uint64_t g_submits;

static int fake_env(void *self)
{
    (void)self;
    return QTS_BROKER_ENV_SIMULATED;
}
static struct qts_broker_order g_last;
static int fake_submit(void *self, const struct qts_broker_order *o)
{
    (void)self;
    g_last = *o;
    g_t_submit = qts_mono_ns();
    g_submits++;
    return 0;
}
static int fake_cancel(void *self, const char *c, const char *v)
{
    (void)self;
    (void)c;
    (void)v;
    return 0;
}
static const struct qts_broker_ops fake_ops = {.struct_size = sizeof(struct qts_broker_ops),
                                               .env = fake_env,
                                               .submit = fake_submit,
                                               .cancel = fake_cancel};

static const struct qts_instrument *prov_instrument(void *ctx, uint32_t id)
{
    (void)ctx;
    return id == 0 ? &g_inst.v[0] : NULL;
}
static int64_t g_px = 6000000;
static int prov_market(void *ctx, uint32_t id, struct qts_mkt_ref *out)
{
    (void)ctx;
    (void)id;
    out->bid = g_px - 1;
    out->ask = g_px + 1;
    out->last = g_px;
    out->ts_ns = qts_clock_now(&g_clock);
    return 0;
}
static int64_t prov_cash(void *ctx, uint32_t s)
{
    (void)ctx;
    (void)s;
    return INT64_C(1000000000000000);
}

/* The venue's answer to the last order, outside the timed section: ack, then
 * a full fill, so the pipeline's working set stays that of a live book. */
static void ack_and_fill(struct qts_exec *x)
{
    struct qts_exec_report rep;
    memset(&rep, 0, sizeof rep);
    rep.struct_size = sizeof rep;
    rep.instrument = g_last.instrument;
    rep.side = g_last.side;
    rep.px_exp = g_last.px_exp;
    rep.qty_exp = g_last.qty_exp;
    memcpy(rep.client_order_id, g_last.client_order_id, sizeof rep.client_order_id);
    snprintf(rep.venue_order_id, sizeof rep.venue_order_id, "v%llu", (unsigned long long)g_submits);
    rep.exec_type = QTS_EXEC_ACK;
    rep.leaves_qty = g_last.qty;
    qts_exec_on_report(x, &rep);
    rep.exec_type = QTS_EXEC_FILL;
    rep.last_px = g_last.px;
    rep.last_qty = g_last.qty;
    rep.cum_qty = g_last.qty;
    rep.leaves_qty = 0;
    rep.fill_id = 1;
    qts_exec_on_report(x, &rep);
}

static uint64_t next_rng(uint64_t *rng)
{
    *rng ^= *rng << 13;
    *rng ^= *rng >> 7;
    *rng ^= *rng << 17;
    return *rng;
}

/* The next trade of the random walk: price, sequence, time. */
static void next_trade(struct qts_trade *ev, uint64_t *rng, size_t i)
{
    g_px += (int64_t)(next_rng(rng) % 3) - 1;
    ev->px = g_px;
    ev->h.seq = i + 1;
    ev->h.ts_exch_ns = qts_clock_now(&g_clock);
}

/* The runtime's sink on the paper path: the intent goes into the pipeline
 * (PreCheck, OrderSplit, AsyncSend -> fake_submit). */
static int paper_submit(void *ctx, const struct qts_order_intent *in)
{
    return qts_exec_submit(ctx, in, NULL, NULL);
}
static int paper_cancel(void *ctx, uint32_t s, uint64_t id)
{
    (void)ctx, (void)s, (void)id;
    return 0;
}
static int paper_cancel_all(void *ctx, uint32_t s)
{
    (void)ctx, (void)s;
    return 0;
}

/* Paper/live: one worker thread runs the strategy; the core posts each trade
 * and drains until the order reaches the broker. */
static void bench_paper(struct qts_exec *x, size_t n)
{
    struct qts_lua_settings set;
    memset(&set, 0, sizeof set);
    set.n_workers = 1;
    set.clock = &g_clock;
    set.scan_interval_ns = -1;
    set.sink = (struct qts_lua_sink){sizeof set.sink,  x,    paper_submit, paper_cancel,
                                     paper_cancel_all, NULL, NULL,         NULL};
    struct qts_lua_runtime *rt;
    struct qts_err err;
    if (qts_lua_runtime_new(&set, &rt, &err) != 0) {
        fprintf(stderr, "runtime: %s\n", err.msg);
        exit(1);
    }
    qts_lua_runtime_add_instrument(rt, &g_inst.v[0]);
    char path[1024];
    snprintf(path, sizeof path, "%s/bench/lua/bench_order.lua", QTS_SOURCE_DIR);
    struct qts_lua_strategy_conf conf = {
        .name = "bench_order", .file = path, .worker = -1, .budget_ns = INT64_C(1000000000)};
    uint32_t id;
    if (qts_lua_runtime_add_strategy(rt, &conf, &id, &err) != 0) {
        fprintf(stderr, "strategy: %s\n", err.msg);
        exit(1);
    }
    qts_lua_runtime_sync(rt, INT64_C(5000000000));

    struct qts_trade ev;
    qts_bench_event_init(&ev.h, sizeof ev, QTS_EV_TRADE, 2, 3);
    ev.qty = 1000;
    struct qts_bench_samples smp;
    qts_bench_samples_init(&smp, n);
    uint64_t rng = 2463534242ULL, lost = 0;
    for (size_t i = 0; i < n; i++) {
        next_trade(&ev, &rng, i);
        uint64_t before = g_submits;
        int64_t t0 = qts_mono_ns();
        qts_lua_runtime_post(rt, &ev.h);
        /* the core's loop: drain until the order is out (bounded wait) */
        while (g_submits == before && qts_mono_ns() - t0 < 100000000)
            qts_lua_runtime_drain(rt);
        if (g_submits == before) {
            lost++;
            continue;
        }
        qts_bench_add(&smp, g_t_submit - t0);
        ack_and_fill(x);
        qts_lua_runtime_drain(rt); /* the fill's P0 event to the worker */
    }
    char extra[200];
    snprintf(extra, sizeof extra,
             "\"aim_p50\":2000,\"aim_p99\":10000,\"orders\":%zu,\"no_order_within_100ms\":%llu",
             smp.n, (unsigned long long)lost);
    qts_bench_report_latency("tick_to_order.paper", &smp, extra);
    qts_bench_samples_free(&smp);
    qts_lua_runtime_free(rt);
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? (size_t)atol(argv[1]) : 1000000;
    qts_log_set_level(QTS_LOG_ERROR);
    qts_clock_init(&g_clock, QTS_CLOCK_VIRTUAL);
    qts_clock_advance_to(&g_clock, INT64_C(1700000000000000000));
    g_inst.cap = 1;
    g_inst.v = calloc(1, sizeof *g_inst.v);
    g_inst.v[0].struct_size = sizeof g_inst.v[0];
    snprintf(g_inst.v[0].symbol, sizeof g_inst.v[0].symbol, "BTCUSDT");
    g_inst.v[0].px_exp = 2;
    g_inst.v[0].qty_exp = 3;
    g_inst.v[0].tick_size = 1;
    g_inst.v[0].lot_size = 1;
    g_inst.v[0].flags = QTS_INST_TRADABLE;
    atomic_store(&g_inst.n, 1);

    struct qts_timer_svc timers;
    qts_fake_timers_new(&g_clock, &timers);
    struct qts_exec_params xp;
    qts_exec_params_default(&xp);
    struct qts_exec_env env = {
        .port = {.ops = &fake_ops, .self = NULL},
        .timers = &timers,
        .clock = &g_clock,
        .prov = {.instrument = prov_instrument, .market = prov_market, .cash_available = prov_cash},
    };
    struct qts_exec *x = qts_exec_new(&xp, &env);

    char path[1024];
    snprintf(path, sizeof path, "%s/bench/lua/bench_order.lua", QTS_SOURCE_DIR);
    struct qts_lua_strategy *s = qts_lua_strategy_new(1, "bench_order", path, &g_inst, &g_clock);
    s->budget_ns = INT64_C(1000000000);
    struct qts_err err;
    if (qts_lua_strategy_open(s, QTS_LUA_DIR_BUILD, &err) != 0) {
        fprintf(stderr, "open: %s\n", err.msg);
        return 1;
    }

    struct qts_trade ev;
    qts_bench_event_init(&ev.h, sizeof ev, QTS_EV_TRADE, 2, 3);
    ev.qty = 1000;
    const struct qts_ev_hdr *ptr = &ev.h;

    struct qts_bench_samples tto, pre;
    qts_bench_samples_init(&tto, n);
    qts_bench_samples_init(&pre, n);
    uint64_t rng = 88172645463325252ULL;
    for (size_t i = 0; i < n; i++) {
        next_trade(&ev, &rng, i);
        uint64_t before = g_submits;
        int64_t t0 = qts_mono_ns();
        qts_lua_strategy_dispatch(s, &ptr, NULL, 1);
        struct qts_lua_msg *m;
        while ((m = qts_ring_peek(&s->intents)) != NULL) {
            if (m->kind == QTS_LUA_MSG_ORDER)
                qts_exec_submit(x, &m->intent, NULL, NULL);
            qts_ring_drop(&s->intents);
        }
        if (g_submits != before) {
            qts_bench_add(&tto, g_t_submit - t0);
            ack_and_fill(x);
        }
        /* PreCheck alone on an equivalent intent (reference stage) */
        struct qts_order_intent in;
        qts_bench_limit_buy(&in, 0, 0, g_px, 1);
        int64_t p0 = qts_mono_ns();
        qts_exec_precheck(x, &in, NULL);
        qts_bench_add(&pre, qts_mono_ns() - p0);
    }
    char extra[160];
    snprintf(extra, sizeof extra, "\"aim_p50\":5000,\"aim_p99\":15000,\"orders\":%llu",
             (unsigned long long)g_submits);
    qts_bench_report_latency("tick_to_order.inline", &tto, extra);
    qts_bench_report_latency("tick_to_order.precheck_alone", &pre, "\"aim_p99\":2000");
    qts_bench_samples_free(&tto);
    qts_bench_samples_free(&pre);
    qts_lua_strategy_free(s);
    qts_exec_free(x);
    /* a pipeline of its own: the runtime's strategy ids start at 1 again */
    x = qts_exec_new(&xp, &env);
    bench_paper(x, n);
    qts_exec_free(x);
    qts_timer_svc_free(&timers);
    free(g_inst.v);
    return 0;
}
