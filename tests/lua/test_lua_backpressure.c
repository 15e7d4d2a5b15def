/* test_lua_backpressure.c — when a worker falls behind, fills and order
 * events are never dropped (they wait in the core-side backlog, in order)
 * while quotes are conflated to the latest per symbol and counted. */
#include "lua_helpers.h"

#include "lua_strategy.h"

static void test_fills_kept_quotes_conflated(void **state)
{
    (void)state;
    struct rec_sink *r = calloc(1, sizeof *r);
    memset(r, 0, sizeof *r);
    struct qts_lua_settings set;
    memset(&set, 0, sizeof set);
    set.n_workers = 1;
    set.max_instruments = 16;
    set.p0_ring_cap = 8; /* tiny: the backlog must take over */
    set.sink = (struct qts_lua_sink){sizeof set.sink, r,         rec_submit, rec_cancel,
                                     rec_cancel_all,  rec_state, NULL,       NULL};
    struct qts_lua_runtime *rt = NULL;
    assert_int_equal(qts_lua_runtime_new(&set, &rt, NULL), 0);
    struct qts_instrument in;
    memset(&in, 0, sizeof in);
    in.id = INST_BTC;
    snprintf(in.symbol, sizeof in.symbol, "BTCUSDT");
    in.px_exp = 2;
    in.qty_exp = 0;
    assert_int_equal(qts_lua_runtime_add_instrument(rt, &in), 0);
    uint32_t id = add_strat(rt, "slow", fixture("slow_counter.lua"), 0, NULL, 0);
    sync_ok(rt);

    const int N = 1000;
    struct qts_quote q0 = mk_quote(INST_BTC, 99, 101, 1);
    assert_int_equal(qts_lua_runtime_post(rt, &q0.h), 0); /* makes the worker busy */
    for (int i = 0; i < N; i++) {
        struct qts_quote q = mk_quote(INST_BTC, 100, 101 + i * 0.01, i + 2);
        assert_int_equal(qts_lua_runtime_post(rt, &q.h), 0);
        struct qts_fill f =
            mk_fill(id, ((uint64_t)id << 32) | 1, INST_BTC, QTS_SIDE_BUY, 100, 1, i + 2);
        f.h.qty_exp = 0;
        f.qty = 1;
        assert_int_equal(qts_lua_runtime_post(rt, &f.h), 0);
        qts_lua_runtime_tick(rt);
    }
    /* Let the worker take what is queued first: an order event may overtake
     * a quote still waiting in its conflation slot (docs/lua-runtime.md), and
     * the strategy counts the quotes it saw when the order event arrives. */
    sync_ok(rt);
    struct qts_order_event oe =
        mk_order_ev(id, ((uint64_t)id << 32) | 1, INST_BTC, QTS_OE_ACCEPTED, N + 5);
    assert_int_equal(qts_lua_runtime_post(rt, &oe.h), 0);
    sync_ok(rt);
    qts_lua_runtime_drain(rt);

    struct qts_lua_metrics m;
    qts_lua_runtime_metrics(rt, &m);
    assert_int_equal(r->n_intents, 2);
    /* every fill arrived before the order event that followed them */
    assert_string_equal(r->intents[0].tag, "fills");
    assert_int_equal(r->intents[0].qty, N);
    /* quotes: delivered + conflated == posted, and some were conflated */
    int64_t quotes_seen = r->intents[1].qty;
    assert_int_equal(m.md_posted, (uint64_t)N + 1);
    assert_int_equal((uint64_t)quotes_seen + m.md_conflated, m.md_posted);
    assert_true(m.md_conflated > 0);
    assert_int_equal(m.p0_posted, (uint64_t)N + 1);
    assert_true(m.p0_backlogged > 0);
    assert_true(m.p0_backlog_max > 0);
    qts_lua_runtime_free(rt);
    free(r);
}

QTS_TEST_MAIN(test_fills_kept_quotes_conflated)
