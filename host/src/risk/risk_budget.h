/* risk_budget.h — a risk budget shared by several hosts on one account.
 *
 * The shared counter lives in the cache tier (cache_redis: a Lua script
 * makes check-and-add atomic; cache_memory: one process). PreCheck must not
 * wait for the network, so a host holds a *lease*: exposure it has already
 * reserved in the shared counter, taken in chunks ahead of need.
 * qts_risk_budget_consume() is synchronous and only moves numbers inside
 * the lease; when the lease runs low a top-up is requested in the
 * background; exposure given back beyond two chunks is released. Every
 * unit a host uses in coordinated mode is backed by an atomic reservation,
 * so the hosts together never use more than `limit`.
 *
 * When the shared counter is unreachable (cache down, breaker open, a
 * reservation whose outcome is unknown):
 * - QTS_BUDGET_REFUSE: new risk beyond the lease already held is refused.
 * - QTS_BUDGET_LOCAL_SHARE: the host may use up to local_share x limit in
 *   total (its lease counts toward it) without coordination. Choose the
 *   shares so that their sum over all hosts stays within the limit.
 * A reservation that timed out may have been applied: it is treated as not
 * granted, which can only leave budget unused, never over-reserve.
 * Everything runs on the core loop thread. Amounts are cash units.
 */
#ifndef QTS_RISK_BUDGET_H
#define QTS_RISK_BUDGET_H

#include <stdbool.h>
#include <stdint.h>

#include "qts/qts_err.h"
#include "qts/qts_plugin.h"

enum qts_budget_policy {
    QTS_BUDGET_REFUSE = 0,
    QTS_BUDGET_LOCAL_SHARE = 1,
};

struct qts_risk_budget_cfg {
    const char *key; /* shared counter name (copied), e.g. "acct1:exposure" */
    int64_t limit;   /* for all hosts together, > 0 */
    int64_t chunk;   /* lease granularity; 0 = limit / 10 */
    int64_t ttl_ms;  /* counter TTL; 0 = none */
    enum qts_budget_policy policy;
    double local_share; /* LOCAL_SHARE: fraction of limit, 0..1 */
};

struct qts_risk_budget_stats {
    int64_t leased;    /* reserved in the shared counter by this host */
    int64_t used;      /* consumed locally */
    bool is_reachable; /* the last shared operation got an answer */
    bool is_exhausted; /* the shared counter refused the last top-up */
    uint64_t granted, refused, topups, topup_failures, releases;
};

struct qts_risk_budget;

/* `ops`/`self`: the cache plugin (borrowed, must outlive the budget).
 * *out owned: qts_risk_budget_free. Requests the first chunk at once. */
int qts_risk_budget_new(const struct qts_cache_ops *ops, void *self,
                        const struct qts_risk_budget_cfg *cfg, struct qts_risk_budget **out,
                        struct qts_err *err);
/* Gives the unused lease back (best effort) and frees once no reservation
 * is in flight. NULL is a no-op. */
void qts_risk_budget_free(struct qts_risk_budget *b);

/* PreCheck: 0 = `amount` of new exposure allowed (now counted as used),
 * QTS_ERISK = over the budget (err->msg says why; err may be NULL). O(1),
 * never waits. */
int qts_risk_budget_consume(struct qts_risk_budget *b, int64_t amount, struct qts_err *err);
/* Exposure closed or an order cancelled: `amount` goes back to the lease. */
void qts_risk_budget_return(struct qts_risk_budget *b, int64_t amount);

/* The cache plugin was reloaded: use the new instance (borrowed). Answers
 * still due from the old one arrive (or are cancelled) as usual. */
void qts_risk_budget_set_target(struct qts_risk_budget *b, const struct qts_cache_ops *ops,
                                void *self);

void qts_risk_budget_stats(const struct qts_risk_budget *b, struct qts_risk_budget_stats *out);

#endif
