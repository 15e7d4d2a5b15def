/* test_decide.c — the Decide stage on recorded callbacks: netting across
 * strategies of one scope (earlier intents first, exact legs, remainders
 * with their own ids), no netting across scopes, a maker's quotes are no
 * conflict, a self-contradiction is (GR030), duplicates are dropped, and
 * algos and limits that refuse the price never cross. */
#include "test_support.h"

#include <string.h>

#include "decide.h"
#include "qts/qts_err.h"
#include "risk_limits.h"
#include "safety_codes.h"

#define MAXREC 32

struct rec {
    struct qts_order_intent sent[MAXREC];
    size_t n_sent;
    struct qts_fill fills[MAXREC];
    size_t n_fills;
    struct qts_order_event orders[MAXREC];
    size_t n_orders;
    char outcomes[MAXREC][16];
    size_t n_dec;
    int safety[MAXREC];
    size_t n_safety;
    int scope_of[8]; /* by strategy id */
    int64_t px;
    struct qts_instrument inst;
};

static int r_submit(void *c, const struct qts_order_intent *in)
{
    struct rec *r = c;
    r->sent[r->n_sent++] = *in;
    return 0;
}
static void r_fill(void *c, const struct qts_fill *f)
{
    struct rec *r = c;
    r->fills[r->n_fills++] = *f;
}
static void r_order(void *c, const struct qts_order_event *ev)
{
    struct rec *r = c;
    r->orders[r->n_orders++] = *ev;
}
static void r_decision(void *c, const struct qts_decision *d)
{
    struct rec *r = c;
    snprintf(r->outcomes[r->n_dec++], sizeof r->outcomes[0], "%s", d->outcome);
}
static void r_safety(void *c, int code, const char *msg)
{
    (void)msg;
    struct rec *r = c;
    r->safety[r->n_safety++] = code;
}
static int r_scope(void *c, uint32_t sid) { return ((struct rec *)c)->scope_of[sid]; }
static int64_t r_px(void *c, uint32_t inst)
{
    (void)inst;
    return ((struct rec *)c)->px;
}
static const struct qts_instrument *r_inst(void *c, uint32_t id)
{
    (void)id;
    return &((struct rec *)c)->inst;
}
static int64_t r_now(void *c)
{
    (void)c;
    return 1000;
}

static struct qts_decide *mk(struct rec *r)
{
    memset(r, 0, sizeof *r);
    r->px = 10000; /* 100.00 */
    r->inst.px_exp = 2;
    r->inst.qty_exp = 0;
    r->inst.lot_size = 1;
    snprintf(r->inst.symbol, sizeof r->inst.symbol, "SYNTH");
    struct qts_decide_env env = {.submit = r_submit,
                                 .fill = r_fill,
                                 .order = r_order,
                                 .decision = r_decision,
                                 .safety = r_safety,
                                 .scope = r_scope,
                                 .decision_px = r_px,
                                 .instrument = r_inst,
                                 .now = r_now,
                                 .ctx = r};
    struct qts_decide_opts o = {.netting = true, .taker_fee_bps = 5};
    return qts_decide_new(&o, &env, NULL);
}

static struct qts_order_intent intent(uint32_t sid, int side, int64_t qty, uint64_t id)
{
    struct qts_order_intent in;
    memset(&in, 0, sizeof in);
    in.struct_size = sizeof in;
    in.strategy_id = sid;
    in.side = (uint8_t)side;
    in.type = QTS_ORD_MARKET;
    in.qty = qty;
    in.order_id = id;
    return in;
}

static void run(struct qts_decide *d, struct qts_order_intent *v, size_t n, int *rc)
{
    const struct qts_order_intent *p[8];
    for (size_t i = 0; i < n; i++)
        p[i] = &v[i];
    qts_decide_run(d, p, n, rc);
}

/* Two buyers (4 then 5) and a seller (6) in one scope: the seller crosses
 * the first buyer fully and the second by 2; the second's 3 go out. */
