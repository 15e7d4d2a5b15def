/* bar_history.c — immutable-after-start store of warm-up bars
 * (bar_history.h). A short list of series searched linearly: a strategy
 * asks for history at start, not per event. */
#include "bar_history.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

struct series {
    char symbol[QTS_SYMBOL_MAX];
    int64_t period_ns;
    struct qts_bar *v; /* owned, oldest first */
    size_t n;
};

struct qts_bar_history {
    struct series *s; /* owned */
    size_t n;
};

struct qts_bar_history *qts_bar_history_new(void)
{
    return qts_xcalloc(1, sizeof(struct qts_bar_history));
}

void qts_bar_history_free(struct qts_bar_history *h)
{
    if (!h)
        return;
    for (size_t i = 0; i < h->n; i++)
        free(h->s[i].v);
    free(h->s);
    free(h);
}

static struct series *find(const struct qts_bar_history *h, const char *symbol, int64_t period_ns)
{
    for (size_t i = 0; i < h->n; i++)
        if (h->s[i].period_ns == period_ns && strcmp(h->s[i].symbol, symbol) == 0)
            return &h->s[i];
    return NULL;
}

void qts_bar_history_put(struct qts_bar_history *h, const char *symbol, int64_t period_ns,
                         const struct qts_bar *bars, size_t n)
{
    struct series *s = find(h, symbol, period_ns);
    if (!s) {
        h->s = qts_xrealloc(h->s, (h->n + 1) * sizeof *h->s);
        s = &h->s[h->n++];
        memset(s, 0, sizeof *s);
        qts_strlcpy(s->symbol, symbol, sizeof s->symbol);
        s->period_ns = period_ns;
    }
    free(s->v);
    s->v = n ? qts_xmalloc(n * sizeof *s->v) : NULL;
    if (n)
        memcpy(s->v, bars, n * sizeof *s->v);
    s->n = n;
}

size_t qts_bar_history_get(const struct qts_bar_history *h, const char *symbol, int64_t period_ns,
                           int64_t now_ns, struct qts_bar *out, size_t cap)
{
    const struct series *s = h ? find(h, symbol, period_ns) : NULL;
    if (!s || cap == 0)
        return 0;
    /* bars are oldest first: the closed ones are a prefix */
    size_t end = s->n;
    while (end > 0 && s->v[end - 1].h.ts_exch_ns + period_ns > now_ns)
        end--;
    size_t n = end < cap ? end : cap;
    if (n) /* a series with no bar has no array */
        memcpy(out, s->v + (end - n), n * sizeof *out);
    return n;
}

size_t qts_bar_history_total(const struct qts_bar_history *h)
{
    size_t t = 0;
    for (size_t i = 0; h && i < h->n; i++)
        t += h->s[i].n;
    return t;
}
