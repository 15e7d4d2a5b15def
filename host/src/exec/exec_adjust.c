/* exec_adjust.c — AdaptiveAdjust: reprice rounds of unfilled limit
 * children towards the touch, within the slippage cap, guided by the fill
 * probability when a provider gives one (docs/execution.md
 * "AdaptiveAdjust"). */
#include "exec_internal.h"

#include <math.h>
#include <string.h>

#include "util.h"

static void adjust_tick(void *arg);

int64_t qts__exec_step_px(int64_t px, double pct, int up)
{
    qts_i128 ppm = (qts_i128)llround(pct * 1e6);
    qts_i128 d = ((qts_i128)px * ppm + 999999) / 1000000;
    if (d < 1)
        d = 1;
    return (int64_t)(up ? px + d : px - d);
}

/* Fill-probability guidance for one child (execution feedback): true =
 * hold the child this round; otherwise *target may move further towards
 * the touch, to the most passive distance whose estimated probability of
 * filling within one adjust interval reaches params.adjust_fill_prob. */
static bool fill_prob_target(struct qts_exec *x, const struct qts_parent *p,
                             const struct qts_child *c, const struct qts_mkt_ref *ref,
                             int64_t *target)
{
    double thr = x->params.adjust_fill_prob;
    bool buy = p->intent.side == QTS_SIDE_BUY;
    int64_t tick = p->inst.tick_size > 0 ? p->inst.tick_size : 1;
    int64_t touch = ref ? (buy ? ref->bid : ref->ask) : 0;
    if (!x->env.prov.fill_prob || !(thr > 0) || touch <= 0)
        return false;
    double h = (double)x->params.adjust_interval_ms / 1000.0;
    double d = (double)(buy ? touch - c->px : c->px - touch) / (double)tick;
    if (d >= 0) {
        double pr = x->env.prov.fill_prob(x->env.prov.ctx, p->intent.instrument, d, h);
        if (pr >= thr)
            return true;
    }
    static const int dist[] = {10, 5, 3, 2, 1, 0}; /* most passive first */
    for (size_t i = 0; i < sizeof dist / sizeof dist[0]; i++) {
        if ((double)dist[i] >= d)
            continue;
        double pr = x->env.prov.fill_prob(x->env.prov.ctx, p->intent.instrument, dist[i], h);
        if (pr >= thr) {
            int64_t px = buy ? touch - dist[i] * tick : touch + dist[i] * tick;
            if (buy ? px > *target : px < *target)
                *target = px;
            break;
        }
    }
    return false;
}

/* One reprice round. Returns 1 when a child moved, 0 when none needed to
 * (already at or through the touch), -1 when none could because of the
 * slippage cap. */
