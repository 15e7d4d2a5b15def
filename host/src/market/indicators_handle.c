/* indicators_handle.c — the generic indicator handle (struct qts_ind) over
 * the typed indicators of indicators.c: one kind number, one push for a
 * value and one for a bar, outputs in a view the Lua FFI reads in place;
 * and the qts_ffi_ind_* entry points LuaJIT binds to (see indicators.h). */
#include "indicators.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>

#include "qts/qts_err.h"
#include "util.h"

struct qts_ind {
    struct qts_ind_view v; /* first: Lua reads it through the same pointer */
    union {
        struct qts_sma sma;
        struct qts_ema ema;
        struct qts_wma wma;
        struct qts_rsi rsi;
        struct qts_macd macd;
        struct qts_atr atr;
        struct qts_boll boll;
        struct qts_vwap vwap;
        struct qts_obv obv;
        struct qts_adx adx;
        struct qts_cci cci;
        struct qts_stoch stoch;
        struct qts_willr willr;
        struct qts_roc roc;
        struct qts_kama kama;
        struct qts_mfi mfi;
    } u;
};

int qts_ind_kind_is_scalar(int kind)
{
    switch (kind) {
    case QTS_IND_SMA:
    case QTS_IND_EMA:
    case QTS_IND_WMA:
    case QTS_IND_RSI:
    case QTS_IND_RSI_SIMPLE:
    case QTS_IND_MACD:
    case QTS_IND_BOLL:
    case QTS_IND_ROC:
    case QTS_IND_KAMA: return 1;
    default: return 0;
    }
}

int qts_ind_new(int kind, int n1, int n2, int n3, double k, struct qts_ind **out)
{
    *out = NULL;
    if (kind <= 0 || kind >= QTS_IND_KIND_MAX_)
        return QTS_EINVAL;
    struct qts_ind *ind = qts_xcalloc(1, sizeof *ind);
    int rc = 0, n_out = 1;
    switch ((enum qts_ind_kind)kind) {
    case QTS_IND_SMA: rc = qts_sma_init(&ind->u.sma, n1); break;
    case QTS_IND_EMA: rc = qts_ema_init(&ind->u.ema, n1); break;
    case QTS_IND_WMA: rc = qts_wma_init(&ind->u.wma, n1); break;
    case QTS_IND_RSI: rc = qts_rsi_init(&ind->u.rsi, n1, true); break;
    case QTS_IND_RSI_SIMPLE: rc = qts_rsi_init(&ind->u.rsi, n1, false); break;
    case QTS_IND_MACD:
        rc = qts_macd_init(&ind->u.macd, n1, n2, n3);
        n_out = 3;
        break;
    case QTS_IND_ATR: rc = qts_atr_init(&ind->u.atr, n1, true); break;
    case QTS_IND_ATR_SIMPLE: rc = qts_atr_init(&ind->u.atr, n1, false); break;
    case QTS_IND_BOLL:
        rc = qts_boll_init(&ind->u.boll, n1, k);
        n_out = 5;
        break;
    case QTS_IND_VWAP: rc = qts_vwap_init(&ind->u.vwap, n1); break;
    case QTS_IND_OBV: qts_obv_init(&ind->u.obv); break;
    case QTS_IND_ADX:
        rc = qts_adx_init(&ind->u.adx, n1);
        n_out = 3;
        break;
    case QTS_IND_CCI: rc = qts_cci_init(&ind->u.cci, n1); break;
    case QTS_IND_STOCH:
        rc = qts_stoch_init(&ind->u.stoch, n1, n2, n3);
        n_out = 2;
        break;
    case QTS_IND_WILLR: rc = qts_willr_init(&ind->u.willr, n1); break;
    case QTS_IND_ROC: rc = qts_roc_init(&ind->u.roc, n1); break;
    case QTS_IND_KAMA: rc = qts_kama_init(&ind->u.kama, n1, n2, n3); break;
    case QTS_IND_MFI: rc = qts_mfi_init(&ind->u.mfi, n1); break;
    case QTS_IND_KIND_MAX_: rc = QTS_EINVAL; break;
    }
    ind->v.struct_size = sizeof(struct qts_ind_view);
    ind->v.kind = kind;
    ind->v.is_ready = 0;
    ind->v.n_out = n_out;
    for (int i = 0; i < QTS_IND_MAX_OUT; i++)
        ind->v.out[i] = NAN;
    if (rc != 0) {
        qts_ind_free(ind); /* cleanups are safe after a failed init */
        return rc;
    }
    *out = ind;
    return 0;
}

