/* tca.c — see tca.h. */
#include "tca.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "exec_pipeline.h"
#include "impact_model.h"
#include "log.h"
#include "tca_csv.h"
#include "order.h"
#include "util.h"

#define MID_HIST 1024 /* mid changes remembered per instrument (arrival lookup) */

void qts_tca_params_default(struct qts_tca_params *p)
{
    memset(p, 0, sizeof *p);
    p->score_version = 1;
    p->w1_slip = 0.5;
    p->w1_fill = 0.3;
    p->w1_lat = 0.2;
    p->w2_slip = 0.40;
    p->w2_lat = 0.25;
    p->w2_fill = 0.20;
    p->w2_impact = 0.15;
    p->markout_ns[0] = 1000000000LL;
    p->markout_ns[1] = 10000000000LL;
    p->markout_ns[2] = 60000000000LL;
    p->impact_horizon_ns = 5000000000LL;
    p->window_ns = 60000000000LL;
    p->lookback_ns = 24LL * 3600 * 1000000000LL;
    p->min_samples = 5;
    p->max_impact_bps = 20.0;
    p->adjust_orders = false;
    p->board_interval_ns = 100000000LL;
    p->max_rows = 10000;
}

/* ------------------------------------------------------------------ state */

struct trade_pt {
    int64_t ts;
    double px, qty;
};

struct mid_pt {
    int64_t ts;
    double mid;
};

/* Per instrument: definitions and the recent market. */
struct inst_st {
    bool known;
    struct qts_instrument inst;
    double px_scale, qty_scale; /* 10^-exp */
    double bid, ask, mid;       /* price units; 0 = unknown */
    struct trade_pt *tr;        /* ring of trades within window_ns */
    size_t tr_head, tr_n, tr_cap;
    double tr_vol; /* sum of qty in the ring */
    struct mid_pt hist[MID_HIST];
    size_t h_n, h_next; /* ring of mid changes */
    int64_t board_ts;   /* last board refresh of the market fields */
};

struct rec;

/* A markout (or realized-impact) measurement waiting on a timer. */
struct pend {
    struct qts_tca *t;
    struct rec *r;
    int what; /* 0..2 markout horizon, 3 = realized impact */
    double px, qty;
    uint64_t timer;
    struct pend *prev, *next;
};

struct rec {
    struct qts_tca_row row;
    double notional;                  /* sum px * qty over fills, price units */
    double taker_notional, taker_qty; /* the same over taker fills only */
    double lat_sum;                   /* sum of fill latencies, ns */
    double mk_sum[QTS_TCA_MARKOUTS], mk_w[QTS_TCA_MARKOUTS];
    double vmin, vmax, vsum;
    double vn;
    uint32_t pending;
    bool final;    /* in t->done (final order) as well as in t->open */
    bool complete; /* markouts in: left t->open, waits in t->done for its turn */
};

/* What a rolling summary reads of a final row: one entry per row, the
 * newest max_rows in a ring (so the summaries' memory stays flat). */
struct sum_ent {
    int64_t ts_end_ns;
    uint32_t instrument, strategy_id;
    int algo;
    double slip, impact, quality, lat, fill_ratio, volatility, spread, depth;
};

/* Board entry read by strategies (under board_mu). */
struct board_ent {
    bool has;
    char symbol[QTS_SYMBOL_MAX];
    struct qts_feedback_summary sum; /* summary part */
    double spread_bps, volume, mid;
    double fp[QTS_FP_BUCKETS][QTS_FP_HORIZONS];
    bool fitted;
    double k, beta, conf, resid_sd, default_mult, default_beta;
};

struct qts_tca {
    struct qts_tca_params p;
    struct qts_tca_env env;
    struct inst_st *inst;
    size_t n_inst;
    struct rec **open; /* owned records: working, or final waiting for markouts */
    size_t n_open, cap_open;
    /* final records in the order they became final (a ring; the working
     * ones are owned by open, the complete ones by this queue): the head
     * is written to tca.csv once its markouts are in, so the file keeps
     * that order while only the last ~minute of rows is held */
    struct rec **done;
    size_t done_head, n_done, cap_done;
    struct sum_ent *sums; /* ring of the newest max_rows final rows */
    size_t sum_head, n_sums, cap_sums;
    uint64_t n_final;    /* rows ever made final */
    int64_t last_end_ns; /* end of the newest final row */
    struct pend *pend_head;
    struct pend *pend_free;  /* spare measurements: no allocation per fill */
    struct qts_tca_csv csv;  /* tca.csv.tmp while the run goes on */
    struct board_ent *board; /* n_board entries, index = instrument */
    size_t n_board;
};

static pthread_mutex_t board_mu = PTHREAD_MUTEX_INITIALIZER;
static struct qts_tca *board_owner; /* guarded by board_mu */

static const struct qts_feedback_summary summary_defaults = {
    .struct_size = sizeof(struct qts_feedback_summary),
    .avg_slippage_bps = 10.0,
    .avg_market_impact_bps = 15.0,
    .avg_quality_score = 0.75,
    .avg_fill_latency_ms = 50.0,
    .avg_fill_ratio = 0.95,
    .is_default = 1};

struct qts_tca *qts_tca_new(const struct qts_tca_params *p, const struct qts_tca_env *env)
{
    struct qts_tca *t = qts_xcalloc(1, sizeof *t);
    if (p)
        t->p = *p;
    else
        qts_tca_params_default(&t->p);
    if (env)
        t->env = *env;
    return t;
}

const struct qts_tca_params *qts_tca_params(const struct qts_tca *t) { return &t->p; }

static void pend_unlink(struct qts_tca *t, struct pend *q)
{
    if (q->prev)
        q->prev->next = q->next;
    else
        t->pend_head = q->next;
    if (q->next)
        q->next->prev = q->prev;
}

