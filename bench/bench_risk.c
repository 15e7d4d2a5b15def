/* bench_risk.c — risk and safety:
 *   risk.precheck            the risk pre-trade hook alone (every check on,
 *                            rate limiters included), aim p99 <= 2 us
 *   risk.precheck_pipeline   qts_exec_precheck: the pipeline's basic checks
 *                            plus the risk hook (reference)
 *   risk.kill_500            kill switch with 500 working orders: from the
 *                            call until every cancel has been handed to the
 *                            broker, aim <= 1 ms
 *   risk.loop_jitter_flood   risk-loop tick lateness (10 ms period, libuv
 *                            timers) while another thread floods market data
 *                            through the event queue as fast as it can
 *   risk.loop_jitter_reference  the same without the flood
 *   risk.fill_latency_flood  P0 fill events (one per ms) from push to
 *                            handled, under the same flood
 *   risk.flood_quotes_per_s  market data offered during the flood (5 M/s)
 *   risk.flood_quotes_handled_per_s  what the 2 us handler took (the rest
 *                            was conflated per instrument)
 *   risk.reference_clock_pair  two clock reads: the measuring floor */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "bench.h"
#include "clock.h"
#include "event_queue.h"
#include "exec_pipeline.h"
#include "log.h"
#include "precheck_risk.h"
#include "risk_loop.h"
#include "safety.h"
#include "timer_svc.h"
#include "util.h"

#define MS INT64_C(1000000)

static struct qts_instrument inst = {.struct_size = sizeof inst, .id = 1, .symbol = "005930",
                                     .venue = "krx", .flags = QTS_INST_TRADABLE,
                                     .tick_size = 100, .lot_size = 1, .min_qty = 1};

static const struct qts_instrument *prov_inst(void *ctx, uint32_t id)
{
    (void)ctx;
    return id == 1 ? &inst : NULL;
}
static int prov_market(void *ctx, uint32_t i, struct qts_mkt_ref *out)
{
    (void)ctx;
    (void)i;
    *out = (struct qts_mkt_ref){.bid = 60000, .ask = 60100, .last = 60000};
    return 0;
}

/* book */
static int64_t b_pos(void *c, uint32_t i) { (void)c; return i == 1 ? 10 : 0; }
static int64_t b_spos(void *c, uint32_t s, uint32_t i) { (void)c; (void)s; (void)i; return 10; }
static int64_t b_eq(void *c) { (void)c; return INT64_C(100000000) * 1000000; }
static int64_t b_gross(void *c) { (void)c; return INT64_C(10000000) * 1000000; }
static int64_t b_net(void *c) { (void)c; return INT64_C(5000000) * 1000000; }
static int64_t b_pnl(void *c) { (void)c; return 0; }
static int64_t b_pool(void *c, int p) { (void)c; (void)p; return INT64_C(50000000) * 1000000; }
static bool b_open(void *c, uint32_t i) { (void)c; (void)i; return true; }
static uint32_t b_trades(void *c, uint32_t s) { (void)c; (void)s; return 1; }

