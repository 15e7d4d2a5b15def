/* test_lua_replay_real.c — a real Binance BTCUSDT trade capture replayed in
 * lockstep through the example strategies, with a venue that fills market
 * orders at the last trade price: orders are produced, and the order log is
 * identical for one-event steps and 4096-event steps (determinism and
 * batch equivalence on real data). Skips when ../shared/data is absent. */
#include "lua_helpers.h"

#include <zlib.h>

#include "util.h"

#define MAX_TRADES 60000

static struct qts_trade *g_trades;
static size_t g_n;

static int load_trades(const char *path)
{
    gzFile f = gzopen(path, "rb");
    if (!f)
        return -1;
    static char line[65536];
    g_trades = calloc(MAX_TRADES, sizeof *g_trades);
    while (g_n < MAX_TRADES && gzgets(f, line, sizeof line)) {
        if (!strstr(line, "@trade\""))
            continue;
        const char *p = strstr(line, "\"p\":\""), *q = strstr(line, "\"q\":\""),
                   *T = strstr(line, "\"T\":"), *m = strstr(line, "\"m\":");
        if (!p || !q || !T || !m)
            continue;
        p += 5, q += 5, T += 4;
        struct qts_trade *t = &g_trades[g_n];
        memset(t, 0, sizeof *t);
        t->h.struct_size = sizeof *t;
        t->h.type = QTS_EV_TRADE;
        t->h.px_exp = 2;
        t->h.qty_exp = 5;
        t->h.instrument = 0;
        t->h.ts_exch_ns = strtoll(T, NULL, 10) * 1000000;
        t->h.ts_recv_ns = t->h.ts_exch_ns;
        t->h.seq = g_n + 1;
        if (qts_parse_fixed(p, (size_t)(strchr(p, '"') - p), 2, &t->px) != 0 ||
            qts_parse_fixed(q, (size_t)(strchr(q, '"') - q), 5, &t->qty) != 0)
            continue;
        t->aggressor = strncmp(m + 4, "true", 4) == 0 ? QTS_SIDE_SELL : QTS_SIDE_BUY;
        g_n++;
    }
    gzclose(f);
    return 0;
}

static char *replay(size_t batch)
{
    struct rec_sink *r = calloc(1, sizeof *r);
    struct qts_lua_settings set;
    memset(&set, 0, sizeof set);
    set.n_workers = 2;
    set.lockstep = true;
    struct qts_clock clk;
    qts_clock_init(&clk, QTS_CLOCK_VIRTUAL);
    set.clock = &clk;
    set.scan_interval_ns = -1;
    set.max_instruments = 4;
    set.sink = (struct qts_lua_sink){sizeof set.sink, r,         rec_submit, rec_cancel,
                                     rec_cancel_all,  rec_state, NULL,       NULL};
    struct qts_lua_runtime *rt;
    assert_int_equal(qts_lua_runtime_new(&set, &rt, NULL), 0);
    struct qts_instrument in;
    memset(&in, 0, sizeof in);
    snprintf(in.symbol, sizeof in.symbol, "BTCUSDT");
    in.px_exp = 2;
    in.qty_exp = 5;
    in.tick_size = 1;
    in.lot_size = 1;
    assert_int_equal(qts_lua_runtime_add_instrument(rt, &in), 0);
    struct qts_lua_param pe[] = {{"symbol", "BTCUSDT"},
                                 {"fast", "20"},
                                 {"slow", "100"},
                                 {"qty", "0.01"},
                                 {"allow_short", "true"}};
    struct qts_lua_param pr[] = {{"symbol", "BTCUSDT"},
                                 {"n", "50"},
                                 {"qty", "0.01"},
                                 {"take_profit", "0.0005"},
                                 {"stop_loss", "0.0005"}};
    add_strat(rt, "ema", example("ema_cross.lua"), 0, pe, 5);
    add_strat(rt, "rsi", example("rsi_scalp.lua"), 1, pr, 5);
    sync_ok(rt);
    const struct qts_ev_hdr **ptrs = calloc(g_n, sizeof *ptrs);
    for (size_t i = 0; i < g_n; i++)
        ptrs[i] = &g_trades[i].h;
    size_t at = 0, filled = 0;
    int64_t last_px = 0;
    while (at < g_n) {
        size_t used = 0, n = QTS_MIN(batch, g_n - at);
        qts_clock_advance_to(&clk, ptrs[at]->ts_exch_ns);
        assert_int_equal(qts_lua_runtime_step(rt, ptrs + at, n, &used), 0);
        last_px = g_trades[at + used - 1].px;
        int64_t ts = g_trades[at + used - 1].h.ts_exch_ns;
        at += used;
        qts_lua_runtime_drain(rt);
        for (; filled < r->n_intents; filled++) { /* the venue */
            const struct qts_order_intent *o = &r->intents[filled];
            struct qts_fill f;
            memset(&f, 0, sizeof f);
            f.h.struct_size = sizeof f;
            f.h.type = QTS_EV_FILL;
            f.h.px_exp = 2;
            f.h.qty_exp = 5;
            f.h.ts_exch_ns = f.h.ts_recv_ns = ts;
            f.order_id = o->order_id;
            f.strategy_id = o->strategy_id;
            f.side = o->side;
            f.px = last_px;
            f.qty = o->qty;
            assert_int_equal(qts_lua_runtime_post(rt, &f.h), 0);
            qts_lua_runtime_drain(rt);
        }
    }
    char *log = intent_log(r);
    assert_true(count_tag(r, 1, NULL) >= 2);
    assert_true(count_tag(r, 2, NULL) >= 2);
    for (uint32_t id = 1; id <= 2; id++) {
        struct qts_lua_strategy_info info;
        qts_lua_runtime_info(rt, id, &info);
        assert_int_equal(info.errors, 0);
        assert_int_equal(info.events, g_n + count_tag(r, id, NULL));
    }
    free(ptrs);
    qts_lua_runtime_free(rt);
    free(r);
    return log;
}

static void test_real_trades_deterministic(void **state)
{
    (void)state;
    char *one = replay(1);
    char *big = replay(4096);
    assert_string_equal(one, big);
    free(one);
    free(big);
}

int main(void)
{
    const char *path = qts_test_data_path("binance/spot_btcusdt_20240808.gz");
    if (!path) {
        printf("skipped: ../shared/data/binance/spot_btcusdt_20240808.gz absent\n");
        return QTS_TEST_SKIP;
    }
    if (load_trades(path) != 0 || g_n < 1000) {
        printf("cannot read %s\n", path);
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_real_trades_deterministic),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    free(g_trades);
    return rc;
}
