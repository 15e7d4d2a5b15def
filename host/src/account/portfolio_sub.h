/* portfolio_sub.h — the portfolio as a bus subscriber (bus_sub.h): trades
 * and bars mark it, fills change it. The portfolio is the one owner of the
 * host's positions and cash; the risk modules (risk_portfolio.h), the
 * store, the cache and the report read it, none keeps a copy. Two views
 * are kept apart on purpose: the Lua runtime's per-strategy mirror (its
 * workers run on other threads and may not read the portfolio; they get
 * the same fills as events) and a simulated venue's own account (the
 * venue's view, which the reconciliation compares with ours).
 */
#ifndef QTS_PORTFOLIO_SUB_H
#define QTS_PORTFOLIO_SUB_H

#include "bus_sub.h"

struct qts_portfolio;

/* `pf` borrowed: must outlive the bus the subscriber is added to. */
struct qts_bus_sub qts_portfolio_sub(struct qts_portfolio *pf);

#endif /* QTS_PORTFOLIO_SUB_H */
