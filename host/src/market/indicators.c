/* indicators.c — incremental technical indicators (see indicators.h).
 *
 * Running sums are updated by subtracting the exact value that leaves the
 * window, so their rounding error grows only like sqrt(pushes) * eps; the
 * Bollinger variance uses the sliding Welford update because the
 * sum-of-squares form cancels catastrophically at market price levels.
 * The generic handle over these (struct qts_ind, the FFI entry points) is
 * in indicators_handle.c. */
#include "indicators.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>

#include "qts/qts_err.h"
#include "util.h"

static bool period_ok(int n) { return n >= 1 && n <= QTS_IND_MAX_PERIOD; }

/* ------------------------------------------------------------------ ring */

static void ring_init(struct qts__ring *r, int cap)
{
    r->v = qts_xcalloc((size_t)cap, sizeof(double));
    r->cap = cap;
    r->head = 0;
    r->count = 0;
}

static void ring_free(struct qts__ring *r)
{
    free(r->v);
    r->v = NULL;
    r->cap = r->count = r->head = 0;
}

static bool ring_full(const struct qts__ring *r) { return r->count == r->cap; }

static double ring_oldest(const struct qts__ring *r) { return r->v[r->head]; }

/* Appends x; when full, overwrites the oldest (which the caller read first). */
static void ring_push(struct qts__ring *r, double x)
{
    if (r->count < r->cap) {
        int32_t i = r->head + r->count;
        if (i >= r->cap)
            i -= r->cap;
        r->v[i] = x;
        r->count++;
    } else {
        r->v[r->head] = x;
        if (++r->head == r->cap)
            r->head = 0;
    }
}

/* Exact sum of the window, used once per n pushes to discard the rounding
 * error the running sums picked up (amortized O(1)). */
static double ring_sum(const struct qts__ring *r)
{
    double s = 0;
    for (int32_t i = 0; i < r->count; i++)
        s += r->v[i];
    return s;
}

/* True right after a push completed a full cycle of the ring. */
static bool ring_wrapped(const struct qts__ring *r) { return r->head == 0 && r->count == r->cap; }

/* ------------------------------------------------------ min/max windows */

static void extreme_init(struct qts__extreme *e, int win, bool is_min)
{
    uint32_t cap = 1;
    while (cap < (uint32_t)win)
        cap <<= 1;
    e->val = qts_xcalloc(cap, sizeof(double));
    e->pos = qts_xcalloc(cap, sizeof(int64_t));
    e->mask = cap - 1;
    e->win = win;
    e->front = e->back = e->seq = 0;
    e->is_min = is_min;
}

static void extreme_free(struct qts__extreme *e)
{
    free(e->val);
    free(e->pos);
    e->val = NULL;
    e->pos = NULL;
}

/* Pushes x and returns the extreme of the last `win` pushes. Entries that
 * can never become the extreme again are dropped from the back, so the
 * deque never holds more than `win` entries. */
static double extreme_push(struct qts__extreme *e, double x)
{
    int64_t t = e->seq++;
    const uint32_t m = e->mask;
    if (e->is_min) {
        while (e->back > e->front && e->val[(e->back - 1) & m] >= x)
            e->back--;
    } else {
        while (e->back > e->front && e->val[(e->back - 1) & m] <= x)
            e->back--;
    }
    if (e->back > e->front && e->pos[e->front & m] <= t - e->win)
        e->front++;
    e->val[e->back & m] = x;
    e->pos[e->back & m] = t;
    e->back++;
    return e->val[e->front & m];
}

static bool extreme_full(const struct qts__extreme *e) { return e->seq >= e->win; }

/* ------------------------------------------------------------------- SMA */

int qts_sma_init(struct qts_sma *s, int n)
{
    s->r.v = NULL;
    if (!period_ok(n))
        return QTS_EINVAL;
    ring_init(&s->r, n);
    s->sum = 0;
    return 0;
}

double qts_sma_push(struct qts_sma *s, double x)
{
    if (ring_full(&s->r))
        s->sum -= ring_oldest(&s->r);
    s->sum += x;
    ring_push(&s->r, x);
    if (ring_wrapped(&s->r))
        s->sum = ring_sum(&s->r);
    return ring_full(&s->r) ? s->sum / s->r.cap : NAN;
}

