/* book.c — see book.h. */
#include "book.h"

#include <stdlib.h>
#include <string.h>

#include "qts/qts_err.h"
#include "util.h"

void qts_book_init(struct qts_book *b) { memset(b, 0, sizeof *b); }

void qts_book_cleanup(struct qts_book *b)
{
    free(b->bid);
    free(b->ask);
    free(b->pend);
    free(b->pend_lv);
    memset(b, 0, sizeof *b);
}

void qts_book_clear(struct qts_book *b)
{
    b->n_bid = b->n_ask = 0;
    b->last_update_id = 0;
    b->has_snapshot = false;
    b->is_stale = false;
    b->need_first = false;
    b->n_pend = b->n_pend_lv = 0;
}

static void pend_push(struct qts_book *b, const struct qts_book_update *u)
{
    if (b->n_pend == QTS_BOOK_MAX_PENDING) { /* drop the older half */
        size_t k = b->n_pend / 2, off = b->pend[k].off;
        memmove(b->pend, b->pend + k, (b->n_pend - k) * sizeof *b->pend);
        b->n_pend -= k;
        memmove(b->pend_lv, b->pend_lv + off, (b->n_pend_lv - off) * sizeof *b->pend_lv);
        b->n_pend_lv -= off;
        for (size_t i = 0; i < b->n_pend; i++)
            b->pend[i].off -= off;
    }
    if (b->n_pend == b->cap_pend) {
        b->cap_pend = b->cap_pend ? b->cap_pend * 2 : 16;
        b->pend = qts_xrealloc(b->pend, b->cap_pend * sizeof *b->pend);
    }
    size_t need = b->n_pend_lv + u->n_bids + u->n_asks;
    if (need > b->cap_pend_lv) {
        size_t c = b->cap_pend_lv ? b->cap_pend_lv : 256;
        while (c < need)
            c *= 2;
        b->pend_lv = qts_xrealloc(b->pend_lv, c * sizeof *b->pend_lv);
        b->cap_pend_lv = c;
    }
    struct qts_book_pending *p = &b->pend[b->n_pend++];
    p->first = u->first_update_id;
    p->last = u->last_update_id;
    p->prev = u->prev_update_id;
    p->flags = u->h.flags;
    p->n_bids = u->n_bids;
    p->n_asks = u->n_asks;
    p->off = b->n_pend_lv;
    if (u->n_bids)
        memcpy(b->pend_lv + b->n_pend_lv, u->bids, u->n_bids * sizeof *u->bids);
    b->n_pend_lv += u->n_bids;
    if (u->n_asks)
        memcpy(b->pend_lv + b->n_pend_lv, u->asks, u->n_asks * sizeof *u->asks);
    b->n_pend_lv += u->n_asks;
}

static void reserve(struct qts_level **v, uint32_t *cap, uint32_t need)
{
    if (need <= *cap)
        return;
    uint32_t c = *cap ? *cap : 64;
    while (c < need)
        c *= 2;
    *v = qts_xrealloc(*v, (size_t)c * sizeof **v);
    *cap = c;
}

/* Index of the first element not "better-ordered" than px: for the bid array
 * (ascending) the first with px >= key; for asks (descending) the first with
 * px <= key. Searching from the top end first: most updates are near it. */
