/* test_book.c — the L2 book: levels, top and depth, Binance sequencing rules
 * (spot and futures), gaps, buffering before the snapshot, resync. */
#include "test_support.h"

#include <string.h>

#include "book.h"
#include "qts/qts_err.h"

static struct qts_book_update upd(uint32_t flags, uint64_t U, uint64_t u, uint64_t pu,
                                  const struct qts_level *b, uint32_t nb, const struct qts_level *a,
                                  uint32_t na)
{
    struct qts_book_update x;
    memset(&x, 0, sizeof x);
    x.h.type = QTS_EV_BOOK;
    x.h.flags = flags;
    x.first_update_id = U;
    x.last_update_id = u;
    x.prev_update_id = pu;
    x.bids = b;
    x.n_bids = nb;
    x.asks = a;
    x.n_asks = na;
    return x;
}

static const struct qts_level SB[] = {{100, 5}, {99, 3}, {97, 1}};
static const struct qts_level SA[] = {{101, 4}, {102, 2}, {105, 7}};

static void snapshot(struct qts_book *b, uint64_t lid, uint32_t flags)
{
    struct qts_book_update s = upd(QTS_BOOK_SNAPSHOT | flags, 0, lid, 0, SB, 3, SA, 3);
    assert_int_equal(qts_book_apply(b, &s), QTS_BOOK_APPLIED);
}

static void test_levels_top_depth(void **state)
{
    (void)state;
    struct qts_book b;
    qts_book_init(&b);
    snapshot(&b, 10, 0);
    struct qts_level bid, ask, d[8];
    assert_true(qts_book_best_bid(&b, &bid));
    assert_true(qts_book_best_ask(&b, &ask));
    assert_int_equal(bid.px, 100);
    assert_int_equal(bid.qty, 5);
    assert_int_equal(ask.px, 101);
    assert_int_equal(ask.qty, 4);
    /* diff: new best bid, delete best ask, change a deep level */
    struct qts_level db[] = {{100, 0}, {100, 0}, {98, 6}, {100, 0}};
    struct qts_level nb2[] = {{100, 9}};
    struct qts_level da[] = {{101, 0}, {105, 8}, {103, 1}};
    struct qts_book_update u = upd(0, 11, 12, 0, nb2, 1, da, 3);
    assert_int_equal(qts_book_apply(&b, &u), QTS_BOOK_APPLIED);
    qts_book_best_ask(&b, &ask);
    assert_int_equal(ask.px, 102);
    assert_int_equal(qts_book_depth(&b, QTS_SIDE_SELL, d, 8), 3);
    assert_int_equal(d[1].px, 103);
    assert_int_equal(d[2].qty, 8);
    u = upd(0, 13, 13, 0, db, 4, NULL, 0);
    assert_int_equal(qts_book_apply(&b, &u), QTS_BOOK_APPLIED);
    assert_int_equal(qts_book_depth(&b, QTS_SIDE_BUY, d, 2), 2);
    assert_int_equal(d[0].px, 99);
    assert_int_equal(d[1].px, 98);
    assert_int_equal(d[1].qty, 6);
    assert_int_equal(qts_book_levels(&b, QTS_SIDE_BUY), 3);
    assert_int_equal(b.last_update_id, 13);
    qts_book_cleanup(&b);
}

static void test_spot_sequence_gap_resync(void **state)
{
    (void)state;
    struct qts_book b;
    qts_book_init(&b);
    struct qts_level l = {100, 1};
    /* before any snapshot: buffered */
    struct qts_book_update early = upd(0, 5, 12, 0, &l, 1, NULL, 0);
    assert_int_equal(qts_book_apply(&b, &early), QTS_BOOK_WAITING);
    struct qts_book_update old = upd(0, 1, 4, 0, &l, 1, NULL, 0);
    assert_int_equal(qts_book_apply(&b, &old), QTS_BOOK_WAITING);
    /* snapshot at 10: the buffered 5..12 bridges (U <= 11 <= u) and applies */
    snapshot(&b, 10, 0);
    assert_int_equal(b.last_update_id, 12);
    struct qts_level bid;
    qts_book_best_bid(&b, &bid);
    assert_int_equal(bid.qty, 1);
    /* duplicates are old */
    assert_int_equal(qts_book_apply(&b, &early), QTS_BOOK_OLD);
    struct qts_book_update next = upd(0, 13, 15, 0, &l, 1, NULL, 0);
    assert_int_equal(qts_book_apply(&b, &next), QTS_BOOK_APPLIED);
    /* gap: 17 instead of 16 */
    struct qts_book_update gap = upd(0, 17, 18, 0, &l, 1, NULL, 0);
    assert_int_equal(qts_book_apply(&b, &gap), QTS_BOOK_GAP);
    assert_true(b.is_stale);
    assert_int_equal(b.n_gaps, 1);
    struct qts_book_update more = upd(0, 19, 20, 0, &l, 1, NULL, 0);
    assert_int_equal(qts_book_apply(&b, &more), QTS_BOOK_WAITING);
    /* resync: snapshot at 18, buffered 19..20 follows */
    snapshot(&b, 18, 0);
    assert_false(b.is_stale);
    assert_int_equal(b.n_resyncs, 1);
    assert_int_equal(b.last_update_id, 20);
    qts_book_cleanup(&b);
}

