/* broker_paper.c — a simulated venue (docs/paper-broker.md).
 *
 * The venue keeps its own L2 view per instrument from the market events the
 * host forwards through on_market, and a queue of requests in flight. A
 * request (new, cancel, modify) reaches the venue at
 *     sent + feed_latency + order_latency (+ seeded jitter),
 * never before an earlier request (one ordered session). The venue clock is
 * the exchange time of the market events (or host time on a timer); before a
 * market event at time T is applied, every request due at or before T is
 * executed against the book as it stood. All arithmetic is integer, the only
 * randomness is a seeded generator, so a replay gives identical reports.
 *
 * This file: the broker operations the host calls, the plugin's
 * configuration and lifecycle, its descriptor. paper_broker.h lists the
 * other files of the plugin.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "paper_broker.h"

/* ---------------------------------------------------------------- broker ops */

static int pb_env(void *self)
{
    (void)self;
    return QTS_BROKER_ENV_SIMULATED;
}

static int pb_submit(void *self, const struct qts_broker_order *bo)
{
    struct pb *pb = self;
    if (!bo || bo->struct_size < offsetof(struct qts_broker_order, ts_sent_ns) ||
        !bo->client_order_id[0])
        return QTS_EINVAL;
    if (pb->stopping)
        return QTS_ECLOSED;
    if (pb_order_find(pb, bo->client_order_id))
        return 0; /* a retry of an order we have: idempotent */
    struct pb_order *o = pb_order_new(pb);
    o->seq = pb->next_seq;
    snprintf(o->clordid, sizeof o->clordid, "%s", bo->client_order_id);
    snprintf(o->venue_id, sizeof o->venue_id, "PB-%llu", (unsigned long long)o->seq);
    snprintf(o->symbol, sizeof o->symbol, "%s", bo->symbol);
    o->side = bo->side;
    o->type = bo->type;
    o->tif = bo->tif;
    o->px = bo->type == QTS_ORD_MARKET ? 0 : bo->px; /* a limit, or a stop's trigger */
    o->qty = bo->qty;
    o->state = PB_PENDING;
    o->instrument = bo->instrument;
    const struct qts_instrument *def =
        pb->host->instrument_find ? pb->host->instrument_find(pb->owner, bo->symbol) : NULL;
    if (def) {
        struct pb_inst *in = pb_inst_get(pb, def->id, def->px_exp, def->qty_exp);
        o->instrument = def->id;
        in->d.has_def = 1;
        snprintf(in->d.symbol, sizeof in->d.symbol, "%s", def->symbol);
        in->d.px_exp = def->px_exp;
        in->d.qty_exp = def->qty_exp;
        in->d.tick_size = def->tick_size;
        in->d.lot_size = def->lot_size;
        in->d.min_qty = def->min_qty;
    } else {
        o->instrument = UINT32_MAX; /* rejected on arrival as unknown */
    }
    pb_enqueue(pb, PB_ACT_NEW, o->clordid, 0, 0);
    return 0;
}

static int pb_cancel(void *self, const char *clordid, const char *venue_order_id)
{
    struct pb *pb = self;
    if ((!clordid || !clordid[0]) && venue_order_id && venue_order_id[0]) {
        /* cancel by venue id: resolve it to the client id we know */
        for (uint32_t i = 0; i < pb->n_ord; i++)
            if (pb->ord[i]->state != PB_DONE && strcmp(pb->ord[i]->venue_id, venue_order_id) == 0)
                clordid = pb->ord[i]->clordid;
    }
    if (!clordid || !clordid[0])
        return QTS_EINVAL;
    pb_enqueue(pb, PB_ACT_CANCEL, clordid, 0, 0);
    return 0;
}

static int pb_modify(void *self, const struct qts_broker_modify *m)
{
    struct pb *pb = self;
    if (!m || !m->client_order_id[0] || m->new_qty <= 0 || m->new_px < 0)
        return QTS_EINVAL;
    pb_enqueue(pb, PB_ACT_MODIFY, m->client_order_id, m->new_px, m->new_qty);
    return 0;
}

