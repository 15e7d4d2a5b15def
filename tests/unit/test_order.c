/* test_order.c — the child order state machine: every allowed and every
 * forbidden transition, and exactly-once application of execution reports
 * that arrive twice, late or out of order. */
#include "test_support.h"

#include <stdlib.h>
#include <string.h>

#include "order.h"
#include "qts/qts_err.h"
#include "util.h"

enum {
    N_ = QTS_OS_NEW,
    PS = QTS_OS_PENDING_SEND,
    AC = QTS_OS_ACCEPTED,
    PF = QTS_OS_PARTIALLY_FILLED,
    FI = QTS_OS_FILLED,
    CP = QTS_OS_CANCEL_PENDING,
    CA = QTS_OS_CANCELLED,
    RJ = QTS_OS_REJECTED,
    EX = QTS_OS_EXPIRED,
    UK = QTS_OS_UNKNOWN
};

/* The documented table (docs/execution.md), written out independently. */
static const char *const allowed[] = {
    "new>pending_send",
    "new>rejected",
    "pending_send>accepted",
    "pending_send>partially_filled",
    "pending_send>filled",
    "pending_send>rejected",
    "pending_send>unknown",
    "pending_send>cancel_pending",
    "pending_send>cancelled",
    "pending_send>expired",
    "accepted>partially_filled",
    "accepted>filled",
    "accepted>cancel_pending",
    "accepted>cancelled",
    "accepted>expired",
    "accepted>unknown",
    "partially_filled>filled",
    "partially_filled>cancel_pending",
    "partially_filled>cancelled",
    "partially_filled>expired",
    "partially_filled>unknown",
    "cancel_pending>accepted",
    "cancel_pending>partially_filled",
    "cancel_pending>filled",
    "cancel_pending>cancelled",
    "cancel_pending>rejected",
    "cancel_pending>expired",
    "cancel_pending>unknown",
    "unknown>pending_send",
    "unknown>accepted",
    "unknown>partially_filled",
    "unknown>filled",
    "unknown>cancel_pending",
    "unknown>cancelled",
    "unknown>rejected",
    "unknown>expired",
};

static bool in_allowed(int from, int to)
{
    char key[64];
    snprintf(key, sizeof key, "%s>%s", qts_order_state_name(from), qts_order_state_name(to));
    for (size_t i = 0; i < QTS_ARRAY_LEN(allowed); i++)
        if (strcmp(allowed[i], key) == 0)
            return true;
    return false;
}

static void test_every_transition(void **state)
{
    (void)state;
    int n_ok = 0;
    for (int from = 0; from < 10; from++) {
        for (int to = 0; to < 10; to++) {
            struct qts_child c;
            memset(&c, 0, sizeof c);
            c.state = (uint8_t)from;
            bool want = in_allowed(from, to);
            assert_int_equal(qts_order_transition_ok(from, to), want);
            int rc = qts_child_set_state(&c, to);
            if (from == to) {
                assert_int_equal(rc, 0); /* no-op */
            } else if (want) {
                assert_int_equal(rc, 0);
                assert_int_equal(c.state, to);
                n_ok++;
            } else {
                assert_int_equal(rc, QTS_ESTATE);
                assert_int_equal(c.state, from);
            }
        }
        /* final states are absorbing */
        if (qts_order_state_final(from))
            for (int to = 0; to < 10; to++)
                assert_false(qts_order_transition_ok(from, to));
    }
    assert_int_equal(n_ok, (int)QTS_ARRAY_LEN(allowed));
    assert_false(qts_order_transition_ok(-1, 2));
    assert_false(qts_order_transition_ok(2, 10));
}

static struct qts_child *child(int st, int64_t qty)
{
    struct qts_child *c = qts_xcalloc(1, sizeof *c);
    qts_strlcpy(c->client_order_id, "h-1", sizeof c->client_order_id);
    c->state = (uint8_t)st;
    c->qty = qty;
    c->side = QTS_SIDE_BUY;
    c->type = QTS_ORD_LIMIT;
    c->px = 100;
    return c;
}

static void drop(struct qts_child *c)
{
    qts_child_cleanup(c);
    free(c);
}

