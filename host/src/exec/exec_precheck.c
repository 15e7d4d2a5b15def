/* exec_precheck.c — PreCheck: the pre-trade hooks and the basic checks
 * every order passes first (docs/execution.md "PreCheck"). */
#include "exec_internal.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "util.h"

static int vreject(struct qts_precheck_reject *rej, int32_t code, const char *code_str,
                   const char *fmt, va_list ap) QTS_PRINTF(4, 0);
static int vreject(struct qts_precheck_reject *rej, int32_t code, const char *code_str,
                   const char *fmt, va_list ap)
{
    rej->code = code;
    qts_strlcpy(rej->code_str, code_str, sizeof rej->code_str);
    vsnprintf(rej->msg, sizeof rej->msg, fmt, ap);
    return QTS_ERISK;
}

/* A rejection under a code of the table (enum qts_safety_code). */
static int reject(struct qts_precheck_reject *rej, int code, const char *fmt, ...) QTS_PRINTF(3, 4);
static int reject(struct qts_precheck_reject *rej, int code, const char *fmt, ...)
{
    const struct qts_safety_code_info *ci = qts_safety_code_info(code);
    va_list ap;
    va_start(ap, fmt);
    int rc = vreject(rej, ci->number, ci->str, fmt, ap);
    va_end(ap);
    return rc;
}

/* A malformed order (G_EXE, spec §2.6): `err` is the QTS_E* code. */
static int reject_exe(struct qts_precheck_reject *rej, int err, const char *fmt, ...)
    QTS_PRINTF(3, 4);
static int reject_exe(struct qts_precheck_reject *rej, int err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = vreject(rej, err, "G_EXE", fmt, ap);
    va_end(ap);
    return rc;
}

/* Cash for `qty` at `px`, in QTS_CASH_EXP units, rounded up. */
static qts_i128 cash_cost(int64_t px, int64_t qty, unsigned px_exp, unsigned qty_exp)
{
    qts_i128 v = (qts_i128)px * qty;
    int e = (int)px_exp + (int)qty_exp - QTS_CASH_EXP;
    if (e > 0) {
        qts_i128 d = qts_pow10_i64[e > QTS_MAX_EXP ? QTS_MAX_EXP : e];
        return (v + d - 1) / d;
    }
    if (e < 0)
        v *= qts_pow10_i64[-e > QTS_MAX_EXP ? QTS_MAX_EXP : -e];
    return v;
}

