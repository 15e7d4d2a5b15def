/* bench.h — the benchmark harness.
 *
 * A benchmark collects samples (ns) into a struct qts_bench_samples and
 * prints one JSON object per result on stdout:
 *   {"bench":"...","unit":"ns","p50":..,"p99":..,"p999":..,"max":..,
 *    "mean":..,"n":..,"machine":"..."}
 * or a throughput:
 *   {"bench":"...","unit":"events/s","value":..,"n":..,"machine":"..."}
 * `make bench` runs every build/bench/bench_* and gathers the lines into
 * build/bench/results.json. A reference measured in the same run is printed
 * as its own result with "reference" in its name.
 */
#ifndef QTS_BENCH_H
#define QTS_BENCH_H

#include <stddef.h>
#include <stdint.h>

struct qts_bench_samples {
    int64_t *v;  /* owned */
    size_t n, cap;
};

void qts_bench_samples_init(struct qts_bench_samples *s, size_t cap_hint);
void qts_bench_samples_free(struct qts_bench_samples *s);
void qts_bench_add(struct qts_bench_samples *s, int64_t ns);

/* Sorts the samples and prints the latency JSON line. `extra` is either NULL
 * or a JSON fragment without braces appended to the object
 * (e.g. "\"aim_p99\":1000"). */
void qts_bench_report_latency(const char *bench, struct qts_bench_samples *s,
                              const char *extra);
/* Prints a throughput JSON line. */
void qts_bench_report_value(const char *bench, const char *unit, double value,
                            uint64_t n, const char *extra);

/* Runs fn(arg) in a child process and prints its peak RSS (KiB) as the
 * throughput-style result `bench`, with n = what fn returned; `extra` as for
 * qts_bench_report_value. Nothing is printed when the child fails. */
void qts_bench_child_rss(const char *bench, uint64_t (*fn)(void *arg), void *arg,
                         const char *extra);

struct qts_order_intent;
/* *in zeroed, then a limit buy of `qty` at `px` on `instrument` for
 * `strategy`: the order the execution and risk benchmarks send. */
void qts_bench_limit_buy(struct qts_order_intent *in, uint32_t strategy, uint32_t instrument,
                         int64_t px, int64_t qty);

/* Percentile (0..100) of sorted samples. */
int64_t qts_bench_percentile(const struct qts_bench_samples *s, double pct);

/* "Intel Xeon ... x2" (static). */
const char *qts_bench_machine(void);

/* Prevent the compiler from optimising away a value. */
static inline void qts_bench_keep(const void *p)
{
    __asm__ volatile("" : : "r"(p) : "memory");
}

#endif
