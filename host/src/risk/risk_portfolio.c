/* risk_portfolio.c — portfolio providers for the risk modules. */
#include "risk_portfolio.h"

#include "portfolio.h"

void qts_risk_portfolio_init(struct qts_risk_portfolio *rp, struct qts_portfolio *pf)
{
    rp->pf = pf;
    rp->pool_available = NULL;
    rp->pool_ctx = NULL;
    rp->day_start_equity = qts_portfolio_equity(pf);
}

void qts_risk_portfolio_new_day(struct qts_risk_portfolio *rp)
{
    rp->day_start_equity = qts_portfolio_equity(rp->pf);
}

static int64_t position(void *ctx, uint32_t instrument)
{
    const struct qts_risk_portfolio *rp = ctx;
    const struct qts_position *p = qts_portfolio_position(rp->pf, instrument);
    return p ? p->qty : 0;
}

static int64_t strategy_position(void *ctx, uint32_t strategy_id, uint32_t instrument)
{
    const struct qts_risk_portfolio *rp = ctx;
    const struct qts_position *p = qts_portfolio_strategy_position(rp->pf, strategy_id, instrument);
    return p ? p->qty : 0;
}

int64_t qts_risk_portfolio_equity(void *ctx)
{
    const struct qts_risk_portfolio *rp = ctx;
    return qts_portfolio_equity(rp->pf);
}

static int64_t gross(void *ctx)
{
    const struct qts_risk_portfolio *rp = ctx;
    return qts_portfolio_gross_exposure(rp->pf);
}

static int64_t net(void *ctx)
{
    const struct qts_risk_portfolio *rp = ctx;
    const struct qts_position *v = NULL;
    size_t n = qts_portfolio_positions(rp->pf, &v);
    int64_t sum = 0;
    for (size_t i = 0; i < n; i++) {
        int64_t px = qts_portfolio_last_px(rp->pf, v[i].instrument);
        sum += qts_cash_notional(px, v[i].px_exp, v[i].qty, v[i].qty_exp);
    }
    return sum;
}

static int64_t daily_pnl(void *ctx)
{
    const struct qts_risk_portfolio *rp = ctx;
    return qts_portfolio_equity(rp->pf) - rp->day_start_equity;
}

static int64_t pool_available(void *ctx, int pool)
{
    const struct qts_risk_portfolio *rp = ctx;
    return rp->pool_available(rp->pool_ctx, pool);
}

void qts_risk_portfolio_book(struct qts_risk_portfolio *rp, struct qts_risk_book *out)
{
    *out = (struct qts_risk_book){.position = position,
                                  .strategy_position = strategy_position,
                                  .equity = qts_risk_portfolio_equity,
                                  .gross_exposure = gross,
                                  .net_exposure = net,
                                  .daily_pnl = daily_pnl,
                                  .pool_available = rp->pool_available ? pool_available : NULL,
                                  .ctx = rp};
}

size_t qts_risk_portfolio_positions(void *ctx, struct qts_risk_pos_view *out, size_t cap)
{
    const struct qts_risk_portfolio *rp = ctx;
    const struct qts_position *v = NULL;
    size_t n = qts_portfolio_strategy_positions(rp->pf, &v), k = 0;
    for (size_t i = 0; i < n && k < cap; i++) {
        if (!v[i].qty)
            continue;
        out[k++] = (struct qts_risk_pos_view){.strategy_id = v[i].strategy_id,
                                              .instrument = v[i].instrument,
                                              .qty = v[i].qty,
                                              .avg_px = qts_position_avg_px(&v[i])};
    }
    return k;
}
