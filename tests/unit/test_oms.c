/* test_oms.c — the order store: deterministic ids, lookups, ownership by
 * strategy, positions from fills, and reconciliation with the broker. */
#include "exec_fixture.h"

#include "oms.h"
#include "oms_ids.h"

static struct qts_order_intent intent(uint32_t strategy)
{
    return fx_intent(strategy, 1, QTS_SIDE_BUY, QTS_ORD_LIMIT, 60000, 10);
}

struct listen {
    int n;
    struct qts_child *last;
};

static void on_child(void *ctx, struct qts_child *c, const struct qts_apply_result *r)
{
    struct listen *l = ctx;
    (void)r;
    l->n++;
    l->last = c;
}

static void test_ids_and_lookup(void **state)
{
    (void)state;
    /* two stores with the same input produce the same ids */
    for (int run = 0; run < 2; run++) {
        struct qts_oms *oms = qts_oms_new("h7");
        struct qts_order_intent in = intent(3);
        struct qts_parent *p1 = qts_oms_parent_new(oms, &in, NULL);
        struct qts_parent *p2 = qts_oms_parent_new(oms, &in, NULL);
        assert_int_equal(p1->order_id, 1);
        assert_int_equal(p2->order_id, 2);
        assert_int_equal(p2->intent.order_id, 2);
        struct qts_child *c1 =
            qts_oms_child_new(oms, p1, QTS_CHILD_SLICE, QTS_SIDE_BUY, QTS_ORD_LIMIT, 60000, 5);
        struct qts_child *c2 =
            qts_oms_child_new(oms, p2, QTS_CHILD_SLICE, QTS_SIDE_BUY, QTS_ORD_LIMIT, 60000, 5);
        assert_string_equal(c1->client_order_id, "h7-1");
        assert_string_equal(c2->client_order_id, "h7-2");
        assert_ptr_equal(qts_oms_find(oms, 2), p2);
        assert_null(qts_oms_find(oms, 3));
        assert_ptr_equal(qts_oms_find_child(oms, "h7-1"), c1);
        assert_null(qts_oms_find_child(oms, "h7-3"));
        assert_null(qts_oms_find_child(oms, ""));
        assert_ptr_equal(c2->parent, p2);
        qts_oms_free(oms);
    }
}

static void test_many_orders(void **state)
{
    (void)state;
    struct qts_oms *oms = qts_oms_new("h");
    struct qts_order_intent in = intent(1);
    for (int i = 0; i < 5000; i++) {
        struct qts_parent *p = qts_oms_parent_new(oms, &in, NULL);
        qts_oms_child_new(oms, p, QTS_CHILD_SLICE, QTS_SIDE_BUY, QTS_ORD_LIMIT, 1, 1);
    }
    assert_int_equal(qts_oms_count(oms), 5000);
    char id[32];
    for (int i = 1; i <= 5000; i += 97) {
        snprintf(id, sizeof id, "h-%d", i);
        struct qts_child *c = qts_oms_find_child(oms, id);
        assert_non_null(c);
        assert_int_equal(c->parent->order_id, (uint64_t)i);
        assert_ptr_equal(qts_oms_find(oms, (uint64_t)i), c->parent);
    }
    qts_oms_free(oms);
}

/* A strategy's order carries the id the OMS gave its strategy: kept as it
 * is; an id the OMS did not make, or one already used, is refused; the
 * host's own orders count from 1 below 2^32. */
static void test_strategy_ids(void **state)
{
    (void)state;
    struct qts_oms *oms = qts_oms_new("h");
    struct qts_oms_strategy_ids ids = {0};
    uint64_t id1 = qts_oms_strategy_id_next(&ids, 7);
    uint64_t id2 = qts_oms_strategy_id_next(&ids, 7);
    assert_int_equal(id1, (UINT64_C(7) << 32) | 1);
    assert_int_equal(id2, (UINT64_C(7) << 32) | 2);
    assert_true(qts_oms_strategy_id_issued(&ids, 7, id2));
    assert_false(qts_oms_strategy_id_issued(&ids, 7, id2 + 1));
    assert_false(qts_oms_strategy_id_issued(&ids, 8, id1));
    struct qts_order_intent in = intent(7);
    in.order_id = id2;
    struct qts_parent *p = qts_oms_parent_new(oms, &in, NULL);
    assert_non_null(p);
    assert_int_equal(p->order_id, id2);
    assert_int_equal(p->intent.order_id, id2);
    assert_null(qts_oms_parent_new(oms, &in, NULL)); /* used */
    in.strategy_id = 8;
    in.order_id = id1;
    assert_null(qts_oms_parent_new(oms, &in, NULL)); /* another strategy's */
    in.order_id = 5;
    assert_null(qts_oms_parent_new(oms, &in, NULL)); /* not the OMS's */
    in.order_id = 0;
    assert_int_equal(qts_oms_parent_new(oms, &in, NULL)->order_id, 1);
    qts_oms_free(oms);
}

