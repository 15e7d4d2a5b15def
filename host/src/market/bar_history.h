/* bar_history.h — bars read back from the store at start, for warm-up
 * (ctx:history): per symbol and bar length, the newest bars the store held,
 * oldest first.
 *
 * Filled once on the engine's thread before any strategy starts, read-only
 * afterwards: strategy workers read it concurrently without locks (starting
 * a strategy orders the fill before their reads). The engine owns it.
 */
#ifndef QTS_BAR_HISTORY_H
#define QTS_BAR_HISTORY_H

#include <stddef.h>
#include <stdint.h>

#include "qts/qts_types.h"

struct qts_bar_history;

struct qts_bar_history *qts_bar_history_new(void);
void qts_bar_history_free(struct qts_bar_history *h);

/* Keep `n` bars of `symbol` of length `period_ns` (copied; oldest first,
 * h.px_exp/h.qty_exp set). Before the history is shared only; a second
 * call for the same series replaces it. */
void qts_bar_history_put(struct qts_bar_history *h, const char *symbol, int64_t period_ns,
                         const struct qts_bar *bars, size_t n);

/* The newest bars of the series that closed by `now_ns` (open + length <=
 * now), at most `cap`, oldest first, into `out`; returns how many. 0 for a
 * series the store did not have. */
size_t qts_bar_history_get(const struct qts_bar_history *h, const char *symbol, int64_t period_ns,
                           int64_t now_ns, struct qts_bar *out, size_t cap);

/* Bars held in all series (for the start-up log line). */
size_t qts_bar_history_total(const struct qts_bar_history *h);

#endif /* QTS_BAR_HISTORY_H */
