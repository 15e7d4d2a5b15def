/* test_risk_loop.c — the micro risk loop on a fake clock against the real
 * execution pipeline and OMS with a scripted broker that fills at once:
 * every rule, latches, short positions, the kill switch, stale prices. */
#include "exec_fixture.h"

#include "precheck_risk.h"
#include "risk_loop.h"
#include "safety.h"

struct rt {
    struct fx *f;
    struct qts_safety *s;
    struct qts_precheck_risk *pre;
    struct qts_risk_loop *rl;
    struct qts_risk_limit_set lim;
    int64_t base[4]; /* positions before the test (inst 1..3) */
    int64_t avg[4];
    int64_t equity;
};

static size_t rt_positions(void *ctx, struct qts_risk_pos_view *out, size_t cap)
{
    struct rt *t = ctx;
    size_t n = 0;
    for (uint32_t i = 1; i < 4 && n < cap; i++) {
        int64_t q = t->base[i] + qts_oms_position(qts_exec_oms(t->f->x), i);
        if (q)
            out[n++] = (struct qts_risk_pos_view){
                .strategy_id = 1, .instrument = i, .qty = q, .avg_px = t->avg[i]};
    }
    return n;
}

static int64_t rt_equity(void *ctx) { return ((struct rt *)ctx)->equity; }

static int64_t book_pos(void *ctx, uint32_t inst)
{
    struct rt *t = ctx;
    return inst < 4 ? t->base[inst] + qts_oms_position(qts_exec_oms(t->f->x), inst) : 0;
}

static const struct qts_instrument *rt_inst(void *ctx, uint32_t id)
{
    return fx_instrument(((struct rt *)ctx)->f, id);
}

static struct rt *rt_new(void)
{
    struct rt *t = qts_xcalloc(1, sizeof *t);
    t->f = fx_new();
    t->f->sync_fill = true;
    fx_start(t->f);
    t->s = qts_safety_new(&t->f->clock);
    qts_risk_limit_set_init(&t->lim);
    t->lim.global.max_exposure_pct = 10; /* these tests are about exits */
    t->lim.global.max_net_exposure_pct = 10;
    t->lim.global.max_symbol_exposure_pct = 10;
    struct qts_risk_book book = {.position = book_pos, .ctx = t};
    t->pre = qts_precheck_risk_new(&t->lim, t->s, &book);
    qts_precheck_risk_install(t->pre, t->f->x);
    t->equity = INT64_C(1000000000) * 1000000; /* 1e9 KRW */
    struct qts_risk_loop_env env = {.timers = &t->f->timers,
                                    .exec = t->f->x,
                                    .safety = t->s,
                                    .pre = t->pre,
                                    .positions = rt_positions,
                                    .equity = rt_equity,
                                    .instrument = rt_inst,
                                    .ctx = t};
    t->rl = qts_risk_loop_new(&t->lim, &env);
    return t;
}

static void rt_free(struct rt *t)
{
    qts_risk_loop_free(t->rl);
    qts_precheck_risk_free(t->pre);
    qts_safety_free(t->s);
    fx_free(t->f);
    free(t);
}

static int64_t now(struct rt *t) { return qts_clock_now(&t->f->clock); }

/* price tick on instrument 1, then one loop period */
static void step(struct rt *t, int64_t px)
{
    qts_risk_loop_on_price(t->rl, 1, px, now(t));
    t->f->ref.bid = px;
    t->f->ref.ask = px;
    t->f->ref.last = px;
    fx_advance_ms(t->f, 100);
}

static int64_t pos1(struct rt *t) { return book_pos(t, 1); }

static const struct fb_call *last_submit(struct rt *t)
{
    for (int i = t->f->n_calls - 1; i >= 0; i--)
        if (t->f->calls[i].op == 's')
            return &t->f->calls[i];
    return NULL;
}

/* A position of `qty` in instrument `inst` bought (or sold, qty < 0) at
 * 60000 before the test. */
