/* decide.c — see decide.h. One call decides one drain's intents: at most
 * a few dozen, so the pairwise scans below stay small; nothing is kept
 * between calls but the counters. */
#include "decide.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "pools.h"
#include "qts/qts_err.h"
#include "qts/qts_fixed.h"
#include "risk_limits.h"
#include "safety_codes.h"
#include "util.h"

/* An internal cross's fill ids: apart from any venue's, and still
 * positive in a store's signed 64-bit column. */
#define CROSS_FILL_ID_BASE (UINT64_C(1) << 62)

struct qts_decide {
    struct qts_decide_opts opts;
    struct qts_decide_env env;
    struct qts_pools *pools; /* borrowed; NULL = no pools */
    struct qts_decide_stats st;
    uint64_t next_fill_id;
};

/* Per intent, while one call runs. */
struct slot {
    const struct qts_order_intent *in; /* borrowed from the caller */
    int64_t qty;                       /* what still goes on */
    int64_t crossed;                   /* filled internally */
    int scope;                         /* enum qts_pool */
    bool done;                         /* answered: dropped, refused or fully crossed */
};

struct qts_decide *qts_decide_new(const struct qts_decide_opts *o, const struct qts_decide_env *env,
                                  struct qts_pools *pools)
{
    struct qts_decide *d = qts_xcalloc(1, sizeof *d);
    d->opts = *o;
    d->env = *env;
    d->pools = pools;
    d->next_fill_id = CROSS_FILL_ID_BASE + 1;
    return d;
}

void qts_decide_free(struct qts_decide *d) { free(d); }

void qts_decide_get_stats(const struct qts_decide *d, struct qts_decide_stats *out)
{
    *out = d->st;
}

static const char *side_name(int side) { return side == QTS_SIDE_BUY ? "buy" : "sell"; }

static void publish(struct qts_decide *d, const struct slot *s, const char *outcome,
                    const char *codes, const char *reason, const char *inputs, int64_t px)
{
    const struct qts_instrument *inst = d->env.instrument(d->env.ctx, s->in->instrument);
    struct qts_decision rec = {
        .ts_ns = d->env.now(d->env.ctx),
        .intent = s->in,
        .symbol = inst ? inst->symbol : "",
        .px_exp = inst ? inst->px_exp : 0,
        .qty_exp = inst ? inst->qty_exp : 0,
        .qty_decided = s->done ? 0 : s->qty,
        .px_decided = px,
        .stage = "decide",
        .outcome = outcome,
        .codes = codes,
        .reason = reason,
        .inputs = inputs,
        .order_id = s->done && !s->crossed ? 0 : s->in->order_id,
    };
    d->env.decision(d->env.ctx, &rec);
}

/* The strategy hears of an intent that never reaches the pipeline. */
static void order_event(struct qts_decide *d, const struct slot *s, int kind, int code,
                        int64_t filled, int64_t avg_px, const char *reason)
{
    const struct qts_instrument *inst = d->env.instrument(d->env.ctx, s->in->instrument);
    struct qts_order_event ev;
    memset(&ev, 0, sizeof ev);
    ev.h.struct_size = sizeof ev;
    ev.h.type = QTS_EV_ORDER;
    ev.h.instrument = s->in->instrument;
    ev.h.px_exp = inst ? inst->px_exp : 0;
    ev.h.qty_exp = inst ? inst->qty_exp : 0;
    ev.h.ts_exch_ns = ev.h.ts_recv_ns = d->env.now(d->env.ctx);
    ev.order_id = s->in->order_id;
    ev.strategy_id = s->in->strategy_id;
    ev.kind = (uint8_t)kind;
    ev.side = s->in->side;
    ev.state = kind == QTS_OE_COMPLETE ? QTS_OS_FILLED : QTS_OS_REJECTED;
    ev.code = code;
    ev.filled_qty = filled;
    ev.leaves_qty = kind == QTS_OE_COMPLETE ? 0 : s->in->qty;
    ev.avg_px = avg_px;
    qts_strlcpy(ev.reason, reason, sizeof ev.reason);
    memcpy(ev.tag, s->in->tag, sizeof ev.tag);
    d->env.order(d->env.ctx, &ev);
}

