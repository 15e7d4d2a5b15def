/* exec_pipeline.c — the pipeline's life cycle and entry points: submit
 * (PreCheck, OrderSplit, the first AsyncSend), cancel and escape, broker
 * reports and reconciliation, read-only views and the summary. The stages
 * themselves are in exec_*.c (exec_internal.h lists them); see
 * exec_pipeline.h and docs/execution.md. */
#include "exec_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec_split.h"
#include "log.h"
#include "util.h"

struct qts_exec *qts_exec_new(const struct qts_exec_params *params, const struct qts_exec_env *env)
{
    if (!env || !env->timers || !env->timers->ops)
        return NULL;
    struct qts_exec *x = qts_xcalloc(1, sizeof *x);
    if (params)
        x->params = *params;
    else
        qts_exec_params_default(&x->params);
    if (x->params.max_children == 0)
        x->params.max_children = 1;
    if (x->params.max_children > QTS_SPLIT_MAX)
        x->params.max_children = QTS_SPLIT_MAX;
    if (x->params.send_max_attempts == 0)
        x->params.send_max_attempts = 1;
    x->env = *env;
    x->oms = qts_oms_new(x->params.host_id);
    qts_oms_set_listener(x->oms, qts__exec_on_child, x);
    if (x->params.first_clordid_seq)
        qts_oms_set_first_seq(x->oms, x->params.first_clordid_seq);
    qts_oms_set_retention(x->oms, x->params.retain_orders, x->params.retain_ms * MS,
                          x->params.evict_tombstones);
    for (int i = 0; i < QTS_STAGE_COUNT; i++)
        qts_hdr_init(&x->hist[i]);
    struct qts_precheck_hook basic = {.name = "basic", .fn = qts__exec_basic_checks, .ctx = x};
    qts_exec_add_precheck(x, &basic);
    return x;
}

void qts_exec_free(struct qts_exec *x)
{
    if (!x)
        return;
    /* drop every armed timer, finished orders' too (a monitor or a retry
     * may outlive the order's end): their args point into the OMS */
    for (struct qts_parent *p = qts_oms_held_first(x->oms); p; p = p->all_next) {
        qts__exec_stop_all_timers(x, p);
    }
    QTS_INFO("exec orders held=%zu evicted=%llu late_fills_after_eviction=%llu",
             qts_oms_count(x->oms), (unsigned long long)qts_oms_evicted_total(x->oms),
             (unsigned long long)qts_oms_late_fills(x->oms));
    qts_oms_free(x->oms);
    free(x);
}

struct qts_oms *qts_exec_oms(struct qts_exec *x) { return x->oms; }

const struct qts_exec_params *qts_exec_params(const struct qts_exec *x) { return &x->params; }

bool qts_exec_has_working_orders(const struct qts_exec *x)
{
    return qts_oms_active_first(x->oms) != NULL || qts_oms_working_children(x->oms) > 0;
}

void qts_exec_set_port(struct qts_exec *x, const struct qts_broker_port *port)
{
    if (port)
        x->env.port = *port;
    else
        memset(&x->env.port, 0, sizeof x->env.port);
}

/* Evict a couple of finished orders per new order or report: amortised
 * O(1), and faster than orders arrive, so the store stays bounded. Only
 * at the outermost entry point: no stage holds a pointer then. */
static void evict_some(struct qts_exec *x)
{
    if (x->depth == 0)
        qts_oms_evict(x->oms, qts__exec_now_ns(x), 2);
}

static int submit_run(struct qts_exec *x, const struct qts_order_intent *intent, uint64_t *order_id,
                      struct qts_err *err);

int qts_exec_submit(struct qts_exec *x, const struct qts_order_intent *intent, uint64_t *order_id,
                    struct qts_err *err)
{
    evict_some(x);
    x->depth++;
    int rc = submit_run(x, intent, order_id, err);
    x->depth--;
    return rc;
}

static int submit_run(struct qts_exec *x, const struct qts_order_intent *intent, uint64_t *order_id,
                      struct qts_err *err)
{
    if (!intent)
        return qts_err_set(err, QTS_EINVAL, "no intent");
    const struct qts_instrument *inst =
        x->env.prov.instrument ? x->env.prov.instrument(x->env.prov.ctx, intent->instrument) : NULL;
    struct qts_parent *p = qts_oms_parent_new(x->oms, intent, inst);
    if (!p)
        return qts_err_set(err, QTS_EINVAL, "order id %llu not one the OMS gave strategy %u",
                           (unsigned long long)intent->order_id, intent->strategy_id);
    p->owner = x;
    p->ts_submit_ns = qts__exec_now_ns(x);
    if (order_id)
        *order_id = p->order_id;
    x->n_submitted++;