static void rt_hold(struct rt *t, uint32_t inst, int64_t qty)
{
    t->base[inst] = qty;
    t->avg[inst] = 60000;
}

/* A position of `qty` in instrument 1 bought (or sold) at 60000, the loop
 * started. Owned: rt_free. */
static struct rt *rt_holding(int64_t qty)
{
    struct rt *t = rt_new();
    rt_hold(t, 1, qty);
    qts_risk_loop_start(t->rl);
    return t;
}

/* `n_submits` orders so far, the last one `side` for `qty`, leaving `pos`. */
static void expect_exit(struct rt *t, int n_submits, uint8_t side, int64_t qty, int64_t pos)
{
    assert_int_equal(fx_count(t->f, 's'), n_submits);
    assert_int_equal(last_submit(t)->o.side, side);
    assert_int_equal(last_submit(t)->o.qty, qty);
    assert_int_equal(pos1(t), pos);
}

static void test_trailing_stop_long(void **state)
{
    (void)state;
    struct rt *t = rt_holding(100);
    step(t, 60000);
    step(t, 60300); /* +0.5 %: not active */
    assert_int_equal(qts_risk_loop_trail_stop(t->rl, 1, 1), 0);
    step(t, 60600); /* +1 %: active, 0.5 % below the high */
    assert_int_equal(qts_risk_loop_trail_stop(t->rl, 1, 1), 60297);
    step(t, 61000);
    assert_int_equal(qts_risk_loop_trail_stop(t->rl, 1, 1), 60695);
    step(t, 60800); /* ratchet: the stop does not move down */
    assert_int_equal(qts_risk_loop_trail_stop(t->rl, 1, 1), 60695);
    assert_int_equal(fx_count(t->f, 's'), 0);
    step(t, 60690); /* crossed: one full exit */
    expect_exit(t, 1, QTS_SIDE_SELL, 100, 0);
    for (int i = 0; i < 10; i++)
        step(t, 60500);
    assert_int_equal(fx_count(t->f, 's'), 1); /* sent once */
    struct qts_risk_loop_stats st;
    qts_risk_loop_stats(t->rl, &st);
    assert_int_equal(st.exits[QTS_RR_TRAIL], 1);
    /* notices only: the exit did not move the safety state */
    assert_int_equal(qts_safety_state(t->s), QTS_SAFETY_NORMAL);
    rt_free(t);
}

static void test_trailing_stop_short_min_distance(void **state)
{
    (void)state;
    struct rt *t = rt_new();
    t->lim.global.trail_min_distance = 500; /* KRW: wider than 0.5 % here */
    qts_risk_loop_set_limits(t->rl, &t->lim);
    rt_hold(t, 1, -100);
    qts_risk_loop_start(t->rl);
    step(t, 60000);
    step(t, 59400); /* short +1 %: active; stop above the low by max(0.5 %, 500) */
    assert_int_equal(qts_risk_loop_trail_stop(t->rl, 1, 1), 59900);
    step(t, 59000);
    assert_int_equal(qts_risk_loop_trail_stop(t->rl, 1, 1), 59500);
    step(t, 59400);
    assert_int_equal(fx_count(t->f, 's'), 0);
    step(t, 59500); /* crossed upward: buy to cover */
    expect_exit(t, 1, QTS_SIDE_BUY, 100, 0);
    rt_free(t);
}

static void test_mae_short_partial_once_then_full(void **state)
{
    (void)state;
    struct rt *t = rt_holding(-100);
    step(t, 60000);
    step(t, 60900); /* 1.5 % adverse for a short: cut half, by a buy */
    expect_exit(t, 1, QTS_SIDE_BUY, 50, -50);
    for (int i = 0; i < 20; i++)
        step(t, 60900); /* the condition holds: the tier does not fire again */
    assert_int_equal(fx_count(t->f, 's'), 1);
    step(t, 61200); /* 2 %: flatten */
    expect_exit(t, 2, QTS_SIDE_BUY, 50, 0);
    step(t, 61200);
    assert_int_equal(fx_count(t->f, 's'), 2);
    rt_free(t);
}