static int pb_query_open_orders(void *self, uint64_t req_id)
{
    struct pb *pb = self;
    for (uint32_t i = 0; i < pb->n_ord; i++)
        if (pb->ord[i]->state == PB_RESTING)
            pb_report(pb, pb->ord[i], QTS_EXEC_STATUS, pb->vnow, 0, NULL);
    if (pb->host->emit_query_done)
        pb->host->emit_query_done(pb->owner, req_id, 0);
    return 0;
}

static int pb_query_positions(void *self, uint64_t req_id)
{
    struct pb *pb = self;
    for (uint32_t i = 0; i < pb->n_inst; i++) {
        const struct pb_inst *in = &pb->inst[i];
        if (!in->d.position || !pb->host->emit_position)
            continue;
        struct qts_broker_position p;
        memset(&p, 0, sizeof p);
        p.struct_size = sizeof p;
        p.instrument = in->d.id;
        memcpy(p.symbol, in->d.symbol, sizeof p.symbol);
        p.px_exp = in->d.px_exp;
        p.qty_exp = in->d.qty_exp;
        p.qty = in->d.position;
        p.avg_px = pb_avg_px(in);
        pb->host->emit_position(pb->owner, &p);
    }
    if (pb->host->emit_query_done)
        pb->host->emit_query_done(pb->owner, req_id, 0);
    return 0;
}

static int64_t ev_time(const struct qts_ev_hdr *h)
{
    return h->ts_exch_ns ? h->ts_exch_ns : h->ts_recv_ns;
}

static void pb_on_market(void *self, const struct qts_ev_hdr *ev)
{
    struct pb *pb = self;
    if (!ev)
        return;
    pb->depth++;
    pb_advance(pb, ev_time(ev));
    if (ev->type == QTS_EV_BAR && ev->ts_recv_ns > ev_time(ev))
        pb_advance(pb, ev->ts_recv_ns); /* a bar is known at its close */
    struct pb_inst *in = pb_inst_get(pb, ev->instrument, ev->px_exp, ev->qty_exp);
    int64_t ts = max64(ev_time(ev), pb->vnow);
    if (ev->type == QTS_EV_TRADE || ev->type == QTS_EV_QUOTE || ev->type == QTS_EV_BOOK)
        in->d.has_tick = 1; /* finer than bars: these fill from now on */
    switch (ev->type) {
    case QTS_EV_BAR:
        if (ev->struct_size >= sizeof(struct qts_bar))
            pb_on_bar(pb, in, (const struct qts_bar *)ev, ts);
        break;
    case QTS_EV_TRADE: {
        if (ev->struct_size < sizeof(struct qts_trade))
            break;
        const struct qts_trade *t = (const struct qts_trade *)ev;
        in->d.last_trade_px = t->px;
        if (pb->cfg.impact != PB_IMPACT_NONE)
            pb_vol_add(pb, in, ev_time(ev), t->qty);
        if (t->qty <= 0)
            break;
        if (t->aggressor != QTS_SIDE_BUY)
            pb_on_trade_side(pb, in, t, QTS_SIDE_BUY, ts);
        if (t->aggressor != QTS_SIDE_SELL)
            pb_on_trade_side(pb, in, t, QTS_SIDE_SELL, ts);
        break;
    }
    case QTS_EV_QUOTE: {
        const struct qts_quote *q = (const struct qts_quote *)ev;
        if (ev->struct_size < sizeof(struct qts_quote) || in->d.has_l2)
            break; /* the L2 book is the better source */
        pb_levels_before(pb, in);
        in->bid.n = in->ask.n = 0;
        pb_side_set(pb, &in->bid, true, q->bid_px, q->bid_qty);
        pb_side_set(pb, &in->ask, false, q->ask_px, q->ask_qty);
        pb_levels_after(pb, in, ts, true);
        break;
    }
    case QTS_EV_BOOK: {
        const struct qts_book_update *b = (const struct qts_book_update *)ev;
        if (ev->struct_size < sizeof(struct qts_book_update) || (b->n_bids && !b->bids) ||
            (b->n_asks && !b->asks))
            break;
        pb_levels_before(pb, in);
        if (ev->flags & QTS_BOOK_SNAPSHOT)
            in->bid.n = in->ask.n = 0;
        in->d.has_l2 = 1;
        pb_side_apply(pb, &in->bid, true, b->bids, b->n_bids);
        pb_side_apply(pb, &in->ask, false, b->asks, b->n_asks);
        pb_levels_after(pb, in, ts, false);
        break;
    }
    default: break;
    }
    pb->applied_ns = max64(pb->applied_ns, ev_time(ev));
    pb->depth--;
    pb_gc_orders(pb);
    pb_arm_timer(pb);
}