void qts_tca_free(struct qts_tca *t)
{
    if (!t)
        return;
    pthread_mutex_lock(&board_mu);
    if (board_owner == t)
        board_owner = NULL;
    pthread_mutex_unlock(&board_mu);
    while (t->pend_head) {
        struct pend *q = t->pend_head;
        if (t->env.timers && t->env.timers->ops)
            qts_timer_svc_stop(t->env.timers, q->timer);
        pend_unlink(t, q);
        free(q);
    }
    while (t->pend_free) {
        struct pend *q = t->pend_free;
        t->pend_free = q->next;
        free(q);
    }
    for (size_t i = 0; i < t->n_open; i++)
        if (!t->open[i]->final) /* final ones are freed from t->done */
            free(t->open[i]);
    free(t->open);
    for (size_t i = 0; i < t->n_done; i++)
        free(t->done[(t->done_head + i) % t->cap_done]);
    free(t->done);
    free(t->sums);
    qts_tca_csv_discard(&t->csv); /* a run that never finished: no half tca.csv */
    for (size_t i = 0; i < t->n_inst; i++)
        free(t->inst[i].tr);
    free(t->inst);
    free(t->board);
    free(t);
}

/* The array arr (owned; *n elements of elem bytes) grown, by doubling from
 * 8, until index id fits; the new elements are zeroed. */
static void *grow_zeroed(void *arr, size_t *n, size_t elem, uint32_t id)
{
    size_t cap = *n ? *n : 8;
    while (cap <= id)
        cap *= 2;
    arr = qts_xrealloc(arr, cap * elem);
    memset((char *)arr + *n * elem, 0, (cap - *n) * elem);
    *n = cap;
    return arr;
}

static struct inst_st *ist(struct qts_tca *t, uint32_t id)
{
    if (id >= t->n_inst)
        t->inst = grow_zeroed(t->inst, &t->n_inst, sizeof *t->inst, id);
    return &t->inst[id];
}

void qts_tca_add_instrument(struct qts_tca *t, const struct qts_instrument *inst)
{
    struct inst_st *s = ist(t, inst->id);
    s->known = true;
    s->inst = *inst;
    s->px_scale = 1.0 / (double)qts_pow10_i64[inst->px_exp <= QTS_MAX_EXP ? inst->px_exp : 0];
    s->qty_scale = 1.0 / (double)qts_pow10_i64[inst->qty_exp <= QTS_MAX_EXP ? inst->qty_exp : 0];
}

const struct qts_instrument *qts_tca_instrument(const struct qts_tca *t, uint32_t id)
{
    return id < t->n_inst && t->inst[id].known ? &t->inst[id].inst : NULL;
}

/* -------------------------------------------------------------- formulas */

double qts_tca_slippage_bps(int side, double ref, double px)
{
    if (!(ref > 0) || !isfinite(px))
        return ref > 0 ? NAN : 0;
    double d = side == QTS_SIDE_SELL ? ref - px : px - ref;
    return d / ref * 1e4;
}

static double clamp01(double v) { return v < 0 ? 0 : v > 1 ? 1 : v; }

double qts_tca_quality_v1(double slip, double fill_ratio, double lat_ms, double ws, double wf,
                          double wl)
{
    double slip_s = isfinite(slip) ? 1 - fmin(fabs(slip) / 50.0, 1) : 0;
    double fill_s = 1 - clamp01(1 - (isfinite(fill_ratio) ? fill_ratio : 0));
    double lat_s = isfinite(lat_ms) ? 1 - fmin(fmax(lat_ms, 0) / 1000.0, 1) : 0;
    return clamp01(ws * slip_s + wf * fill_s + wl * lat_s);
}

/* 1 at or below `good`, 0 at or beyond `bad`, linear between. */
static double lin(double v, double good, double bad)
{
    if (!isfinite(v))
        return 0;
    if (good < bad)
        return v <= good ? 1 : v >= bad ? 0 : (bad - v) / (bad - good);
    return v >= good ? 1 : v <= bad ? 0 : (v - bad) / (good - bad);
}

double qts_tca_quality_v2(double slip, double fill_ratio, double lat_ms, double impact,
                          const struct qts_tca_params *p)
{
    double s = lin(fabs(slip), 5, 50), l = lin(lat_ms, 100, 1000);
    double f = lin(fill_ratio, 1.0, 0.5), i = lin(fabs(impact), 2, 20);
    return clamp01(p->w2_slip * s + p->w2_lat * l + p->w2_fill * f + p->w2_impact * i);
}

/* -------------------------------------------------------------- market */

static void trades_evict(const struct qts_tca *t, struct inst_st *s, int64_t now)
{
    while (s->tr_n && s->tr[s->tr_head].ts <= now - t->p.window_ns) {
        s->tr_vol -= s->tr[s->tr_head].qty;
        s->tr_head = (s->tr_head + 1) % s->tr_cap;
        s->tr_n--;
    }
    if (s->tr_n == 0)
        s->tr_vol = 0; /* no drift from repeated subtraction */
}

static void trades_push(struct inst_st *s, int64_t ts, double px, double qty)
{
    if (s->tr_n == s->tr_cap) {
        size_t cap = s->tr_cap ? s->tr_cap * 2 : 256;
        struct trade_pt *v = qts_xmalloc(cap * sizeof *v);
        for (size_t i = 0; i < s->tr_n; i++)
            v[i] = s->tr[(s->tr_head + i) % s->tr_cap];
        free(s->tr);
        s->tr = v;
        s->tr_cap = cap;
        s->tr_head = 0;
    }
    s->tr[(s->tr_head + s->tr_n) % s->tr_cap] = (struct trade_pt){ts, px, qty};
    s->tr_n++;
    s->tr_vol += qty;
}

