/* exec_pipeline.c — see exec_pipeline.h and docs/execution.md. */
#include "exec_pipeline.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec_split.h"
#include "log.h"
#include "util.h"

#define MS (INT64_C(1000000))
#define MAX_HOOKS 16

struct qts_exec {
    struct qts_exec_params params;
    struct qts_exec_env env;
    struct qts_oms *oms;
    struct qts_precheck_hook hooks[MAX_HOOKS];
    size_t n_hooks;
    struct qts_hdr_hist hist[QTS_STAGE_COUNT];
    uint64_t n_submitted, n_rejected, n_complete, n_partial, n_escaped, n_failed,
        n_cancelled, n_retries, n_dup_reports, n_unknown_reports;
    uint64_t event_seq;
    int depth; /* entry points on the stack: eviction only at depth 0 */
};

int qts_exec_params_validate(const struct qts_exec_params *p, struct qts_err *err)
{
#define NEED(cond, ...)                                                        \
    do {                                                                       \
        if (!(cond))                                                           \
            return qts_err_set(err, QTS_ECONFIG, __VA_ARGS__);                 \
    } while (0)
    NEED(p->host_id[0] && strlen(p->host_id) < sizeof p->host_id && !strchr(p->host_id, '-'),
         "exec.host_id: 1..15 characters, no '-'");
    NEED(p->send_timeout_ms > 0, "exec.send_timeout_ms: must be > 0");
    NEED(p->ack_timeout_ms > 0, "exec.ack_timeout_ms: must be > 0");
    NEED(p->send_max_attempts >= 1 && p->send_max_attempts <= 10,
         "exec.send_max_attempts: 1..10");
    NEED(p->send_backoff_ms >= 0, "exec.send_backoff_ms: must be >= 0");
    NEED(p->monitor_timeout_ms > 0, "exec.monitor_timeout_ms: must be > 0");
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
    NEED(p->max_children >= 1 && p->max_children <= QTS_SPLIT_MAX,
         "exec.max_children: 1..%d", QTS_SPLIT_MAX);
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
    memset(p, 0, sizeof *p);
    qts_strlcpy(p->host_id, "qts", sizeof p->host_id);
    p->send_timeout_ms = 10000;
    p->ack_timeout_ms = 3000;
    p->send_max_attempts = 3;
    p->send_backoff_ms = 100;
    p->monitor_timeout_ms = 60000;
    p->poll_interval_ms = 100;
    p->adjust_step_pct = 0.001;
    p->adjust_max_rounds = 3;
    p->adjust_interval_ms = 1000;
    p->adjust_timeout_ms = 30000;
    p->adjust_fill_prob = 0.5;
    p->max_slippage_pct = 0.005;
    p->escape_timeout_ms = 30000;
    p->escape_flatten = true;
    p->flatten_max_attempts = 3;
    p->max_children = 10;
    p->twap_default_slices = 5;
    p->algo_default_duration_ms = 30000;
    p->vwap_bars = 10;
    p->vwap_profile = NULL;
    p->n_vwap_profile = 0;
    p->price_band_pct = 0.05;
    p->max_ref_age_ms = 100;
    p->shrink_to_cash = true;
    p->retain_orders = 10000;
    p->retain_ms = 60000;
    p->evict_tombstones = 65536;
}

