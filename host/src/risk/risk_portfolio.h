/* risk_portfolio.h — the portfolio (portfolio.h) as the risk modules'
 * providers: the pre-trade book (struct qts_risk_book) and the risk loop's
 * positions and equity. Holds the equity at the start of the trading day
 * for the daily-loss check.
 *
 * Cost: position lookups are O(1); equity, gross and net exposure walk the
 * instruments the portfolio holds (a few for a scalp host).
 * Single-threaded: the core loop, like the portfolio.
 */
#ifndef QTS_RISK_PORTFOLIO_H
#define QTS_RISK_PORTFOLIO_H

#include <stddef.h>
#include <stdint.h>

#include "precheck_risk.h"
#include "risk_loop.h"

struct qts_portfolio;

struct qts_risk_portfolio {
    struct qts_portfolio *pf; /* borrowed */
    int64_t day_start_equity; /* cash units */
    /* Optional: a pool's available capital (the Decide stage's pools);
     * NULL = no pools, GR061 never fires. */
    int64_t (*pool_available)(void *pool_ctx, int pool);
    void *pool_ctx; /* borrowed */
};

/* `pf` borrowed; the day starts now (its current equity). */
void qts_risk_portfolio_init(struct qts_risk_portfolio *rp, struct qts_portfolio *pf);
/* A new trading day: the daily PnL counts from the current equity. */
void qts_risk_portfolio_new_day(struct qts_risk_portfolio *rp);
/* Fill `out` with callbacks on `rp` (which must outlive their use). */
void qts_risk_portfolio_book(struct qts_risk_portfolio *rp, struct qts_risk_book *out);
/* For struct qts_risk_loop_env / qts_risk_control_env (ctx = rp). */
size_t qts_risk_portfolio_positions(void *rp, struct qts_risk_pos_view *out, size_t cap);
int64_t qts_risk_portfolio_equity(void *rp);

#endif /* QTS_RISK_PORTFOLIO_H */