static void test_ownership(void **state)
{
    (void)state;
    struct qts_oms *oms = qts_oms_new("h");
    struct qts_order_intent a = intent(1), b = intent(2);
    struct qts_parent *p1 = qts_oms_parent_new(oms, &a, NULL);
    qts_oms_parent_new(oms, &b, NULL);
    struct qts_parent *p3 = qts_oms_parent_new(oms, &a, NULL);
    uint64_t ids[8];
    assert_int_equal(qts_oms_active_ids(oms, 1, ids, 8), 2);
    assert_true((ids[0] == 1 && ids[1] == 3) || (ids[0] == 3 && ids[1] == 1));
    qts_oms_parent_finished(oms, p1);
    qts_oms_parent_finished(oms, p1); /* twice is harmless */
    assert_int_equal(qts_oms_active_ids(oms, 1, ids, 8), 1);
    assert_int_equal(ids[0], p3->order_id);
    assert_int_equal(qts_oms_active_ids(oms, 2, ids, 8), 1);
    assert_int_equal(qts_oms_active_ids(oms, 9, ids, 8), 0);
    qts_oms_free(oms);
}

static void test_apply_and_positions(void **state)
{
    (void)state;
    struct qts_oms *oms = qts_oms_new("h");
    struct listen l = {0};
    qts_oms_set_listener(oms, on_child, &l);
    struct qts_order_intent in = intent(1);
    struct qts_parent *p = qts_oms_parent_new(oms, &in, NULL);
    struct qts_child *c =
        qts_oms_child_new(oms, p, QTS_CHILD_SLICE, QTS_SIDE_SELL, QTS_ORD_LIMIT, 60000, 10);
    qts_child_set_state(c, QTS_OS_PENDING_SEND);
    struct qts_exec_report r = {.struct_size = sizeof r,
                                .exec_type = QTS_EXEC_FILL,
                                .last_qty = 4,
                                .last_px = 60000,
                                .fill_id = 1,
                                .leaves_qty = -1};
    qts_strlcpy(r.client_order_id, "h-1", sizeof r.client_order_id);
    struct qts_apply_result res;
    assert_int_equal(qts_oms_apply_report(oms, &r, NULL, &res), 0);
    assert_int_equal(qts_oms_apply_report(oms, &r, NULL, &res), 0); /* duplicate */
    assert_true(res.flags & QTS_APPLY_DUP);
    assert_int_equal(l.n, 1); /* the listener hears only about changes */
    assert_int_equal(qts_oms_position(oms, 1), -4);
    qts_strlcpy(r.client_order_id, "zz-1", sizeof r.client_order_id);
    assert_int_equal(qts_oms_apply_report(oms, &r, NULL, NULL), QTS_ENOENT);
    qts_oms_free(oms);
}

