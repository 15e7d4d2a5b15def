/* precheck_risk.h — the risk pre-trade checks, installed into the execution
 * pipeline's PreCheck with qts_exec_add_precheck, and the cancel-rate
 * limiter the engine calls before a strategy's cancel.
 *
 * Checks, in this order; the first failure rejects with its GR code, whose
 * number and message reach the strategy's on_order (docs/risk.md):
 *   GR100 trading disabled, GR101 kill switch on, GR102 safety state,
 *   GR103 instrument not tradable, GR104 session closed, GR117 entries
 *   frozen (stale price), GR105/GR106 price band vs last / mid, GR107 max
 *   order qty, GR108 max order notional, GR109 max position per symbol,
 *   GR110 max position per strategy, GR001 gross exposure, GR111 net
 *   exposure, GR010 symbol exposure, GR061 pool capital, GR112 daily loss,
 *   GR062 daily trades, GR113/GR114 order rate per second / minute.
 * Orders that reduce the position are not held to the position, exposure,
 * capital and daily-loss limits. Risk-loop exits (tag QTS_RISK_EXIT_TAG)
 * that reduce the account position pass every check: the kill switch and
 * LOCKDOWN must not block a flatten.
 *
 * Every check is O(1): the book provider answers from running totals, the
 * limits of a strategy are found in a bounded table, rate limits are token
 * buckets on the pipeline's clock (o->now_ns).
 * Single-threaded: the core loop (where PreCheck runs).
 */
#ifndef QTS_PRECHECK_RISK_H
#define QTS_PRECHECK_RISK_H

#include <stdbool.h>
#include <stdint.h>

#include "exec_pipeline.h"
#include "risk_limits.h"
#include "safety.h"

/* Intent tag of the risk loop's exit orders. */
#define QTS_RISK_EXIT_TAG "risk.exit"

/* Where the checks read positions and money (the portfolio). Every
 * callback must be O(1). Quantities in instrument quantity units (signed:
 * short < 0), money in QTS_CASH_EXP units. Any callback may be NULL: the
 * checks that need it are skipped. */
struct qts_risk_book {
    int64_t (*position)(void *ctx, uint32_t instrument); /* account */
    int64_t (*strategy_position)(void *ctx, uint32_t strategy_id, uint32_t instrument);
    int64_t (*equity)(void *ctx);
    int64_t (*gross_exposure)(void *ctx);           /* sum |pos| x px */
    int64_t (*net_exposure)(void *ctx);             /* signed */
    int64_t (*daily_pnl)(void *ctx);                /* since the session started */
    int64_t (*pool_available)(void *ctx, int pool); /* enum qts_pool */
    bool (*session_open)(void *ctx, uint32_t instrument);
    uint32_t (*daily_trades)(void *ctx, uint32_t strategy_id);
    void *ctx; /* borrowed */
};

struct qts_precheck_risk;

/* `limits` and `book` are copied; `safety` is borrowed (may be NULL: the
 * safety and kill-switch checks pass). */
struct qts_precheck_risk *qts_precheck_risk_new(const struct qts_risk_limit_set *limits,
                                                struct qts_safety *safety,
                                                const struct qts_risk_book *book);
void qts_precheck_risk_free(struct qts_precheck_risk *r);
/* Install the hook into `x` (borrowed; r must outlive it). */
int qts_precheck_risk_install(struct qts_precheck_risk *r, struct qts_exec *x);
/* New limits (copied) after a reload; rate-limit buckets keep their state. */
void qts_precheck_risk_set_limits(struct qts_precheck_risk *r,
                                  const struct qts_risk_limit_set *limits);
const struct qts_risk_limit_set *qts_precheck_risk_limits(const struct qts_precheck_risk *r);

/* The hook itself (qts_precheck_fn; ctx = r), exposed for benchmarks. */
int qts_precheck_risk_check(void *ctx, struct qts_precheck_order *o,
                            struct qts_precheck_reject *rej);

/* May `strategy_id` cancel now? Consumes a token and returns 0, or
 * QTS_ERATELIMIT with GR115/GR116 in rej (may be NULL). */
int qts_precheck_risk_cancel(struct qts_precheck_risk *r, uint32_t strategy_id, int64_t now_ns,
                             struct qts_precheck_reject *rej);

/* Block (or allow again) new entries on an instrument: the risk loop
 * freezes a symbol whose price is stale. Exits still pass. */
void qts_precheck_risk_freeze(struct qts_precheck_risk *r, uint32_t instrument, bool frozen);
bool qts_precheck_risk_frozen(const struct qts_precheck_risk *r, uint32_t instrument);

/* Counters for `qts status`: {"checked":n,"passed":n,"rejected":{"GR101":n,..}} */
int qts_precheck_risk_usage_json(const struct qts_precheck_risk *r, char *buf, size_t cap);
uint64_t qts_precheck_risk_rejections(const struct qts_precheck_risk *r, int code);

/* Fixed-point helpers (exposed for tests): cash (QTS_CASH_EXP) value of
 * px x qty for an instrument's exponents, saturating at INT64_MAX. */
int64_t qts_risk_notional(int64_t px, int64_t qty, unsigned px_exp, unsigned qty_exp);

#endif /* QTS_PRECHECK_RISK_H */
