/* bn_book.c — see bn_book.h. */
#include "bn_book.h"

#include <stdlib.h>
#include <string.h>

void bn_book_free(struct bn_book *b)
{
    free(b->bids);
    free(b->asks);
    memset(b, 0, sizeof *b);
}

/* Index of the first level with px >= `px` (binary search). */
static uint32_t lower(const struct qts_level *v, uint32_t n, int64_t px)
{
    uint32_t lo = 0, hi = n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (v[mid].px < px)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void set_level(struct qts_level **v, uint32_t *n, uint32_t *cap, int64_t px, int64_t qty)
{
    uint32_t i = lower(*v, *n, px);
    bool found = i < *n && (*v)[i].px == px;
    if (qty == 0) {
        if (found) {
            memmove(*v + i, *v + i + 1, (*n - i - 1) * sizeof **v);
            (*n)--;
        }
        return;
    }
    if (found) {
        (*v)[i].qty = qty;
        return;
    }
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 256;
        *v = realloc(*v, *cap * sizeof **v);
        if (!*v)
            abort();
    }
    memmove(*v + i + 1, *v + i, (*n - i) * sizeof **v);
    (*v)[i].px = px;
    (*v)[i].qty = qty;
    (*n)++;
}

static struct bn_top top_of(const struct bn_book *b, uint64_t u)
{
    struct bn_top t = {.u = u};
    if (b->nb) {
        t.bid_px = b->bids[b->nb - 1].px;
        t.bid_qty = b->bids[b->nb - 1].qty;
    }
    if (b->na) {
        t.ask_px = b->asks[0].px;
        t.ask_qty = b->asks[0].qty;
    }
    return t;
}

static bool same(const struct bn_top *a, const struct bn_top *q)
{
    return a->bid_px == q->bid_px && a->bid_qty == q->bid_qty && a->ask_px == q->ask_px &&
           a->ask_qty == q->ask_qty;
}

static void record(struct bn_book *b, uint64_t u)
{
    uint32_t at = (b->tops_head + b->tops_n) % BN_TOPS;
    if (b->tops_n == BN_TOPS)
        b->tops_head = (b->tops_head + 1) % BN_TOPS;
    else
        b->tops_n++;
    b->tops[at] = top_of(b, u);
}

void bn_book_snapshot(struct bn_book *b, const struct qts_book_update *s)
{
    b->nb = b->na = 0;
    b->tops_n = b->tops_head = 0;
    for (uint32_t i = 0; i < s->n_bids; i++)
        set_level(&b->bids, &b->nb, &b->capb, s->bids[i].px, s->bids[i].qty);
    for (uint32_t i = 0; i < s->n_asks; i++)
        set_level(&b->asks, &b->na, &b->capa, s->asks[i].px, s->asks[i].qty);
    record(b, s->last_update_id);
}

uint32_t bn_book_diff(struct bn_book *b, const struct qts_book_update *d)
{
    for (uint32_t i = 0; i < d->n_bids; i++)
        set_level(&b->bids, &b->nb, &b->capb, d->bids[i].px, d->bids[i].qty);
    for (uint32_t i = 0; i < d->n_asks; i++)
        set_level(&b->asks, &b->na, &b->capa, d->asks[i].px, d->asks[i].qty);
    record(b, d->last_update_id);
    struct bn_top t = top_of(b, d->last_update_id);
    uint32_t bad = 0;
    /* tickers up to this id are settled: equal ids are checked, the ones
     * inside the diff's range never will be */
    while (b->pend_n && b->pending[b->pend_head].u <= d->last_update_id) {
        const struct bn_top *q = &b->pending[b->pend_head];
        if (q->u == d->last_update_id) {
            b->checks++;
            if (!same(&t, q)) {
                b->mismatches++;
                b->bad_book = t;
                b->bad_ticker = *q;
                bad++;
            }
        }
        b->pend_head = (b->pend_head + 1) % BN_PENDING;
        b->pend_n--;
    }
    return bad;
}

uint32_t bn_book_ticker(struct bn_book *b, const struct qts_quote *q, uint64_t last_u)
{
    struct bn_top t = {q->update_id, q->bid_px, q->bid_qty, q->ask_px, q->ask_qty};
    if (q->update_id > last_u) {
        uint32_t at = (b->pend_head + b->pend_n) % BN_PENDING;
        if (b->pend_n == BN_PENDING)
            b->pend_head = (b->pend_head + 1) % BN_PENDING;
        else
            b->pend_n++;
        b->pending[at] = t;
        return 0;
    }
    /* binary search of the ring, ascending by u */
    uint32_t lo = 0, hi = b->tops_n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (b->tops[(b->tops_head + mid) % BN_TOPS].u < t.u)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == b->tops_n || b->tops[(b->tops_head + lo) % BN_TOPS].u != t.u)
        return 0; /* inside a diff's range or before the kept ones: no check */
    b->checks++;
    if (same(&b->tops[(b->tops_head + lo) % BN_TOPS], &t))
        return 0;
    b->mismatches++;
    b->bad_book = b->tops[(b->tops_head + lo) % BN_TOPS];
    b->bad_ticker = t;
    return 1;
}