/* Refuse intent s: a REJECTED order event with `code`, a decision record. */
static void refuse(struct qts_decide *d, struct slot *s, const char *outcome, int code,
                   const char *reason, const char *inputs)
{
    s->done = true;
    s->qty = 0;
    const struct qts_safety_code_info *ci = qts_safety_code_info(code);
    char text[96];
    snprintf(text, sizeof text, "%s: %s", ci ? ci->str : "decide", reason);
    order_event(d, s, QTS_OE_REJECTED, ci ? ci->number : 0, 0, 0, text);
    publish(d, s, outcome, ci ? ci->str : "", reason, inputs, s->in->px);
}

static bool same_order(const struct qts_order_intent *a, const struct qts_order_intent *b)
{
    return a->strategy_id == b->strategy_id && a->instrument == b->instrument &&
           a->side == b->side && a->type == b->type && a->tif == b->tif && a->algo == b->algo &&
           a->px == b->px && a->qty == b->qty && strncmp(a->tag, b->tag, QTS_TAG_MAX) == 0;
}

/* May intent `in` trade at `px` internally? Direct market orders, and
 * limits that accept the price; never stops. */
static bool crossable(const struct qts_order_intent *in, int64_t px)
{
    if (in->algo != QTS_ALGO_DIRECT)
        return false;
    if (in->type == QTS_ORD_MARKET)
        return true;
    if (in->type != QTS_ORD_LIMIT)
        return false; /* a stop waits for its trigger: it never crosses now */
    return in->side == QTS_SIDE_BUY ? in->px >= px : in->px <= px;
}

/* Duplicates (a strategy asking the same order twice on one event: the
 * later ones are dropped) and conflicts (a strategy buying and selling one
 * instrument on one event, both at the decision price: both sides dropped,
 * GR030). A maker's bid and ask around the price are no conflict. */
static void drop_duplicates_and_conflicts(struct qts_decide *d, struct slot *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < i && !v[i].done; j++) {
            if (!same_order(v[i].in, v[j].in))
                continue;
            char why[96], inputs[96];
            snprintf(why, sizeof why, "duplicate of order %" PRIu64, v[j].in->order_id);
            snprintf(inputs, sizeof inputs, "{\"duplicate_of\":%" PRIu64 "}", v[j].in->order_id);
            d->st.dropped++;
            v[i].done = true;
            v[i].qty = 0;
            order_event(d, &v[i], QTS_OE_REJECTED, 0, 0, 0, why);
            publish(d, &v[i], "dropped", "", why, inputs, v[i].in->px);
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (v[i].done)
            continue;
        for (size_t j = i + 1; j < n; j++) {
            const struct qts_order_intent *a = v[i].in, *b = v[j].in;
            if (v[j].done || a->strategy_id != b->strategy_id || a->instrument != b->instrument ||
                a->side == b->side)
                continue;
            int64_t px = d->env.decision_px(d->env.ctx, a->instrument);
            if (px <= 0 || !crossable(a, px) || !crossable(b, px))
                continue;
            char why[96], inputs[96];
            snprintf(why, sizeof why, "orders %" PRIu64 " and %" PRIu64 " buy and sell at once",
                     a->order_id, b->order_id);
            snprintf(inputs, sizeof inputs, "{\"conflict\":[%" PRIu64 ",%" PRIu64 "]}", a->order_id,
                     b->order_id);
            d->st.conflicts++;
            d->st.dropped += 2;
            refuse(d, &v[i], "dropped", QTS_SC_GR030, why, inputs);
            refuse(d, &v[j], "dropped", QTS_SC_GR030, why, inputs);
            char msg[160];
            snprintf(msg, sizeof msg, "strategy %u: %s", a->strategy_id, why);
            d->env.safety(d->env.ctx, QTS_SC_GR030, msg);
            break;
        }
    }
}

/* One leg of a cross: a fill of the intent's own order id. */
static void book_leg(struct qts_decide *d, struct slot *s, int64_t qty, int64_t px,
                     const struct qts_instrument *inst)
{
    struct qts_fill f;
    memset(&f, 0, sizeof f);
    f.h.struct_size = sizeof f;
    f.h.type = QTS_EV_FILL;
    f.h.instrument = s->in->instrument;
    f.h.px_exp = inst->px_exp;
    f.h.qty_exp = inst->qty_exp;
    f.h.ts_exch_ns = f.h.ts_recv_ns = d->env.now(d->env.ctx);
    f.order_id = s->in->order_id;
    f.strategy_id = s->in->strategy_id;
    f.side = s->in->side;
    f.px = px;
    f.qty = qty;
    f.fee = 0; /* nothing reached a venue */
    f.fill_id = d->next_fill_id++;
    memcpy(f.tag, s->in->tag, sizeof f.tag);
    s->crossed += qty;
    s->qty -= qty;
    d->st.crosses++;
    d->env.fill(d->env.ctx, &f);
}

