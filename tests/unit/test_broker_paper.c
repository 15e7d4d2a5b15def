/* test_broker_paper.c — the paper broker plugin (the real .so, loaded with
 * dlopen; broker_paper_fixture.h) order by order: market orders walk the
 * book, queue position with trades and cancels ahead, partial fills,
 * latency, fees, market impact, rejects, cancel, modify, determinism, state
 * transfer. The long runs (real data, random flow) are in
 * test_broker_paper_flow.c. */
#include "broker_paper_fixture.h"

/* ------------------------------------------------------------------- cases */

static void test_market_order_walks_book(void **state)
{
    (void)state;
    cfg_reset();
    void *v = venue_open();
    std_book(v, H.now);
    assert_int_equal(
        submit(v, "m1", "BTCUSDT", QTS_SIDE_BUY, QTS_ORD_MARKET, QTS_TIF_IOC, 0, Q(2.5)), 0);
    trade(v, H.now + 2000000, P(99.0), Q(0.001), QTS_SIDE_SELL); /* moves the clock */
    assert_int_equal(count(QTS_EXEC_ACK), 1);
    assert_int_equal(count(QTS_EXEC_FILL), 2);
    const struct qts_exec_report *f1 = nth(QTS_EXEC_FILL, 0), *f2 = nth(QTS_EXEC_FILL, 1);
    assert_int_equal(f1->last_px, P(100.0));
    assert_int_equal(f1->last_qty, Q(1));
    assert_int_equal(f1->fill_id, 1);
    assert_int_equal(f1->leaves_qty, Q(1.5));
    assert_int_equal(f2->last_px, P(100.5));
    assert_int_equal(f2->last_qty, Q(1.5));
    assert_int_equal(f2->fill_id, 2);
    assert_int_equal(f2->cum_qty, Q(2.5));
    assert_int_equal(f2->leaves_qty, 0);
    assert_false(f1->is_maker);
    assert_string_equal(f1->client_order_id, "m1");
    /* our impact stays in the venue's book: a second buy of 0.5 pays 100.50 */
    H.n_rep = 0;
    submit(v, "m2", "BTCUSDT", QTS_SIDE_BUY, QTS_ORD_MARKET, QTS_TIF_IOC, 0, Q(1));
    trade(v, H.now + 2000000, P(99.0), Q(0.001), QTS_SIDE_SELL);
    assert_int_equal(nth(QTS_EXEC_FILL, 0)->last_px, P(100.5));
    assert_int_equal(nth(QTS_EXEC_FILL, 0)->last_qty, Q(0.5));
    assert_int_equal(nth(QTS_EXEC_FILL, 1)->last_px, P(101.0));
    venue_close(v);
}

/* Market impact (docs/paper-broker.md): impact_bps = k (qty/V)^beta moves
 * every taking fill against the taker, rounded to the tick, capped by the
 * limit; `learned` reads k and beta from the host's model file. */
static void impact_case(const char *model, const char *file)
{
    cfg_reset();
    g_cfg_impact = model;
    g_cfg_impact_file = file;
    cfg_d("impact_coef_bps", 20.0);
    cfg_d("impact_exponent", 0.5);
    void *v = venue_open();
    std_book(v, H.now);
    trade(v, H.now + 1000, P(99.0), Q(4), QTS_SIDE_SELL); /* V = 4 */
    /* buy 1: impact 20 * sqrt(1/4) = 10 bps: 100.00 -> 100.10 */
    assert_int_equal(submit(v, "i1", "BTCUSDT", QTS_SIDE_BUY, QTS_ORD_MARKET, QTS_TIF_IOC, 0, Q(1)),
                     0);
    trade(v, H.now + 2000000, P(99.0), Q(0.001), QTS_SIDE_SELL);
    assert_int_equal(count(QTS_EXEC_FILL), 1);
    assert_int_equal(nth(QTS_EXEC_FILL, 0)->last_px, P(100.10));
    assert_int_equal(nth(QTS_EXEC_FILL, 0)->last_qty, Q(1));
    /* a crossing limit buy at 100.55 takes 100.50 x 1: the impact price
     * (100.50 * 1.001 = 100.6005 -> 100.61) is capped at the limit */
    assert_int_equal(
        submit(v, "i2", "BTCUSDT", QTS_SIDE_BUY, QTS_ORD_LIMIT, QTS_TIF_IOC, P(100.55), Q(1)), 0);
    trade(v, H.now + 2000000, P(99.0), Q(0.001), QTS_SIDE_SELL);
    assert_int_equal(count(QTS_EXEC_FILL), 2);
    assert_int_equal(nth(QTS_EXEC_FILL, 1)->last_px, P(100.55));
    /* a sell: 99.00 -> 99.00 * (1 - impact) rounded down */
    assert_int_equal(
        submit(v, "i3", "BTCUSDT", QTS_SIDE_SELL, QTS_ORD_MARKET, QTS_TIF_IOC, 0, Q(1)), 0);
    trade(v, H.now + 2000000, P(99.0), Q(0.001), QTS_SIDE_SELL);
    assert_int_equal(count(QTS_EXEC_FILL), 3);
    assert_true(nth(QTS_EXEC_FILL, 2)->last_px < P(99.0));
    assert_true(nth(QTS_EXEC_FILL, 2)->last_px >= P(98.89));
    venue_close(v);
    g_cfg_impact = g_cfg_impact_file = NULL;
}

