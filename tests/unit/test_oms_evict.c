/* test_oms_evict.c — retention of finished orders: the store stays bounded
 * over a long run, late reports for evicted orders are recognised (never
 * counted twice, never "unknown"), orders something still refers to are
 * kept, lookups of evicted ids say so, and the kill switch and
 * reconciliation keep working after evictions. */
#include "exec_fixture.h"

#include "oms.h"

static struct fx *start(uint32_t retain_orders, int64_t retain_ms, uint32_t tombstones)
{
    struct fx *f = fx_new();
    f->params.retain_orders = retain_orders;
    f->params.retain_ms = retain_ms;
    f->params.evict_tombstones = tombstones;
    fx_start(f);
    return f;
}

static struct qts_order_intent buy(int64_t qty)
{
    return fx_intent(1, 1, QTS_SIDE_BUY, QTS_ORD_LIMIT, 60000, qty);
}

/* Client order id of the n-th child ("t1-<n>"). */
static const char *cl(uint64_t n)
{
    static char buf[4][32];
    static int k;
    char *b = buf[k++ & 3];
    snprintf(b, sizeof buf[0], "t1-%llu", (unsigned long long)n);
    return b;
}

/* One order, acknowledged and filled completely: COMPLETE. */
static uint64_t filled_order(struct fx *f, uint64_t child_n, int64_t qty, uint64_t fill_id)
{
    struct qts_order_intent in = buy(qty);
    uint64_t id = fx_submit(f, &in);
    f->n_calls = 0; /* the fake broker's call log is small */
    assert_int_equal(fx_report(f, QTS_EXEC_ACK, cl(child_n), 0, 0, 0, 0), 0);
    assert_int_equal(fx_report(f, QTS_EXEC_FILL, cl(child_n), qty, 60000, fill_id, qty), 0);
    return id;
}

/* The counter `key` of the execution summary. */
static uint64_t summary_count(struct fx *f, const char *key)
{
    char buf[4096], pat[64];
    qts_exec_summary_json(f->x, buf, sizeof buf);
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *s = strstr(buf, pat);
    assert_non_null(s);
    return strtoull(s + strlen(pat), NULL, 10);
}

static uint64_t unknown_reports(struct fx *f) { return summary_count(f, "unknown_reports"); }
static uint64_t duplicate_reports(struct fx *f) { return summary_count(f, "duplicate_reports"); }

static void test_long_run_stays_bounded(void **state)
{
    (void)state;
    struct fx *f = start(100, 50, 4096);
    struct qts_oms *oms = qts_exec_oms(f->x);
    size_t most = 0, most_children = 0;
    for (uint64_t i = 1; i <= 100000; i++) {
        filled_order(f, i, 1, i);
        fx_advance_ms(f, 1);
        if (qts_oms_count(oms) > most)
            most = qts_oms_count(oms);
        if (qts_oms_child_count(oms) > most_children)
            most_children = qts_oms_child_count(oms);
    }
    /* the last 100 finished (and those younger than 50 ms) plus what the
     * amortised eviction has not reached yet */
    assert_true(most <= 110);
    assert_true(most_children <= 110);
    assert_true(qts_oms_evicted_total(oms) >= 100000 - 110);
    /* every fill counted once */
    assert_int_equal(qts_oms_position(oms, 1), 100000);
    assert_int_equal(unknown_reports(f), 0);
    /* the newest are still there, the oldest are gone */
    assert_non_null(fx_order(f, 100000));
    assert_null(fx_order(f, 1));
    fx_free(f);
}

static void test_keep_everything_when_off(void **state)
{
    (void)state;
    struct fx *f = start(0, 0, 0); /* no tombstone window: never evict */
    for (uint64_t i = 1; i <= 500; i++)
        filled_order(f, i, 1, i);
    assert_int_equal(qts_oms_count(qts_exec_oms(f->x)), 500);
    assert_int_equal(qts_oms_evicted_total(qts_exec_oms(f->x)), 0);
    assert_non_null(fx_order(f, 1));
    fx_free(f);
}