static void test_net_fifo(void **state)
{
    (void)state;
    struct rec r;
    struct qts_decide *d = mk(&r);
    struct qts_order_intent v[3] = {intent(1, QTS_SIDE_BUY, 4, 11), intent(2, QTS_SIDE_BUY, 5, 21),
                                    intent(3, QTS_SIDE_SELL, 6, 31)};
    int rc[3];
    run(d, v, 3, rc);
    assert_int_equal(r.n_fills, 3);
    assert_int_equal(r.fills[0].order_id, 11);
    assert_int_equal(r.fills[0].qty, 4);
    assert_int_equal(r.fills[1].order_id, 21);
    assert_int_equal(r.fills[1].qty, 2);
    assert_int_equal(r.fills[2].order_id, 31);
    assert_int_equal(r.fills[2].qty, 6);
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(r.fills[i].px, 10000);
        assert_int_equal(r.fills[i].fee, 0);
        assert_true(r.fills[i].fill_id > (UINT64_C(1) << 62));
    }
    assert_int_equal(r.n_sent, 1); /* the net: buy 3, the second buyer's id */
    assert_int_equal(r.sent[0].order_id, 21);
    assert_int_equal(r.sent[0].qty, 3);
    assert_int_equal(r.n_orders, 2); /* 11 and 31 complete internally */
    assert_int_equal(r.orders[0].kind, QTS_OE_COMPLETE);
    assert_int_equal(r.orders[0].filled_qty, 4);
    assert_int_equal(r.n_dec, 3);
    assert_string_equal(r.outcomes[0], "netted");
    struct qts_decide_stats s;
    qts_decide_get_stats(d, &s);
    assert_int_equal(s.netted, 3);
    /* 6 x 100.00 crossed = 600, two legs at 5 bps = 0.60 */
    assert_int_equal(s.cross_notional, 600 * 1000000LL);
    assert_int_equal(s.fees_saved, 600000);
    qts_decide_free(d);
}

static void test_scopes_apart(void **state)
{
    (void)state;
    struct rec r;
    struct qts_decide *d = mk(&r);
    r.scope_of[2] = QTS_POOL_SWING;
    struct qts_order_intent v[2] = {intent(1, QTS_SIDE_BUY, 4, 11),
                                    intent(2, QTS_SIDE_SELL, 4, 21)};
    int rc[2];
    run(d, v, 2, rc);
    assert_int_equal(r.n_fills, 0);
    assert_int_equal(r.n_sent, 2);
    assert_int_equal(r.n_dec, 0);
    qts_decide_free(d);
}

static void test_maker_quotes_and_conflict(void **state)
{
    (void)state;
    struct rec r;
    struct qts_decide *d = mk(&r);
    struct qts_order_intent v[2] = {intent(1, QTS_SIDE_BUY, 1, 11),
                                    intent(1, QTS_SIDE_SELL, 1, 12)};
    v[0].type = v[1].type = QTS_ORD_LIMIT;
    v[0].px = 9990; /* below the mid: a quote, not a crossing order */
    v[1].px = 10010;
    int rc[2];
    run(d, v, 2, rc);
    assert_int_equal(r.n_sent, 2);
    assert_int_equal(r.n_safety, 0);
    /* the same strategy at the market both ways: GR030, both dropped */
    struct qts_order_intent w[2] = {intent(1, QTS_SIDE_BUY, 1, 13),
                                    intent(1, QTS_SIDE_SELL, 1, 14)};
    run(d, w, 2, rc);
    assert_int_equal(r.n_sent, 2);
    assert_int_equal(r.n_safety, 1);
    assert_int_equal(r.safety[0], QTS_SC_GR030);
    assert_int_equal(r.n_orders, 2);
    assert_int_equal(r.orders[0].kind, QTS_OE_REJECTED);
    assert_int_equal(r.orders[0].code, 30);
    assert_string_equal(r.outcomes[0], "dropped");
    qts_decide_free(d);
}

static void test_duplicate_and_uncrossable(void **state)
{
    (void)state;
    struct rec r;
    struct qts_decide *d = mk(&r);
    struct qts_order_intent v[4] = {intent(1, QTS_SIDE_BUY, 2, 11), intent(1, QTS_SIDE_BUY, 2, 12),
                                    intent(2, QTS_SIDE_SELL, 2, 21),
                                    intent(3, QTS_SIDE_SELL, 2, 31)};
    v[2].algo = QTS_ALGO_TWAP; /* an algo never crosses */
    v[3].type = QTS_ORD_LIMIT; /* a sell limit above the price cannot */
    v[3].px = 10100;
    int rc[4];
    run(d, v, 4, rc);
    assert_int_equal(r.n_fills, 0);
    assert_int_equal(r.n_sent, 3); /* 11, 21, 31; 12 dropped */
    assert_int_equal(r.sent[0].order_id, 11);
    assert_int_equal(r.sent[1].order_id, 21);
    assert_int_equal(r.sent[2].order_id, 31);
    assert_int_equal(r.n_orders, 1);
    assert_int_equal(r.orders[0].order_id, 12);
    assert_string_equal(r.outcomes[0], "dropped");
    /* no price known: nothing crosses */
    r.px = 0;
    struct qts_order_intent w[2] = {intent(1, QTS_SIDE_BUY, 2, 15),
                                    intent(2, QTS_SIDE_SELL, 2, 25)};
    run(d, w, 2, rc);
    assert_int_equal(r.n_fills, 0);
    assert_int_equal(r.n_sent, 5);
    qts_decide_free(d);
}

QTS_TEST_MAIN(test_net_fifo, test_scopes_apart, test_maker_quotes_and_conflict,
              test_duplicate_and_uncrossable)
