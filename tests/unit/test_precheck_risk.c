/* test_precheck_risk.c — every pre-trade risk check through the real
 * execution pipeline (its PreCheck hooks) on a fake clock; the rejection
 * code and message reach the strategy's on_order. */
#include "exec_fixture.h"

#include "precheck_risk.h"
#include "safety.h"
#include "test_risk_book.h"

#define CASH(v) ((int64_t)(v)*1000000) /* currency -> QTS_CASH_EXP units */

struct pt {
    struct fx *f;
    struct qts_safety *s;
    struct qts_precheck_risk *r;
    struct qts_risk_limit_set lim;
    int64_t pos[4], spos[4];
    int64_t equity, gross, net, pnl, pool;
    bool closed;
    uint32_t trades;
};

static int64_t b_pos(void *c, uint32_t i) { return ((struct pt *)c)->pos[i]; }
static int64_t b_spos(void *c, uint32_t s, uint32_t i)
{
    (void)s;
    return ((struct pt *)c)->spos[i];
}
static int64_t b_eq(void *c) { return ((struct pt *)c)->equity; }
static int64_t b_gross(void *c) { return ((struct pt *)c)->gross; }
static int64_t b_net(void *c) { return ((struct pt *)c)->net; }
static int64_t b_pnl(void *c) { return ((struct pt *)c)->pnl; }
static int64_t b_pool(void *c, int p)
{
    (void)p;
    return ((struct pt *)c)->pool;
}
static bool b_open(void *c, uint32_t i)
{
    (void)i;
    return !((struct pt *)c)->closed;
}
static uint32_t b_trades(void *c, uint32_t s)
{
    (void)s;
    return ((struct pt *)c)->trades;
}

static struct pt *pt_new(void)
{
    struct pt *t = qts_xcalloc(1, sizeof *t);
    t->f = fx_new();
    fx_start(t->f);
    t->s = qts_safety_new(&t->f->clock);
    t->equity = CASH(100000000); /* 100 M */
    t->pool = CASH(50000000);
    qts_risk_limit_set_init(&t->lim);
    struct qts_risk_book book = QTS_TEST_RISK_BOOK(b, t);
    t->r = qts_precheck_risk_new(&t->lim, t->s, &book);
    assert_int_equal(qts_precheck_risk_install(t->r, t->f->x), 0);
    return t;
}

static void pt_free(struct pt *t)
{
    qts_precheck_risk_free(t->r);
    qts_safety_free(t->s);
    fx_free(t->f);
    free(t);
}

static void pt_limits(struct pt *t) { qts_precheck_risk_set_limits(t->r, &t->lim); }

/* Submit; returns "" when accepted, else the rejection code text, checking
 * that the strategy got an on_order REJECTED with that code number. */
static const char *try_order(struct pt *t, uint32_t strat, uint8_t side, uint8_t type, int64_t px,
                             int64_t qty, const char *tag)
{
    static char code[8];
    struct qts_order_intent in = fx_intent(strat, 1, side, type, px, qty);
    if (tag)
        qts_strlcpy(in.tag, tag, sizeof in.tag);
    uint64_t id = 0;
    struct qts_err err;
    int n_ev = t->f->n_ev;
    int rc = qts_exec_submit(t->f->x, &in, &id, &err);
    if (rc == 0)
        return "";
    assert_int_equal(rc, QTS_ERISK);
    assert_true(t->f->n_ev > n_ev);
    const struct qts_order_event *ev = fx_last_ev(t->f);
    assert_int_equal(ev->kind, QTS_OE_REJECTED);
    assert_int_equal(ev->order_id, id);
    /* the message names the code; the event carries its number */
    const char *p = strstr(err.msg, "GR");
    assert_non_null(p);
    memcpy(code, p, 5);
    code[5] = '\0';
    assert_int_equal(ev->code, atoi(code + 2));
    /* and the strategy reads the code and the message in the event */
    assert_non_null(strstr(ev->reason, code));
    assert_true(strlen(ev->reason) > 6);
    return code;
}

