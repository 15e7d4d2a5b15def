/* risk_limits.c — defaults, validation and per-strategy overrides. */
#include "risk_limits.h"

#include <string.h>

const char *qts_pool_name(int pool)
{
    switch (pool) {
    case QTS_POOL_SCALP: return "scalp";
    case QTS_POOL_SWING: return "swing";
    case QTS_POOL_PORTFOLIO: return "portfolio";
    default: return "?";
    }
}

int qts_pool_parse(const char *s)
{
    for (int i = 0; s && i < QTS_POOL_COUNT; i++)
        if (strcmp(s, qts_pool_name(i)) == 0)
            return i;
    return -1;
}

void qts_risk_limits_default(struct qts_risk_limits *l)
{
    memset(l, 0, sizeof *l);
    l->trading_enabled = true;
    l->pool = QTS_POOL_SCALP;
    l->price_band_last_pct = 0.05;
    l->price_band_mid_pct = 0.05;
    l->max_exposure_pct = 0.95;
    l->max_net_exposure_pct = 0.95;
    l->max_symbol_exposure_pct = 0.15;
    l->daily_loss_warn_pct = 0.03;
    l->daily_loss_limit_pct = 0.05;
    l->max_orders_per_sec = 20;
    l->max_orders_per_min = 600;
    l->max_cancels_per_sec = 40;
    l->max_cancels_per_min = 1200;
    l->loop_period_ms = 100;
    l->trail_activation_pct = 0.01;
    l->trail_distance_pct = 0.005;
    l->mae_partial_pct = 0.015;
    l->mae_full_pct = 0.02;
    l->partial_exit_ratio = 0.5;
    l->mae_warn_ratio = 0.8;
    l->account_mae_pct = 0.05;
    l->max_hold_s[QTS_POOL_SCALP] = 3600;
    l->max_hold_s[QTS_POOL_SWING] = 604800;
    l->max_hold_s[QTS_POOL_PORTFOLIO] = 0;
    l->hold_warn_ratio = 0.8;
    l->hold_extension_s = 1800;
    l->vol_warn = 0.03;
    l->vol_critical = 0.05;
    l->vol_kill = 0.08;
    l->vix_warn = 25;
    l->vix_critical = 30;
    l->vix_kill = 40;
    l->stale_ms = 500;
    l->stale_trip_ms = 1000;
    l->jump_pct = 0.05;
}

#define NEED(cond, msg)                                                                     \
    do {                                                                                    \
        if (!(cond))                                                                        \
            return qts_err_set(err, QTS_ECONFIG, "%s", msg);                                \
    } while (0)