static uint32_t find_pos(const struct qts_level *v, uint32_t n, int64_t px, bool asc)
{
    uint32_t lo = 0, hi = n;
    /* quick check of the top few levels */
    while (hi > 0 && hi + 8 > n) {
        int64_t p = v[hi - 1].px;
        if (asc ? p < px : p > px)
            return hi;
        hi--;
    }
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        int64_t p = v[mid].px;
        if (asc ? p < px : p > px)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void set_level(struct qts_level **v, uint32_t *n, uint32_t *cap, bool asc, int64_t px,
                      int64_t qty)
{
    uint32_t i = find_pos(*v, *n, px, asc);
    if (i < *n && (*v)[i].px == px) {
        if (qty > 0) {
            (*v)[i].qty = qty;
        } else {
            memmove(*v + i, *v + i + 1, (size_t)(*n - i - 1) * sizeof **v);
            (*n)--;
        }
        return;
    }
    if (qty <= 0)
        return;
    reserve(v, cap, *n + 1);
    memmove(*v + i + 1, *v + i, (size_t)(*n - i) * sizeof **v);
    (*v)[i].px = px;
    (*v)[i].qty = qty;
    (*n)++;
}

void qts_book_set(struct qts_book *b, int side, int64_t px, int64_t qty)
{
    if (side == QTS_SIDE_BUY)
        set_level(&b->bid, &b->n_bid, &b->cap_bid, true, px, qty);
    else
        set_level(&b->ask, &b->n_ask, &b->cap_ask, false, px, qty);
}

static int cmp_asc(const void *a, const void *b)
{
    int64_t x = ((const struct qts_level *)a)->px, y = ((const struct qts_level *)b)->px;
    return (x > y) - (x < y);
}

static int cmp_desc(const void *a, const void *b) { return cmp_asc(b, a); }

static void load_side(struct qts_level **v, uint32_t *n, uint32_t *cap, bool asc,
                      const struct qts_level *src, uint32_t k)
{
    reserve(v, cap, k);
    uint32_t m = 0;
    /* Venues send snapshots best first: store reversed, then verify order. */
    for (uint32_t i = k; i-- > 0;)
        if (src[i].qty > 0)
            (*v)[m++] = src[i];
    bool sorted = true;
    for (uint32_t i = 1; i < m && sorted; i++)
        sorted = asc ? (*v)[i - 1].px < (*v)[i].px : (*v)[i - 1].px > (*v)[i].px;
    if (!sorted) {
        qsort(*v, m, sizeof **v, asc ? cmp_asc : cmp_desc);
        uint32_t w = 0; /* duplicates: keep the last one */
        for (uint32_t i = 0; i < m; i++) {
            if (w > 0 && (*v)[w - 1].px == (*v)[i].px)
                (*v)[w - 1] = (*v)[i];
            else
                (*v)[w++] = (*v)[i];
        }
        m = w;
    }
    *n = m;
}

static void apply_levels(struct qts_book *b, const struct qts_book_update *u)
{
    for (uint32_t i = 0; i < u->n_bids; i++)
        set_level(&b->bid, &b->n_bid, &b->cap_bid, true, u->bids[i].px, u->bids[i].qty);
    for (uint32_t i = 0; i < u->n_asks; i++)
        set_level(&b->ask, &b->n_ask, &b->cap_ask, false, u->asks[i].px, u->asks[i].qty);
}

int qts_book_apply(struct qts_book *b, const struct qts_book_update *u)
{
    if (!u || (u->n_bids && !u->bids) || (u->n_asks && !u->asks))
        return QTS_EINVAL;
    if (u->h.flags & QTS_BOOK_SNAPSHOT) {
        load_side(&b->bid, &b->n_bid, &b->cap_bid, true, u->bids, u->n_bids);
        load_side(&b->ask, &b->n_ask, &b->cap_ask, false, u->asks, u->n_asks);
        if (b->is_stale)
            b->n_resyncs++;
        b->is_stale = false;
        b->has_snapshot = true;
        b->need_first = u->last_update_id != 0;
        b->last_update_id = u->last_update_id;
        b->n_applied++;
        /* replay what arrived before the snapshot; the rules drop the old */
        size_t n = b->n_pend, i;
        b->n_pend = 0;
        for (i = 0; i < n && !b->is_stale; i++) {
            const struct qts_book_pending *p = &b->pend[i];
            struct qts_book_update d;
            memset(&d, 0, sizeof d);
            d.h.flags = p->flags;
            d.first_update_id = p->first;
            d.last_update_id = p->last;
            d.prev_update_id = p->prev;
            d.n_bids = p->n_bids;
            d.n_asks = p->n_asks;
            d.bids = b->pend_lv + p->off;
            d.asks = b->pend_lv + p->off + p->n_bids;
            qts_book_apply(b, &d);
        }
        if (b->is_stale && i > 0) { /* keep the failing diff and the rest */
            i--;
            size_t off = b->pend[i].off;
            memmove(b->pend, b->pend + i, (n - i) * sizeof *b->pend);
            memmove(b->pend_lv, b->pend_lv + off, (b->n_pend_lv - off) * sizeof *b->pend_lv);
            b->n_pend = n - i;
            b->n_pend_lv -= off;
            for (size_t k = 0; k < b->n_pend; k++)
                b->pend[k].off -= off;
        } else {
            b->n_pend = b->n_pend_lv = 0;
        }
        return QTS_BOOK_APPLIED;
    }
    uint64_t U = u->first_update_id, last = u->last_update_id;
    if (last == 0) { /* unsequenced source */
        apply_levels(b, u);
        b->n_applied++;
        return QTS_BOOK_APPLIED;
    }
    if (!b->has_snapshot || b->is_stale) {
        pend_push(b, u);
        return QTS_BOOK_WAITING;
    }
    bool fut = (u->h.flags & QTS_BOOK_HAS_PREV) != 0;
    uint64_t L = b->last_update_id;
    if (fut ? last < L : last <= L) {
        b->n_dropped_old++;
        return QTS_BOOK_OLD;
    }
    bool ok;
    if (b->need_first)
        ok = fut ? (U <= L && last >= L) : (U <= L + 1 && last >= L + 1);
    else
        ok = fut ? u->prev_update_id == L : U == L + 1;
    if (!ok) {
        b->is_stale = true;
        b->n_gaps++;
        return QTS_BOOK_GAP;
    }
    apply_levels(b, u);
    b->need_first = false;
    b->last_update_id = last;
    b->n_applied++;
    return QTS_BOOK_APPLIED;
}

bool qts_book_best_bid(const struct qts_book *b, struct qts_level *out)
{
    if (!b->n_bid) {
        out->px = out->qty = 0;
        return false;
    }
    *out = b->bid[b->n_bid - 1];
    return true;
}

bool qts_book_best_ask(const struct qts_book *b, struct qts_level *out)
{
    if (!b->n_ask) {
        out->px = out->qty = 0;
        return false;
    }
    *out = b->ask[b->n_ask - 1];
    return true;
}

size_t qts_book_depth(const struct qts_book *b, int side, struct qts_level *out, size_t n)
{
    const struct qts_level *v = side == QTS_SIDE_BUY ? b->bid : b->ask;
    size_t m = side == QTS_SIDE_BUY ? b->n_bid : b->n_ask;
    size_t k = n < m ? n : m;
    for (size_t i = 0; i < k; i++)
        out[i] = v[m - 1 - i];
    return k;
}

size_t qts_book_levels(const struct qts_book *b, int side)
{
    return side == QTS_SIDE_BUY ? b->n_bid : b->n_ask;
}

void qts_book_set_init(struct qts_book_set *s)
{
    s->v = NULL;
    s->n = 0;
}

void qts_book_set_cleanup(struct qts_book_set *s)
{
    for (size_t i = 0; i < s->n; i++) {
        if (s->v[i]) {
            qts_book_cleanup(s->v[i]);
            free(s->v[i]);
        }
    }
    free(s->v);
    s->v = NULL;
    s->n = 0;
}

struct qts_book *qts_book_set_get(struct qts_book_set *s, uint32_t instrument)
{
    if (instrument >= s->n) {
        size_t n = (size_t)instrument + 1;
        n = n < 2 * s->n ? 2 * s->n : n;
        s->v = qts_xrealloc(s->v, n * sizeof *s->v);
        memset(s->v + s->n, 0, (n - s->n) * sizeof *s->v);
        s->n = n;
    }
    if (!s->v[instrument]) {
        s->v[instrument] = qts_xmalloc(sizeof *s->v[instrument]);
        qts_book_init(s->v[instrument]);
    }
    return s->v[instrument];
}

const struct qts_book *qts_book_set_find(const struct qts_book_set *s, uint32_t instrument)
{
    return instrument < s->n ? s->v[instrument] : NULL;
}

int qts_book_set_apply(struct qts_book_set *s, const struct qts_book_update *u)
{
    if (!u)
        return QTS_EINVAL;
    return qts_book_apply(qts_book_set_get(s, u->h.instrument), u);
}
