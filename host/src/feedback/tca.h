/* tca.h — transaction-cost analysis: one feedback row per parent order,
 * rolling summaries, and the samples that teach the impact model
 * (impact_model.h). Formulas: docs/feedback.md; data contract:
 * spec-data-cache-feedback §7.
 *
 * The engine feeds it from a few hooks:
 *   qts_tca_on_market  every market event (mid, recent volume, volatility)
 *   qts_tca_on_submit  a parent order was accepted by the pipeline (decision mid)
 *   qts_tca_on_fill    each fill (markouts are scheduled on the timer service)
 *   qts_tca_on_order   order events; a final one closes the row
 *   qts_tca_finish     end of a run: rows still waiting for markouts are closed
 *                      (then qts_tca_csv_finish completes tca.csv)
 * When an order is final its row joins the rolling summaries, the impact
 * model learns from it and env.on_final is called (the engine sends the
 * strategies on_feedback). The row is complete when every markout (1 s,
 * 10 s, 60 s after each fill) and the realized-impact sample (5 s after the
 * end) was taken; then env.on_row is called (the seam for a store plugin).
 *
 * Missing values are NaN (never 0: zeros would pass for perfect execution).
 * Everything runs on the engine's core thread, except the published
 * per-instrument board (qts_feedback_board_read), which strategies read from
 * their worker threads under a mutex.
 */
#ifndef QTS_TCA_H
#define QTS_TCA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "qts/qts_err.h"
#include "qts/qts_types.h"
#include "timer_svc.h"

struct qts_impact_model;
struct qts_parent;

#define QTS_TCA_MARKOUTS 3

struct qts_tca_params {
    int score_version;                          /* 1 (default) or 2 */
    double w1_slip, w1_fill, w1_lat;            /* v1 weights 0.5 / 0.3 / 0.2 */
    double w2_slip, w2_lat, w2_fill, w2_impact; /* v2 weights 0.40 / 0.25 / 0.20 / 0.15 */
    int64_t markout_ns[QTS_TCA_MARKOUTS];       /* 1 s, 10 s, 60 s */
    int64_t impact_horizon_ns;                  /* 5 s: realized impact after the end */
    int64_t window_ns;                          /* 60 s: recent volume and volatility window */
    int64_t lookback_ns;                        /* 24 h: rolling summaries */
    uint32_t min_samples;                       /* 5: adjustments need this many rows */
    double max_impact_bps;                      /* 20: volume-aware sizing threshold */
    bool adjust_orders;                         /* apply price/qty adjustments (hook) */
    int64_t board_interval_ns;                  /* 100 ms: market fields of the board refresh */
    size_t max_rows; /* 10000: a summary looks at most this many recent rows */
};

void qts_tca_params_default(struct qts_tca_params *p);

/* One finished order (spec §7.2 plus our fields). Prices in price units
 * (doubles), quantities in instrument units. */
struct qts_tca_row {
    uint64_t order_id;
    uint32_t strategy_id;
    uint32_t instrument;
    char symbol[QTS_SYMBOL_MAX];
    char tag[QTS_TAG_MAX];
    uint8_t side, type, algo;
    uint8_t final_kind; /* enum qts_order_event_kind */
    bool aggressive;    /* market, or a limit crossing the touch at decision */
    bool all_taker;     /* every fill took liquidity */
    int score_version;
    double tick; /* price units; 0 = unknown */
    double qty_asked, qty_filled;
    double decision_px, arrival_px, avg_fill_px, limit_px;
    int64_t ts_decision_ns, ts_sent_ns, ts_first_fill_ns, ts_last_fill_ns, ts_end_ns;
    double slip_decision_bps, slip_arrival_bps;
    double lat_first_ms, lat_complete_ms, avg_fill_latency_ms;
    double fill_ratio;
    uint32_t n_children, n_reprices, n_fills;
    double markout_bps[QTS_TCA_MARKOUTS]; /* positive = price moved our way */
    double spread_bps, half_spread_bps, volatility, depth, recent_volume, participation;
    double dist_ticks;          /* passive limits: distance from the touch at decision */
    double pred_slip_bps;       /* model's expected slippage vs arrival at decision */
    double pred_impact_bps;     /* model's impact part (ex-ante market impact) */
    bool pred_default;          /* prediction used the defaults */
    double realized_impact_bps; /* mid move decision -> end + 5 s, signed */
    double quality;
};

/* Rolling summary (spec §7.3/§7.7). */
struct qts_tca_filter {
    uint32_t instrument;  /* UINT32_MAX = any */
    uint32_t strategy_id; /* 0 = any */
    int algo;             /* -1 = any */
};

struct qts_tca_env {
    const struct qts_timer_svc *timers; /* borrowed; markouts */
    struct qts_impact_model *model;     /* borrowed; learns from rows; may be NULL */
    /* parent order view (children, reprices); may return NULL */
    const struct qts_parent *(*parent)(void *ctx, uint64_t order_id);
    /* top-5 depth (sum of quantities, instrument units) of one side; NaN if unknown */
    double (*depth5)(void *ctx, uint32_t instrument, int side);
    /* the order is final: the row (markouts still NaN) is in the summaries
     * and the model; the engine tells the strategies (on_feedback).
     * Borrowed for the call; may be NULL. */
    void (*on_final)(void *ctx, const struct qts_tca_row *row);
    /* the row is complete (markouts in): the seam for a store plugin.
     * Borrowed for the call; may be NULL. */
    void (*on_row)(void *ctx, const struct qts_tca_row *row);
    /* the model's key `key` (borrowed for the call) learned from a row that
     * became final at ts_ns: the seam that writes the model to the store.
     * May be NULL. */
    void (*on_fit)(void *ctx, const char *key, int64_t ts_ns);
    void *ctx;
    void *fit_ctx; /* on_fit's ctx; NULL = ctx */
};

