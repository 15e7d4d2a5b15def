/* bench_exec.c — the execution micro-pipeline stage by stage, on a fake
 * clock with an in-process broker that accepts everything (so only our own
 * code is measured):
 *   exec.precheck     basic pre-trade checks alone (qts_exec_precheck)
 *   exec.split_twap10 OrderSplit alone, TWAP into 10 slices
 *   exec.split_vwap10 OrderSplit alone, VWAP over a 10-bucket profile
 *   exec.submit       PreCheck + OrderSplit + AsyncSend of a DIRECT order
 *                     (the C part of tick-to-order: qts_exec_submit)
 *   exec.report_fill  one execution report (a fill completing the order)
 *   exec.adjust_round one AdaptiveAdjust round (timer dispatch included)
 *   exec.escape       EmergencyEscape dispatch (cancels issued)
 *   exec.hdr_record   recording one latency sample
 *   exec.reference_clock_pair  two clock reads: the measuring floor
 *   exec.long_evict / exec.long_keep_all  a long run (QTS_BENCH_EXEC_LONG
 *                     orders, default 200000: submit + ack + fill, 1 ms of
 *                     virtual time apart) with the default retention, and
 *                     the reference in the same run with eviction off (every
 *                     order kept, the old behaviour); each in a child process
 *                     so its RSS growth (VmHWM) is its own. Latency is one
 *                     submit plus its two reports.
 * Figures are nanoseconds of CPU time on the core thread; broker round
 * trips are not included. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "clock.h"
#include "exec_pipeline.h"
#include "exec_split.h"
#include "hdr_hist.h"
#include "log.h"
#include "timer_svc.h"
#include "util.h"

#define N 20000
#define MS INT64_C(1000000)

static int prov_market(void *ctx, uint32_t id, struct qts_mkt_ref *out)
{
    (void)ctx;
    (void)id;
    out->bid = 60000;
    out->ask = 61000;
    out->last = 60000;
    out->ts_ns = 0;
    return 0;
}
static int64_t prov_cash(void *ctx, uint32_t s)
{
    (void)ctx;
    (void)s;
    return INT64_C(1000000000) * 1000000;
}

static struct qts_exec_report report(uint8_t type, const char *cl, int64_t qty, uint64_t fid)
{
    struct qts_exec_report r;
    memset(&r, 0, sizeof r);
    r.struct_size = sizeof r;
    r.exec_type = type;
    qts_strlcpy(r.client_order_id, cl, sizeof r.client_order_id);
    r.last_qty = qty;
    r.last_px = 60000;
    r.fill_id = fid;
    r.leaves_qty = -1;
    return r;
}

/* The pipeline on a fake clock with the accept-all broker; lives as long as
 * the qts_exec made from it (the env holds pointers into it). */
struct rig {
    struct qts_clock clock;
    struct qts_timer_svc timers;
    struct qts_bench_broker b;
    struct qts_broker_ops ops;
    struct qts_exec_env env;
    struct qts_exec_params params;
};

/* Owned qts_exec (qts_exec_free), default parameters; `evict` false keeps
 * every finished order (the old behaviour). */
static struct qts_exec *rig_open(struct rig *g, bool evict)
{
    memset(g, 0, sizeof *g);
    qts_clock_init(&g->clock, QTS_CLOCK_VIRTUAL);
    qts_fake_timers_new(&g->clock, &g->timers);
    qts_bench_broker_ops(&g->ops, true);
    g->env = (struct qts_exec_env){.port = {.ops = &g->ops, .self = &g->b},
                                   .timers = &g->timers,
                                   .clock = &g->clock,
                                   .prov = {.instrument = qts_bench_instrument,
                                            .market = prov_market,
                                            .cash_available = prov_cash}};
    qts_exec_params_default(&g->params);
    if (!evict)
        g->params.evict_tombstones = 0;
    return qts_exec_new(&g->params, &g->env);
}

/* Peak resident set of this process, KiB (0 if unknown). */
static long peak_rss_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return 0;
    char line[256];
    long kib = 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmHWM: %ld", &kib) == 1)
            break;
    fclose(f);
    return kib;
}