static double mid_at(const struct inst_st *s, int64_t ts)
{
    for (size_t i = 0; i < s->h_n; i++) {
        const struct mid_pt *m = &s->hist[(s->h_next + MID_HIST - 1 - i) % MID_HIST];
        if (m->ts <= ts)
            return m->mid;
    }
    return NAN;
}

static double spread_bps_of(const struct inst_st *s)
{
    return s->bid > 0 && s->ask > 0 && s->ask >= s->bid ? (s->ask - s->bid) / s->mid * 1e4 : NAN;
}

static void board_refresh(struct qts_tca *t, uint32_t id, bool summary);

void qts_tca_on_market(struct qts_tca *t, const struct qts_ev_hdr *h, int64_t bid, int64_t ask,
                       int64_t ts)
{
    struct inst_st *s = ist(t, h->instrument);
    if (!s->known)
        return;
    if (bid > 0 && ask > 0) {
        double b = (double)bid * s->px_scale, a = (double)ask * s->px_scale;
        if (b != s->bid || a != s->ask) {
            s->bid = b;
            s->ask = a;
            s->mid = (a + b) / 2;
            s->hist[s->h_next] = (struct mid_pt){ts, s->mid};
            s->h_next = (s->h_next + 1) % MID_HIST;
            if (s->h_n < MID_HIST)
                s->h_n++;
        }
    }
    if (h->type == QTS_EV_TRADE) {
        const struct qts_trade *tr = (const struct qts_trade *)h;
        double px = (double)tr->px * s->px_scale, q = (double)tr->qty * s->qty_scale;
        trades_evict(t, s, ts);
        trades_push(s, ts, px, q);
        for (size_t i = 0; i < t->n_open; i++) { /* volatility of working orders */
            struct rec *r = t->open[i];
            if (r->final || r->row.instrument != h->instrument)
                continue;
            r->vmin = r->vn ? fmin(r->vmin, px) : px;
            r->vmax = r->vn ? fmax(r->vmax, px) : px;
            r->vsum += px;
            r->vn += 1;
        }
    }
    if (ts - s->board_ts >= t->p.board_interval_ns) {
        s->board_ts = ts;
        board_refresh(t, h->instrument, false);
    }
}

/* --------------------------------------------------------------- orders */

static struct rec *rec_find(struct qts_tca *t, uint64_t id, size_t *idx)
{
    for (size_t i = t->n_open; i-- > 0;)
        if (t->open[i]->row.order_id == id) {
            if (idx)
                *idx = i;
            return t->open[i];
        }
    return NULL;
}

static double recent_volume(struct qts_tca *t, struct inst_st *s, int64_t now)
{
    trades_evict(t, s, now);
    return s->tr_vol;
}

double qts_tca_expected_slippage(const struct qts_tca *t, uint32_t instrument, double qty,
                                 double *impact_bps, bool *is_default)
{
    double sp = NAN, vol = 0;
    const char *sym = NULL;
    if (instrument < t->n_inst && t->inst[instrument].known) {
        struct inst_st *s = &t->inst[instrument];
        sp = spread_bps_of(s);
        vol = s->tr_vol;
        sym = s->inst.symbol;
    }
    if (!t->env.model) {
        if (impact_bps)
            *impact_bps = NAN;
        if (is_default)
            *is_default = true;
        return NAN;
    }
    double sp0 = isfinite(sp) ? sp : 0;
    double imp = qts_impact_predict_impact(t->env.model, sym, sp0, qty, vol, is_default);
    if (impact_bps)
        *impact_bps = imp;
    return sp0 / 2 + imp;
}

void qts_tca_predict(const struct qts_tca *t, uint32_t instrument, int side, int algo, double qty,
                     struct qts_tca_pred *out)
{
    memset(out, 0, sizeof *out);
    out->slip_bps = out->impact_bps = out->spread_bps = out->mid = NAN;
    if (instrument >= t->n_inst || !t->inst[instrument].known || !t->env.model)
        return;
    const struct inst_st *s = &t->inst[instrument];
    out->spread_bps = spread_bps_of(s);
    out->volume = s->tr_vol;
    out->mid = s->mid > 0 ? s->mid : NAN;
    out->tick = (double)s->inst.tick_size * s->px_scale;
    double sp0 = isfinite(out->spread_bps) ? out->spread_bps : 0;
    enum qts_impact_src src;
    out->impact_bps = qts_impact_predict_for(t->env.model, s->inst.symbol, side, algo, sp0, qty,
                                             out->volume, &src, &out->confidence);
    out->src = (int)src;
    out->slip_bps = sp0 / 2 + out->impact_bps;
}

