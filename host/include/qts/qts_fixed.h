/* qts_fixed.h — fixed-point cash arithmetic shared by the host's portfolio
 * and plugins that keep their own books (the paper broker's venue), so that
 * both round the same way to the micro-unit.
 *
 * Quantities and prices carry their own exponents (qts_types.h); cash is at
 * QTS_CASH_EXP. Rounding is half away from zero everywhere. All inline: a
 * plugin needs no host symbol for them. */
#ifndef QTS_FIXED_H
#define QTS_FIXED_H

#include <stdint.h>

#include "qts/qts_types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* num / den rounded half away from zero; den > 0. */
static inline int64_t qts_fixed_div_round(__int128 num, __int128 den)
{
    __int128 q = num / den, r = num % den;
    if (r < 0)
        r = -r;
    if (2 * r >= den)
        q += num < 0 ? -1 : 1;
    return (int64_t)q;
}

/* px * qty in cash units (QTS_CASH_EXP). */
static inline int64_t qts_fixed_notional(int64_t px, unsigned px_exp, int64_t qty, unsigned qty_exp)
{
    int e = (int)px_exp + (int)qty_exp - QTS_CASH_EXP;
    __int128 v = (__int128)px * qty;
    if (e <= 0)
        return (int64_t)(v * qts_pow10_i64[-e]);
    if (e > QTS_MAX_EXP)
        return qts_fixed_div_round(v / qts_pow10_i64[e - QTS_MAX_EXP], qts_pow10_i64[QTS_MAX_EXP]);
    return qts_fixed_div_round(v, qts_pow10_i64[e]);
}

/* Average price (price units, px_exp) of a position of `qty` (qty_exp) that
 * cost `cost` cash units; 0 when flat. */
static inline int64_t qts_fixed_avg_px(int64_t cost, int64_t qty, unsigned px_exp, unsigned qty_exp)
{
    if (qty == 0)
        return 0;
    int e = (int)px_exp + (int)qty_exp - QTS_CASH_EXP;
    __int128 num = cost, den = qty;
    if (e >= 0)
        num *= qts_pow10_i64[e];
    else
        den *= qts_pow10_i64[-e];
    if (den < 0) {
        num = -num;
        den = -den;
    }
    return qts_fixed_div_round(num, den);
}

#ifdef __cplusplus
}
#endif

#endif