static void test_reconcile(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    struct qts_oms *oms = qts_oms_new("h");
    struct listen l = {0};
    qts_oms_set_listener(oms, on_child, &l);
    struct qts_order_intent in = intent(1);
    struct qts_parent *p = qts_oms_parent_new(oms, &in, NULL);
    /* h-1: accepted here, open there with more fills (fill gap)
     * h-2: accepted here, gone there (missing -> expired)
     * h-3: pending send: left alone
     * h-9: open there, our prefix, unknown here (stray -> cancelled)
     * x-1: open there, not ours (foreign -> reported only) */
    struct qts_child *c1 = qts_oms_child_new(oms, p, 0, QTS_SIDE_BUY, QTS_ORD_LIMIT, 60000, 10);
    struct qts_child *c2 = qts_oms_child_new(oms, p, 0, QTS_SIDE_BUY, QTS_ORD_LIMIT, 60000, 10);
    struct qts_child *c3 = qts_oms_child_new(oms, p, 0, QTS_SIDE_BUY, QTS_ORD_LIMIT, 60000, 10);
    c1->state = QTS_OS_ACCEPTED;
    c2->state = QTS_OS_ACCEPTED;
    c3->state = QTS_OS_PENDING_SEND;
    assert_int_equal(qts_oms_recon_begin(oms, &f->port, fx_on_recon, f), 0);
    assert_int_equal(qts_oms_recon_begin(oms, &f->port, fx_on_recon, f), QTS_EBUSY);
    assert_true(qts_oms_recon_active(oms));
    assert_int_equal(qts_oms_recon_orders_req(oms), f->req_orders);
    assert_int_equal(qts_oms_recon_positions_req(oms), f->req_positions);
    struct qts_exec_report st = {.struct_size = sizeof st,
                                 .exec_type = QTS_EXEC_STATUS,
                                 .instrument = 1,
                                 .cum_qty = 4,
                                 .last_px = 60000,
                                 .leaves_qty = 6};
    qts_strlcpy(st.client_order_id, "h-1", sizeof st.client_order_id);
    qts_oms_apply_report(oms, &st, NULL, NULL);
    qts_strlcpy(st.client_order_id, "h-9", sizeof st.client_order_id);
    assert_int_equal(qts_oms_apply_report(oms, &st, NULL, NULL), QTS_ENOENT);
    qts_strlcpy(st.client_order_id, "x-1", sizeof st.client_order_id);
    assert_int_equal(qts_oms_apply_report(oms, &st, NULL, NULL), QTS_ENOENT);
    struct qts_broker_position bp = {.struct_size = sizeof bp, .instrument = 1, .qty = 7};
    assert_int_equal(qts_oms_recon_position(oms, &bp), 0);
    struct qts_broker_position bp2 = {.struct_size = sizeof bp2, .instrument = 2, .qty = -3};
    qts_oms_recon_position(oms, &bp2);
    assert_int_equal(qts_oms_recon_done(oms, f->req_orders, 0), 0);
    assert_int_equal(qts_oms_recon_done(oms, f->req_positions, 0), 1);
    assert_false(qts_oms_recon_active(oms));

    assert_int_equal(c1->cum_qty, 4);
    assert_int_equal(c1->state, QTS_OS_PARTIALLY_FILLED);
    assert_int_equal(c2->state, QTS_OS_EXPIRED);
    assert_int_equal(c3->state, QTS_OS_PENDING_SEND);
    /* the stray order was cancelled at the broker */
    int ci = fx_call(f, 'c', 0);
    assert_true(ci >= 0);
    assert_string_equal(f->calls[ci].clordid, "h-9");
    assert_int_equal(fx_count(f, 'c'), 1);
    int kinds[8] = {0};
    for (int i = 0; i < f->n_diffs; i++)
        kinds[f->diffs[i].kind]++;
    assert_int_equal(kinds[QTS_RECON_FILL_GAP], 1);
    assert_int_equal(kinds[QTS_RECON_STRAY_ORDER], 1);
    assert_int_equal(kinds[QTS_RECON_FOREIGN_ORDER], 1);
    assert_int_equal(kinds[QTS_RECON_MISSING_ORDER], 1);
    assert_int_equal(kinds[QTS_RECON_POSITION], 2);
    /* broker positions adopted */
    assert_int_equal(qts_oms_position(oms, 1), 7);
    assert_int_equal(qts_oms_position(oms, 2), -3);
    /* a second run with everything in agreement reports nothing new */
    int before = f->n_diffs;
    qts_oms_recon_begin(oms, &f->port, fx_on_recon, f);
    qts_strlcpy(st.client_order_id, "h-1", sizeof st.client_order_id);
    qts_oms_apply_report(oms, &st, NULL, NULL);
    qts_oms_recon_position(oms, &bp);
    qts_oms_recon_position(oms, &bp2);
    qts_oms_recon_done(oms, f->req_orders, 0);
    qts_oms_recon_done(oms, f->req_positions, 0);
    assert_int_equal(f->n_diffs, before);
    qts_oms_free(oms);
    fx_free(f);
}

static void test_reconcile_unsupported_and_failed(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    struct qts_oms *oms = qts_oms_new("h");
    f->ops.query_open_orders = NULL;
    f->ops.query_positions = NULL;
    assert_int_equal(qts_oms_recon_begin(oms, &f->port, NULL, NULL), QTS_EUNSUPPORTED);
    /* a failed orders query changes no order */
    f->ops.query_open_orders = fb_query_orders;
    struct qts_order_intent in = intent(1);
    struct qts_parent *p = qts_oms_parent_new(oms, &in, NULL);
    struct qts_child *c = qts_oms_child_new(oms, p, 0, QTS_SIDE_BUY, QTS_ORD_LIMIT, 1, 1);
    /* through the transition table: the working count follows */
    assert_int_equal(qts_child_set_state(c, QTS_OS_PENDING_SEND), 0);
    assert_int_equal(qts_child_set_state(c, QTS_OS_ACCEPTED), 0);
    assert_int_equal(qts_oms_working_children(oms), 1);
    assert_int_equal(qts_oms_recon_begin(oms, &f->port, NULL, NULL), 0);
    assert_int_equal(qts_oms_recon_positions_req(oms), 0);
    assert_int_equal(qts_oms_recon_done(oms, f->req_orders, QTS_ENET), 1);
    assert_int_equal(c->state, QTS_OS_ACCEPTED);
    qts_oms_free(oms);
    fx_free(f);
}

QTS_TEST_MAIN(test_ids_and_lookup, test_many_orders, test_strategy_ids, test_ownership,
              test_apply_and_positions, test_reconcile, test_reconcile_unsupported_and_failed)