static void pb_on_data_end(void *self) { pb_bars_data_end(self); }

static const struct qts_broker_ops pb_ops = {.struct_size = sizeof(struct qts_broker_ops),
                                             .env = pb_env,
                                             .submit = pb_submit,
                                             .cancel = pb_cancel,
                                             .modify = pb_modify,
                                             .query_open_orders = pb_query_open_orders,
                                             .query_positions = pb_query_positions,
                                             .on_market = pb_on_market,
                                             .on_data_end = pb_on_data_end};

/* ----------------------------------------------------------------- lifecycle */

static int cfg_i64(struct pb *pb, const char *key, int64_t *out, int64_t min, struct qts_err *err)
{
    int rc = pb->host->cfg_int(pb->owner, key, out, err);
    if (rc == QTS_ENOENT)
        return 0;
    if (rc)
        return rc;
    if (*out < min)
        return qts_err_set(err, QTS_ECONFIG, "broker_paper: %s must be >= %lld", key,
                           (long long)min);
    return 0;
}

static int cfg_dbl(struct pb *pb, const char *key, double *out, struct qts_err *err)
{
    int rc = pb->host->cfg_double(pb->owner, key, out, err);
    return rc == QTS_ENOENT ? 0 : rc;
}

static int cfg_flag(struct pb *pb, const char *key, bool *out, struct qts_err *err)
{
    int rc = pb->host->cfg_bool(pb->owner, key, out, err);
    return rc == QTS_ENOENT ? 0 : rc;
}

static int64_t llround_pos(double v) { return (int64_t)(v < 0 ? v - 0.5 : v + 0.5); }

static void pb_destroy(void *self);

/* A learned model file (host impact_model.c format): "<symbol> n=.. k=..
 * beta=.. ..." per line; other tokens are ignored. */
static int load_learned(struct pb *pb, const char *path, struct qts_err *err)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return qts_err_set(err, QTS_ECONFIG, "broker_paper: impact_file %s: cannot open", path);
    char line[4096];
    uint32_t cap = 0;
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#' || line[0] == '\n')
            continue;
        struct pb_learned l;
        memset(&l, 0, sizeof l);
        char *save = NULL, *tok = strtok_r(line, " \n", &save);
        if (!tok)
            continue;
        snprintf(l.symbol, sizeof l.symbol, "%s", tok);
        while ((tok = strtok_r(NULL, " \n", &save))) {
            if (strncmp(tok, "n=", 2) == 0)
                l.n = strtod(tok + 2, NULL);
            else if (strncmp(tok, "k=", 2) == 0)
                l.k = strtod(tok + 2, NULL);
            else if (strncmp(tok, "beta=", 5) == 0)
                l.beta = strtod(tok + 5, NULL);
        }
        pb->learned = pb_grow(pb, pb->learned, pb->n_learned, &cap, sizeof *pb->learned);
        pb->learned[pb->n_learned++] = l;
    }
    fclose(f);
    return 0;
}

