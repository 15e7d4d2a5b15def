/* test_portfolio.c — accounting invariants over a scripted fill sequence
 * with two strategies, shorts and position flips: position = sum of signed
 * fills, cash + positions x price = equity = initial + realized +
 * unrealized - fees at every fill, fees sum; round trips and attribution
 * against hand-computed values. */
#include "test_support.h"

#include <stdlib.h>
#include <string.h>

#include "portfolio.h"
#include "qts/qts_err.h"

/* instrument 1: px_exp 2, qty_exp 3; instrument 2: px_exp 5, qty_exp 8 */
#define CASH(x) ((int64_t)((x)*1000000.0 + ((x) < 0 ? -0.5 : 0.5)))

/* What the portfolio hands its listener (it keeps no rows itself). */
#define REC_MAX 64
static struct rec {
    struct qts_ledger_entry l[REC_MAX];
    size_t nl;
    struct qts_trade_rt t[REC_MAX];
    size_t nt;
    struct qts_equity_point e[REC_MAX];
    size_t ne;
    struct qts_price_point px[REC_MAX];
    size_t npx;
} g_rec;

static void rec_ledger(void *ctx, const struct qts_ledger_entry *e)
{
    struct rec *r = ctx;
    assert_true(r->nl < REC_MAX);
    r->l[r->nl++] = *e;
}

static void rec_trade(void *ctx, const struct qts_trade_rt *t)
{
    struct rec *r = ctx;
    assert_true(r->nt < REC_MAX);
    r->t[r->nt++] = *t;
}

static void rec_sample(void *ctx, const struct qts_equity_point *e,
                       const struct qts_price_point *px, size_t n_px)
{
    struct rec *r = ctx;
    assert_true(r->ne < REC_MAX && r->npx + n_px <= REC_MAX);
    r->e[r->ne++] = *e;
    if (n_px) /* px is NULL when no instrument has a mark yet */
        memcpy(&r->px[r->npx], px, n_px * sizeof *px);
    r->npx += n_px;
}

static struct qts_portfolio *new_recorded(int64_t cash)
{
    struct qts_portfolio *pf = qts_portfolio_new(cash);
    memset(&g_rec, 0, sizeof g_rec);
    struct qts_portfolio_listener l = {
        .on_ledger = rec_ledger, .on_trade = rec_trade, .on_sample = rec_sample, .ctx = &g_rec};
    qts_portfolio_set_listener(pf, &l);
    return pf;
}

struct step {
    uint32_t strategy, instrument;
    int side;
    int64_t px, qty, fee;
};

static struct qts_fill mkfill(const struct step *s, int64_t ts, uint64_t id)
{
    struct qts_fill f;
    memset(&f, 0, sizeof f);
    f.h.struct_size = sizeof f;
    f.h.type = QTS_EV_FILL;
    f.h.instrument = s->instrument;
    f.h.px_exp = s->instrument == 1 ? 2 : 5;
    f.h.qty_exp = s->instrument == 1 ? 3 : 8;
    f.h.ts_exch_ns = ts;
    f.order_id = id;
    f.fill_id = 1;
    f.strategy_id = s->strategy;
    f.side = (uint8_t)s->side;
    f.px = s->px;
    f.qty = s->qty;
    f.fee = s->fee;
    strcpy(f.tag, "t");
    return f;
}

static const struct step SCRIPT[] = {
    {1, 1, QTS_SIDE_BUY, 10000, 2000, CASH(0.10)},               /* S1 long 2 @100 */
    {1, 1, QTS_SIDE_BUY, 10300, 1000, CASH(0.05)},               /* S1 long 3, avg 101 */
    {1, 1, QTS_SIDE_SELL, 10600, 1000, CASH(0.05)},              /* S1 sells 1: +5 */
    {1, 1, QTS_SIDE_SELL, 10400, 4000, CASH(0.20)},              /* flip: +6, short 2 @104 */
    {2, 1, QTS_SIDE_BUY, 10450, 1000, 0},                        /* S2 long 1; account -1 */
    {1, 1, QTS_SIDE_BUY, 10100, 2000, CASH(0.10)},               /* S1 covers: +6 */
    {2, 2, QTS_SIDE_SELL, 3000012345, 12345678, CASH(0.000003)}, /* S2 short 0.12345678 */
    {2, 1, QTS_SIDE_SELL, 9900, 1000, CASH(-0.01)},              /* S2 flat at a loss, rebate */
    {2, 2, QTS_SIDE_BUY, 2999900000, 12345678, CASH(0.000003)},
};

