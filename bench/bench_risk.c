/* bench_risk.c — risk and safety:
 *   risk.precheck            the risk pre-trade hook alone (every check on,
 *                            rate limiters included), aim p99 <= 2 us
 *   risk.precheck_pipeline   qts_exec_precheck: the pipeline's basic checks
 *                            plus the risk hook (reference)
 *   risk.kill_500            kill switch with 500 working orders: from the
 *                            call until every cancel has been handed to the
 *                            broker, aim <= 1 ms
 *   risk.reference_clock_pair  two clock reads: the measuring floor */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "clock.h"
#include "exec_pipeline.h"
#include "log.h"
#include "precheck_risk.h"
#include "safety.h"
#include "test_risk_book.h"
#include "timer_svc.h"
#include "util.h"

#define MS INT64_C(1000000)

static int prov_market(void *ctx, uint32_t i, struct qts_mkt_ref *out)
{
    (void)ctx;
    (void)i;
    *out = (struct qts_mkt_ref){.bid = 60000, .ask = 60100, .last = 60000};
    return 0;
}

/* book */
static int64_t b_pos(void *c, uint32_t i)
{
    (void)c;
    return i == 1 ? 10 : 0;
}
static int64_t b_spos(void *c, uint32_t s, uint32_t i)
{
    (void)c;
    (void)s;
    (void)i;
    return 10;
}
static int64_t b_eq(void *c)
{
    (void)c;
    return INT64_C(100000000) * 1000000;
}
static int64_t b_gross(void *c)
{
    (void)c;
    return INT64_C(10000000) * 1000000;
}
static int64_t b_net(void *c)
{
    (void)c;
    return INT64_C(5000000) * 1000000;
}
static int64_t b_pnl(void *c)
{
    (void)c;
    return 0;
}
static int64_t b_pool(void *c, int p)
{
    (void)c;
    (void)p;
    return INT64_C(50000000) * 1000000;
}
static bool b_open(void *c, uint32_t i)
{
    (void)c;
    (void)i;
    return true;
}
static uint32_t b_trades(void *c, uint32_t s)
{
    (void)c;
    (void)s;
    return 1;
}

static void bench_precheck(void)
{
    struct qts_risk_limit_set lim;
    qts_risk_limit_set_init(&lim);
    lim.global.max_order_qty = 1000;
    lim.global.max_order_notional = 100000000;
    lim.global.max_position_symbol = 10000;
    lim.global.max_position_strategy = 10000;
    lim.global.max_daily_trades = 1000000;
    lim.global.max_orders_per_sec = 2000000000;
    lim.global.max_orders_per_min = 2000000000;
    struct qts_safety *s = qts_safety_new(NULL);
    struct qts_risk_book book = QTS_TEST_RISK_BOOK(b, NULL);
    struct qts_precheck_risk *r = qts_precheck_risk_new(&lim, s, &book);
    struct qts_order_intent in;
    qts_bench_limit_buy(&in, 1, 1, 60000, 10);
    struct qts_mkt_ref ref = {.bid = 60000, .ask = 60100, .last = 60000};
    struct qts_exec_params params;
    qts_exec_params_default(&params);
    struct qts_precheck_order o = {
        .intent = &in, .inst = qts_bench_instrument(NULL, 1), .ref = &ref, .params = &params};
    struct qts_precheck_reject rej;
    enum { N = 200000 };
    struct qts_bench_samples smp, refs;
    qts_bench_samples_init(&smp, N);
    qts_bench_samples_init(&refs, N);
    int bad = 0;
    for (int i = 0; i < N; i++) {
        o.now_ns = (int64_t)i * 1000;
        in.qty = 10;
        int64_t t0 = qts_mono_ns();
        bad += qts_precheck_risk_check(r, &o, &rej) != 0;
        qts_bench_add(&smp, qts_mono_ns() - t0);
        int64_t a = qts_mono_ns();
        int64_t b = qts_mono_ns();
        qts_bench_add(&refs, b - a);
    }
    char extra[96];
    snprintf(extra, sizeof extra, "\"aim_p99\":2000,\"rejected\":%d", bad);
    qts_bench_report_latency("risk.precheck", &smp, extra);
    qts_bench_report_latency("risk.reference_clock_pair", &refs, NULL);

    /* through the pipeline: basic checks + the risk hook */
    struct qts_clock clock;
    qts_clock_init(&clock, QTS_CLOCK_VIRTUAL);
    struct qts_timer_svc timers;
    qts_fake_timers_new(&clock, &timers);
    struct qts_bench_broker nbk = {0};
    struct qts_broker_ops ops;
    qts_bench_broker_ops(&ops, false);
    struct qts_exec_env env = {.port = {.ops = &ops, .self = &nbk},
                               .timers = &timers,
                               .clock = &clock,
                               .prov = {.instrument = qts_bench_instrument, .market = prov_market}};
    struct qts_exec *x = qts_exec_new(&params, &env);
    qts_precheck_risk_install(r, x);
    struct qts_bench_samples pipe;
    qts_bench_samples_init(&pipe, N);
    for (int i = 0; i < N; i++) {
        qts_clock_advance_to(&clock, (int64_t)(N + i) * 1000);
        in.qty = 10;
        int64_t t0 = qts_mono_ns();
        bad += qts_exec_precheck(x, &in, &rej) != 0;
        qts_bench_add(&pipe, qts_mono_ns() - t0);
    }
    qts_bench_report_latency("risk.precheck_pipeline", &pipe, NULL);
    qts_exec_free(x);
    qts_timer_svc_free(&timers);
    qts_bench_samples_free(&pipe);
    qts_bench_samples_free(&smp);
    qts_bench_samples_free(&refs);
    qts_precheck_risk_free(r);
    qts_safety_free(s);
}