static void test_market_impact(void **state)
{
    (void)state;
    impact_case("power", NULL);
    char *dir = qts_test_tmpdir();
    char path[1024];
    snprintf(path, sizeof path, "%s/impact_model.txt", dir);
    /* k 40, beta 1: 40 * (1/4) = 10 bps, the same prices */
    assert_int_equal(qts_test_write_file(path, "# qts impact model v1\n"
                                               "BTCUSDT n=12 k=40 beta=1 sx=0 sy=0 sxx=0 sxy=0 "
                                               "syy=0 fp=0/0\n"),
                     0);
    impact_case("learned", path);
    /* an unknown model is refused at init */
    cfg_reset();
    g_cfg_impact = "quadratic";
    void *self = NULL;
    struct qts_err err = {0};
    assert_int_equal(g_desc->init(&HOST, (void *)&H, &self, &err), QTS_ECONFIG);
    g_cfg_impact = NULL;
    qts_test_rmtree(dir);
    free(dir);
}

static void test_latency(void **state)
{
    (void)state;
    cfg_reset();
    cfg_i("order_latency_ns", 5000000);
    cfg_i("feed_latency_ns", 2000000);
    void *v = venue_open();
    std_book(v, H.now);
    int64_t sent = H.now;
    submit(v, "l1", "BTCUSDT", QTS_SIDE_BUY, QTS_ORD_MARKET, QTS_TIF_IOC, 0, Q(1));
    /* arrives at sent + 2 ms + 5 ms: a market event 1 ns earlier sees nothing */
    trade(v, sent + 7000000 - 1, P(99.0), Q(0.001), QTS_SIDE_SELL);
    assert_int_equal(H.n_rep, 0);
    /* the book moves before arrival: the order fills against the new book */
    const struct qts_level asks[] = {{P(100.0), 0}, {P(100.25), Q(3)}};
    book(v, sent + 7000000 - 1, false, NULL, 0, asks, 2);
    assert_int_equal(H.n_rep, 0);
    /* no market event: the venue's timer delivers the order on time */
    assert_non_null(H.timer_cb);
    assert_true(H.timer_due >= sent + 7000000);
    H.now = H.timer_due;
    H.timer_cb(H.timer_arg);
    assert_int_equal(count(QTS_EXEC_ACK), 1);
    assert_int_equal(nth(QTS_EXEC_ACK, 0)->ts_venue_ns, sent + 7000000);
    assert_int_equal(nth(QTS_EXEC_FILL, 0)->last_px, P(100.25));
    /* a cancel also travels: sent after a fill it cannot overtake it */
    venue_close(v);
}

