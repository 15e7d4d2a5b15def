/* bench_log.c — cost of a log call on the hot path (asynchronous writer),
 * against a reference: snprintf of the same line into a local buffer. */
#include <stdio.h>

#include "bench.h"
#include "clock.h"
#include "log.h"

int main(void)
{
    enum { N = 200000 };
    struct qts_bench_samples s, ref;
    qts_bench_samples_init(&s, N);
    qts_bench_samples_init(&ref, N);
    if (!freopen("/dev/null", "w", stderr))
        return 1;
    qts_log_start();
    for (int i = 0; i < N; i++) {
        int64_t t0 = qts_mono_ns();
        qts_log(QTS_LOG_INFO, "order accepted id=%d px=%d.%02d", i, i / 100, i % 100);
        qts_bench_add(&s, qts_mono_ns() - t0);
    }
    qts_log_stop();
    char buf[256];
    for (int i = 0; i < N; i++) {
        int64_t t0 = qts_mono_ns();
        snprintf(buf, sizeof buf, "order accepted id=%d px=%d.%02d", i, i / 100, i % 100);
        qts_bench_keep(buf);
        qts_bench_add(&ref, qts_mono_ns() - t0);
    }
    qts_bench_report_latency("log.call", &s, NULL);
    qts_bench_report_latency("log.reference_snprintf", &ref, NULL);
    qts_bench_samples_free(&s);
    qts_bench_samples_free(&ref);
    return 0;
}