/* Net the opposite intents of one instrument and scope, starting from
 * v[first]: the overlap is crossed at the decision price, earlier intents
 * first on each side. */
static void net_group(struct qts_decide *d, struct slot *v, size_t n, size_t first)
{
    uint32_t inst_id = v[first].in->instrument;
    int scope = v[first].scope;
    int64_t px = d->env.decision_px(d->env.ctx, inst_id);
    const struct qts_instrument *inst = d->env.instrument(d->env.ctx, inst_id);
    if (px <= 0 || !inst)
        return;              /* no price to cross at: every intent goes on as asked */
    int64_t sum[2] = {0, 0}; /* buy, sell */
    for (size_t i = first; i < n; i++)
        if (!v[i].done && v[i].in->instrument == inst_id && v[i].scope == scope &&
            crossable(v[i].in, px))
            sum[v[i].in->side == QTS_SIDE_BUY ? 0 : 1] += v[i].qty;
    int64_t cross = sum[0] < sum[1] ? sum[0] : sum[1];
    if (cross <= 0)
        return;
    int64_t left[2] = {cross, cross};
    for (size_t i = first; i < n; i++) {
        struct slot *s = &v[i];
        if (s->done || s->in->instrument != inst_id || s->scope != scope || !crossable(s->in, px))
            continue;
        int k = s->in->side == QTS_SIDE_BUY ? 0 : 1;
        int64_t q = s->qty < left[k] ? s->qty : left[k];
        if (q <= 0)
            continue;
        left[k] -= q;
        book_leg(d, s, q, px, inst);
        d->st.netted++;
    }
    int64_t notional = qts_fixed_notional(px, inst->px_exp, cross, inst->qty_exp);
    d->st.cross_notional += notional;
    /* both legs would have paid the taker fee at the venue */
    d->st.fees_saved += (int64_t)((double)notional * 2.0 * d->opts.taker_fee_bps / 10000.0);
    /* and each market order would have crossed half the spread: the
     * simplest estimate of the impact the cross avoided */
    int64_t spread = d->env.spread ? d->env.spread(d->env.ctx, inst_id) : 0;
    if (spread > 0)
        d->st.impact_saved += qts_fixed_notional(spread, inst->px_exp, cross, inst->qty_exp);
    /* each crossed intent: its record, and a fully crossed one is complete */
    for (size_t i = first; i < n; i++) {
        struct slot *s = &v[i];
        if (!s->crossed || s->done || s->in->instrument != inst_id || s->scope != scope)
            continue;
        char why[128], inputs[192];
        snprintf(why, sizeof why, "%s crossed internally with opposite intents of scope %s",
                 side_name(s->in->side), qts_pool_name(scope));
        snprintf(inputs, sizeof inputs,
                 "{\"scope\":\"%s\",\"decision_px\":%" PRId64 ",\"crossed\":%" PRId64
                 ",\"buy_total\":%" PRId64 ",\"sell_total\":%" PRId64 "}",
                 qts_pool_name(scope), px, s->crossed, sum[0], sum[1]);
        if (s->qty == 0) {
            s->done = true;
            order_event(d, s, QTS_OE_COMPLETE, 0, s->crossed, px, "internal cross");
        }
        publish(d, s, "netted", "", why, inputs, s->in->px);
    }
}