static void bench_kill(void)
{
    enum { ROUNDS = 30, ORDERS = 500 };
    struct qts_bench_samples smp;
    qts_bench_samples_init(&smp, ROUNDS);
    int incomplete = 0;
    for (int round = 0; round < ROUNDS; round++) {
        struct qts_clock clock;
        qts_clock_init(&clock, QTS_CLOCK_VIRTUAL);
        struct qts_timer_svc timers;
        qts_fake_timers_new(&clock, &timers);
        struct qts_bench_broker *b = qts_xcalloc(1, sizeof *b);
        struct qts_broker_ops ops;
        qts_bench_broker_ops(&ops, false);
        struct qts_exec_env env = {
            .port = {.ops = &ops, .self = b},
            .timers = &timers,
            .clock = &clock,
            .prov = {.instrument = qts_bench_instrument, .market = prov_market}};
        struct qts_exec_params params;
        qts_exec_params_default(&params);
        struct qts_exec *x = qts_exec_new(&params, &env);
        struct qts_safety *s = qts_safety_new(NULL);
        struct qts_order_intent in;
        qts_bench_limit_buy(&in, 1 + (uint32_t)round % 4, 1, 60000, 10);
        for (int i = 0; i < ORDERS; i++) {
            uint64_t id;
            qts_exec_submit(x, &in, &id, NULL);
        }
        for (int i = 0; i < ORDERS; i++) { /* working at the venue */
            struct qts_exec_report rep;
            memset(&rep, 0, sizeof rep);
            rep.struct_size = sizeof rep;
            rep.exec_type = QTS_EXEC_ACK;
            memcpy(rep.client_order_id, b->ids[i], QTS_CLORDID_MAX);
            rep.leaves_qty = -1;
            qts_exec_on_report(x, &rep);
        }
        int64_t t0 = qts_mono_ns();
        qts_safety_kill_exec(s, x, false, "bench", "bench");
        int64_t t1 = qts_mono_ns();
        qts_bench_add(&smp, t1 - t0);
        incomplete += b->cancels != ORDERS;
        qts_safety_free(s);
        qts_exec_free(x);
        qts_timer_svc_free(&timers);
        free(b);
    }
    char extra[96];
    snprintf(extra, sizeof extra, "\"orders\":%d,\"aim_max\":1000000,\"incomplete_rounds\":%d",
             ORDERS, incomplete);
    qts_bench_report_latency("risk.kill_500", &smp, extra);
    qts_bench_samples_free(&smp);
}

int main(void)
{
    if (!freopen("/dev/null", "w", stderr))
        return 1;
    qts_log_set_level(QTS_LOG_ERROR);
    bench_precheck();
    bench_kill();
    return 0;
}