const char *qts_exec_stage_name(int stage)
{
    static const char *const names[] = {"precheck", "split", "send", "report",
                                        "adjust", "escape", "ack", "fill"};
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

/* ---------------------------------------------------------------- helpers */

static int64_t now_ns(const struct qts_exec *x)
{
    return qts_timer_svc_now(x->env.timers);
}

static int64_t event_ns(const struct qts_exec *x)
{
    return x->env.clock ? qts_clock_now(x->env.clock) : now_ns(x);
}

static void safety(struct qts_exec *x, const char *code, bool trip, const char *fmt, ...)
    QTS_PRINTF(4, 5);
static void safety(struct qts_exec *x, const char *code, bool trip, const char *fmt, ...)
{
    char msg[192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    QTS_WARN("exec safety code=%s trip=%d %s", code, trip ? 1 : 0, msg);
    if (x->env.sink.on_safety)
        x->env.sink.on_safety(x->env.sink.ctx, code, trip, msg);
}

static bool market_ref(struct qts_exec *x, uint32_t inst, struct qts_mkt_ref *ref)
{
    memset(ref, 0, sizeof *ref);
    if (!x->env.prov.market)
        return false;
    return x->env.prov.market(x->env.prov.ctx, inst, ref) == 0;
}

static uint8_t opposite(uint8_t side)
{
    return side == QTS_SIDE_BUY ? QTS_SIDE_SELL : QTS_SIDE_BUY;
}

static void stop_timer(struct qts_exec *x, uint64_t *id)
{
    if (*id) {
        qts_timer_svc_stop(x->env.timers, *id);
        *id = 0;
    }
}

static void start_timer(struct qts_exec *x, uint64_t *id, int64_t delay_ns,
                        qts_timer_fn cb, void *arg)
{
    stop_timer(x, id);
    if (qts_timer_svc_start(x->env.timers, delay_ns, cb, arg, id) < 0)
        *id = 0;
}

/* Parent state as the child-state enum the strategy event carries. */
static uint8_t parent_order_state(const struct qts_parent *p)
{
    switch (p->state) {
    case QTS_XS_COMPLETE:
        return p->partial ? QTS_OS_CANCELLED : QTS_OS_FILLED;
    case QTS_XS_ESCAPED:
        return QTS_OS_CANCELLED;
    case QTS_XS_FAILED:
        return QTS_OS_REJECTED;
    case QTS_XS_INIT:
    case QTS_XS_PRECHECK:
    case QTS_XS_SPLITTING:
        return QTS_OS_NEW;
    case QTS_XS_SENDING:
        return QTS_OS_PENDING_SEND;
    case QTS_XS_CANCELLING:
    case QTS_XS_ESCAPING:
        return QTS_OS_CANCEL_PENDING;
    default:
        return p->filled_qty > 0 ? QTS_OS_PARTIALLY_FILLED : QTS_OS_ACCEPTED;
    }
}

static void emit_order(struct qts_exec *x, const struct qts_parent *p, uint8_t kind)
{
    if (!x->env.sink.on_order)
        return;
    struct qts_order_event ev;
    memset(&ev, 0, sizeof ev);
    ev.h.struct_size = sizeof ev;
    ev.h.type = QTS_EV_ORDER;
    ev.h.px_exp = p->inst.px_exp;
    ev.h.qty_exp = p->inst.qty_exp;
    ev.h.instrument = p->intent.instrument;
    ev.h.ts_exch_ns = ev.h.ts_recv_ns = event_ns(x);
    ev.h.seq = ++x->event_seq;
    ev.order_id = p->order_id;
    ev.strategy_id = p->strategy_id;
    ev.kind = kind;
    ev.side = p->intent.side;
    ev.state = parent_order_state(p);
    ev.code = p->code;
    ev.filled_qty = p->filled_qty;
    ev.leaves_qty = qts_exec_state_final(p->state) ? 0 : qts_parent_leaves(p);
    ev.avg_px = qts_parent_avg_px(p);
    qts_strlcpy(ev.reason, p->reason, sizeof ev.reason);
    qts_strlcpy(ev.tag, p->intent.tag, sizeof ev.tag);
    x->env.sink.on_order(x->env.sink.ctx, &ev);
}

static void emit_fill(struct qts_exec *x, const struct qts_child *c,
                      const struct qts_apply_result *r)
{
    if (!x->env.sink.on_fill)
        return;
    const struct qts_parent *p = c->parent;
    struct qts_fill f;
    memset(&f, 0, sizeof f);
    f.h.struct_size = sizeof f;
    f.h.type = QTS_EV_FILL;
    f.h.px_exp = p->inst.px_exp;
    f.h.qty_exp = p->inst.qty_exp;
    f.h.instrument = c->instrument;
    f.h.ts_recv_ns = event_ns(x);
    f.h.ts_exch_ns = r->ts_venue_ns ? r->ts_venue_ns : f.h.ts_recv_ns;
    f.h.seq = ++x->event_seq;
    f.order_id = p->order_id;
    f.strategy_id = p->strategy_id;
    f.side = c->side;
    f.is_maker = r->is_maker;
    f.px = r->fill_px;
    f.qty = r->fill_qty;
    f.fee = r->fill_fee;
    f.fill_id = r->fill_id;
    qts_strlcpy(f.tag, p->intent.tag, sizeof f.tag);
    x->env.sink.on_fill(x->env.sink.ctx, &f);
}

static void stop_parent_timers(struct qts_exec *x, struct qts_parent *p)
{
    stop_timer(x, &p->timer_stage);
    stop_timer(x, &p->timer_slice);
    stop_timer(x, &p->timer_adjust);
    stop_timer(x, &p->timer_poll);
}

static void finish(struct qts_exec *x, struct qts_parent *p, int state, uint8_t kind,
                   int32_t code, const char *reason)
{
    if (qts_exec_state_final(p->state))
        return;
    stop_parent_timers(x, p);
    for (size_t i = 0; i < p->n_children; i++) {
        stop_timer(x, &p->children[i]->timer_ack);
        stop_timer(x, &p->children[i]->timer_retry);
    }
    p->state = (uint8_t)state;
    p->code = code;
    p->ts_final_ns = now_ns(x);
    if (reason)
        qts_strlcpy(p->reason, reason, sizeof p->reason);
    qts_oms_parent_finished(x->oms, p);
    switch (state) {
    case QTS_XS_COMPLETE:
        if (kind == QTS_OE_CANCELLED)
            x->n_cancelled++;
        else if (p->partial)
            x->n_partial++;
        else
            x->n_complete++;
        if (!p->partial)
            qts_hdr_record(&x->hist[QTS_STAGE_FILL], p->ts_final_ns - p->ts_submit_ns);
        break;
    case QTS_XS_ESCAPED: x->n_escaped++; break;
    default: x->n_failed++; break;
    }
    QTS_DEBUG("order final id=%llu state=%s filled=%lld/%lld reason=%s",
             (unsigned long long)p->order_id, qts_exec_state_name(state),
             (long long)p->filled_qty, (long long)p->intent.qty, p->reason);
    emit_order(x, p, kind);
}

/* ------------------------------------------------------------ PreCheck */

static int reject(struct qts_precheck_reject *rej, int32_t code, const char *code_str,
                  const char *fmt, ...) QTS_PRINTF(4, 5);
static int reject(struct qts_precheck_reject *rej, int32_t code, const char *code_str,
                  const char *fmt, ...)
{
    va_list ap;
    rej->code = code;
    qts_strlcpy(rej->code_str, code_str, sizeof rej->code_str);
    va_start(ap, fmt);
    vsnprintf(rej->msg, sizeof rej->msg, fmt, ap);
    va_end(ap);
    return QTS_ERISK;
}

/* Cash for `qty` at `px`, in QTS_CASH_EXP units, rounded up. */
static qts_i128 cash_cost(int64_t px, int64_t qty, unsigned px_exp, unsigned qty_exp)
{
    qts_i128 v = (qts_i128)px * qty;
    int e = (int)px_exp + (int)qty_exp - QTS_CASH_EXP;
    if (e > 0) {
        qts_i128 d = qts_pow10_i64[e > QTS_MAX_EXP ? QTS_MAX_EXP : e];
        return (v + d - 1) / d;
    }
    if (e < 0)
        v *= qts_pow10_i64[-e > QTS_MAX_EXP ? QTS_MAX_EXP : -e];
    return v;
}

static int basic_checks(void *ctx, struct qts_precheck_order *o,
                        struct qts_precheck_reject *rej)
{
    struct qts_exec *x = ctx;
    struct qts_order_intent *in = o->intent;
    const struct qts_instrument *inst = o->inst;
    if (in->side != QTS_SIDE_BUY && in->side != QTS_SIDE_SELL)
        return reject(rej, QTS_EINVAL, "G_EXE", "invalid side %u", in->side);
    if (in->type != QTS_ORD_MARKET && in->type != QTS_ORD_LIMIT)
        return reject(rej, QTS_EINVAL, "G_EXE", "invalid order type %u", in->type);
    if (in->algo > QTS_ALGO_ICEBERG)
        return reject(rej, QTS_EINVAL, "G_EXE", "invalid algo %u", in->algo);
    if (in->qty <= 0)
        return reject(rej, QTS_EINVAL, "G_EXE", "G_EXE_QTY_NONPOSITIVE qty=%lld",
                      (long long)in->qty);
    if (!inst)
        return reject(rej, 91, "FS091", "unknown instrument %u", in->instrument);
    if (!x->env.port.ops)
        return reject(rej, QTS_ECLOSED, "G_EXE", "BROKER_DISCONNECTED: no broker");
    /* lot: round the quantity down, never up */
    if (inst->lot_size > 1)
        in->qty -= in->qty % inst->lot_size;
    if (in->qty <= 0 || in->qty < inst->min_qty)
        return reject(rej, QTS_EINVAL, "G_EXE", "qty below lot/min qty (lot=%lld min=%lld)",
                      (long long)inst->lot_size, (long long)inst->min_qty);
    /* tick: round a limit to the passive side, never more aggressive */
    if (in->type == QTS_ORD_LIMIT) {
        if (in->px <= 0)
            return reject(rej, QTS_EINVAL, "G_EXE", "limit order without a price");
        in->px = in->side == QTS_SIDE_BUY ? qts_px_floor_tick(in->px, inst->tick_size)
                                          : qts_px_ceil_tick(in->px, inst->tick_size);
        if (in->px <= 0)
            return reject(rej, QTS_EINVAL, "G_EXE", "limit price below one tick");
    }
    const struct qts_mkt_ref *ref = o->ref;
    int64_t refpx = 0;
    if (ref) {
        refpx = ref->last;
        if (ref->bid > 0 && ref->ask > 0)
            refpx = ref->bid + (ref->ask - ref->bid) / 2;
        /* a reference without a time stamp (ts_ns 0) cannot be aged */
        if (o->params->max_ref_age_ms > 0 && ref->ts_ns > 0 &&
            o->now_ns - ref->ts_ns > o->params->max_ref_age_ms * MS)
            return reject(rej, 10, "AN010", "reference price stale (%lld ms)",
                          (long long)((o->now_ns - ref->ts_ns) / MS));
    }
    /* price band against the reference */
    if (in->type == QTS_ORD_LIMIT && refpx > 0 && o->params->price_band_pct > 0) {
        double dev = fabs((double)(in->px - refpx)) / (double)refpx;
        if (dev > o->params->price_band_pct)
            return reject(rej, 65, "GR065",
                          "limit %.2f%% away from reference (band %.2f%%)", dev * 100.0,
                          o->params->price_band_pct * 100.0);
    }
    /* cash for buys */
    if (in->side == QTS_SIDE_BUY && x->env.prov.cash_available) {
        int64_t px = in->type == QTS_ORD_LIMIT ? in->px : 0;
        if (!px && ref)
            px = ref->ask > 0 ? ref->ask : ref->last;
        if (px > 0) {
            int64_t cash = x->env.prov.cash_available(x->env.prov.ctx, in->strategy_id);
            qts_i128 cost = cash_cost(px, in->qty, inst->px_exp, inst->qty_exp);
            if (cost > cash) {
                int64_t fit = 0;
                if (o->params->shrink_to_cash && cash > 0) {
                    /* largest lot multiple that fits */
                    int64_t lot = inst->lot_size > 1 ? inst->lot_size : 1;
                    int64_t lo = 0, hi = in->qty / lot;
                    while (lo < hi) {
                        int64_t mid = lo + (hi - lo + 1) / 2;
                        if (cash_cost(px, mid * lot, inst->px_exp, inst->qty_exp) <= cash)
                            lo = mid;
                        else
                            hi = mid - 1;
                    }
                    fit = lo * lot;
                }
                if (fit <= 0 || fit < inst->min_qty)
                    return reject(rej, 61, "GR061", "insufficient cash");
                QTS_DEBUG("precheck shrink qty=%lld->%lld reason=cash",
                         (long long)in->qty, (long long)fit);
                in->qty = fit;
            }
        }
    }
    return 0;
}

/* ------------------------------------------------------------- AsyncSend */

static void child_ack_timeout(void *arg);
static void child_retry(void *arg);
static void evaluate(struct qts_exec *x, struct qts_parent *p);

static bool transport_error(int rc)
{
    return rc == QTS_ENET || rc == QTS_ETIMEDOUT || rc == QTS_EAGAIN ||
           rc == QTS_ERATELIMIT || rc == QTS_EBUSY || rc == QTS_ECLOSED;
}

/* Hand a child to the broker (first attempt or a retry with the same
 * client order id). Never blocks: submit only hands the order over. */
static void send_child(struct qts_exec *x, struct qts_child *c)
{
    struct qts_parent *p = c->parent;
    int64_t t0 = qts_mono_ns();
    if (c->state == QTS_OS_NEW || c->state == QTS_OS_UNKNOWN)
        qts_child_set_state(c, QTS_OS_PENDING_SEND);
    if (c->state != QTS_OS_PENDING_SEND)
        return;
    struct qts_broker_order o;
    memset(&o, 0, sizeof o);
    o.struct_size = sizeof o;
    o.instrument = c->instrument;
    qts_strlcpy(o.symbol, p->inst.symbol, sizeof o.symbol);
    qts_strlcpy(o.client_order_id, c->client_order_id, sizeof o.client_order_id);
    o.side = c->side;
    o.type = c->type;
    o.tif = c->tif;
    o.px_exp = p->inst.px_exp;
    o.qty_exp = p->inst.qty_exp;
    o.px = c->type == QTS_ORD_LIMIT ? c->px : 0;
    o.qty = c->qty;
    o.ts_sent_ns = event_ns(x);
    c->send_attempts++;
    if (c->send_attempts > 1)
        x->n_retries++;
    if (!c->ts_first_send_ns)
        c->ts_first_send_ns = now_ns(x);
    int rc = x->env.port.ops ? x->env.port.ops->submit(x->env.port.self, &o) : QTS_ECLOSED;
    qts_hdr_record(&x->hist[QTS_STAGE_SEND], qts_mono_ns() - t0);
    if (rc == 0) {
        if (c->state == QTS_OS_PENDING_SEND)
            start_timer(x, &c->timer_ack, x->params.ack_timeout_ms * MS,
                        child_ack_timeout, c);
        return;
    }
    QTS_WARN("send failed clordid=%s attempt=%u rc=%s", c->client_order_id,
             c->send_attempts, qts_err_name(rc));
    if (transport_error(rc) && c->send_attempts < x->params.send_max_attempts) {
        /* nothing was handed over: retry with the same client order id */
        start_timer(x, &c->timer_retry, x->params.send_backoff_ms * MS, child_retry, c);
        return;
    }
    /* deterministic reject, or attempts used up: this child never reached
     * the venue */
    qts_child_set_state(c, QTS_OS_REJECTED);
    p->send_failures++;
    evaluate(x, p);
}

static void child_retry_run(void *arg)
{
    struct qts_child *c = arg;
    struct qts_exec *x = c->parent->owner;
    c->timer_retry = 0;
    if (qts_exec_state_final(c->parent->state))
        return;
    if (c->state == QTS_OS_UNKNOWN && qts_oms_recon_active(x->oms)) {
        /* the broker is telling us what it has: wait for the answer */
        start_timer(x, &c->timer_retry, x->params.send_backoff_ms * MS, child_retry, c);
        return;
    }
    if (c->state == QTS_OS_PENDING_SEND || c->state == QTS_OS_UNKNOWN)
        send_child(x, c);
}

static void child_ack_timeout_run(void *arg)
{
    struct qts_child *c = arg;
    struct qts_parent *p = c->parent;
    struct qts_exec *x = p->owner;
    c->timer_ack = 0;
    if (c->state != QTS_OS_PENDING_SEND)
        return;
    /* A timeout is unknown, not failed: the order may be live. */
    qts_child_set_state(c, QTS_OS_UNKNOWN);
    safety(x, "FS042", false, "no ack clordid=%s after %lld ms attempt=%u",
           c->client_order_id, (long long)x->params.ack_timeout_ms, c->send_attempts);
    if (c->send_attempts < x->params.send_max_attempts) {
        /* ask the broker what it has, then resend under the same id */
        if (!qts_oms_recon_active(x->oms))
            qts_exec_reconcile(x);
        start_timer(x, &c->timer_retry, x->params.send_backoff_ms * MS, child_retry, c);
    } else {
        /* give up on it, but make sure it cannot fill unnoticed later */
        if (x->env.port.ops)
            x->env.port.ops->cancel(x->env.port.self, c->client_order_id,
                                    c->venue_order_id);
        qts_child_set_state(c, QTS_OS_CANCEL_PENDING);
        p->send_failures++;
        evaluate(x, p);
    }
}

static void cancel_child(struct qts_exec *x, struct qts_child *c)
{
    stop_timer(x, &c->timer_retry);
    if (c->state == QTS_OS_NEW) {
        qts_child_set_state(c, QTS_OS_REJECTED); /* never sent */
        return;
    }
    if (!qts_order_state_working(c->state) || c->state == QTS_OS_CANCEL_PENDING)
        return;
    if (x->env.port.ops)
        x->env.port.ops->cancel(x->env.port.self, c->client_order_id, c->venue_order_id);
    qts_child_set_state(c, QTS_OS_CANCEL_PENDING);
}

/* --------------------------------------------------------- slices, stages */

static void slice_due(void *arg);
static void stage_timeout(void *arg);
static void adjust_tick(void *arg);
static void poll_tick(void *arg);
static void enter_escape(struct qts_exec *x, struct qts_parent *p, const char *reason);

static struct qts_child *new_slice_child(struct qts_exec *x, struct qts_parent *p,
                                         int64_t qty, int64_t px)
{
    struct qts_child *c = qts_oms_child_new(x->oms, p, QTS_CHILD_SLICE, p->intent.side,
                                            p->intent.type, px, qty);
    c->slice = (uint16_t)(p->next_slice + 1);
    return c;
}

/* A broker that cannot push is asked periodically while anything of this
 * order may still change at the venue. */
static void arm_poll(struct qts_exec *x, struct qts_parent *p)
{
    if (x->env.port.cannot_push && x->params.poll_interval_ms > 0 && !p->timer_poll)
        start_timer(x, &p->timer_poll, x->params.poll_interval_ms * MS, poll_tick, p);
}

static void arm_monitor(struct qts_exec *x, struct qts_parent *p)
{
    start_timer(x, &p->timer_stage, x->params.monitor_timeout_ms * MS, stage_timeout, p);
    arm_poll(x, p);
}

/* Send every slice whose time has come; arm the timer for the next one. */
static void send_due_slices(struct qts_exec *x, struct qts_parent *p)
{
    int64_t elapsed = now_ns(x) - p->ts_submit_ns;
    bool sent_any = false;
    while (p->next_slice < p->n_slices) {
        struct qts_slice *s = &p->slices[p->next_slice];
        if (p->intent.algo == QTS_ALGO_ICEBERG) {
            /* one chunk shown at a time: the next after this one fills */
            bool working = false;
            for (size_t i = 0; i < p->n_children; i++)
                working |= p->children[i]->role == QTS_CHILD_SLICE &&
                           !qts_order_state_final(p->children[i]->state);
            if (working)
                break;
        } else if (s->offset_ns > elapsed) {
            start_timer(x, &p->timer_slice, s->offset_ns - elapsed, slice_due, p);
            break;
        }
        struct qts_child *c = new_slice_child(x, p, s->qty, p->intent.px);
        s->sent = 1;
        p->next_slice++;
        sent_any = true;
        send_child(x, c);
        if (qts_exec_state_final(p->state) || p->state == QTS_XS_ESCAPING ||
            p->state == QTS_XS_CANCELLING)
            return;
    }
    /* the monitor window runs from the last slice sent (once repricing
     * has started, its own rounds and timeout drive the order) */
    if (sent_any && p->state == QTS_XS_MONITORING && !p->ts_adjust_start_ns)
        arm_monitor(x, p);
}

static void slice_due_run(void *arg)
{
    struct qts_parent *p = arg;
    struct qts_exec *x = p->owner;
    p->timer_slice = 0;
    if (p->state == QTS_XS_SENDING || p->state == QTS_XS_MONITORING ||
        p->state == QTS_XS_ADJUSTING)
        send_due_slices(x, p);
}

static void poll_tick_run(void *arg)
{
    struct qts_parent *p = arg;
    struct qts_exec *x = p->owner;
    p->timer_poll = 0;
    if (qts_exec_state_final(p->state))
        return;
    if (!qts_oms_recon_active(x->oms))
        qts_exec_reconcile(x);
    start_timer(x, &p->timer_poll, x->params.poll_interval_ms * MS, poll_tick, p);
}

static bool slices_pending(const struct qts_parent *p)
{
    return p->next_slice < p->n_slices;
}

static bool any_working(const struct qts_parent *p, int role)
{
    for (size_t i = 0; i < p->n_children; i++)
        if (p->children[i]->role == role &&
            !qts_order_state_final(p->children[i]->state))
            return true;
    return false;
}

static void cancel_all_children(struct qts_exec *x, struct qts_parent *p, int role)
{
    for (size_t i = 0; i < p->n_children; i++) {
        struct qts_child *c = p->children[i];
        if (c->role == role) {
            c->replace_px = 0;
            cancel_child(x, c);
        }
    }
}

/* --------------------------------------------------------- EmergencyEscape */

static void send_flatten(struct qts_exec *x, struct qts_parent *p, int64_t qty)
{
    /* side-correct: a filled buy is sold, a filled (short) sell is bought */
    struct qts_child *c = qts_oms_child_new(x->oms, p, QTS_CHILD_FLATTEN,
                                            opposite(p->intent.side), QTS_ORD_MARKET, 0,
                                            qty);
    c->tif = QTS_TIF_IOC;
    p->flatten_attempts++;
    send_child(x, c);
}

/* Drive ESCAPING: first every slice child final, then flatten the net
 * filled quantity, then ESCAPED. */
static void escape_progress(struct qts_exec *x, struct qts_parent *p)
{
    if (any_working(p, QTS_CHILD_SLICE))
        return;
    int64_t net = p->filled_qty - p->flatten_filled;
    if (p->flatten && net > 0) {
        if (any_working(p, QTS_CHILD_FLATTEN))
            return;
        if (p->flatten_attempts < x->params.flatten_max_attempts) {
            send_flatten(x, p, net);
            return;
        }
        p->success = false;
        safety(x, "GR074", false, "order=%llu flatten failed residual=%lld",
               (unsigned long long)p->order_id, (long long)net);
        char why[256];
        snprintf(why, sizeof why, "%s; flatten failed, residual %lld", p->reason,
                 (long long)net);
        finish(x, p, QTS_XS_ESCAPED, QTS_OE_ESCAPED, 92, why);
        return;
    }
    p->success = true;
    if (p->fail_after_escape)
        finish(x, p, QTS_XS_FAILED, QTS_OE_FAILED, 90, NULL);
    else
        finish(x, p, QTS_XS_ESCAPED, QTS_OE_ESCAPED, 92, NULL);
}

static void enter_escape(struct qts_exec *x, struct qts_parent *p, const char *reason)
{
    if (qts_exec_state_final(p->state) || p->state == QTS_XS_ESCAPING)
        return;
    int64_t t0 = qts_mono_ns();
    stop_parent_timers(x, p);
    p->state = QTS_XS_ESCAPING;
    p->flatten = x->params.escape_flatten;
    p->ts_stage_ns = now_ns(x);
    qts_strlcpy(p->reason, reason, sizeof p->reason);
    p->next_slice = p->n_slices; /* nothing more goes out */
    cancel_all_children(x, p, QTS_CHILD_SLICE);
    qts_hdr_record(&x->hist[QTS_STAGE_ESCAPE], qts_mono_ns() - t0);
    safety(x, "FS092", false, "escape order=%llu reason=%s filled=%lld",
           (unsigned long long)p->order_id, reason, (long long)p->filled_qty);
    start_timer(x, &p->timer_stage, x->params.escape_timeout_ms * MS, stage_timeout, p);
    arm_poll(x, p);
    escape_progress(x, p);
}

static void enter_cancel(struct qts_exec *x, struct qts_parent *p, const char *reason,
                         uint8_t kind)
{
    if (qts_exec_state_final(p->state) || p->state == QTS_XS_ESCAPING ||
        p->state == QTS_XS_CANCELLING)
        return;
    stop_parent_timers(x, p);
    p->state = QTS_XS_CANCELLING;
    p->cancel_kind = kind;
    p->ts_stage_ns = now_ns(x);
    qts_strlcpy(p->reason, reason, sizeof p->reason);
    p->next_slice = p->n_slices;
    cancel_all_children(x, p, QTS_CHILD_SLICE);
    /* cancels that never get an answer end in an escape (no silent end) */
    start_timer(x, &p->timer_stage, x->params.escape_timeout_ms * MS, stage_timeout, p);
    arm_poll(x, p);
    evaluate(x, p);
}

/* ------------------------------------------------------- AdaptiveAdjust */

static int64_t step_px(int64_t px, double pct, int up)
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
    bool have_ref = market_ref(x, p->intent.instrument, &ref);
    bool buy = p->intent.side == QTS_SIDE_BUY;
    int64_t tick = p->inst.tick_size;
    bool moved = false, capped = false, blocked = false;
    for (size_t i = 0; i < p->n_children; i++) {
        struct qts_child *c = p->children[i];
        if (c->role != QTS_CHILD_SLICE || c->type != QTS_ORD_LIMIT ||
            !(c->state == QTS_OS_ACCEPTED || c->state == QTS_OS_PARTIALLY_FILLED) ||
            c->modify_pending || c->replace_px)
            continue;
        int64_t target = buy ? qts_px_ceil_tick(step_px(c->px, x->params.adjust_step_pct, 1), tick)
                             : qts_px_floor_tick(step_px(c->px, x->params.adjust_step_pct, 0), tick);
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
            struct qts_broker_modify m;
            memset(&m, 0, sizeof m);
            m.struct_size = sizeof m;
            m.instrument = c->instrument;
            qts_strlcpy(m.symbol, p->inst.symbol, sizeof m.symbol);
            qts_strlcpy(m.client_order_id, c->client_order_id, sizeof m.client_order_id);
            qts_strlcpy(m.venue_order_id, c->venue_order_id, sizeof m.venue_order_id);
            m.new_px = target;
            m.new_qty = c->qty;
            if (x->env.port.ops->modify(x->env.port.self, &m) == 0) {
                c->modify_pending = true;
                moved = true;
            }
        } else {
            /* cancel-replace: the rest is resent at `target` once the
             * cancel is confirmed, so the two can never both fill */
            c->replace_px = target;
            if (x->env.port.ops)
                x->env.port.ops->cancel(x->env.port.self, c->client_order_id,
                                        c->venue_order_id);
            qts_child_set_state(c, QTS_OS_CANCEL_PENDING);
            moved = true;
        }
    }
    qts_hdr_record(&x->hist[QTS_STAGE_ADJUST], qts_mono_ns() - t0);
    if (capped)
        safety(x, "GR063", false, "order=%llu reprice at slippage cap %lld",
               (unsigned long long)p->order_id, (long long)p->limit_cap_px);
    return moved ? 1 : blocked ? -1 : 0;
}

