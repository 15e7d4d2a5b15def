/* cycles.h — the record of each strategy cycle (docs/decide.md, "The
 * cycle"): a strategy whose module sets `cycle_ms` runs on_cycle on a
 * timer; each cycle's wall-clock stage timings (snapshot, on_cycle, Decide
 * with the pipeline) become a row of the run's cycles.csv. A cycle whose
 * total is over its budget raises AN040 (a warning); `fs060_after` of them
 * in a row from one strategy raise FS060 (the safety state machine's FAIL:
 * trading stops), as spec-core-pipeline-broker.md §3.5 and §15.7 say.
 *
 * Single-threaded: the core loop.
 */
#ifndef QTS_CYCLES_H
#define QTS_CYCLES_H

#include <stddef.h>
#include <stdint.h>

/* One cycle of one strategy; times in ns (wall clock except due/ts). */
struct qts_cycle_rec {
    uint32_t strategy_id;
    const char *strategy; /* borrowed for the call */
    uint64_t cycle;
    int64_t due_ns, ts_ns; /* the run's clock: when due, when it ran */
    int64_t cycle_ns, budget_ns;
    int64_t snapshot_ns, strategy_ns, decide_ns;
    uint32_t intents;
};

struct qts_cycles_env {
    void (*safety)(void *ctx, int code, const char *msg); /* AN040, FS060 */
    void *ctx;                                            /* borrowed */
};

struct qts_cycles_stats {
    uint64_t cycles, over, fs060;
    int64_t total_ns, max_ns; /* sum and largest of the cycles' totals */
};

#define QTS_CYCLES_FS060_AFTER 3

/* run_dir copied: cycles.csv is created there at the first cycle. */
struct qts_cycles *qts_cycles_new(const char *run_dir, const struct qts_cycles_env *env,
                                  uint32_t fs060_after);
/* Closes cycles.csv. */
void qts_cycles_free(struct qts_cycles *c);

void qts_cycles_record(struct qts_cycles *c, const struct qts_cycle_rec *r);
/* Flush cycles.csv (the run's end). */
void qts_cycles_flush(struct qts_cycles *c);
void qts_cycles_get_stats(const struct qts_cycles *c, struct qts_cycles_stats *out);
/* {"cycles":..,"over_budget":..,"fs060":..,"mean_us":..,"max_us":..} */
int qts_cycles_json(const struct qts_cycles *c, char *buf, size_t cap);

#endif /* QTS_CYCLES_H */
