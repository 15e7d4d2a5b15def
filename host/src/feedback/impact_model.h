/* impact_model.h — execution-cost model learned online from the host's own
 * fills (docs/feedback.md).
 *
 * Slippage of an aggressive order against the arrival mid, in basis points:
 *
 *     slip_bps(q) = spread_bps / 2 + k * (q / V)^beta
 *
 * q = order quantity, V = traded volume of the instrument over the recent
 * window (same units), spread_bps = (ask - bid) / mid * 1e4. k and beta are
 * fitted per symbol by ordinary least squares on
 * ln(max(slip - spread/2, floor)) = ln k + beta * ln(q / V). Until a symbol
 * has `min_samples` samples the spec's ex-ante law applies:
 * k = 10 * spread_bps, beta = 0.5 (spec-data-cache-feedback §7.5).
 *
 * Fill probability of a passive (resting) order, by distance from the touch
 * in ticks (buckets 0, 1, 2, 3-4, 5-9, >= 10) and horizon (1 s, 10 s, 60 s):
 * a counted frequency shrunk towards a prior (see docs/feedback.md).
 *
 * Parameters persist in a small text file (qts_impact_save/qts_impact_load),
 * which the paper broker can read too (`impact_model: learned`).
 *
 * Not thread-safe: one owner thread (the engine's core thread).
 */
#ifndef QTS_IMPACT_MODEL_H
#define QTS_IMPACT_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "qts/qts_err.h"
#include "qts/qts_store.h"
#include "qts/qts_types.h"

#define QTS_FP_BUCKETS 6
#define QTS_FP_HORIZONS 3

struct qts_impact_params {
    uint32_t min_samples;   /* 5: below this the defaults apply */
    double default_mult;    /* 10: default k = default_mult * spread_bps */
    double default_beta;    /* 0.5 */
    double floor_bps;       /* 1e-4: impact samples below this count as this */
    double forget;          /* 1.0 = keep every sample; < 1 = exponential forgetting */
    double fp_prior_weight; /* 2: pseudo-observations of the fill-probability prior */
};

void qts_impact_params_default(struct qts_impact_params *p);

/* One impact sample: an order that only took liquidity. */
struct qts_impact_sample {
    double slip_bps;   /* against the arrival mid, positive = adverse */
    double spread_bps; /* at arrival */
    double qty;        /* filled quantity (instrument units) */
    double volume;     /* recent traded volume V (same units); > 0 */
    double weight;     /* how much the sample counts, (0, 1]; 0 = 1 (docs/feedback.md) */
};

/* Fits are kept per key: the symbol alone ("BTCUSDT": single-child direct
 * orders, the law the paper broker applies to one taking order) and per
 * symbol, side and algorithm ("BTCUSDT/buy/twap": every aggressive parent
 * of that kind). */
#define QTS_IMPACT_KEY_MAX (QTS_SYMBOL_MAX + 16)
void qts_impact_key(char *buf, size_t n, const char *symbol, int side, int algo);

/* Which fit a prediction used. */
enum qts_impact_src {
    QTS_IMPACT_SRC_DEFAULT = 0, /* the spec's ex-ante law */
    QTS_IMPACT_SRC_SYMBOL = 1,  /* the symbol's fit */
    QTS_IMPACT_SRC_KEY = 2,     /* the symbol/side/algorithm fit */
};

/* Fitted state of one symbol (read-only view). */
struct qts_impact_fit {
    char symbol[QTS_IMPACT_KEY_MAX]; /* the key: a symbol, or symbol/side/algo */
    double n;                        /* (weighted) sample count */
    double sx, sy, sxx, sxy, syy;    /* sums of x = ln(q/V), y = ln(impact) */
    double k, beta;                  /* current parameters (valid when fitted) */
    bool fitted;                     /* n >= min_samples */
    double resid_sd;                 /* residual standard deviation of y */
    double confidence;               /* n/(n+min_samples) / (1+resid_sd), in [0, 1); 0 unfitted */
    /* fill probability: orders observed per bucket/horizon, and filled */
    double fp_n[QTS_FP_BUCKETS][QTS_FP_HORIZONS];
    double fp_k[QTS_FP_BUCKETS][QTS_FP_HORIZONS];
};

struct qts_impact_model;