static void enter_adjust(struct qts_exec *x, struct qts_parent *p)
{
    if (p->state != QTS_XS_MONITORING && p->state != QTS_XS_ADJUSTING)
        return;
    if (!p->ts_adjust_start_ns)
        p->ts_adjust_start_ns = now_ns(x);
    if (p->intent.type != QTS_ORD_LIMIT) {
        enter_escape(x, p, "unfilled market order");
        return;
    }
    if (p->adjust_rounds >= x->params.adjust_max_rounds) {
        enter_escape(x, p, "adjust rounds exhausted");
        return;
    }
    if (now_ns(x) - p->ts_adjust_start_ns >= x->params.adjust_timeout_ms * MS) {
        enter_escape(x, p, "adjust timeout");
        return;
    }
    p->state = QTS_XS_ADJUSTING;
    p->ts_stage_ns = now_ns(x);
    p->adjust_rounds++;
    if (adjust_round(x, p) < 0) {
        safety(x, "FS094", false, "order=%llu slippage cap %.3f%% reached",
               (unsigned long long)p->order_id, x->params.max_slippage_pct * 100.0);
        enter_escape(x, p, "slippage cap reached");
        return;
    }
    /* ADJUSTING until the broker confirms the new prices, then MONITORING;
     * the next round comes after the interval either way */
    stop_timer(x, &p->timer_stage);
    start_timer(x, &p->timer_adjust, x->params.adjust_interval_ms * MS, adjust_tick, p);
    evaluate(x, p);
}