void qts_tca_on_submit(struct qts_tca *t, uint64_t order_id, const struct qts_order_intent *in,
                       int64_t now)
{
    if (!order_id || in->instrument >= t->n_inst || !t->inst[in->instrument].known)
        return;
    struct inst_st *s = &t->inst[in->instrument];
    struct rec *r = qts_xcalloc(1, sizeof *r);
    struct qts_tca_row *w = &r->row;
    w->order_id = order_id;
    w->strategy_id = in->strategy_id;
    w->instrument = in->instrument;
    qts_strlcpy(w->symbol, s->inst.symbol, sizeof w->symbol);
    qts_strlcpy(w->tag, in->tag, sizeof w->tag);
    w->side = in->side;
    w->type = in->type;
    w->algo = in->algo;
    w->score_version = t->p.score_version;
    w->tick = (double)s->inst.tick_size * s->px_scale;
    w->qty_asked = (double)in->qty * s->qty_scale;
    w->limit_px = in->type == QTS_ORD_LIMIT ? (double)in->px * s->px_scale : NAN;
    w->ts_decision_ns = in->ts_decision_ns ? in->ts_decision_ns : now;
    w->decision_px = s->mid > 0 ? s->mid : NAN;
    w->arrival_px = w->avg_fill_px = NAN;
    w->ts_sent_ns = w->ts_first_fill_ns = w->ts_last_fill_ns = w->ts_end_ns = 0;
    w->spread_bps = spread_bps_of(s);
    w->half_spread_bps = w->spread_bps / 2;
    bool buy = in->side == QTS_SIDE_BUY;
    w->depth = t->env.depth5
                   ? t->env.depth5(t->env.ctx, in->instrument, buy ? QTS_SIDE_SELL : QTS_SIDE_BUY)
                   : NAN;
    w->recent_volume = recent_volume(t, s, now);
    w->participation = w->recent_volume > 0 ? w->qty_asked / w->recent_volume : NAN;
    w->aggressive = in->type == QTS_ORD_MARKET;
    w->dist_ticks = NAN;
    if (in->type == QTS_ORD_LIMIT && s->bid > 0 && s->ask > 0) {
        double px = w->limit_px;
        w->aggressive = buy ? px >= s->ask : px <= s->bid;
        if (!w->aggressive) {
            double d = buy ? s->bid - px : px - s->ask;
            w->dist_ticks = w->tick > 0 ? d / w->tick : 0;
            if (w->dist_ticks < 0)
                w->dist_ticks = 0; /* inside the spread counts as at the touch */
        }
    }
    struct qts_tca_pred pr;
    qts_tca_predict(t, in->instrument, in->side, in->algo, w->qty_asked, &pr);
    if (in->algo != QTS_ALGO_DIRECT && pr.src != QTS_IMPACT_SRC_KEY && in->algo_slices > 1)
        /* no fit of its own for this algorithm yet: each slice as one
         * direct order (as fb_decide.c plans it) */
        qts_tca_predict(t, in->instrument, in->side, QTS_ALGO_DIRECT,
                        w->qty_asked / in->algo_slices, &pr);
    w->pred_slip_bps = pr.slip_bps;
    w->pred_impact_bps = pr.impact_bps;
    w->pred_default = pr.src == QTS_IMPACT_SRC_DEFAULT;
    for (int k = 0; k < QTS_TCA_MARKOUTS; k++)
        w->markout_bps[k] = NAN;
    w->realized_impact_bps = NAN;
    /* volatility window starts 60 s before the decision */
    for (size_t i = 0; i < s->tr_n; i++) {
        double px = s->tr[(s->tr_head + i) % s->tr_cap].px;
        r->vmin = r->vn ? fmin(r->vmin, px) : px;
        r->vmax = r->vn ? fmax(r->vmax, px) : px;
        r->vsum += px;
        r->vn += 1;
    }
    r->pending = 1; /* released when the order is final */
    if (t->n_open == t->cap_open) {
        t->cap_open = t->cap_open ? t->cap_open * 2 : 16;
        t->open = qts_xrealloc(t->open, t->cap_open * sizeof *t->open);
    }
    t->open[t->n_open++] = r;
    /* an order can be final before this call returns (refused at once) */
    const struct qts_parent *p = t->env.parent ? t->env.parent(t->env.ctx, order_id) : NULL;
    if (p && qts_exec_state_final(p->state)) {
        struct qts_order_event ev;
        memset(&ev, 0, sizeof ev);
        ev.order_id = order_id;
        ev.kind = p->state == QTS_XS_ESCAPED  ? QTS_OE_ESCAPED
                  : p->state == QTS_XS_FAILED ? QTS_OE_FAILED
                                              : QTS_OE_COMPLETE;
        qts_tca_on_order(t, &ev, now);
    }
}

static void pend_fire(void *arg);

/* A spare measurement back to the free list (one per timer in flight at
 * most: the list is as long as the busiest minute's markouts). */
static void pend_recycle(struct qts_tca *t, struct pend *q)
{
    q->next = t->pend_free;
    t->pend_free = q;
}

static void pend_start(struct qts_tca *t, struct rec *r, int what, int64_t delay, double px,
                       double qty)
{
    if (!t->env.timers || !t->env.timers->ops)
        return;
    struct pend *q = t->pend_free;
    if (q) {
        t->pend_free = q->next;
        memset(q, 0, sizeof *q);
    } else {
        q = qts_xcalloc(1, sizeof *q);
    }
    q->t = t;
    q->r = r;
    q->what = what;
    q->px = px;
    q->qty = qty;
    if (qts_timer_svc_start(t->env.timers, delay, pend_fire, q, &q->timer) != 0) {
        pend_recycle(t, q);
        return;
    }
    q->next = t->pend_head;
    if (t->pend_head)
        t->pend_head->prev = q;
    t->pend_head = q;
    r->pending++;
}

void qts_tca_on_fill(struct qts_tca *t, const struct qts_fill *f, int64_t now)
{
    struct rec *r = rec_find(t, f->order_id, NULL);
    if (!r || f->qty <= 0)
        return;
    struct inst_st *s = &t->inst[r->row.instrument];
    struct qts_tca_row *w = &r->row;
    double px = (double)f->px * s->px_scale, q = (double)f->qty * s->qty_scale;
    int64_t ts = f->h.ts_exch_ns ? f->h.ts_exch_ns : now;
    if (!w->n_fills) {
        w->ts_first_fill_ns = ts;
        w->all_taker = true;
    }
    if (f->is_maker)
        w->all_taker = false;
    w->ts_last_fill_ns = ts;
    w->n_fills++;
    w->qty_filled += q;
    r->notional += px * q;
    if (!f->is_maker) {
        r->taker_notional += px * q;
        r->taker_qty += q;
    }
    /* latency of this fill: from the latest child send at or before it */
    const struct qts_parent *p = t->env.parent ? t->env.parent(t->env.ctx, f->order_id) : NULL;
    int64_t sent = 0;
    if (p)
        for (size_t i = 0; i < p->n_children; i++) {
            int64_t c = p->children[i]->ts_first_send_ns;
            if (c && c <= ts && c > sent)
                sent = c;
        }
    r->lat_sum += sent ? (double)(ts - sent) : 0;
    for (int k = 0; k < QTS_TCA_MARKOUTS; k++)
        if (t->p.markout_ns[k] > 0)
            pend_start(t, r, k, t->p.markout_ns[k], px, q);
}

