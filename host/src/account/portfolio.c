/* portfolio.c — see portfolio.h. Arrays are kept sorted by key so every
 * listing (and therefore every report) comes out in a stable order. */
#include "portfolio.h"

#include <stdlib.h>
#include <string.h>

#include "qts/qts_err.h"
#include "qts/qts_fixed.h"
#include "util.h"

#define ALL_STRATEGIES UINT32_MAX

struct mark {
    uint32_t instrument;
    uint8_t px_exp;
    int64_t px;
    char symbol[QTS_SYMBOL_MAX];
};

struct qts_portfolio {
    int64_t initial_cash;
    int64_t cash;
    int64_t fees;
    struct qts_position *inst; /* per instrument, sorted by instrument */
    size_t n_inst, cap_inst;
    struct qts_position *strat; /* per (strategy, instrument), sorted */
    size_t n_strat, cap_strat;
    struct mark *marks; /* sorted by instrument */
    size_t n_marks, cap_marks;
    struct qts_portfolio_listener listener; /* where finished rows go */
    size_t n_ledger;                        /* fills applied */
    size_t n_trades;                        /* round trips closed */
    size_t n_samples;                       /* equity samples taken */
    /* the newest sample, held back while a same-timestamp one may replace it */
    bool has_pending, pending_sent;
    struct qts_equity_point pending;
    struct qts_price_point *pending_px; /* one per marked instrument */
    size_t n_pending_px, cap_pending_px;
    int64_t first_sample_ns; /* grid origin of sample_every */
    int64_t grid_next;       /* next grid time of sample_every */
};

/* Grow a dynamic array so one more element fits. */
#define GROW(arr, n, cap)                                        \
    do {                                                         \
        if ((n) == (cap)) {                                      \
            (cap) = (cap) ? (cap)*2 : 16;                        \
            (arr) = qts_xrealloc((arr), (cap) * sizeof(*(arr))); \
        }                                                        \
    } while (0)

/* The fixed-point arithmetic is qts_fixed.h's: the simulated venue
 * (broker_paper) rounds the same way. */
int64_t qts_cash_notional(int64_t px, unsigned px_exp, int64_t qty, unsigned qty_exp)
{
    return qts_fixed_notional(px, px_exp, qty, qty_exp);
}

struct qts_portfolio *qts_portfolio_new(int64_t initial_cash)
{
    struct qts_portfolio *pf = qts_xcalloc(1, sizeof *pf);
    pf->initial_cash = initial_cash;
    pf->cash = initial_cash;
    return pf;
}

void qts_portfolio_free(struct qts_portfolio *pf)
{
    if (!pf)
        return;
    qts_free_all(pf->inst, pf->strat, pf->marks, pf->pending_px, pf);
}

static int pos_cmp(uint32_t s1, uint32_t i1, uint32_t s2, uint32_t i2)
{
    if (s1 != s2)
        return s1 < s2 ? -1 : 1;
    if (i1 != i2)
        return i1 < i2 ? -1 : 1;
    return 0;
}

/* Binary search; returns the index or the insertion point with *found=0. */
static size_t pos_find(const struct qts_position *v, size_t n, uint32_t strategy,
                       uint32_t instrument, int *found)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = pos_cmp(v[mid].strategy_id, v[mid].instrument, strategy, instrument);
        if (c == 0) {
            *found = 1;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = 0;
    return lo;
}

static struct qts_position *pos_get(struct qts_position **v, size_t *n, size_t *cap,
                                    uint32_t strategy, uint32_t instrument, uint8_t px_exp,
                                    uint8_t qty_exp)
{
    int found;
    size_t i = pos_find(*v, *n, strategy, instrument, &found);
    if (found)
        return &(*v)[i];
    GROW(*v, *n, *cap);
    memmove(&(*v)[i + 1], &(*v)[i], (*n - i) * sizeof **v);
    (*n)++;
    struct qts_position *p = &(*v)[i];
    memset(p, 0, sizeof *p);
    p->strategy_id = strategy;
    p->instrument = instrument;
    p->px_exp = px_exp;
    p->qty_exp = qty_exp;
    return p;
}

static struct mark *mark_find(const struct qts_portfolio *pf, uint32_t instrument, size_t *at)
{
    size_t lo = 0, hi = pf->n_marks;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (pf->marks[mid].instrument == instrument)
            return &pf->marks[mid];
        if (pf->marks[mid].instrument < instrument)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (at)
        *at = lo;
    return NULL;
}

static struct mark *mark_get(struct qts_portfolio *pf, uint32_t instrument)
{
    size_t at = 0;
    struct mark *m = mark_find(pf, instrument, &at);
    if (m)
        return m;
    GROW(pf->marks, pf->n_marks, pf->cap_marks);
    memmove(&pf->marks[at + 1], &pf->marks[at], (pf->n_marks - at) * sizeof *pf->marks);
    pf->n_marks++;
    m = &pf->marks[at];
    memset(m, 0, sizeof *m);
    m->instrument = instrument;
    return m;
}

