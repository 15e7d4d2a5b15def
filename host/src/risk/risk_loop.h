/* risk_loop.h — the micro risk loop: every loop_period_ms (100 ms default)
 * it syncs a shadow of the open positions, updates prices, and applies the
 * exit rules of spec-execution-risk §5 in their order:
 *   account level, once per cycle: volatility KILL (VIX >= 40 or market
 *     realised vol >= 0.08) and account MAE (unrealised loss >= 5 % of
 *     equity) -> kill switch: cancel everything, flatten every position,
 *     FS104 (LOCKDOWN);
 *   per position, first hit wins, at most one exit per position per cycle
 *   and never while an exit of it is still working:
 *     1 volatility: instrument realised vol >= vol_kill -> flatten;
 *       CRITICAL (VIX >= 30 or realised vol >= 0.05) -> cut 50 % once;
 *     2 MAE: 2 % adverse -> flatten; 1.5 % -> cut half once (GR071 at 80 %);
 *     3 time in trade: scalp 1 h, swing 7 d (+30 min once while in profit)
 *       -> flatten (GR072 at 80 %);
 *     4 trailing stop: active from +1 %, 0.5 % below the high (above the
 *       low for a short), ratchet only -> flatten when crossed.
 * Stale prices: no tick for 500 ms -> entries on the symbol frozen and AN010;
 * 1 s with an open position -> FS107. A tick more than 5 % away from the
 * previous one -> AN001.
 *
 * Latches are keyed by position episode (a position that goes flat or flips
 * starts a new one): each partial tier fires once per episode, each warning
 * once. Exits are side-correct market orders (a short is covered by a buy)
 * tagged QTS_RISK_EXIT_TAG, submitted straight into the execution pipeline
 * (handed to the broker within the tick) under the position's strategy; a
 * failed exit raises GR074 and is retried, a second failure raises FS040.
 *
 * Runs on the core loop, driven by the timer service (libuv in production,
 * manual fake in tests). Market data only updates a price slot per
 * instrument (O(1)), so a flood of it cannot delay the tick more than the
 * loop's own batch bound (docs/risk.md, bench_risk).
 */
#ifndef QTS_RISK_LOOP_H
#define QTS_RISK_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "exec_pipeline.h"
#include "hdr_hist.h"
#include "precheck_risk.h"
#include "risk_limits.h"
#include "safety.h"
#include "timer_svc.h"

#define QTS_RISK_MAX_POSITIONS 128

/* One open position as the portfolio sees it. */
struct qts_risk_pos_view {
    uint32_t strategy_id;
    uint32_t instrument;
    int64_t qty;    /* signed, instrument quantity units */
    int64_t avg_px; /* instrument price units */
};

struct qts_risk_loop_env {
    const struct qts_timer_svc *timers; /* tick source and time (borrowed) */
    struct qts_exec *exec;              /* exits go here (borrowed) */
    struct qts_safety *safety;          /* codes go here (borrowed, may be NULL) */
    struct qts_precheck_risk *pre;      /* stale symbols frozen here (may be NULL) */
    /* Open positions, one row per (strategy, instrument) with qty != 0;
     * returns the row count (at most cap). */
    size_t (*positions)(void *ctx, struct qts_risk_pos_view *out, size_t cap);
    int64_t (*equity)(void *ctx); /* QTS_CASH_EXP units; NULL = no account rules */
    const struct qts_instrument *(*instrument)(void *ctx, uint32_t id); /* borrowed */
    void *ctx;                                                          /* borrowed */
    /* Replay (virtual time): a tick that can find nothing new is not run
     * (see arm() in risk_loop.c); every input must then reach the loop
     * through qts_risk_loop_on_price or qts_risk_loop_touch. Paper and live
     * tick every period: their time is the wall's, ticks are cheap there
     * and the status shows the loop alive. */
    bool skip_idle;
};