static void adjust_tick_run(void *arg)
{
    struct qts_parent *p = arg;
    struct qts_exec *x = p->owner;
    p->timer_adjust = 0;
    if (p->state != QTS_XS_MONITORING && p->state != QTS_XS_ADJUSTING)
        return;
    enter_adjust(x, p);
}

/* ---------------------------------------------------------- stage timers */

static void stage_timeout_run(void *arg)
{
    struct qts_parent *p = arg;
    struct qts_exec *x = p->owner;
    p->timer_stage = 0;
    switch (p->state) {
    case QTS_XS_SENDING:
        /* no child acknowledged in time: roll back (cancel what may be
         * live, keep any fills) and fail */
        safety(x, "FS090", true, "order=%llu no send acknowledged in %lld ms",
               (unsigned long long)p->order_id, (long long)x->params.send_timeout_ms);
        p->fail_after_escape = true;
        enter_escape(x, p, "send timeout");
        break;
    case QTS_XS_MONITORING:
        if (p->filled_qty > 0) {
            /* spec §9 #6: keep the fills, cancel the rest, COMPLETE partial */
            safety(x, "FS093", false, "order=%llu fill timeout filled=%lld/%lld",
                   (unsigned long long)p->order_id, (long long)p->filled_qty,
                   (long long)p->intent.qty);
            enter_cancel(x, p, "fill timeout: partial", QTS_OE_COMPLETE);
        } else {
            safety(x, "GR064", false, "order=%llu unfilled at monitor timeout",
                   (unsigned long long)p->order_id);
            enter_adjust(x, p);
        }
        break;
    case QTS_XS_CANCELLING:
        enter_escape(x, p, "cancel not confirmed");
        break;
    case QTS_XS_ESCAPING: {
        /* never end silently (spec §9 #8): report and finish unsuccessful */
        int64_t net = p->filled_qty - p->flatten_filled;
        safety(x, "FS092", false, "order=%llu escape timeout residual=%lld",
               (unsigned long long)p->order_id, (long long)net);
        p->success = false;
        char why[256];
        snprintf(why, sizeof why, "%s; escape timeout, residual %lld", p->reason,
                 (long long)net);
        if (p->fail_after_escape) /* a send-stage rollback that never confirmed */
            finish(x, p, QTS_XS_FAILED, QTS_OE_FAILED, 90, why);
        else
            finish(x, p, QTS_XS_ESCAPED, QTS_OE_ESCAPED, 92, why);
        break;
    }
    default:
        break;
    }
}