void qts_portfolio_set_symbol(struct qts_portfolio *pf, uint32_t instrument, const char *symbol)
{
    qts_strlcpy(mark_get(pf, instrument)->symbol, symbol ? symbol : "", QTS_SYMBOL_MAX);
}

const char *qts_portfolio_symbol(const struct qts_portfolio *pf, uint32_t instrument)
{
    const struct mark *m = mark_find(pf, instrument, NULL);
    return m ? m->symbol : "";
}

void qts_portfolio_mark(struct qts_portfolio *pf, uint32_t instrument, int64_t px, unsigned px_exp)
{
    struct mark *m = mark_get(pf, instrument);
    m->px = px;
    m->px_exp = (uint8_t)px_exp;
}

int64_t qts_portfolio_last_px(const struct qts_portfolio *pf, uint32_t instrument)
{
    const struct mark *m = mark_find(pf, instrument, NULL);
    return m ? m->px : 0;
}

static int64_t sgn64(int64_t v) { return (v > 0) - (v < 0); }
static int64_t abs64(int64_t v) { return v < 0 ? -v : v; }

static int64_t market_value(const struct qts_portfolio *pf, const struct qts_position *p)
{
    if (p->qty == 0)
        return 0;
    const struct mark *m = mark_find(pf, p->instrument, NULL);
    if (!m || m->px == 0) /* never marked: carry at cost */
        return p->cost_basis;
    return qts_cash_notional(m->px, m->px_exp, p->qty, p->qty_exp);
}

int64_t qts_position_avg_px(const struct qts_position *p)
{
    return p ? qts_fixed_avg_px(p->cost_basis, p->qty, p->px_exp, p->qty_exp) : 0;
}

int64_t qts_portfolio_position_unrealized(const struct qts_portfolio *pf,
                                          const struct qts_position *p)
{
    return p ? market_value(pf, p) - p->cost_basis : 0;
}

/* Apply a signed quantity `d` with notional `n` (>0) and fee to one bucket.
 * Returns the realized PnL of the fill for that bucket; closed round trips
 * are appended to pf->trades when `track_trips`. */
static int64_t bucket_apply(struct qts_portfolio *pf, struct qts_position *p, int64_t d, int64_t n,
                            int64_t fee, int64_t ts, int track_trips)
{
    int64_t realized = 0, ad = abs64(d);
    int64_t open_fee = fee;
    p->n_fills++;
    p->turnover += n;
    p->fees += fee;
    if (d > 0)
        p->bought_qty += d;
    else
        p->sold_qty -= d;

    if (p->qty != 0 && sgn64(p->qty) != sgn64(d)) {
        int64_t aq = abs64(p->qty);
        int64_t close_q = QTS_MIN(ad, aq);
        int64_t portion = close_q == aq
                              ? p->cost_basis
                              : qts_fixed_div_round((__int128)p->cost_basis * close_q, aq);
        int64_t fill_part = close_q == ad ? n : qts_fixed_div_round((__int128)n * close_q, ad);
        int64_t close_fee = close_q == ad ? fee : qts_fixed_div_round((__int128)fee * close_q, ad);
        realized = sgn64(p->qty) * fill_part - portion;
        p->cost_basis -= portion;
        p->qty -= sgn64(p->qty) * close_q;
        p->realized += realized;
        p->trip_realized += realized;
        p->trip_fees += close_fee;
        open_fee = fee - close_fee;
        if (p->qty == 0) {
            if (track_trips) {
                struct qts_trade_rt trade = {0}, *t = &trade;
                t->strategy_id = p->strategy_id;
                t->instrument = p->instrument;
                t->dir = p->trip_dir;
                t->qty_exp = p->qty_exp;
                t->open_ts_ns = p->trip_open_ts_ns;
                t->close_ts_ns = ts;
                t->max_qty = p->trip_max_qty;
                t->realized = p->trip_realized;
                t->fees = p->trip_fees;
                t->pnl = p->trip_realized - p->trip_fees;
                p->n_trips++;
                pf->n_trades++;
                if (pf->listener.on_trade)
                    pf->listener.on_trade(pf->listener.ctx, t);
            }
            p->trip_dir = 0;
            p->trip_realized = p->trip_fees = p->trip_max_qty = 0;
            p->cost_basis = 0; /* exact already; keeps it exactly zero */
        }
        if (close_q == ad)
            goto out;
        ad -= close_q;
        n -= fill_part;
        d = sgn64(d) * ad;
    }
    /* open or increase */
    if (p->qty == 0) {
        p->trip_dir = (int8_t)sgn64(d);
        p->trip_open_ts_ns = ts;
    }
    p->trip_fees += open_fee;
    p->qty += d;
    p->cost_basis += d > 0 ? n : -n;
out:
    if (abs64(p->qty) > p->trip_max_qty)
        p->trip_max_qty = abs64(p->qty);
    return realized;
}