static void test_late_duplicate_ignored(void **state)
{
    (void)state;
    struct fx *f = start(0, 0, 1000);
    struct qts_oms *oms = qts_exec_oms(f->x);
    uint64_t a = filled_order(f, 1, 10, 7);
    filled_order(f, 2, 10, 8); /* its submit evicts the first */
    assert_int_equal(qts_exec_order_lookup(f->x, a, NULL), QTS_OMS_EVICTED);
    assert_int_equal(qts_oms_position(oms, 1), 20);
    int fills = f->n_fills;
    uint64_t dups = duplicate_reports(f);

    /* the same fill again, an ack, a cancel: recognised, nothing changes */
    assert_int_equal(fx_report(f, QTS_EXEC_FILL, cl(1), 10, 60000, 7, 10), 0);
    assert_int_equal(fx_report(f, QTS_EXEC_ACK, cl(1), 0, 0, 0, 0), 0);
    assert_int_equal(fx_report(f, QTS_EXEC_CANCELLED, cl(1), 0, 0, 0, 10), 0);
    assert_int_equal(qts_oms_position(oms, 1), 20);
    assert_int_equal(f->n_fills, fills);
    assert_int_equal(duplicate_reports(f), dups + 1);
    assert_int_equal(unknown_reports(f), 0);
    assert_false(fx_has_safety(f, "FS041"));

    /* an id we never had is still unknown */
    assert_int_equal(fx_report(f, QTS_EXEC_FILL, "t1-999999", 1, 60000, 1, 1), QTS_ENOENT);
    assert_int_equal(fx_report(f, QTS_EXEC_FILL, "zz-1", 1, 60000, 1, 1), QTS_ENOENT);
    assert_int_equal(unknown_reports(f), 2);
    assert_int_equal(qts_oms_position(oms, 1), 20);
    fx_free(f);
}

static void test_late_new_fill_after_eviction_booked_once(void **state)
{
    (void)state;
    struct fx *f = start(0, 0, 1000);
    struct qts_oms *oms = qts_exec_oms(f->x);
    /* 4 of 10 filled, then the strategy cancels and the venue confirms */
    struct qts_order_intent in = buy(10);
    uint64_t a = fx_submit(f, &in);
    fx_report(f, QTS_EXEC_ACK, cl(1), 0, 0, 0, 0);
    fx_report(f, QTS_EXEC_FILL, cl(1), 4, 60000, 1, 4);
    assert_int_equal(qts_exec_cancel(f->x, a, NULL), 0);
    fx_report(f, QTS_EXEC_CANCELLED, cl(1), 0, 0, 0, 4);
    assert_true(qts_exec_state_final(fx_order(f, a)->state));
    filled_order(f, 2, 1, 1); /* evicts the first */
    assert_int_equal(qts_exec_order_lookup(f->x, a, NULL), QTS_OMS_EVICTED);
    assert_int_equal(qts_oms_position(oms, 1), 5);

    /* a fill the venue made before the cancel, reported late: booked once
     * and delivered with the evicted order's id */
    int fills = f->n_fills;
    assert_int_equal(fx_report(f, QTS_EXEC_FILL, cl(1), 3, 60000, 2, 7), 0);
    assert_int_equal(qts_oms_position(oms, 1), 8);
    assert_int_equal(f->n_fills, fills + 1);
    assert_int_equal(f->fills[fills].order_id, a);
    assert_int_equal(f->fills[fills].qty, 3);
    assert_int_equal(f->fills[fills].strategy_id, 1);
    assert_int_equal(qts_oms_late_fills(oms), 1);
    /* and its duplicate is a duplicate */
    assert_int_equal(fx_report(f, QTS_EXEC_FILL, cl(1), 3, 60000, 2, 7), 0);
    assert_int_equal(fx_report(f, QTS_EXEC_FILL, cl(1), 4, 60000, 1, 4), 0);
    assert_int_equal(qts_oms_position(oms, 1), 8);
    assert_int_equal(f->n_fills, fills + 1);
    /* never beyond the child's quantity */
    assert_int_equal(fx_report(f, QTS_EXEC_FILL, cl(1), 50, 60000, 3, 57), 0);
    assert_int_equal(qts_oms_position(oms, 1), 11);
    assert_int_equal(unknown_reports(f), 0);
    fx_free(f);
}

