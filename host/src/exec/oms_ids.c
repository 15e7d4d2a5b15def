/* oms_ids.c — strategy order ids (oms_ids.h). */
#include "oms_ids.h"

#define LOW_BITS UINT64_C(0xffffffff)

uint64_t qts_oms_strategy_id_next(struct qts_oms_strategy_ids *ids, uint32_t strategy_id)
{
    return ((uint64_t)strategy_id << 32) | ++ids->issued;
}

bool qts_oms_strategy_id_valid(uint64_t order_id, uint32_t strategy_id)
{
    return strategy_id != 0 && (order_id >> 32) == strategy_id && (order_id & LOW_BITS) != 0;
}

bool qts_oms_strategy_id_issued(const struct qts_oms_strategy_ids *ids, uint32_t strategy_id,
                                uint64_t order_id)
{
    return qts_oms_strategy_id_valid(order_id, strategy_id) && (order_id & LOW_BITS) <= ids->issued;
}