bool qts_sma_is_ready(const struct qts_sma *s) { return s->r.cap > 0 && ring_full(&s->r); }

void qts_sma_cleanup(struct qts_sma *s) { ring_free(&s->r); }

/* ------------------------------------------------------------------- EMA */

int qts_ema_init_alpha(struct qts_ema *e, int n, double alpha)
{
    if (!period_ok(n) || !(alpha > 0 && alpha <= 1))
        return QTS_EINVAL;
    e->n = n;
    e->count = 0;
    e->alpha = alpha;
    e->seed_sum = 0;
    e->value = NAN;
    return 0;
}

int qts_ema_init(struct qts_ema *e, int n) { return qts_ema_init_alpha(e, n, 2.0 / (n + 1.0)); }

double qts_ema_push(struct qts_ema *e, double x)
{
    if (QTS_LIKELY(e->count == e->n)) {
        e->value += e->alpha * (x - e->value);
    } else {
        e->seed_sum += x;
        if (++e->count == e->n)
            e->value = e->seed_sum / e->n;
    }
    return e->value;
}

bool qts_ema_is_ready(const struct qts_ema *e) { return e->n > 0 && e->count == e->n; }

/* ------------------------------------------------------------------- WMA */

int qts_wma_init(struct qts_wma *w, int n)
{
    w->r.v = NULL;
    if (!period_ok(n))
        return QTS_EINVAL;
    ring_init(&w->r, n);
    w->sum = w->wsum = 0;
    w->denom = (double)n * (n + 1) / 2.0;
    return 0;
}

double qts_wma_push(struct qts_wma *w, double x)
{
    if (ring_full(&w->r)) {
        /* Every weight drops by one (subtract the plain sum), the newest
         * enters with weight n. */
        w->wsum += w->r.cap * x - w->sum;
        w->sum += x - ring_oldest(&w->r);
    } else {
        w->wsum += (w->r.count + 1) * x;
        w->sum += x;
    }
    ring_push(&w->r, x);
    return ring_full(&w->r) ? w->wsum / w->denom : NAN;
}

bool qts_wma_is_ready(const struct qts_wma *w) { return w->r.cap > 0 && ring_full(&w->r); }

void qts_wma_cleanup(struct qts_wma *w) { ring_free(&w->r); }

/* ------------------------------------------------------------------- RSI */

int qts_rsi_init(struct qts_rsi *r, int n, bool is_wilder)
{
    r->sg.r.v = r->sl.r.v = NULL;
    if (!period_ok(n))
        return QTS_EINVAL;
    r->is_wilder = is_wilder;
    r->has_prev = false;
    r->prev = 0;
    r->value = NAN;
    if (is_wilder) {
        qts_ema_init_alpha(&r->wg, n, 1.0 / n);
        qts_ema_init_alpha(&r->wl, n, 1.0 / n);
    } else {
        qts_sma_init(&r->sg, n);
        qts_sma_init(&r->sl, n);
    }
    return 0;
}

static double rsi_of(double gain, double loss)
{
    if (loss == 0)
        return gain == 0 ? 50.0 : 100.0;
    return 100.0 - 100.0 / (1.0 + gain / loss);
}

double qts_rsi_push(struct qts_rsi *r, double x)
{
    if (!r->has_prev) {
        r->has_prev = true;
        r->prev = x;
        return r->value;
    }
    double d = x - r->prev;
    r->prev = x;
    double g = d > 0 ? d : 0, l = d < 0 ? -d : 0, ag, al;
    if (r->is_wilder) {
        ag = qts_ema_push(&r->wg, g);
        al = qts_ema_push(&r->wl, l);
    } else {
        ag = qts_sma_push(&r->sg, g);
        al = qts_sma_push(&r->sl, l);
    }
    if (!isnan(ag))
        r->value = rsi_of(ag, al);
    return r->value;
}

bool qts_rsi_is_ready(const struct qts_rsi *r) { return !isnan(r->value); }

void qts_rsi_cleanup(struct qts_rsi *r)
{
    ring_free(&r->sg.r);
    ring_free(&r->sl.r);
}

/* ------------------------------------------------------------------ MACD */