/* ----------------------------------------------------------- evaluation */

/* Called after anything changed a parent's children. */
static void evaluate(struct qts_exec *x, struct qts_parent *p)
{
    switch (p->state) {
    case QTS_XS_SENDING: {
        bool acked = false;
        for (size_t i = 0; i < p->n_children; i++) {
            int s = p->children[i]->state;
            acked |= s == QTS_OS_ACCEPTED || s == QTS_OS_PARTIALLY_FILLED ||
                     s == QTS_OS_FILLED || p->children[i]->cum_qty > 0;
        }
        if (acked) {
            p->state = QTS_XS_MONITORING;
            p->ts_stage_ns = now_ns(x);
            emit_order(x, p, QTS_OE_ACCEPTED);
            arm_monitor(x, p);
            evaluate(x, p);
            return;
        }
        if (!any_working(p, QTS_CHILD_SLICE) && !slices_pending(p)) {
            p->next_slice = p->n_slices;
            /* The venue answered and said no (a post-only order that would
             * take, a price outside its band): a business outcome for the
             * strategy, not a failure of the send path. */
            uint32_t rejected = 0;
            for (size_t i = 0; i < p->n_children; i++)
                rejected += p->children[i]->state == QTS_OS_REJECTED;
            if (rejected > p->send_failures) { /* some reached the venue */
                finish(x, p, QTS_XS_FAILED, QTS_OE_REJECTED, QTS_EREJECT,
                       "rejected by the venue");
                return;
            }
            /* every send failed and nothing is left to send (FS090); a
             * TWAP/VWAP whose first slice failed waits for the next one */
            safety(x, "FS090", true, "order=%llu every send failed",
                   (unsigned long long)p->order_id);
            finish(x, p, QTS_XS_FAILED, QTS_OE_FAILED, 90, "every send failed");
        }
        return;
    }
    case QTS_XS_MONITORING:
    case QTS_XS_ADJUSTING:
        if (p->state == QTS_XS_ADJUSTING) {
            bool pending = false;
            for (size_t i = 0; i < p->n_children; i++)
                pending |= p->children[i]->modify_pending || p->children[i]->replace_px;
            if (!pending)
                p->state = QTS_XS_MONITORING;
        }
        if (p->filled_qty >= p->intent.qty) {
            cancel_all_children(x, p, QTS_CHILD_SLICE); /* nothing should be left */
            finish(x, p, QTS_XS_COMPLETE, QTS_OE_COMPLETE, 0, "filled");
            return;
        }
        /* iceberg: show the next chunk when the current one is done */
        if (p->intent.algo == QTS_ALGO_ICEBERG && slices_pending(p) &&
            !any_working(p, QTS_CHILD_SLICE)) {
            send_due_slices(x, p);
            return;
        }
        if (!any_working(p, QTS_CHILD_SLICE) && !slices_pending(p)) {
            /* nothing can fill any more (venue rejects, cancels, expiries) */
            if (p->filled_qty > 0) {
                p->partial = true;
                finish(x, p, QTS_XS_COMPLETE, QTS_OE_COMPLETE, 0,
                       "children ended: partial fill");
            } else {
                finish(x, p, QTS_XS_FAILED, QTS_OE_FAILED, QTS_EREJECT,
                       "every child rejected or cancelled by the venue");
            }
        }
        return;
    case QTS_XS_CANCELLING:
        if (!any_working(p, QTS_CHILD_SLICE)) {
            p->partial = p->filled_qty < p->intent.qty;
            finish(x, p, QTS_XS_COMPLETE, p->cancel_kind, 0, NULL);
        }
        return;
    case QTS_XS_ESCAPING:
        escape_progress(x, p);
        return;
    default:
        return;
    }
}