static void test_limit_queue_trades_and_cancels(void **state)
{
    (void)state;
    cfg_reset();
    void *v = venue_open();
    std_book(v, H.now);
    submit(v, "q1", "BTCUSDT", QTS_SIDE_BUY, QTS_ORD_LIMIT, QTS_TIF_GTC, P(99.0), Q(2));
    int64_t t = H.now + 2000000;
    trade(v, t, P(100.0), Q(0.1), QTS_SIDE_BUY); /* arrival; a buy-side trade elsewhere */
    assert_int_equal(count(QTS_EXEC_ACK), 1);
    assert_int_equal(count(QTS_EXEC_FILL), 0); /* 5 ahead of us at 99.00 */
    /* sellers hit 99.00 for 3: queue ahead 5 -> 2, nothing for us */
    trade(v, t + 1, P(99.0), Q(3), QTS_SIDE_SELL);
    assert_int_equal(count(QTS_EXEC_FILL), 0);
    /* the feed shows the level 5 -> 2: that is the trade, not a cancel */
    const struct qts_level b1[] = {{P(99.0), Q(2)}};
    book(v, t + 2, false, b1, 1, NULL, 0);
    /* 2 -> 1: one cancel, pro rata: ahead 2 - 2 * 1/2 = 1 */
    const struct qts_level b2[] = {{P(99.0), Q(1)}};
    book(v, t + 3, false, b2, 1, NULL, 0);
    /* more joins behind us: ahead unchanged */
    const struct qts_level b3[] = {{P(99.0), Q(4)}};
    book(v, t + 4, false, b3, 1, NULL, 0);
    /* a trade of 2 at 99: 1 for the one ahead, 1 for us (partial) */
    trade(v, t + 5, P(99.0), Q(2), QTS_SIDE_SELL);
    assert_int_equal(count(QTS_EXEC_FILL), 1);
    const struct qts_exec_report *f = nth(QTS_EXEC_FILL, 0);
    assert_int_equal(f->last_qty, Q(1));
    assert_int_equal(f->last_px, P(99.0));
    assert_true(f->is_maker);
    assert_int_equal(f->leaves_qty, Q(1));
    assert_int_equal(f->fill_id, 1);
    /* a trade through our price fills the rest at our price */
    trade(v, t + 6, P(98.9), Q(5), QTS_SIDE_SELL);
    assert_int_equal(count(QTS_EXEC_FILL), 2);
    f = nth(QTS_EXEC_FILL, 1);
    assert_int_equal(f->last_qty, Q(1));
    assert_int_equal(f->last_px, P(99.0));
    assert_int_equal(f->leaves_qty, 0);
    assert_int_equal(f->cum_qty, Q(2));
    assert_int_equal(f->fill_id, 2);
    venue_close(v);
}

/* ahead after: 10 displayed, we join, 4 more join behind, 6 cancel */
static int64_t ahead_after_cancels(const char *rule)
{
    cfg_reset();
    g_cfg_rule = rule;
    void *v = venue_open();
    const struct qts_level b0[] = {{P(99.0), Q(10)}};
    const struct qts_level a0[] = {{P(100.0), Q(10)}};
    book(v, H.now, true, b0, 1, a0, 1);
    submit(v, "r", "BTCUSDT", QTS_SIDE_BUY, QTS_ORD_LIMIT, QTS_TIF_GTC, P(99.0), Q(1));
    trade(v, H.now + 2000000, P(100.0), Q(0.001), QTS_SIDE_BUY);
    const struct qts_level b1[] = {{P(99.0), Q(14)}};
    book(v, H.now + 1, false, b1, 1, NULL, 0);
    const struct qts_level b2[] = {{P(99.0), Q(8)}};
    book(v, H.now + 1, false, b2, 1, NULL, 0);
    /* probe: sell 1 at a time until we fill; returns the whole probes
     * that went to the queue ahead (ahead in (n, n + 1]) */
    int64_t probed = 0;
    while (count(QTS_EXEC_FILL) == 0 && probed < Q(20)) {
        trade(v, H.now + 1, P(99.0), Q(1), QTS_SIDE_SELL);
        probed += Q(1);
    }
    venue_close(v);
    g_cfg_rule = NULL;
    return probed - Q(1);
}

static void test_queue_cancel_rules(void **state)
{
    (void)state;
    /* pro rata: 10 - floor(10 * 6/14 in qty units) = 5.715: the 6th probe fills */
    assert_int_equal(ahead_after_cancels(NULL), Q(5));
    assert_int_equal(ahead_after_cancels("pro_rata"), Q(5));
    /* front: 10 - 6 = 4 (the 5th probe fills) */
    assert_int_equal(ahead_after_cancels("front"), Q(4));
    /* back: the 4 that joined behind us cancel first, then 2 of those ahead */
    assert_int_equal(ahead_after_cancels("back"), Q(8));
    cfg_reset();
    g_cfg_rule = "fifo";
    void *v = NULL;
    struct qts_err err = {0};
    assert_int_equal(g_desc->init(&HOST, (void *)&H, &v, &err), QTS_ECONFIG);
    assert_non_null(strstr(err.msg, "queue_cancel_rule"));
    g_cfg_rule = NULL;
}