/* broker that only counts */
struct nb {
    uint64_t submits, cancels;
    char ids[512][QTS_CLORDID_MAX];
};
static int nb_env(void *self) { (void)self; return QTS_BROKER_ENV_SIMULATED; }
static int nb_submit(void *self, const struct qts_broker_order *o)
{
    struct nb *b = self;
    if (b->submits < 512)
        memcpy(b->ids[b->submits], o->client_order_id, QTS_CLORDID_MAX);
    b->submits++;
    return 0;
}
static int nb_cancel(void *self, const char *c, const char *v)
{
    struct nb *b = self;
    (void)c;
    (void)v;
    b->cancels++;
    return 0;
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
    struct qts_risk_book book = {.position = b_pos, .strategy_position = b_spos, .equity = b_eq,
                                 .gross_exposure = b_gross, .net_exposure = b_net,
                                 .daily_pnl = b_pnl, .pool_available = b_pool,
                                 .session_open = b_open, .daily_trades = b_trades};
    struct qts_precheck_risk *r = qts_precheck_risk_new(&lim, s, &book);
    struct qts_order_intent in;
    qts_bench_limit_buy(&in, 1, 1, 60000, 10);
    struct qts_mkt_ref ref = {.bid = 60000, .ask = 60100, .last = 60000};
    struct qts_exec_params params;
    qts_exec_params_default(&params);
    struct qts_precheck_order o = {.intent = &in, .inst = &inst, .ref = &ref, .params = &params};
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
        int rc = qts_precheck_risk_check(r, &o, &rej);
        int64_t t1 = qts_mono_ns();
        bad += rc != 0;
        qts_bench_add(&smp, t1 - t0);
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
    struct nb nbk = {0};
    struct qts_broker_ops ops = {.struct_size = sizeof ops, .env = nb_env, .submit = nb_submit,
                                 .cancel = nb_cancel};
    struct qts_exec_env env = {.port = {.ops = &ops, .self = &nbk}, .timers = &timers,
                               .clock = &clock,
                               .prov = {.instrument = prov_inst, .market = prov_market}};
    struct qts_exec *x = qts_exec_new(&params, &env);
    qts_precheck_risk_install(r, x);
    struct qts_bench_samples pipe;
    qts_bench_samples_init(&pipe, N);
    for (int i = 0; i < N; i++) {
        qts_clock_advance_to(&clock, (int64_t)(N + i) * 1000);
        in.qty = 10;
        int64_t t0 = qts_mono_ns();
        int rc = qts_exec_precheck(x, &in, &rej);
        int64_t t1 = qts_mono_ns();
        bad += rc != 0;
        qts_bench_add(&pipe, t1 - t0);
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
        struct nb *b = qts_xcalloc(1, sizeof *b);
        struct qts_broker_ops ops = {.struct_size = sizeof ops, .env = nb_env,
                                     .submit = nb_submit, .cancel = nb_cancel};
        struct qts_exec_env env = {.port = {.ops = &ops, .self = b}, .timers = &timers,
                                   .clock = &clock,
                                   .prov = {.instrument = prov_inst, .market = prov_market}};
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

/* ------------------------------------------------ loop under a flood */

struct flood {
    uv_loop_t loop;
    uv_async_t wake;
    uv_timer_t stop_timer;
    struct qts_timer_svc timers;
    struct qts_evq *q;
    struct qts_risk_loop *rl;
    _Atomic bool stop;
    _Atomic uint64_t offered;
    uint64_t handled;
    bool flood;
    struct qts_bench_samples fill_lat;
};

static size_t fl_positions(void *ctx, struct qts_risk_pos_view *out, size_t cap)
{
    (void)ctx;
    size_t n = cap < 50 ? cap : 50;
    for (size_t i = 0; i < n; i++)
        out[i] = (struct qts_risk_pos_view){.strategy_id = 1, .instrument = (uint32_t)i + 1,
                                            .qty = 100, .avg_px = 60000};
    return n;
}
static int64_t fl_equity(void *ctx) { (void)ctx; return INT64_C(1000000000) * 1000000; }

static void fl_wake(void *ctx)
{
    uv_async_send(&((struct flood *)ctx)->wake);
}

static int handle(void *ctx, const struct qts_evq_item *it)
{
    struct flood *f = ctx;
    if (it->prio == QTS_EVQ_P0) {
        int64_t stamp;
        memcpy(&stamp, it->data, sizeof stamp);
        qts_bench_add(&f->fill_lat, qts_mono_ns() - stamp);
        return 0;
    }
    int64_t px;
    memcpy(&px, it->data, sizeof px);
    qts_risk_loop_on_price(f->rl, it->key, px, qts_timer_svc_now(&f->timers));
    /* what a strategy does with the tick: 2 us of work */
    int64_t until = qts_mono_ns() + 2000;
    while (qts_mono_ns() < until) {
    }
    f->handled++;
    return 0;
}

static void on_wake(uv_async_t *a)
{
    struct flood *f = a->data;
    /* bounded batch, then back to the loop so timers run in between */
    if (qts_evq_drain(f->q, 256, handle, f) == 256)
        uv_async_send(&f->wake);
}

/* Every millisecond: a fill (P0) and, when flooding, a burst of 5000
 * quotes over 50 instruments (5 M/s, ten times what the 2 us handler can
 * take), then sleep to the next millisecond so the producer does not hog a
 * core of a shared machine. */
static void *producer(void *arg)
{
    struct flood *f = arg;
    uint64_t n = 0;
    int64_t next = qts_mono_ns();
    while (!atomic_load(&f->stop)) {
        int64_t now = qts_mono_ns();
        qts_evq_push(f->q, QTS_EVQ_P0, 6, 0, &now, sizeof now);
        for (int k = 0; f->flood && k < 5000; k++) {
            int64_t px = 60000 + (int64_t)(n % 7) * 10;
            qts_evq_push(f->q, QTS_EVQ_P1, 2, (uint32_t)(n % 50) + 1, &px, sizeof px);
            n++;
        }
        next += MS;
        int64_t wait = next - qts_mono_ns();
        if (wait > 0) {
            struct timespec ts = {0, (long)wait};
            nanosleep(&ts, NULL);
        }
    }
    atomic_store(&f->offered, n);
    return NULL;
}

static void on_stop(uv_timer_t *t)
{
    struct flood *f = t->data;
    atomic_store(&f->stop, true);
    qts_risk_loop_stop(f->rl);
    uv_close((uv_handle_t *)&f->wake, NULL);
    uv_close((uv_handle_t *)t, NULL);
}

static void run_flood(bool flood, int64_t dur_ms)
{
    struct flood *f = qts_xcalloc(1, sizeof *f);
    f->flood = flood;
    uv_loop_init(&f->loop);
    qts_uv_timers_new(&f->loop, NULL, &f->timers);
    struct qts_evq_config c;
    qts_evq_config_default(&c);
    c.wake = fl_wake;
    c.ctx = f;
    f->q = qts_evq_new(&c);
    struct qts_risk_limit_set lim;
    qts_risk_limit_set_init(&lim);
    lim.global.loop_period_ms = 10;
    lim.global.stale_ms = 1000; /* the no-flood reference has no ticks */
    lim.global.stale_trip_ms = 100000;
    struct qts_risk_loop_env env = {.timers = &f->timers, .positions = fl_positions,
                                    .equity = fl_equity, .ctx = f};
    f->rl = qts_risk_loop_new(&lim, &env);
    qts_bench_samples_init(&f->fill_lat, 4096);
    uv_async_init(&f->loop, &f->wake, on_wake);
    f->wake.data = f;
    uv_timer_init(&f->loop, &f->stop_timer);
    f->stop_timer.data = f;
    uv_timer_start(&f->stop_timer, on_stop, (uint64_t)dur_ms, 0);
    qts_risk_loop_start(f->rl);
    pthread_t t;
    pthread_create(&t, NULL, producer, f);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    pthread_join(t, NULL);
    qts_timer_svc_free(&f->timers);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    uv_loop_close(&f->loop);

    /* jitter samples out of the loop's histogram */
    const struct qts_hdr_hist *h = qts_risk_loop_jitter(f->rl);
    char js[256];
    qts_hdr_json(h, js, sizeof js);
    struct qts_evq_stats st;
    qts_evq_stats(f->q, &st);
    printf("{\"bench\":\"%s\",\"unit\":\"ns\",\"period_ms\":10,\"hist\":%s,"
           "\"p99\":%lld,\"max\":%lld,\"n\":%llu,\"machine\":\"%s\"}\n",
           flood ? "risk.loop_jitter_flood" : "risk.loop_jitter_reference", js,
           (long long)qts_hdr_percentile(h, 99), (long long)h->max,
           (unsigned long long)h->count, qts_bench_machine());
    if (flood) {
        char extra[256];
        snprintf(extra, sizeof extra,
                 "\"quotes_conflated\":%llu,\"quotes_dropped\":%llu,\"fills_dropped\":%llu",
                 (unsigned long long)st.conflated[1], (unsigned long long)st.dropped[1],
                 (unsigned long long)st.dropped[0]);
        qts_bench_report_latency("risk.fill_latency_flood", &f->fill_lat, extra);
        qts_bench_report_value("risk.flood_quotes_per_s", "events/s",
                               (double)atomic_load(&f->offered) * 1000.0 / (double)dur_ms,
                               atomic_load(&f->offered), NULL);
        qts_bench_report_value("risk.flood_quotes_handled_per_s", "events/s",
                               (double)f->handled * 1000.0 / (double)dur_ms, f->handled, NULL);
    }
    qts_bench_samples_free(&f->fill_lat);
    qts_risk_loop_free(f->rl);
    qts_evq_free(f->q);
    free(f);
}

int main(void)
{
    if (!freopen("/dev/null", "w", stderr))
        return 1;
    qts_log_set_level(QTS_LOG_ERROR);
    bench_precheck();
    bench_kill();
    run_flood(false, 1000);
    run_flood(true, 3000);
    return 0;
}