/* OMS listener: a child changed (state or fill). */
static void on_child(void *ctx, struct qts_child *c, const struct qts_apply_result *r)
{
    struct qts_exec *x = ctx;
    struct qts_parent *p = c->parent;
    if (!p)
        return;
    if ((r->flags & QTS_APPLY_STATE) && r->from == QTS_OS_PENDING_SEND)
        stop_timer(x, &c->timer_ack);
    if ((r->flags & QTS_APPLY_STATE) && c->send_attempts > 0 && !c->ts_ack_ns &&
        r->to != QTS_OS_REJECTED) {
        c->ts_ack_ns = now_ns(x);
        qts_hdr_record(&x->hist[QTS_STAGE_ACK], c->ts_ack_ns - c->ts_first_send_ns);
    }
    if (qts_order_state_final(c->state)) {
        stop_timer(x, &c->timer_ack);
        stop_timer(x, &c->timer_retry);
    }
    if (r->flags & QTS_APPLY_FILL) {
        if (c->role == QTS_CHILD_SLICE) {
            p->filled_qty += r->fill_qty;
            p->notional += (qts_i128)r->fill_px * r->fill_qty;
        } else {
            p->flatten_filled += r->fill_qty;
        }
        p->fee += r->fill_fee;
        emit_fill(x, c, r);
    }
    /* venue reject routing (spec §4.6): unknown symbol aborts the order
     * (FS091), no money stops the remaining slices (GR061); any other
     * reject skips just this slice */
    if ((r->flags & QTS_APPLY_STATE) && r->to == QTS_OS_REJECTED &&
        c->role == QTS_CHILD_SLICE && !qts_exec_state_final(p->state) &&
        (r->code == QTS_ENOENT || r->code == QTS_ERISK)) {
        bool symbol = r->code == QTS_ENOENT;
        safety(x, symbol ? "FS091" : "GR061", symbol, "order=%llu venue reject: %s",
               (unsigned long long)p->order_id, symbol ? "unknown symbol" : "insufficient balance");
        p->next_slice = p->n_slices;
        stop_timer(x, &p->timer_slice);
        if (symbol)
            cancel_all_children(x, p, QTS_CHILD_SLICE);
    }
    if (r->flags & QTS_APPLY_OVERFILL)
        safety(x, "FS041", false, "clordid=%s venue reported more than ordered",
               c->client_order_id);
    /* cancel-replace whose cancel was rejected: nothing to replace */
    if (c->replace_px && c->state != QTS_OS_CANCEL_PENDING &&
        !qts_order_state_final(c->state))
        c->replace_px = 0;
    /* cancel-replace: the old child is gone, resend the rest at the new price */
    if (c->replace_px && qts_order_state_final(c->state)) {
        int64_t rest = c->qty - c->cum_qty;
        int64_t px = c->replace_px;
        c->replace_px = 0;
        if (rest > 0 && (p->state == QTS_XS_MONITORING || p->state == QTS_XS_ADJUSTING)) {
            struct qts_child *n = qts_oms_child_new(x->oms, p, QTS_CHILD_SLICE, c->side,
                                                    QTS_ORD_LIMIT, px, rest);
            n->slice = c->slice;
            send_child(x, n);
        }
    }
    if (qts_exec_state_final(p->state)) {
        /* A late fill on a finished order was delivered above (the
         * portfolio and the risk loop see the position). After an escape it
         * is a residual nobody flattens: say so. */
        if ((r->flags & QTS_APPLY_FILL) && p->state == QTS_XS_ESCAPED && p->flatten &&
            c->role == QTS_CHILD_SLICE)
            safety(x, "FS092", false, "order=%llu late fill after escape residual=%lld",
                   (unsigned long long)p->order_id,
                   (long long)(p->filled_qty - p->flatten_filled));
        return;
    }
    evaluate(x, p);
}

/* Timer callbacks count as entry points: nothing is evicted while one
 * runs (it holds its parent or child). */
static void child_retry(void *arg)
{
    struct qts_exec *x = ((struct qts_child *)arg)->parent->owner;
    x->depth++;
    child_retry_run(arg);
    x->depth--;
}

static void child_ack_timeout(void *arg)
{
    struct qts_exec *x = ((struct qts_child *)arg)->parent->owner;
    x->depth++;
    child_ack_timeout_run(arg);
    x->depth--;
}

static void slice_due(void *arg)
{
    struct qts_exec *x = ((struct qts_parent *)arg)->owner;
    x->depth++;
    slice_due_run(arg);
    x->depth--;
}

static void poll_tick(void *arg)
{
    struct qts_exec *x = ((struct qts_parent *)arg)->owner;
    x->depth++;
    poll_tick_run(arg);
    x->depth--;
}