static void test_partial_fill_and_ioc_expiry(void **state)
{
    (void)state;
    cfg_reset();
    void *v = venue_open();
    std_book(v, H.now);
    /* limit IOC buy 5 at 100.50: takes 1 + 2, expires 2 */
    submit(v, "p1", "BTCUSDT", QTS_SIDE_BUY, QTS_ORD_LIMIT, QTS_TIF_IOC, P(100.5), Q(5));
    /* GTC buy 4 at 101.00 after that: takes 4 of the 5 at 101 */
    submit(v, "p2", "BTCUSDT", QTS_SIDE_BUY, QTS_ORD_LIMIT, QTS_TIF_GTC, P(101.0), Q(6));
    /* moves the clock; a buyer's trade does not touch our resting buys */
    trade(v, H.now + 2000000, P(101.0), Q(0.001), QTS_SIDE_BUY);
    assert_int_equal(count(QTS_EXEC_FILL), 3);
    assert_int_equal(count(QTS_EXEC_EXPIRED), 1);
    const struct qts_exec_report *e = nth(QTS_EXEC_EXPIRED, 0);
    assert_string_equal(e->client_order_id, "p1");
    assert_int_equal(e->cum_qty, Q(3));
    const struct qts_exec_report *f = nth(QTS_EXEC_FILL, 2);
    assert_string_equal(f->client_order_id, "p2");
    assert_int_equal(f->last_qty, Q(5));
    assert_int_equal(f->leaves_qty, Q(1)); /* rests at 101 for the last 1 */
    /* FOK that cannot be filled whole expires with nothing filled */
    H.n_rep = 0;
    submit(v, "p3", "BTCUSDT", QTS_SIDE_BUY, QTS_ORD_LIMIT, QTS_TIF_FOK, P(105.0), Q(1));
    trade(v, H.now + 2000000, P(101.0), Q(0.001), QTS_SIDE_BUY);
    assert_int_equal(count(QTS_EXEC_FILL), 0);
    assert_int_equal(count(QTS_EXEC_EXPIRED), 1);
    venue_close(v);
}

static void test_fees_maker_taker(void **state)
{
    (void)state;
    cfg_reset();
    cfg_d("maker_fee_bps", -0.5); /* rebate */
    cfg_d("taker_fee_bps", 7.5);
    void *v = venue_open();
    std_book(v, H.now);
    submit(v, "t1", "BTCUSDT", QTS_SIDE_BUY, QTS_ORD_MARKET, QTS_TIF_IOC, 0, Q(1));
    submit(v, "k1", "BTCUSDT", QTS_SIDE_SELL, QTS_ORD_LIMIT, QTS_TIF_GTC, P(100.5), Q(1));
    trade(v, H.now + 2000000, P(100.5), Q(5), QTS_SIDE_BUY);
    assert_int_equal(count(QTS_EXEC_FILL), 2);
    const struct qts_exec_report *taker = nth(QTS_EXEC_FILL, 0), *maker = nth(QTS_EXEC_FILL, 1);
    assert_false(taker->is_maker);
    assert_int_equal(taker->fee, fee(P(100.0), Q(1), 7.5));
    assert_int_equal(taker->fee, 75000); /* 100.00 * 7.5 bps = 0.075 */
    assert_true(maker->is_maker);
    assert_int_equal(maker->fee, -5025); /* 100.50 * -0.5 bps */
    venue_close(v);
}