static void check_invariants(const struct qts_portfolio *pf, const struct step *done, size_t n)
{
    int64_t cash = CASH(10000), fees = 0;
    int64_t pos[3] = {0, 0, 0};
    for (size_t i = 0; i < n; i++) {
        const struct step *s = &done[i];
        int64_t sq = s->side == QTS_SIDE_BUY ? s->qty : -s->qty;
        pos[s->instrument] += sq;
        /* independent notional: exact decimal arithmetic per instrument */
        __int128 raw = (__int128)s->px * s->qty; /* 10^-(px_exp+qty_exp) */
        int64_t notional;
        if (s->instrument == 1)
            notional = (int64_t)(raw * 10); /* 10^-5 -> 10^-6 */
        else
            notional = (int64_t)((raw + 5000000) / 10000000); /* 10^-13 -> 10^-6 */
        cash -= (s->side == QTS_SIDE_BUY ? notional : -notional) + s->fee;
        fees += s->fee;
    }
    for (uint32_t inst = 1; inst <= 2; inst++) {
        const struct qts_position *p = qts_portfolio_position(pf, inst);
        int64_t q = p ? p->qty : 0;
        assert_int_equal(q, pos[inst]);
        int64_t strat_sum = 0;
        for (uint32_t s = 1; s <= 2; s++) {
            const struct qts_position *sp = qts_portfolio_strategy_position(pf, s, inst);
            strat_sum += sp ? sp->qty : 0;
        }
        assert_int_equal(strat_sum, pos[inst]);
    }
    assert_int_equal(qts_portfolio_cash(pf), cash);
    assert_int_equal(qts_portfolio_fees(pf), fees);
    /* cash + positions x price = equity = initial + realized + unrealized - fees */
    int64_t mv = 0;
    for (uint32_t inst = 1; inst <= 2; inst++)
        mv += qts_cash_notional(qts_portfolio_last_px(pf, inst), inst == 1 ? 2 : 5, pos[inst],
                                inst == 1 ? 3 : 8);
    int64_t eq = qts_portfolio_equity(pf);
    assert_int_equal(eq, cash + mv);
    assert_int_equal(eq, qts_portfolio_initial_cash(pf) + qts_portfolio_realized(pf) +
                             qts_portfolio_unrealized(pf) - qts_portfolio_fees(pf));
    /* the ledger: one row per fill, running cash and position */
    const struct qts_ledger_entry *l = g_rec.l;
    assert_int_equal(g_rec.nl, n);
    assert_int_equal(qts_portfolio_n_fills(pf), n);
    assert_int_equal(l[n - 1].cash_after, cash);
    assert_int_equal(l[n - 1].pos_after, pos[done[n - 1].instrument]);
    int64_t lf = 0;
    for (size_t i = 0; i < n; i++)
        lf += l[i].fee;
    assert_int_equal(lf, fees);
    struct qts_strategy_stats *ss;
    size_t ns = qts_portfolio_strategy_stats(pf, &ss);
    int64_t sf = 0;
    for (size_t i = 0; i < ns; i++)
        sf += ss[i].fees;
    free(ss);
    assert_int_equal(sf, fees);
}

static void test_invariants_every_fill(void **state)
{
    (void)state;
    struct qts_portfolio *pf = new_recorded(CASH(10000));
    size_t n = sizeof SCRIPT / sizeof SCRIPT[0];
    for (size_t i = 0; i < n; i++) {
        struct qts_fill f = mkfill(&SCRIPT[i], (int64_t)(i + 1) * 1000, i + 1);
        assert_int_equal(qts_portfolio_apply_fill(pf, &f), 0);
        check_invariants(pf, SCRIPT, i + 1);
        /* marking moves unrealized and equity but keeps the identity */
        qts_portfolio_mark(pf, 1, 10000 + (int64_t)i * 37, 2);
        check_invariants(pf, SCRIPT, i + 1);
        qts_portfolio_sample(pf, (int64_t)(i + 1) * 1000);
    }
    /* the newest sample is held back until it is final */
    assert_int_equal(g_rec.ne, n - 1);
    qts_portfolio_flush_sample(pf);
    const struct qts_equity_point *ec = g_rec.e;
    assert_int_equal(g_rec.ne, n);
    assert_int_equal(qts_portfolio_n_samples(pf), n);
    assert_int_equal(ec[n - 1].equity, qts_portfolio_equity(pf));
    qts_portfolio_free(pf);
}