enum qts_risk_reason {
    QTS_RR_NONE = 0,
    QTS_RR_KILL = 1, /* kill switch (volatility or account MAE) */
    QTS_RR_VOL_FULL = 2,
    QTS_RR_VOL_PARTIAL = 3,
    QTS_RR_MAE_FULL = 4,
    QTS_RR_MAE_PARTIAL = 5,
    QTS_RR_TIME = 6,
    QTS_RR_TRAIL = 7,
};
#define QTS_RR_COUNT 8
const char *qts_risk_reason_name(int r);

struct qts_risk_loop_stats {
    uint64_t cycles;
    uint64_t exits[QTS_RR_COUNT]; /* exit orders sent, by reason */
    uint64_t exit_failures;
    uint64_t kills;
    uint32_t positions; /* shadows with qty != 0 */
    uint32_t frozen;    /* instruments with a stale price */
};

struct qts_risk_loop;

/* `limits` and `env` are copied. */
struct qts_risk_loop *qts_risk_loop_new(const struct qts_risk_limit_set *limits,
                                        const struct qts_risk_loop_env *env);
void qts_risk_loop_free(struct qts_risk_loop *rl);
void qts_risk_loop_set_limits(struct qts_risk_loop *rl, const struct qts_risk_limit_set *limits);
/* Arm the periodic tick (fixed rate: a late tick does not shift the next
 * deadlines; missed ones are skipped) / disarm it. */
int qts_risk_loop_start(struct qts_risk_loop *rl);
void qts_risk_loop_stop(struct qts_risk_loop *rl);
/* One cycle now (what the timer calls; tests and replays may call it). */
void qts_risk_loop_tick(struct qts_risk_loop *rl);

/* Market data (core loop): a trade price or a mid, in instrument price
 * units, stamped with the timer service's time. O(1). */
void qts_risk_loop_on_price(struct qts_risk_loop *rl, uint32_t instrument, int64_t px,
                            int64_t ts_ns);
/* A bar's close as the price, stamped like on_price; the bar's period
 * becomes the instrument's data interval (staleness is measured in it). */
void qts_risk_loop_on_bar(struct qts_risk_loop *rl, uint32_t instrument, int64_t px,
                          int64_t period_ns, int64_t ts_ns);
/* Market-wide volatility: a VIX-like index (0 = unknown) and the market's
 * realised intraday volatility (fraction; 0 = unknown). */
/* Something the tick reads changed outside the loop's own inputs (a fill,
 * an order event, the safety state): the next tick is the next period's. */
void qts_risk_loop_touch(struct qts_risk_loop *rl);
void qts_risk_loop_set_market_vol(struct qts_risk_loop *rl, double vix, double realized);
/* New session: per-instrument realised volatility starts from zero. A new
 * UTC day of the prices' timestamps starts one by itself. */
void qts_risk_loop_reset_session(struct qts_risk_loop *rl);
/* Realised intraday volatility of an instrument: sqrt of the sum of squared
 * log returns between ticks since the session started. */
double qts_risk_loop_realized_vol(const struct qts_risk_loop *rl, uint32_t instrument);

void qts_risk_loop_stats(const struct qts_risk_loop *rl, struct qts_risk_loop_stats *out);
/* Tick lateness (actual - scheduled, ns) and cycle cost (monotonic ns). */
const struct qts_hdr_hist *qts_risk_loop_jitter(const struct qts_risk_loop *rl);
const struct qts_hdr_hist *qts_risk_loop_cost(const struct qts_risk_loop *rl);
/* Trailing stop of a position (0 = not active), for tests and status. */
int64_t qts_risk_loop_trail_stop(const struct qts_risk_loop *rl, uint32_t strategy_id,
                                 uint32_t instrument);
int qts_risk_loop_status_json(const struct qts_risk_loop *rl, char *buf, size_t cap);

#endif /* QTS_RISK_LOOP_H */