int qts_portfolio_apply_fill(struct qts_portfolio *pf, const struct qts_fill *f)
{
    if (!f || f->qty <= 0 || f->px <= 0 || (f->side != QTS_SIDE_BUY && f->side != QTS_SIDE_SELL) ||
        f->h.px_exp > QTS_MAX_EXP || f->h.qty_exp > QTS_MAX_EXP)
        return QTS_EINVAL;
    int found;
    size_t i = pos_find(pf->inst, pf->n_inst, ALL_STRATEGIES, f->h.instrument, &found);
    if (found && (pf->inst[i].px_exp != f->h.px_exp || pf->inst[i].qty_exp != f->h.qty_exp))
        return QTS_EINVAL;

    int64_t ts = f->h.ts_exch_ns;
    int64_t n = qts_cash_notional(f->px, f->h.px_exp, f->qty, f->h.qty_exp);
    int64_t d = f->side == QTS_SIDE_BUY ? f->qty : -f->qty;
    struct qts_position *ip = pos_get(&pf->inst, &pf->n_inst, &pf->cap_inst, ALL_STRATEGIES,
                                      f->h.instrument, f->h.px_exp, f->h.qty_exp);
    int64_t realized = bucket_apply(pf, ip, d, n, f->fee, ts, 0);
    struct qts_position *sp = pos_get(&pf->strat, &pf->n_strat, &pf->cap_strat, f->strategy_id,
                                      f->h.instrument, f->h.px_exp, f->h.qty_exp);
    bucket_apply(pf, sp, d, n, f->fee, ts, 1);

    pf->cash += (d > 0 ? -n : n) - f->fee;
    pf->fees += f->fee;
    qts_portfolio_mark(pf, f->h.instrument, f->px, f->h.px_exp);

    struct qts_ledger_entry entry, *e = &entry;
    memset(e, 0, sizeof *e);
    e->ts_ns = ts;
    e->order_id = f->order_id;
    e->fill_id = f->fill_id;
    e->strategy_id = f->strategy_id;
    e->instrument = f->h.instrument;
    e->side = f->side;
    e->is_maker = f->is_maker;
    e->px_exp = f->h.px_exp;
    e->qty_exp = f->h.qty_exp;
    e->px = f->px;
    e->qty = f->qty;
    e->notional = n;
    e->fee = f->fee;
    e->realized = realized;
    e->cash_after = pf->cash;
    e->pos_after = ip->qty;
    e->strat_pos_after = sp->qty;
    memcpy(e->tag, f->tag, QTS_TAG_MAX);
    e->tag[QTS_TAG_MAX - 1] = '\0';
    pf->n_ledger++;
    if (pf->listener.on_ledger)
        pf->listener.on_ledger(pf->listener.ctx, e);
    return 0;
}

void qts_portfolio_set_listener(struct qts_portfolio *pf, const struct qts_portfolio_listener *l)
{
    if (l)
        pf->listener = *l;
    else
        memset(&pf->listener, 0, sizeof pf->listener);
}

void qts_portfolio_flush_sample(struct qts_portfolio *pf)
{
    if (!pf->has_pending || pf->pending_sent)
        return;
    pf->pending_sent = true;
    if (pf->listener.on_sample)
        pf->listener.on_sample(pf->listener.ctx, &pf->pending, pf->pending_px, pf->n_pending_px);
}

void qts_portfolio_sample(struct qts_portfolio *pf, int64_t ts_ns)
{
    bool replaces = pf->has_pending && !pf->pending_sent && pf->pending.ts_ns == ts_ns;
    if (!replaces) {
        qts_portfolio_flush_sample(pf); /* the held-back one is final now */
        pf->n_samples++;
    }
    if (!pf->has_pending)
        pf->first_sample_ns = ts_ns;
    pf->has_pending = true;
    pf->pending_sent = false;
    pf->n_pending_px = 0;
    for (size_t i = 0; i < pf->n_marks; i++) {
        if (!pf->marks[i].px)
            continue;
        GROW(pf->pending_px, pf->n_pending_px, pf->cap_pending_px);
        struct qts_price_point *pp = &pf->pending_px[pf->n_pending_px++];
        pp->ts_ns = ts_ns;
        pp->instrument = pf->marks[i].instrument;
        pp->px_exp = pf->marks[i].px_exp;
        pp->px = pf->marks[i].px;
    }
    struct qts_equity_point *e = &pf->pending;
    e->ts_ns = ts_ns;
    e->equity = qts_portfolio_equity(pf);
    e->cash = pf->cash;
    e->gross_exposure = qts_portfolio_gross_exposure(pf);
}