static int adjust_round(struct qts_exec *x, struct qts_parent *p)
{
    int64_t t0 = qts_mono_ns();
    struct qts_mkt_ref ref;
    bool have_ref = qts__exec_market_ref(x, p->intent.instrument, &ref);
    bool buy = p->intent.side == QTS_SIDE_BUY;
    int64_t tick = p->inst.tick_size;
    bool moved = false, capped = false, blocked = false;
    for (size_t i = 0; i < p->n_children; i++) {
        struct qts_child *c = p->children[i];
        if (c->role != QTS_CHILD_SLICE || c->type != QTS_ORD_LIMIT ||
            !(c->state == QTS_OS_ACCEPTED || c->state == QTS_OS_PARTIALLY_FILLED) ||
            c->modify_pending || c->replace_px)
            continue;
        double step = x->params.adjust_step_pct;
        int64_t target = buy ? qts_px_ceil_tick(qts__exec_step_px(c->px, step, 1), tick)
                             : qts_px_floor_tick(qts__exec_step_px(c->px, step, 0), tick);
        if (fill_prob_target(x, p, c, have_ref ? &ref : NULL, &target))
            continue; /* likely to fill where it is: hold this round */
        if (have_ref && buy && ref.ask > 0 && target > ref.ask)
            target = ref.ask;
        if (have_ref && !buy && ref.bid > 0 && target < ref.bid)
            target = ref.bid;
        if (buy ? target > p->limit_cap_px : target < p->limit_cap_px) {
            target = p->limit_cap_px;
            capped = true;
        }
        if (buy ? target <= c->px : target >= c->px) {
            if (buy ? p->limit_cap_px <= c->px : p->limit_cap_px >= c->px)
                capped = blocked = true;
            continue; /* at the cap, or already at/through the touch */
        }
        if (x->env.port.ops && x->env.port.ops->modify) {
            struct qts_broker_modify m = {.struct_size = sizeof m,
                                          .instrument = c->instrument,
                                          .new_px = target,
                                          .new_qty = c->qty};
            qts_strlcpy(m.symbol, p->inst.symbol, sizeof m.symbol);
            qts_strlcpy(m.client_order_id, c->client_order_id, sizeof m.client_order_id);
            qts_strlcpy(m.venue_order_id, c->venue_order_id, sizeof m.venue_order_id);
            if (x->env.port.ops->modify(x->env.port.self, &m) == 0) {
                c->modify_pending = true;
                moved = true;
            }
        } else {
            /* cancel-replace: the rest is resent at `target` once the
             * cancel is confirmed, so the two can never both fill */
            c->replace_px = target;
            if (x->env.port.ops)
                x->env.port.ops->cancel(x->env.port.self, c->client_order_id, c->venue_order_id);
            qts_child_set_state(c, QTS_OS_CANCEL_PENDING);
            moved = true;
        }
    }
    qts__exec_stage_time(x, p, QTS_STAGE_ADJUST, qts_mono_ns() - t0);
    if (capped)
        qts__exec_safety(x, QTS_SC_GR063, "order=%llu reprice at slippage cap %lld",
                         (unsigned long long)p->order_id, (long long)p->limit_cap_px);
    return moved ? 1 : blocked ? -1 : 0;
}

void qts__exec_enter_adjust(struct qts_exec *x, struct qts_parent *p)
{
    if (p->state != QTS_XS_MONITORING && p->state != QTS_XS_ADJUSTING)
        return;
    if (!p->ts_adjust_start_ns)
        p->ts_adjust_start_ns = qts__exec_now_ns(x);
    if (p->intent.type != QTS_ORD_LIMIT) {
        qts__exec_enter_escape(x, p, "unfilled market order");
        return;
    }
    if (p->adjust_rounds >= x->params.adjust_max_rounds) {
        qts__exec_enter_escape(x, p, "adjust rounds exhausted");
        return;
    }
    if (qts__exec_now_ns(x) - p->ts_adjust_start_ns >= x->params.adjust_timeout_ms * MS) {
        qts__exec_enter_escape(x, p, "adjust timeout");
        return;
    }
    p->state = QTS_XS_ADJUSTING;
    p->ts_stage_ns = qts__exec_now_ns(x);
    p->adjust_rounds++;
    if (adjust_round(x, p) < 0) {
        qts__exec_safety(x, QTS_SC_FS094, "order=%llu slippage cap %.3f%% reached",
                         (unsigned long long)p->order_id, x->params.max_slippage_pct * 100.0);
        qts__exec_enter_escape(x, p, "slippage cap reached");
        return;
    }
    /* ADJUSTING until the broker confirms the new prices, then MONITORING;
     * the next round comes after the interval either way */
    qts__exec_stop_timer(x, &p->timer_stage);
    qts__exec_start_timer(x, &p->timer_adjust, x->params.adjust_interval_ms * MS, adjust_tick, p);
    qts__exec_evaluate(x, p);
}

static void adjust_tick_run(void *arg)
{
    struct qts_parent *p = arg;
    struct qts_exec *x = p->owner;
    p->timer_adjust = 0;
    if (p->state != QTS_XS_MONITORING && p->state != QTS_XS_ADJUSTING)
        return;
    qts__exec_enter_adjust(x, p);
}

static void adjust_tick(void *arg)
{
    qts__exec_enter(((struct qts_parent *)arg)->owner, adjust_tick_run, arg);
}
