/* watchdog.c — heartbeat watchdog thread (watchdog.h). */
#include "watchdog.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "qts/qts_err.h"
#include "util.h"

#define MAX_WATCH 32
#define MS INT64_C(1000000)

struct entry {
    struct qts_watch w;
    char name[32];
    int64_t warn_ns, stall_ns;
    int warn_code, stall_code;
    uint64_t last_beats;
    int64_t last_change_ns;
    bool warned, stalled, init;
};

struct qts_watchdog {
    qts_watchdog_raise_fn raise;
    void *ctx;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct entry *e[MAX_WATCH];
    int n;
    pthread_t thr;
    bool running, stop;
    int64_t interval_ns;
};

struct qts_watchdog *qts_watchdog_new(qts_watchdog_raise_fn raise, void *ctx)
{
    struct qts_watchdog *wd = qts_xcalloc(1, sizeof *wd);
    wd->raise = raise;
    wd->ctx = ctx;
    pthread_mutex_init(&wd->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&wd->cv, &ca);
    pthread_condattr_destroy(&ca);
    return wd;
}

void qts_watchdog_free(struct qts_watchdog *wd)
{
    if (!wd)
        return;
    qts_watchdog_stop(wd);
    for (int i = 0; i < wd->n; i++)
        free(wd->e[i]);
    pthread_cond_destroy(&wd->cv);
    pthread_mutex_destroy(&wd->mu);
    free(wd);
}

struct qts_watch *qts_watchdog_add(struct qts_watchdog *wd, const char *name, int64_t warn_ms,
                                   int warn_code, int64_t stall_ms, int stall_code)
{
    pthread_mutex_lock(&wd->mu);
    if (wd->n == MAX_WATCH) {
        pthread_mutex_unlock(&wd->mu);
        return NULL;
    }
    struct entry *e = qts_xcalloc(1, sizeof *e);
    atomic_init(&e->w.beats, 0);
    qts_strlcpy(e->name, name ? name : "?", sizeof e->name);
    e->warn_ns = warn_ms * MS;
    e->stall_ns = stall_ms * MS;
    e->warn_code = warn_code;
    e->stall_code = stall_code;
    wd->e[wd->n++] = e;
    pthread_mutex_unlock(&wd->mu);
    return &e->w;
}

int qts_watchdog_check(struct qts_watchdog *wd, int64_t now_ns)
{
    struct {
        int code;
        char msg[96];
    } out[MAX_WATCH * 2];
    int n_out = 0;
    pthread_mutex_lock(&wd->mu);
    for (int i = 0; i < wd->n; i++) {
        struct entry *e = wd->e[i];
        uint64_t b = atomic_load_explicit(&e->w.beats, memory_order_relaxed);
        if (!e->init || b != e->last_beats) {
            e->init = true;
            e->last_beats = b;
            e->last_change_ns = now_ns;
            e->warned = e->stalled = false;
            continue;
        }
        int64_t idle = now_ns - e->last_change_ns;
        if (e->stall_ns > 0 && idle >= e->stall_ns && !e->stalled) {
            e->stalled = e->warned = true;
            out[n_out].code = e->stall_code;
            snprintf(out[n_out++].msg, sizeof out[0].msg, "%s stalled: no heartbeat for %lld ms",
                     e->name, (long long)(idle / MS));
        } else if (e->warn_ns > 0 && idle >= e->warn_ns && !e->warned) {
            e->warned = true;
            out[n_out].code = e->warn_code;
            snprintf(out[n_out++].msg, sizeof out[0].msg, "%s slow: no heartbeat for %lld ms",
                     e->name, (long long)(idle / MS));
        }
    }
    pthread_mutex_unlock(&wd->mu);
    for (int i = 0; i < n_out; i++)
        if (wd->raise)
            wd->raise(wd->ctx, out[i].code, out[i].msg);
    return n_out;
}

bool qts_watchdog_stalled(struct qts_watchdog *wd, const char *name)
{
    bool s = false;
    pthread_mutex_lock(&wd->mu);
    for (int i = 0; i < wd->n; i++)
        if (strcmp(wd->e[i]->name, name) == 0)
            s = wd->e[i]->stalled;
    pthread_mutex_unlock(&wd->mu);
    return s;
}

static void *run(void *arg)
{
    struct qts_watchdog *wd = arg;
    pthread_mutex_lock(&wd->mu);
    while (!wd->stop) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        int64_t t = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec + wd->interval_ns;
        ts.tv_sec = t / 1000000000;
        ts.tv_nsec = t % 1000000000;
        while (!wd->stop && pthread_cond_timedwait(&wd->cv, &wd->mu, &ts) != ETIMEDOUT) {
        }
        if (wd->stop)
            break;
        pthread_mutex_unlock(&wd->mu);
        qts_watchdog_check(wd, qts_mono_ns());
        pthread_mutex_lock(&wd->mu);
    }
    pthread_mutex_unlock(&wd->mu);
    return NULL;
}

int qts_watchdog_start(struct qts_watchdog *wd, int64_t interval_ms)
{
    if (wd->running)
        return QTS_EBUSY;
    wd->interval_ns = (interval_ms > 0 ? interval_ms : 100) * MS;
    wd->stop = false;
    if (pthread_create(&wd->thr, NULL, run, wd) != 0)
        return QTS_ESYS;
    wd->running = true;
    return 0;
}

void qts_watchdog_stop(struct qts_watchdog *wd)
{
    if (!wd->running)
        return;
    pthread_mutex_lock(&wd->mu);
    wd->stop = true;
    pthread_cond_signal(&wd->cv);
    pthread_mutex_unlock(&wd->mu);
    pthread_join(wd->thr, NULL);
    wd->running = false;
}
