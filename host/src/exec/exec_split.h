/* exec_split.h — OrderSplit: turn one parent quantity into a schedule of
 * child slices (pure functions, no I/O, no clock).
 *
 * - DIRECT: one slice now.
 * - TWAP: `slices` equal slices spread evenly over `duration_ns`: slice i is
 *   due at i * duration / n. Quantities are whole lots; the lots that do not
 *   divide evenly go one each to the first slices.
 * - VWAP: one slice per bucket of a volume profile (weights), due at the
 *   bucket's start within `duration_ns`; slice = floor(total * w_i / sum w)
 *   in lots, the last slice takes the remainder so the sum is exact. Without
 *   a configured profile the weights are the volumes of recent bars; without
 *   bars it falls back to equal weights (= TWAP).
 * - ICEBERG: chunks of `display_qty` shown one at a time (the next one is
 *   sent when the previous is filled); the last chunk is the remainder.
 * All: at most `max_children` slices (GR060 caps the count): TWAP/VWAP use
 * fewer slices, ICEBERG raises the display quantity. Slices never go below
 * one lot; a quantity of fewer lots than slices gives fewer slices.
 */
#ifndef QTS_EXEC_SPLIT_H
#define QTS_EXEC_SPLIT_H

#include <stddef.h>
#include <stdint.h>

#include "qts/qts_types.h"

#define QTS_SPLIT_MAX 64 /* hard upper bound of any configuration */

struct qts_slice {
    int64_t qty;       /* quantity units, a multiple of the lot size */
    int64_t offset_ns; /* due time relative to the start of the parent */
    uint8_t sent;      /* pipeline bookkeeping */
};

struct qts_split_req {
    uint8_t algo;        /* enum qts_algo */
    int64_t qty;         /* total, already lot-rounded */
    int64_t lot;         /* lot size (0 or 1 = any quantity unit) */
    int64_t duration_ns; /* TWAP/VWAP horizon (0 = everything now) */
    uint32_t slices;     /* TWAP slice count (0 = default_slices) */
    uint32_t default_slices;
    int64_t display_qty;   /* ICEBERG chunk (0 = qty / max_children) */
    uint32_t max_children; /* cap on the number of slices (>= 1) */
    const double *profile; /* VWAP weights, borrowed; NULL = none */
    size_t n_profile;
};

/* Fill `out` (capacity `cap`, borrowed) with the schedule; returns the
 * number of slices (>= 1) or QTS_EINVAL. `*capped` (may be NULL) is set to
 * 1 when the max_children cap changed the request (GR060). */
int qts_split_plan(const struct qts_split_req *req, struct qts_slice *out, size_t cap, int *capped);

/* VWAP weights from bar volumes (borrowed, oldest first): the weight of
 * bucket i is the volume of bar i. Writes at most `cap` weights; returns the
 * count written (0 when there is no volume). */
size_t qts_split_profile_from_bars(const struct qts_bar *bars, size_t n_bars, double *out,
                                   size_t cap);

#endif /* QTS_EXEC_SPLIT_H */
