/* pools.h — capital pools (scalp, swing, portfolio) and the operating
 * state (aggressive, balanced, defensive) (docs/decide.md).
 *
 * Each strategy draws on the pool its risk limits name (`risk.pool`, or
 * the strategy's `risk: {pool: ...}`). A pool's capital is its share of
 * the account's starting equity, by the operating state's allocation, plus
 * the PnL of its strategies (realised - fees + unrealised); its available
 * capital is that minus the market value of their positions (invested) and
 * the open notional of their working entry orders (reserved). A pool whose
 * capital goes negative (FS081) or falls more than `max_drawdown` below its
 * peak (FS082) is LOCKED: its strategies can no longer trade; the others
 * go on. Total equity <= 0 raises FS080 (LOCKDOWN).
 *
 * The operating state moves towards DEFENSIVE at once when the account's
 * drawdown or daily loss passes its level, and back one step after
 * `min_dwell` of the run's clock once the drawdown is below half the level
 * that moved it. Each state has its allocation and its entry threshold,
 * which an intent's `confidence` must reach.
 *
 * Figures are recomputed by qts_pools_update (every market event and
 * fill, from the decide subscriber); readers get the cached values in
 * O(1). Single-threaded: the core loop.
 */
#ifndef QTS_POOLS_H
#define QTS_POOLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config_tree.h"
#include "qts/qts_err.h"
#include "qts/qts_types.h"
#include "risk_limits.h"

struct qts_portfolio;
struct qts_pools;

enum qts_pool_state { QTS_POOL_ACTIVE = 0, QTS_POOL_PAUSED = 1, QTS_POOL_LOCKED = 2 };
enum qts_op_state { QTS_OP_AGGRESSIVE = 0, QTS_OP_BALANCED = 1, QTS_OP_DEFENSIVE = 2 };
#define QTS_OP_COUNT 3

const char *qts_pool_state_name(int state); /* "ACTIVE" */
const char *qts_op_state_name(int state);   /* "BALANCED" */

/* An intent's confidence (0..1), or -1 when the strategy gave none. */
double qts_intent_confidence(const struct qts_order_intent *in);

/* A move of capital between two pools (spec-execution-risk.md §6.4-6.5):
 * a promotion moves part of a pool's accumulated profit up (scalp to
 * swing, swing to portfolio), a demotion part of a pool's capital down
 * after a drawdown. Borrowed for the callback. */
struct qts_capital_move {
    int64_t ts_ns;
    int from, to;     /* enum qts_pool */
    bool promotion;   /* else a demotion */
    int64_t amount;   /* cash units */
    const char *why;  /* human text */
    const char *json; /* the inputs: a JSON object */
};

struct qts_pools_env {
    int (*scope)(void *ctx, uint32_t strategy_id);        /* enum qts_pool */
    void (*safety)(void *ctx, int code, const char *msg); /* FS080 */
    void (*state_changed)(void *ctx, int op_state);       /* may be NULL */
    /* May be NULL: add to out[pool] the open notional (cash units) of the
     * working entry orders of each pool's strategies. */
    void (*reserved)(void *ctx, int64_t out[QTS_POOL_COUNT]);
    /* May be NULL: a capital move happened (a decision record). */
    void (*capital_move)(void *ctx, const struct qts_capital_move *m);
    void *ctx; /* borrowed */
};

/* From the `decide:` section (may be NULL). *out stays NULL when it names
 * neither `pools` nor `operating_state`: nothing to do. pf borrowed. */
int qts_pools_new(const struct qts_cfg_node *decide, struct qts_portfolio *pf,
                  const struct qts_pools_env *env, struct qts_pools **out, struct qts_err *err);
void qts_pools_free(struct qts_pools *p);

/* Recompute the figures at the run's time `now_ns`; lock pools, move the
 * operating state. */
void qts_pools_update(struct qts_pools *p, int64_t now_ns);

bool qts_pools_enabled(const struct qts_pools *p); /* a `pools` section */
int qts_pools_state(const struct qts_pools *p, int pool);
int64_t qts_pools_available(const struct qts_pools *p, int pool); /* cash units */
int64_t qts_pools_capital(const struct qts_pools *p, int pool);   /* cash units */
int qts_pools_op_state(const struct qts_pools *p);
double qts_pools_threshold(const struct qts_pools *p);
/* Would this order make the strategy's position larger? */
bool qts_pools_is_entry(const struct qts_pools *p, uint32_t strategy_id, uint32_t instrument,
                        int side);

/* One JSON object: operating state, transitions, each pool's figures. */
int qts_pools_json(const struct qts_pools *p, char *buf, size_t cap);

#endif /* QTS_POOLS_H */
