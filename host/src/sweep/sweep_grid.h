/* sweep_grid.h — the parameter grid of `qts sweep`.
 *
 * A parameter is `STRATEGY.KEY=VALUES`: STRATEGY is a strategy's `name:` in
 * the configuration, KEY one of its `params:`. VALUES is a list `20,40,80`,
 * a range `5:30:5` (start, stop, step; stop included when the steps land on
 * it) or one value. The grid is every combination, the first parameter
 * varying slowest; set k (0-based) is numbered k + 1 in the table.
 */
#ifndef QTS_SWEEP_GRID_H
#define QTS_SWEEP_GRID_H

#include <stddef.h>

#include "qts/qts_err.h"

#define QTS_SWEEP_MAX_SETS 100000

struct qts_sweep_axis {
    char *name;    /* owned: "ema.fast" */
    char *path;    /* owned: "strategies.list.ema.params.fast" */
    char **values; /* owned, n_values texts */
    size_t n_values;
};

struct qts_sweep_grid {
    struct qts_sweep_axis *axes; /* owned, n_axes */
    size_t n_axes;
    size_t n_sets; /* product of the axes' value counts */
};

/* Add one `--param` argument. QTS_EINVAL with a message naming it when it
 * cannot be read, or when the grid would exceed QTS_SWEEP_MAX_SETS. */
int qts_sweep_grid_add(struct qts_sweep_grid *g, const char *arg, struct qts_err *err);
/* The value of axis `a` in set `k`. Borrowed from the grid. */
const char *qts_sweep_grid_value(const struct qts_sweep_grid *g, size_t k, size_t a);
void qts_sweep_grid_free(struct qts_sweep_grid *g);

#endif
