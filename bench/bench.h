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

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "qts/qts_types.h"

struct qts_bench_samples {
    int64_t *v; /* owned */
    size_t n, cap;
};

void qts_bench_samples_init(struct qts_bench_samples *s, size_t cap_hint);
void qts_bench_samples_free(struct qts_bench_samples *s);
void qts_bench_add(struct qts_bench_samples *s, int64_t ns);

/* Sorts the samples and prints the latency JSON line. `extra` is either NULL
 * or a JSON fragment without braces appended to the object
 * (e.g. "\"aim_p99\":1000"). */
void qts_bench_report_latency(const char *bench, struct qts_bench_samples *s, const char *extra);
/* Prints a throughput JSON line. */
void qts_bench_report_value(const char *bench, const char *unit, double value, uint64_t n,
                            const char *extra);

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

/* The one instrument of the execution and risk benchmarks (id 1, "005930"
 * on krx, tradable, tick 100, lot 1), as a struct qts_exec_env instrument
 * provider: `ctx` unused, NULL for any other id. Static, borrowed. */
const struct qts_instrument *qts_bench_instrument(void *ctx, uint32_t id);

/* A broker that accepts everything and only counts, for the execution and
 * risk benchmarks: the port's `self`. */
struct qts_bench_broker {
    uint64_t submits, cancels, modifies;
    char last[QTS_CLORDID_MAX];     /* client order id of the last submit */
    char ids[512][QTS_CLORDID_MAX]; /* those of the first 512 submits */
};
struct qts_broker_ops;
/* *ops zeroed, then the counting broker's env, submit and cancel, and its
 * modify when `with_modify` (without, the pipeline cancels and resends). */
void qts_bench_broker_ops(struct qts_broker_ops *ops, bool with_modify);

struct qts_ev_hdr;
/* Zeroes the whole event whose header `h` is (the first member of a struct
 * of `size` bytes) and sets struct_size, type (0 = none) and the price and
 * quantity exponents. */
void qts_bench_event_init(struct qts_ev_hdr *h, size_t size, uint16_t type, uint8_t px_exp,
                          uint8_t qty_exp);

struct qts_clock;
struct qts_lua_runtime;
/* A lockstep Lua runtime whose sink takes every intent and does nothing,
 * with instrument `inst` (copied) added. `clock` is borrowed (NULL =
 * monotonic); `max_instruments` 0 = the runtime's default. Aborts when the
 * runtime cannot start. Owned by the caller: qts_lua_runtime_free. */
struct qts_lua_runtime *qts_bench_lua_lockstep(struct qts_clock *clock, uint32_t max_instruments,
                                               const struct qts_instrument *inst);

/* Writes `text` to `path` (created or truncated); 0 or -1/EOF. */
int qts_bench_write_file(const char *path, const char *text);

/* Advances the linear congruential generator state *seed (Knuth's MMIX
 * constants) and returns its high bits as a number in [0, 1). */
double qts_bench_uniform(uint64_t *seed);

/* Percentile (0..100) of sorted samples. */
int64_t qts_bench_percentile(const struct qts_bench_samples *s, double pct);

/* "Intel Xeon ... x2" (static). */
const char *qts_bench_machine(void);

/* Prevent the compiler from optimising away a value. */
static inline void qts_bench_keep(const void *p) { __asm__ volatile("" : : "r"(p) : "memory"); }

#endif