static struct qts_exec_report rep(uint8_t type, int64_t qty, int64_t px, uint64_t fid, int64_t cum)
{
    struct qts_exec_report r;
    memset(&r, 0, sizeof r);
    r.struct_size = sizeof r;
    r.exec_type = type;
    qts_strlcpy(r.client_order_id, "h-1", sizeof r.client_order_id);
    qts_strlcpy(r.venue_order_id, "V1", sizeof r.venue_order_id);
    r.last_qty = qty;
    r.last_px = px;
    r.fill_id = fid;
    r.cum_qty = cum;
    r.leaves_qty = -1;
    return r;
}

/* Apply `x` (borrowed) to c; the state c is in afterwards. */
static int apply_state(struct qts_child *c, const struct qts_exec_report *x,
                       struct qts_apply_result *r)
{
    qts_child_apply(c, x, r);
    return c->state;
}

static void test_ack_fill_duplicate(void **state)
{
    (void)state;
    struct qts_child *c = child(PS, 100);
    struct qts_apply_result r;
    struct qts_exec_report a = rep(QTS_EXEC_ACK, 0, 0, 0, 0);
    assert_int_equal(qts_child_apply(c, &a, &r), 0);
    assert_true(r.flags & QTS_APPLY_STATE);
    assert_int_equal(c->state, AC);
    assert_string_equal(c->venue_order_id, "V1");
    struct qts_exec_report f1 = rep(QTS_EXEC_FILL, 40, 101, 7, 0);
    qts_child_apply(c, &f1, &r);
    assert_true(r.flags & QTS_APPLY_FILL);
    assert_int_equal(r.fill_qty, 40);
    assert_int_equal(c->state, PF);
    /* the same fill again: nothing */
    qts_child_apply(c, &f1, &r);
    assert_int_equal(r.flags, QTS_APPLY_DUP);
    assert_int_equal(c->cum_qty, 40);
    struct qts_exec_report f2 = rep(QTS_EXEC_FILL, 60, 103, 8, 0);
    assert_int_equal(apply_state(c, &f2, &r), FI);
    assert_int_equal(c->cum_qty, 100);
    assert_int_equal(qts_child_avg_px(c), (40 * 101 + 60 * 103 + 50) / 100);
    assert_int_equal(qts_child_leaves(c), 0);
    /* late ack and late cancel after the fill: ignored */
    qts_child_apply(c, &a, &r);
    assert_true(r.flags & QTS_APPLY_IGNORED);
    struct qts_exec_report cx = rep(QTS_EXEC_CANCELLED, 0, 0, 0, 0);
    qts_child_apply(c, &cx, &r);
    assert_true(r.flags & QTS_APPLY_IGNORED);
    assert_int_equal(c->state, FI);
    drop(c);
}

static void test_out_of_order(void **state)
{
    (void)state;
    struct qts_child *c = child(PS, 100);
    struct qts_apply_result r;
    /* fill before the ack: implicit acceptance */
    struct qts_exec_report f2 = rep(QTS_EXEC_FILL, 30, 100, 20, 50);
    assert_int_equal(apply_state(c, &f2, &r), PF);
    assert_int_equal(c->cum_qty, 30);
    /* the earlier fill (cum 20) arrives after the later one (cum 50): it is
     * applied once; increments are summed in whatever order they come */
    struct qts_exec_report f1 = rep(QTS_EXEC_FILL, 20, 99, 10, 20);
    qts_child_apply(c, &f1, &r);
    assert_int_equal(r.fill_qty, 20);
    assert_int_equal(c->cum_qty, 50);
    /* then the ack */
    struct qts_exec_report a = rep(QTS_EXEC_ACK, 0, 0, 0, 0);
    qts_child_apply(c, &a, &r);
    assert_true(r.flags & QTS_APPLY_IGNORED);
    assert_int_equal(c->state, PF);
    /* duplicates of both */
    qts_child_apply(c, &f1, &r);
    assert_true(r.flags & QTS_APPLY_DUP);
    qts_child_apply(c, &f2, &r);
    assert_true(r.flags & QTS_APPLY_DUP);
    assert_int_equal(c->cum_qty, 50);
    drop(c);
}