static void test_referenced_orders_kept(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    f->params.retain_orders = 0;
    f->params.retain_ms = 0;
    f->params.evict_tombstones = 1000;
    f->params.escape_timeout_ms = 5;
    fx_start(f);

    /* A: escaped, but its cancel was never confirmed: the child may still
     * fill (CANCEL_PENDING) although the parent is final */
    struct qts_order_intent in = buy(10);
    uint64_t a = fx_submit(f, &in);
    fx_report(f, QTS_EXEC_ACK, cl(1), 0, 0, 0, 0);
    assert_int_equal(qts_exec_escape(f->x, a, "test"), 0);
    fx_advance_ms(f, 6);
    assert_int_equal(fx_order(f, a)->state, QTS_XS_ESCAPED);
    assert_int_equal(fx_order(f, a)->children[0]->state, QTS_OS_CANCEL_PENDING);
    /* B: working (monitor open) */
    uint64_t b = fx_submit(f, &in);
    fx_report(f, QTS_EXEC_ACK, cl(2), 0, 0, 0, 0);
    assert_int_equal(fx_order(f, b)->state, QTS_XS_MONITORING);
    /* C: finished, pinned by its user */
    uint64_t c = filled_order(f, 3, 1, 1);
    assert_int_equal(qts_exec_pin(f->x, c), 0);
    /* lots of other finished orders go around them */
    for (uint64_t i = 4; i < 400; i++)
        filled_order(f, i, 1, i);
    assert_int_equal(qts_exec_order_lookup(f->x, a, NULL), QTS_OMS_LIVE);
    assert_int_equal(qts_exec_order_lookup(f->x, b, NULL), QTS_OMS_LIVE);
    assert_int_equal(qts_exec_order_lookup(f->x, c, NULL), QTS_OMS_LIVE);
    assert_int_equal(qts_exec_order_lookup(f->x, 10, NULL), QTS_OMS_EVICTED);
    assert_true(qts_oms_count(qts_exec_oms(f->x)) <= 8);

    /* released: they go at the next opportunities */
    fx_report(f, QTS_EXEC_CANCELLED, cl(1), 0, 0, 0, 0);
    qts_exec_unpin(f->x, c);
    for (uint64_t i = 400; i < 420; i++)
        filled_order(f, i, 1, i);
    assert_int_equal(qts_exec_order_lookup(f->x, a, NULL), QTS_OMS_EVICTED);
    assert_int_equal(qts_exec_order_lookup(f->x, c, NULL), QTS_OMS_EVICTED);
    assert_int_equal(qts_exec_order_lookup(f->x, b, NULL), QTS_OMS_LIVE);
    fx_free(f);
}

static void test_retention_by_time_and_count(void **state)
{
    (void)state;
    struct fx *f = start(5, 1000, 1000); /* last 5, and anything < 1 s old */
    for (uint64_t i = 1; i <= 50; i++)
        filled_order(f, i, 1, i);
    /* all within one second: nothing goes */
    assert_int_equal(qts_oms_evicted_total(qts_exec_oms(f->x)), 0);
    fx_advance_ms(f, 1000);
    for (uint64_t i = 51; i <= 100; i++)
        filled_order(f, i, 1, i);
    /* the first 50 are old enough, the second 50 are not */
    assert_int_equal(qts_oms_evicted_total(qts_exec_oms(f->x)), 50);
    assert_int_equal(qts_exec_order_lookup(f->x, 50, NULL), QTS_OMS_EVICTED);
    assert_int_equal(qts_exec_order_lookup(f->x, 51, NULL), QTS_OMS_LIVE);
    fx_advance_ms(f, 1000);
    for (uint64_t i = 101; i <= 150; i++)
        filled_order(f, i, 1, i);
    fx_advance_ms(f, 1000);
    for (uint64_t i = 151; i <= 200; i++) /* each evicts up to two */
        fx_report(f, QTS_EXEC_ACK, cl(1), 0, 0, 0, 0);
    /* the count floor holds even when everything is old */
    assert_int_equal(qts_oms_count(qts_exec_oms(f->x)), 5);
    assert_int_equal(qts_exec_order_lookup(f->x, 145, NULL), QTS_OMS_EVICTED);
    assert_int_equal(qts_exec_order_lookup(f->x, 146, NULL), QTS_OMS_LIVE);
    fx_free(f);
}