void qts_ind_free(struct qts_ind *ind)
{
    if (!ind)
        return;
    switch (ind->v.kind) {
    case QTS_IND_SMA: qts_sma_cleanup(&ind->u.sma); break;
    case QTS_IND_WMA: qts_wma_cleanup(&ind->u.wma); break;
    case QTS_IND_RSI:
    case QTS_IND_RSI_SIMPLE: qts_rsi_cleanup(&ind->u.rsi); break;
    case QTS_IND_ATR:
    case QTS_IND_ATR_SIMPLE: qts_atr_cleanup(&ind->u.atr); break;
    case QTS_IND_BOLL: qts_boll_cleanup(&ind->u.boll); break;
    case QTS_IND_VWAP: qts_vwap_cleanup(&ind->u.vwap); break;
    case QTS_IND_CCI: qts_cci_cleanup(&ind->u.cci); break;
    case QTS_IND_STOCH: qts_stoch_cleanup(&ind->u.stoch); break;
    case QTS_IND_WILLR: qts_willr_cleanup(&ind->u.willr); break;
    case QTS_IND_ROC: qts_roc_cleanup(&ind->u.roc); break;
    case QTS_IND_KAMA: qts_kama_cleanup(&ind->u.kama); break;
    case QTS_IND_MFI: qts_mfi_cleanup(&ind->u.mfi); break;
    default: break;
    }
    free(ind);
}

static int scalar_push(struct qts_ind *ind, double x)
{
    double *o = ind->v.out;
    switch (ind->v.kind) {
    case QTS_IND_SMA: o[0] = qts_sma_push(&ind->u.sma, x); break;
    case QTS_IND_EMA: o[0] = qts_ema_push(&ind->u.ema, x); break;
    case QTS_IND_WMA: o[0] = qts_wma_push(&ind->u.wma, x); break;
    case QTS_IND_RSI:
    case QTS_IND_RSI_SIMPLE: o[0] = qts_rsi_push(&ind->u.rsi, x); break;
    case QTS_IND_MACD: {
        struct qts_macd *m = &ind->u.macd;
        o[0] = qts_macd_push(m, x);
        o[1] = m->signal;
        o[2] = m->hist;
        break;
    }
    case QTS_IND_BOLL: {
        struct qts_boll *b = &ind->u.boll;
        o[0] = qts_boll_push(b, x);
        o[1] = b->upper;
        o[2] = b->lower;
        o[3] = b->bandwidth;
        o[4] = b->percent_b;
        break;
    }
    case QTS_IND_ROC: o[0] = qts_roc_push(&ind->u.roc, x); break;
    case QTS_IND_KAMA: o[0] = qts_kama_push(&ind->u.kama, x); break;
    default: return QTS_EINVAL;
    }
    ind->v.is_ready = !isnan(o[0]);
    return ind->v.is_ready;
}

int qts_ind_push(struct qts_ind *ind, double x)
{
    if (!ind)
        return QTS_EINVAL;
    return scalar_push(ind, x);
}

int qts_ind_push_bar(struct qts_ind *ind, double open, double high, double low, double close,
                     double volume)
{
    if (!ind)
        return QTS_EINVAL;
    double *o = ind->v.out;
    switch (ind->v.kind) {
    case QTS_IND_ATR:
    case QTS_IND_ATR_SIMPLE: o[0] = qts_atr_push(&ind->u.atr, high, low, close); break;
    case QTS_IND_VWAP:
        o[0] = qts_vwap_push(&ind->u.vwap, (open + high + low + close) / 4.0, volume);
        break;
    case QTS_IND_OBV: o[0] = qts_obv_push(&ind->u.obv, close, volume); break;
    case QTS_IND_ADX: {
        struct qts_adx *a = &ind->u.adx;
        o[0] = qts_adx_push(a, high, low, close);
        o[1] = a->plus_di;
        o[2] = a->minus_di;
        break;
    }
    case QTS_IND_CCI: o[0] = qts_cci_push(&ind->u.cci, high, low, close); break;
    case QTS_IND_STOCH: {
        struct qts_stoch *s = &ind->u.stoch;
        o[0] = qts_stoch_push(s, high, low, close);
        o[1] = s->d;
        break;
    }
    case QTS_IND_WILLR: o[0] = qts_willr_push(&ind->u.willr, high, low, close); break;
    case QTS_IND_MFI: o[0] = qts_mfi_push(&ind->u.mfi, high, low, close, volume); break;
    default: return scalar_push(ind, close);
    }
    ind->v.is_ready = !isnan(o[0]);
    return ind->v.is_ready;
}

const struct qts_ind_view *qts_ind_view(const struct qts_ind *ind) { return &ind->v; }

/* ------------------------------------------------------------------- FFI */

int qts_ffi_ind_new(int kind, int n1, int n2, int n3, double k, struct qts_ind **out)
{
    if (!out)
        return QTS_EINVAL;
    return qts_ind_new(kind, n1, n2, n3, k, out);
}

void qts_ffi_ind_free(struct qts_ind *ind) { qts_ind_free(ind); }

int qts_ffi_ind_push(struct qts_ind *ind, double x) { return qts_ind_push(ind, x); }

int qts_ffi_ind_push_bar(struct qts_ind *ind, double open, double high, double low, double close,
                         double volume)
{
    return qts_ind_push_bar(ind, open, high, low, close, volume);
}

int qts_ffi_ind_layout(int which)
{
    switch (which) {
    case 0: return (int)sizeof(struct qts_ind_view);
    case 1: return (int)offsetof(struct qts_ind_view, is_ready);
    case 2: return (int)offsetof(struct qts_ind_view, out);
    default: return QTS_EINVAL;
    }
}