static void adjust_tick(void *arg)
{
    struct qts_exec *x = ((struct qts_parent *)arg)->owner;
    x->depth++;
    adjust_tick_run(arg);
    x->depth--;
}

static void stage_timeout(void *arg)
{
    struct qts_exec *x = ((struct qts_parent *)arg)->owner;
    x->depth++;
    stage_timeout_run(arg);
    x->depth--;
}

/* ------------------------------------------------------------ public API */

struct qts_exec *qts_exec_new(const struct qts_exec_params *params,
                              const struct qts_exec_env *env)
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
    qts_oms_set_listener(x->oms, on_child, x);
    if (x->params.first_clordid_seq)
        qts_oms_set_first_seq(x->oms, x->params.first_clordid_seq);
    qts_oms_set_retention(x->oms, x->params.retain_orders, x->params.retain_ms * MS,
                          x->params.evict_tombstones);
    for (int i = 0; i < QTS_STAGE_COUNT; i++)
        qts_hdr_init(&x->hist[i]);
    struct qts_precheck_hook basic = {.name = "basic", .fn = basic_checks, .ctx = x};
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
        stop_parent_timers(x, p);
        for (size_t i = 0; i < p->n_children; i++) {
            stop_timer(x, &p->children[i]->timer_ack);
            stop_timer(x, &p->children[i]->timer_retry);
        }
    }
    QTS_INFO("exec orders held=%zu evicted=%llu late_fills_after_eviction=%llu",
             qts_oms_count(x->oms), (unsigned long long)qts_oms_evicted_total(x->oms),
             (unsigned long long)qts_oms_late_fills(x->oms));
    qts_oms_free(x->oms);
    free(x);
}

struct qts_oms *qts_exec_oms(struct qts_exec *x)
{
    return x->oms;
}

const struct qts_exec_params *qts_exec_params(const struct qts_exec *x)
{
    return &x->params;
}

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

int qts_exec_add_precheck(struct qts_exec *x, const struct qts_precheck_hook *h)
{
    if (!h || !h->fn)
        return QTS_EINVAL;
    if (x->n_hooks == MAX_HOOKS)
        return QTS_EFULL;
    x->hooks[x->n_hooks++] = *h;
    return 0;
}

static int run_hooks(struct qts_exec *x, struct qts_order_intent *in,
                     const struct qts_instrument *inst, const struct qts_mkt_ref *ref,
                     struct qts_precheck_reject *rej, const char **hook)
{
    struct qts_precheck_order o = {.intent = in, .inst = inst, .ref = ref,
                                   .params = &x->params, .now_ns = event_ns(x)};
    memset(rej, 0, sizeof *rej);
    int rc = 0;
    for (size_t i = 0; i < x->n_hooks && rc == 0; i++) {
        rc = x->hooks[i].fn(x->hooks[i].ctx, &o, rej);
        *hook = x->hooks[i].name ? x->hooks[i].name : "";
    }
    return rc;
}

int qts_exec_precheck(struct qts_exec *x, struct qts_order_intent *intent,
                      struct qts_precheck_reject *rej)
{
    struct qts_precheck_reject local;
    if (!rej)
        rej = &local;
    if (!intent)
        return QTS_EINVAL;
    const struct qts_instrument *inst =
        x->env.prov.instrument ? x->env.prov.instrument(x->env.prov.ctx, intent->instrument)
                               : NULL;
    struct qts_mkt_ref ref;
    bool have_ref = market_ref(x, intent->instrument, &ref);
    const char *hook = "";
    return run_hooks(x, intent, inst, have_ref ? &ref : NULL, rej, &hook);
}

/* Evict a couple of finished orders per new order or report: amortised
 * O(1), and faster than orders arrive, so the store stays bounded. Only
 * at the outermost entry point: no stage holds a pointer then. */
static void evict_some(struct qts_exec *x)
{
    if (x->depth == 0)
        qts_oms_evict(x->oms, now_ns(x), 2);
}

static int submit_run(struct qts_exec *x, const struct qts_order_intent *intent,
                      uint64_t *order_id, struct qts_err *err);

int qts_exec_submit(struct qts_exec *x, const struct qts_order_intent *intent,
                    uint64_t *order_id, struct qts_err *err)
{
    evict_some(x);
    x->depth++;
    int rc = submit_run(x, intent, order_id, err);
    x->depth--;
    return rc;
}