static void test_cancel_paths(void **state)
{
    (void)state;
    struct qts_apply_result r;
    struct qts_child *c = child(AC, 100);
    qts_child_set_state(c, CP);
    /* a fill racing the cancel is applied; state stays CANCEL_PENDING */
    struct qts_exec_report f = rep(QTS_EXEC_FILL, 10, 100, 1, 10);
    assert_int_equal(apply_state(c, &f, &r), CP);
    assert_int_equal(c->cum_qty, 10);
    /* cancel rejected: back to partially filled */
    struct qts_exec_report cr = rep(QTS_EXEC_CANCEL_REJECT, 0, 0, 0, 0);
    assert_int_equal(apply_state(c, &cr, &r), PF);
    qts_child_set_state(c, CP);
    struct qts_exec_report cx = rep(QTS_EXEC_CANCELLED, 0, 0, 0, 0);
    assert_int_equal(apply_state(c, &cx, &r), CA);
    /* a late fill after the cancel confirmation is still counted once */
    struct qts_exec_report late = rep(QTS_EXEC_FILL, 5, 100, 2, 15);
    qts_child_apply(c, &late, &r);
    assert_true(r.flags & QTS_APPLY_FILL);
    assert_int_equal(c->cum_qty, 15);
    assert_int_equal(c->state, CA);
    drop(c);
    /* cancel rejected without fills: back to accepted */
    c = child(AC, 100);
    qts_child_set_state(c, CP);
    assert_int_equal(apply_state(c, &cr, &r), AC);
    drop(c);
}

static void test_reject_expire_duplicate_id(void **state)
{
    (void)state;
    struct qts_apply_result r;
    struct qts_child *c = child(PS, 100);
    struct qts_exec_report rj = rep(QTS_EXEC_REJECT, 0, 0, 0, 0);
    rj.code = QTS_EREJECT;
    assert_int_equal(apply_state(c, &rj, &r), RJ);
    drop(c);
    /* "duplicate client order id" on a resend means the first one is live */
    c = child(UK, 100);
    rj.code = QTS_EEXIST;
    assert_int_equal(apply_state(c, &rj, &r), AC);
    /* a reject of an accepted order is stale */
    rj.code = QTS_EREJECT;
    qts_child_apply(c, &rj, &r);
    assert_true(r.flags & QTS_APPLY_IGNORED);
    assert_int_equal(c->state, AC);
    struct qts_exec_report ex = rep(QTS_EXEC_EXPIRED, 0, 0, 0, 0);
    assert_int_equal(apply_state(c, &ex, &r), EX);
    drop(c);
}

static void test_overfill_status_replace(void **state)
{
    (void)state;
    struct qts_apply_result r;
    struct qts_child *c = child(AC, 100);
    struct qts_exec_report f = rep(QTS_EXEC_FILL, 150, 100, 1, 0);
    qts_child_apply(c, &f, &r);
    assert_true(r.flags & QTS_APPLY_OVERFILL);
    assert_int_equal(c->cum_qty, 100);
    assert_int_equal(c->state, FI);
    drop(c);
    /* STATUS with a higher cum books the missing quantity; the real fill
     * report that comes later is COVERED, not counted again */
    c = child(UK, 100);
    struct qts_exec_report st = rep(QTS_EXEC_STATUS, 0, 101, 0, 30);
    qts_child_apply(c, &st, &r);
    assert_true(r.flags & QTS_APPLY_FILL);
    assert_int_equal(c->cum_qty, 30);
    assert_int_equal(c->state, PF);
    assert_true(c->recon_seen);
    struct qts_exec_report real = rep(QTS_EXEC_FILL, 30, 101, 99, 30);
    qts_child_apply(c, &real, &r);
    assert_true(r.flags & QTS_APPLY_COVERED);
    assert_int_equal(c->cum_qty, 30);
    /* replace: new price and quantity */
    c->modify_pending = true;
    struct qts_exec_report rp = rep(QTS_EXEC_REPLACED, 0, 105, 0, 0);
    rp.leaves_qty = 70;
    qts_child_apply(c, &rp, &r);
    assert_false(c->modify_pending);
    assert_int_equal(c->px, 105);
    assert_int_equal(c->qty, 100);
    struct qts_exec_report bad = rep(99, 0, 0, 0, 0);
    assert_int_equal(qts_child_apply(c, &bad, &r), QTS_EINVAL);
    drop(c);
}

/* Every allowed edge driven by what triggers it: a venue report, or a local
 * action of the pipeline (send, cancel request, ack timeout, resend). */
