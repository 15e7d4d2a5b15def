/* risk_limits.c — defaults, validation and per-strategy overrides. */
#include "risk_limits.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "config_tree.h"
#include "qts/qts_store.h"

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
    l->max_hold_ms[QTS_POOL_SCALP] = INT64_C(3600000);
    l->max_hold_ms[QTS_POOL_SWING] = INT64_C(604800000);
    l->max_hold_ms[QTS_POOL_PORTFOLIO] = 0;
    l->hold_warn_ratio = 0.8;
    l->hold_extension_ms = INT64_C(1800000);
    l->vol_warn = 0.03;
    l->vol_critical = 0.05;
    l->vol_kill = 0.08;
    l->vix_warn = 25;
    l->vix_critical = 30;
    l->vix_kill = 40;
    l->stale_ms = 500;
    l->stale_trip_ms = 1000;
    l->stale_intervals = 5;
    l->stale_trip_intervals = 10;
    l->jump_pct = 0.05;
}

#define NEED(cond, msg)                                      \
    do {                                                     \
        if (!(cond))                                         \
            return qts_err_set(err, QTS_ECONFIG, "%s", msg); \
    } while (0)

int qts_risk_limits_validate(const struct qts_risk_limits *l, struct qts_err *err)
{
    NEED(l->pool >= 0 && l->pool < QTS_POOL_COUNT, "risk.pool: scalp, swing or portfolio");
    NEED(l->max_orders_per_sec >= 0 && l->max_orders_per_min >= 0 && l->max_cancels_per_sec >= 0 &&
             l->max_cancels_per_min >= 0 && l->max_daily_trades >= 0,
         "risk.max_orders_* / max_cancels_* / max_daily_trades: >= 0");
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
    NEED(l->loop_period_ms >= 10 && l->loop_period_ms <= 1000, "risk.loop_period_ms: 10..1000");
    NEED(l->trail_activation_pct > 0 && l->trail_activation_pct < 1,
         "risk.trail_activation_pct: (0, 1)");
    NEED(l->trail_distance_pct > 0 && l->trail_distance_pct < 1, "risk.trail_distance_pct: (0, 1)");
    NEED(l->trail_min_distance >= 0, "risk.trail_min_distance: >= 0");
    NEED(l->mae_partial_pct > 0 && l->mae_partial_pct <= l->mae_full_pct,
         "risk.mae_partial_pct: (0, mae_full_pct]");
    NEED(l->mae_full_pct > 0 && l->mae_full_pct < 1, "risk.mae_full_pct: (0, 1)");
    NEED(l->partial_exit_ratio > 0 && l->partial_exit_ratio < 1, "risk.partial_exit_ratio: (0, 1)");
    NEED(l->mae_warn_ratio > 0 && l->mae_warn_ratio <= 1, "risk.mae_warn_ratio: (0, 1]");
    NEED(l->account_mae_pct > 0 && l->account_mae_pct < 1, "risk.account_mae_pct: (0, 1)");
    for (int i = 0; i < QTS_POOL_COUNT; i++)
        NEED(l->max_hold_ms[i] >= 0, "risk.max_hold_*: >= 0 (0 = no limit)");
    NEED(l->hold_warn_ratio > 0 && l->hold_warn_ratio <= 1, "risk.hold_warn_ratio: (0, 1]");
    NEED(l->hold_extension_ms >= 0, "risk.hold_extension: >= 0");
    NEED(l->vol_warn > 0 && l->vol_warn <= l->vol_critical && l->vol_critical <= l->vol_kill,
         "risk.vol_*: 0 < vol_warn <= vol_critical <= vol_kill");
    NEED(l->vix_warn > 0 && l->vix_warn <= l->vix_critical && l->vix_critical <= l->vix_kill,
         "risk.vix_*: 0 < vix_warn <= vix_critical <= vix_kill");
    NEED(l->stale_ms > 0 && l->stale_ms <= l->stale_trip_ms,
         "risk.stale_ms: 0 < stale_ms <= stale_trip_ms");
    NEED(l->stale_intervals >= 1 && l->stale_intervals <= l->stale_trip_intervals,
         "risk.stale_intervals: 1 <= stale_intervals <= stale_trip_intervals");
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

/* ------------------------------------------------ YAML overrides */

enum kind { K_BOOL, K_POOL, K_DBL, K_INT, K_DUR };

#define F(field) offsetof(struct qts_risk_limits, field)
static const struct field {
    const char *name;
    uint8_t kind;
    size_t off;
} fields[] = {
    {"trading_enabled", K_BOOL, F(trading_enabled)},
    {"pool", K_POOL, F(pool)},
    {"price_band_last_pct", K_DBL, F(price_band_last_pct)},
    {"price_band_mid_pct", K_DBL, F(price_band_mid_pct)},
    {"max_order_qty", K_DBL, F(max_order_qty)},
    {"max_order_notional", K_DBL, F(max_order_notional)},
    {"max_position_symbol", K_DBL, F(max_position_symbol)},
    {"max_position_strategy", K_DBL, F(max_position_strategy)},
    {"max_exposure_pct", K_DBL, F(max_exposure_pct)},
    {"max_net_exposure_pct", K_DBL, F(max_net_exposure_pct)},
    {"max_symbol_exposure_pct", K_DBL, F(max_symbol_exposure_pct)},
    {"daily_loss_warn_pct", K_DBL, F(daily_loss_warn_pct)},
    {"daily_loss_limit_pct", K_DBL, F(daily_loss_limit_pct)},
    {"max_orders_per_sec", K_INT, F(max_orders_per_sec)},
    {"max_orders_per_min", K_INT, F(max_orders_per_min)},
    {"max_cancels_per_sec", K_INT, F(max_cancels_per_sec)},
    {"max_cancels_per_min", K_INT, F(max_cancels_per_min)},
    {"max_daily_trades", K_INT, F(max_daily_trades)},
    {"loop_period_ms", K_DUR, F(loop_period_ms)},
    {"trail_activation_pct", K_DBL, F(trail_activation_pct)},
    {"trail_distance_pct", K_DBL, F(trail_distance_pct)},
    {"trail_min_distance", K_DBL, F(trail_min_distance)},
    {"mae_partial_pct", K_DBL, F(mae_partial_pct)},
    {"mae_full_pct", K_DBL, F(mae_full_pct)},
    {"partial_exit_ratio", K_DBL, F(partial_exit_ratio)},
    {"mae_warn_ratio", K_DBL, F(mae_warn_ratio)},
    {"account_mae_pct", K_DBL, F(account_mae_pct)},
    {"max_hold_scalp_ms", K_DUR, F(max_hold_ms[QTS_POOL_SCALP])},
    {"max_hold_swing_ms", K_DUR, F(max_hold_ms[QTS_POOL_SWING])},
    {"max_hold_portfolio_ms", K_DUR, F(max_hold_ms[QTS_POOL_PORTFOLIO])},
    {"hold_warn_ratio", K_DBL, F(hold_warn_ratio)},
    {"hold_extension_ms", K_DUR, F(hold_extension_ms)},
    {"vol_warn", K_DBL, F(vol_warn)},
    {"vol_critical", K_DBL, F(vol_critical)},
    {"vol_kill", K_DBL, F(vol_kill)},
    {"vix_warn", K_DBL, F(vix_warn)},
    {"vix_critical", K_DBL, F(vix_critical)},
    {"vix_kill", K_DBL, F(vix_kill)},
    {"stale_ms", K_DUR, F(stale_ms)},
    {"stale_trip_ms", K_DUR, F(stale_trip_ms)},
    {"stale_intervals", K_DBL, F(stale_intervals)},
    {"stale_trip_intervals", K_DBL, F(stale_trip_intervals)},
    {"jump_pct", K_DBL, F(jump_pct)},
};
#undef F

const char *qts_risk_limit_key(size_t i)
{
    return i < sizeof fields / sizeof fields[0] ? fields[i].name : NULL;
}

/* The limit named `key`, or NULL. */
static const struct field *find_field(const char *key)
{
    for (size_t j = 0; j < sizeof fields / sizeof fields[0]; j++)
        if (strcmp(fields[j].name, key) == 0)
            return &fields[j];
    return NULL;
}

static bool parse_dur(const char *s, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (end == s || errno || v < 0)
        return false;
    long long mul = !*end || !strcmp(end, "ms") ? 1
                    : !strcmp(end, "s")         ? 1000
                    : !strcmp(end, "m")         ? 60000
                    : !strcmp(end, "h")         ? 3600000
                                                : 0;
    if (!mul || v > LLONG_MAX / mul)
        return false;
    *out = (int64_t)(v * mul);
    return true;
}

int qts_risk_limits_apply_map(struct qts_risk_limits *l, const struct qts_cfg_node *map,
                              struct qts_err *err)
{
    if (!map || qts_cfg_type(map) == QTS_CFG_NULL)
        return 0;
    if (qts_cfg_type(map) != QTS_CFG_MAP)
        return qts_err_set(err, QTS_ECONFIG, "risk: a mapping of limit keys");
    for (size_t i = 0; i < qts_cfg_len(map); i++) {
        const char *key = qts_cfg_key_at(map, i);
        const char *v = qts_cfg_str(qts_cfg_at(map, i));
        const struct field *f = find_field(key);
        if (!f)
            return qts_err_set(err, QTS_ECONFIG, "risk.%s: unknown limit", key);
        if (!v)
            return qts_err_set(err, QTS_ECONFIG, "risk.%s: a scalar value", key);
        char *base = (char *)l, *end;
        switch (f->kind) {
        case K_BOOL:
            if (strcmp(v, "true") && strcmp(v, "false"))
                return qts_err_set(err, QTS_ECONFIG, "risk.%s: true or false", key);
            *(bool *)(base + f->off) = strcmp(v, "true") == 0;
            break;
        case K_POOL: {
            int p = qts_pool_parse(v);
            if (p < 0)
                return qts_err_set(err, QTS_ECONFIG, "risk.%s: scalp, swing or portfolio", key);
            *(int *)(base + f->off) = p;
            break;
        }
        case K_DBL: {
            errno = 0;
            double d = strtod(v, &end);
            if (end == v || *end || errno || !isfinite(d))
                return qts_err_set(err, QTS_ECONFIG, "risk.%s: a number", key);
            *(double *)(base + f->off) = d;
            break;
        }
        case K_INT: {
            errno = 0;
            long n = strtol(v, &end, 10);
            if (end == v || *end || errno || n < 0 || n > INT_MAX)
                return qts_err_set(err, QTS_ECONFIG, "risk.%s: an integer >= 0", key);
            *(int *)(base + f->off) = (int)n;
            break;
        }
        case K_DUR: {
            int64_t ms;
            if (!parse_dur(v, &ms))
                return qts_err_set(err, QTS_ECONFIG,
                                   "risk.%s: a duration (e.g. 100, 100ms, 2s, 5m, 1h)", key);
            *(int64_t *)(base + f->off) = ms;
            break;
        }
        }
    }
    return qts_risk_limits_validate(l, err);
}

int qts_risk_limits_apply_value(struct qts_risk_limits *l, const char *key, double v,
                                struct qts_err *err)
{
    const struct field *f = find_field(key);
    if (!f)
        return qts_err_set(err, QTS_ECONFIG, "risk.%s: unknown limit", key);
    if (!isfinite(v))
        return qts_err_set(err, QTS_ECONFIG, "risk.%s: a finite number", key);
    char *base = (char *)l;
    switch (f->kind) {
    case K_BOOL: *(bool *)(base + f->off) = v != 0; break;
    case K_POOL:
        if (v != 0 && v != 1 && v != 2)
            return qts_err_set(err, QTS_ECONFIG, "risk.%s: 0 scalp, 1 swing, 2 portfolio", key);
        *(int *)(base + f->off) = (int)v;
        break;
    case K_DBL: *(double *)(base + f->off) = v; break;
    case K_INT:
        if (v < 0 || v > INT_MAX || v != floor(v))
            return qts_err_set(err, QTS_ECONFIG, "risk.%s: an integer >= 0", key);
        *(int *)(base + f->off) = (int)v;
        break;
    case K_DUR:
        if (v < 0 || v > 1e15 || v != floor(v))
            return qts_err_set(err, QTS_ECONFIG, "risk.%s: whole milliseconds >= 0", key);
        *(int64_t *)(base + f->off) = (int64_t)v;
        break;
    }
    return qts_risk_limits_validate(l, err);
}

int qts_risk_limit_set_apply_record(struct qts_risk_limit_set *s,
                                    const struct qts_store_risk_config *rec,
                                    int64_t (*strategy_id)(void *ctx, const char *name), void *ctx,
                                    struct qts_err *err)
{
    double v = (double)rec->value;
    for (uint8_t i = 0; i < rec->exp; i++)
        v /= 10.0;
    char key[sizeof rec->config_key];
    qts_strlcpy(key, rec->config_key, sizeof key);
    char *slash = strchr(key, '/');
    if (!slash) { /* on a copy: a bad row leaves the limits as they were */
        struct qts_risk_limits g = s->global;
        int rc = qts_risk_limits_apply_value(&g, key, v, err);
        if (rc == 0)
            s->global = g;
        return rc;
    }
    *slash = '\0';
    int64_t id = strategy_id ? strategy_id(ctx, key) : -1;
    if (id < 0 || id > UINT32_MAX)
        return qts_err_set(err, QTS_ECONFIG, "risk_configs %s/%s: unknown strategy", key,
                           slash + 1);
    struct qts_risk_limits o = *qts_risk_limits_for(s, (uint32_t)id);
    int rc = qts_risk_limits_apply_value(&o, slash + 1, v, err);
    if (rc != 0)
        return rc;
    return qts_risk_limit_set_override(s, (uint32_t)id, &o);
}