static void test_rejects(void **state)
{
    (void)state;
    cfg_reset();
    cfg_d("price_band_bps", 100); /* 1 % around the mid (99.50) */
    cfg_d("initial_cash", 150.0);
    void *v = venue_open();
    std_book(v, H.now);
    submit(v, "r1", "NOPE", QTS_SIDE_BUY, QTS_ORD_LIMIT, QTS_TIF_GTC, P(99), Q(1));
    submit(v, "r2", "BTCUSDT", QTS_SIDE_BUY, QTS_ORD_LIMIT, QTS_TIF_GTC, P(90), Q(1));
    submit(v, "r3", "BTCUSDT", QTS_SIDE_BUY, QTS_ORD_LIMIT, QTS_TIF_GTC, P(99), Q(2));
    submit(v, "r4", "BTCUSDT", QTS_SIDE_SELL, QTS_ORD_LIMIT, QTS_TIF_GTC, P(100), Q(1));
    submit(v, "r5", "BTCUSDT", QTS_SIDE_BUY, QTS_ORD_LIMIT, QTS_TIF_POST, P(100), Q(1));
    submit(v, "r6", "ETHUSDT", QTS_SIDE_BUY, QTS_ORD_LIMIT, QTS_TIF_GTC, 7, 10); /* tick 5 */
    submit(v, "r7", "BTCUSDT", QTS_SIDE_BUY, QTS_ORD_LIMIT, QTS_TIF_GTC, P(99), 0);
    trade(v, H.now + 2000000, P(99.0), Q(0.001), QTS_SIDE_SELL);
    assert_int_equal(count(QTS_EXEC_REJECT), 7);
    assert_int_equal(count(QTS_EXEC_ACK), 0);
    const char *why[] = {
        "unknown instrument", "price band", "insufficient cash", "insufficient position",
        "post-only",          "tick",       "quantity"};
    for (size_t i = 0; i < 7; i++) {
        const struct qts_exec_report *r = nth(QTS_EXEC_REJECT, i);
        assert_non_null(r);
        char text[sizeof r->text];
        memcpy(text, r->text, sizeof text);
        if (!strstr(text, why[i]))
            fail_msg("reject %zu: '%s' lacks '%s'", i, text, why[i]);
        assert_true(r->code < 0);
    }
    assert_int_equal(nth(QTS_EXEC_REJECT, 0)->code, QTS_ENOENT);
    /* with shorting allowed the sell is accepted */
    venue_close(v);
    cfg_reset();
    cfg_b("allow_short", true);
    v = venue_open();
    std_book(v, H.now);
    submit(v, "s1", "BTCUSDT", QTS_SIDE_SELL, QTS_ORD_LIMIT, QTS_TIF_GTC, P(100), Q(1));
    trade(v, H.now + 2000000, P(99.0), Q(0.001), QTS_SIDE_SELL);
    assert_int_equal(count(QTS_EXEC_ACK), 1);
    venue_close(v);
}

static void test_cancel(void **state)
{
    (void)state;
    cfg_reset();
    void *v = venue_open();
    std_book(v, H.now);
    submit(v, "c1", "BTCUSDT", QTS_SIDE_BUY, QTS_ORD_LIMIT, QTS_TIF_GTC, P(98.0), Q(1));
    trade(v, H.now + 2000000, P(99.0), Q(0.001), QTS_SIDE_SELL);
    assert_int_equal(g_ops->cancel(v, "c1", NULL), 0);
    assert_int_equal(g_ops->cancel(v, "zz", NULL), 0);
    /* before the cancel arrives a trade through 98 fills us */
    trade(v, H.now + 500000, P(97.0), Q(0.4), QTS_SIDE_SELL);
    assert_int_equal(count(QTS_EXEC_FILL), 1);
    trade(v, H.now + 2000000, P(99.0), Q(0.001), QTS_SIDE_SELL);
    assert_int_equal(count(QTS_EXEC_CANCELLED), 1);
    const struct qts_exec_report *c = nth(QTS_EXEC_CANCELLED, 0);
    assert_string_equal(c->client_order_id, "c1");
    assert_int_equal(c->cum_qty, Q(0.4));
    assert_int_equal(c->leaves_qty, 0);
    assert_int_equal(count(QTS_EXEC_CANCEL_REJECT), 1);
    assert_string_equal(nth(QTS_EXEC_CANCEL_REJECT, 0)->client_order_id, "zz");
    /* cancelled: later trades do not fill it; a second cancel is rejected */
    trade(v, H.now + 1, P(97.0), Q(5), QTS_SIDE_SELL);
    assert_int_equal(count(QTS_EXEC_FILL), 1);
    g_ops->cancel(v, "c1", NULL);
    trade(v, H.now + 2000000, P(99.0), Q(0.001), QTS_SIDE_SELL);
    assert_int_equal(count(QTS_EXEC_CANCEL_REJECT), 2);
    /* cancel by venue order id */
    submit(v, "c2", "BTCUSDT", QTS_SIDE_BUY, QTS_ORD_LIMIT, QTS_TIF_GTC, P(98.0), Q(1));
    trade(v, H.now + 2000000, P(99.0), Q(0.001), QTS_SIDE_BUY);
    const struct qts_exec_report *ack = nth(QTS_EXEC_ACK, 1);
    assert_non_null(ack);
    char venue_id[QTS_VENUE_ID_MAX];
    memcpy(venue_id, ack->venue_order_id, sizeof venue_id);
    assert_int_equal(g_ops->cancel(v, "", venue_id), 0);
    assert_int_equal(g_ops->cancel(v, NULL, NULL), QTS_EINVAL);
    trade(v, H.now + 2000000, P(99.0), Q(0.001), QTS_SIDE_BUY);
    assert_int_equal(count(QTS_EXEC_CANCELLED), 2);
    assert_string_equal(nth(QTS_EXEC_CANCELLED, 1)->client_order_id, "c2");
    venue_close(v);
}