static void test_spot_first_diff_must_bridge(void **state)
{
    (void)state;
    struct qts_book b;
    qts_book_init(&b);
    snapshot(&b, 10, 0);
    struct qts_level l = {100, 1};
    struct qts_book_update late = upd(0, 12, 14, 0, &l, 1, NULL, 0); /* 11 missing */
    assert_int_equal(qts_book_apply(&b, &late), QTS_BOOK_GAP);
    assert_true(b.is_stale);
    qts_book_cleanup(&b);
}

static void test_futures_pu_rule(void **state)
{
    (void)state;
    struct qts_book b;
    qts_book_init(&b);
    snapshot(&b, 100, 0);
    struct qts_level l = {100, 2};
    struct qts_book_update old = upd(QTS_BOOK_HAS_PREV, 80, 99, 79, &l, 1, NULL, 0);
    assert_int_equal(qts_book_apply(&b, &old), QTS_BOOK_OLD);
    struct qts_book_update first = upd(QTS_BOOK_HAS_PREV, 95, 120, 94, &l, 1, NULL, 0);
    assert_int_equal(qts_book_apply(&b, &first), QTS_BOOK_APPLIED);
    struct qts_book_update ok = upd(QTS_BOOK_HAS_PREV, 130, 140, 120, &l, 1, NULL, 0);
    assert_int_equal(qts_book_apply(&b, &ok), QTS_BOOK_APPLIED);
    struct qts_book_update bad = upd(QTS_BOOK_HAS_PREV, 150, 160, 145, &l, 1, NULL, 0);
    assert_int_equal(qts_book_apply(&b, &bad), QTS_BOOK_GAP);
    assert_true(b.is_stale);
    qts_book_cleanup(&b);
}

static void test_unsorted_snapshot_and_many_levels(void **state)
{
    (void)state;
    struct qts_book b;
    qts_book_init(&b);
    struct qts_level bids[1000], asks[1000];
    for (int i = 0; i < 1000; i++) { /* scrambled order */
        int k = (i * 7919) % 1000;
        bids[i].px = 10000 - k;
        bids[i].qty = k + 1;
        asks[i].px = 10001 + k;
        asks[i].qty = k + 1;
    }
    struct qts_book_update s = upd(QTS_BOOK_SNAPSHOT, 0, 1, 0, bids, 1000, asks, 1000);
    assert_int_equal(qts_book_apply(&b, &s), QTS_BOOK_APPLIED);
    struct qts_level d[5];
    assert_int_equal(qts_book_depth(&b, QTS_SIDE_BUY, d, 5), 5);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(d[i].px, 10000 - i);
        assert_int_equal(d[i].qty, i + 1);
    }
    assert_int_equal(qts_book_depth(&b, QTS_SIDE_SELL, d, 5), 5);
    assert_int_equal(d[4].px, 10005);
    /* unsequenced updates (last_update_id 0) apply directly */
    qts_book_set(&b, QTS_SIDE_SELL, 10001, 0);
    struct qts_level ask;
    qts_book_best_ask(&b, &ask);
    assert_int_equal(ask.px, 10002);
    qts_book_cleanup(&b);
}

static void test_gap_inside_buffered_diffs(void **state)
{
    (void)state;
    struct qts_book b;
    qts_book_init(&b);
    struct qts_level l = {100, 1};
    struct qts_book_update d1 = upd(0, 5, 12, 0, &l, 1, NULL, 0);
    struct qts_book_update d2 = upd(0, 14, 15, 0, &l, 1, NULL, 0); /* 13 missing */
    struct qts_book_update d3 = upd(0, 16, 17, 0, &l, 1, NULL, 0);
    assert_int_equal(qts_book_apply(&b, &d1), QTS_BOOK_WAITING);
    assert_int_equal(qts_book_apply(&b, &d2), QTS_BOOK_WAITING);
    assert_int_equal(qts_book_apply(&b, &d3), QTS_BOOK_WAITING);
    snapshot(&b, 10, 0);
    assert_true(b.is_stale);
    assert_int_equal(b.last_update_id, 12);
    assert_int_equal(b.n_pend, 2);
    snapshot(&b, 13, 0); /* the kept diffs bridge the new snapshot */
    assert_false(b.is_stale);
    assert_int_equal(b.last_update_id, 17);
    assert_int_equal(b.n_resyncs, 1);
    qts_book_cleanup(&b);
}

static void test_book_set(void **state)
{
    (void)state;
    struct qts_book_set set;
    qts_book_set_init(&set);
    assert_null(qts_book_set_find(&set, 3));
    struct qts_book_update s = upd(QTS_BOOK_SNAPSHOT, 0, 10, 0, SB, 3, SA, 3);
    s.h.instrument = 3;
    assert_int_equal(qts_book_set_apply(&set, &s), QTS_BOOK_APPLIED);
    s.h.instrument = 40;
    assert_int_equal(qts_book_set_apply(&set, &s), QTS_BOOK_APPLIED);
    const struct qts_book *b = qts_book_set_find(&set, 3);
    assert_non_null(b);
    assert_int_equal(b->last_update_id, 10);
    assert_null(qts_book_set_find(&set, 4));
    assert_non_null(qts_book_set_find(&set, 40));
    qts_book_set_cleanup(&set);
}

QTS_TEST_MAIN(test_levels_top_depth, test_spot_sequence_gap_resync,
              test_spot_first_diff_must_bridge, test_futures_pu_rule,
              test_unsorted_snapshot_and_many_levels, test_gap_inside_buffered_diffs, test_book_set)
