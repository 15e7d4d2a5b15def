/* indicators.h — technical indicators, incremental: each push costs O(1)
 * (CCI's mean deviation is the one O(n) exception; min/max windows are O(1)
 * amortized).
 *
 * Every indicator is a value type with caller-provided storage:
 *   qts_x_init(&x, params...)  -> 0 or QTS_EINVAL (bad parameter)
 *   qts_x_push(&x, input...)   -> the main output, NaN while warming up
 *   qts_x_is_ready(&x)         -> true once the main output is defined
 *   qts_x_cleanup(&x)          -> frees the window buffers (safe on a zeroed
 *                                 struct and after a failed init)
 * Secondary outputs (MACD signal, Bollinger bands, ADX DI lines, stochastic
 * %D) are fields that stay NaN until they are defined.
 *
 * Conventions (checked against the Lean and StockCharts published values,
 * docs/indicators.md): EMA(n) alpha 2/(n+1) seeded with the SMA of the first
 * n inputs; Wilder smoothing = alpha 1/n with the same seed; true range of
 * the first bar = high - low; Bollinger uses the population standard
 * deviation; rolling VWAP takes (price, volume) pairs.
 *
 * Inputs are doubles: indicators are strategy maths, prices arrive already
 * converted from fixed-point (qts_fixed_to_double).
 */
#ifndef QTS_INDICATORS_H
#define QTS_INDICATORS_H

#include <stdbool.h>
#include <stdint.h>

#define QTS_IND_MAX_PERIOD 100000

/* ---------------------------------------------------------- window helpers */

/* Fixed-capacity ring of doubles; `v` owned. */
struct qts__ring {
    double *v;
    int32_t cap, head, count; /* head = oldest element */
};

/* Sliding-window maximum (or minimum) over the last `win` pushes: a
 * monotonic deque, O(1) amortized per push. front/back are running
 * counters, the arrays are indexed by counter & mask (power-of-two
 * capacity >= win). Arrays owned. */
struct qts__extreme {
    double *val;
    int64_t *pos;
    int64_t front, back; /* deque = [front, back) */
    int64_t seq;         /* number of pushes so far */
    int32_t win;
    uint32_t mask;
    bool is_min;
};

/* ------------------------------------------------------------- indicators */

struct qts_sma {
    struct qts__ring r;
    double sum;
};
int qts_sma_init(struct qts_sma *s, int n);
double qts_sma_push(struct qts_sma *s, double x);
bool qts_sma_is_ready(const struct qts_sma *s);
void qts_sma_cleanup(struct qts_sma *s);

/* Exponential average; also Wilder's smoothing (qts_ema_init_alpha with
 * alpha 1/n). Seeded with the SMA of the first n inputs. */
struct qts_ema {
    int32_t n, count;
    double alpha, seed_sum, value;
};
int qts_ema_init(struct qts_ema *e, int n);
int qts_ema_init_alpha(struct qts_ema *e, int n, double alpha);
double qts_ema_push(struct qts_ema *e, double x);
bool qts_ema_is_ready(const struct qts_ema *e);

/* Linearly weighted: weights 1..n, newest heaviest. */
struct qts_wma {
    struct qts__ring r;
    double sum, wsum, denom;
};
int qts_wma_init(struct qts_wma *w, int n);
double qts_wma_push(struct qts_wma *w, double x);
bool qts_wma_is_ready(const struct qts_wma *w);
void qts_wma_cleanup(struct qts_wma *w);

/* RSI: Wilder (smoothed averages, first value on input n+1) or simple
 * (SMA of gains and losses over n changes). */
struct qts_rsi {
    bool is_wilder, has_prev;
    double prev, value;
    struct qts_ema wg, wl;
    struct qts_sma sg, sl;
};
int qts_rsi_init(struct qts_rsi *r, int n, bool is_wilder);
double qts_rsi_push(struct qts_rsi *r, double x);
bool qts_rsi_is_ready(const struct qts_rsi *r);
void qts_rsi_cleanup(struct qts_rsi *r);

/* MACD line = EMA(fast) - EMA(slow), defined from input `slow`; signal =
 * EMA(signal) of the MACD line; hist = macd - signal. */
struct qts_macd {
    struct qts_ema fast, slow, sig;
    double macd, signal, hist;
};
int qts_macd_init(struct qts_macd *m, int fast, int slow, int signal);
double qts_macd_push(struct qts_macd *m, double x);
bool qts_macd_is_ready(const struct qts_macd *m);

/* Average true range, Wilder-smoothed or simple (SMA of the true range). */
struct qts_atr {
    bool is_wilder, has_prev;
    double prev_close;
    struct qts_ema ema;
    struct qts_sma sma;
};
int qts_atr_init(struct qts_atr *a, int n, bool is_wilder);
double qts_atr_push(struct qts_atr *a, double high, double low, double close);
bool qts_atr_is_ready(const struct qts_atr *a);
void qts_atr_cleanup(struct qts_atr *a);

