/* report_select.c — see report_select.h. */
#include "report_select.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

/* Doubles as unsigned keys in the same order (negatives reversed). */
static uint64_t key_of(double v)
{
    uint64_t u;
    memcpy(&u, &v, sizeof u);
    return u >> 63 ? ~u : u | (UINT64_C(1) << 63);
}

static double value_of(uint64_t k)
{
    uint64_t u = k >> 63 ? k & ~(UINT64_C(1) << 63) : ~k;
    double v;
    memcpy(&v, &u, sizeof v);
    return v;
}

/* Width of one bucket of [lo, hi] (at least 1). */
static uint64_t width_of(const struct qts_sel *s) { return (s->hi - s->lo) / QTS_SEL_BUCKETS + 1; }

void qts_sel_init(struct qts_sel *s, uint64_t k)
{
    memset(s, 0, sizeof *s);
    s->k = k;
    s->hi = UINT64_MAX;
    s->counts = qts_xcalloc(QTS_SEL_BUCKETS, sizeof *s->counts);
}

void qts_sel_feed(struct qts_sel *s, double v)
{
    if (s->done)
        return;
    uint64_t key = key_of(v);
    if (key < s->lo) {
        s->seen++; /* counted in `below` already */
        return;
    }
    if (key > s->hi)
        return;
    s->seen++;
    if (s->collect) {
        if (s->n_vals < s->cap_vals)
            s->vals[s->n_vals] = v;
        s->n_vals++;
    } else {
        s->counts[(key - s->lo) / width_of(s)]++;
    }
}

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int qts_sel_end_pass(struct qts_sel *s)
{
    if (s->done)
        return 1;
    uint64_t seen = s->seen;
    s->seen = 0;
    if (s->collect) {
        uint64_t r = s->k - s->below;
        if (s->n_vals != s->cap_vals || r >= s->n_vals)
            return -1;
        qsort(s->vals, s->n_vals, sizeof *s->vals, cmp_dbl);
        s->value = s->vals[r];
        s->done = true;
        qts_sel_free(s);
        return 1;
    }
    if (s->k >= seen)
        return -1;
    uint64_t w = width_of(s), acc = s->below;
    size_t b = 0;
    while (b < QTS_SEL_BUCKETS && acc + s->counts[b] <= s->k)
        acc += s->counts[b++];
    if (b == QTS_SEL_BUCKETS)
        return -1;
    uint64_t n_in = s->counts[b];
    s->below = acc;
    s->lo += (uint64_t)b * w;
    s->hi = w - 1 > s->hi - s->lo ? s->hi : s->lo + (w - 1);
    if (s->lo == s->hi) { /* one key left: every value in it is the answer */
        s->value = value_of(s->lo);
        s->done = true;
        qts_sel_free(s);
        return 1;
    }
    if (n_in <= QTS_SEL_COLLECT) {
        free(s->counts);
        s->counts = NULL;
        s->collect = true;
        s->vals = qts_xmalloc((n_in ? n_in : 1) * sizeof *s->vals);
        s->n_vals = 0;
        s->cap_vals = n_in;
    } else {
        memset(s->counts, 0, QTS_SEL_BUCKETS * sizeof *s->counts);
    }
    return 0;
}

void qts_sel_free(struct qts_sel *s)
{
    free(s->counts);
    free(s->vals);
    s->counts = NULL;
    s->vals = NULL;
}
