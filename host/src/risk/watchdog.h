/* watchdog.h — a thread that watches heartbeats of the core loop, the risk
 * loop and strategy workers, and raises a code when one stops beating.
 *
 * A watched thread bumps its counter (qts_watchdog_beat: one relaxed atomic
 * add) from something that runs regularly — the core loop from a periodic
 * timer, a worker after each event. The watchdog samples the counters every
 * interval; a counter that has not moved for warn_ms raises `warn_code`
 * (e.g. AN040), for stall_ms raises `stall_code` (FS060 core loop, FS100
 * risk loop, GR091 strategy worker), each once per stall. When the counter
 * moves again the entry re-arms.
 *
 * `raise` runs on the watchdog thread: it must be thread-safe. Call
 * qts_safety_raise there (it is): posting to the core loop alone would not
 * work when the core loop is the thread that stalled.
 */
#ifndef QTS_WATCHDOG_H
#define QTS_WATCHDOG_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct qts_watchdog;

struct qts_watch {
    _Atomic uint64_t beats;
};

static inline void qts_watchdog_beat(struct qts_watch *w)
{
    atomic_fetch_add_explicit(&w->beats, 1, memory_order_relaxed);
}

/* code: enum qts_safety_code; msg borrowed for the call. */
typedef void (*qts_watchdog_raise_fn)(void *ctx, int code, const char *msg);

struct qts_watchdog *qts_watchdog_new(qts_watchdog_raise_fn raise, void *ctx);
/* Stops the thread if running, then frees every watch. */
void qts_watchdog_free(struct qts_watchdog *wd);
/* Watch `name` (copied). warn_ms 0 = no warning. Returns the handle the
 * watched thread beats (owned by the watchdog), NULL when full (32). */
struct qts_watch *qts_watchdog_add(struct qts_watchdog *wd, const char *name, int64_t warn_ms,
                                   int warn_code, int64_t stall_ms, int stall_code);
/* One sample at time `now_ns` (monotonic); what the thread does every
 * interval, exposed for tests. Returns how many codes it raised. */
int qts_watchdog_check(struct qts_watchdog *wd, int64_t now_ns);
/* Sample every interval_ms on a thread of its own. */
int qts_watchdog_start(struct qts_watchdog *wd, int64_t interval_ms);
void qts_watchdog_stop(struct qts_watchdog *wd);
/* Is the watch `name` stalled now (after the last sample)? */
bool qts_watchdog_stalled(struct qts_watchdog *wd, const char *name);

#endif /* QTS_WATCHDOG_H */
