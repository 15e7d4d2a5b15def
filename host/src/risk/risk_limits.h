/* risk_limits.h — every risk limit of the host as one plain struct, with
 * the defaults of spec-execution-risk (§2.4, §5.4-§5.10) in one place
 * (qts_risk_limits_default), and per-strategy overrides.
 *
 * Units: quantities in whole instrument units (shares, coins) as doubles, so
 * one limit fits instruments of any quantity exponent; money in currency
 * units (KRW, USDT) as doubles; fractions as fractions (0.05 = 5 %). 0 turns
 * a quantity, notional or rate limit off. The hooks convert to fixed point
 * once per order (precheck_risk.c).
 */
#ifndef QTS_RISK_LIMITS_H
#define QTS_RISK_LIMITS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "qts/qts_err.h"

/* Capital pool / holding track of a strategy (spec §6). */
enum qts_pool {
    QTS_POOL_SCALP = 0,
    QTS_POOL_SWING = 1,
    QTS_POOL_PORTFOLIO = 2,
};
#define QTS_POOL_COUNT 3
const char *qts_pool_name(int pool);
/* "scalp" / "swing" / "portfolio" -> enum; -1 when unknown. */
int qts_pool_parse(const char *s);

struct qts_risk_limits {
    /* ---- pre-trade (PreCheck hooks) */
    bool trading_enabled;           /* true */
    int pool;                       /* enum qts_pool: SCALP */
    double price_band_last_pct;     /* 0.05: limit price vs last trade */
    double price_band_mid_pct;      /* 0.05: limit price vs mid */
    double max_order_qty;           /* 0 = off (whole units) */
    double max_order_notional;      /* 0 = off (currency) */
    double max_position_symbol;     /* 0 = off: account position per symbol (whole units) */
    double max_position_strategy;   /* 0 = off: one strategy's position per symbol */
    double max_exposure_pct;        /* 0.95: gross exposure / equity (GR001) */
    double max_net_exposure_pct;    /* 0.95: |net exposure| / equity (GR111) */
    double max_symbol_exposure_pct; /* 0.15: one symbol's exposure / equity (GR010) */
    double daily_loss_warn_pct;     /* 0.03: GR020 notice */
    double daily_loss_limit_pct;    /* 0.05: GR112, no risk-increasing orders */
    int max_orders_per_sec;         /* 20 */
    int max_orders_per_min;         /* 600 */
    int max_cancels_per_sec;        /* 40 */
    int max_cancels_per_min;        /* 1200 */
    int max_daily_trades;           /* 0 = off (GR062) */
    /* ---- micro risk loop */
    int64_t loop_period_ms;              /* 100, 10..1000 */
    double trail_activation_pct;         /* 0.01: activate at +1 % */
    double trail_distance_pct;           /* 0.005: 0.5 % below the high */
    double trail_min_distance;           /* 0: minimum gap in currency (KRW example: 500) */
    double mae_partial_pct;              /* 0.015: cut partial_exit_ratio */
    double mae_full_pct;                 /* 0.02: flatten */
    double partial_exit_ratio;           /* 0.5 */
    double mae_warn_ratio;               /* 0.8: GR071 at 80 % of mae_full_pct */
    double account_mae_pct;              /* 0.05: unrealised loss / equity -> kill switch */
    int64_t max_hold_ms[QTS_POOL_COUNT]; /* scalp 1 h, swing 7 d, portfolio 0 = none */
    double hold_warn_ratio;              /* 0.8: GR072 */
    int64_t hold_extension_ms;           /* 30 min once while in profit */
    double vol_warn;                     /* 0.03 realised intraday volatility: GR073 */
    double vol_critical;                 /* 0.05: cut 50 % of each position once */
    double vol_kill;                     /* 0.08: flatten everything, LOCKDOWN */
    double vix_warn;                     /* 25 */
    double vix_critical;                 /* 30 */
    double vix_kill;                     /* 40 */
    int64_t stale_ms;                    /* 500: entries frozen, AN010 */
    int64_t stale_trip_ms;               /* 1000 with an open position: FS107 */
    /* the same two measured in the instrument's own data interval (a bar's
     * period): the larger of the two limits applies (risk.md) */
    double stale_intervals;      /* 5 */
    double stale_trip_intervals; /* 10 */
    double jump_pct;             /* 0.05 between consecutive ticks: AN001 */
};

void qts_risk_limits_default(struct qts_risk_limits *l);
/* Range checks: 0 or QTS_ECONFIG with "risk.<key>: allowed range" in err. */
int qts_risk_limits_validate(const struct qts_risk_limits *l, struct qts_err *err);

/* Global limits plus per-strategy overrides (each a complete struct, made
 * by copying the global one and changing some fields). */
#define QTS_RISK_MAX_OVERRIDES 64

struct qts_risk_limit_set {
    struct qts_risk_limits global;
    uint32_t n_over;
    uint32_t over_strategy[QTS_RISK_MAX_OVERRIDES];
    struct qts_risk_limits over[QTS_RISK_MAX_OVERRIDES];
};

void qts_risk_limit_set_init(struct qts_risk_limit_set *s);
/* Add or replace the override of `strategy_id` (copied). QTS_EFULL when
 * the table is full. */
int qts_risk_limit_set_override(struct qts_risk_limit_set *s, uint32_t strategy_id,
                                const struct qts_risk_limits *l);
/* The limits that apply to a strategy (borrowed from `s`); bounded scan of
 * at most QTS_RISK_MAX_OVERRIDES entries. */
const struct qts_risk_limits *qts_risk_limits_for(const struct qts_risk_limit_set *s,
                                                  uint32_t strategy_id);

/* Apply a YAML mapping of limit keys (the keys of the `risk:` section,
 * without the prefix; borrowed) onto `l`: a strategy's `risk:` override.
 * Unknown keys, wrong types and values out of range give QTS_ECONFIG with
 * "<key>: problem" in err (`l` may then be partly changed). */
struct qts_cfg_node;
int qts_risk_limits_apply_map(struct qts_risk_limits *l, const struct qts_cfg_node *map,
                              struct qts_err *err);
/* Name of the i-th key qts_risk_limits_apply_map accepts (the same names as
 * the `risk.` rows of the configuration schema); NULL past the end. */
const char *qts_risk_limit_key(size_t i);

/* One numeric value, as the `risk_configs` table stores it (key as in the
 * `risk:` section without the prefix; booleans 0/1, pool 0/1/2, durations
 * in milliseconds). Validates the result like qts_risk_limits_apply_map. */
int qts_risk_limits_apply_value(struct qts_risk_limits *l, const char *key, double v,
                                struct qts_err *err);

/* A `risk_configs` row (borrowed) applied to a limit set: config_key
 * "<key>" changes the global limits, "<strategy name>/<key>" the override of
 * that strategy (created from the global limits when absent), its id from
 * `strategy_id` (return < 0 for an unknown name). Rows are applied after the
 * YAML configuration: the table wins. */
struct qts_store_risk_config;
int qts_risk_limit_set_apply_record(struct qts_risk_limit_set *s,
                                    const struct qts_store_risk_config *rec,
                                    int64_t (*strategy_id)(void *ctx, const char *name), void *ctx,
                                    struct qts_err *err);

#endif /* QTS_RISK_LIMITS_H */
