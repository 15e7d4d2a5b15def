/* test_oms_working.c — the OMS's count of working children (kept at every
 * child state change, read in O(1) by qts_exec_has_working_orders on every
 * market event) always equals a walk over every child held, through random
 * order lifecycles: new, send, ack, partial and full fills, cancels,
 * rejects, expiries, unknown outcomes, duplicates, parents with several
 * children, and eviction of finished parents. The same runs check that
 * every held order is found by id and client order id while the hash maps
 * grow (incrementally) and shrink. */
#include "exec_fixture.h"

#include "oms.h"

static uint64_t rng_state = UINT64_C(0x9e3779b97f4a7c15);

static uint64_t rnd(uint64_t n)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state % n;
}

/* The walk the count replaces: every child of every parent held. */
static size_t walk_working(const struct qts_oms *oms)
{
    size_t n = 0;
    for (const struct qts_parent *p = qts_oms_held_first(oms); p; p = p->all_next)
        for (size_t i = 0; i < p->n_children; i++)
            n += qts_order_state_working(p->children[i]->state);
    return n;
}

static void check_lookups(const struct qts_oms *oms)
{
    for (struct qts_parent *p = qts_oms_held_first(oms); p; p = p->all_next) {
        assert_ptr_equal(qts_oms_find(oms, p->order_id), p);
        for (size_t i = 0; i < p->n_children; i++)
            assert_ptr_equal(qts_oms_find_child(oms, p->children[i]->client_order_id),
                             p->children[i]);
    }
}

static void report(struct qts_oms *oms, struct qts_child *c, uint8_t type, int64_t qty,
                   uint64_t fill_id)
{
    struct qts_exec_report r;
    memset(&r, 0, sizeof r);
    r.struct_size = sizeof r;
    r.exec_type = type;
    r.code = type == QTS_EXEC_REJECT ? QTS_EREJECT : 0;
    qts_strlcpy(r.client_order_id, c->client_order_id, sizeof r.client_order_id);
    r.last_qty = qty;
    r.last_px = 60000;
    r.fill_id = fill_id;
    r.cum_qty = c->cum_qty + qty;
    r.leaves_qty = -1;
    assert_int_equal(qts_oms_apply_report(oms, &r, NULL, NULL), 0);
}

/* One random step on child `c`. */
static void step_child(struct qts_oms *oms, struct qts_child *c)
{
    switch (rnd(12)) {
    case 0: qts_child_set_state(c, QTS_OS_PENDING_SEND); break;
    case 1: report(oms, c, QTS_EXEC_ACK, 0, 0); break;
    case 2:
    case 3: { /* a partial or the rest; sometimes a duplicate fill id */
        int64_t left = c->qty - c->cum_qty;
        int64_t q = left > 1 && rnd(2) ? 1 + (int64_t)rnd((uint64_t)left - 1) : left;
        uint64_t id = c->n_fill_ids && rnd(4) == 0 ? c->fill_ids[0] : 1000 + rnd(1u << 20);
        if (q > 0)
            report(oms, c, QTS_EXEC_FILL, q, id);
        break;
    }
    case 4: qts_child_set_state(c, QTS_OS_CANCEL_PENDING); break;
    case 5: report(oms, c, QTS_EXEC_CANCELLED, 0, 0); break;
    case 6: report(oms, c, QTS_EXEC_REJECT, 0, 0); break;
    case 7: report(oms, c, QTS_EXEC_EXPIRED, 0, 0); break;
    case 8: qts_child_set_state(c, QTS_OS_UNKNOWN); break;
    case 9: report(oms, c, QTS_EXEC_CANCEL_REJECT, 0, 0); break;
    case 10: qts_child_set_state(c, QTS_OS_REJECTED); break; /* a send that failed */
    default: qts_child_set_state(c, QTS_OS_ACCEPTED); break;
    }
}

/* `retain` finished parents kept (0 = never evict) */
static void run_lifecycles(size_t retain, int steps)
{
    struct qts_oms *oms = qts_oms_new("w");
    bool evicting = retain > 0;
    if (evicting)
        qts_oms_set_retention(oms, retain, 0, 4096);
    struct qts_parent *live[64] = {0};
    int64_t now = 0;
    for (int s = 0; s < steps; s++) {
        now += 1000;
        size_t k = rnd(64);
        struct qts_parent *p = live[k];
        if (!p) { /* a new parent with one to four children */
            struct qts_order_intent in =
                fx_intent(1 + (uint32_t)rnd(3), 1, QTS_SIDE_BUY, QTS_ORD_LIMIT, 60000, 40);
            in.order_id = 0;
            p = live[k] = qts_oms_parent_new(oms, &in, NULL);
            assert_non_null(p);
            size_t n = 1 + rnd(4);
            for (size_t i = 0; i < n; i++)
                qts_oms_child_new(oms, p, QTS_CHILD_SLICE, QTS_SIDE_BUY, QTS_ORD_LIMIT, 60000, 10);
        } else if (rnd(40) == 0) { /* another child (a replace, a flatten) */
            qts_oms_child_new(oms, p, (uint8_t)rnd(2), QTS_SIDE_SELL, QTS_ORD_LIMIT, 60000, 10);
        } else {
            step_child(oms, p->children[rnd(p->n_children)]);
        }
        /* a parent whose children are all final finishes (sometimes) */
        bool all_final = true;
        for (size_t i = 0; i < p->n_children; i++)
            all_final &= qts_order_state_final(p->children[i]->state);
        if (all_final && rnd(2)) {
            p->state = QTS_XS_COMPLETE;
            p->ts_final_ns = now;
            qts_oms_parent_finished(oms, p);
            live[k] = NULL;
        }
        if (evicting && rnd(3) == 0)
            qts_oms_evict(oms, now, 2);
        assert_int_equal(qts_oms_working_children(oms), walk_working(oms));
        if (s % 97 == 0)
            check_lookups(oms);
    }
    check_lookups(oms);
    if (evicting)
        assert_true(qts_oms_evicted_total(oms) > 0);
    qts_oms_free(oms);
}

static void test_working_count_equals_walk(void **state)
{
    (void)state;
    run_lifecycles(0, 20000);
}

static void test_working_count_with_eviction(void **state)
{
    (void)state;
    run_lifecycles(8, 60000);
    /* more kept: the maps grow while evictions delete from them */
    run_lifecycles(150, 150000);
}

QTS_TEST_MAIN(test_working_count_equals_walk, test_working_count_with_eviction)