static int impact_config(struct pb *pb, struct qts_err *err)
{
    struct pb_cfg *c = &pb->cfg;
    c->impact_exponent = 0.5;
    c->impact_window_ns = 60000000000LL;
    const char *model = NULL, *file = NULL;
    int rc =
        pb->host->cfg_str ? pb->host->cfg_str(pb->owner, "impact_model", &model, err) : QTS_ENOENT;
    if (rc && rc != QTS_ENOENT)
        return rc;
    if ((rc = cfg_dbl(pb, "impact_coef_bps", &c->impact_coef_bps, err)) ||
        (rc = cfg_dbl(pb, "impact_exponent", &c->impact_exponent, err)) ||
        (rc = cfg_i64(pb, "impact_window_ns", &c->impact_window_ns, 1, err)))
        return rc;
    if (!model || strcmp(model, "none") == 0)
        c->impact = PB_IMPACT_NONE;
    else if (strcmp(model, "power") == 0)
        c->impact = PB_IMPACT_POWER;
    else if (strcmp(model, "learned") == 0)
        c->impact = PB_IMPACT_LEARNED;
    else
        return qts_err_set(err, QTS_ECONFIG,
                           "broker_paper: impact_model '%s': use none, power or learned", model);
    if (!(c->impact_coef_bps >= 0 && c->impact_coef_bps <= 10000) ||
        !(c->impact_exponent > 0 && c->impact_exponent <= 3))
        return qts_err_set(err, QTS_ECONFIG,
                           "broker_paper: impact_coef_bps within [0, 10000], impact_exponent "
                           "within (0, 3]");
    if (c->impact == PB_IMPACT_LEARNED) {
        rc = pb->host->cfg_str ? pb->host->cfg_str(pb->owner, "impact_file", &file, err)
                               : QTS_ENOENT;
        if (rc || !file)
            return qts_err_set(err, QTS_ECONFIG,
                               "broker_paper: impact_model learned needs impact_file");
        return load_learned(pb, file, err);
    }
    return 0;
}

static int pb_init(const struct qts_host_api *host, void *owner, void **self, struct qts_err *err)
{
    if (!host || host->struct_size < offsetof(struct qts_host_api, http_request) || !host->alloc ||
        !host->free || !host->now_ns || !host->emit_exec_report || !host->cfg_int ||
        !host->cfg_double || !host->cfg_bool)
        return qts_err_set(err, QTS_EABI, "broker_paper: host services missing");
    struct pb *pb = host->alloc(owner, sizeof *pb);
    if (!pb)
        return qts_err_set(err, QTS_ENOMEM, "broker_paper: out of memory");
    memset(pb, 0, sizeof *pb);
    pb->host = host;
    pb->owner = owner;
    struct pb_cfg *c = &pb->cfg;
    c->order_latency_ns = 1000000;
    c->seed = 1;
    c->check_cash = true;
    double maker_bps = 10.0, taker_bps = 10.0, band_bps = 1000.0, cash = 1000000.0;
    const char *bar_fill = NULL;
    int64_t seed = 1;
    int rc;
    if ((rc = cfg_i64(pb, "order_latency_ns", &c->order_latency_ns, 0, err)) ||
        (rc = cfg_i64(pb, "feed_latency_ns", &c->feed_latency_ns, 0, err)) ||
        (rc = cfg_i64(pb, "latency_jitter_ns", &c->jitter_ns, 0, err)) ||
        (rc = cfg_i64(pb, "seed", &seed, INT64_MIN, err)) ||
        (rc = cfg_dbl(pb, "maker_fee_bps", &maker_bps, err)) ||
        (rc = cfg_dbl(pb, "taker_fee_bps", &taker_bps, err)) ||
        (rc = cfg_dbl(pb, "price_band_bps", &band_bps, err)) ||
        (rc = cfg_dbl(pb, "initial_cash", &cash, err)) ||
        (rc = cfg_flag(pb, "allow_short", &c->allow_short, err)) ||
        (rc = cfg_flag(pb, "check_cash", &c->check_cash, err)) ||
        (rc = cfg_dbl(pb, "bar_volume_cap", &c->bar_volume_cap, err)) ||
        (rc = cfg_i64(pb, "slippage_ticks", &c->slippage_ticks, 0, err)) ||
        (rc = cfg_dbl(pb, "slippage_bps", &c->slippage_bps, err))) {
        pb_destroy(pb);
        return rc;
    }
    const char *rule = NULL;
    rc = host->cfg_str ? host->cfg_str(owner, "queue_cancel_rule", &rule, err) : QTS_ENOENT;
    if (rc && rc != QTS_ENOENT) {
        pb_destroy(pb);
        return rc;
    }
    if (rule && strcmp(rule, "pro_rata") == 0)
        c->cancel_rule = PB_CANCEL_PRO_RATA;
    else if (rule && strcmp(rule, "front") == 0)
        c->cancel_rule = PB_CANCEL_FRONT;
    else if (rule && strcmp(rule, "back") == 0)
        c->cancel_rule = PB_CANCEL_BACK;
    else if (rule) {
        pb_destroy(pb);
        return qts_err_set(err, QTS_ECONFIG,
                           "broker_paper: queue_cancel_rule '%s': use pro_rata, front or back",
                           rule);
    }
    rc = host->cfg_str ? host->cfg_str(owner, "bar_fill", &bar_fill, err) : QTS_ENOENT;
    if (rc && rc != QTS_ENOENT) {
        pb_destroy(pb);
        return rc;
    }
    if (!bar_fill || strcmp(bar_fill, "next_open") == 0)
        c->bar_fill = PB_BAR_NEXT_OPEN;
    else if (strcmp(bar_fill, "close") == 0)
        c->bar_fill = PB_BAR_CLOSE;
    else {
        pb_destroy(pb);
        return qts_err_set(err, QTS_ECONFIG, "broker_paper: bar_fill '%s': use next_open or close",
                           bar_fill);
    }
    if (!(c->bar_volume_cap >= 0 && c->bar_volume_cap <= 1) ||
        !(c->slippage_bps >= 0 && c->slippage_bps <= 1000)) {
        pb_destroy(pb);
        return qts_err_set(err, QTS_ECONFIG,
                           "broker_paper: bar_volume_cap within [0, 1], slippage_bps within "
                           "[0, 1000]");
    }
    if (band_bps < 0 || cash < 0 || cash > 9e12 || maker_bps < -1000 || maker_bps > 1000 ||
        taker_bps < -1000 || taker_bps > 1000) {
        pb_destroy(pb);
        return qts_err_set(err, QTS_ECONFIG,
                           "broker_paper: fee bps within +-1000, price_band_bps >= 0, "
                           "0 <= initial_cash <= 9e12");
    }
    rc = impact_config(pb, err);
    if (rc != 0) {
        pb_destroy(pb);
        return rc;
    }
    c->seed = (uint64_t)seed;
    c->maker_fee_e8 = llround_pos(maker_bps * 10000.0);
    c->taker_fee_e8 = llround_pos(taker_bps * 10000.0);
    c->band_bps = llround_pos(band_bps);
    c->initial_cash = llround_pos(cash * 1e6);
    pb->rng = c->seed;
    pb->cash = c->initial_cash;
    pb->next_seq = 1;
    *self = pb;
    return 0;
}

