/* test_lua_runtime_basic.c — a strategy loads, receives events in both
 * modes, its orders reach the sink with deterministic ids, rejections from
 * the sink come back as on_order, positions/cash follow fills. */
#include "lua_helpers.h"

#include "config_node.h"

static void test_live_orders_reach_sink(void **state)
{
    (void)state;
    struct rec_sink *r = calloc(1, sizeof *r);
    struct qts_lua_runtime *rt = mk_rt(r, false, 1, NULL, 0);
    uint32_t id = add_strat(rt, "echo", fixture("echo.lua"), -1, NULL, 0);
    sync_ok(rt);
    assert_int_equal(strat_state(rt, id), QTS_LUA_ST_RUNNING);
    for (int i = 0; i < 5; i++) {
        struct qts_trade t = mk_trade(INST_BTC, 100 + i, 1, i);
        assert_int_equal(qts_lua_runtime_post(rt, &t.h), 0);
        sync_ok(rt); /* one at a time: no conflation in this test */
    }
    qts_lua_runtime_drain(rt);
    assert_int_equal(r->n_intents, 5);
    for (size_t i = 0; i < 5; i++) {
        assert_int_equal(r->intents[i].strategy_id, id);
        assert_int_equal(r->intents[i].order_id, ((uint64_t)id << 32) | (i + 1));
        assert_int_equal(r->intents[i].px, fx(100 + (double)i, 2));
        assert_int_equal(r->intents[i].qty, 1);
        assert_int_equal(r->intents[i].side, QTS_SIDE_BUY);
        assert_int_equal(r->intents[i].type, QTS_ORD_LIMIT);
    }
    assert_string_equal(r->intents[4].tag, "v1:5");
    qts_lua_runtime_free(rt);
    free(r);
}

static void test_lockstep_and_sink_reject(void **state)
{
    (void)state;
    struct rec_sink *r = calloc(1, sizeof *r);
    struct qts_clock clk;
    qts_clock_init(&clk, QTS_CLOCK_VIRTUAL);
    struct qts_lua_runtime *rt = mk_rt(r, true, 1, &clk, 0);
    uint32_t id = add_strat(rt, "probe", fixture("probe.lua"), 0, NULL, 0);
    sync_ok(rt);
    assert_int_equal(strat_state(rt, id), QTS_LUA_ST_RUNNING);
    r->reject_code = QTS_ERISK;
    struct qts_trade t = mk_trade(INST_BTC, 100, 1, 1000);
    size_t used = 0;
    const struct qts_ev_hdr *p = &t.h;
    assert_int_equal(qts_lua_runtime_step(rt, &p, 1, &used), 0);
    assert_int_equal(used, 1);
    qts_lua_runtime_drain(rt); /* rejected -> on_order(rejected) -> probe sells "rej" */
    r->reject_code = 0;
    qts_lua_runtime_drain(rt);
    assert_int_equal(count_tag(r, id, "rejected:-20"), 1);
    /* fill: position and cash mirrors */
    struct qts_fill f = mk_fill(id, ((uint64_t)id << 32) | 1, INST_BTC, QTS_SIDE_BUY, 100, 2, 2000);
    f.fee = 1000000; /* 1.0 */
    assert_int_equal(qts_lua_runtime_post(rt, &f.h), 0);
    qts_lua_runtime_drain(rt);
    assert_int_equal(count_tag(r, id, "p=2 c=99799 e=99999"), 1);
    qts_lua_runtime_free(rt);
    free(r);
}

static void test_remove_strategy(void **state)
{
    (void)state;
    struct rec_sink *r = calloc(1, sizeof *r);
    struct qts_lua_runtime *rt = mk_rt(r, false, 1, NULL, 0);
    uint32_t id = add_strat(rt, "echo", fixture("echo.lua"), -1, NULL, 0);
    uint32_t keep = add_strat(rt, "echo2", fixture("echo.lua"), -1, NULL, 0);
    sync_ok(rt);
    struct qts_trade t = mk_trade(INST_BTC, 100, 1, 1);
    assert_int_equal(qts_lua_runtime_post(rt, &t.h), 0);
    sync_ok(rt);
    qts_lua_runtime_drain(rt);
    assert_int_equal(qts_lua_runtime_remove_strategy(rt, id), 0);
    sync_ok(rt);
    qts_lua_runtime_drain(rt);
    assert_int_equal(strat_state(rt, id), QTS_LUA_ST_STOPPED);
    assert_true(rec_cancelled_all(r, id));
    assert_false(rec_cancelled_all(r, keep));
    struct qts_trade t2 = mk_trade(INST_BTC, 101, 1, 2);
    assert_int_equal(qts_lua_runtime_post(rt, &t2.h), 0);
    sync_ok(rt);
    qts_lua_runtime_drain(rt);
    assert_int_equal(count_tag(r, id, NULL), 1);
    assert_int_equal(count_tag(r, keep, NULL), 2);
    assert_int_equal(qts_lua_runtime_remove_strategy(rt, 99), QTS_ENOENT);
    qts_lua_runtime_free(rt);
    free(r);
}

static void test_params_from_config(void **state)
{
    (void)state;
    const char *yaml = "symbol: BTCUSDT\nfast: 5\nallow_short: true\n";
    struct qts_cfg_node *root = NULL;
    struct qts_diags d;
    qts_diags_init(&d);
    assert_int_equal(qts__cfg_parse("s.yaml", yaml, strlen(yaml), &root, &d), 0);
    struct qts_lua_param p[8];
    assert_int_equal(qts_lua_params_from_cfg(root, p, 8, NULL), 3);
    assert_string_equal(p[0].key, "symbol");
    assert_string_equal(p[0].value, "BTCUSDT");
    assert_string_equal(p[1].value, "5");
    qts__cfg_node_free(root);
    const char *bad = "symbol: BTCUSDT\nlevels:\n  - 1\n";
    assert_int_equal(qts__cfg_parse("s.yaml", bad, strlen(bad), &root, &d), 0);
    struct qts_err err;
    assert_int_equal(qts_lua_params_from_cfg(root, p, 8, &err), QTS_ECONFIG);
    assert_non_null(strstr(err.msg, "s.yaml:3:"));
    qts__cfg_node_free(root);
    qts_diags_cleanup(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_live_orders_reach_sink),
        cmocka_unit_test(test_lockstep_and_sink_reject),
        cmocka_unit_test(test_params_from_config),
        cmocka_unit_test(test_remove_strategy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