/* One long run in a child process: `n` orders with the default retention,
 * or with eviction off. */
static void long_run(const char *name, long n, bool evict)
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0)
        return;
    if (pid > 0) {
        int st;
        waitpid(pid, &st, 0);
        return;
    }
    long rss0 = peak_rss_kib();
    struct rig g;
    struct qts_exec *x = rig_open(&g, evict);
    struct qts_order_intent in;
    qts_bench_limit_buy(&in, 1, 1, 60050, 10);
    struct qts_bench_samples lat;
    qts_bench_samples_init(&lat, (size_t)n);
    int64_t w0 = qts_mono_ns();
    for (long i = 0; i < n; i++) {
        uint64_t id;
        int64_t t0 = qts_mono_ns();
        qts_exec_submit(x, &in, &id, NULL);
        char cl[QTS_CLORDID_MAX];
        memcpy(cl, g.b.last, sizeof cl);
        struct qts_exec_report a = report(QTS_EXEC_ACK, cl, 0, 0);
        qts_exec_on_report(x, &a);
        struct qts_exec_report f = report(QTS_EXEC_FILL, cl, 10, 1);
        qts_exec_on_report(x, &f);
        qts_bench_add(&lat, qts_mono_ns() - t0);
        qts_fake_timers_advance(&g.timers, MS);
    }
    double secs = (double)(qts_mono_ns() - w0) / 1e9;
    char extra[256];
    snprintf(extra, sizeof extra,
             "\"orders\":%ld,\"held_at_end\":%zu,\"rss_growth_mib\":%.1f,\"wall_s\":%.2f", n,
             qts_oms_count(qts_exec_oms(x)), (double)(peak_rss_kib() - rss0) / 1024.0, secs);
    qts_bench_report_latency(name, &lat, extra);
    fflush(stdout);
    _exit(0);
}

