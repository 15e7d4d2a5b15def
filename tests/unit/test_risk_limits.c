/* test_risk_limits.c — the `risk:` configuration section and per-strategy
 * overrides: defaults identical to qts_risk_limits_default, typed values,
 * overrides from a strategy's `risk:` map, the key lists in step. */
#include "test_support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "settings.h"
#include "qts/qts_store.h"
#include "risk_limits.h"
#include "util.h"

static struct qts_config *load(const char *yaml)
{
    struct qts_config *c = NULL;
    return qts_test_config_load("t.yaml", yaml, &c, NULL) == 0 ? c : NULL;
}

static void test_defaults_in_one_place(void **state)
{
    (void)state;
    /* live_scalping: the key table's own defaults (no preset overrides) */
    struct qts_config *c = load("mode: replay\npreset: live_scalping\n");
    assert_non_null(c);
    struct qts_risk_limits def;
    qts_risk_limits_default(&def);
    const struct qts_risk_limits *got = &qts_config_settings(c)->risk;
    /* field by field, so a mismatch names itself */
    assert_int_equal(got->trading_enabled, def.trading_enabled);
    assert_int_equal(got->pool, def.pool);
    assert_true(got->price_band_last_pct == def.price_band_last_pct);
    assert_true(got->max_exposure_pct == def.max_exposure_pct);
    assert_true(got->daily_loss_limit_pct == def.daily_loss_limit_pct);
    assert_int_equal(got->max_orders_per_sec, def.max_orders_per_sec);
    assert_int_equal(got->max_cancels_per_min, def.max_cancels_per_min);
    assert_int_equal(got->loop_period_ms, def.loop_period_ms);
    for (int i = 0; i < QTS_POOL_COUNT; i++)
        assert_int_equal(got->max_hold_ms[i], def.max_hold_ms[i]);
    assert_int_equal(got->hold_extension_ms, def.hold_extension_ms);
    assert_int_equal(got->stale_ms, def.stale_ms);
    assert_int_equal(got->stale_trip_ms, def.stale_trip_ms);
    assert_true(got->vix_kill == def.vix_kill);
    /* and the whole struct */
    assert_memory_equal(got, &def, sizeof def);
    struct qts_err err;
    assert_int_equal(qts_risk_limits_validate(got, &err), 0);
    /* the safety section too */
    struct qts_safety_cfg sdef;
    memset(&sdef, 0, sizeof sdef);
    qts_safety_cfg_default(&sdef);
    assert_memory_equal(&qts_config_settings(c)->safety, &sdef, sizeof sdef);
    qts_config_unref(c);
}

static void test_values_and_overrides(void **state)
{
    (void)state;
    struct qts_config *c = load("mode: replay\n"
                                "risk:\n"
                                "  max_order_qty: 500\n"
                                "  max_orders_per_sec: 5\n"
                                "  loop_period_ms: 50ms\n"
                                "  pool: swing\n"
                                "  max_hold_swing_ms: 48h\n"
                                "strategies:\n"
                                "  list:\n"
                                "    - name: a\n"
                                "      file: a.lua\n"
                                "      risk: {max_order_qty: 10, pool: scalp, stale_ms: 2s,\n"
                                "             stale_trip_ms: 5s}\n"
                                "    - name: b\n"
                                "      file: b.lua\n");
    assert_non_null(c);
    const struct qts_settings *s = qts_config_settings(c);
    assert_true(s->risk.max_order_qty == 500);
    assert_int_equal(s->risk.max_orders_per_sec, 5);
    assert_int_equal(s->risk.loop_period_ms, 50);
    assert_int_equal(s->risk.pool, QTS_POOL_SWING);
    assert_int_equal(s->risk.max_hold_ms[QTS_POOL_SWING], INT64_C(48) * 3600000);
    /* the engine's recipe: global from settings, each strategy's map on top */
    struct qts_risk_limit_set set;
    qts_risk_limit_set_init(&set);
    set.global = s->risk;
    struct qts_err err;
    for (size_t i = 0; i < s->n_strategies; i++) {
        if (!s->strategies[i].risk)
            continue;
        struct qts_risk_limits o = set.global;
        assert_int_equal(qts_risk_limits_apply_map(&o, s->strategies[i].risk, &err), 0);
        assert_int_equal(qts_risk_limit_set_override(&set, (uint32_t)i + 1, &o), 0);
    }
    const struct qts_risk_limits *a = qts_risk_limits_for(&set, 1);
    const struct qts_risk_limits *b = qts_risk_limits_for(&set, 2);
    assert_true(a->max_order_qty == 10);
    assert_int_equal(a->pool, QTS_POOL_SCALP);
    assert_int_equal(a->stale_ms, 2000);
    assert_int_equal(a->max_orders_per_sec, 5); /* inherited */
    assert_true(b->max_order_qty == 500);
    qts_config_unref(c);
}

/* docs/config.md "Presets": a replay defaults to backtest, paper and live
 * to live_scalping; a key set in the file wins over its preset. */