static void test_realized_shorts_and_flips(void **state)
{
    (void)state;
    struct qts_portfolio *pf = new_recorded(CASH(10000));
    for (size_t i = 0; i < 6; i++) {
        struct qts_fill f = mkfill(&SCRIPT[i], (int64_t)(i + 1) * 1000, i + 1);
        assert_int_equal(qts_portfolio_apply_fill(pf, &f), 0);
    }
    const struct qts_position *s1 = qts_portfolio_strategy_position(pf, 1, 1);
    assert_non_null(s1);
    assert_int_equal(s1->qty, 0);
    assert_int_equal(s1->realized, CASH(17)); /* 5 + 6 + 6 */
    assert_int_equal(s1->fees, CASH(0.50));
    assert_int_equal(s1->cost_basis, 0);
    /* average prices: S1 after two buys 101.00; S2 long at 104.50 */
    struct qts_portfolio *pf2 = qts_portfolio_new(CASH(10000));
    for (size_t i = 0; i < 4; i++) {
        struct qts_fill f = mkfill(&SCRIPT[i], (int64_t)(i + 1) * 1000, i + 1);
        qts_portfolio_apply_fill(pf2, &f);
        if (i == 1)
            assert_int_equal(qts_position_avg_px(qts_portfolio_strategy_position(pf2, 1, 1)),
                             10100);
    }
    assert_int_equal(qts_position_avg_px(qts_portfolio_strategy_position(pf2, 1, 1)), 10400);
    assert_int_equal(qts_portfolio_strategy_position(pf2, 1, 1)->qty, -2000);
    qts_portfolio_free(pf2);
    assert_int_equal(qts_position_avg_px(qts_portfolio_strategy_position(pf, 2, 1)), 10450);
    assert_int_equal(qts_position_avg_px(s1), 0);
    /* after the flip the short was carried at 104: check at fill 4 */
    const struct qts_ledger_entry *l = g_rec.l;
    assert_int_equal(l[2].realized, CASH(5));
    assert_int_equal(l[3].realized, CASH(6));
    assert_int_equal(l[3].strat_pos_after, -2000);
    assert_int_equal(l[4].pos_after, -1000); /* account: S1 -2, S2 +1 */
    /* two closed round trips for S1: long then short; the flip fee is split */
    const struct qts_trade_rt *t = g_rec.t;
    assert_int_equal(g_rec.nt, 2);
    assert_int_equal(qts_portfolio_n_trades(pf), 2);
    assert_int_equal(t[0].dir, 1);
    assert_int_equal(t[0].realized, CASH(11));
    assert_int_equal(t[0].fees, CASH(0.30));
    assert_int_equal(t[0].pnl, CASH(10.70));
    assert_int_equal(t[0].max_qty, 3000);
    assert_int_equal(t[0].open_ts_ns, 1000);
    assert_int_equal(t[0].close_ts_ns, 4000);
    assert_int_equal(t[1].dir, -1);
    assert_int_equal(t[1].realized, CASH(6));
    assert_int_equal(t[1].pnl, CASH(5.80));
    /* S2 holds 1 @104.50, marked at 101 (the last fill): -3.50 */
    const struct qts_position *s2 = qts_portfolio_strategy_position(pf, 2, 1);
    assert_int_equal(qts_portfolio_position_unrealized(pf, s2), CASH(-3.5));
    struct qts_strategy_stats *ss;
    assert_int_equal(qts_portfolio_strategy_stats(pf, &ss), 2);
    assert_int_equal(ss[0].strategy_id, 1);
    assert_int_equal(ss[0].net_pnl, CASH(16.5));
    assert_int_equal(ss[0].n_trades, 2);
    assert_int_equal(ss[0].n_fills, 5);
    int64_t turnover1 = 0; /* turnover: S1's notionals, as in the ledger */
    for (size_t i = 0; i < g_rec.nl; i++)
        if (g_rec.l[i].strategy_id == 1)
            turnover1 += g_rec.l[i].notional;
    assert_int_equal(ss[0].turnover, turnover1);
    assert_int_equal(ss[1].net_pnl, CASH(-3.5));
    free(ss);
    qts_portfolio_free(pf);
}