/* Bollinger bands: middle = SMA(n), bands = middle +- k * population
 * standard deviation (sliding Welford update: no sum-of-squares
 * cancellation). bandwidth = (upper - lower) / middle * 100,
 * percent_b = (x - lower) / (upper - lower) (0.5 on a flat window). */
struct qts_boll {
    struct qts__ring r;
    double k, mean, m2;
    double middle, upper, lower, stddev, bandwidth, percent_b;
};
int qts_boll_init(struct qts_boll *b, int n, double k);
double qts_boll_push(struct qts_boll *b, double x);
bool qts_boll_is_ready(const struct qts_boll *b);
void qts_boll_cleanup(struct qts_boll *b);

/* Rolling VWAP over the last n (price, volume) pairs. For bars, pass a
 * representative price (Lean uses (open+high+low+close)/4). A window with
 * zero volume yields the last price. */
struct qts_vwap {
    struct qts__ring pv, v;
    double spv, sv, last_px;
};
int qts_vwap_init(struct qts_vwap *w, int n);
double qts_vwap_push(struct qts_vwap *w, double price, double volume);
bool qts_vwap_is_ready(const struct qts_vwap *w);
void qts_vwap_cleanup(struct qts_vwap *w);

/* On-balance volume: starts at the first volume; +volume on a higher
 * close, -volume on a lower close. */
struct qts_obv {
    bool has_prev;
    double prev_close, value;
};
void qts_obv_init(struct qts_obv *o);
double qts_obv_push(struct qts_obv *o, double close, double volume);
bool qts_obv_is_ready(const struct qts_obv *o);

/* ADX (Wilder): TR, +DM, -DM summed over the first n changes then smoothed
 * s = s - s/n + x; ADX = mean of the first n DX, then (adx*(n-1)+dx)/n.
 * +DI/-DI from bar n+1, ADX from bar 2n. */
struct qts_adx {
    int32_t n, count, dx_count;
    bool has_prev;
    double ph, pl, pc;
    double tr_s, pdm_s, mdm_s, dx_sum;
    double adx, plus_di, minus_di;
};
int qts_adx_init(struct qts_adx *a, int n);
double qts_adx_push(struct qts_adx *a, double high, double low, double close);
bool qts_adx_is_ready(const struct qts_adx *a);

/* CCI = (tp - SMA(tp)) / (0.015 * mean deviation), tp = (h+l+c)/3. The
 * mean deviation is about the current mean, so it is O(n) per push by
 * definition (no running form exists); keep n small (14-20). 0 when the
 * window is flat. */
struct qts_cci {
    struct qts__ring r;
    double sum, value;
};
int qts_cci_init(struct qts_cci *c, int n);
double qts_cci_push(struct qts_cci *c, double high, double low, double close);
bool qts_cci_is_ready(const struct qts_cci *c);
void qts_cci_cleanup(struct qts_cci *c);

/* Stochastic oscillator: fast %K = (c - LL(n)) / (HH(n) - LL(n)) * 100
 * (50 on a flat range); %K = SMA(k_smooth) of fast %K (k_smooth 1 = fast);
 * %D = SMA(d_smooth) of %K. The main output is %K. */
struct qts_stoch {
    struct qts__extreme hh, ll;
    struct qts_sma ks, ds;
    int32_t k_smooth;
    double k, d;
};
int qts_stoch_init(struct qts_stoch *s, int n, int k_smooth, int d_smooth);
double qts_stoch_push(struct qts_stoch *s, double high, double low, double close);
bool qts_stoch_is_ready(const struct qts_stoch *s);
void qts_stoch_cleanup(struct qts_stoch *s);

/* Williams %R = (HH(n) - c) / (HH(n) - LL(n)) * -100 (-50 on a flat range). */
struct qts_willr {
    struct qts__extreme hh, ll;
    double value;
};
int qts_willr_init(struct qts_willr *w, int n);
double qts_willr_push(struct qts_willr *w, double high, double low, double close);
bool qts_willr_is_ready(const struct qts_willr *w);
void qts_willr_cleanup(struct qts_willr *w);

/* Rate of change in percent against the input n pushes ago (0 if that
 * input was 0). */
struct qts_roc {
    struct qts__ring r;
    double value;
};
int qts_roc_init(struct qts_roc *r, int n);
double qts_roc_push(struct qts_roc *r, double x);
bool qts_roc_is_ready(const struct qts_roc *r);
void qts_roc_cleanup(struct qts_roc *r);

/* Kaufman adaptive moving average (n, fast, slow), StockCharts form:
 * seeded with input n, then kama += sc * (x - kama) with
 * sc = (er * (2/(fast+1) - 2/(slow+1)) + 2/(slow+1))^2. */
struct qts_kama {
    struct qts__ring closes, changes;
    double vol_sum, fast_sc, slow_sc, value;
    bool is_ready;
};
int qts_kama_init(struct qts_kama *k, int n, int fast, int slow);
double qts_kama_push(struct qts_kama *k, double x);
bool qts_kama_is_ready(const struct qts_kama *k);
void qts_kama_cleanup(struct qts_kama *k);

