/* test_lua_examples.c — the example strategies in strategies/ run in the
 * real runtime (lockstep, as in replay) against scripted events; the test
 * plays the OMS through the sink and asserts the orders produced. */
#include "lua_helpers.h"

struct world {
    struct rec_sink *r;
    struct qts_clock clk;
    struct qts_lua_runtime *rt;
    int64_t ts;
};

static uint32_t start(struct world *w, const char *file, const struct qts_lua_param *p, size_t n)
{
    w->r = calloc(1, sizeof *w->r);
    qts_clock_init(&w->clk, QTS_CLOCK_VIRTUAL);
    w->rt = mk_rt(w->r, true, 1, &w->clk, 0);
    w->ts = INT64_C(1700000000000000000);
    uint32_t id = add_strat(w->rt, "ex", example(file), 0, p, n);
    sync_ok(w->rt);
    struct qts_lua_strategy_info info;
    qts_lua_runtime_info(w->rt, id, &info);
    if (info.state != QTS_LUA_ST_RUNNING)
        fail_msg("%s did not start: %s", file, info.last_error);
    return id;
}

static void finish(struct world *w, uint32_t id)
{
    struct qts_lua_strategy_info info;
    qts_lua_runtime_info(w->rt, id, &info);
    assert_int_equal(info.errors, 0);
    qts_lua_runtime_free(w->rt);
    free(w->r);
}

static void step(struct world *w, const struct qts_ev_hdr *ev)
{
    size_t used = 0;
    qts_clock_advance_to(&w->clk, ev->ts_exch_ns);
    assert_int_equal(qts_lua_runtime_step(w->rt, &ev, 1, &used), 0);
    assert_int_equal(used, 1);
    qts_lua_runtime_drain(w->rt);
}

static void trade(struct world *w, double px)
{
    w->ts += 1000000;
    struct qts_trade t = mk_trade(INST_BTC, px, 0.5, w->ts);
    step(w, &t.h);
}

static void fill(struct world *w, uint32_t sid, const struct qts_order_intent *in, double px)
{
    w->ts += 1000000;
    struct qts_fill f =
        mk_fill(sid, in->order_id, in->instrument, in->side, px, (double)in->qty / 1000.0, w->ts);
    assert_int_equal(qts_lua_runtime_post(w->rt, &f.h), 0);
    qts_lua_runtime_drain(w->rt);
}

static void book(struct world *w, double bid, double ask)
{
    w->ts += 1000000;
    struct qts_level lv[2] = {{fx(bid, 2), fx(3, 3)}, {fx(ask, 2), fx(4, 3)}};
    struct qts_book_update b;
    memset(&b, 0, sizeof b);
    hdr(&b.h, QTS_EV_BOOK, sizeof b, INST_BTC, w->ts);
    b.h.flags = QTS_BOOK_SNAPSHOT;
    b.n_bids = 1;
    b.n_asks = 1;
    b.bids = &lv[0];
    b.asks = &lv[1];
    step(w, &b.h);
}

static void test_ema_cross(void **state)
{
    (void)state;
    struct world w;
    struct qts_lua_param p[] = {{"symbol", "BTCUSDT"}, {"fast", "3"}, {"slow", "6"}, {"qty", "2"}};
    uint32_t id = start(&w, "ema_cross.lua", p, 4);
    for (int i = 0; i < 20; i++)
        trade(&w, 120 - i); /* down: fast below slow, flat already: nothing */
    assert_int_equal(w.r->n_intents, 0);
    for (int i = 0; i < 10; i++)
        trade(&w, 102 + 2 * i); /* up: one cross, one buy, nothing while pending */
    assert_int_equal(w.r->n_intents, 1);
    struct qts_order_intent buy = w.r->intents[0];
    assert_int_equal(buy.side, QTS_SIDE_BUY);
    assert_int_equal(buy.type, QTS_ORD_MARKET);
    assert_int_equal(buy.qty, 2000);
    assert_string_equal(buy.tag, "cross_up");
    fill(&w, id, &buy, 110);
    for (int i = 0; i < 15; i++)
        trade(&w, 118 - 3 * i); /* down: one sell of the whole position */
    assert_int_equal(w.r->n_intents, 2);
    assert_int_equal(w.r->intents[1].side, QTS_SIDE_SELL);
    assert_int_equal(w.r->intents[1].qty, 2000);
    assert_string_equal(w.r->intents[1].tag, "cross_down");
    finish(&w, id);
}

static void test_rsi_scalp(void **state)
{
    (void)state;
    struct world w;
    struct qts_lua_param p[] = {{"symbol", "BTCUSDT"},
                                {"n", "5"},
                                {"qty", "1"},
                                {"take_profit", "0.01"},
                                {"stop_loss", "0.005"}};
    uint32_t id = start(&w, "rsi_scalp.lua", p, 5);
    for (int i = 0; i < 12; i++)
        trade(&w, 110 - i); /* steady fall: RSI near 0 -> one entry */
    assert_int_equal(w.r->n_intents, 1);
    struct qts_order_intent in = w.r->intents[0];
    assert_int_equal(in.side, QTS_SIDE_BUY);
    assert_int_equal(in.qty, 1000);
    assert_int_equal(in.tif, QTS_TIF_IOC);
    assert_string_equal(in.tag, "entry");
    fill(&w, id, &in, 100);
    trade(&w, 100.5); /* +0.5 %: below take-profit, RSI still low */
    assert_int_equal(w.r->n_intents, 1);
    trade(&w, 101.2); /* +1.2 %: take profit */
    assert_int_equal(w.r->n_intents, 2);
    assert_int_equal(w.r->intents[1].side, QTS_SIDE_SELL);
    assert_int_equal(w.r->intents[1].qty, 1000);
    assert_string_equal(w.r->intents[1].tag, "take_profit");
    fill(&w, id, &w.r->intents[1], 101.2);
    finish(&w, id);
}

