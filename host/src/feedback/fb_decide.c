/* fb_decide.c — see fb_decide.h. */
#include "fb_decide.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec_pipeline.h"
#include "impact_model.h"
#include "log.h"
#include "tca.h"
#include "util.h"

struct budget {
    uint32_t strategy_id;
    double bps;
};

struct qts_fb_decide {
    struct qts_fb_decide_params p;
    struct qts_tca *tca;    /* borrowed */
    struct budget *budgets; /* owned */
    size_t n_budgets;
    void (*publish)(void *ctx, const struct qts_decision *rec);
    void *publish_ctx; /* borrowed */
    /* qts_fb_decide_confidence_batch's copies (owned, reused) */
    struct qts_order_intent *adj;
    const struct qts_order_intent **adj_ptr;
    size_t adj_cap;
};

struct qts_fb_decide *qts_fb_decide_new(const struct qts_fb_decide_params *p, struct qts_tca *tca)
{
    struct qts_fb_decide *d = qts_xcalloc(1, sizeof *d);
    d->p = *p;
    d->tca = tca;
    return d;
}

void qts_fb_decide_free(struct qts_fb_decide *d)
{
    if (!d)
        return;
    free(d->budgets);
    free(d->adj);
    free(d->adj_ptr);
    free(d);
}

void qts_fb_decide_set_budget(struct qts_fb_decide *d, uint32_t strategy_id, double bps)
{
    d->budgets = qts_xrealloc(d->budgets, (d->n_budgets + 1) * sizeof *d->budgets);
    d->budgets[d->n_budgets++] = (struct budget){strategy_id, bps};
}

void qts_fb_decide_set_publish(struct qts_fb_decide *d,
                               void (*publish)(void *ctx, const struct qts_decision *rec),
                               void *ctx)
{
    d->publish = publish;
    d->publish_ctx = ctx;
}

static double budget_of(const struct qts_fb_decide *d, uint32_t strategy_id)
{
    for (size_t i = 0; i < d->n_budgets; i++)
        if (d->budgets[i].strategy_id == strategy_id)
            return d->budgets[i].bps;
    return d->p.budget_bps;
}

static const char *src_name(int src)
{
    return src == QTS_IMPACT_SRC_KEY      ? "symbol/side/algo"
           : src == QTS_IMPACT_SRC_SYMBOL ? "symbol"
                                          : "default";
}

/* JSON number or null (NaN). */
static void jnum(char *b, size_t n, const char *key, double v, bool comma)
{
    size_t l = strlen(b);
    if (l >= n)
        return;
    if (isfinite(v))
        snprintf(b + l, n - l, "%s\"%s\":%.6g", comma ? "," : "", key, v);
    else
        snprintf(b + l, n - l, "%s\"%s\":null", comma ? "," : "", key);
}

/* The plan being decided: the order's algorithm and slices, and what the
 * model predicts it costs. */
struct plan {
    int algo;
    uint32_t slices;
    int64_t duration_ns, display; /* fixed qty units */
    struct qts_tca_pred pred;     /* of the whole order (direct) or of one slice */
    double cost_bps;              /* predicted slippage vs arrival of the plan */
};

static void inputs_json(char *b, size_t n, const struct plan *pl, double qty, double edge,
                        double budget)
{
    snprintf(b, n, "{\"source\":\"%s\"", src_name(pl->pred.src));
    jnum(b, n, "confidence", pl->pred.confidence, true);
    jnum(b, n, "qty", qty, true);
    jnum(b, n, "recent_volume", pl->pred.volume, true);
    jnum(b, n, "spread_bps", pl->pred.spread_bps, true);
    jnum(b, n, "pred_impact_bps", pl->pred.impact_bps, true);
    jnum(b, n, "pred_cost_bps", pl->cost_bps, true);
    jnum(b, n, "slices", pl->algo == QTS_ALGO_DIRECT ? 1 : (double)pl->slices, true);
    jnum(b, n, "edge_bps", edge > 0 ? edge : NAN, true);
    jnum(b, n, "budget_bps", budget > 0 ? budget : NAN, true);
    size_t l = strlen(b);
    if (l + 2 < n)
        memcpy(b + l, "}", 2);
}