    /* PreCheck */
    int64_t t0 = qts_mono_ns();
    p->state = QTS_XS_PRECHECK;
    struct qts_mkt_ref ref;
    bool have_ref = qts__exec_market_ref(x, intent->instrument, &ref);
    struct qts_precheck_reject rej;
    const char *hook = "";
    int rc = qts__exec_run_hooks(x, &p->intent, inst, have_ref ? &ref : NULL, &rej, &hook);
    qts__exec_stage_time(x, p, QTS_STAGE_PRECHECK, qts_mono_ns() - t0);
    p->intent.order_id = p->order_id;
    if (qts_exec_state_final(p->state))
        return 0; /* a hook escaped it (e.g. an emergency during PreCheck) */
    if (rc != 0) {
        x->n_rejected++;
        char why[256];
        snprintf(why, sizeof why, "%s: %s", rej.code_str[0] ? rej.code_str : hook, rej.msg);
        if (rej.code == 91)
            qts__exec_safety(x, QTS_SC_FS091, "order=%llu %s", (unsigned long long)p->order_id,
                             rej.msg);
        qts__exec_finish(x, p, QTS_XS_FAILED, QTS_OE_REJECTED, rej.code ? rej.code : QTS_ERISK,
                         why);
        return qts_err_set(err, QTS_ERISK, "%s", why);
    }
    /* reference price for slippage: the limit, else the touch at arrival */
    bool buy = p->intent.side == QTS_SIDE_BUY;
    if (p->intent.type != QTS_ORD_MARKET) /* a limit, or a stop's trigger */
        p->ref_px = p->intent.px;
    else if (have_ref)
        p->ref_px = buy ? (ref.ask ? ref.ask : ref.last) : (ref.bid ? ref.bid : ref.last);
    if (p->ref_px > 0) {
        int64_t tick = p->inst.tick_size;
        double cap = x->params.max_slippage_pct;
        p->limit_cap_px = buy ? qts_px_floor_tick(qts__exec_step_px(p->ref_px, cap, 1), tick)
                              : qts_px_ceil_tick(qts__exec_step_px(p->ref_px, cap, 0), tick);
    }

    /* OrderSplit */
    t0 = qts_mono_ns();
    p->state = QTS_XS_SPLITTING;
    double prof[QTS_SPLIT_MAX];
    size_t n_prof = 0;
    const double *profile = x->params.vwap_profile;
    if (p->intent.algo == QTS_ALGO_VWAP && !profile && x->env.prov.recent_bars &&
        x->params.vwap_bars > 0) {
        struct qts_bar bars[QTS_SPLIT_MAX];
        size_t want = QTS_MIN((size_t)x->params.vwap_bars, (size_t)QTS_SPLIT_MAX);
        size_t nb = x->env.prov.recent_bars(x->env.prov.ctx, p->intent.instrument, bars, want);
        n_prof = qts_split_profile_from_bars(bars, QTS_MIN(nb, want), prof, QTS_SPLIT_MAX);
        profile = n_prof ? prof : NULL;
    } else if (profile) {
        n_prof = x->params.n_vwap_profile;
    }
    int64_t dur = p->intent.algo_duration_ns;
    if (dur <= 0 && (p->intent.algo == QTS_ALGO_TWAP || p->intent.algo == QTS_ALGO_VWAP))
        dur = x->params.algo_default_duration_ms * MS;
    struct qts_split_req sr = {.algo = p->intent.algo,
                               .qty = p->intent.qty,
                               .lot = p->inst.lot_size,
                               .duration_ns = dur,
                               .slices = p->intent.algo_slices,
                               .default_slices = x->params.twap_default_slices,
                               .display_qty = p->intent.algo_display_qty,
                               .max_children = x->params.max_children,
                               .profile = profile,
                               .n_profile = n_prof};
    struct qts_slice plan[QTS_SPLIT_MAX];
    int capped = 0;
    int n = qts_split_plan(&sr, plan, QTS_SPLIT_MAX, &capped);
    if (n > 0) {
        p->slices = qts_xmalloc((size_t)n * sizeof *p->slices);
        memcpy(p->slices, plan, (size_t)n * sizeof *p->slices);
    }
    qts__exec_stage_time(x, p, QTS_STAGE_SPLIT, qts_mono_ns() - t0);
    if (n <= 0) {
        x->n_rejected++;
        qts__exec_finish(x, p, QTS_XS_FAILED, QTS_OE_REJECTED, QTS_EINVAL, "split failed");
        return qts_err_set(err, QTS_ERISK, "split failed");
    }
    if (capped)
        qts__exec_safety(x, QTS_SC_GR060, "order=%llu split capped at %u children",
                         (unsigned long long)p->order_id, x->params.max_children);
    p->n_slices = (size_t)n;