static void test_mae_is_sticky_and_new_episode_resets(void **state)
{
    (void)state;
    struct rt *t = rt_holding(100);
    step(t, 60000);
    step(t, 59100); /* -1.5 %: half */
    assert_int_equal(pos1(t), 50);
    step(t, 59900); /* back near entry: the low is remembered */
    step(t, 58800); /* -2 %: the rest */
    assert_int_equal(pos1(t), 0);
    /* a new long: new episode, the partial tier may fire again */
    t->base[1] += 100;
    step(t, 60000);
    step(t, 59100);
    assert_int_equal(pos1(t), 50);
    assert_int_equal(fx_count(t->f, 's'), 3);
    rt_free(t);
}

static void test_time_in_trade_with_extension(void **state)
{
    (void)state;
    struct rt *t = rt_holding(100);
    /* in profit (+0.3 %, below trailing activation): 1 h + 30 min */
    for (int i = 0; i < 36000; i++)
        step(t, 60180);
    struct qts_risk_loop_stats st;
    qts_risk_loop_stats(t->rl, &st);
    for (int r = 0; r < QTS_RR_COUNT; r++)
        if (st.exits[r])
            fail_msg("unexpected exit %s", qts_risk_reason_name(r));
    assert_int_equal(fx_count(t->f, 's'), 0);
    /* the 80 % warning was given, once */
    struct qts_safety_event ev[64];
    size_t n = qts_safety_events(t->s, ev, 64), warned = 0;
    for (size_t i = 0; i < n; i++)
        warned += ev[i].code == QTS_SC_GR072;
    assert_int_equal(warned, 1);
    assert_int_equal(qts_safety_state(t->s), QTS_SAFETY_NORMAL);
    for (int i = 0; i < 18010 && fx_count(t->f, 's') == 0; i++)
        step(t, 60180);
    assert_int_equal(fx_count(t->f, 's'), 1);
    assert_int_equal(pos1(t), 0);
    qts_risk_loop_stats(t->rl, &st);
    assert_int_equal(st.exits[QTS_RR_TIME], 1);
    rt_free(t);
}

static void test_time_in_trade_flat_pnl_exits_at_1h(void **state)
{
    (void)state;
    struct rt *t = rt_holding(100);
    int i = 0;
    while (fx_count(t->f, 's') == 0 && i < 40000) {
        step(t, 59990);
        i++;
    }
    assert_int_equal(fx_count(t->f, 's'), 1);
    /* 3600 s at 100 ms per step (+ the first period) */
    assert_true(i >= 35999 && i <= 36001);
    rt_free(t);
}

static void test_volatility_critical_cuts_once(void **state)
{
    (void)state;
    struct rt *t = rt_holding(100);
    step(t, 60000);
    qts_risk_loop_set_market_vol(t->rl, 31, 0);
    step(t, 60000);
    assert_int_equal(fx_count(t->f, 's'), 1);
    assert_int_equal(last_submit(t)->o.qty, 50);
    for (int i = 0; i < 10; i++)
        step(t, 60000);
    assert_int_equal(fx_count(t->f, 's'), 1);
    assert_int_equal(qts_safety_state(t->s), QTS_SAFETY_NORMAL);
    rt_free(t);
}