int qts_macd_init(struct qts_macd *m, int fast, int slow, int signal)
{
    if (!period_ok(fast) || !period_ok(slow) || !period_ok(signal) || fast >= slow)
        return QTS_EINVAL;
    qts_ema_init(&m->fast, fast);
    qts_ema_init(&m->slow, slow);
    qts_ema_init(&m->sig, signal);
    m->macd = m->signal = m->hist = NAN;
    return 0;
}

double qts_macd_push(struct qts_macd *m, double x)
{
    double f = qts_ema_push(&m->fast, x);
    double s = qts_ema_push(&m->slow, x);
    if (qts_ema_is_ready(&m->slow)) {
        m->macd = f - s;
        m->signal = qts_ema_push(&m->sig, m->macd);
        m->hist = m->macd - m->signal; /* NaN until the signal is seeded */
    }
    return m->macd;
}

bool qts_macd_is_ready(const struct qts_macd *m) { return qts_ema_is_ready(&m->slow); }

/* ------------------------------------------------------------------- ATR */

int qts_atr_init(struct qts_atr *a, int n, bool is_wilder)
{
    a->sma.r.v = NULL;
    if (!period_ok(n))
        return QTS_EINVAL;
    a->is_wilder = is_wilder;
    a->has_prev = false;
    a->prev_close = 0;
    if (is_wilder)
        qts_ema_init_alpha(&a->ema, n, 1.0 / n);
    else
        qts_sma_init(&a->sma, n);
    return 0;
}

static double true_range(double h, double l, double pc)
{
    double tr = h - l, a = fabs(h - pc), b = fabs(l - pc);
    if (a > tr)
        tr = a;
    if (b > tr)
        tr = b;
    return tr;
}

double qts_atr_push(struct qts_atr *a, double high, double low, double close)
{
    double tr = a->has_prev ? true_range(high, low, a->prev_close) : high - low;
    a->has_prev = true;
    a->prev_close = close;
    return a->is_wilder ? qts_ema_push(&a->ema, tr) : qts_sma_push(&a->sma, tr);
}

bool qts_atr_is_ready(const struct qts_atr *a)
{
    return a->is_wilder ? qts_ema_is_ready(&a->ema) : qts_sma_is_ready(&a->sma);
}

void qts_atr_cleanup(struct qts_atr *a) { ring_free(&a->sma.r); }

/* ------------------------------------------------------------- Bollinger */

int qts_boll_init(struct qts_boll *b, int n, double k)
{
    b->r.v = NULL;
    if (!period_ok(n) || !(k >= 0) || !isfinite(k))
        return QTS_EINVAL;
    ring_init(&b->r, n);
    b->k = k;
    b->mean = b->m2 = 0;
    b->middle = b->upper = b->lower = b->stddev = NAN;
    b->bandwidth = b->percent_b = NAN;
    return 0;
}

double qts_boll_push(struct qts_boll *b, double x)
{
    if (ring_full(&b->r)) {
        double old = ring_oldest(&b->r), old_mean = b->mean;
        b->mean += (x - old) / b->r.cap;
        b->m2 += (x - old) * (x - b->mean + old - old_mean);
        if (b->m2 < 0)
            b->m2 = 0;
        ring_push(&b->r, x);
    } else {
        ring_push(&b->r, x);
        double d = x - b->mean;
        b->mean += d / b->r.count;
        b->m2 += d * (x - b->mean);
    }
    if (ring_wrapped(&b->r)) {
        /* two-pass resync: a flat window must give exactly 0 */
        double m = ring_sum(&b->r) / b->r.cap, ss = 0;
        for (int32_t i = 0; i < b->r.cap; i++)
            ss += (b->r.v[i] - m) * (b->r.v[i] - m);
        b->mean = m;
        b->m2 = ss;
    }
    if (!ring_full(&b->r))
        return NAN;
    b->middle = b->mean;
    b->stddev = sqrt(b->m2 / b->r.cap);
    b->upper = b->mean + b->k * b->stddev;
    b->lower = b->mean - b->k * b->stddev;
    b->bandwidth = b->middle != 0 ? (b->upper - b->lower) / b->middle * 100.0 : 0;
    double w = b->upper - b->lower;
    b->percent_b = w > 1e-12 * fabs(b->mean) ? (x - b->lower) / w : 0.5;
    return b->middle;
}

