/* test_paper_book.c — broker_paper's book sides (plugins/broker_paper/
 * paper_book.c, compiled in) against a plain reference: a quantity per
 * price in a small range. Random level sets, diffs (any order, repeated
 * prices, deletions) and snapshots (best first, or not) must leave the same
 * levels, in best-first order, with the same quantities. */
#include "test_support.h"

#include <stdlib.h>
#include <string.h>

#include "paper_broker.h"

#define PX_LO 1000
#define PX_N 300 /* prices PX_LO .. PX_LO + PX_N - 1 */

static void *t_alloc(void *owner, size_t n)
{
    (void)owner;
    return malloc(n);
}
static void t_free(void *owner, void *p)
{
    (void)owner;
    free(p);
}

static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* The reference side: qty by price, 0 = no level. */
struct ref_side {
    int64_t qty[PX_N];
};

static void ref_set(struct ref_side *r, int64_t px, int64_t qty)
{
    r->qty[px - PX_LO] = qty > 0 ? qty : 0;
}

static void check_side(const struct pb_side *s, const struct ref_side *r, bool is_bid)
{
    uint32_t k = 0;
    for (int i = 0; i < PX_N; i++) { /* best first: bids from the top price */
        int idx = is_bid ? PX_N - 1 - i : i;
        if (!r->qty[idx])
            continue;
        assert_true(k < s->n);
        const struct pb_level *l = pb_side_level(s, k);
        assert_int_equal(l->px, PX_LO + idx);
        assert_int_equal(l->qty, r->qty[idx]);
        k++;
    }
    assert_int_equal(k, s->n);
    for (int i = 0; i < PX_N; i++)
        assert_int_equal(pb_side_qty(s, is_bid, PX_LO + i), r->qty[i]);
    assert_int_equal(pb_side_qty(s, is_bid, PX_LO - 1), 0);
    assert_int_equal(pb_side_qty(s, is_bid, PX_LO + PX_N), 0);
}

static void test_side_matches_reference(void **state)
{
    (void)state;
    struct qts_host_api host;
    memset(&host, 0, sizeof host);
    host.alloc = t_alloc;
    host.free = t_free;
    struct pb pb;
    memset(&pb, 0, sizeof pb);
    pb.host = &host;
    uint64_t seed = 0x9E3779B97F4A7C15ULL;
    struct qts_level lv[64];
    for (int side = 0; side < 2; side++) {
        bool is_bid = side == 0;
        struct pb_side s = {0};
        struct ref_side r;
        memset(&r, 0, sizeof r);
        for (int step = 0; step < 20000; step++) {
            uint64_t op = rng_next(&seed) % 100;
            if (op < 60) { /* one level, near the touch more often */
                int64_t px = PX_LO + (int64_t)(rng_next(&seed) % PX_N);
                int64_t qty = (int64_t)(rng_next(&seed) % 4 == 0 ? 0 : rng_next(&seed) % 50 + 1);
                pb_side_set(&pb, &s, is_bid, px, qty);
                ref_set(&r, px, qty);
            } else if (op < 95) { /* a diff: any order, repeats and deletions */
                uint32_t n = (uint32_t)(rng_next(&seed) % 64);
                for (uint32_t k = 0; k < n; k++) {
                    lv[k].px = PX_LO + (int64_t)(rng_next(&seed) % PX_N);
                    lv[k].qty = (int64_t)(rng_next(&seed) % 3 == 0 ? 0 : rng_next(&seed) % 50 + 1);
                }
                pb_side_apply(&pb, &s, is_bid, lv, n);
                for (uint32_t k = 0; k < n; k++)
                    ref_set(&r, lv[k].px, lv[k].qty);
            } else { /* a snapshot onto an emptied side */
                s.n = 0;
                memset(&r, 0, sizeof r);
                uint32_t n = (uint32_t)(rng_next(&seed) % 64);
                bool sorted = rng_next(&seed) % 2;
                int64_t px = is_bid ? PX_LO + PX_N - 1 : PX_LO;
                for (uint32_t k = 0; k < n; k++) {
                    if (sorted) { /* strictly best first, as a venue sends it */
                        lv[k].px = px;
                        px += is_bid ? -(int64_t)(rng_next(&seed) % 4 + 1)
                                     : (int64_t)(rng_next(&seed) % 4 + 1);
                    } else {
                        lv[k].px = PX_LO + (int64_t)(rng_next(&seed) % PX_N);
                    }
                    lv[k].qty = (int64_t)(rng_next(&seed) % 50 + (sorted ? 1 : 0));
                }
                pb_side_apply(&pb, &s, is_bid, lv, n);
                for (uint32_t k = 0; k < n; k++)
                    ref_set(&r, lv[k].px, lv[k].qty);
            }
            check_side(&s, &r, is_bid);
        }
        free(s.v);
    }
}

QTS_TEST_MAIN(test_side_matches_reference)