static void test_volatility_kill_flattens_and_locks_down(void **state)
{
    (void)state;
    struct rt *t = rt_new();
    rt_hold(t, 1, 100);
    rt_hold(t, 2, -50); /* a short on the second instrument (lot 10) */
    qts_risk_loop_start(t->rl);
    step(t, 60000);
    /* a strategy's working order that must be cancelled */
    t->f->sync_fill = false;
    struct qts_order_intent in = fx_intent(2, 1, QTS_SIDE_BUY, QTS_ORD_LIMIT, 60000, 5);
    uint64_t entry = fx_submit(t->f, &in);
    t->f->sync_fill = true;
    qts_risk_loop_set_market_vol(t->rl, 45, 0);
    step(t, 60000);
    assert_int_equal(qts_safety_state(t->s), QTS_SAFETY_LOCKDOWN);
    assert_int_equal(fx_count(t->f, 'c'), 1);
    assert_true(fx_order(t->f, entry)->state == QTS_XS_CANCELLING ||
                qts_exec_state_final(fx_order(t->f, entry)->state));
    assert_int_equal(pos1(t), 0);
    assert_int_equal(book_pos(t, 2), 0); /* covered by a buy */
    /* new entries are blocked (LOCKDOWN) */
    in = fx_intent(2, 1, QTS_SIDE_BUY, QTS_ORD_LIMIT, 60000, 5);
    uint64_t id = 0;
    struct qts_err err;
    assert_int_equal(qts_exec_submit(t->f->x, &in, &id, &err), QTS_ERISK);
    assert_non_null(strstr(err.msg, "GR102"));
    /* stays killed while LOCKDOWN; approval releases it */
    int n = fx_count(t->f, 's');
    step(t, 60000);
    assert_int_equal(fx_count(t->f, 's'), n);
    qts_risk_loop_set_market_vol(t->rl, 20, 0);
    assert_int_equal(qts_safety_recover(t->s, true, "ops", "calm", NULL), QTS_SAFETY_NORMAL);
    step(t, 60000);
    struct qts_risk_loop_stats st;
    qts_risk_loop_stats(t->rl, &st);
    assert_int_equal(st.kills, 1);
    rt_free(t);
}

static void test_account_mae_kill(void **state)
{
    (void)state;
    struct rt *t = rt_new();
    rt_hold(t, 1, 1000);
    t->equity = INT64_C(10000000) * 1000000; /* 10 M KRW */
    /* MAE rules off for this account-level test */
    t->lim.global.mae_partial_pct = 0.5;
    t->lim.global.mae_full_pct = 0.9;
    qts_risk_loop_set_limits(t->rl, &t->lim);
    qts_risk_loop_start(t->rl);
    step(t, 60000);
    step(t, 59600); /* loss 400k = 4 % of equity: nothing */
    assert_int_equal(fx_count(t->f, 's'), 0);
    step(t, 59400); /* loss 600k = 6 % >= 5 %: kill switch */
    assert_int_equal(fx_count(t->f, 's'), 1);
    assert_int_equal(pos1(t), 0);
    assert_int_equal(qts_safety_state(t->s), QTS_SAFETY_LOCKDOWN);
    rt_free(t);
}

static void test_stale_price_freezes_then_trips(void **state)
{
    (void)state;
    struct rt *t = rt_holding(100);
    step(t, 60000);
    fx_advance_ms(t->f, 500); /* 600 ms without a tick */
    assert_true(qts_precheck_risk_frozen(t->pre, 1));
    assert_int_equal(qts_safety_state(t->s), QTS_SAFETY_WARNING); /* AN010 */
    /* an entry is refused, an exit is not */
    struct qts_precheck_reject rej;
    struct qts_order_intent in = fx_intent(1, 1, QTS_SIDE_BUY, QTS_ORD_MARKET, 0, 10);
    assert_int_equal(qts_exec_precheck(t->f->x, &in, &rej), QTS_ERISK);
    assert_string_equal(rej.code_str, "GR117");
    in = fx_intent(1, 1, QTS_SIDE_SELL, QTS_ORD_MARKET, 0, 10);
    assert_int_equal(qts_exec_precheck(t->f->x, &in, &rej), 0);
    fx_advance_ms(t->f, 500); /* > 1 s with a position: FS107 */
    assert_int_equal(qts_safety_state(t->s), QTS_SAFETY_FAIL);
    step(t, 60000); /* fresh again: unfrozen */
    fx_advance_ms(t->f, 100);
    assert_false(qts_precheck_risk_frozen(t->pre, 1));
    rt_free(t);
}

