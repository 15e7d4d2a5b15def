/* bn_book.h — the feed's own copy of one symbol's L2 book, kept only to
 * check the synchronisation: after each depth diff it records the top of
 * the book under the diff's last update id, and every bookTicker that
 * carries one of those ids is compared with it (price and quantity, both
 * sides). The host keeps the book it trades on (market/book.c); this one
 * proves that what the feed hands it is a consistent sequence. */
#ifndef QTS_BN_BOOK_H
#define QTS_BN_BOOK_H

#include <stdbool.h>
#include <stdint.h>

#include "qts/qts_types.h"

struct bn_top {
    uint64_t u;
    int64_t bid_px, bid_qty, ask_px, ask_qty;
};

#define BN_TOPS 2048   /* tops of recent diffs kept, by update id */
#define BN_PENDING 512 /* bookTickers waiting for the diff of their id */

struct bn_book {
    struct qts_level *bids, *asks; /* owned, ascending by price */
    uint32_t nb, na, capb, capa;
    struct bn_top tops[BN_TOPS]; /* ring, ascending u */
    uint32_t tops_head, tops_n;
    struct bn_top pending[BN_PENDING]; /* ring, ascending u */
    uint32_t pend_head, pend_n;
    uint64_t checks, mismatches;
    struct bn_top bad_book, bad_ticker; /* the latest mismatch */
};

void bn_book_free(struct bn_book *b);
/* Replaces the book with a snapshot (forgets the recorded tops). */
void bn_book_snapshot(struct bn_book *b, const struct qts_book_update *s);
/* Applies a diff and records the top under its last update id; checks the
 * bookTickers that waited for that id. Returns the mismatches found. */
uint32_t bn_book_diff(struct bn_book *b, const struct qts_book_update *d);
/* Checks a bookTicker against the top recorded under its update id, or
 * keeps it until a diff reaches that id. Returns 1 on a mismatch. */
uint32_t bn_book_ticker(struct bn_book *b, const struct qts_quote *q, uint64_t last_u);

#endif