int main(void)
{
    if (!freopen("/dev/null", "w", stderr))
        return 1;
    qts_log_set_level(QTS_LOG_ERROR);
    struct rig g;
    struct qts_exec *x = rig_open(&g, true);
    struct qts_order_intent in;
    qts_bench_limit_buy(&in, 1, 1, 60050, 10);

    struct qts_bench_samples pre, tw, vw, sub, rep, adj, esc, hdr, ref;
    qts_bench_samples_init(&pre, N);
    qts_bench_samples_init(&tw, N);
    qts_bench_samples_init(&vw, N);
    qts_bench_samples_init(&sub, N);
    qts_bench_samples_init(&rep, N);
    qts_bench_samples_init(&adj, N);
    qts_bench_samples_init(&esc, N);
    qts_bench_samples_init(&hdr, N);
    qts_bench_samples_init(&ref, N);

    /* PreCheck alone */
    for (int i = 0; i < N; i++) {
        struct qts_order_intent t = in;
        int64_t t0 = qts_mono_ns();
        int rc = qts_exec_precheck(x, &t, NULL);
        qts_bench_add(&pre, qts_mono_ns() - t0);
        qts_bench_keep(&rc);
    }
    /* OrderSplit alone */
    struct qts_slice sl[QTS_SPLIT_MAX];
    double prof[10] = {3, 2, 1, 1, 1, 1, 1, 1, 2, 3};
    for (int i = 0; i < N; i++) {
        struct qts_split_req r = {.algo = QTS_ALGO_TWAP,
                                  .qty = 1000 + i,
                                  .lot = 1,
                                  .duration_ns = 30000 * MS,
                                  .slices = 10,
                                  .max_children = 10};
        int64_t t0 = qts_mono_ns();
        int n = qts_split_plan(&r, sl, QTS_SPLIT_MAX, NULL);
        qts_bench_add(&tw, qts_mono_ns() - t0);
        qts_bench_keep(&n);
        r.algo = QTS_ALGO_VWAP;
        r.profile = prof;
        r.n_profile = 10;
        t0 = qts_mono_ns();
        n = qts_split_plan(&r, sl, QTS_SPLIT_MAX, NULL);
        qts_bench_add(&vw, qts_mono_ns() - t0);
        qts_bench_keep(&n);
    }
    /* submit -> ack -> fill: one order at a time */
    for (int i = 0; i < N; i++) {
        uint64_t id;
        int64_t t0 = qts_mono_ns();
        qts_exec_submit(x, &in, &id, NULL);
        qts_bench_add(&sub, qts_mono_ns() - t0);
        char cl[QTS_CLORDID_MAX];
        memcpy(cl, g.b.last, sizeof cl);
        struct qts_exec_report a = report(QTS_EXEC_ACK, cl, 0, 0);
        qts_exec_on_report(x, &a);
        struct qts_exec_report f = report(QTS_EXEC_FILL, cl, 10, 1);
        t0 = qts_mono_ns();
        qts_exec_on_report(x, &f);
        qts_bench_add(&rep, qts_mono_ns() - t0);
    }
    /* adjust round and escape: an unfilled order reaching its timeout */
    for (int i = 0; i < N; i++) {
        uint64_t id;
        qts_exec_submit(x, &in, &id, NULL);
        char cl[QTS_CLORDID_MAX];
        memcpy(cl, g.b.last, sizeof cl);
        struct qts_exec_report a = report(QTS_EXEC_ACK, cl, 0, 0);
        qts_exec_on_report(x, &a);
        int64_t t0 = qts_mono_ns();
        qts_fake_timers_advance(&g.timers, g.params.monitor_timeout_ms * MS);
        qts_bench_add(&adj, qts_mono_ns() - t0);
        t0 = qts_mono_ns();
        qts_exec_escape(x, id, "bench");
        qts_bench_add(&esc, qts_mono_ns() - t0);
        struct qts_exec_report c = report(QTS_EXEC_CANCELLED, cl, 0, 0);
        qts_exec_on_report(x, &c);
    }
    /* histogram record and the clock floor */
    struct qts_hdr_hist h;
    qts_hdr_init(&h);
    for (int i = 0; i < N; i++) {
        int64_t t0 = qts_mono_ns();
        qts_hdr_record(&h, (int64_t)i * 37);
        qts_bench_add(&hdr, qts_mono_ns() - t0);
        t0 = qts_mono_ns();
        int64_t t1 = qts_mono_ns();
        qts_bench_add(&ref, t1 - t0);
    }

    qts_bench_report_latency("exec.precheck", &pre, NULL);
    qts_bench_report_latency("exec.split_twap10", &tw, NULL);
    qts_bench_report_latency("exec.split_vwap10", &vw, NULL);
    qts_bench_report_latency("exec.submit", &sub, NULL);
    qts_bench_report_latency("exec.report_fill", &rep, NULL);
    qts_bench_report_latency("exec.adjust_round", &adj, NULL);
    qts_bench_report_latency("exec.escape", &esc, NULL);
    qts_bench_report_latency("exec.hdr_record", &hdr, NULL);
    qts_bench_report_latency("exec.reference_clock_pair", &ref, NULL);
    /* the pipeline's own stage histograms, as exported with a run summary */
    static char summary[8192];
    qts_exec_summary_json(x, summary, sizeof summary);
    printf("{\"bench\":\"exec.summary\",\"summary\":%s}\n", summary);

    /* long run: bounded store with eviction, the old behaviour as reference */
    const char *ln = getenv("QTS_BENCH_EXEC_LONG");
    long n_long = ln && atol(ln) > 0 ? atol(ln) : 200000;
    long_run("exec.long_evict", n_long, true);
    long_run("exec.long_keep_all", n_long, false);

    struct qts_bench_samples *all[] = {&pre, &tw, &vw, &sub, &rep, &adj, &esc, &hdr, &ref};
    for (size_t i = 0; i < QTS_ARRAY_LEN(all); i++)
        qts_bench_samples_free(all[i]);
    qts_exec_free(x);
    qts_timer_svc_free(&g.timers);
    return 0;
}