static void test_rsi_scalp_stop_loss(void **state)
{
    (void)state;
    struct world w;
    struct qts_lua_param p[] = {{"symbol", "BTCUSDT"}, {"n", "5"}, {"stop_loss", "0.005"}};
    uint32_t id = start(&w, "rsi_scalp.lua", p, 3);
    for (int i = 0; i < 12; i++)
        trade(&w, 110 - i);
    assert_int_equal(w.r->n_intents, 1);
    fill(&w, id, &w.r->intents[0], 100);
    trade(&w, 99.4); /* -0.6 % */
    assert_int_equal(w.r->n_intents, 2);
    assert_string_equal(w.r->intents[1].tag, "stop_loss");
    finish(&w, id);
}

static void test_market_maker(void **state)
{
    (void)state;
    struct world w;
    struct qts_lua_param p[] = {{"symbol", "BTCUSDT"},
                                {"qty", "1"},
                                {"half_spread", "2"},
                                {"skew", "1"},
                                {"max_position", "2"}};
    uint32_t id = start(&w, "market_maker.lua", p, 5);
    struct rec_sink *r = w.r;
    book(&w, 100.00, 100.10); /* mid 100.05 -> 100.03 / 100.07 */
    assert_int_equal(r->n_intents, 2);
    assert_int_equal(r->intents[0].side, QTS_SIDE_BUY);
    assert_int_equal(r->intents[0].px, 10003);
    assert_int_equal(r->intents[0].tif, QTS_TIF_POST);
    assert_int_equal(r->intents[0].type, QTS_ORD_LIMIT);
    assert_int_equal(r->intents[1].side, QTS_SIDE_SELL);
    assert_int_equal(r->intents[1].px, 10007);
    book(&w, 100.00, 100.10); /* same mid: no requote */
    assert_int_equal(r->n_intents, 2);
    assert_int_equal(r->n_cancels, 0);

    /* bid filled: inventory 1, quotes shift down one tick, old ask cancelled */
    fill(&w, id, &r->intents[0], 100.03);
    assert_int_equal(r->n_cancels, 1);
    assert_int_equal(r->cancels[0], r->intents[1].order_id);
    assert_int_equal(r->n_intents, 4);
    assert_int_equal(r->intents[2].px, 10002);
    assert_int_equal(r->intents[3].px, 10006);

    /* second bid filled: at the limit, only an ask is quoted */
    fill(&w, id, &r->intents[2], 100.02);
    assert_int_equal(r->n_intents, 5);
    assert_int_equal(r->intents[4].side, QTS_SIDE_SELL);
    assert_int_equal(r->intents[4].px, 10005);
    assert_int_equal(r->cancels[r->n_cancels - 1], r->intents[3].order_id);

    /* the mid moves: requote (cancel the ask, still no bid) */
    book(&w, 100.20, 100.30);
    assert_int_equal(r->n_intents, 6);
    assert_int_equal(r->intents[5].side, QTS_SIDE_SELL);
    assert_int_equal(r->intents[5].px, 10025);
    finish(&w, id);
}

/* The example of docs/strategy-api.md works as documented. */
static void test_doc_example(void **state)
{
    (void)state;
    /* the fixture is the doc's code block, byte for byte */
    char doc[65536], fix[8192];
    char path[600];
    snprintf(path, sizeof path, "%s/docs/strategy-api.md", qts_test_source_dir());
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    size_t n = fread(doc, 1, sizeof doc - 1, f);
    fclose(f);
    doc[n] = 0;
    f = fopen(fixture("doc_breakout.lua"), "rb");
    assert_non_null(f);
    n = fread(fix, 1, sizeof fix - 1, f);
    fclose(f);
    fix[n] = 0;
    const char *body = strstr(fix, "-- strategies/breakout.lua");
    assert_non_null(body);
    assert_non_null(strstr(doc, body));

    struct world w;
    struct qts_lua_param p[] = {{"n", "5"}, {"qty", "0.01"}};
    uint32_t id = start(&w, "../tests/lua/strategies/doc_breakout.lua", p, 2);
    double px[] = {100, 101, 100.5, 100.8, 100.2, 100.6, 100.4};
    for (int i = 0; i < 7; i++)
        trade(&w, px[i]);
    assert_int_equal(w.r->n_intents, 0);
    trade(&w, 102); /* above the last five: buy */
    assert_int_equal(w.r->n_intents, 1);
    assert_int_equal(w.r->intents[0].side, QTS_SIDE_BUY);
    assert_int_equal(w.r->intents[0].qty, 10);
    assert_int_equal(w.r->intents[0].type, QTS_ORD_MARKET);
    fill(&w, id, &w.r->intents[0], 102);
    trade(&w, 101);
    assert_int_equal(w.r->n_intents, 1);
    trade(&w, 99); /* below the last five: sell the position */
    assert_int_equal(w.r->n_intents, 2);
    assert_int_equal(w.r->intents[1].side, QTS_SIDE_SELL);
    assert_int_equal(w.r->intents[1].qty, 10);
    finish(&w, id);
}

QTS_TEST_MAIN(test_ema_cross, test_rsi_scalp, test_rsi_scalp_stop_loss, test_market_maker,
              test_doc_example)