struct edge_case {
    int from;
    int64_t cum;   /* filled before the event */
    int exec_type; /* 0 = local action */
    int64_t qty;   /* fill quantity */
    int code;      /* reject code */
    int to;
};

static void test_every_transition_by_event(void **state)
{
    (void)state;
    enum {
        L = 0,
        ACK = QTS_EXEC_ACK,
        REJ = QTS_EXEC_REJECT,
        FILL = QTS_EXEC_FILL,
        CXL = QTS_EXEC_CANCELLED,
        CREJ = QTS_EXEC_CANCEL_REJECT,
        EXP = QTS_EXEC_EXPIRED
    };
    static const struct edge_case cases[] = {
        {N_, 0, L, 0, 0, PS},
        {N_, 0, REJ, 0, QTS_EREJECT, RJ},
        {PS, 0, ACK, 0, 0, AC},
        {PS, 0, FILL, 4, 0, PF},
        {PS, 0, FILL, 10, 0, FI},
        {PS, 0, REJ, 0, QTS_EREJECT, RJ},
        {PS, 0, L, 0, 0, UK},
        {PS, 0, L, 0, 0, CP},
        {PS, 0, CXL, 0, 0, CA},
        {PS, 0, EXP, 0, 0, EX},
        {AC, 0, FILL, 4, 0, PF},
        {AC, 0, FILL, 10, 0, FI},
        {AC, 0, L, 0, 0, CP},
        {AC, 0, CXL, 0, 0, CA},
        {AC, 0, EXP, 0, 0, EX},
        {AC, 0, L, 0, 0, UK},
        {PF, 4, FILL, 6, 0, FI},
        {PF, 4, L, 0, 0, CP},
        {PF, 4, CXL, 0, 0, CA},
        {PF, 4, EXP, 0, 0, EX},
        {PF, 4, L, 0, 0, UK},
        {CP, 0, CREJ, 0, 0, AC},
        {CP, 4, CREJ, 0, 0, PF},
        {CP, 0, FILL, 10, 0, FI},
        {CP, 0, CXL, 0, 0, CA},
        {CP, 0, REJ, 0, QTS_EREJECT, RJ},
        {CP, 0, EXP, 0, 0, EX},
        {CP, 0, L, 0, 0, UK},
        {UK, 0, L, 0, 0, PS},
        {UK, 0, ACK, 0, 0, AC},
        {UK, 0, REJ, 0, QTS_EEXIST, AC},
        {UK, 0, FILL, 4, 0, PF},
        {UK, 0, FILL, 10, 0, FI},
        {UK, 0, L, 0, 0, CP},
        {UK, 0, CXL, 0, 0, CA},
        {UK, 0, REJ, 0, QTS_EREJECT, RJ},
        {UK, 0, EXP, 0, 0, EX},
    };
    bool seen[10][10];
    memset(seen, 0, sizeof seen);
    for (size_t i = 0; i < QTS_ARRAY_LEN(cases); i++) {
        const struct edge_case *e = &cases[i];
        struct qts_child *c = child(e->from, 10);
        c->cum_qty = e->cum;
        c->notional = (qts_i128)e->cum * 100;
        if (e->exec_type == L) {
            assert_int_equal(qts_child_set_state(c, e->to), 0);
        } else {
            struct qts_exec_report r = rep((uint8_t)e->exec_type, e->qty, 100, 1000 + i, 0);
            r.code = e->code;
            struct qts_apply_result res;
            assert_int_equal(qts_child_apply(c, &r, &res), 0);
            assert_true(res.flags & QTS_APPLY_STATE);
            assert_int_equal(res.from, e->from);
            assert_int_equal(res.to, e->to);
        }
        assert_int_equal(c->state, e->to);
        seen[e->from][e->to] = true;
        drop(c);
    }
    /* every allowed edge was driven at least once */
    for (int from = 0; from < 10; from++)
        for (int to = 0; to < 10; to++)
            if (from != to && qts_order_transition_ok(from, to))
                assert_true(seen[from][to]);
}

QTS_TEST_MAIN(test_every_transition, test_every_transition_by_event, test_ack_fill_duplicate,
              test_out_of_order, test_cancel_paths, test_reject_expire_duplicate_id,
              test_overfill_status_replace)
