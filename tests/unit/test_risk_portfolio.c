/* test_risk_portfolio.c — the real portfolio as the risk modules' book and
 * position source: positions per strategy and account, gross and net
 * exposure, equity, daily PnL from the day's start, shorts. */
#include "test_support.h"

#include <string.h>

#include "portfolio.h"
#include "risk_portfolio.h"

#define CASH(v) ((int64_t)(v)*1000000)

static struct qts_fill fill(uint32_t strategy, uint32_t inst, uint8_t side, int64_t px, int64_t qty,
                            uint64_t id)
{
    struct qts_fill f;
    memset(&f, 0, sizeof f);
    f.h.struct_size = sizeof f;
    f.h.type = QTS_EV_FILL;
    f.h.instrument = inst;
    f.h.ts_exch_ns = (int64_t)id * 1000;
    f.strategy_id = strategy;
    f.side = side;
    f.px = px;
    f.qty = qty;
    f.fill_id = id;
    f.order_id = id;
    return f;
}

static void test_book_and_positions(void **state)
{
    (void)state;
    struct qts_portfolio *pf = qts_portfolio_new(CASH(10000000));
    struct qts_risk_portfolio rp;
    qts_risk_portfolio_init(&rp, pf);
    struct qts_risk_book b;
    qts_risk_portfolio_book(&rp, &b);
    struct qts_fill f = fill(1, 1, QTS_SIDE_BUY, 60000, 10, 1);
    assert_int_equal(qts_portfolio_apply_fill(pf, &f), 0);
    f = fill(2, 1, QTS_SIDE_BUY, 60000, 5, 2);
    assert_int_equal(qts_portfolio_apply_fill(pf, &f), 0);
    f = fill(2, 2, QTS_SIDE_SELL, 10000, 20, 3);
    assert_int_equal(qts_portfolio_apply_fill(pf, &f), 0);
    assert_int_equal(b.position(b.ctx, 1), 15);
    assert_int_equal(b.strategy_position(b.ctx, 2, 1), 5);
    assert_int_equal(b.position(b.ctx, 2), -20);
    assert_int_equal(b.position(b.ctx, 9), 0);
    /* 15 x 60000 long, 20 x 10000 short */
    assert_int_equal(b.gross_exposure(b.ctx), CASH(900000 + 200000));
    assert_int_equal(b.net_exposure(b.ctx), CASH(900000 - 200000));
    assert_int_equal(b.daily_pnl(b.ctx), 0);
    qts_portfolio_mark(pf, 1, 59000, 0); /* -15 000 */
    assert_int_equal(b.daily_pnl(b.ctx), CASH(-15000));
    assert_int_equal(b.equity(b.ctx), CASH(10000000 - 15000));
    qts_risk_portfolio_new_day(&rp);
    assert_int_equal(b.daily_pnl(b.ctx), 0);
    struct qts_risk_pos_view v[8];
    size_t n = qts_risk_portfolio_positions(&rp, v, 8);
    assert_int_equal(n, 3);
    bool short_seen = false;
    for (size_t i = 0; i < n; i++)
        if (v[i].strategy_id == 2 && v[i].instrument == 2) {
            assert_int_equal(v[i].qty, -20);
            assert_int_equal(v[i].avg_px, 10000);
            short_seen = true;
        }
    assert_true(short_seen);
    assert_int_equal(qts_risk_portfolio_positions(&rp, v, 1), 1);
    qts_portfolio_free(pf);
}

QTS_TEST_MAIN(test_book_and_positions)