    /* AsyncSend of what is due now */
    p->state = QTS_XS_SENDING;
    p->ts_stage_ns = qts__exec_now_ns(x);
    qts__exec_arm_stage(x, p, x->params.send_timeout_ms);
    qts__exec_arm_poll(x, p);
    qts__exec_send_due_slices(x, p);
    return 0;
}

/* No parent held under this id: evicted (it was final) or never ours. */
static int gone(const struct qts_exec *x, uint64_t order_id, const char *what)
{
    if (qts_oms_lookup(x->oms, order_id, NULL) == QTS_OMS_EVICTED) {
        QTS_DEBUG("%s order=%llu: evicted (final)", what, (unsigned long long)order_id);
        return QTS_ESTATE;
    }
    return QTS_ENOENT;
}

/* The parent under `order_id` when it is not final; else NULL with *rc
 * QTS_ESTATE (final or evicted) or QTS_ENOENT (never ours). */
static struct qts_parent *not_final(struct qts_exec *x, uint64_t order_id, const char *what,
                                    int *rc)
{
    struct qts_parent *p = qts_oms_find(x->oms, order_id);
    *rc = !p ? gone(x, order_id, what) : qts_exec_state_final(p->state) ? QTS_ESTATE : 0;
    return *rc ? NULL : p;
}

int qts_exec_cancel(struct qts_exec *x, uint64_t order_id, const char *reason)
{
    int rc;
    struct qts_parent *p = not_final(x, order_id, "cancel", &rc);
    if (!p)
        return rc;
    x->depth++;
    qts__exec_enter_cancel(x, p, reason ? reason : "cancelled by strategy", QTS_OE_CANCELLED);
    x->depth--;
    return 0;
}

int qts_exec_cancel_by(struct qts_exec *x, uint32_t strategy_id, uint64_t order_id,
                       const char *reason)
{
    struct qts_parent *p = qts_oms_find(x->oms, order_id);
    if (!p)
        return gone(x, order_id, "cancel");
    if (p->strategy_id != strategy_id)
        return QTS_EPERM;
    return qts_exec_cancel(x, order_id, reason);
}

int qts_exec_escape(struct qts_exec *x, uint64_t order_id, const char *reason)
{
    int rc;
    struct qts_parent *p = not_final(x, order_id, "escape", &rc);
    if (!p)
        return rc;
    if (p->state == QTS_XS_ESCAPING)
        return 0;
    x->depth++;
    qts__exec_enter_escape(x, p, reason ? reason : "manual escape");
    x->depth--;
    return 0;
}

static size_t for_each_active(struct qts_exec *x, bool all, uint32_t strategy_id, bool escape,
                              const char *reason)
{
    /* collect ids first: cancelling may finish parents (list changes) */
    size_t n = 0, cap = 64;
    uint64_t *ids = qts_xmalloc(cap * sizeof *ids);
    for (struct qts_parent *p = qts_oms_active_first(x->oms); p; p = qts_oms_active_next(p)) {
        if (!all && p->strategy_id != strategy_id)
            continue;
        if (n == cap) {
            cap *= 2;
            ids = qts_xrealloc(ids, cap * sizeof *ids);
        }
        ids[n++] = p->order_id;
    }
    size_t done = 0;
    for (size_t i = 0; i < n; i++) {
        int rc = escape ? qts_exec_escape(x, ids[i], reason) : qts_exec_cancel(x, ids[i], reason);
        if (rc == 0)
            done++;
    }
    free(ids);
    return done;
}

size_t qts_exec_cancel_strategy(struct qts_exec *x, uint32_t strategy_id, const char *reason)
{
    return for_each_active(x, false, strategy_id, false, reason ? reason : "strategy halted");
}

size_t qts_exec_escape_all(struct qts_exec *x, const char *reason)
{
    return for_each_active(x, true, 0, true, reason ? reason : "escape all");
}

int qts_exec_on_report(struct qts_exec *x, const struct qts_exec_report *rep)
{
    if (!rep)
        return QTS_EINVAL;
    evict_some(x);
    int64_t t0 = qts_mono_ns();
    struct qts_apply_result r;
    struct qts_child *ch = NULL;
    x->depth++;
    int rc = qts_oms_apply_report(x->oms, rep, &ch, &r);
    if (rc == 0 && (r.flags & QTS_APPLY_EVICTED) && (r.flags & QTS_APPLY_FILL))
        qts__exec_emit_evicted_fill(x, rep, &r);
    x->depth--;
    QTS_DEBUG("report clordid=%s type=%u rc=%d flags=%#x %u->%u code=%d", rep->client_order_id,
              rep->exec_type, rc, r.flags, r.from, r.to, rep->code);
    if (rc == QTS_ENOENT) {
        x->n_unknown_reports++;
        QTS_WARN("report for unknown clordid=%s type=%u", rep->client_order_id, rep->exec_type);
    } else if (rc == 0 && (r.flags & (QTS_APPLY_DUP | QTS_APPLY_COVERED))) {
        x->n_dup_reports++;
    }
    /* the order's own total: a report that finished the order arrives after
     * its final event, so its row lacks that last report's time */
    struct qts_parent *owner = rc == 0 && ch && !(r.flags & QTS_APPLY_EVICTED) ? ch->parent : NULL;
    qts__exec_stage_time(x, owner, QTS_STAGE_REPORT, qts_mono_ns() - t0);
    return rc;
}