static void fill_from_parent(struct qts_tca *t, struct rec *r, const struct qts_parent *p)
{
    struct qts_tca_row *w = &r->row;
    if (!p)
        return;
    int64_t first = 0;
    uint32_t n = 0;
    for (size_t i = 0; i < p->n_children; i++) {
        const struct qts_child *c = p->children[i];
        if (c->role != QTS_CHILD_SLICE)
            continue;
        n++;
        if (c->ts_first_send_ns && (!first || c->ts_first_send_ns < first))
            first = c->ts_first_send_ns;
    }
    w->n_children = n;
    w->n_reprices = p->adjust_rounds;
    w->ts_sent_ns = first;
    if (first && r->row.instrument < t->n_inst)
        w->arrival_px = mid_at(&t->inst[r->row.instrument], first);
    if (!isfinite(w->arrival_px))
        w->arrival_px = w->decision_px;
}

/* The summary fields of a final row into the ring (the oldest entry is
 * overwritten once max_rows are held: a summary never looks further). */
static void sums_push(struct qts_tca *t, const struct qts_tca_row *row)
{
    if (t->p.max_rows == 0)
        return;
    if (t->n_sums == t->cap_sums && t->cap_sums < t->p.max_rows) {
        /* still growing: the ring has not wrapped, head is 0 */
        size_t cap = t->cap_sums ? t->cap_sums * 2 : 64;
        t->cap_sums = cap < t->p.max_rows ? cap : t->p.max_rows;
        t->sums = qts_xrealloc(t->sums, t->cap_sums * sizeof *t->sums);
    }
    struct sum_ent *e;
    if (t->n_sums == t->cap_sums) { /* full: the oldest goes */
        e = &t->sums[t->sum_head];
        t->sum_head = (t->sum_head + 1) % t->cap_sums;
    } else {
        e = &t->sums[(t->sum_head + t->n_sums++) % t->cap_sums];
    }
    *e = (struct sum_ent){.ts_end_ns = row->ts_end_ns,
                          .instrument = row->instrument,
                          .strategy_id = row->strategy_id,
                          .algo = row->algo,
                          .slip = row->slip_decision_bps,
                          .impact = row->qty_filled > 0 ? row->pred_impact_bps : NAN,
                          .quality = row->quality,
                          .lat = row->avg_fill_latency_ms,
                          .fill_ratio = row->fill_ratio,
                          .volatility = row->volatility,
                          .spread = row->spread_bps,
                          .depth = row->depth};
}

static void done_push(struct qts_tca *t, struct rec *r)
{
    if (t->n_done == t->cap_done) {
        size_t cap = t->cap_done ? t->cap_done * 2 : 64;
        struct rec **v = qts_xmalloc(cap * sizeof *v);
        for (size_t i = 0; i < t->n_done; i++) /* unwrapped, oldest first */
            v[i] = t->done[(t->done_head + i) % t->cap_done];
        free(t->done);
        t->done = v;
        t->cap_done = cap;
        t->done_head = 0;
    }
    t->done[(t->done_head + t->n_done++) % t->cap_done] = r;
}

/* Write and drop the complete rows at the head of the final-order queue. */
static void done_flush(struct qts_tca *t)
{
    bool wrote = false;
    while (t->n_done && t->done[t->done_head]->complete) {
        struct rec *r = t->done[t->done_head];
        t->done_head = (t->done_head + 1) % t->cap_done;
        t->n_done--;
        wrote |= qts_tca_csv_put(&t->csv, &r->row);
        free(r);
    }
    /* one write per batch of rows (a few per order at most): a live run's
     * tca.csv.tmp can be followed while it grows */
    if (wrote)
        qts_tca_csv_sync(&t->csv);
}

/* An aggressive order teaches the impact model from its taker fills (the
 * part that walked the book), partial fills included; the sample weighs
 * taker qty / asked, so an order that took all it asked for counts 1 and one
 * that ran out of book counts its share (docs/feedback.md, "Samples").
 * Every such parent teaches its symbol/side/algorithm key; single-child
 * direct orders also teach the symbol's law (one taking order, as the paper
 * broker prices it). */
static void learn_impact(struct qts_tca *t, const struct rec *r)
{
    const struct qts_tca_row *row = &r->row;
    if (!t->env.model || !row->aggressive || !(r->taker_qty > 0) || !(row->qty_asked > 0) ||
        !(row->recent_volume > 0) || !isfinite(row->spread_bps) || !isfinite(row->arrival_px))
        return;
    double px = r->taker_notional / r->taker_qty;
    struct qts_impact_sample smp = {.slip_bps =
                                        qts_tca_slippage_bps(row->side, row->arrival_px, px),
                                    .spread_bps = row->spread_bps,
                                    .qty = r->taker_qty,
                                    .volume = row->recent_volume,
                                    .weight = clamp01(r->taker_qty / row->qty_asked)};
    if (!isfinite(smp.slip_bps))
        return;
    char key[QTS_IMPACT_KEY_MAX];
    qts_impact_key(key, sizeof key, row->symbol, row->side, row->algo);
    qts_impact_add(t->env.model, key, &smp);
    if (t->env.on_fit)
        t->env.on_fit(t->env.fit_ctx ? t->env.fit_ctx : t->env.ctx, key, row->ts_end_ns);
    if (row->algo == QTS_ALGO_DIRECT && row->n_children <= 1) {
        qts_impact_add(t->env.model, row->symbol, &smp);
        if (t->env.on_fit)
            t->env.on_fit(t->env.fit_ctx ? t->env.fit_ctx : t->env.ctx, row->symbol,
                          row->ts_end_ns);
    }
}