#define BUY(px, q) try_order(t, 1, QTS_SIDE_BUY, QTS_ORD_LIMIT, (px), (q), NULL)
#define SELL(px, q) try_order(t, 1, QTS_SIDE_SELL, QTS_ORD_LIMIT, (px), (q), NULL)

static void test_passes_by_default(void **state)
{
    (void)state;
    struct pt *t = pt_new();
    assert_string_equal(BUY(60000, 10), "");
    assert_string_equal(SELL(60100, 10), "");
    pt_free(t);
}

static void test_switches_and_safety(void **state)
{
    (void)state;
    struct pt *t = pt_new();
    qts_safety_set_trading_enabled(t->s, false);
    assert_string_equal(BUY(60000, 1), "GR100");
    qts_safety_set_trading_enabled(t->s, true);
    t->lim.global.trading_enabled = false;
    pt_limits(t);
    assert_string_equal(BUY(60000, 1), "GR100");
    t->lim.global.trading_enabled = true;
    pt_limits(t);
    qts_safety_set_kill(t->s, true, "ops", "t");
    assert_string_equal(BUY(60000, 1), "GR101");
    qts_safety_set_kill(t->s, false, "ops", "t");
    qts_safety_raise(t->s, QTS_SC_AN001, "warn"); /* WARNING still trades */
    assert_string_equal(BUY(60000, 1), "");
    qts_safety_raise(t->s, QTS_SC_FS040, "trip");
    assert_string_equal(BUY(60000, 1), "GR102");
    qts_safety_recover(t->s, false, NULL, NULL, NULL);
    t->f->inst[0].flags = 0;
    assert_string_equal(BUY(60000, 1), "GR103");
    t->f->inst[0].flags = QTS_INST_TRADABLE;
    t->closed = true;
    assert_string_equal(BUY(60000, 1), "GR104");
    t->closed = false;
    qts_precheck_risk_freeze(t->r, 1, true);
    assert_string_equal(BUY(60000, 1), "GR117");
    qts_precheck_risk_freeze(t->r, 1, false);
    assert_string_equal(BUY(60000, 1), "");
    pt_free(t);
}

static void test_price_bands(void **state)
{
    (void)state;
    struct pt *t = pt_new();
    t->f->params.price_band_pct = 0; /* the pipeline's own band off */
    qts_exec_free(t->f->x);
    fx_start(t->f);
    qts_precheck_risk_install(t->r, t->f->x);
    t->lim.global.price_band_last_pct = 0.01;
    t->lim.global.price_band_mid_pct = 0.02;
    pt_limits(t);
    /* last 60000, mid 60050 */
    assert_string_equal(BUY(60600, 1), "");
    assert_string_equal(BUY(60700, 1), "GR105");
    t->f->ref.last = 61000;
    assert_string_equal(BUY(61200, 1), "");
    assert_string_equal(BUY(61300, 1), "GR106"); /* within 1 % of last, 2.1 % off mid */
    pt_free(t);
}

static void test_order_size_limits(void **state)
{
    (void)state;
    struct pt *t = pt_new();
    t->lim.global.max_order_qty = 100;
    t->lim.global.max_order_notional = 3000000; /* 3 M KRW */
    pt_limits(t);
    assert_string_equal(BUY(60000, 50), "");
    assert_string_equal(BUY(60000, 51), "GR108");
    t->lim.global.max_order_notional = 0;
    pt_limits(t);
    assert_string_equal(BUY(60000, 100), "");
    assert_string_equal(BUY(60000, 101), "GR107");
    pt_free(t);
}