static void test_presets(void **state)
{
    (void)state;
    struct qts_risk_limits def;
    qts_risk_limits_default(&def);
    struct qts_config *c = load("mode: replay\n");
    assert_non_null(c);
    const struct qts_settings *s = qts_config_settings(c);
    assert_int_equal(s->risk.pool, QTS_POOL_PORTFOLIO);
    assert_true(s->risk.mae_full_pct == 0.999 && s->risk.vol_kill == 10);
    assert_int_equal(s->exec_monitor_timeout_ms, 0);
    assert_int_equal(s->risk.stale_ms, def.stale_ms); /* not part of the preset */
    qts_config_unref(c);
    c = load("mode: paper\n");
    assert_non_null(c);
    assert_int_equal(qts_config_settings(c)->risk.pool, def.pool);
    assert_int_equal(qts_config_settings(c)->exec_monitor_timeout_ms, 60000);
    qts_config_unref(c);
    c = load("mode: replay\npreset: paper\nrisk:\n  mae_full_pct: 0.1\n");
    assert_non_null(c);
    s = qts_config_settings(c);
    assert_int_equal(s->risk.pool, QTS_POOL_SWING);
    assert_true(s->risk.mae_full_pct == 0.1);     /* the file's */
    assert_true(s->risk.mae_partial_pct == 0.04); /* the preset's */
    qts_config_unref(c);
}

static void test_override_errors(void **state)
{
    (void)state;
    struct qts_config *c = load("mode: replay\n"
                                "strategies:\n"
                                "  list:\n"
                                "    - {name: a, file: a.lua, risk: {max_ordr_qty: 1}}\n"
                                "    - {name: b, file: b.lua, risk: {loop_period_ms: 5}}\n"
                                "    - {name: c, file: c.lua, risk: {pool: hedge}}\n"
                                "    - {name: d, file: d.lua, risk: {max_orders_per_sec: x}}\n"
                                "    - {name: e, file: e.lua, risk: {stale_ms: 1d}}\n");
    assert_non_null(c);
    const struct qts_settings *s = qts_config_settings(c);
    const char *want[] = {"risk.max_ordr_qty: unknown", "risk.loop_period_ms: 10..1000",
                          "risk.pool: scalp", "risk.max_orders_per_sec: an integer",
                          "risk.stale_ms: a duration"};
    for (size_t i = 0; i < 5; i++) {
        struct qts_risk_limits o;
        qts_risk_limits_default(&o);
        struct qts_err err;
        assert_int_equal(qts_risk_limits_apply_map(&o, s->strategies[i].risk, &err), QTS_ECONFIG);
        if (!strstr(err.msg, want[i]))
            fail_msg("%zu: '%s' does not contain '%s'", i, err.msg, want[i]);
    }
    qts_config_unref(c);
}

static void test_schema_and_override_keys_match(void **state)
{
    (void)state;
    size_t n_schema = 0;
    for (size_t i = 0; i < qts_config_n_keys; i++) {
        const char *k = qts_config_keys[i].path;
        if (strncmp(k, "risk.", 5) != 0)
            continue;
        n_schema++;
        bool found = false;
        for (size_t j = 0; qts_risk_limit_key(j); j++)
            found |= strcmp(qts_risk_limit_key(j), k + 5) == 0;
        if (!found)
            fail_msg("%s has no override key", k);
    }
    size_t n_over = 0;
    while (qts_risk_limit_key(n_over))
        n_over++;
    assert_int_equal(n_schema, n_over);
}

static int64_t sid(void *ctx, const char *name)
{
    (void)ctx;
    return strcmp(name, "scalper") == 0 ? 7 : -1;
}

static struct qts_store_risk_config row(const char *key, int64_t value, uint8_t exp)
{
    struct qts_store_risk_config r;
    memset(&r, 0, sizeof r);
    r.h.struct_size = sizeof r;
    r.h.kind = QTS_REC_RISK_CONFIG;
    qts_strlcpy(r.config_key, key, sizeof r.config_key);
    r.value = value;
    r.exp = exp;
    return r;
}

static void test_risk_configs_rows(void **state)
{
    (void)state;
    struct qts_risk_limit_set set;
    qts_risk_limit_set_init(&set);
    struct qts_err err;
    struct qts_store_risk_config r = row("max_exposure_pct", 8000, 4); /* 0.8 */
    assert_int_equal(qts_risk_limit_set_apply_record(&set, &r, sid, NULL, &err), 0);
    assert_true(set.global.max_exposure_pct == 0.8);
    r = row("scalper/max_orders_per_sec", 3, 0);
    assert_int_equal(qts_risk_limit_set_apply_record(&set, &r, sid, NULL, &err), 0);
    r = row("scalper/max_hold_scalp_ms", 600000, 0);
    assert_int_equal(qts_risk_limit_set_apply_record(&set, &r, sid, NULL, &err), 0);
    const struct qts_risk_limits *o = qts_risk_limits_for(&set, 7);
    assert_int_equal(o->max_orders_per_sec, 3);
    assert_int_equal(o->max_hold_ms[QTS_POOL_SCALP], 600000);
    assert_true(o->max_exposure_pct == 0.8); /* copied from the global limits */
    assert_int_equal(qts_risk_limits_for(&set, 1)->max_orders_per_sec, 20);
    r = row("nobody/max_order_qty", 1, 0);
    assert_int_equal(qts_risk_limit_set_apply_record(&set, &r, sid, NULL, &err), QTS_ECONFIG);
    r = row("loop_period_ms", 5, 0);
    assert_int_equal(qts_risk_limit_set_apply_record(&set, &r, sid, NULL, &err), QTS_ECONFIG);
    assert_int_equal(set.global.loop_period_ms, 100); /* unchanged */
    r = row("bogus", 5, 0);
    assert_int_equal(qts_risk_limit_set_apply_record(&set, &r, sid, NULL, &err), QTS_ECONFIG);
}

QTS_TEST_MAIN(test_defaults_in_one_place, test_values_and_overrides, test_presets,
              test_override_errors, test_schema_and_override_keys_match, test_risk_configs_rows)