struct qts_impact_model *
qts_impact_new(const struct qts_impact_params *p); /* p copied; NULL = defaults */
void qts_impact_free(struct qts_impact_model *m);

/* Add one sample for `symbol` (copied) and refit. Samples with qty <= 0 or
 * volume <= 0 are ignored (returns QTS_EINVAL). */
int qts_impact_add(struct qts_impact_model *m, const char *symbol,
                   const struct qts_impact_sample *s);

/* Impact part k * (q/V)^beta in bps (defaults below min_samples); 0 when
 * q <= 0 or V <= 0. `*is_default` (may be NULL) says whether defaults were used. */
double qts_impact_predict_impact(const struct qts_impact_model *m, const char *symbol,
                                 double spread_bps, double qty, double volume, bool *is_default);
/* The impact of an order of `side` and `algo` (enum qts_side, qts_algo):
 * the key's fit when fitted, else the symbol's, else the defaults; *src
 * (may be NULL) says which, *conf (may be NULL) that fit's confidence. */
double qts_impact_predict_for(const struct qts_impact_model *m, const char *symbol, int side,
                              int algo, double spread_bps, double qty, double volume,
                              enum qts_impact_src *src, double *conf);
/* Expected slippage against the arrival mid: spread/2 + impact. */
double qts_impact_predict_slippage(const struct qts_impact_model *m, const char *symbol,
                                   double spread_bps, double qty, double volume, bool *is_default);

/* Fill-probability bookkeeping for one passive order at `dist_ticks` from
 * the touch (>= 0): `first_fill_s` = seconds from send to first fill (< 0 =
 * never filled), `life_s` = seconds the order was observed working. */
void qts_impact_add_passive(struct qts_impact_model *m, const char *symbol, double dist_ticks,
                            double first_fill_s, double life_s);
/* Probability that a passive order at `dist_ticks` fills within
 * `horizon_s` (interpolated between the 1/10/60 s horizons, log-time). */
double qts_impact_fill_prob(const struct qts_impact_model *m, const char *symbol, double dist_ticks,
                            double horizon_s);

/* The shrunk probabilities per horizon for one distance (monotone in the
 * horizon), and the interpolation qts_impact_fill_prob applies to them. */
void qts_impact_fill_prob_row(const struct qts_impact_model *m, const char *symbol,
                              double dist_ticks, double out[QTS_FP_HORIZONS]);
double qts_fp_interp(const double p[QTS_FP_HORIZONS], double horizon_s);

/* The fit for a symbol; NULL if none (borrowed, valid until the next add). */
const struct qts_impact_fit *qts_impact_get(const struct qts_impact_model *m, const char *symbol);
size_t qts_impact_count(const struct qts_impact_model *m);
const struct qts_impact_fit *qts_impact_at(const struct qts_impact_model *m, size_t i);

/* Persistence: a text file, one "symbol ..." line per symbol (format in
 * docs/feedback.md). save writes <path>.tmp then renames; `note` (may be
 * NULL) becomes a "# note" line after the header. load replaces the
 * model's symbols; QTS_ENOENT if the file does not exist, QTS_EPARSE on a
 * malformed line. */
int qts_impact_save(const struct qts_impact_model *m, const char *path, const char *note,
                    struct qts_err *err);
int qts_impact_load(struct qts_impact_model *m, const char *path, struct qts_err *err);

/* Persistence in the store (table impact_models, docs/feedback.md): one
 * record per key. to_record fills every field but the header's rec_id and
 * ts_ns and the run id. put_record adds or replaces the record's key with
 * its sums and fill counts (the parameters follow from them with this
 * model's min_samples); QTS_EPARSE on malformed fill counts. */
void qts_impact_to_record(const struct qts_impact_fit *f, struct qts_store_impact_model *r);
int qts_impact_put_record(struct qts_impact_model *m, const struct qts_store_impact_model *r);
/* Copy every key of `from` into `m` (replacing keys of the same name),
 * refitted with m's parameters. */
void qts_impact_merge(struct qts_impact_model *m, const struct qts_impact_model *from);

/* Helpers exposed for tests and the docs' formulas. */
int qts_fp_bucket(double dist_ticks);
extern const double qts_fp_horizon_s[QTS_FP_HORIZONS];

#endif /* QTS_IMPACT_MODEL_H */
