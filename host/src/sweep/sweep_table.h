/* sweep_table.h — the ranked table of `qts sweep`: the statistics of each
 * parameter set, read from its runs' summary.json, written as sweep.csv
 * and sweep.html (docs/backtesting.md, "Parameter sweeps"). */
#ifndef QTS_SWEEP_TABLE_H
#define QTS_SWEEP_TABLE_H

#include <stdbool.h>
#include <stddef.h>

#include "qts/qts_err.h"
#include "sweep_grid.h"

/* The statistics of a row, in the table's column order. */
#define QTS_SWEEP_N_STATS 12
extern const char *const qts_sweep_stat_names[QTS_SWEEP_N_STATS];

/* One run of a set: its id and what its summary.json says. */
struct qts_sweep_run {
    char run_id[64];
    int exit_code;                    /* of its process; -1 = not run */
    bool has_stats;                   /* summary.json read */
    char text[QTS_SWEEP_N_STATS][40]; /* each value as summary.json writes it */
    double num[QTS_SWEEP_N_STATS];    /* the same, NAN for null */
};

/* A parameter set: run[0] on all the data, or in-sample with a split;
 * run[1] out-of-sample (split only). */
struct qts_sweep_row {
    size_t set; /* index in the grid */
    struct qts_sweep_run run[2];
};

/* Index of a statistic by name, -1 if none. */
int qts_sweep_stat_index(const char *name);

/* Read `<run_dir>/summary.json` into r (has_stats). */
int qts_sweep_read_summary(const char *run_dir, struct qts_sweep_run *r, struct qts_err *err);

/* Rank rows by statistic `rank` of run[0] (best first: higher is better,
 * max_drawdown lower; a missing value last; ties keep the grid order),
 * then write <dir>/sweep.csv and <dir>/sweep.html. `runs_rel` is the
 * runs directory relative to `dir` (links to each run's report). */
int qts_sweep_write(const char *dir, const char *runs_rel, const struct qts_sweep_grid *g,
                    struct qts_sweep_row *rows, size_t n, int rank, bool split,
                    const char *split_date, struct qts_err *err);

#endif