int qts_portfolio_sample_every(struct qts_portfolio *pf, int64_t ts_ns, int64_t interval_ns)
{
    if (interval_ns <= 0)
        interval_ns = 1;
    if (pf->n_samples == 0) {
        qts_portfolio_sample(pf, ts_ns);
        pf->grid_next = ts_ns + interval_ns;
        return 1;
    }
    if (ts_ns < pf->grid_next)
        return 0;
    qts_portfolio_sample(pf, ts_ns);
    int64_t first = pf->first_sample_ns;
    pf->grid_next = first + ((ts_ns - first) / interval_ns + 1) * interval_ns;
    return 1;
}

int64_t qts_portfolio_initial_cash(const struct qts_portfolio *pf) { return pf->initial_cash; }
int64_t qts_portfolio_cash(const struct qts_portfolio *pf) { return pf->cash; }
int64_t qts_portfolio_fees(const struct qts_portfolio *pf) { return pf->fees; }

int64_t qts_portfolio_realized(const struct qts_portfolio *pf)
{
    int64_t r = 0;
    for (size_t i = 0; i < pf->n_inst; i++)
        r += pf->inst[i].realized;
    return r;
}

int64_t qts_portfolio_unrealized(const struct qts_portfolio *pf)
{
    int64_t r = 0;
    for (size_t i = 0; i < pf->n_inst; i++)
        r += qts_portfolio_position_unrealized(pf, &pf->inst[i]);
    return r;
}

int64_t qts_portfolio_equity(const struct qts_portfolio *pf)
{
    int64_t e = pf->cash;
    for (size_t i = 0; i < pf->n_inst; i++)
        e += market_value(pf, &pf->inst[i]);
    return e;
}

int64_t qts_portfolio_gross_exposure(const struct qts_portfolio *pf)
{
    int64_t e = 0;
    for (size_t i = 0; i < pf->n_inst; i++)
        e += abs64(market_value(pf, &pf->inst[i]));
    return e;
}

const struct qts_position *qts_portfolio_position(const struct qts_portfolio *pf,
                                                  uint32_t instrument)
{
    int found;
    size_t i = pos_find(pf->inst, pf->n_inst, ALL_STRATEGIES, instrument, &found);
    return found ? &pf->inst[i] : NULL;
}

const struct qts_position *qts_portfolio_strategy_position(const struct qts_portfolio *pf,
                                                           uint32_t strategy_id,
                                                           uint32_t instrument)
{
    int found;
    size_t i = pos_find(pf->strat, pf->n_strat, strategy_id, instrument, &found);
    return found ? &pf->strat[i] : NULL;
}

size_t qts_portfolio_positions(const struct qts_portfolio *pf, const struct qts_position **out)
{
    *out = pf->inst;
    return pf->n_inst;
}

size_t qts_portfolio_strategy_positions(const struct qts_portfolio *pf,
                                        const struct qts_position **out)
{
    *out = pf->strat;
    return pf->n_strat;
}

size_t qts_portfolio_n_fills(const struct qts_portfolio *pf) { return pf->n_ledger; }
size_t qts_portfolio_n_trades(const struct qts_portfolio *pf) { return pf->n_trades; }
size_t qts_portfolio_n_samples(const struct qts_portfolio *pf) { return pf->n_samples; }

bool qts_portfolio_last_sample(const struct qts_portfolio *pf, struct qts_equity_point *out)
{
    if (!pf->has_pending)
        return false;
    *out = pf->pending;
    return true;
}

size_t qts_portfolio_strategy_stats(const struct qts_portfolio *pf, struct qts_strategy_stats **out)
{
    struct qts_strategy_stats *v = NULL;
    size_t n = 0, cap = 0;
    for (size_t i = 0; i < pf->n_strat; i++) {
        const struct qts_position *p = &pf->strat[i];
        if (n == 0 || v[n - 1].strategy_id != p->strategy_id) {
            GROW(v, n, cap);
            memset(&v[n], 0, sizeof v[n]);
            v[n++].strategy_id = p->strategy_id;
        }
        struct qts_strategy_stats *s = &v[n - 1];
        s->realized += p->realized;
        s->unrealized += qts_portfolio_position_unrealized(pf, p);
        s->fees += p->fees;
        s->n_fills += p->n_fills;
        s->n_trades += p->n_trips;
        s->turnover += p->turnover;
    }
    for (size_t k = 0; k < n; k++)
        v[k].net_pnl = v[k].realized + v[k].unrealized - v[k].fees;
    *out = v;
    return n;
}
