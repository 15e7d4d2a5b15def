/* metrics.c — named counters/gauges in a chained hash table. */
#include "metrics.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "qts/qts_err.h"
#include "util.h"

struct metric {
    struct metric *next;
    int64_t value;
    char name[]; /* owned with the node */
};

struct qts_metrics {
    pthread_mutex_t mu;
    struct metric **buckets;
    size_t n_buckets, n;
};

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

struct qts_metrics *qts_metrics_new(void)
{
    struct qts_metrics *m = qts_xcalloc(1, sizeof *m);
    pthread_mutex_init(&m->mu, NULL);
    m->n_buckets = 64;
    m->buckets = qts_xcalloc(m->n_buckets, sizeof *m->buckets);
    return m;
}

void qts_metrics_free(struct qts_metrics *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n_buckets; i++) {
        struct metric *e = m->buckets[i];
        while (e) {
            struct metric *next = e->next;
            free(e);
            e = next;
        }
    }
    free(m->buckets);
    pthread_mutex_destroy(&m->mu);
    free(m);
}

static void grow(struct qts_metrics *m)
{
    size_t nb = m->n_buckets * 2;
    struct metric **b = qts_xcalloc(nb, sizeof *b);
    for (size_t i = 0; i < m->n_buckets; i++) {
        struct metric *e = m->buckets[i];
        while (e) {
            struct metric *next = e->next;
            size_t j = hash_str(e->name) & (nb - 1);
            e->next = b[j];
            b[j] = e;
            e = next;
        }
    }
    free(m->buckets);
    m->buckets = b;
    m->n_buckets = nb;
}

/* Caller holds the lock. */
static struct metric *lookup(struct qts_metrics *m, const char *name, int create)
{
    size_t i = hash_str(name) & (m->n_buckets - 1);
    for (struct metric *e = m->buckets[i]; e; e = e->next)
        if (strcmp(e->name, name) == 0)
            return e;
    if (!create)
        return NULL;
    if (m->n + 1 > m->n_buckets) {
        grow(m);
        i = hash_str(name) & (m->n_buckets - 1);
    }
    size_t len = strlen(name);
    struct metric *e = qts_xmalloc(sizeof *e + len + 1);
    memcpy(e->name, name, len + 1);
    e->value = 0;
    e->next = m->buckets[i];
    m->buckets[i] = e;
    m->n++;
    return e;
}

void qts_metrics_add(struct qts_metrics *m, const char *name, int64_t delta)
{
    pthread_mutex_lock(&m->mu);
    lookup(m, name, 1)->value += delta;
    pthread_mutex_unlock(&m->mu);
}

void qts_metrics_set(struct qts_metrics *m, const char *name, int64_t value)
{
    pthread_mutex_lock(&m->mu);
    lookup(m, name, 1)->value = value;
    pthread_mutex_unlock(&m->mu);
}

int qts_metrics_get(struct qts_metrics *m, const char *name, int64_t *out)
{
    pthread_mutex_lock(&m->mu);
    struct metric *e = lookup(m, name, 0);
    *out = e ? e->value : 0;
    pthread_mutex_unlock(&m->mu);
    return e ? 0 : QTS_ENOENT;
}

void qts_metrics_foreach(struct qts_metrics *m,
                         void (*fn)(void *arg, const char *name, int64_t value), void *arg)
{
    pthread_mutex_lock(&m->mu);
    for (size_t i = 0; i < m->n_buckets; i++)
        for (struct metric *e = m->buckets[i]; e; e = e->next)
            fn(arg, e->name, e->value);
    pthread_mutex_unlock(&m->mu);
}
