/* test_cache_writer.c — coalescing write-through into the real
 * cache_memory plugin: key layout and fields, coalescing, deletes, terminal
 * orders, holding back while the cache is not up, refresh, a full table. */
#include "test_support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache_test_host.h"
#include "cache_writer.h"

struct fx {
    struct qts_th th;
    struct qts_th_inst in;
    struct qts_cache_writer *w;
    /* a wrapper table around the plugin whose health the test controls */
    struct qts_cache_ops wrap;
    int forced_state;
    uint32_t forced_pending;
};

static struct fx *g_fx;

static int wrap_health(void *self, struct qts_cache_health *out)
{
    int rc = g_fx->in.ops->health(self, out);
    out->state = g_fx->forced_state;
    out->pending = g_fx->forced_pending;
    return rc;
}

static int setup_cfg(void **state, const struct qts_cache_writer_cfg *cfg)
{
    struct fx *f = calloc(1, sizeof *f);
    g_fx = f;
    qts_th_init(&f->th);
    f->th.fake_now_ns = 1000000000000LL;
    if (qts_th_open(&f->th, &f->in, "cache_memory", NULL) < 0)
        return -1;
    struct qts_err err;
    f->wrap = *f->in.ops;
    f->wrap.health = wrap_health;
    f->forced_state = QTS_CACHE_UP;
    if (qts_cache_writer_new(&f->th.loop, &f->wrap, f->in.self, cfg, &f->w, &err) < 0) {
        fprintf(stderr, "%s\n", err.msg);
        return -1;
    }
    *state = f;
    return 0;
}

static int setup(void **state) { return setup_cfg(state, NULL); }

static int teardown(void **state)
{
    struct fx *f = *state;
    qts_cache_writer_free(f->w);
    uv_run(&f->th.loop, UV_RUN_NOWAIT);
    qts_th_close(&f->th, &f->in);
    free(f);
    return 0;
}

#define S(lit) ((struct qts_str){(lit), sizeof(lit) - 1})

struct scan {
    int n;
    char key[8][64];
    char fields[8][512];
};

static void on_entry(void *arg, int status, struct qts_str key, const struct qts_str *fl,
                     const struct qts_str *vl, size_t n, bool done)
{
    struct scan *s = arg;
    (void)status;
    if (done || s->n >= 8)
        return;
    snprintf(s->key[s->n], sizeof s->key[s->n], "%.*s", (int)key.n, key.p);
    size_t o = 0;
    for (size_t i = 0; i < n; i++)
        o += (size_t)snprintf(s->fields[s->n] + o, sizeof s->fields[s->n] - o, "%.*s=%.*s;",
                              (int)fl[i].n, fl[i].p, (int)vl[i].n, vl[i].p);
    s->n++;
}

static struct scan scan(struct fx *f, const char *pattern)
{
    struct scan s;
    memset(&s, 0, sizeof s);
    f->in.ops->scan_hashes(f->in.self, (struct qts_str){pattern, strlen(pattern)}, on_entry, &s);
    return s;
}

static void turn(struct fx *f) { uv_run(&f->th.loop, UV_RUN_NOWAIT); }

static void test_price_coalesced_to_latest(void **state)
{
    struct fx *f = *state;
    struct qts_cache_price p = {.px_exp = 2, .qty_exp = 3, .ts_ms = 1700000000000LL};
    for (int i = 1; i <= 1000; i++) {
        p.bid = 6000000 + i;
        p.ask = p.bid + 1;
        p.last = p.bid;
        p.volume = 1500 * i;
        assert_int_equal(qts_cache_writer_price(f->w, "BTCUSDT", &p), 0);
    }
    struct qts_cache_writer_stats st;
    qts_cache_writer_stats(f->w, &st);
    assert_int_equal(st.updates, 1000);
    assert_int_equal(st.coalesced, 999);
    assert_int_equal(st.dirty, 1);
    turn(f); /* the loop's check handle flushes */
    qts_cache_writer_stats(f->w, &st);
    assert_int_equal(st.writes, 1);
    assert_int_equal(st.dirty, 0);
    struct scan s = scan(f, "price:*");
    assert_int_equal(s.n, 1);
    assert_string_equal(s.key[0], "price:BTCUSDT");
    assert_string_equal(s.fields[0],
                        "bid=60010;ask=60010.01;last=60010;volume=1500;timestamp=1700000000000;");
}