static void test_lookups_of_evicted_ids(void **state)
{
    (void)state;
    struct fx *f = start(0, 0, 1000);
    uint64_t a = filled_order(f, 1, 1, 1);
    filled_order(f, 2, 1, 2);
    const struct qts_parent *p = (const struct qts_parent *)1;
    assert_int_equal(qts_exec_order_lookup(f->x, a, &p), QTS_OMS_EVICTED);
    assert_null(p);
    assert_null(qts_exec_order(f->x, a));
    assert_null(qts_oms_find_child(qts_exec_oms(f->x), cl(1)));
    const struct qts_oms_evicted *e = qts_oms_find_evicted(qts_exec_oms(f->x), cl(1));
    assert_non_null(e);
    assert_int_equal(e->order_id, a);
    assert_int_equal(e->state, QTS_OS_FILLED);
    /* an evicted order was final: cancel and escape say so */
    assert_int_equal(qts_exec_cancel(f->x, a, NULL), QTS_ESTATE);
    assert_int_equal(qts_exec_cancel_by(f->x, 1, a, NULL), QTS_ESTATE);
    assert_int_equal(qts_exec_escape(f->x, a, NULL), QTS_ESTATE);
    assert_int_equal(qts_exec_pin(f->x, a), QTS_ENOENT);
    /* never ours */
    assert_int_equal(qts_exec_order_lookup(f->x, 987654, &p), QTS_OMS_UNKNOWN);
    assert_int_equal(qts_exec_cancel(f->x, 987654, NULL), QTS_ENOENT);
    fx_free(f);
}

static void test_tombstone_window(void **state)
{
    (void)state;
    struct fx *f = start(0, 0, 10); /* remember 10 evicted children */
    for (uint64_t i = 1; i <= 40; i++)
        filled_order(f, i, 1, i);
    struct qts_oms *oms = qts_exec_oms(f->x);
    assert_int_equal(qts_exec_order_lookup(f->x, 1, NULL), QTS_OMS_UNKNOWN);
    assert_int_equal(qts_exec_order_lookup(f->x, 35, NULL), QTS_OMS_EVICTED);
    /* inside the window: a duplicate; beyond it: unknown, never booked */
    assert_int_equal(fx_report(f, QTS_EXEC_FILL, cl(35), 1, 60000, 35, 1), 0);
    assert_int_equal(fx_report(f, QTS_EXEC_FILL, cl(1), 1, 60000, 1, 1), QTS_ENOENT);
    assert_int_equal(qts_oms_position(oms, 1), 40);
    fx_free(f);
}

static void test_kill_switch_and_reconcile_after_eviction(void **state)
{
    (void)state;
    struct fx *f = start(0, 0, 1000);
    for (uint64_t i = 1; i <= 300; i++)
        filled_order(f, i, 1, i);
    /* three working orders */
    struct qts_order_intent in = buy(5);
    uint64_t w[3];
    for (int i = 0; i < 3; i++) {
        w[i] = fx_submit(f, &in);
        fx_report(f, QTS_EXEC_ACK, cl(301 + (uint64_t)i), 0, 0, 0, 0);
    }
    f->n_calls = 0;

    /* reconciliation: the broker lists one of ours, an evicted one (say its
     * view is stale) and a stray of a previous run */
    f->n_diffs = 0;
    assert_int_equal(qts_exec_reconcile(f->x), 0);
    struct qts_exec_report r;
    memset(&r, 0, sizeof r);
    r.struct_size = sizeof r;
    r.exec_type = QTS_EXEC_STATUS;
    r.instrument = 1;
    r.leaves_qty = 5;
    qts_strlcpy(r.client_order_id, cl(301), sizeof r.client_order_id);
    qts_exec_on_report(f->x, &r);
    qts_strlcpy(r.client_order_id, cl(5), sizeof r.client_order_id);
    assert_int_equal(qts_exec_on_report(f->x, &r), 0); /* evicted: ignored */
    qts_strlcpy(r.client_order_id, "t1-888888", sizeof r.client_order_id);
    assert_int_equal(qts_exec_on_report(f->x, &r), QTS_ENOENT);
    struct qts_broker_position pos = {.struct_size = sizeof pos, .instrument = 1, .qty = 300};
    qts_exec_on_position(f->x, &pos);
    qts_exec_on_query_done(f->x, f->req_orders, 0);
    assert_int_equal(qts_exec_on_query_done(f->x, f->req_positions, 0), 1);
    int stray = 0, missing = 0, other = 0;
    for (int i = 0; i < f->n_diffs; i++) {
        if (f->diffs[i].kind == QTS_RECON_STRAY_ORDER)
            stray++;
        else if (f->diffs[i].kind == QTS_RECON_MISSING_ORDER)
            missing++;
        else
            other++;
    }
    assert_int_equal(stray, 1);   /* t1-888888, cancelled */
    assert_int_equal(missing, 2); /* t1-302 and t1-303 are not open there */
    assert_int_equal(other, 0);   /* positions agree */
    assert_true(fx_count(f, 'c') >= 1);

    /* kill switch: every working order escapes */
    assert_int_equal(qts_exec_escape_all(f->x, "kill"), 1);
    assert_int_equal(fx_order(f, w[0])->state, QTS_XS_ESCAPING);
    fx_report(f, QTS_EXEC_CANCELLED, cl(301), 0, 0, 0, 0);
    assert_int_equal(fx_order(f, w[0])->state, QTS_XS_ESCAPED);
    assert_false(qts_exec_has_working_orders(f->x));
    assert_int_equal(qts_oms_position(qts_exec_oms(f->x), 1), 300);
    fx_free(f);
}