/* Money flow index over n typical-price changes (first value on bar n+1). */
struct qts_mfi {
    struct qts__ring pos, neg;
    bool has_prev;
    double prev_tp, spos, sneg, value;
};
int qts_mfi_init(struct qts_mfi *m, int n);
double qts_mfi_push(struct qts_mfi *m, double high, double low, double close, double volume);
bool qts_mfi_is_ready(const struct qts_mfi *m);
void qts_mfi_cleanup(struct qts_mfi *m);

/* ------------------------------------------------- generic handle, for Lua */

enum qts_ind_kind {
    QTS_IND_SMA = 1,        /* n */
    QTS_IND_EMA = 2,        /* n */
    QTS_IND_WMA = 3,        /* n */
    QTS_IND_RSI = 4,        /* n (Wilder) */
    QTS_IND_RSI_SIMPLE = 5, /* n */
    QTS_IND_MACD = 6,       /* fast, slow, signal; out: macd, signal, hist */
    QTS_IND_ATR = 7,        /* n (Wilder) */
    QTS_IND_ATR_SIMPLE = 8, /* n */
    QTS_IND_BOLL = 9,       /* n, k; out: middle, upper, lower, bandwidth, %b */
    QTS_IND_VWAP = 10,      /* n; input (price, volume) */
    QTS_IND_OBV = 11,       /* input (close, volume) */
    QTS_IND_ADX = 12,       /* n; out: adx, +di, -di */
    QTS_IND_CCI = 13,       /* n */
    QTS_IND_STOCH = 14,     /* n, k_smooth, d_smooth; out: %k, %d */
    QTS_IND_WILLR = 15,     /* n */
    QTS_IND_ROC = 16,       /* n */
    QTS_IND_KAMA = 17,      /* n, fast, slow */
    QTS_IND_MFI = 18,       /* n */
    QTS_IND_KIND_MAX_ = 19,
};

#define QTS_IND_MAX_OUT 5

/* The head of every handle, read directly by the Lua wrapper (its cdef
 * mirrors this layout; tests/lua/test_indicators_lua.c checks it).
 * out[i] is NaN until defined; out[0] is the main output. */
struct qts_ind_view {
    uint32_t struct_size; /* sizeof(struct qts_ind_view) */
    int32_t kind;         /* enum qts_ind_kind */
    int32_t is_ready;     /* 1 once out[0] is defined */
    int32_t n_out;        /* outputs this kind fills */
    double out[QTS_IND_MAX_OUT];
};

struct qts_ind; /* opaque beyond its view */

/* New handle. Parameters a kind does not use are ignored. Returns 0 and an
 * owned *out (free with qts_ind_free), or QTS_EINVAL. */
int qts_ind_new(int kind, int n1, int n2, int n3, double k, struct qts_ind **out);
void qts_ind_free(struct qts_ind *ind);
/* One input. Single-value kinds read `close`; VWAP reads (o+h+l+c)/4 and
 * volume; OBV close and volume. Returns 1 if ready, 0 while warming up. */
int qts_ind_push_bar(struct qts_ind *ind, double open, double high, double low, double close,
                     double volume);
/* Single-value kinds only (SMA, EMA, WMA, RSI, MACD, Bollinger, ROC, KAMA);
 * QTS_EINVAL for the others. Returns 1 if ready, 0 while warming up. */
int qts_ind_push(struct qts_ind *ind, double x);
/* Borrowed view of the outputs, valid until qts_ind_free. */
const struct qts_ind_view *qts_ind_view(const struct qts_ind *ind);
/* 1 if `kind` takes a single value per push, 0 if it needs a bar. */
int qts_ind_kind_is_scalar(int kind);

/* ------------------------------------------------------ FFI entry points */
/* Exported from the executable for LuaJIT's ffi.C; they never raise and
 * never call back into Lua. Same contracts as the qts_ind_* functions
 * above. */
#ifndef QTS_FFI_EXPORT
#define QTS_FFI_EXPORT __attribute__((visibility("default")))
#endif

QTS_FFI_EXPORT int qts_ffi_ind_new(int kind, int n1, int n2, int n3, double k,
                                   struct qts_ind **out);
QTS_FFI_EXPORT void qts_ffi_ind_free(struct qts_ind *ind);
QTS_FFI_EXPORT int qts_ffi_ind_push(struct qts_ind *ind, double x);
QTS_FFI_EXPORT int qts_ffi_ind_push_bar(struct qts_ind *ind, double open, double high, double low,
                                        double close, double volume);
/* Layout of struct qts_ind_view for the Lua-side check: which = 0 sizeof,
 * 1 offsetof is_ready, 2 offsetof out. */
QTS_FFI_EXPORT int qts_ffi_ind_layout(int which);

#endif /* QTS_INDICATORS_H */