static void test_price_jump_anomaly(void **state)
{
    (void)state;
    struct rt *t = rt_new();
    qts_risk_loop_on_price(t->rl, 3, 10000, now(t));
    qts_risk_loop_on_price(t->rl, 3, 10400, now(t));
    assert_int_equal(qts_safety_state(t->s), QTS_SAFETY_NORMAL);
    qts_risk_loop_on_price(t->rl, 3, 11000, now(t)); /* +5.8 % */
    assert_int_equal(qts_safety_state(t->s), QTS_SAFETY_WARNING);
    assert_true(qts_risk_loop_realized_vol(t->rl, 3) > 0.05);
    qts_risk_loop_reset_session(t->rl);
    assert_true(qts_risk_loop_realized_vol(t->rl, 3) == 0.0);
    /* a new UTC day of the data's clock starts a new session by itself: the
     * moves of the day before do not count (they did, for a month-long
     * replay, until every volatility level was passed) */
    qts_risk_loop_on_price(t->rl, 3, 12000, now(t)); /* +8.7 % */
    assert_true(qts_risk_loop_realized_vol(t->rl, 3) > 0.08);
    int64_t next_day = (now(t) / 86400000000000LL + 1) * 86400000000000LL;
    qts_risk_loop_on_price(t->rl, 3, 12010, next_day);
    assert_true(qts_risk_loop_realized_vol(t->rl, 3) < 0.01);
    rt_free(t);
}

static void test_failed_exit_retries_then_escalates(void **state)
{
    (void)state;
    struct rt *t = rt_holding(100);
    step(t, 60000);
    /* the broker refuses the next submits (transport down) */
    t->f->sync_fill = false;
    for (int i = 0; i < 16; i++)
        t->f->submit_rc[i] = QTS_ENET;
    t->f->n_submit_rc = 16;
    step(t, 58700); /* -2.2 %: flatten */
    assert_true(fx_count(t->f, 's') >= 1);
    for (int i = 0; i < 400; i++)
        step(t, 58700); /* send retries time out, the exit fails, is retried */
    struct qts_risk_loop_stats st;
    qts_risk_loop_stats(t->rl, &st);
    assert_true(st.exit_failures >= 2);
    assert_true(st.exits[QTS_RR_MAE_FULL] >= 2);
    assert_true(qts_safety_state(t->s) >= QTS_SAFETY_FAIL); /* FS040 */
    rt_free(t);
}

static void test_period_is_fixed_rate(void **state)
{
    (void)state;
    struct rt *t = rt_new();
    qts_risk_loop_start(t->rl);
    fx_advance_ms(t->f, 1000);
    struct qts_risk_loop_stats st;
    qts_risk_loop_stats(t->rl, &st);
    assert_int_equal(st.cycles, 10);
    assert_int_equal(qts_hdr_percentile(qts_risk_loop_jitter(t->rl), 100), 0);
    qts_risk_loop_stop(t->rl);
    fx_advance_ms(t->f, 1000);
    qts_risk_loop_stats(t->rl, &st);
    assert_int_equal(st.cycles, 10);
    char js[2048];
    qts_risk_loop_status_json(t->rl, js, sizeof js);
    assert_non_null(strstr(js, "\"cycles\":10"));
    rt_free(t);
}

QTS_TEST_MAIN(test_trailing_stop_long, test_trailing_stop_short_min_distance,
              test_mae_short_partial_once_then_full, test_mae_is_sticky_and_new_episode_resets,
              test_time_in_trade_with_extension, test_time_in_trade_flat_pnl_exits_at_1h,
              test_volatility_critical_cuts_once, test_volatility_kill_flattens_and_locks_down,
              test_account_mae_kill, test_stale_price_freezes_then_trips, test_price_jump_anomaly,
              test_failed_exit_retries_then_escalates, test_period_is_fixed_rate)