/* The order is final: the row joins the summaries, teaches the model and
 * reaches the strategies now; markouts are filled in later (rec_close). */
static void rec_publish(struct qts_tca *t, struct rec *r)
{
    const struct qts_tca_row *row = &r->row;
    sums_push(t, row);
    done_push(t, r);
    t->n_final++;
    t->last_end_ns = row->ts_end_ns;
    learn_impact(t, r);
    if (t->env.model && !row->aggressive && row->type == QTS_ORD_LIMIT &&
        isfinite(row->dist_ticks) && row->ts_sent_ns) {
        double ff = row->n_fills ? (double)(row->ts_first_fill_ns - row->ts_sent_ns) / 1e9 : -1;
        double life = (double)(row->ts_end_ns - row->ts_sent_ns) / 1e9;
        qts_impact_add_passive(t->env.model, row->symbol, row->dist_ticks, ff, life);
        if (t->env.on_fit)
            t->env.on_fit(t->env.fit_ctx ? t->env.fit_ctx : t->env.ctx, row->symbol,
                          row->ts_end_ns);
    }
    board_refresh(t, row->instrument, true);
    if (t->env.on_final)
        t->env.on_final(t->env.ctx, row);
}

/* Every markout is in: complete the row, hand it to on_row, and write the
 * rows now due (this one may wait behind an older one). */
static void rec_close(struct qts_tca *t, struct rec *r, size_t idx)
{
    struct qts_tca_row *w = &r->row;
    for (int k = 0; k < QTS_TCA_MARKOUTS; k++)
        w->markout_bps[k] = r->mk_w[k] > 0 ? r->mk_sum[k] / r->mk_w[k] : NAN;
    memmove(t->open + idx, t->open + idx + 1, (t->n_open - idx - 1) * sizeof *t->open);
    t->n_open--;
    r->complete = true;
    if (t->env.on_row)
        t->env.on_row(t->env.ctx, w);
    done_flush(t);
}

static void rec_release(struct qts_tca *t, struct rec *r)
{
    if (--r->pending > 0)
        return;
    size_t idx;
    if (rec_find(t, r->row.order_id, &idx) == r)
        rec_close(t, r, idx);
}

static void pend_fire(void *arg)
{
    struct pend *q = arg;
    struct qts_tca *t = q->t;
    struct rec *r = q->r;
    const struct inst_st *s = &t->inst[r->row.instrument];
    if (s->mid > 0) {
        if (q->what < QTS_TCA_MARKOUTS) {
            /* + = the price moved our way after the fill */
            double m = qts_tca_slippage_bps(r->row.side, q->px, s->mid);
            r->mk_sum[q->what] += m * q->qty;
            r->mk_w[q->what] += q->qty;
        } else if (isfinite(r->row.decision_px)) {
            r->row.realized_impact_bps =
                qts_tca_slippage_bps(r->row.side, r->row.decision_px, s->mid);
        }
    }
    pend_unlink(t, q);
    pend_recycle(t, q);
    rec_release(t, r);
}

static bool final_kind(int k)
{
    return k == QTS_OE_COMPLETE || k == QTS_OE_CANCELLED || k == QTS_OE_ESCAPED ||
           k == QTS_OE_FAILED || k == QTS_OE_EXPIRED || k == QTS_OE_REJECTED;
}

void qts_tca_on_order(struct qts_tca *t, const struct qts_order_event *ev, int64_t now)
{
    if (!final_kind(ev->kind))
        return;
    struct rec *r = rec_find(t, ev->order_id, NULL);
    if (!r || r->final)
        return;
    r->final = true;
    struct qts_tca_row *w = &r->row;
    w->final_kind = ev->kind;
    w->ts_end_ns = now;
    fill_from_parent(t, r, t->env.parent ? t->env.parent(t->env.ctx, ev->order_id) : NULL);
    if (!isfinite(w->arrival_px))
        w->arrival_px = w->decision_px;
    if (w->qty_filled > 0) {
        w->avg_fill_px = r->notional / w->qty_filled;
        w->slip_decision_bps = qts_tca_slippage_bps(w->side, w->decision_px, w->avg_fill_px);
        w->slip_arrival_bps = qts_tca_slippage_bps(w->side, w->arrival_px, w->avg_fill_px);
        w->lat_first_ms = w->ts_sent_ns ? (double)(w->ts_first_fill_ns - w->ts_sent_ns) / 1e6 : NAN;
        w->avg_fill_latency_ms = r->lat_sum / w->n_fills / 1e6;
    } else {
        w->slip_decision_bps = w->slip_arrival_bps = NAN;
        w->lat_first_ms = w->avg_fill_latency_ms = NAN;
    }
    w->fill_ratio = w->qty_asked > 0 ? clamp01(w->qty_filled / w->qty_asked) : NAN;
    w->lat_complete_ms = w->fill_ratio >= 1 && w->ts_sent_ns
                             ? (double)(w->ts_last_fill_ns - w->ts_sent_ns) / 1e6
                             : NAN;
    w->volatility = r->vn >= 2 && r->vsum > 0 ? (r->vmax - r->vmin) / (r->vsum / r->vn) : NAN;
    /* ex-ante impact of what was filled (spec §7.5; the model's law) */
    if (t->env.model && w->qty_filled > 0)
        w->pred_impact_bps = qts_impact_predict_impact(t->env.model, w->symbol,
                                                       isfinite(w->spread_bps) ? w->spread_bps : 0,
                                                       w->qty_filled, w->recent_volume, NULL);
    w->quality =
        t->p.score_version == 2
            ? qts_tca_quality_v2(w->slip_decision_bps, w->fill_ratio, w->avg_fill_latency_ms,
                                 w->pred_impact_bps, &t->p)
            : qts_tca_quality_v1(w->slip_decision_bps, w->fill_ratio, w->avg_fill_latency_ms,
                                 t->p.w1_slip, t->p.w1_fill, t->p.w1_lat);
    rec_publish(t, r);
    if (t->p.impact_horizon_ns > 0)
        pend_start(t, r, QTS_TCA_MARKOUTS, t->p.impact_horizon_ns, 0, 0);
    rec_release(t, r); /* the reference taken at submit */
}