/* The OMS alone: map deletion keeps every remaining lookup right. */
static void test_map_deletion(void **state)
{
    (void)state;
    struct qts_oms *oms = qts_oms_new("h");
    qts_oms_set_retention(oms, 0, 0, 100000);
    struct qts_order_intent in = fx_intent(1, 1, QTS_SIDE_BUY, QTS_ORD_LIMIT, 1, 1);
    enum { N = 6000 };
    static struct qts_parent *ps[N + 1];
    for (int i = 1; i <= N; i++) {
        ps[i] = qts_oms_parent_new(oms, &in, NULL);
        for (int k = 0; k < 2; k++)
            qts_oms_child_new(oms, ps[i], QTS_CHILD_SLICE, QTS_SIDE_BUY, QTS_ORD_LIMIT, 1, 1);
    }
    /* finish a scattered two thirds */
    for (int i = 1; i <= N; i++) {
        if (i % 3 == 0)
            continue;
        for (size_t k = 0; k < ps[i]->n_children; k++)
            qts_child_set_state(ps[i]->children[k], QTS_OS_REJECTED);
        ps[i]->state = QTS_XS_FAILED;
        qts_oms_parent_finished(oms, ps[i]);
    }
    assert_int_equal(qts_oms_evict(oms, 0, SIZE_MAX), N - N / 3);
    assert_int_equal(qts_oms_count(oms), N / 3);
    assert_int_equal(qts_oms_child_count(oms), 2 * (N / 3));
    char id[32];
    for (int i = 1; i <= N; i++) {
        struct qts_parent *p = qts_oms_find(oms, (uint64_t)i);
        for (int k = 1; k <= 2; k++) {
            snprintf(id, sizeof id, "h-%d", 2 * (i - 1) + k);
            struct qts_child *c = qts_oms_find_child(oms, id);
            if (i % 3 == 0) {
                assert_non_null(c);
                assert_ptr_equal(c->parent, p);
            } else {
                assert_null(c);
                assert_non_null(qts_oms_find_evicted(oms, id));
            }
        }
        if (i % 3 == 0)
            assert_int_equal(p->order_id, (uint64_t)i);
        else
            assert_int_equal(qts_oms_lookup(oms, (uint64_t)i, NULL), QTS_OMS_EVICTED);
    }
    /* new orders after compaction are found too */
    struct qts_parent *q = qts_oms_parent_new(oms, &in, NULL);
    assert_ptr_equal(qts_oms_find(oms, q->order_id), q);
    assert_int_equal(qts_oms_working_children(oms), 0);
    qts_oms_free(oms);
}

QTS_TEST_MAIN(test_long_run_stays_bounded, test_keep_everything_when_off,
              test_late_duplicate_ignored, test_late_new_fill_after_eviction_booked_once,
              test_referenced_orders_kept, test_retention_by_time_and_count,
              test_lookups_of_evicted_ids, test_tombstone_window,
              test_kill_switch_and_reconcile_after_eviction, test_map_deletion)