static void publish(struct qts_fb_decide *d, const struct qts_order_intent *asked,
                    const struct qts_order_intent *now, const struct qts_instrument *inst,
                    int64_t ts, const char *outcome, const char *reason, const char *inputs)
{
    if (!d->publish)
        return;
    struct qts_decision rec = {
        .ts_ns = ts,
        .intent = asked,
        .symbol = inst->symbol,
        .px_exp = inst->px_exp,
        .qty_exp = inst->qty_exp,
        .qty_decided = strcmp(outcome, "deferred") == 0 ? 0 : now->qty,
        .px_decided = now->px,
        .stage = "feedback",
        .outcome = outcome,
        .codes = "",
        .reason = reason,
        .inputs = inputs,
        .order_id = 0, /* decided before the pipeline numbers it */
    };
    d->publish(d->publish_ctx, &rec);
}

/* The cost of sending `qty` (instrument units) as `algo` in `slices`: the
 * key's own fit when it has one for that algorithm, else each slice as a
 * direct order of qty/slices against the same recent volume (the book is
 * assumed to refill between slices: ours, docs/feedback.md). */
static void plan_cost(const struct qts_fb_decide *d, const struct qts_order_intent *in, double qty,
                      struct plan *pl)
{
    if (pl->algo != QTS_ALGO_DIRECT) {
        qts_tca_predict(d->tca, in->instrument, in->side, pl->algo, qty, &pl->pred);
        if (pl->pred.src == QTS_IMPACT_SRC_KEY) {
            pl->cost_bps = pl->pred.slip_bps;
            return;
        }
    }
    double part = pl->algo == QTS_ALGO_DIRECT || pl->slices < 2 ? qty : qty / pl->slices;
    qts_tca_predict(d->tca, in->instrument, in->side, QTS_ALGO_DIRECT, part, &pl->pred);
    pl->cost_bps = pl->pred.slip_bps;
}

/* algo auto: direct while the predicted impact is small, else the fewest
 * slices that bring one slice's impact down to auto_direct_bps (at most
 * auto_max_slices, at most one per lot), spaced so that a slice is at most
 * auto_participation of the volume traded in its interval (1..60 s). */
static void choose_algo(const struct qts_fb_decide *d, const struct qts_order_intent *in,
                        const struct qts_instrument *inst, double qty, double qty_scale,
                        struct plan *pl)
{
    pl->algo = QTS_ALGO_DIRECT;
    pl->slices = 1;
    plan_cost(d, in, qty, pl);
    if (!(pl->pred.volume > 0) || !(pl->pred.impact_bps > d->p.auto_direct_bps))
        return;
    int64_t lot = inst->lot_size > 0 ? inst->lot_size : 1;
    int64_t lots = in->qty / lot;
    uint32_t n = 2, maxn = d->p.auto_max_slices;
    if ((int64_t)maxn > lots)
        maxn = (uint32_t)(lots > 1 ? lots : 1);
    if (maxn < 2)
        return;
    struct plan best = *pl;
    for (; n <= maxn; n++) {
        struct plan t = {.algo = in->type == QTS_ORD_LIMIT ? QTS_ALGO_ICEBERG : QTS_ALGO_TWAP,
                         .slices = n};
        plan_cost(d, in, qty, &t);
        best = t;
        if (t.pred.impact_bps <= d->p.auto_direct_bps)
            break;
    }
    *pl = best;
    double slice = qty / pl->slices;
    double rate = pl->pred.volume / d->p.window_s; /* units per second */
    double gap = rate > 0 ? slice / (d->p.auto_participation * rate) : 60;
    gap = gap < 1 ? 1 : gap > 60 ? 60 : gap;
    pl->duration_ns = (int64_t)(gap * pl->slices * 1e9);
    int64_t disp = (int64_t)floor(slice / qty_scale);
    pl->display = disp - disp % lot > 0 ? disp - disp % lot : lot;
}