void qts_tca_finish(struct qts_tca *t)
{
    while (t->pend_head) {
        struct pend *q = t->pend_head;
        if (t->env.timers && t->env.timers->ops)
            qts_timer_svc_stop(t->env.timers, q->timer);
        pend_unlink(t, q);
        struct rec *r = q->r;
        pend_recycle(t, q);
        rec_release(t, r);
    }
    if (t->n_open)
        QTS_INFO("tca: %zu orders still working at the end, no feedback row", t->n_open);
}

uint64_t qts_tca_final_rows(const struct qts_tca *t) { return t->n_final; }

size_t qts_tca_held_rows(const struct qts_tca *t)
{
    size_t working = 0;
    for (size_t i = 0; i < t->n_open; i++)
        working += !t->open[i]->final;
    return working + t->n_done;
}

size_t qts_tca_open_orders(const struct qts_tca *t) { return t->n_open; }

/* ------------------------------------------------------------- summaries */

struct avg {
    double s, n;
};
static void avg_add(struct avg *a, double v)
{
    if (isfinite(v)) {
        a->s += v;
        a->n += 1;
    }
}
static double avg_get(const struct avg *a, double def) { return a->n > 0 ? a->s / a->n : def; }

void qts_tca_summary(const struct qts_tca *t, const struct qts_tca_filter *f, int64_t now,
                     struct qts_feedback_summary *out)
{
    struct avg slip = {0}, imp = {0}, q = {0}, lat = {0}, fr = {0}, vol = {0}, sp = {0}, dp = {0};
    int32_t n = 0;
    /* newest first; the ring holds the newest max_rows rows */
    for (size_t k = t->n_sums; k-- > 0;) {
        const struct sum_ent *r = &t->sums[(t->sum_head + k) % t->cap_sums];
        if (r->ts_end_ns < now - t->p.lookback_ns)
            break; /* rows finish in time order */
        if (f && ((f->instrument != UINT32_MAX && r->instrument != f->instrument) ||
                  (f->strategy_id && r->strategy_id != f->strategy_id) ||
                  (f->algo >= 0 && r->algo != f->algo)))
            continue;
        n++;
        avg_add(&slip, r->slip);
        avg_add(&imp, r->impact);
        avg_add(&q, r->quality);
        avg_add(&lat, r->lat);
        avg_add(&fr, r->fill_ratio);
        avg_add(&vol, r->volatility);
        avg_add(&sp, r->spread);
        avg_add(&dp, r->depth);
    }
    const struct qts_feedback_summary *d = &summary_defaults;
    memset(out, 0, sizeof *out);
    out->struct_size = sizeof *out;
    out->sample_count = n;
    out->is_default = n == 0;
    out->avg_slippage_bps = avg_get(&slip, d->avg_slippage_bps);
    out->avg_market_impact_bps = avg_get(&imp, d->avg_market_impact_bps);
    out->avg_quality_score = avg_get(&q, d->avg_quality_score);
    out->avg_fill_latency_ms = avg_get(&lat, d->avg_fill_latency_ms);
    out->avg_fill_ratio = avg_get(&fr, d->avg_fill_ratio);
    out->volatility = avg_get(&vol, 0);
    out->spread_bps = avg_get(&sp, 0);
    out->depth = avg_get(&dp, 0);
    out->expected_slippage_bps = out->expected_impact_bps = NAN;
    out->fill_prob = NAN;
    out->model_k = out->model_beta = NAN;
    out->model_confidence = 0;
    out->model_resid_sd = NAN;
}

/* ---------------------------------------------------------------- board */