static void test_position_limits_and_reducing_orders(void **state)
{
    (void)state;
    struct pt *t = pt_new();
    t->lim.global.max_position_symbol = 100;
    pt_limits(t);
    t->pos[1] = 90;
    assert_string_equal(BUY(60000, 10), "");
    assert_string_equal(BUY(60000, 11), "GR109");
    /* short side too */
    t->pos[1] = -95;
    assert_string_equal(SELL(60000, 6), "GR109");
    /* reducing a position above its limit is allowed */
    t->pos[1] = 150;
    assert_string_equal(SELL(60000, 50), "");
    /* crossing through zero is not a reduction */
    assert_string_equal(SELL(60000, 300), "GR109");
    /* per strategy, with an override for strategy 7 */
    t->pos[1] = 0;
    t->lim.global.max_position_symbol = 0;
    t->lim.global.max_position_strategy = 20;
    struct qts_risk_limits o = t->lim.global;
    o.max_position_strategy = 50;
    assert_int_equal(qts_risk_limit_set_override(&t->lim, 7, &o), 0);
    pt_limits(t);
    t->spos[1] = 15;
    assert_string_equal(BUY(60000, 6), "GR110");
    assert_string_equal(try_order(t, 7, QTS_SIDE_BUY, QTS_ORD_LIMIT, 60000, 30, NULL), "");
    pt_free(t);
}

static void test_exposure_capital_and_loss(void **state)
{
    (void)state;
    struct pt *t = pt_new();
    /* equity 100 M: symbol 15 % = 15 M = 250 shares at 60000 */
    assert_string_equal(BUY(60000, 250), "");
    assert_string_equal(BUY(60000, 251), "GR010");
    /* gross 95 %: 90 M already used, 6 M more is too much */
    t->gross = CASH(90000000);
    assert_string_equal(BUY(60000, 100), "GR001");
    t->gross = 0;
    t->net = CASH(-94000000);
    assert_string_equal(SELL(60100, 20), "GR111");
    t->net = 0;
    /* pool capital */
    t->pool = CASH(1000000);
    assert_string_equal(BUY(60000, 16), "");
    assert_string_equal(BUY(60000, 17), "GR061");
    t->pool = CASH(50000000);
    /* daily loss: warn at 3 % (GR020, no state change), stop at 5 % */
    t->pnl = CASH(-3500000);
    assert_string_equal(BUY(60000, 1), "");
    assert_int_equal(qts_safety_state(t->s), QTS_SAFETY_NORMAL);
    t->pnl = CASH(-5000000);
    assert_string_equal(BUY(60000, 1), "GR112");
    t->pos[1] = 10; /* closing is still allowed */
    assert_string_equal(SELL(60100, 10), "");
    t->pnl = 0;
    t->pos[1] = 0;
    t->equity = 0;
    assert_string_equal(BUY(60000, 1), "GR001");
    t->equity = CASH(100000000);
    t->lim.global.max_daily_trades = 5;
    pt_limits(t);
    t->trades = 5;
    assert_string_equal(BUY(60000, 1), "GR062");
    pt_free(t);
}

static void test_order_rate_limits(void **state)
{
    (void)state;
    struct pt *t = pt_new();
    t->lim.global.max_orders_per_sec = 5;
    t->lim.global.max_orders_per_min = 12;
    pt_limits(t);
    for (int i = 0; i < 5; i++)
        assert_string_equal(BUY(60000, 1), "");
    assert_string_equal(BUY(60000, 1), "GR113");
    /* another strategy has its own buckets */
    assert_string_equal(try_order(t, 2, QTS_SIDE_BUY, QTS_ORD_LIMIT, 60000, 1, NULL), "");
    fx_advance_ms(t->f, 1000);
    for (int i = 0; i < 5; i++)
        assert_string_equal(BUY(60000, 1), "");
    fx_advance_ms(t->f, 1000);
    assert_string_equal(BUY(60000, 1), "");
    assert_string_equal(BUY(60000, 1), "");
    assert_string_equal(BUY(60000, 1), "GR114"); /* 12 in the minute */
    fx_advance_ms(t->f, 30000);                  /* half a minute refills 6 */
    for (int i = 0; i < 5; i++)
        assert_string_equal(BUY(60000, 1), "");
    assert_true(qts_precheck_risk_rejections(t->r, QTS_SC_GR113) >= 1);
    char js[512];
    qts_precheck_risk_usage_json(t->r, js, sizeof js);
    assert_non_null(strstr(js, "\"GR114\":1"));
    pt_free(t);
}