static void test_position_write_and_delete_at_zero(void **state)
{
    struct fx *f = *state;
    struct qts_cache_position p = {.qty = -250,
                                   .avg_px = 12345,
                                   .unrealized_pnl = -1500000,
                                   .exposure_value = 30000000,
                                   .exposure_pct = 3.5,
                                   .ts_ms = 42,
                                   .px_exp = 2,
                                   .qty_exp = 2};
    assert_int_equal(qts_cache_writer_position(f->w, "ETHUSDT", &p), 0);
    qts_cache_writer_flush(f->w);
    struct scan s = scan(f, "pos:*");
    assert_int_equal(s.n, 1);
    assert_string_equal(s.key[0], "pos:ETHUSDT");
    assert_string_equal(s.fields[0], "qty=-2.5;avg_price=123.45;unrealized_pnl=-1.5;"
                                     "exposure_value=30;exposure_pct=3.5;updated_at=42;");
    p.qty = 0;
    qts_cache_writer_position(f->w, "ETHUSDT", &p);
    qts_cache_writer_flush(f->w);
    assert_int_equal(scan(f, "pos:*").n, 0);
}

static void test_order_terminal_frees_slot(void **state)
{
    struct fx *f = *state;
    struct qts_cache_order o = {.symbol = "BTCUSDT",
                                .status = "PARTIALLY_FILLED",
                                .side = QTS_SIDE_BUY,
                                .qty = 10,
                                .filled_qty = 4,
                                .pending_qty = 6,
                                .avg_fill_px = 10050,
                                .limit_px = 10100,
                                .ts_ms = 7,
                                .px_exp = 2,
                                .qty_exp = 0};
    assert_int_equal(qts_cache_writer_order(f->w, 99, &o), 0);
    qts_cache_writer_flush(f->w);
    struct qts_cache_writer_stats st;
    qts_cache_writer_stats(f->w, &st);
    assert_int_equal(st.keys, 1);
    struct scan s = scan(f, "ord:*");
    assert_int_equal(s.n, 1);
    assert_string_equal(s.key[0], "ord:99");
    assert_string_equal(s.fields[0], "symbol=BTCUSDT;side=BUY;status=PARTIALLY_FILLED;qty=10;"
                                     "filled_qty=4;pending_qty=6;avg_fill_price=100.5;"
                                     "limit_price=101;last_update=7;");
    o.status = "FILLED";
    o.filled_qty = 10;
    o.pending_qty = 0;
    o.is_terminal = true;
    qts_cache_writer_order(f->w, 99, &o);
    qts_cache_writer_flush(f->w);
    qts_cache_writer_stats(f->w, &st);
    assert_int_equal(st.keys, 0); /* slot recycled; the key stays until its TTL */
    s = scan(f, "ord:*");
    assert_int_equal(s.n, 1);
    assert_non_null(strstr(s.fields[0], "status=FILLED;"));
}

static void test_risk_strategy_book(void **state)
{
    struct fx *f = *state;
    struct qts_cache_risk r = {.exposure_used = 5000000000LL,
                               .daily_pnl = -12000000,
                               .remaining_limit = 95000000000LL,
                               .daily_loss_limit = 2000000000,
                               .trade_count = 17,
                               .max_exposure_pct = 25,
                               .safety_state = "NORMAL",
                               .ts_ms = 9};
    assert_int_equal(qts_cache_writer_risk(f->w, &r), 0);
    const char *names[2] = {"rsi_oversold", "position_size"};
    double vals[2] = {30, 0.02};
    struct qts_cache_strategy st = {
        .is_active = true, .n = 2, .names = names, .values = vals, .ts_ms = 5};
    assert_int_equal(qts_cache_writer_strategy(f->w, "scalp1", &st), 0);
    struct qts_level bids[2] = {{10000, 5}, {9999, 7}};
    struct qts_level asks[1] = {{10001, 3}};
    assert_int_equal(qts_cache_writer_book(f->w, "BTC", bids, 2, asks, 1, 2, 0, 1), 0);
    int issued = qts_cache_writer_flush(f->w);
    assert_int_equal(issued, 4); /* risk, strat, book bid, book ask */
    struct scan s = scan(f, "risk:account");
    assert_int_equal(s.n, 1);
    assert_string_equal(s.fields[0], "exposure_used=5000;daily_pnl=-12;trade_count=17;"
                                     "remaining_limit=95000;max_exposure_pct=25;"
                                     "daily_loss_limit=2000;safety_state=NORMAL;updated_at=9;");
    s = scan(f, "strat:*");
    assert_string_equal(s.key[0], "strat:scalp1");
    assert_string_equal(s.fields[0], "active=1;rsi_oversold=30;position_size=0.02;updated_at=5;");
    assert_int_equal(qts_cache_writer_book(f->w, "BAD", NULL, 1, NULL, 0, 2, 0, 1), QTS_EINVAL);
    assert_int_equal(qts_cache_writer_price(f->w, "", &(struct qts_cache_price){0}), QTS_EINVAL);
}