bool qts_boll_is_ready(const struct qts_boll *b) { return b->r.cap > 0 && ring_full(&b->r); }

void qts_boll_cleanup(struct qts_boll *b) { ring_free(&b->r); }

/* ------------------------------------------------------------------ VWAP */

int qts_vwap_init(struct qts_vwap *w, int n)
{
    w->pv.v = w->v.v = NULL;
    if (!period_ok(n))
        return QTS_EINVAL;
    ring_init(&w->pv, n);
    ring_init(&w->v, n);
    w->spv = w->sv = 0;
    w->last_px = NAN;
    return 0;
}

double qts_vwap_push(struct qts_vwap *w, double price, double volume)
{
    if (ring_full(&w->v)) {
        w->spv -= ring_oldest(&w->pv);
        w->sv -= ring_oldest(&w->v);
    }
    double pv = price * volume;
    w->spv += pv;
    w->sv += volume;
    ring_push(&w->pv, pv);
    ring_push(&w->v, volume);
    w->last_px = price;
    if (!ring_full(&w->v))
        return NAN;
    return w->sv > 0 ? w->spv / w->sv : price;
}

bool qts_vwap_is_ready(const struct qts_vwap *w) { return w->v.cap > 0 && ring_full(&w->v); }

void qts_vwap_cleanup(struct qts_vwap *w)
{
    ring_free(&w->pv);
    ring_free(&w->v);
}

/* ------------------------------------------------------------------- OBV */

void qts_obv_init(struct qts_obv *o)
{
    o->has_prev = false;
    o->prev_close = 0;
    o->value = NAN;
}

double qts_obv_push(struct qts_obv *o, double close, double volume)
{
    if (!o->has_prev)
        o->value = volume;
    else if (close > o->prev_close)
        o->value += volume;
    else if (close < o->prev_close)
        o->value -= volume;
    o->has_prev = true;
    o->prev_close = close;
    return o->value;
}

bool qts_obv_is_ready(const struct qts_obv *o) { return o->has_prev; }

/* ------------------------------------------------------------------- ADX */

int qts_adx_init(struct qts_adx *a, int n)
{
    if (!period_ok(n))
        return QTS_EINVAL;
    a->n = n;
    a->count = a->dx_count = 0;
    a->has_prev = false;
    a->ph = a->pl = a->pc = 0;
    a->tr_s = a->pdm_s = a->mdm_s = a->dx_sum = 0;
    a->adx = a->plus_di = a->minus_di = NAN;
    return 0;
}

double qts_adx_push(struct qts_adx *a, double high, double low, double close)
{
    if (!a->has_prev) {
        a->has_prev = true;
        a->ph = high;
        a->pl = low;
        a->pc = close;
        return a->adx;
    }
    double tr = true_range(high, low, a->pc);
    double up = high - a->ph, dn = a->pl - low;
    double pdm = (up > dn && up > 0) ? up : 0;
    double mdm = (dn > up && dn > 0) ? dn : 0;
    a->ph = high;
    a->pl = low;
    a->pc = close;
    if (a->count < a->n) {
        /* First n changes: plain sums (Wilder's initial "TR14"). */
        a->tr_s += tr;
        a->pdm_s += pdm;
        a->mdm_s += mdm;
        if (++a->count < a->n)
            return a->adx;
    } else {
        double n = a->n;
        a->tr_s += tr - a->tr_s / n;
        a->pdm_s += pdm - a->pdm_s / n;
        a->mdm_s += mdm - a->mdm_s / n;
    }
    a->plus_di = a->tr_s > 0 ? 100.0 * a->pdm_s / a->tr_s : 0;
    a->minus_di = a->tr_s > 0 ? 100.0 * a->mdm_s / a->tr_s : 0;
    double sum = a->plus_di + a->minus_di;
    double dx = sum > 0 ? 100.0 * fabs(a->plus_di - a->minus_di) / sum : 0;
    if (a->dx_count < a->n) {
        a->dx_sum += dx;
        if (++a->dx_count == a->n)
            a->adx = a->dx_sum / a->n;
    } else {
        a->adx = (a->adx * (a->n - 1) + dx) / a->n;
    }
    return a->adx;
}

bool qts_adx_is_ready(const struct qts_adx *a) { return !isnan(a->adx); }

