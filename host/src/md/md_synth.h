/* md_synth.h — seeded synthetic market: trades and an L2 book with simple
 * but believable microstructure. A hidden fair value follows a random walk;
 * limit orders arrive (mostly near the touch, sometimes improving the
 * spread), are cancelled, and market orders take liquidity from the touch
 * leaning towards the fair value, so the mid follows it with a realistic
 * one-to-few-tick spread. Events are spaced by exponential inter-arrival
 * times. Same seed and options -> the same sequence, on any machine.
 * The first event is a snapshot; then sequenced diffs (U == u == previous
 * u + 1) and trades, and with `quotes` a top-of-book quote (update_id = the
 * diff's u) after each diff that changes the top. docs/market-data.md
 * describes the model.
 */
#ifndef QTS_MD_SYNTH_H
#define QTS_MD_SYNTH_H

#include "md_common.h"

#define QTS_MD_SYNTH_MAX_DEPTH 256

struct qts_md_synth_opts {
    uint64_t seed;       /* 0 is allowed */
    int64_t start_ns;    /* time of the first event */
    double rate_per_s;   /* mean events per second of data time (default 1000) */
    int64_t start_px;    /* fixed-point, instrument's px_exp (default 100.00) */
    int64_t tick;        /* price tick, fixed-point (default 1) */
    int64_t lot;         /* quantity unit, fixed-point (default 1) */
    uint32_t depth;      /* levels per side kept (default 20, max 256) */
    double trade_prob;   /* share of steps that are market orders (default 0.08) */
    double cancel_prob;  /* share of cancels (default 0.42); rest: arrivals */
    double vol_ticks;    /* fair-value step, ticks per event (default 0.05) */
    uint64_t max_events; /* 0 = endless */
    bool quotes;         /* also emit a qts_quote whenever the top changes */
    /* Calibrated mode (docs/market-data.md, "The demo market"); off at 0,
     * and then the events are those of earlier releases. */
    double vol_bps_min;   /* > 0: the fair value is a geometric random walk with
                          * this stdev of 1-minute log returns (basis points),
                          * whatever the event rate, and the whole book moves
                          * with it (a repricing diff) once it leaves the spread */
    int64_t trade_median; /* > 0: trade sizes are log-normal with this median
                           * (fixed-point quantity) ... */
    double trade_sigma;   /* ... and this shape (stdev of the log size) */
};

struct qts_md_synth {
    struct qts_md_synth_opts o;
    const struct qts_md_inst *inst; /* borrowed */
    uint64_t rng;
    int64_t bid_q[QTS_MD_SYNTH_MAX_DEPTH]; /* index i: price best_bid - i ticks */
    int64_t ask_q[QTS_MD_SYNTH_MAX_DEPTH]; /* index i: price best_ask + i ticks */
    int64_t bb, ba;                        /* best prices in ticks */
    double fair;                           /* fair value in ticks */
    uint64_t uid, trade_id, n_events;
    int64_t now_ns;
    bool started;
    bool diff_pending;              /* a trade's book diff is next */
    bool quote_pending;             /* a top-of-book quote is next */
    bool step_pending;              /* after a repricing diff: the step of the same instant */
    int64_t q_bb, q_bq, q_ba, q_aq; /* top last quoted */
    /* diff scratch: two levels for an ordinary change, up to the whole
     * side twice (old prices deleted, new ones set) for a repricing */
    struct qts_level lv_b[2 * QTS_MD_SYNTH_MAX_DEPTH], lv_a[2 * QTS_MD_SYNTH_MAX_DEPTH];
    uint32_t nb, na;
    struct qts_level *snap_b, *snap_a; /* owned, depth each */
};

/* `inst` borrowed (exponents and id), must outlive the generator. */
void qts_md_synth_init(struct qts_md_synth *s, const struct qts_md_synth_opts *o,
                       const struct qts_md_inst *inst);
void qts_md_synth_cleanup(struct qts_md_synth *s);
/* Next event: 1 (levels borrowed until the next call) or 0 after max_events. */
int qts_md_synth_next(struct qts_md_synth *s, union qts_md_event *ev);

#endif /* QTS_MD_SYNTH_H */
