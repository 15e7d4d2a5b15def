/* oms_ids.h — the order ids of the OMS. The OMS is the one place a parent
 * order id is made:
 * - the host's own orders (risk exits, flattening) get the next free id
 *   below 2^32 when qts_oms_parent_new creates them (oms.h);
 * - a strategy's order gets its id here, when the strategy places it, on
 *   the strategy's own thread and before the order reaches the core, so the
 *   strategy holds the id (and may cancel by it) at once:
 *   (strategy id << 32) | n, n = 1, 2, ... for that strategy. The same run
 *   gives the same ids, and they stay below 2^53 (a Lua number holds them).
 * qts_oms_parent_new keeps an id made here and refuses any other a caller
 * brings.
 */
#ifndef QTS_OMS_IDS_H
#define QTS_OMS_IDS_H

#include <stdbool.h>
#include <stdint.h>

/* One strategy's ids; zero-initialised before its first order. Used by
 * the strategy's thread only. */
struct qts_oms_strategy_ids {
    uint64_t issued; /* how many were handed out */
};

/* The id of the strategy's next order. */
uint64_t qts_oms_strategy_id_next(struct qts_oms_strategy_ids *ids, uint32_t strategy_id);
/* Was `order_id` handed out to this strategy by `ids`? */
bool qts_oms_strategy_id_issued(const struct qts_oms_strategy_ids *ids, uint32_t strategy_id,
                                uint64_t order_id);
/* Has `order_id` the form of a strategy's id (strategy id in the high 32
 * bits, n >= 1 in the low)? */
bool qts_oms_strategy_id_valid(uint64_t order_id, uint32_t strategy_id);

#endif /* QTS_OMS_IDS_H */