/* ------------------------------------------------------------------- CCI */

int qts_cci_init(struct qts_cci *c, int n)
{
    c->r.v = NULL;
    if (!period_ok(n))
        return QTS_EINVAL;
    ring_init(&c->r, n);
    c->sum = 0;
    c->value = NAN;
    return 0;
}

double qts_cci_push(struct qts_cci *c, double high, double low, double close)
{
    double tp = (high + low + close) / 3.0;
    if (ring_full(&c->r))
        c->sum -= ring_oldest(&c->r);
    c->sum += tp;
    ring_push(&c->r, tp);
    if (!ring_full(&c->r))
        return NAN;
    if (ring_wrapped(&c->r))
        c->sum = ring_sum(&c->r);
    double mean = c->sum / c->r.cap, md = 0;
    for (int32_t i = 0; i < c->r.cap; i++) /* O(n): see indicators.h */
        md += fabs(c->r.v[i] - mean);
    md /= c->r.cap;
    /* A flat window has md 0 but the running mean may be off by an ulp:
     * treat deviations at rounding level as flat. */
    c->value = md > 1e-12 * fabs(mean) ? (tp - mean) / (0.015 * md) : 0;
    return c->value;
}

bool qts_cci_is_ready(const struct qts_cci *c) { return c->r.cap > 0 && ring_full(&c->r); }

void qts_cci_cleanup(struct qts_cci *c) { ring_free(&c->r); }

/* ------------------------------------------------------------ Stochastic */

int qts_stoch_init(struct qts_stoch *s, int n, int k_smooth, int d_smooth)
{
    s->hh.val = s->ll.val = NULL;
    s->hh.pos = s->ll.pos = NULL;
    s->ks.r.v = s->ds.r.v = NULL;
    if (!period_ok(n) || !period_ok(k_smooth) || !period_ok(d_smooth))
        return QTS_EINVAL;
    extreme_init(&s->hh, n, false);
    extreme_init(&s->ll, n, true);
    qts_sma_init(&s->ks, k_smooth);
    qts_sma_init(&s->ds, d_smooth);
    s->k_smooth = k_smooth;
    s->k = s->d = NAN;
    return 0;
}

static double fast_k(double hh, double ll, double c)
{
    return hh > ll ? (c - ll) / (hh - ll) * 100.0 : 50.0;
}

double qts_stoch_push(struct qts_stoch *s, double high, double low, double close)
{
    double hh = extreme_push(&s->hh, high), ll = extreme_push(&s->ll, low);
    if (!extreme_full(&s->hh))
        return NAN;
    double k = qts_sma_push(&s->ks, fast_k(hh, ll, close));
    if (isnan(k))
        return NAN;
    s->k = k;
    s->d = qts_sma_push(&s->ds, k);
    return s->k;
}

bool qts_stoch_is_ready(const struct qts_stoch *s) { return !isnan(s->k); }

void qts_stoch_cleanup(struct qts_stoch *s)
{
    extreme_free(&s->hh);
    extreme_free(&s->ll);
    ring_free(&s->ks.r);
    ring_free(&s->ds.r);
}

/* ------------------------------------------------------------ Williams %R */

int qts_willr_init(struct qts_willr *w, int n)
{
    w->hh.val = w->ll.val = NULL;
    w->hh.pos = w->ll.pos = NULL;
    if (!period_ok(n))
        return QTS_EINVAL;
    extreme_init(&w->hh, n, false);
    extreme_init(&w->ll, n, true);
    w->value = NAN;
    return 0;
}

double qts_willr_push(struct qts_willr *w, double high, double low, double close)
{
    double hh = extreme_push(&w->hh, high), ll = extreme_push(&w->ll, low);
    if (!extreme_full(&w->hh))
        return NAN;
    w->value = hh > ll ? (hh - close) / (hh - ll) * -100.0 : -50.0;
    return w->value;
}

bool qts_willr_is_ready(const struct qts_willr *w) { return !isnan(w->value); }

void qts_willr_cleanup(struct qts_willr *w)
{
    extreme_free(&w->hh);
    extreme_free(&w->ll);
}

/* ------------------------------------------------------------------- ROC */

