/* test_lua_ctx.c — ctx services a strategy relies on: timers (fired by the
 * replay clock, repeating, cancelled), the book mirror with diffs applied,
 * bars history, parameters with defaults. */
#include "lua_helpers.h"

struct world {
    struct rec_sink *r;
    struct qts_clock clk;
    struct qts_lua_runtime *rt;
};

static void step_at(struct world *w, struct qts_ev_hdr *ev, int64_t ts)
{
    ev->ts_exch_ns = ev->ts_recv_ns = ts;
    qts_clock_advance_to(&w->clk, ts);
    size_t used = 0;
    const struct qts_ev_hdr *p = ev;
    for (int i = 0; i < 3 && used == 0; i++) { /* 0 when timers fired first */
        assert_int_equal(qts_lua_runtime_step(w->rt, &p, 1, &used), 0);
        qts_lua_runtime_drain(w->rt);
    }
    assert_int_equal(used, 1);
}

static const char *last_tag(struct world *w) { return w->r->intents[w->r->n_intents - 1].tag; }

static void test_ctx_services(void **state)
{
    (void)state;
    struct world w;
    w.r = calloc(1, sizeof *w.r);
    qts_clock_init(&w.clk, QTS_CLOCK_VIRTUAL);
    qts_clock_advance_to(&w.clk, INT64_C(1000000000000));
    w.rt = mk_rt(w.r, true, 1, &w.clk, 0);
    struct qts_lua_param p[] = {{"k", "42"}};
    add_strat(w.rt, "ctx", fixture("ctx_probe.lua"), 0, p, 1);
    sync_ok(w.rt);
    const int64_t S = INT64_C(1000000000), T0 = 1000 * S;

    /* params: given value and default; no book yet for ETH -> nil */
    struct qts_trade t = mk_trade(INST_BTC, 100, 1, 0);
    step_at(&w, &t.h, T0);
    assert_string_equal(last_tag(&w), "p42/dflt/nil");

    /* timer: due 2 s after on_init, repeats, cancelled after the 2nd */
    step_at(&w, &t.h, T0 + 1 * S);
    assert_int_equal(w.r->n_intents, 2); /* not yet */
    step_at(&w, &t.h, T0 + 2 * S + 1);
    assert_int_equal(w.r->n_intents, 4);
    assert_string_equal(w.r->intents[2].tag, "t1/1/1002"); /* timer first, then the trade */
    step_at(&w, &t.h, T0 + 4 * S + 5);
    assert_string_equal(w.r->intents[4].tag, "t1/2/1004");
    size_t n = w.r->n_intents;
    step_at(&w, &t.h, T0 + 9 * S);
    assert_int_equal(w.r->n_intents, n + 1); /* only the trade: timer cancelled */

    /* book: snapshot, then a diff (delete best bid, add a better ask) */
    struct qts_level lv[4] = {{fx(99.5, 2), fx(1, 3)},
                              {fx(99.4, 2), fx(2, 3)},
                              {fx(100.5, 2), fx(1, 3)},
                              {fx(100.6, 2), fx(3, 3)}};
    struct qts_book_update b;
    memset(&b, 0, sizeof b);
    hdr(&b.h, QTS_EV_BOOK, sizeof b, INST_BTC, 0);
    b.h.flags = QTS_BOOK_SNAPSHOT;
    b.n_bids = 2, b.n_asks = 2, b.bids = lv, b.asks = lv + 2;
    step_at(&w, &b.h, T0 + 10 * S);
    assert_string_equal(last_tag(&w), "b2/2/99.50/100.50");
    struct qts_level d[2] = {{fx(99.5, 2), 0}, {fx(100.4, 2), fx(5, 3)}};
    b.h.flags = 0;
    b.n_bids = 1, b.n_asks = 1, b.bids = d, b.asks = d + 1;
    step_at(&w, &b.h, T0 + 11 * S);
    assert_string_equal(last_tag(&w), "b1/2/99.40/100.40");

    /* bars: history of the 1-minute bars received, oldest first */
    for (int i = 0; i < 3; i++) {
        struct qts_bar bar;
        memset(&bar, 0, sizeof bar);
        hdr(&bar.h, QTS_EV_BAR, sizeof bar, INST_BTC, 0);
        bar.period_ns = 60 * S;
        bar.open = bar.high = bar.low = bar.close = fx(100 + i, 2);
        step_at(&w, &bar.h, T0 + (12 + i) * S);
    }
    assert_string_equal(last_tag(&w), "r3/100.0/102.0");
    qts_lua_runtime_free(w.rt);
    free(w.r);
}

QTS_TEST_MAIN(test_ctx_services)
