/* risk_sub.h — the risk side as bus subscribers (bus_sub.h).
 *
 * "risk": prices for the risk loop (a trade's price, else a fresh mid) and
 * the execution pipeline's safety codes for the safety state machine.
 * "budget": the shared risk budget (risk_budget.h) gives back exposure no
 * longer needed after fills and finished orders; its PreCheck hook takes
 * what a new order needs.
 *
 * The engine owns both structs and sets their borrowed pointers as the
 * objects come and go (the risk host is created after the pipeline and
 * freed when a replay's market ends); a NULL pointer makes the subscriber
 * a no-op. Single-threaded: the core loop.
 */
#ifndef QTS_RISK_SUB_H
#define QTS_RISK_SUB_H

#include <stdint.h>

#include "bus_sub.h"
#include "exec_pipeline.h"

struct qts_risk_control;
struct qts_risk_budget;
struct qts_portfolio;
struct qts_exec;

struct qts_risk_pub {
    struct qts_risk_control *host; /* borrowed; NULL = no risk host (yet, or any more) */
};

struct qts_bus_sub qts_risk_sub(struct qts_risk_pub *pub);

struct qts_budget_pub {
    struct qts_risk_budget *budget; /* borrowed; NULL = no shared_budget.key */
    const struct qts_portfolio *pf; /* borrowed: positions' gross exposure */
    struct qts_exec *exec;          /* borrowed: working orders' open notional */
    /* the host's latest prices (the exec pipeline's market provider) */
    int (*market)(void *ctx, uint32_t instrument, struct qts_mkt_ref *out);
    void *market_ctx;
    int64_t held; /* exposure this host holds in the budget */
};

struct qts_bus_sub qts_budget_sub(struct qts_budget_pub *pub);
/* PreCheck hook (ctx = the qts_budget_pub): the order's notional must fit
 * in the shared budget; GR119 when it does not. */
int qts_budget_precheck(void *ctx, struct qts_precheck_order *o, struct qts_precheck_reject *rej);

#endif /* QTS_RISK_SUB_H */