int qts_fb_decide(struct qts_fb_decide *d, struct qts_order_intent *in, int64_t now)
{
    const struct qts_instrument *inst = qts_tca_instrument(d->tca, in->instrument);
    bool want_auto = in->algo == QTS_ALGO_AUTO;
    if (!inst) {
        if (want_auto)
            in->algo = QTS_ALGO_DIRECT;
        return 0;
    }
    const struct qts_order_intent asked = *in;
    double qscale = 1.0 / (double)qts_pow10_i64[inst->qty_exp <= QTS_MAX_EXP ? inst->qty_exp : 0];
    double qty = (double)in->qty * qscale;
    double edge = in->edge_bps > 0 ? (double)in->edge_bps : 0;
    double budget = budget_of(d, in->strategy_id);
    char inputs[512], reason[160];
    struct plan pl = {.algo = want_auto ? QTS_ALGO_DIRECT : in->algo, .slices = in->algo_slices};

    /* 1. the algorithm, when the strategy leaves it to the host */
    if (want_auto) {
        choose_algo(d, in, inst, qty, qscale, &pl);
        in->algo = (uint8_t)pl.algo;
        if (pl.algo != QTS_ALGO_DIRECT) {
            in->algo_slices = pl.slices;
            in->algo_duration_ns = pl.duration_ns;
            in->algo_display_qty = pl.algo == QTS_ALGO_ICEBERG ? pl.display : 0;
            snprintf(reason, sizeof reason, "algo auto: %s in %u slices over %.1f s",
                     pl.algo == QTS_ALGO_TWAP ? "twap" : "iceberg", pl.slices,
                     (double)pl.duration_ns / 1e9);
        } else {
            snprintf(reason, sizeof reason, "algo auto: direct");
        }
        inputs_json(inputs, sizeof inputs, &pl, qty, edge, budget);
        publish(d, &asked, in, inst, now, "adjusted", reason, inputs);
    } else {
        plan_cost(d, in, qty, &pl);
    }

    /* 2. the size, against the strategy's cost budget: the largest
     * quantity (in lots) whose predicted cost fits, by bisection (the cost
     * grows with the quantity) */
    if (budget > 0 && isfinite(pl.cost_bps) && pl.cost_bps > budget) {
        int64_t lot = inst->lot_size > 0 ? inst->lot_size : 1;
        int64_t minq = inst->min_qty > lot ? inst->min_qty : lot;
        int64_t lo = minq, hi = in->qty;
        while (hi - lo > lot) {
            int64_t mid = lo + (hi - lo) / 2;
            mid -= mid % lot;
            if (mid <= lo)
                break;
            struct plan t = pl;
            plan_cost(d, in, (double)mid * qscale, &t);
            if (t.cost_bps <= budget)
                lo = mid;
            else
                hi = mid;
        }
        if (lo < in->qty) {
            double before = pl.cost_bps;
            in->qty = lo;
            if (in->algo == QTS_ALGO_ICEBERG && in->algo_display_qty > in->qty)
                in->algo_display_qty = in->qty;
            qty = (double)lo * qscale;
            plan_cost(d, in, qty, &pl);
            snprintf(reason, sizeof reason,
                     "size cap: predicted cost %.2f bps above the budget %.2f bps", before, budget);
            inputs_json(inputs, sizeof inputs, &pl, qty, edge, budget);
            publish(d, &asked, in, inst, now, "shrunk", reason, inputs);
        }
    }

    /* 3. timing: not worth its cost now (only with a fitted law: the
     * defaults are no ground to hold an order back) */
    if (edge > 0 && pl.pred.src != QTS_IMPACT_SRC_DEFAULT && isfinite(pl.cost_bps) &&
        pl.cost_bps > edge) {
        snprintf(reason, sizeof reason, "deferred: predicted cost %.2f bps above the edge %.2f bps",
                 pl.cost_bps, edge);
        inputs_json(inputs, sizeof inputs, &pl, qty, edge, budget);
        publish(d, &asked, in, inst, now, "deferred", reason, inputs);
        QTS_DEBUG("feedback: order of strategy %u %s", in->strategy_id, reason);
        return QTS_EAGAIN;
    }

    /* 4. the price of a marketable limit: at least the predicted fill
     * price, so it takes what the model expects it to take */
    if (d->p.adjust_price && in->type == QTS_ORD_LIMIT && in->px > 0 &&
        pl.pred.src != QTS_IMPACT_SRC_DEFAULT && isfinite(pl.pred.mid) && pl.pred.tick > 0) {
        struct qts_tca_pred top;
        qts_tca_predict(d->tca, in->instrument, in->side, QTS_ALGO_DIRECT, 0, &top);
        double px = (double)in->px * (pl.pred.tick / (double)inst->tick_size);
        double half = isfinite(top.spread_bps) ? top.spread_bps / 2 : 0;
        bool buy = in->side == QTS_SIDE_BUY;
        double ask = pl.pred.mid * (1 + half / 1e4), bid = pl.pred.mid * (1 - half / 1e4);
        bool marketable = buy ? px >= ask : px <= bid;
        double want = pl.pred.mid * (1 + (buy ? 1 : -1) * pl.cost_bps / 1e4);
        if (marketable && isfinite(want) && (buy ? want > px : want < px)) {
            int64_t tick = inst->tick_size > 0 ? inst->tick_size : 1;
            int64_t p = llround(want / pl.pred.tick) * tick;
            p = buy ? qts_px_ceil_tick(p, tick) : qts_px_floor_tick(p, tick);
            if (p > 0 && p != in->px) {
                int64_t old = in->px;
                in->px = p;
                snprintf(reason, sizeof reason,
                         "marketable limit %" PRId64 " -> %" PRId64 " (predicted fill)", old, p);
                inputs_json(inputs, sizeof inputs, &pl, qty, edge, budget);
                publish(d, &asked, in, inst, now, "adjusted", reason, inputs);
            }
        }
    }
    return 0;
}