static void on_recon_diff(void *ctx, const struct qts_recon_diff *d)
{
    struct qts_exec *x = ctx;
    if (d->kind == QTS_RECON_POSITION && !x->recon_adopts_positions)
        qts__exec_safety(x, QTS_SC_FS070, "position differs inst=%u ours=%lld broker=%lld",
                         d->instrument, (long long)d->ours, (long long)d->theirs);
    if (x->env.sink.on_recon)
        x->env.sink.on_recon(x->env.sink.ctx, d);
}

static int reconcile(struct qts_exec *x, bool adopting)
{
    x->recon_adopts_positions = adopting;
    x->depth++;
    int rc = qts_oms_recon_begin(x->oms, &x->env.port, on_recon_diff, x);
    x->depth--;
    return rc;
}

int qts_exec_reconcile(struct qts_exec *x) { return reconcile(x, false); }

int qts_exec_reconcile_adopting(struct qts_exec *x) { return reconcile(x, true); }

int qts_exec_on_position(struct qts_exec *x, const struct qts_broker_position *pos)
{
    return qts_oms_recon_position(x->oms, pos);
}

int qts_exec_on_query_done(struct qts_exec *x, uint64_t req_id, int status)
{
    x->depth++;
    int rc = qts_oms_recon_done(x->oms, req_id, status);
    x->depth--;
    return rc;
}

const struct qts_parent *qts_exec_order(const struct qts_exec *x, uint64_t order_id)
{
    return qts_oms_find(x->oms, order_id);
}

enum qts_oms_lookup qts_exec_order_lookup(const struct qts_exec *x, uint64_t order_id,
                                          const struct qts_parent **out)
{
    struct qts_parent *p = NULL;
    enum qts_oms_lookup k = qts_oms_lookup(x->oms, order_id, &p);
    if (out)
        *out = p;
    return k;
}

int qts_exec_pin(struct qts_exec *x, uint64_t order_id) { return qts_oms_pin(x->oms, order_id); }

void qts_exec_unpin(struct qts_exec *x, uint64_t order_id) { qts_oms_unpin(x->oms, order_id); }

const struct qts_hdr_hist *qts_exec_hist(const struct qts_exec *x, int stage)
{
    if (stage < 0 || stage >= QTS_STAGE_COUNT)
        return NULL;
    return &x->hist[stage];
}

int qts_exec_summary_json(const struct qts_exec *x, char *buf, size_t cap)
{
    size_t off = 0;
    int total = 0;
#define PUT(...)                                                                                  \
    do {                                                                                          \
        int k_ = snprintf(buf + (off < cap ? off : cap), off < cap ? cap - off : 0, __VA_ARGS__); \
        if (k_ > 0) {                                                                             \
            off += (size_t)k_;                                                                    \
            total += k_;                                                                          \
        }                                                                                         \
    } while (0)
    PUT("{\"orders\":{\"submitted\":%llu,\"rejected\":%llu,\"complete\":%llu,"
        "\"partial\":%llu,\"cancelled\":%llu,\"escaped\":%llu,\"failed\":%llu,"
        "\"send_retries\":%llu,\"duplicate_reports\":%llu,\"unknown_reports\":%llu},"
        "\"latency_ns\":{",
        (unsigned long long)x->n_submitted, (unsigned long long)x->n_rejected,
        (unsigned long long)x->n_complete, (unsigned long long)x->n_partial,
        (unsigned long long)x->n_cancelled, (unsigned long long)x->n_escaped,
        (unsigned long long)x->n_failed, (unsigned long long)x->n_retries,
        (unsigned long long)x->n_dup_reports, (unsigned long long)x->n_unknown_reports);
    for (int i = 0; i < QTS_STAGE_COUNT; i++) {
        char h[256];
        qts_hdr_json(&x->hist[i], h, sizeof h);
        PUT("%s\"%s\":%s", i ? "," : "", qts_exec_stage_name(i), h);
    }
    PUT("}}");
#undef PUT
    if (cap)
        buf[off < cap ? off : cap - 1] = '\0';
    return total;
}