int qts_risk_limits_validate(const struct qts_risk_limits *l, struct qts_err *err)
{
    NEED(l->pool < QTS_POOL_COUNT, "risk.pool: scalp, swing or portfolio");
    NEED(l->price_band_last_pct >= 0 && l->price_band_last_pct < 1,
         "risk.price_band_last_pct: [0, 1)");
    NEED(l->price_band_mid_pct >= 0 && l->price_band_mid_pct < 1,
         "risk.price_band_mid_pct: [0, 1)");
    NEED(l->max_order_qty >= 0, "risk.max_order_qty: >= 0");
    NEED(l->max_order_notional >= 0, "risk.max_order_notional: >= 0");
    NEED(l->max_position_symbol >= 0, "risk.max_position_symbol: >= 0");
    NEED(l->max_position_strategy >= 0, "risk.max_position_strategy: >= 0");
    NEED(l->max_exposure_pct > 0 && l->max_exposure_pct <= 10, "risk.max_exposure_pct: (0, 10]");
    NEED(l->max_net_exposure_pct > 0 && l->max_net_exposure_pct <= 10,
         "risk.max_net_exposure_pct: (0, 10]");
    NEED(l->max_symbol_exposure_pct > 0 && l->max_symbol_exposure_pct <= 10,
         "risk.max_symbol_exposure_pct: (0, 10]");
    NEED(l->daily_loss_warn_pct >= 0 && l->daily_loss_warn_pct < 1,
         "risk.daily_loss_warn_pct: [0, 1)");
    NEED(l->daily_loss_limit_pct > 0 && l->daily_loss_limit_pct < 1,
         "risk.daily_loss_limit_pct: (0, 1)");
    NEED(l->loop_period_ms >= 10 && l->loop_period_ms <= 1000,
         "risk.loop_period_ms: 10..1000");
    NEED(l->trail_activation_pct > 0 && l->trail_activation_pct < 1,
         "risk.trail_activation_pct: (0, 1)");
    NEED(l->trail_distance_pct > 0 && l->trail_distance_pct < 1,
         "risk.trail_distance_pct: (0, 1)");
    NEED(l->trail_min_distance >= 0, "risk.trail_min_distance: >= 0");
    NEED(l->mae_partial_pct > 0 && l->mae_partial_pct <= l->mae_full_pct,
         "risk.mae_partial_pct: (0, mae_full_pct]");
    NEED(l->mae_full_pct > 0 && l->mae_full_pct < 1, "risk.mae_full_pct: (0, 1)");
    NEED(l->partial_exit_ratio > 0 && l->partial_exit_ratio < 1,
         "risk.partial_exit_ratio: (0, 1)");
    NEED(l->mae_warn_ratio > 0 && l->mae_warn_ratio <= 1, "risk.mae_warn_ratio: (0, 1]");
    NEED(l->account_mae_pct > 0 && l->account_mae_pct < 1, "risk.account_mae_pct: (0, 1)");
    for (int i = 0; i < QTS_POOL_COUNT; i++)
        NEED(l->max_hold_s[i] >= 0, "risk.max_hold_s: >= 0 (0 = no limit)");
    NEED(l->hold_warn_ratio > 0 && l->hold_warn_ratio <= 1, "risk.hold_warn_ratio: (0, 1]");
    NEED(l->hold_extension_s >= 0, "risk.hold_extension_s: >= 0");
    NEED(l->vol_warn > 0 && l->vol_warn <= l->vol_critical && l->vol_critical <= l->vol_kill,
         "risk.vol_*: 0 < vol_warn <= vol_critical <= vol_kill");
    NEED(l->vix_warn > 0 && l->vix_warn <= l->vix_critical && l->vix_critical <= l->vix_kill,
         "risk.vix_*: 0 < vix_warn <= vix_critical <= vix_kill");
    NEED(l->stale_ms > 0 && l->stale_ms <= l->stale_trip_ms,
         "risk.stale_ms: 0 < stale_ms <= stale_trip_ms");
    NEED(l->jump_pct > 0 && l->jump_pct < 1, "risk.jump_pct: (0, 1)");
    return 0;
}

void qts_risk_limit_set_init(struct qts_risk_limit_set *s)
{
    memset(s, 0, sizeof *s);
    qts_risk_limits_default(&s->global);
}

int qts_risk_limit_set_override(struct qts_risk_limit_set *s, uint32_t strategy_id,
                                const struct qts_risk_limits *l)
{
    for (uint32_t i = 0; i < s->n_over; i++)
        if (s->over_strategy[i] == strategy_id) {
            s->over[i] = *l;
            return 0;
        }
    if (s->n_over == QTS_RISK_MAX_OVERRIDES)
        return QTS_EFULL;
    s->over_strategy[s->n_over] = strategy_id;
    s->over[s->n_over++] = *l;
    return 0;
}

const struct qts_risk_limits *qts_risk_limits_for(const struct qts_risk_limit_set *s,
                                                  uint32_t strategy_id)
{
    for (uint32_t i = 0; i < s->n_over; i++)
        if (s->over_strategy[i] == strategy_id)
            return &s->over[i];
    return &s->global;
}