/* ------------------------------------------------------------- confidence */

bool qts_fb_decide_confidence(struct qts_fb_decide *d, struct qts_order_intent *in, int64_t now)
{
    if (!in->confidence_bp || !(in->edge_bps > 0))
        return false;
    const struct qts_instrument *inst = qts_tca_instrument(d->tca, in->instrument);
    if (!inst)
        return false;
    double qscale = 1.0 / (double)qts_pow10_i64[inst->qty_exp <= QTS_MAX_EXP ? inst->qty_exp : 0];
    double qty = (double)in->qty * qscale, edge = (double)in->edge_bps;
    /* the plan as asked; algo auto is judged as direct (its split is decided later) */
    struct plan pl = {.algo = in->algo == QTS_ALGO_AUTO ? QTS_ALGO_DIRECT : in->algo,
                      .slices = in->algo_slices};
    plan_cost(d, in, qty, &pl);
    /* the defaults are no ground to doubt the strategy (confidence 0) */
    if (pl.pred.src == QTS_IMPACT_SRC_DEFAULT || !isfinite(pl.cost_bps) || !(pl.cost_bps > 0) ||
        !(pl.pred.confidence > 0))
        return false;
    double share = fmin(pl.cost_bps / edge, 1.0);
    double c0 = (double)in->confidence_bp / 1e4;
    double c1 = c0 * (1.0 - pl.pred.confidence * share);
    long bp = lround(c1 * 1e4);
    if (bp < 1)
        bp = 1;
    if ((uint32_t)bp == in->confidence_bp)
        return false;
    const struct qts_order_intent asked = *in;
    in->confidence_bp = (uint32_t)bp;
    char reason[160], inputs[512];
    snprintf(reason, sizeof reason,
             "confidence %.4f -> %.4f: predicted cost %.2f bps of the edge %.2f bps, model "
             "confidence %.3f",
             c0, (double)bp / 1e4, pl.cost_bps, edge, pl.pred.confidence);
    inputs_json(inputs, sizeof inputs, &pl, qty, edge, budget_of(d, in->strategy_id));
    publish(d, &asked, in, inst, now, "adjusted", reason, inputs);
    return true;
}

const struct qts_order_intent *const *
qts_fb_decide_confidence_batch(struct qts_fb_decide *d, const struct qts_order_intent *const *in,
                               size_t n, int64_t now)
{
    bool any = false;
    for (size_t i = 0; i < n && !any; i++)
        any = in[i]->confidence_bp && in[i]->edge_bps > 0;
    if (!any)
        return in; /* the usual case: nothing to copy */
    if (n > d->adj_cap) {
        d->adj = qts_xrealloc(d->adj, n * sizeof *d->adj);
        d->adj_ptr = qts_xrealloc(d->adj_ptr, n * sizeof *d->adj_ptr);
        d->adj_cap = n;
    }
    for (size_t i = 0; i < n; i++) {
        d->adj[i] = *in[i];
        qts_fb_decide_confidence(d, &d->adj[i], now);
        d->adj_ptr[i] = &d->adj[i];
    }
    return d->adj_ptr;
}
