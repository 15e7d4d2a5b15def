/* bars.h — time bars (OHLCV + trade count) built from trades.
 *
 * One builder per instrument and period. Periods are whole seconds from
 * 1 s to 1 day that divide a day evenly (1 s, 5 s, 1 min, 15 min, 1 h,
 * 4 h, 1 d, ...), so every bar starts on a UTC period boundary:
 * open time = floor(ts_exch_ns / period) * period, and a day's bars always
 * start at 00:00 UTC.
 *
 * A bar is emitted when the first trade of a later period arrives, or by
 * qts_bar_builder_poll (the period has ended by a clock) or
 * qts_bar_builder_flush (end of data). Periods without trades produce no bar:
 * a consumer that wants a continuous series carries the last close forward
 * itself (an invented zero-volume bar would look like real data).
 * A trade stamped in a period that was already emitted is late: it is not
 * applied (the emitted bar is final) and is counted in `n_late`.
 */
#ifndef QTS_BARS_H
#define QTS_BARS_H

#include <stdbool.h>
#include <stdint.h>

#include "qts/qts_types.h"

#define QTS_NS_PER_SEC INT64_C(1000000000)
#define QTS_NS_PER_DAY (INT64_C(86400) * QTS_NS_PER_SEC)

struct qts_bar_builder {
    int64_t period_ns;
    bool has_bar; /* `cur` holds an open bar */
    bool has_emitted;
    int64_t last_open_ns; /* open time of the last emitted bar */
    uint64_t n_late;      /* trades dropped because their bar was emitted */
    uint64_t n_bars;      /* bars emitted so far */
    struct qts_bar cur;
};

/* 0, or QTS_EINVAL if period_ns is not a whole number of seconds in
 * [1 s, 1 day] dividing a day. Caller-provided storage; nothing to free. */
int qts_bar_builder_init(struct qts_bar_builder *b, int64_t period_ns);

/* Applies one trade (borrowed). Returns 1 if a completed bar was copied to
 * *out (the bar before the trade's period), 0 if not, QTS_EINVAL if the
 * trade's instrument or exponents differ from the open bar's, or its
 * quantity is negative. */
int qts_bar_builder_push(struct qts_bar_builder *b, const struct qts_trade *t, struct qts_bar *out);

/* Emits the open bar if its period has ended at `now_ns` (a timer, so a
 * quiet market still closes its bars). Returns 1 if *out was written. */
int qts_bar_builder_poll(struct qts_bar_builder *b, int64_t now_ns, struct qts_bar *out);

/* Emits the open bar whatever the time (end of data). Returns 1 or 0. */
int qts_bar_builder_flush(struct qts_bar_builder *b, struct qts_bar *out);

/* Open time of the period holding ts_ns (floor, also before 1970). */
int64_t qts_bar_open_ns(int64_t ts_ns, int64_t period_ns);

#endif /* QTS_BARS_H */