static void test_modify(void **state)
{
    (void)state;
    cfg_reset();
    void *v = venue_open();
    std_book(v, H.now);
    submit(v, "a", "BTCUSDT", QTS_SIDE_BUY, QTS_ORD_LIMIT, QTS_TIF_GTC, P(99.0), Q(3));
    submit(v, "b", "BTCUSDT", QTS_SIDE_BUY, QTS_ORD_LIMIT, QTS_TIF_GTC, P(99.0), Q(1));
    trade(v, H.now + 2000000, P(100.0), Q(0.001), QTS_SIDE_BUY);
    /* a: smaller at the same price keeps its place */
    modify(v, "a", P(99.0), Q(2));
    trade(v, H.now + 2000000, P(100.0), Q(0.001), QTS_SIDE_BUY);
    assert_int_equal(count(QTS_EXEC_REPLACED), 1);
    assert_int_equal(nth(QTS_EXEC_REPLACED, 0)->leaves_qty, Q(2));
    /* 5 ahead, then a (2), then b: a trade of 7 fills a only */
    trade(v, H.now + 1, P(99.0), Q(7), QTS_SIDE_SELL);
    assert_int_equal(count(QTS_EXEC_FILL), 1);
    assert_string_equal(nth(QTS_EXEC_FILL, 0)->client_order_id, "a");
    assert_int_equal(nth(QTS_EXEC_FILL, 0)->last_qty, Q(2));
    /* b moves to 98.50 (back of that queue, 3 ahead) and grows to 2 */
    modify(v, "b", P(98.5), Q(2));
    trade(v, H.now + 2000000, P(100.0), Q(0.001), QTS_SIDE_BUY);
    assert_int_equal(count(QTS_EXEC_REPLACED), 2);
    trade(v, H.now + 1, P(98.5), Q(4), QTS_SIDE_SELL);
    assert_int_equal(count(QTS_EXEC_FILL), 2);
    assert_int_equal(nth(QTS_EXEC_FILL, 1)->last_qty, Q(1));
    assert_int_equal(nth(QTS_EXEC_FILL, 1)->last_px, P(98.5));
    /* modify below the filled quantity is refused; the order stays */
    modify(v, "b", P(98.5), Q(1));
    trade(v, H.now + 2000000, P(100.0), Q(0.001), QTS_SIDE_BUY);
    assert_int_equal(count(QTS_EXEC_CANCEL_REJECT), 1);
    /* a modify to a crossing price takes liquidity */
    modify(v, "b", P(100.0), Q(2));
    trade(v, H.now + 2000000, P(99.0), Q(0.001), QTS_SIDE_SELL);
    assert_int_equal(count(QTS_EXEC_FILL), 3);
    assert_int_equal(nth(QTS_EXEC_FILL, 2)->last_px, P(100.0));
    assert_false(nth(QTS_EXEC_FILL, 2)->is_maker);
    assert_int_equal(nth(QTS_EXEC_FILL, 2)->leaves_qty, 0);
    venue_close(v);
}

struct membuf {
    struct qts_buf b;
    unsigned char *p;
    size_t n;
};

static int mb_append(struct qts_buf *buf, const void *p, size_t n)
{
    struct membuf *m = (struct membuf *)buf;
    m->p = realloc(m->p, m->n + n);
    memcpy(m->p + m->n, p, n);
    m->n += n;
    return 0;
}

/* Export the venue, destroy it, import into a fresh instance. */
static void *reload(void *v)
{
    struct membuf mb = {{sizeof(struct qts_buf), mb_append, NULL}, NULL, 0};
    assert_int_equal(g_desc->stop(v), 0);
    assert_int_equal(g_desc->export_state(v, &mb.b), 0);
    g_desc->destroy(v);
    void *w = NULL;
    struct qts_err err = {0};
    assert_int_equal(g_desc->init(&HOST, (void *)&H, &w, &err), 0);
    assert_int_equal(g_desc->import_state(w, mb.p, mb.n), 0);
    assert_int_equal(g_desc->start(w, &err), 0);
    free(mb.p);
    return w;
}

/* A fixed script with jitter: returns a hash of every report. With
 * reload_at >= 0 the venue is hot-reloaded (state transfer) at that step. */