static void board_refresh(struct qts_tca *t, uint32_t id, bool summary)
{
    /* board_owner and the board are written only on this (the core)
     * thread, under board_mu; reading them here without the lock is safe */
    if (board_owner != t || id >= t->n_inst || !t->inst[id].known)
        return;
    struct inst_st *s = &t->inst[id];
    bool full = summary || id >= t->n_board || !t->board[id].has;
    struct board_ent e;
    memset(&e, 0, sizeof e);
    if (full) {
        int64_t now = t->last_end_ns;
        struct qts_tca_filter f = {.instrument = id, .strategy_id = 0, .algo = -1};
        qts_tca_summary(t, &f, now, &e.sum);
        const struct qts_impact_fit *fit =
            t->env.model ? qts_impact_get(t->env.model, s->inst.symbol) : NULL;
        e.fitted = fit && fit->fitted;
        e.k = e.fitted ? fit->k : NAN;
        e.beta = e.fitted ? fit->beta : NAN;
        e.conf = e.fitted ? fit->confidence : 0;
        e.resid_sd = e.fitted ? fit->resid_sd : NAN;
        struct qts_impact_params ip;
        qts_impact_params_default(&ip);
        e.default_mult = ip.default_mult;
        e.default_beta = ip.default_beta;
        static const double bucket_dist[QTS_FP_BUCKETS] = {0, 1, 2, 3, 5, 10};
        for (int b = 0; b < QTS_FP_BUCKETS; b++) {
            if (t->env.model)
                qts_impact_fill_prob_row(t->env.model, s->inst.symbol, bucket_dist[b], e.fp[b]);
            else
                for (int h = 0; h < QTS_FP_HORIZONS; h++)
                    e.fp[b][h] = NAN;
        }
        qts_strlcpy(e.symbol, s->inst.symbol, sizeof e.symbol);
    }
    pthread_mutex_lock(&board_mu);
    if (id >= t->n_board)
        t->board = grow_zeroed(t->board, &t->n_board, sizeof *t->board, id);
    struct board_ent *b = &t->board[id];
    if (full)
        *b = e;
    b->spread_bps = spread_bps_of(s);
    b->volume = s->tr_vol;
    b->mid = s->mid;
    b->has = true;
    pthread_mutex_unlock(&board_mu);
}

void qts_feedback_board_publish(struct qts_tca *t)
{
    pthread_mutex_lock(&board_mu);
    board_owner = t;
    pthread_mutex_unlock(&board_mu);
}

int qts_feedback_board_read(uint32_t instrument, double qty, double dist_ticks, double horizon_s,
                            struct qts_feedback_summary *out)
{
    int rc = QTS_ENOENT;
    pthread_mutex_lock(&board_mu);
    struct qts_tca *t = board_owner;
    if (t && instrument < t->n_board && t->board[instrument].has) {
        const struct board_ent *b = &t->board[instrument];
        *out = b->sum;
        out->spread_bps = isfinite(b->spread_bps) ? b->spread_bps : out->spread_bps;
        out->recent_volume = b->volume;
        out->model_fitted = b->fitted;
        out->model_k = b->k;
        out->model_beta = b->beta;
        out->model_confidence = b->conf;
        out->model_resid_sd = b->resid_sd;
        double sp = isfinite(b->spread_bps) ? b->spread_bps : 0;
        double imp = 0;
        if (qty > 0 && b->volume > 0)
            imp = b->fitted ? b->k * pow(qty / b->volume, b->beta)
                            : b->default_mult * sp * pow(qty / b->volume, b->default_beta);
        out->expected_impact_bps = qty > 0 ? imp : NAN;
        out->expected_slippage_bps = qty > 0 ? sp / 2 + imp : NAN;
        out->fill_prob = qts_fp_interp(b->fp[qts_fp_bucket(dist_ticks)], horizon_s);
        rc = 0;
    }
    pthread_mutex_unlock(&board_mu);
    return rc;
}

/* --------------------------------------------------------- pre-trade hook */

int qts_tca_precheck(void *ctx, struct qts_precheck_order *o, struct qts_precheck_reject *rej)
{
    (void)rej;
    struct qts_tca *t = ctx;
    struct qts_order_intent *in = o->intent;
    if (!t->p.adjust_orders || in->instrument >= t->n_inst || !t->inst[in->instrument].known)
        return 0;
    struct qts_tca_filter f = {.instrument = in->instrument, .strategy_id = 0, .algo = -1};
    struct qts_feedback_summary sum;
    qts_tca_summary(t, &f, o->now_ns, &sum);
    if (sum.sample_count < (int32_t)t->p.min_samples)
        return 0; /* spec §7.8: not enough samples, pass through */
    struct inst_st *s = &t->inst[in->instrument];
    int64_t tick = s->inst.tick_size;
    /* slippage-adjusted limit price: BUY p(1 + s/1e4), SELL p(1 - s/1e4) */
    if (in->type == QTS_ORD_LIMIT && in->px > 0 && isfinite(sum.avg_slippage_bps) &&
        sum.avg_slippage_bps > 0) {
        double k = sum.avg_slippage_bps / 1e4;
        double px = (double)in->px * (in->side == QTS_SIDE_BUY ? 1 + k : 1 - k);
        int64_t p = (int64_t)llround(px);
        p = in->side == QTS_SIDE_BUY ? qts_px_floor_tick(p, tick) : qts_px_ceil_tick(p, tick);
        if (p > 0)
            in->px = p;
    }
    /* volume-aware size: qty * max / impact when the predicted impact is above max */
    double imp = NAN;
    qts_tca_expected_slippage(t, in->instrument, (double)in->qty * s->qty_scale, &imp, NULL);
    if (isfinite(imp) && imp > t->p.max_impact_bps) {
        int64_t q = (int64_t)((double)in->qty * t->p.max_impact_bps / imp);
        int64_t lot = s->inst.lot_size > 0 ? s->inst.lot_size : 1;
        q -= q % lot;
        if (q >= (s->inst.min_qty > 0 ? s->inst.min_qty : lot) && q < in->qty) {
            QTS_DEBUG("feedback: order qty %" PRId64 " -> %" PRId64 " (impact %.2f bps)", in->qty,
                      q, imp);
            in->qty = q;
        }
    }
    return 0;
}

int qts_tca_csv_start(struct qts_tca *t, const char *path, struct qts_err *err)
{
    return qts_tca_csv_open(&t->csv, path, err);
}

int qts_tca_csv_finish(struct qts_tca *t, struct qts_err *err)
{
    if (!t->csv.on)
        return 0;
    done_flush(t);
    if (t->n_done) /* rows still waiting: qts_tca_finish was not called */
        QTS_WARN("tca: %zu final rows still wait for markouts; not in %s", t->n_done, t->csv.path);
    return qts_tca_csv_close(&t->csv, err);
}
