/* exec_params.c — execution parameters: the defaults, the range checks,
 * the stage names, and the tick rounding of prices (exec_pipeline.h). */
#include "exec_pipeline.h"

#include <string.h>

#include "exec_split.h"
#include "util.h"

int qts_exec_params_validate(const struct qts_exec_params *p, struct qts_err *err)
{
#define NEED(cond, ...)                                        \
    do {                                                       \
        if (!(cond))                                           \
            return qts_err_set(err, QTS_ECONFIG, __VA_ARGS__); \
    } while (0)
    NEED(p->host_id[0] && strlen(p->host_id) < sizeof p->host_id && !strchr(p->host_id, '-'),
         "exec.host_id: 1..15 characters, no '-'");
    NEED(p->send_timeout_ms > 0, "exec.send_timeout_ms: must be > 0");
    NEED(p->ack_timeout_ms > 0, "exec.ack_timeout_ms: must be > 0");
    NEED(p->send_max_attempts >= 1 && p->send_max_attempts <= 10, "exec.send_max_attempts: 1..10");
    NEED(p->send_backoff_ms >= 0, "exec.send_backoff_ms: must be >= 0");
    NEED(p->monitor_timeout_ms >= 0, "exec.monitor_timeout_ms: must be >= 0 (0 = off)");
    NEED(p->poll_interval_ms > 0, "exec.poll_interval_ms: must be > 0");
    NEED(p->adjust_step_pct > 0 && p->adjust_step_pct < 0.1,
         "exec.adjust_step_pct: a fraction in (0, 0.1)");
    NEED(p->adjust_max_rounds <= 100, "exec.adjust_max_rounds: 0..100");
    NEED(p->adjust_interval_ms > 0, "exec.adjust_interval_ms: must be > 0");
    NEED(p->adjust_timeout_ms > 0, "exec.adjust_timeout_ms: must be > 0");
    NEED(p->adjust_fill_prob >= 0 && p->adjust_fill_prob <= 1,
         "exec.adjust_fill_prob: a probability in [0, 1]");
    NEED(p->max_slippage_pct >= 0 && p->max_slippage_pct < 0.5,
         "exec.max_slippage_pct: a fraction in [0, 0.5)");
    NEED(p->escape_timeout_ms > 0, "exec.escape_timeout_ms: must be > 0");
    NEED(p->flatten_max_attempts >= 1, "exec.flatten_max_attempts: >= 1");
    NEED(p->max_children >= 1 && p->max_children <= QTS_SPLIT_MAX, "exec.max_children: 1..%d",
         QTS_SPLIT_MAX);
    NEED(p->twap_default_slices >= 1, "exec.twap_default_slices: >= 1");
    NEED(p->algo_default_duration_ms >= 0, "exec.algo_default_duration_ms: >= 0");
    NEED(!p->vwap_profile || (p->n_vwap_profile >= 1 && p->n_vwap_profile <= QTS_SPLIT_MAX),
         "exec.vwap_profile: 1..%d buckets", QTS_SPLIT_MAX);
    for (size_t i = 0; p->vwap_profile && i < p->n_vwap_profile; i++)
        NEED(p->vwap_profile[i] >= 0, "exec.vwap_profile[%zu]: must be >= 0", i);
    NEED(p->price_band_pct >= 0 && p->price_band_pct < 1, "exec.price_band_pct: [0, 1)");
    NEED(p->max_ref_age_ms >= 0, "exec.max_ref_age_ms: >= 0");
    NEED(p->retain_ms >= 0, "exec.retain_ms: >= 0");
    NEED(p->evict_tombstones <= 10000000, "exec.evict_tombstones: 0..10000000");
#undef NEED
    return 0;
}

void qts_exec_params_default(struct qts_exec_params *p)
{
    /* grouped by stage, as in the struct */
    memset(p, 0, sizeof *p);
    *p = (struct qts_exec_params){.host_id = "qts",
                                  .send_timeout_ms = 10000,
                                  .ack_timeout_ms = 3000,
                                  .send_max_attempts = 3,
                                  .send_backoff_ms = 100,
                                  .monitor_timeout_ms = 60000,
                                  .poll_interval_ms = 100,
                                  .adjust_step_pct = 0.001,
                                  .adjust_max_rounds = 3,
                                  .adjust_interval_ms = 1000,
                                  .adjust_timeout_ms = 30000,
                                  .max_slippage_pct = 0.005,
                                  .adjust_fill_prob = 0.5,
                                  .escape_timeout_ms = 30000,
                                  .escape_flatten = true,
                                  .flatten_max_attempts = 3,
                                  .max_children = 10,
                                  .twap_default_slices = 5,
                                  .algo_default_duration_ms = 30000,
                                  .vwap_bars = 10,
                                  .vwap_profile = NULL,
                                  .n_vwap_profile = 0,
                                  .price_band_pct = 0.05,
                                  .max_ref_age_ms = 100,
                                  .shrink_to_cash = true,
                                  .retain_orders = 2000,
                                  .retain_ms = 60000,
                                  .evict_tombstones = 65536};
}

const char *qts_exec_stage_name(int stage)
{
    static const char *const names[] = {"precheck", "split",  "send", "report",
                                        "adjust",   "escape", "ack",  "fill"};
    return (stage >= 0 && stage < QTS_STAGE_COUNT) ? names[stage] : "?";
}

int64_t qts_px_floor_tick(int64_t px, int64_t tick)
{
    if (tick <= 1)
        return px;
    int64_t r = px % tick;
    if (r < 0)
        r += tick;
    return px - r;
}

int64_t qts_px_ceil_tick(int64_t px, int64_t tick)
{
    int64_t f = qts_px_floor_tick(px, tick);
    return f == px ? px : f + tick;
}
