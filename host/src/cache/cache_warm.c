/* cache_warm.c — see cache_warm.h. */
#include "cache_warm.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

static const char *const PATTERNS[] = {"pos:*", "ord:*", "risk:*", "strat:*"};

struct warm {
    const struct qts_cache_ops *ops;
    void *self;
    qts_cache_warm_entry_fn entry;
    qts_cache_warm_done_fn done;
    void *arg;
    size_t next; /* next pattern */
    size_t n;
    int status;
};

static int scan_next(struct warm *w);

static void on_entry(void *arg, int status, struct qts_str key, const struct qts_str *fields,
                     const struct qts_str *values, size_t n, bool done)
{
    struct warm *w = arg;
    if (!done) {
        char k[512];
        size_t kn = QTS_MIN(key.n, sizeof k - 1);
        memcpy(k, key.p, kn);
        k[kn] = '\0';
        w->n++;
        w->entry(w->arg, k, fields, values, n);
        return;
    }
    if (status < 0 && w->status == 0)
        w->status = status;
    int rc = w->status < 0 ? w->status : scan_next(w);
    if (rc != 0) {
        /* finished (rc 1) or failed: report once */
        w->done(w->arg, rc < 0 ? rc : 0, w->n);
        free(w);
    }
}

/* 0 = a scan was started (its callback continues), 1 = nothing left,
 * negative = error. */
static int scan_next(struct warm *w)
{
    if (w->next >= QTS_ARRAY_LEN(PATTERNS))
        return 1;
    const char *p = PATTERNS[w->next++];
    return w->ops->scan_hashes(w->self, (struct qts_str){p, strlen(p)}, on_entry, w);
}

int qts_cache_warm_start(const struct qts_cache_ops *ops, void *self, qts_cache_warm_entry_fn entry,
                         qts_cache_warm_done_fn done, void *arg)
{
    if (!ops || !entry || !done)
        return QTS_EINVAL;
    if (!QTS_HAS(ops, scan_hashes))
        return QTS_EUNSUPPORTED;
    struct warm *w = qts_xcalloc(1, sizeof *w);
    w->ops = ops;
    w->self = self;
    w->entry = entry;
    w->done = done;
    w->arg = arg;
    /* the first scan is started here so its error is returned directly;
     * a plugin answering synchronously (cache_memory) may finish inside */
    w->next = 1;
    int rc =
        ops->scan_hashes(self, (struct qts_str){PATTERNS[0], strlen(PATTERNS[0])}, on_entry, w);
    if (rc < 0) {
        free(w);
        return rc;
    }
    return 0;
}

static const struct qts_str *find(const struct qts_str *fields, const struct qts_str *values,
                                  size_t n, const char *name)
{
    size_t l = strlen(name);
    for (size_t i = 0; i < n; i++)
        if (fields[i].n == l && memcmp(fields[i].p, name, l) == 0)
            return &values[i];
    return NULL;
}

int qts_cache_field_fixed(const struct qts_str *fields, const struct qts_str *values, size_t n,
                          const char *name, unsigned exp, int64_t *out)
{
    const struct qts_str *v = find(fields, values, n, name);
    if (!v)
        return QTS_ENOENT;
    return qts_parse_fixed(v->p, v->n, exp, out) < 0 ? QTS_EPARSE : 0;
}

int qts_cache_field_str(const struct qts_str *fields, const struct qts_str *values, size_t n,
                        const char *name, char *buf, size_t cap)
{
    const struct qts_str *v = find(fields, values, n, name);
    if (!v)
        return QTS_ENOENT;
    size_t l = QTS_MIN(v->n, cap - 1);
    memcpy(buf, v->p, l);
    buf[l] = '\0';
    return 0;
}
