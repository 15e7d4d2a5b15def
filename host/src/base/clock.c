/* clock.c — see clock.h. */
#include "clock.h"

#include <time.h>

int64_t qts_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int64_t qts_wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

void qts_clock_init(struct qts_clock *c, enum qts_clock_kind kind)
{
    c->kind = kind;
    c->virtual_ns = 0;
}

int64_t qts_clock_now(const struct qts_clock *c)
{
    switch (c->kind) {
    case QTS_CLOCK_MONOTONIC: return qts_mono_ns();
    case QTS_CLOCK_WALL: return qts_wall_ns();
    /* relaxed atomic: another thread (the store writer) may read the time
     * the loop thread sets; it sees this value or an earlier one */
    case QTS_CLOCK_VIRTUAL: return __atomic_load_n(&c->virtual_ns, __ATOMIC_RELAXED);
    }
    return 0;
}

int qts_clock_advance_to(struct qts_clock *c, int64_t ns)
{
    if (c->kind != QTS_CLOCK_VIRTUAL || ns <= c->virtual_ns)
        return 0;
    __atomic_store_n(&c->virtual_ns, ns, __ATOMIC_RELAXED);
    return 1;
}