/* The pools and the operating state on one intent that still goes on. */
static void apply_pools(struct qts_decide *d, struct slot *s)
{
    struct qts_pools *p = d->pools;
    char why[160], inputs[192];
    int state = qts_pools_state(p, s->scope);
    bool entry = qts_pools_is_entry(p, s->in->strategy_id, s->in->instrument, s->in->side);
    if (state == QTS_POOL_LOCKED || (state == QTS_POOL_PAUSED && entry)) {
        snprintf(why, sizeof why, "%s pool is %s", qts_pool_name(s->scope),
                 qts_pool_state_name(state));
        snprintf(inputs, sizeof inputs, "{\"pool\":\"%s\",\"pool_state\":\"%s\"}",
                 qts_pool_name(s->scope), qts_pool_state_name(state));
        d->st.refused++;
        refuse(d, s, "rejected", QTS_SC_GR061, why, inputs);
        return;
    }
    if (!entry)
        return; /* exits are never held back by thresholds or budgets */
    double conf = qts_intent_confidence(s->in);
    double thr = qts_pools_threshold(p);
    if (conf >= 0 && conf < thr) {
        snprintf(why, sizeof why, "confidence %.2f below the %s entry threshold %.2f", conf,
                 qts_op_state_name(qts_pools_op_state(p)), thr);
        snprintf(inputs, sizeof inputs,
                 "{\"confidence\":%.4f,\"threshold\":%.4f,\"operating_state\":\"%s\"}", conf, thr,
                 qts_op_state_name(qts_pools_op_state(p)));
        d->st.refused++;
        refuse(d, s, "rejected", QTS_SC_GR031, why, inputs);
        return;
    }
    if (!qts_pools_enabled(p))
        return;
    const struct qts_instrument *inst = d->env.instrument(d->env.ctx, s->in->instrument);
    int64_t px = s->in->type == QTS_ORD_LIMIT ? s->in->px
                                              : d->env.decision_px(d->env.ctx, s->in->instrument);
    if (!inst || px <= 0)
        return; /* PreCheck prices it (GR118 when it cannot) */
    int64_t avail = qts_pools_available(p, s->scope);
    int64_t need = qts_fixed_notional(px, inst->px_exp, s->qty, inst->qty_exp);
    if (need <= avail)
        return;
    /* the largest lot multiple that fits; none: PreCheck rejects (GR061) */
    int64_t unit = qts_fixed_notional(px, inst->px_exp, 1, inst->qty_exp);
    int64_t fit = unit > 0 && avail > 0 ? (int64_t)((__int128)s->qty * avail / need) : 0;
    int64_t lot = inst->lot_size > 0 ? inst->lot_size : 1;
    fit -= fit % lot;
    if (fit <= 0 || (inst->min_qty > 0 && fit < inst->min_qty))
        return;
    snprintf(why, sizeof why, "%s pool has %.2f available, order needed %.2f",
             qts_pool_name(s->scope), (double)avail / (double)qts_pow10_i64[QTS_CASH_EXP],
             (double)need / (double)qts_pow10_i64[QTS_CASH_EXP]);
    snprintf(inputs, sizeof inputs,
             "{\"pool\":\"%s\",\"available\":%" PRId64 ",\"needed\":%" PRId64
             ",\"asked_qty\":%" PRId64 "}",
             qts_pool_name(s->scope), avail, need, s->qty);
    s->qty = fit;
    d->st.shrunk++;
    publish(d, s, "shrunk", "GR061", why, inputs, s->in->px);
}

void qts_decide_run(struct qts_decide *d, const struct qts_order_intent *const *in, size_t n,
                    int *rc)
{
    struct slot small[16];
    struct slot *v = n <= 16 ? small : qts_xcalloc(n, sizeof *v);
    d->st.intents += n;
    for (size_t i = 0; i < n; i++) {
        v[i] = (struct slot){.in = in[i], .qty = in[i]->qty};
        v[i].scope = d->env.scope(d->env.ctx, in[i]->strategy_id);
        rc[i] = 0;
    }
    if (n > 1) {
        drop_duplicates_and_conflicts(d, v, n);
        if (d->opts.netting)
            for (size_t i = 0; i < n; i++) {
                if (v[i].done || v[i].crossed)
                    continue;
                bool seen = false; /* groups are netted once, from their first intent */
                for (size_t j = 0; j < i && !seen; j++)
                    seen = v[j].in->instrument == v[i].in->instrument && v[j].scope == v[i].scope;
                if (!seen)
                    net_group(d, v, n, i);
            }
    }
    for (size_t i = 0; i < n; i++) {
        struct slot *s = &v[i];
        if (!s->done && d->pools)
            apply_pools(d, s);
        if (s->done)
            continue;
        if (s->qty == s->in->qty) {
            d->st.passed++;
            rc[i] = d->env.submit(d->env.ctx, s->in);
            continue;
        }
        struct qts_order_intent rest = *s->in; /* the remainder, same order id */
        rest.qty = s->qty;
        rc[i] = d->env.submit(d->env.ctx, &rest);
    }
    if (v != small)
        free(v);
}