static void test_rejects_bad_fills(void **state)
{
    (void)state;
    struct qts_portfolio *pf = new_recorded(0);
    struct step s = {1, 1, QTS_SIDE_BUY, 100, 0, 0};
    struct qts_fill f = mkfill(&s, 1, 1);
    assert_int_equal(qts_portfolio_apply_fill(pf, &f), QTS_EINVAL);
    f.qty = 1;
    f.side = 9;
    assert_int_equal(qts_portfolio_apply_fill(pf, &f), QTS_EINVAL);
    f.side = QTS_SIDE_BUY;
    assert_int_equal(qts_portfolio_apply_fill(pf, &f), 0);
    f.h.px_exp = 4; /* disagrees with the instrument's first fill */
    assert_int_equal(qts_portfolio_apply_fill(pf, &f), QTS_EINVAL);
    assert_int_equal(g_rec.nl, 1);
    assert_int_equal(qts_portfolio_n_fills(pf), 1);
    qts_portfolio_free(pf);
}

static void test_cash_notional_rounding(void **state)
{
    (void)state;
    /* 123.45 x 0.00000001 = 0.0000012345 -> 1 micro-unit */
    assert_int_equal(qts_cash_notional(12345, 2, 1, 8), 1);
    /* 0.5 micro rounds away from zero */
    assert_int_equal(qts_cash_notional(5, 7, 1, 0), 1);
    assert_int_equal(qts_cash_notional(-5, 7, 1, 0), -1);
    assert_int_equal(qts_cash_notional(60000010000, 6, 2000, 3), 120000020000);
    assert_int_equal(qts_cash_notional(7, 0, 3, 0), 21000000);
}

static void test_sample_every(void **state)
{
    (void)state;
    struct qts_portfolio *pf = new_recorded(CASH(100));
    int64_t ts[] = {5, 6, 14, 15, 16, 41, 44, 45};
    int want[] = {1, 0, 0, 1, 0, 1, 0, 1}; /* grid 5, 15, 25, ... */
    for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++)
        assert_int_equal(qts_portfolio_sample_every(pf, ts[i], 10), want[i]);
    qts_portfolio_flush_sample(pf);
    const struct qts_equity_point *ec = g_rec.e;
    assert_int_equal(g_rec.ne, 4);
    assert_int_equal(ec[2].ts_ns, 41);
    assert_int_equal(ec[3].equity, CASH(100));
    qts_portfolio_free(pf);
}

/* A sample at the newest sample's timestamp replaces it: the listener sees
 * one row per timestamp, with the prices of the final one. */
static void test_sample_same_ts_replaces(void **state)
{
    (void)state;
    struct qts_portfolio *pf = new_recorded(CASH(100));
    qts_portfolio_mark(pf, 1, 100, 2);
    qts_portfolio_sample(pf, 10);
    qts_portfolio_mark(pf, 1, 105, 2);
    qts_portfolio_sample(pf, 10); /* replaces */
    assert_int_equal(g_rec.ne, 0);
    qts_portfolio_sample(pf, 20);
    assert_int_equal(g_rec.ne, 1);
    assert_int_equal(g_rec.npx, 1);
    assert_int_equal(g_rec.px[0].px, 105);
    assert_int_equal(g_rec.px[0].ts_ns, 10);
    qts_portfolio_flush_sample(pf);
    qts_portfolio_flush_sample(pf); /* once only */
    assert_int_equal(g_rec.ne, 2);
    assert_int_equal(qts_portfolio_n_samples(pf), 2);
    struct qts_equity_point last;
    assert_true(qts_portfolio_last_sample(pf, &last));
    assert_int_equal(last.ts_ns, 20);
    /* no listener: rows are counted, nothing is kept */
    qts_portfolio_set_listener(pf, NULL);
    qts_portfolio_sample(pf, 30);
    qts_portfolio_sample(pf, 40);
    assert_int_equal(g_rec.ne, 2);
    assert_int_equal(qts_portfolio_n_samples(pf), 4);
    qts_portfolio_free(pf);
}

QTS_TEST_MAIN(test_invariants_every_fill, test_realized_shorts_and_flips, test_rejects_bad_fills,
              test_cash_notional_rounding, test_sample_every, test_sample_same_ts_replaces)
