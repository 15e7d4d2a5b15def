/* clock.h — time sources. Everything that reads time takes a
 * `struct qts_clock *` so tests and replays can drive it.
 *
 * - monotonic: CLOCK_MONOTONIC ns, for durations and timeouts.
 * - wall: CLOCK_REALTIME ns since the Unix epoch.
 * - virtual: set by the replay from data time stamps; `now` returns the last
 *   value set. Tests use it as a fake clock.
 */
#ifndef QTS_CLOCK_H
#define QTS_CLOCK_H

#include <stdint.h>

enum qts_clock_kind {
    QTS_CLOCK_MONOTONIC = 0,
    QTS_CLOCK_WALL = 1,
    QTS_CLOCK_VIRTUAL = 2,
};

struct qts_clock {
    enum qts_clock_kind kind;
    int64_t virtual_ns; /* current time of a virtual clock */
};

int64_t qts_mono_ns(void);
int64_t qts_wall_ns(void);

void qts_clock_init(struct qts_clock *c, enum qts_clock_kind kind);
/* Any thread may read a clock; a virtual clock is advanced by one thread. */
int64_t qts_clock_now(const struct qts_clock *c);
/* Virtual clocks only: time never goes backwards (a smaller value is ignored
 * and 0 returned; 1 when the clock moved). */
int qts_clock_advance_to(struct qts_clock *c, int64_t ns);

#endif /* QTS_CLOCK_H */