static int submit_run(struct qts_exec *x, const struct qts_order_intent *intent,
                      uint64_t *order_id, struct qts_err *err)
{
    if (!intent)
        return qts_err_set(err, QTS_EINVAL, "no intent");
    const struct qts_instrument *inst =
        x->env.prov.instrument ? x->env.prov.instrument(x->env.prov.ctx, intent->instrument)
                               : NULL;
    struct qts_parent *p = qts_oms_parent_new(x->oms, intent, inst);
    p->owner = x;
    p->ts_submit_ns = now_ns(x);
    if (order_id)
        *order_id = p->order_id;
    x->n_submitted++;

    /* PreCheck */
    int64_t t0 = qts_mono_ns();
    p->state = QTS_XS_PRECHECK;
    struct qts_mkt_ref ref;
    bool have_ref = market_ref(x, intent->instrument, &ref);
    struct qts_precheck_reject rej;
    const char *hook = "";
    int rc = run_hooks(x, &p->intent, inst, have_ref ? &ref : NULL, &rej, &hook);
    qts_hdr_record(&x->hist[QTS_STAGE_PRECHECK], qts_mono_ns() - t0);
    p->intent.order_id = p->order_id;
    if (qts_exec_state_final(p->state))
        return 0; /* a hook escaped it (e.g. an emergency during PreCheck) */
    if (rc != 0) {
        x->n_rejected++;
        char why[256];
        snprintf(why, sizeof why, "%s: %s", rej.code_str[0] ? rej.code_str : hook,
                 rej.msg);
        if (rej.code == 91)
            safety(x, "FS091", true, "order=%llu %s", (unsigned long long)p->order_id,
                   rej.msg);
        finish(x, p, QTS_XS_FAILED, QTS_OE_REJECTED, rej.code ? rej.code : QTS_ERISK, why);
        return qts_err_set(err, QTS_ERISK, "%s", why);
    }
    /* reference price for slippage: the limit, else the touch at arrival */
    bool buy = p->intent.side == QTS_SIDE_BUY;
    if (p->intent.type == QTS_ORD_LIMIT)
        p->ref_px = p->intent.px;
    else if (have_ref)
        p->ref_px = buy ? (ref.ask ? ref.ask : ref.last) : (ref.bid ? ref.bid : ref.last);
    if (p->ref_px > 0) {
        int64_t tick = p->inst.tick_size;
        p->limit_cap_px = buy ? qts_px_floor_tick(step_px(p->ref_px, x->params.max_slippage_pct, 1), tick)
                              : qts_px_ceil_tick(step_px(p->ref_px, x->params.max_slippage_pct, 0), tick);
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
    struct qts_split_req sr = {.algo = p->intent.algo, .qty = p->intent.qty,
                               .lot = p->inst.lot_size, .duration_ns = dur,
                               .slices = p->intent.algo_slices,
                               .default_slices = x->params.twap_default_slices,
                               .display_qty = p->intent.algo_display_qty,
                               .max_children = x->params.max_children,
                               .profile = profile, .n_profile = n_prof};
    struct qts_slice plan[QTS_SPLIT_MAX];
    int capped = 0;
    int n = qts_split_plan(&sr, plan, QTS_SPLIT_MAX, &capped);
    if (n > 0) {
        p->slices = qts_xmalloc((size_t)n * sizeof *p->slices);
        memcpy(p->slices, plan, (size_t)n * sizeof *p->slices);
    }
    qts_hdr_record(&x->hist[QTS_STAGE_SPLIT], qts_mono_ns() - t0);
    if (n <= 0) {
        x->n_rejected++;
        finish(x, p, QTS_XS_FAILED, QTS_OE_REJECTED, QTS_EINVAL, "split failed");
        return qts_err_set(err, QTS_ERISK, "split failed");
    }
    if (capped)
        safety(x, "GR060", false, "order=%llu split capped at %u children",
               (unsigned long long)p->order_id, x->params.max_children);
    p->n_slices = (size_t)n;

    /* AsyncSend of what is due now */
    p->state = QTS_XS_SENDING;
    p->ts_stage_ns = now_ns(x);
    start_timer(x, &p->timer_stage, x->params.send_timeout_ms * MS, stage_timeout, p);
    arm_poll(x, p);
    send_due_slices(x, p);
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

int qts_exec_cancel(struct qts_exec *x, uint64_t order_id, const char *reason)
{
    struct qts_parent *p = qts_oms_find(x->oms, order_id);
    if (!p)
        return gone(x, order_id, "cancel");
    if (qts_exec_state_final(p->state))
        return QTS_ESTATE;
    x->depth++;
    enter_cancel(x, p, reason ? reason : "cancelled by strategy", QTS_OE_CANCELLED);
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
    struct qts_parent *p = qts_oms_find(x->oms, order_id);
    if (!p)
        return gone(x, order_id, "escape");
    if (qts_exec_state_final(p->state))
        return QTS_ESTATE;
    if (p->state == QTS_XS_ESCAPING)
        return 0;
    x->depth++;
    enter_escape(x, p, reason ? reason : "manual escape");
    x->depth--;
    return 0;
}

static size_t for_each_active(struct qts_exec *x, bool all, uint32_t strategy_id,
                              bool escape, const char *reason)
{
    /* collect ids first: cancelling may finish parents (list changes) */
    size_t n = 0, cap = 64;
    uint64_t *ids = qts_xmalloc(cap * sizeof *ids);
    for (struct qts_parent *p = qts_oms_active_first(x->oms); p;
         p = qts_oms_active_next(p)) {
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
        int rc = escape ? qts_exec_escape(x, ids[i], reason)
                        : qts_exec_cancel(x, ids[i], reason);
        if (rc == 0)
            done++;
    }
    free(ids);
    return done;
}

size_t qts_exec_cancel_strategy(struct qts_exec *x, uint32_t strategy_id,
                                const char *reason)
{
    return for_each_active(x, false, strategy_id, false,
                           reason ? reason : "strategy halted");
}

size_t qts_exec_escape_all(struct qts_exec *x, const char *reason)
{
    return for_each_active(x, true, 0, true, reason ? reason : "escape all");
}

/* A fill the venue made on a child that was already evicted: the money
 * moved, so the strategy and the portfolio hear about it once. */
static void emit_evicted_fill(struct qts_exec *x, const struct qts_exec_report *rep,
                              const struct qts_apply_result *r)
{
    const struct qts_oms_evicted *e = qts_oms_find_evicted(x->oms, rep->client_order_id);
    struct qts_oms_evicted gone_e;
    if (!e) { /* its tombstone made room for the fill id: rebuild from the report */
        memset(&gone_e, 0, sizeof gone_e);
        gone_e.instrument = rep->instrument;
        gone_e.side = rep->side;
        gone_e.px_exp = rep->px_exp;
        gone_e.qty_exp = rep->qty_exp;
        e = &gone_e;
    }
    if (!x->env.sink.on_fill)
        return;
    struct qts_fill f;
    memset(&f, 0, sizeof f);
    f.h.struct_size = sizeof f;
    f.h.type = QTS_EV_FILL;
    f.h.px_exp = e->px_exp;
    f.h.qty_exp = e->qty_exp;
    f.h.instrument = e->instrument;
    f.h.ts_recv_ns = event_ns(x);
    f.h.ts_exch_ns = r->ts_venue_ns ? r->ts_venue_ns : f.h.ts_recv_ns;
    f.h.seq = ++x->event_seq;
    f.order_id = e->order_id;
    f.strategy_id = e->strategy_id;
    f.side = e->side;
    f.is_maker = r->is_maker;
    f.px = r->fill_px;
    f.qty = r->fill_qty;
    f.fee = r->fill_fee;
    f.fill_id = r->fill_id;
    qts_strlcpy(f.tag, e->tag, sizeof f.tag);
    x->env.sink.on_fill(x->env.sink.ctx, &f);
}

int qts_exec_on_report(struct qts_exec *x, const struct qts_exec_report *rep)
{
    if (!rep)
        return QTS_EINVAL;
    evict_some(x);
    int64_t t0 = qts_mono_ns();
    struct qts_apply_result r;
    x->depth++;
    int rc = qts_oms_apply_report(x->oms, rep, NULL, &r);
    if (rc == 0 && (r.flags & QTS_APPLY_EVICTED) && (r.flags & QTS_APPLY_FILL))
        emit_evicted_fill(x, rep, &r);
    x->depth--;
    QTS_DEBUG("report clordid=%s type=%u rc=%d flags=%#x %u->%u code=%d", rep->client_order_id,
              rep->exec_type, rc, r.flags, r.from, r.to, rep->code);
    if (rc == QTS_ENOENT) {
        x->n_unknown_reports++;
        QTS_WARN("report for unknown clordid=%s type=%u", rep->client_order_id,
                 rep->exec_type);
    } else if (rc == 0 && (r.flags & (QTS_APPLY_DUP | QTS_APPLY_COVERED))) {
        x->n_dup_reports++;
    }
    qts_hdr_record(&x->hist[QTS_STAGE_REPORT], qts_mono_ns() - t0);
    return rc;
}

static void on_recon_diff(void *ctx, const struct qts_recon_diff *d)
{
    struct qts_exec *x = ctx;
    if (d->kind == QTS_RECON_POSITION)
        safety(x, "FS070", false, "position differs inst=%u ours=%lld broker=%lld",
               d->instrument, (long long)d->ours, (long long)d->theirs);
    if (x->env.sink.on_recon)
        x->env.sink.on_recon(x->env.sink.ctx, d);
}

int qts_exec_reconcile(struct qts_exec *x)
{
    x->depth++;
    int rc = qts_oms_recon_begin(x->oms, &x->env.port, on_recon_diff, x);
    x->depth--;
    return rc;
}

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

int qts_exec_pin(struct qts_exec *x, uint64_t order_id)
{
    return qts_oms_pin(x->oms, order_id);
}

void qts_exec_unpin(struct qts_exec *x, uint64_t order_id)
{
    qts_oms_unpin(x->oms, order_id);
}

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
#define PUT(...)                                                               \
    do {                                                                       \
        int k_ = snprintf(buf + (off < cap ? off : cap), off < cap ? cap - off : 0, \
                          __VA_ARGS__);                                        \
        if (k_ > 0) {                                                          \
            off += (size_t)k_;                                                 \
            total += k_;                                                       \
        }                                                                      \
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