static int pb_start(void *self, struct qts_err *err)
{
    struct pb *pb = self;
    (void)err;
    if (pb->host->log)
        pb->host->log(pb->owner, QTS_LOG_INFO,
                      "broker_paper started order_latency_ns=%lld feed_latency_ns=%lld "
                      "jitter_ns=%lld seed=%llu maker_fee_e8=%lld taker_fee_e8=%lld "
                      "band_bps=%lld allow_short=%d check_cash=%d cancel_rule=%d "
                      "initial_cash=%lld.%06lld bar_fill=%s",
                      (long long)pb->cfg.order_latency_ns, (long long)pb->cfg.feed_latency_ns,
                      (long long)pb->cfg.jitter_ns, (unsigned long long)pb->cfg.seed,
                      (long long)pb->cfg.maker_fee_e8, (long long)pb->cfg.taker_fee_e8,
                      (long long)pb->cfg.band_bps, pb->cfg.allow_short, pb->cfg.check_cash,
                      pb->cfg.cancel_rule, (long long)(pb->cfg.initial_cash / 1000000),
                      (long long)(pb->cfg.initial_cash % 1000000),
                      pb->cfg.bar_fill == PB_BAR_CLOSE ? "close" : "next_open");
    return 0;
}

static int pb_stop(void *self)
{
    struct pb *pb = self;
    pb->stopping = true;
    if (pb->timer_armed && pb->host->timer_stop)
        pb->host->timer_stop(pb->owner, pb->timer_id);
    pb->timer_armed = false;
    return 0;
}