static void test_cancel_rate_limits(void **state)
{
    (void)state;
    struct pt *t = pt_new();
    t->lim.global.max_cancels_per_sec = 3;
    t->lim.global.max_cancels_per_min = 4;
    pt_limits(t);
    int64_t now = qts_clock_now(&t->f->clock);
    struct qts_precheck_reject rej;
    for (int i = 0; i < 3; i++)
        assert_int_equal(qts_precheck_risk_cancel(t->r, 1, now, &rej), 0);
    assert_int_equal(qts_precheck_risk_cancel(t->r, 1, now, &rej), QTS_ERATELIMIT);
    assert_string_equal(rej.code_str, "GR115");
    assert_int_equal(rej.code, 115);
    now += INT64_C(1000000000);
    assert_int_equal(qts_precheck_risk_cancel(t->r, 1, now, &rej), 0);
    assert_int_equal(qts_precheck_risk_cancel(t->r, 1, now, &rej), QTS_ERATELIMIT);
    assert_string_equal(rej.code_str, "GR116");
    pt_free(t);
}

static void test_risk_exit_passes_kill_switch(void **state)
{
    (void)state;
    struct pt *t = pt_new();
    qts_safety_raise(t->s, QTS_SC_FS104, "kill");
    qts_safety_set_kill(t->s, true, "ops", "t");
    t->pos[1] = 100;
    t->lim.global.max_orders_per_sec = 1;
    pt_limits(t);
    assert_string_equal(try_order(t, 1, QTS_SIDE_SELL, QTS_ORD_MARKET, 0, 100, QTS_RISK_EXIT_TAG),
                        "");
    assert_string_equal(try_order(t, 1, QTS_SIDE_SELL, QTS_ORD_MARKET, 0, 50, QTS_RISK_EXIT_TAG),
                        "");
    /* an "exit" that would open a position is an ordinary order */
    assert_string_equal(try_order(t, 1, QTS_SIDE_SELL, QTS_ORD_MARKET, 0, 300, QTS_RISK_EXIT_TAG),
                        "GR101");
    /* a strategy's own reducing order is still blocked by the kill switch */
    assert_string_equal(SELL(60100, 10), "GR101");
    pt_free(t);
}

static void test_notional_fixed_point(void **state)
{
    (void)state;
    /* KRW: px exp 0, qty exp 0 */
    assert_int_equal(qts_risk_notional(60000, 10, 0, 0), CASH(600000));
    /* BTCUSDT: 65000.00 x 0.010 = 650 USDT */
    assert_int_equal(qts_risk_notional(6500000, 10, 2, 3), CASH(650));
    assert_int_equal(qts_risk_notional(6500000, -10, 2, 3), CASH(650));
    assert_int_equal(qts_risk_notional(INT64_MAX, INT64_MAX, 0, 0), INT64_MAX);
}

static void test_limits_validate(void **state)
{
    (void)state;
    struct qts_risk_limits l;
    qts_risk_limits_default(&l);
    struct qts_err err;
    assert_int_equal(qts_risk_limits_validate(&l, &err), 0);
    l.loop_period_ms = 5;
    assert_int_equal(qts_risk_limits_validate(&l, &err), QTS_ECONFIG);
    assert_non_null(strstr(err.msg, "risk.loop_period_ms"));
    l.loop_period_ms = 1000;
    l.mae_partial_pct = 0.03;
    assert_int_equal(qts_risk_limits_validate(&l, &err), QTS_ECONFIG);
    assert_int_equal(qts_pool_parse("swing"), QTS_POOL_SWING);
    assert_int_equal(qts_pool_parse("x"), -1);
}

QTS_TEST_MAIN(test_passes_by_default, test_switches_and_safety, test_price_bands,
              test_order_size_limits, test_position_limits_and_reducing_orders,
              test_exposure_capital_and_loss, test_order_rate_limits, test_cancel_rate_limits,
              test_risk_exit_passes_kill_switch, test_notional_fixed_point, test_limits_validate)
