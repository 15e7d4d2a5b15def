/* book.h — L2 order book per instrument, built from snapshots and diffs.
 *
 * Levels are kept in two sorted arrays with the best price at the END
 * (bids ascending, asks descending), so the frequent changes near the top
 * move few bytes. Sequencing follows Binance's local-order-book rules:
 * - spot: drop diffs with u <= lastUpdateId; the first diff after a snapshot
 *   must have U <= lastUpdateId+1 <= u; afterwards U == previous u + 1.
 * - futures (QTS_BOOK_HAS_PREV set on the diff): drop u < lastUpdateId; the
 *   first diff must have U <= lastUpdateId <= u; afterwards pu == previous u.
 * A gap marks the book stale; it stays stale until the next snapshot, which
 * counts as a resync. While there is no usable snapshot (at the start, or
 * stale) diffs are buffered, as Binance prescribes (the bridging diff is
 * usually received before the snapshot), and replayed onto the next snapshot;
 * the buffer keeps the newest QTS_BOOK_MAX_PENDING diffs. Updates with last_update_id == 0 carry
 * no sequence and are applied as they come (CSV, synthetic without ids).
 */
#ifndef QTS_BOOK_H
#define QTS_BOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "qts/qts_types.h"

/* Outcome of qts_book_apply (all >= 0; negative = invalid argument). */
enum qts_book_result {
    QTS_BOOK_APPLIED = 0, /* the book changed (or a snapshot replaced it) */
    QTS_BOOK_OLD = 1,     /* diff older than the book: dropped, no harm */
    QTS_BOOK_WAITING = 2, /* no snapshot yet, or stale: diff buffered */
    QTS_BOOK_GAP = 3,     /* sequence gap: the book is now stale */
};

#define QTS_BOOK_MAX_PENDING 1024

struct qts_book_pending {
    uint64_t first, last, prev;
    uint32_t flags, n_bids, n_asks;
    size_t off; /* into levels */
};

struct qts_book {
    struct qts_level *bid; /* owned; ascending, best = bid[n_bid-1] */
    struct qts_level *ask; /* owned; descending, best = ask[n_ask-1] */
    uint32_t n_bid, cap_bid, n_ask, cap_ask;
    uint64_t last_update_id; /* u of the last applied diff or snapshot */
    bool has_snapshot;
    bool is_stale;
    bool need_first;    /* next diff is the first after a snapshot */
    uint64_t n_resyncs; /* snapshots applied after a gap */
    uint64_t n_gaps;
    uint64_t n_dropped_old;
    uint64_t n_applied;
    /* diffs buffered while waiting for a snapshot (owned) */
    struct qts_book_pending *pend;
    size_t n_pend, cap_pend;
    struct qts_level *pend_lv;
    size_t n_pend_lv, cap_pend_lv;
};

void qts_book_init(struct qts_book *b);
void qts_book_cleanup(struct qts_book *b);
/* Remove every level and forget the sequence state. */
void qts_book_clear(struct qts_book *b);

/* Apply a snapshot (QTS_BOOK_SNAPSHOT in u->h.flags) or a diff. `u` and its
 * level arrays are borrowed for the call. Returns enum qts_book_result or
 * QTS_EINVAL. A level with qty 0 deletes the price; a snapshot drops them. */
int qts_book_apply(struct qts_book *b, const struct qts_book_update *u);

/* Set one level directly (qty 0 deletes). side: QTS_SIDE_BUY / QTS_SIDE_SELL. */
void qts_book_set(struct qts_book *b, int side, int64_t px, int64_t qty);

/* Best bid / ask; false (and *out zeroed) if that side is empty. */
bool qts_book_best_bid(const struct qts_book *b, struct qts_level *out);
bool qts_book_best_ask(const struct qts_book *b, struct qts_level *out);

/* Copy up to `n` levels of one side, best first, into `out` (caller's
 * storage); returns the number copied. */
size_t qts_book_depth(const struct qts_book *b, int side, struct qts_level *out, size_t n);
/* Number of levels on one side. */
size_t qts_book_levels(const struct qts_book *b, int side);

/* Books of all instruments, indexed by instrument id (dense ids). */
struct qts_book_set {
    struct qts_book **v; /* owned; NULL where no book yet */
    size_t n;
};

void qts_book_set_init(struct qts_book_set *s);
void qts_book_set_cleanup(struct qts_book_set *s);
/* The book of `instrument`, created empty on first use (borrowed, valid until
 * cleanup). */
struct qts_book *qts_book_set_get(struct qts_book_set *s, uint32_t instrument);
/* The book of `instrument` or NULL (borrowed). */
const struct qts_book *qts_book_set_find(const struct qts_book_set *s, uint32_t instrument);
/* qts_book_apply on the book of u->h.instrument. */
int qts_book_set_apply(struct qts_book_set *s, const struct qts_book_update *u);

#endif /* QTS_BOOK_H */