static void pb_destroy(void *self)
{
    struct pb *pb = self;
    if (!pb)
        return;
    if (pb->timer_armed && pb->host->timer_stop)
        pb->host->timer_stop(pb->owner, pb->timer_id);
    for (uint32_t i = 0; i < pb->n_inst; i++) {
        if (pb->inst[i].vol.ts) {
            pb->host->free(pb->owner, pb->inst[i].vol.ts);
            pb->host->free(pb->owner, pb->inst[i].vol.qty);
        }
        if (pb->inst[i].resting)
            pb->host->free(pb->owner, pb->inst[i].resting);
        if (pb->inst[i].bid.v)
            pb->host->free(pb->owner, pb->inst[i].bid.v);
        if (pb->inst[i].ask.v)
            pb->host->free(pb->owner, pb->inst[i].ask.v);
    }
    if (pb->inst)
        pb->host->free(pb->owner, pb->inst);
    for (uint32_t i = 0; i < pb->n_ord; i++)
        pb->host->free(pb->owner, pb->ord[i]);
    if (pb->ord)
        pb->host->free(pb->owner, pb->ord);
    if (pb->scratch)
        pb->host->free(pb->owner, pb->scratch);
    if (pb->learned)
        pb->host->free(pb->owner, pb->learned);
    if (pb->act)
        pb->host->free(pb->owner, pb->act);
    pb->host->free(pb->owner, pb);
}

/* Every key of the plugin's config: (docs/paper-broker.md); the defaults
 * are the ones pb_init and impact_config start from. */
static const struct qts_cfg_key pb_keys[] = {
    QTS_CFG_INT("order_latency_ns", "1000000",
                "one-way time from the host sending a request to the venue acting on it"),
    QTS_CFG_INT("feed_latency_ns", "0",
                "time from the venue publishing market data to the strategy seeing it"),
    QTS_CFG_INT("latency_jitter_ns", "0", "extra latency per request, uniform in [0, jitter]"),
    QTS_CFG_INT("seed", "1", "seed of the latency and queue models' generator"),
    QTS_CFG_DEC("maker_fee_bps", "10", "fee on passive fills, basis points; negative = rebate"),
    QTS_CFG_DEC("taker_fee_bps", "10", "fee on aggressive fills, basis points"),
    QTS_CFG_DEC("price_band_bps", "1000",
                "reject limit prices further than this from the reference; 0 = off"),
    QTS_CFG_DEC("initial_cash", NULL,
                "cash of the simulated account; unset: the host's account.initial_cash"),
    QTS_CFG_BOOL("allow_short", "false", "allow sells beyond the held position"),
    QTS_CFG_BOOL("check_cash", "true", "reject buys the free cash cannot pay for"),
    QTS_CFG_STR("queue_cancel_rule", "pro_rata",
                "where cancels at our price sit in the queue: pro_rata, front or back"),
    QTS_CFG_STR("impact_model", "none", "market impact of taking orders: none, power or learned"),
    QTS_CFG_DEC("impact_coef_bps", "0", "power model: k of impact_bps = k * (qty / V)^beta"),
    QTS_CFG_DEC("impact_exponent", "0.5", "power model: beta"),
    QTS_CFG_INT("impact_window_ns", "60000000000",
                "V = quantity traded at the venue within this window"),
    QTS_CFG_STR("impact_file", NULL, "learned model: the model file the host wrote"),
    QTS_CFG_STR("bar_fill", "next_open",
                "bar data: market orders fill at the next bar's open (next_open) or at the "
                "last bar's close (close)"),
    QTS_CFG_DEC("bar_volume_cap", "0",
                "bar data: at most this fraction of a bar's volume fills our orders; 0 = no cap"),
    QTS_CFG_INT("slippage_ticks", "0", "bar data: market fills this many ticks against us"),
    QTS_CFG_DEC("slippage_bps", "0",
                "bar data: market fills this many basis points against us (to the tick)"),
    QTS_CFG_END};

QTS_PLUGIN_DEFINE("broker_paper", QTS_KIND_BROKER, "1.0.0", &pb_ops, pb_keys, QTS_CAP_STATE_XFER,
                  .init = pb_init, .start = pb_start, .stop = pb_stop, .destroy = pb_destroy,
                  .export_state = pb_export, .import_state = pb_import);