static uint64_t run_script(int64_t seed, int reload_at)
{
    cfg_reset();
    cfg_i("latency_jitter_ns", 3000000);
    cfg_i("seed", seed);
    void *v = venue_open();
    std_book(v, H.now);
    char id[16];
    for (int i = 0; i < 20; i++) {
        if (i == reload_at)
            v = reload(v);
        snprintf(id, sizeof id, "o%d", i);
        int side = i % 2 ? QTS_SIDE_SELL : QTS_SIDE_BUY;
        if (side == QTS_SIDE_SELL && i < 6)
            side = QTS_SIDE_BUY;
        submit(v, id, "BTCUSDT", side, i % 3 ? QTS_ORD_LIMIT : QTS_ORD_MARKET, QTS_TIF_GTC,
               side == QTS_SIDE_BUY ? P(99.0) : P(100.5), Q(0.3));
        trade(v, H.now + 700000, i % 2 ? P(99.0) : P(100.5), Q(1),
              i % 2 ? QTS_SIDE_SELL : QTS_SIDE_BUY);
        const struct qts_level asks[] = {{P(100.0), Q(1 + i % 3)}};
        book(v, H.now + 300000, false, NULL, 0, asks, 1);
    }
    trade(v, H.now + 10000000, P(99.0), Q(0.001), QTS_SIDE_SELL);
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < H.n_rep; i++) {
        const struct qts_exec_report *r = &H.rep[i];
        int64_t f[] = {r->exec_type,  r->last_px, r->last_qty,         r->cum_qty,
                       r->leaves_qty, r->fee,     (int64_t)r->fill_id, r->ts_venue_ns};
        for (size_t k = 0; k < sizeof f / sizeof f[0]; k++)
            h = (h ^ (uint64_t)f[k]) * 1099511628211ULL;
        for (const char *c = r->client_order_id; *c; c++)
            h = (h ^ (uint8_t)*c) * 1099511628211ULL;
    }
    assert_true(H.n_rep > 20);
    venue_close(v);
    return h;
}

static void test_deterministic_for_seed(void **state)
{
    (void)state;
    uint64_t a = run_script(7, -1), b = run_script(7, -1), c = run_script(8, -1);
    assert_true(a == b);
    assert_true(a != c); /* jitter changes arrival times */
    /* a hot reload in the middle (orders resting and in flight, generator
     * state) changes nothing */
    assert_true(run_script(7, 9) == a);
    assert_true(run_script(7, 15) == a);
}

static void test_state_export_import(void **state)
{
    (void)state;
    cfg_reset();
    void *v = venue_open();
    std_book(v, H.now);
    submit(v, "x1", "BTCUSDT", QTS_SIDE_BUY, QTS_ORD_LIMIT, QTS_TIF_GTC, P(99.0), Q(2));
    trade(v, H.now + 2000000, P(100.0), Q(0.001), QTS_SIDE_BUY);
    trade(v, H.now + 1, P(99.0), Q(6), QTS_SIDE_SELL); /* 5 ahead, 1 for us */
    assert_int_equal(count(QTS_EXEC_FILL), 1);
    submit(v, "x2", "BTCUSDT", QTS_SIDE_SELL, QTS_ORD_LIMIT, QTS_TIF_GTC, P(101.0), Q(0.5));
    /* x2 is still in flight when the broker is reloaded */
    assert_true(g_desc->caps & QTS_CAP_STATE_XFER);
    struct membuf mb = {{sizeof(struct qts_buf), mb_append, NULL}, NULL, 0};
    assert_int_equal(g_desc->export_state(v, &mb.b), 0);
    venue_close(v);

    void *w = NULL;
    struct qts_err err = {0};
    assert_int_equal(g_desc->init(&HOST, (void *)&H, &w, &err), 0);
    assert_int_equal(g_desc->import_state(w, mb.p, mb.n - 1), QTS_EPARSE);
    g_desc->destroy(w);
    assert_int_equal(g_desc->init(&HOST, (void *)&H, &w, &err), 0);
    assert_int_equal(g_desc->import_state(w, mb.p, mb.n), 0);
    assert_int_equal(g_desc->start(w, &err), 0);
    free(mb.p);
    H.n_rep = 0;
    trade(w, H.now + 2000000, P(99.0), Q(1), QTS_SIDE_SELL); /* x2 arrives; x1 fills 1 */
    assert_int_equal(count(QTS_EXEC_ACK), 1);
    assert_string_equal(nth(QTS_EXEC_ACK, 0)->client_order_id, "x2");
    assert_int_equal(count(QTS_EXEC_FILL), 1);
    const struct qts_exec_report *f = nth(QTS_EXEC_FILL, 0);
    assert_string_equal(f->client_order_id, "x1");
    assert_int_equal(f->fill_id, 2); /* fill ids continue */
    assert_int_equal(f->leaves_qty, 0);
    /* the bought position came across: 2 held, 0.5 offered */
    assert_int_equal(g_ops->query_positions(w, 42), 0);
    assert_int_equal(H.last_pos_qty, Q(2));
    assert_int_equal(H.last_pos_avg, P(99.0));
    assert_int_equal(H.done_req, 42);
    H.n_rep = 0;
    assert_int_equal(g_ops->query_open_orders(w, 43), 0);
    assert_int_equal(count(QTS_EXEC_STATUS), 1);
    assert_string_equal(nth(QTS_EXEC_STATUS, 0)->client_order_id, "x2");
    venue_close(w);
}