int qts_roc_init(struct qts_roc *r, int n)
{
    r->r.v = NULL;
    if (!period_ok(n))
        return QTS_EINVAL;
    ring_init(&r->r, n);
    r->value = NAN;
    return 0;
}

double qts_roc_push(struct qts_roc *r, double x)
{
    if (ring_full(&r->r)) {
        double old = ring_oldest(&r->r);
        r->value = old != 0 ? (x - old) / old * 100.0 : 0;
    }
    ring_push(&r->r, x);
    return r->value;
}

bool qts_roc_is_ready(const struct qts_roc *r) { return !isnan(r->value); }

void qts_roc_cleanup(struct qts_roc *r) { ring_free(&r->r); }

/* ------------------------------------------------------------------ KAMA */

int qts_kama_init(struct qts_kama *k, int n, int fast, int slow)
{
    k->closes.v = k->changes.v = NULL;
    if (!period_ok(n) || !period_ok(fast) || !period_ok(slow) || fast >= slow)
        return QTS_EINVAL;
    ring_init(&k->closes, n);
    ring_init(&k->changes, n);
    k->vol_sum = 0;
    k->fast_sc = 2.0 / (fast + 1.0);
    k->slow_sc = 2.0 / (slow + 1.0);
    k->value = NAN;
    k->is_ready = false;
    return 0;
}

double qts_kama_push(struct qts_kama *k, double x)
{
    int32_t n = k->closes.cap;
    if (k->closes.count > 0) {
        /* newest close = the one just before the head once full */
        int32_t last = k->closes.head + k->closes.count - 1;
        if (last >= n)
            last -= n;
        double ch = fabs(x - k->closes.v[last]);
        if (ring_full(&k->changes))
            k->vol_sum -= ring_oldest(&k->changes);
        k->vol_sum += ch;
        ring_push(&k->changes, ch);
    }
    if (k->is_ready) {
        double dir = fabs(x - ring_oldest(&k->closes));
        double er = k->vol_sum > 0 ? dir / k->vol_sum : 0;
        if (er > 1)
            er = 1; /* rounding in vol_sum only */
        double sc = er * (k->fast_sc - k->slow_sc) + k->slow_sc;
        k->value += sc * sc * (x - k->value);
    } else if (k->closes.count == n - 1) {
        k->value = x; /* seed: input n */
        k->is_ready = true;
    }
    ring_push(&k->closes, x);
    return k->value;
}

bool qts_kama_is_ready(const struct qts_kama *k) { return k->is_ready; }

void qts_kama_cleanup(struct qts_kama *k)
{
    ring_free(&k->closes);
    ring_free(&k->changes);
}

/* ------------------------------------------------------------------- MFI */

int qts_mfi_init(struct qts_mfi *m, int n)
{
    m->pos.v = m->neg.v = NULL;
    if (!period_ok(n))
        return QTS_EINVAL;
    ring_init(&m->pos, n);
    ring_init(&m->neg, n);
    m->has_prev = false;
    m->prev_tp = m->spos = m->sneg = 0;
    m->value = NAN;
    return 0;
}

double qts_mfi_push(struct qts_mfi *m, double high, double low, double close, double volume)
{
    double tp = (high + low + close) / 3.0;
    if (!m->has_prev) {
        m->has_prev = true;
        m->prev_tp = tp;
        return m->value;
    }
    double flow = tp * volume;
    double p = tp > m->prev_tp ? flow : 0, q = tp < m->prev_tp ? flow : 0;
    m->prev_tp = tp;
    if (ring_full(&m->pos)) {
        m->spos -= ring_oldest(&m->pos);
        m->sneg -= ring_oldest(&m->neg);
    }
    m->spos += p;
    m->sneg += q;
    ring_push(&m->pos, p);
    ring_push(&m->neg, q);
    if (!ring_full(&m->pos))
        return NAN;
    if (m->sneg <= 0)
        m->value = m->spos > 0 ? 100.0 : 50.0;
    else
        m->value = 100.0 - 100.0 / (1.0 + m->spos / m->sneg);
    return m->value;
}

bool qts_mfi_is_ready(const struct qts_mfi *m) { return !isnan(m->value); }

void qts_mfi_cleanup(struct qts_mfi *m)
{
    ring_free(&m->pos);
    ring_free(&m->neg);
}