struct qts_tca;

struct qts_tca *qts_tca_new(const struct qts_tca_params *p, const struct qts_tca_env *env);
void qts_tca_free(struct qts_tca *t);
const struct qts_tca_params *qts_tca_params(const struct qts_tca *t);

/* Instrument definitions (copied); needed for exponents and tick size. */
void qts_tca_add_instrument(struct qts_tca *t, const struct qts_instrument *inst);
/* The definition of instrument `id` (borrowed; NULL if unknown). */
const struct qts_instrument *qts_tca_instrument(const struct qts_tca *t, uint32_t id);

/* Hooks (see the header comment). Events borrowed. */
void qts_tca_on_market(struct qts_tca *t, const struct qts_ev_hdr *h, int64_t bid, int64_t ask,
                       int64_t ts_ns);
void qts_tca_on_submit(struct qts_tca *t, uint64_t order_id, const struct qts_order_intent *in,
                       int64_t now_ns);
void qts_tca_on_fill(struct qts_tca *t, const struct qts_fill *f, int64_t now_ns);
void qts_tca_on_order(struct qts_tca *t, const struct qts_order_event *ev, int64_t now_ns);
/* Close every final order now (markouts not yet taken stay NaN), stop the
 * timers. Orders still working are left out (counted). */
void qts_tca_finish(struct qts_tca *t);

/* Rows are not kept: a row lives while its order works and until its
 * markouts are in and every older final row was written (about a minute
 * of rows), then it is written to tca.csv (qts_tca_csv_start) and freed.
 * The summaries read the newest max_rows final rows from a ring. */
uint64_t qts_tca_final_rows(const struct qts_tca *t); /* rows ever made final */
size_t qts_tca_held_rows(const struct qts_tca *t);    /* rows in memory now */
size_t qts_tca_open_orders(const struct qts_tca *t);

/* Averages over rows that finished within lookback_ns before `now_ns`;
 * defaults (spec §7.7) with is_default = 1 when there is none. The model
 * fields of `out` (expected_*, fill_prob, model_*) are not filled here. */
void qts_tca_summary(const struct qts_tca *t, const struct qts_tca_filter *f, int64_t now_ns,
                     struct qts_feedback_summary *out);

/* Expected slippage / impact in bps for `qty` (instrument units) of an
 * instrument now, from the model and the current spread and volume. */
double qts_tca_expected_slippage(const struct qts_tca *t, uint32_t instrument, double qty,
                                 double *impact_bps, bool *is_default);

/* The model's prediction for an order of `side` and `algo` (enum
 * qts_side, qts_algo) of `qty` (instrument units) of an instrument now:
 * the symbol/side/algo fit, else the symbol's, else the defaults. */
struct qts_tca_pred {
    double slip_bps, impact_bps; /* expected slippage vs arrival, and its impact part */
    double spread_bps, volume;   /* now: spread (NaN unknown), recent volume V */
    double mid, tick;            /* price units; NaN / 0 when unknown */
    int src;                     /* enum qts_impact_src */
    double confidence;           /* of the fit used; 0 for the defaults */
};
void qts_tca_predict(const struct qts_tca *t, uint32_t instrument, int side, int algo, double qty,
                     struct qts_tca_pred *out);

/* Metric formulas (exposed for tests; docs/feedback.md). */
double qts_tca_slippage_bps(int side, double ref_px, double px); /* 0 if ref <= 0 */
double qts_tca_quality_v1(double slip_bps, double fill_ratio, double lat_ms, double w_slip,
                          double w_fill, double w_lat);
double qts_tca_quality_v2(double slip_bps, double fill_ratio, double lat_ms, double impact_bps,
                          const struct qts_tca_params *p);

/* tca.csv: a header and one line per row, fixed formats, NaN as empty;
 * rows in the order their orders became final. After csv_start (path
 * borrowed for the call) each row is written once complete and every
 * older row is written, to <path>.tmp; csv_finish (after qts_tca_finish)
 * moves it into place and returns the first write error (QTS_EIO: the
 * .tmp is removed). Without csv_start rows are dropped once complete.
 * qts_tca_free removes an unfinished <path>.tmp. */
int qts_tca_csv_start(struct qts_tca *t, const char *path, struct qts_err *err);
int qts_tca_csv_finish(struct qts_tca *t, struct qts_err *err);
/* mkdir -p of the directories above `path`. 0, QTS_EINVAL or QTS_EIO. */
int qts_tca_mkdir_parents(const char *path);

/* Pre-trade hook (qts_precheck_fn, ctx = the tca): slippage-adjusted limit
 * price and volume-aware size (spec §7.8) once an instrument has
 * min_samples rows. Never rejects. */
struct qts_precheck_order;
struct qts_precheck_reject;
int qts_tca_precheck(void *ctx, struct qts_precheck_order *o, struct qts_precheck_reject *rej);

/* The board strategies read (ctx:feedback). One process-wide board: the
 * engine publishes its tca (NULL to withdraw). Thread-safe. */
void qts_feedback_board_publish(struct qts_tca *t);
/* Fills `out` for `instrument`: summary over every strategy and algorithm,
 * expected slippage and impact for `qty` (instrument units, <= 0 = none),
 * fill probability at `dist_ticks` within `horizon_s`. Returns 0 or
 * QTS_ENOENT (no board, or nothing known about the instrument). */
int qts_feedback_board_read(uint32_t instrument, double qty, double dist_ticks, double horizon_s,
                            struct qts_feedback_summary *out);

#endif /* QTS_TCA_H */