static void test_held_back_while_down_then_sent(void **state)
{
    struct fx *f = *state;
    f->forced_state = QTS_CACHE_OPEN;
    struct qts_cache_position p = {.qty = 1, .ts_ms = 1};
    for (int i = 0; i < 10; i++) {
        p.qty = i + 1;
        assert_int_equal(qts_cache_writer_position(f->w, "A", &p), 0); /* never blocks */
    }
    turn(f);
    struct qts_cache_writer_stats st;
    qts_cache_writer_stats(f->w, &st);
    assert_int_equal(st.writes, 0);
    assert_int_equal(st.dirty, 1);
    /* a busy cache (too many in flight) also holds writes back */
    f->forced_state = QTS_CACHE_UP;
    f->forced_pending = 1u << 20;
    turn(f);
    qts_cache_writer_stats(f->w, &st);
    assert_int_equal(st.writes, 0);
    f->forced_pending = 0;
    turn(f);
    qts_cache_writer_stats(f->w, &st);
    assert_int_equal(st.writes, 1);
    struct scan s = scan(f, "pos:A");
    assert_non_null(strstr(s.fields[0], "qty=10;"));
}

static int setup_short(void **state)
{
    struct qts_cache_writer_cfg cfg = {.max_keys = 4, .refresh_ms = 5, .ttl_pos_ms = 20};
    return setup_cfg(state, &cfg);
}

static void test_refresh_and_full(void **state)
{
    struct fx *f = *state;
    struct qts_cache_position p = {.qty = 1};
    struct qts_cache_price q = {.bid = 1};
    assert_int_equal(qts_cache_writer_position(f->w, "A", &p), 0);
    assert_int_equal(qts_cache_writer_price(f->w, "A", &q), 0);
    qts_cache_writer_flush(f->w);
    qts_th_run_ms(&f->th, 60);
    struct qts_cache_writer_stats st;
    qts_cache_writer_stats(f->w, &st);
    assert_true(st.refreshes >= 1); /* the position, every ttl/2; never the price */
    assert_int_equal(qts_cache_writer_position(f->w, "B", &p), 0);
    assert_int_equal(qts_cache_writer_position(f->w, "C", &p), 0);
    assert_int_equal(qts_cache_writer_position(f->w, "D", &p), QTS_EFULL);
    qts_cache_writer_stats(f->w, &st);
    assert_int_equal(st.full, 1);
}

static void test_many_orders_recycle_slots(void **state)
{
    struct fx *f = *state;
    struct qts_cache_order o = {.symbol = "X", .status = "NEW", .qty = 1};
    /* more orders than slots over time: terminal orders give their slot back */
    for (uint64_t id = 1; id <= 100; id++) {
        o.is_terminal = false;
        assert_int_equal(qts_cache_writer_order(f->w, id, &o), 0);
        o.is_terminal = true;
        assert_int_equal(qts_cache_writer_order(f->w, id, &o), 0);
        qts_cache_writer_flush(f->w);
    }
    struct qts_cache_writer_stats st;
    qts_cache_writer_stats(f->w, &st);
    assert_int_equal(st.keys, 0);
    assert_int_equal(st.full, 0);
}

int main(void)
{
    int failed =
        QTS_TEST_RUN_FIXTURE(setup, teardown, test_price_coalesced_to_latest,
                             test_position_write_and_delete_at_zero, test_order_terminal_frees_slot,
                             test_risk_strategy_book, test_held_back_while_down_then_sent);
    return failed + QTS_TEST_RUN_FIXTURE(setup_short, teardown, test_refresh_and_full,
                                         test_many_orders_recycle_slots);
}