int qts__exec_basic_checks(void *ctx, struct qts_precheck_order *o, struct qts_precheck_reject *rej)
{
    struct qts_exec *x = ctx;
    struct qts_order_intent *in = o->intent;
    const struct qts_instrument *inst = o->inst;
    if (in->side != QTS_SIDE_BUY && in->side != QTS_SIDE_SELL)
        return reject_exe(rej, QTS_EINVAL, "invalid side %u", in->side);
    if (in->type != QTS_ORD_MARKET && in->type != QTS_ORD_LIMIT && in->type != QTS_ORD_STOP)
        return reject_exe(rej, QTS_EINVAL, "invalid order type %u", in->type);
    if (in->type == QTS_ORD_STOP && (in->px <= 0 || in->algo != QTS_ALGO_DIRECT))
        return reject_exe(rej, QTS_EINVAL, "stop order needs a stop price and the direct algo");
    if (in->algo > QTS_ALGO_ICEBERG)
        return reject_exe(rej, QTS_EINVAL, "invalid algo %u", in->algo);
    if (in->qty <= 0)
        return reject_exe(rej, QTS_EINVAL, "G_EXE_QTY_NONPOSITIVE qty=%lld", (long long)in->qty);
    if (!inst)
        return reject(rej, QTS_SC_FS091, "unknown instrument %u", in->instrument);
    if (!x->env.port.ops)
        return reject_exe(rej, QTS_ECLOSED, "BROKER_DISCONNECTED: no broker");
    /* lot: round the quantity down, never up */
    if (inst->lot_size > 1)
        in->qty -= in->qty % inst->lot_size;
    if (in->qty <= 0 || in->qty < inst->min_qty)
        return reject_exe(rej, QTS_EINVAL, "qty below lot/min qty (lot=%lld min=%lld)",
                          (long long)inst->lot_size, (long long)inst->min_qty);
    /* tick: round a limit to the passive side, never more aggressive */
    if (in->type == QTS_ORD_LIMIT) {
        if (in->px <= 0)
            return reject_exe(rej, QTS_EINVAL, "limit order without a price");
        in->px = in->side == QTS_SIDE_BUY ? qts_px_floor_tick(in->px, inst->tick_size)
                                          : qts_px_ceil_tick(in->px, inst->tick_size);
        if (in->px <= 0)
            return reject_exe(rej, QTS_EINVAL, "limit price below one tick");
    }
    const struct qts_mkt_ref *ref = o->ref;
    int64_t refpx = 0;
    if (ref) {
        refpx = ref->last;
        if (ref->bid > 0 && ref->ask > 0)
            refpx = ref->bid + (ref->ask - ref->bid) / 2;
        /* a reference without a time stamp (ts_ns 0) cannot be aged */
        if (o->params->max_ref_age_ms > 0 && ref->ts_ns > 0 &&
            o->now_ns - ref->ts_ns > o->params->max_ref_age_ms * MS)
            return reject(rej, QTS_SC_AN010, "reference price stale (%lld ms)",
                          (long long)((o->now_ns - ref->ts_ns) / MS));
    }
    /* price band against the reference */
    if (in->type == QTS_ORD_LIMIT && refpx > 0 && o->params->price_band_pct > 0) {
        double dev = fabs((double)(in->px - refpx)) / (double)refpx;
        if (dev > o->params->price_band_pct)
            return reject(rej, QTS_SC_GR065, "limit %.2f%% away from reference (band %.2f%%)",
                          dev * 100.0, o->params->price_band_pct * 100.0);
    }
    /* cash for buys */
    if (in->side == QTS_SIDE_BUY && x->env.prov.cash_available) {
        int64_t px = in->type == QTS_ORD_LIMIT ? in->px : 0;
        if (!px && ref)
            px = ref->ask > 0 ? ref->ask : ref->last;
        if (px > 0) {
            int64_t cash = x->env.prov.cash_available(x->env.prov.ctx, in->strategy_id);
            qts_i128 cost = cash_cost(px, in->qty, inst->px_exp, inst->qty_exp);
            if (cost > cash) {
                int64_t fit = 0;
                if (o->params->shrink_to_cash && cash > 0) {
                    /* largest lot multiple that fits */
                    int64_t lot = inst->lot_size > 1 ? inst->lot_size : 1;
                    int64_t lo = 0, hi = in->qty / lot;
                    while (lo < hi) {
                        int64_t mid = lo + (hi - lo + 1) / 2;
                        if (cash_cost(px, mid * lot, inst->px_exp, inst->qty_exp) <= cash)
                            lo = mid;
                        else
                            hi = mid - 1;
                    }
                    fit = lo * lot;
                }
                if (fit <= 0 || fit < inst->min_qty)
                    return reject(rej, QTS_SC_GR061, "insufficient cash");
                QTS_DEBUG("precheck shrink qty=%lld->%lld reason=cash", (long long)in->qty,
                          (long long)fit);
                in->qty = fit;
            }
        }
    }
    return 0;
}

int qts_exec_add_precheck(struct qts_exec *x, const struct qts_precheck_hook *h)
{
    if (!h || !h->fn)
        return QTS_EINVAL;
    if (x->n_hooks == QTS_EXEC_MAX_HOOKS)
        return QTS_EFULL;
    x->hooks[x->n_hooks++] = *h;
    return 0;
}

int qts__exec_run_hooks(struct qts_exec *x, struct qts_order_intent *in,
                        const struct qts_instrument *inst, const struct qts_mkt_ref *ref,
                        struct qts_precheck_reject *rej, const char **hook)
{
    struct qts_precheck_order o = {.intent = in,
                                   .inst = inst,
                                   .ref = ref,
                                   .params = &x->params,
                                   .now_ns = qts__exec_event_ns(x)};
    memset(rej, 0, sizeof *rej);
    int rc = 0;
    for (size_t i = 0; i < x->n_hooks && rc == 0; i++) {
        rc = x->hooks[i].fn(x->hooks[i].ctx, &o, rej);
        *hook = x->hooks[i].name ? x->hooks[i].name : "";
    }
    return rc;
}

int qts_exec_precheck(struct qts_exec *x, struct qts_order_intent *intent,
                      struct qts_precheck_reject *rej)
{
    struct qts_precheck_reject local;
    if (!rej)
        rej = &local;
    if (!intent)
        return QTS_EINVAL;
    const struct qts_instrument *inst =
        x->env.prov.instrument ? x->env.prov.instrument(x->env.prov.ctx, intent->instrument) : NULL;
    struct qts_mkt_ref ref;
    bool have_ref = qts__exec_market_ref(x, intent->instrument, &ref);
    const char *hook = "";
    return qts__exec_run_hooks(x, intent, inst, have_ref ? &ref : NULL, rej, &hook);
}