static void quote(void *self, int64_t ts, int64_t bp, int64_t bq, int64_t ap, int64_t aq)
{
    struct qts_quote q;
    hdr(&q.h, sizeof q, QTS_EV_QUOTE, 1, ts);
    q.bid_px = bp;
    q.bid_qty = bq;
    q.ask_px = ap;
    q.ask_qty = aq;
    H.now = ts;
    g_ops->on_market(self, &q.h);
}

static void test_quotes_top_of_book(void **state)
{
    (void)state;
    cfg_reset();
    void *v = venue_open();
    quote(v, H.now, P(99.0), Q(5), P(100.0), Q(1));
    submit(v, "q", "BTCUSDT", QTS_SIDE_BUY, QTS_ORD_LIMIT, QTS_TIF_GTC, P(99.0), Q(1));
    quote(v, H.now + 2000000, P(99.0), Q(5), P(100.0), Q(1)); /* arrives: 5 ahead */
    assert_int_equal(count(QTS_EXEC_ACK), 1);
    /* a better bid hides our level: the queue is unknown, not empty */
    quote(v, H.now + 1, P(99.5), Q(2), P(100.0), Q(1));
    trade(v, H.now + 1, P(99.0), Q(4), QTS_SIDE_SELL);
    assert_int_equal(count(QTS_EXEC_FILL), 0);
    trade(v, H.now + 1, P(99.0), Q(2), QTS_SIDE_SELL);
    assert_int_equal(count(QTS_EXEC_FILL), 1);
    assert_int_equal(nth(QTS_EXEC_FILL, 0)->last_qty, Q(1));
    /* a market order against quotes walks the one visible level only */
    submit(v, "m", "BTCUSDT", QTS_SIDE_BUY, QTS_ORD_MARKET, QTS_TIF_IOC, 0, Q(3));
    quote(v, H.now + 2000000, P(99.0), Q(5), P(100.0), Q(1));
    assert_int_equal(count(QTS_EXEC_FILL), 2);
    assert_int_equal(nth(QTS_EXEC_FILL, 1)->last_qty, Q(1));
    assert_int_equal(count(QTS_EXEC_EXPIRED), 1);
    venue_close(v);
}

static void test_idempotent_resubmit(void **state)
{
    (void)state;
    cfg_reset();
    void *v = venue_open();
    std_book(v, H.now);
    submit(v, "d1", "BTCUSDT", QTS_SIDE_BUY, QTS_ORD_LIMIT, QTS_TIF_GTC, P(98.0), Q(1));
    submit(v, "d1", "BTCUSDT", QTS_SIDE_BUY, QTS_ORD_LIMIT, QTS_TIF_GTC, P(98.0), Q(1));
    trade(v, H.now + 2000000, P(99.0), Q(0.001), QTS_SIDE_SELL);
    assert_int_equal(count(QTS_EXEC_ACK), 1);
    assert_int_equal(g_ops->env(v), QTS_BROKER_ENV_SIMULATED);
    venue_close(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_market_order_walks_book),
        cmocka_unit_test(test_latency),
        cmocka_unit_test(test_limit_queue_trades_and_cancels),
        cmocka_unit_test(test_queue_cancel_rules),
        cmocka_unit_test(test_partial_fill_and_ioc_expiry),
        cmocka_unit_test(test_fees_maker_taker),
        cmocka_unit_test(test_rejects),
        cmocka_unit_test(test_cancel),
        cmocka_unit_test(test_modify),
        cmocka_unit_test(test_deterministic_for_seed),
        cmocka_unit_test(test_state_export_import),
        cmocka_unit_test(test_quotes_top_of_book),
        cmocka_unit_test(test_idempotent_resubmit),
        cmocka_unit_test(test_market_impact),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
