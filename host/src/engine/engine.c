/* engine.c — see engine.h: market events, the sinks, the execution
 * pipeline, teardown (engine_int.h lists the other files). */
#include "engine_int.h"

/* ------------------------------------------------------------ market state */

static struct mkt_state *mkt_get(struct qts_engine *e, uint32_t id)
{
    if (id >= e->n_mkt) {
        size_t n = e->n_mkt ? e->n_mkt : 8;
        while (n <= id)
            n *= 2;
        e->mkt = qts_xrealloc(e->mkt, n * sizeof *e->mkt);
        memset(e->mkt + e->n_mkt, 0, (n - e->n_mkt) * sizeof *e->mkt);
        e->n_mkt = n;
    }
    return &e->mkt[id];
}

int qts__engine_market(void *ctx, uint32_t instrument, struct qts_mkt_ref *out)
{
    struct qts_engine *e = ctx;
    if (instrument >= e->n_mkt)
        return QTS_ENOENT;
    const struct mkt_state *m = &e->mkt[instrument];
    if (!m->bid && !m->ask && !m->last)
        return QTS_ENOENT;
    out->bid = m->bid;
    out->ask = m->ask;
    out->last = m->last;
    out->ts_ns = m->ts_ns;
    return 0;
}

/* AdaptiveAdjust's fill-probability estimate (execution feedback). */
static double fb_fill_prob(void *ctx, uint32_t instrument, double dist_ticks, double horizon_s)
{
    struct qts_engine *e = ctx;
    const struct qts_instrument *in = qts_instruments_get(e->instruments, instrument);
    if (!e->fb || !in)
        return NAN;
    return qts_impact_fill_prob(qts_feedback_model(e->fb), in->symbol, dist_ticks, horizon_s);
}

const struct qts_instrument *qts__engine_instrument(void *ctx, uint32_t id)
{
    struct qts_engine *e = ctx;
    return qts_instruments_get(e->instruments, id);
}

static int64_t prov_cash(void *ctx, uint32_t strategy_id)
{
    (void)strategy_id; /* one account: every strategy draws on the same cash */
    struct qts_engine *e = ctx;
    /* the venue's figure at start moved by what this host spent or received
     * since: never promise more than the account holds */
    int64_t gap = e->venue_cash_gap;
    return qts_portfolio_cash(e->portfolio) + (gap < 0 ? gap : 0);
}

/* --------------------------------------------------------- execution sink */

static void exec_on_order(void *ctx, const struct qts_order_event *ev)
{
    struct qts_engine *e = ctx;
    if (ev->kind == QTS_OE_REJECTED)
        e->stats.rejected++;
    qts_bus_order(&e->bus, ev);
}

static void exec_on_fill(void *ctx, const struct qts_fill *f)
{
    struct qts_engine *e = ctx;
    e->stats.fills++;
    qts_bus_fill(&e->bus, f);
}

static void exec_on_safety(void *ctx, int code, const char *msg)
{
    struct qts_engine *e = ctx;
    struct qts_safety_change c = {.code = code, .msg = msg};
    qts_bus_safety(&e->bus, &c);
}

static void exec_on_recon(void *ctx, const struct qts_recon_diff *d)
{
    (void)ctx;
    /* the OMS logged it (WARN) with the figures */
    QTS_DEBUG("reconciliation difference kind=%d clordid=%s", (int)d->kind, d->client_order_id);
}

/* ------------------------------------------------------------ runtime sink */

/* The PreCheck outcome of an intent as a decision record (bus_sub.h).
 * A rejection's text starts with its code ("GR117: ..."). */
static void publish_precheck_decision(struct qts_engine *e, const struct qts_order_intent *in,
                                      uint64_t order_id, int rc, const char *why)
{
    const struct qts_instrument *inst = qts_instruments_get(e->instruments, in->instrument);
    char codes[16] = "";
    const char *reason = "";
    if (rc != 0) {
        size_t n = strcspn(why, ":");
        if (why[n] == ':' && n < sizeof codes) {
            memcpy(codes, why, n);
            codes[n] = '\0';
            reason = why + n + (why[n + 1] == ' ' ? 2 : 1);
        } else {
            reason = why;
        }
        qts__engine_count_code(e->reject_counts, QTS_ARRAY_LEN(e->reject_counts),
                               codes[0] ? codes : "other");
    }
    struct qts_decision d = {
        .ts_ns = qts_clock_now(&e->clock),
        .intent = in,
        .symbol = inst ? inst->symbol : "",
        .px_exp = inst ? inst->px_exp : 0,
        .qty_exp = inst ? inst->qty_exp : 0,
        .qty_decided = rc == 0 ? in->qty : 0,
        .px_decided = in->px,
        .stage = "precheck",
        .outcome = rc == 0 ? "accepted" : "rejected",
        .codes = codes,
        .reason = reason,
        .inputs = "{}",
        .order_id = order_id,
    };
    qts_bus_decision(&e->bus, &d);
}

int qts__engine_rt_submit(void *ctx, const struct qts_order_intent *in)
{
    struct qts_engine *e = ctx;
    e->stats.intents++;
    if (e->killed)
        return QTS_EHALTED;
    uint64_t id = 0;
    struct qts_err err;
    qts_err_clear(&err);
    struct qts_order_intent fb_in = *in; /* feedback may resize, reprice or defer it */
    int rc = qts_feedback_pub_decide(&e->fb_pub, &fb_in);
    if (rc != 0)
        return rc;
    in = &fb_in;
    rc = qts_exec_submit(e->exec, in, &id, &err);
    if (rc == 0) /* feedback: decision mid, market context */
        qts_feedback_pub_submit(&e->fb_pub, id, in);
    if (rc == 0 || rc == QTS_ERISK)
        publish_precheck_decision(e, in, id, rc, err.msg);
    /* A PreCheck rejection has already reached the strategy as an order
     * event: do not make the runtime send a second one. */
    return rc == QTS_ERISK ? 0 : rc;
}

static int rt_cancel(void *ctx, uint32_t strategy_id, uint64_t order_id)
{
    struct qts_engine *e = ctx;
    struct qts_precheck_reject rej;
    if (e->risk && qts_risk_control_cancel_allowed(e->risk, strategy_id, &rej) != 0) {
        QTS_WARN("cancel refused strategy=%u order=%" PRIu64 " %s: %s", strategy_id, order_id,
                 rej.code_str, rej.msg);
        return QTS_ERATELIMIT;
    }
    return qts_exec_cancel_by(e->exec, strategy_id, order_id, "strategy cancel");
}

static int rt_cancel_all(void *ctx, uint32_t strategy_id)
{
    struct qts_engine *e = ctx;
    return (int)qts_exec_cancel_strategy(e->exec, strategy_id, "strategy stopped");
}

static void rt_state(void *ctx, uint32_t strategy_id, int state, const char *reason)
{
    (void)ctx;
    QTS_WARN("strategy id=%u state=%s reason=%s", strategy_id, qts_lua_state_name(state),
             reason ? reason : "");
}

/* ---------------------------------------------------------- market events */

/* Everything that happens before an event at `ts` is applied: the clock
 * moves (replay) and timers due before it fire, in time order. */
static void advance_time(struct qts_engine *e, int64_t ts)
{
    if (e->set->mode != QTS_MODE_REPLAY || ts <= 0)
        return;
    int64_t now = qts_clock_now(&e->clock);
    if (now == 0) { /* first event: start the clock here, nothing is due yet */
        qts_clock_advance_to(&e->clock, ts);
        return;
    }
    if (ts > now)
        qts_fake_timers_advance(&e->timers, ts - now);
}

static void sample_equity(struct qts_engine *e, int64_t ts)
{
    if (ts >= e->next_sample_ns) {
        qts_portfolio_sample(e->portfolio, ts);
        e->next_sample_ns = (ts / EQUITY_SAMPLE_NS + 1) * EQUITY_SAMPLE_NS;
    }
}

static int64_t event_time(const struct qts_ev_hdr *h)
{
    if (h->type == QTS_EV_BAR) /* a bar is known at its close */
        return h->ts_exch_ns + ((const struct qts_bar *)h)->period_ns;
    return h->ts_exch_ns;
}

/* Apply one market event to the host's own state and the simulated venue:
 * clock and timers, book, last price, the bus's market subscribers,
 * broker.on_market. */
static void commit_event(struct qts_engine *e, const struct qts_ev_hdr *h)
{
    int64_t ts = event_time(h);
    advance_time(e, ts);
    struct mkt_state *m = mkt_get(e, h->instrument);
    switch (h->type) {
    case QTS_EV_TRADE: {
        const struct qts_trade *t = (const struct qts_trade *)h;
        m->last = t->px;
        e->stats.trades++;
        break;
    }
    case QTS_EV_QUOTE: {
        const struct qts_quote *q = (const struct qts_quote *)h;
        if (!m->has_book) { /* a book, when there is one, is the better source */
            m->bid = q->bid_px;
            m->ask = q->ask_px;
        }
        e->stats.quotes++;
        break;
    }
    case QTS_EV_BOOK: {
        struct qts_book *book = qts_book_set_get(&e->books, h->instrument);
        m->has_book = true;
        if (qts_book_apply(book, (const struct qts_book_update *)h) < 0)
            e->stats.book_errors++;
        struct qts_level lv;
        if (qts_book_best_bid(book, &lv))
            m->bid = lv.px;
        if (qts_book_best_ask(book, &lv))
            m->ask = lv.px;
        e->stats.books++;
        break;
    }
    case QTS_EV_BAR: {
        const struct qts_bar *b = (const struct qts_bar *)h;
        m->last = b->close;
        e->stats.bars++;
        break;
    }
    default: break;
    }
    m->ts_ns = ts;
    /* portfolio marks, risk prices, cache prices, TCA (docs/architecture.md) */
    struct qts_bus_market bm = {
        .ev = h, .bid = m->bid, .ask = m->ask, .last = m->last, .ts_ns = ts};
    qts_bus_market(&e->bus, &bm);
    e->stats.events++;
    if (!e->stats.first_ts_ns)
        e->stats.first_ts_ns = ts;
    if (ts > e->stats.last_ts_ns)
        e->stats.last_ts_ns = ts;
    if (e->has_broker) {
        struct qts_plugin_inst *b = qts_plugin_manager_current(e->plugins, "broker");
        const struct qts_plugin_desc *d = b ? qts_plugin_inst_desc(b) : NULL;
        const struct qts_broker_ops *ops = d ? d->ops : NULL;
        if (ops && ops->on_market) {
            qts_plugin_inst_enter(b);
            ops->on_market(qts_plugin_inst_self(b), h);
            qts_plugin_inst_leave(b);
        }
    }
    sample_equity(e, ts);
}

/* Process the replay batch. Order per event: the strategies see it, the
 * venue applies it (fills reach the strategies as P0 events), then the
 * orders the strategies placed on it go out — so a resting order can fill
 * on the event after it arrived, never on one before. While nothing is
 * working at the venue no fill can happen, so the strategies take the batch
 * in one go and stop at the first event on which one of them ordered
 * (lua_runtime.h); otherwise events go one by one. The result is the same
 * as one event at a time. */
void qts__engine_flush_batch(struct qts_engine *e)
{
    size_t off = 0;
    while (off < e->batch_n) {
        for (size_t i = off; i < e->batch_n; i++) {
            struct batch_ev *b = &e->batch[i];
            if (b->ev.h.type == QTS_EV_BOOK) {
                b->ev.book.bids = e->levels + b->bid_off;
                b->ev.book.asks = e->levels + b->ask_off;
            }
            e->batch_ptrs[i] = &b->ev.h;
        }
        size_t n = qts_exec_has_working_orders(e->exec) ? 1 : e->batch_n - off;
        size_t k = 0;
        int rc = qts_lua_runtime_step(e->rt, e->batch_ptrs + off, n, &k);
        if (rc == 0 && k == 0 && e->zero_steps++ < 8) {
            /* strategy timers due before the first event fired first: their
             * orders go out, then the same events are stepped again */
            qts_lua_runtime_drain(e->rt);
            continue;
        }
        e->zero_steps = 0;
        if (rc < 0 || k == 0)
            k = n; /* the runtime logged why; the venue still sees the data */
        for (size_t i = 0; i < k; i++)
            commit_event(e, e->batch_ptrs[off + i]);
        qts_lua_runtime_drain(e->rt);
        off += k;
    }
    e->batch_n = 0;
    e->n_levels = 0;
}

static size_t stash_levels(struct qts_engine *e, const struct qts_level *lv, uint32_t n)
{
    if (e->n_levels + n > e->cap_levels) {
        while (e->n_levels + n > e->cap_levels)
            e->cap_levels = e->cap_levels ? e->cap_levels * 2 : 4096;
        e->levels = qts_xrealloc(e->levels, e->cap_levels * sizeof *e->levels);
    }
    size_t off = e->n_levels;
    if (n)
        memcpy(e->levels + off, lv, n * sizeof *lv);
    e->n_levels += n;
    return off;
}

/* Live and paper: market data reaches the workers conflated per symbol, so
 * a worker must never depend on having seen every diff. It gets the top of
 * the host's book as a snapshot instead (LIVE_BOOK_LEVELS per side). */
#define LIVE_BOOK_LEVELS 20
static void post_book_snapshot(struct qts_engine *e, const struct qts_book_update *u)
{
    const struct qts_book *book = qts_book_set_find(&e->books, u->h.instrument);
    if (!book)
        return;
    struct qts_level bids[LIVE_BOOK_LEVELS], asks[LIVE_BOOK_LEVELS];
    struct qts_book_update snap = *u;
    snap.h.flags = QTS_BOOK_SNAPSHOT;
    snap.n_bids = (uint32_t)qts_book_depth(book, QTS_SIDE_BUY, bids, LIVE_BOOK_LEVELS);
    snap.n_asks = (uint32_t)qts_book_depth(book, QTS_SIDE_SELL, asks, LIVE_BOOK_LEVELS);
    snap.bids = bids;
    snap.asks = asks;
    qts_lua_runtime_post(e->rt, &snap.h);
}

/* Entry of every market event from a feed plugin (copied). */
static int on_market_event(struct qts_engine *e, const struct qts_ev_hdr *h, size_t size)
{
    /* a paced feed keeps an event that is not due for its next poll */
    if (e->polling_feed &&
        !qts__engine_feed_due(&e->feeds[e->polling_feed - 1], qts__ev_data_ns(h)))
        return QTS_EAGAIN;
    if (e->set->mode != QTS_MODE_REPLAY) {
        union ev_store copy;
        memcpy(&copy, h, size);
        copy.h.seq = ++e->seq;
        if (e->polling_feed)
            qts__engine_feed_restamp(&e->feeds[e->polling_feed - 1], &copy.h);
        commit_event(e, &copy.h);
        if (h->type == QTS_EV_BOOK)
            post_book_snapshot(e, &copy.book);
        else
            qts_lua_runtime_post(e->rt, &copy.h);
        qts_lua_runtime_drain(e->rt);
        return 0;
    }
    struct batch_ev *b = &e->batch[e->batch_n++];
    memcpy(&b->ev, h, size);
    b->ev.h.seq = ++e->seq;
    if (h->type == QTS_EV_BOOK) {
        const struct qts_book_update *u = (const struct qts_book_update *)h;
        b->bid_off = stash_levels(e, u->bids, u->n_bids);
        b->ask_off = stash_levels(e, u->asks, u->n_asks);
    }
    if (e->batch_n == BATCH_MAX || qts_exec_has_working_orders(e->exec))
        qts__engine_flush_batch(e);
    return 0;
}

/* The event sink's market operations: one per event type, all to
 * on_market_event (the event is copied there). */
#define MARKET_SINK(fn, type)                                                      \
    static int fn(void *ctx, const struct qts_plugin_origin *from, const type *ev) \
    {                                                                              \
        (void)from;                                                                \
        return on_market_event(ctx, &ev->h, sizeof *ev);                           \
    }
MARKET_SINK(sink_trade, struct qts_trade)
MARKET_SINK(sink_quote, struct qts_quote)
MARKET_SINK(sink_book, struct qts_book_update)
MARKET_SINK(sink_bar, struct qts_bar)
#undef MARKET_SINK

static int sink_exec_report(void *ctx, const struct qts_plugin_origin *from,
                            const struct qts_exec_report *rep)
{
    (void)from;
    struct qts_engine *e = ctx;
    e->stats.exec_reports++;
    if (e->sync)
        qts_startup_sync_on_status(e->sync, rep);
    int rc = qts_exec_on_report(e->exec, rep);
    qts_lua_runtime_drain(e->rt);
    return rc;
}

static int sink_position(void *ctx, const struct qts_plugin_origin *from,
                         const struct qts_broker_position *pos)
{
    (void)from;
    struct qts_engine *e = ctx;
    if (e->sync)
        qts_startup_sync_on_position(e->sync, pos);
    return qts_exec_on_position(e->exec, pos);
}

static int sink_buying_power(void *ctx, const struct qts_plugin_origin *from,
                             const struct qts_buying_power *bp)
{
    (void)from;
    struct qts_engine *e = ctx;
    if (!e->sync) {
        QTS_DEBUG("buying power answer after the start-up sync ignored req=%" PRIu64, bp->req_id);
        return 0;
    }
    qts_startup_sync_on_buying_power(e->sync, bp);
    return 0;
}

static int sink_query_done(void *ctx, const struct qts_plugin_origin *from, uint64_t req_id,
                           int status)
{
    (void)from;
    struct qts_engine *e = ctx;
    if (e->sync)
        qts_startup_sync_on_query_done(e->sync, req_id, status);
    if (qts_startup_sync_owns(req_id))
        return 0; /* a start-up query (late ones are dropped here) */
    return qts_exec_on_query_done(e->exec, req_id, status);
}

int qts__engine_define_instrument(void *ctx, const struct qts_instrument *inst, uint32_t *id_out)
{
    struct qts_engine *e = ctx;
    struct qts_err err;
    uint32_t id;
    bool existed = qts_instruments_find(e->instruments, inst->symbol) != NULL;
    int rc = qts_instruments_define(e->instruments, inst, &id, &err);
    if (rc != 0) {
        QTS_ERROR("instrument rejected: %s", err.msg);
        return rc;
    }
    if (!existed) {
        const struct qts_instrument *p = qts_instruments_get(e->instruments, id);
        qts_portfolio_set_symbol(e->portfolio, id, p->symbol);
        if (e->fb)
            qts_tca_add_instrument(qts_feedback_tca(e->fb), p);
        if (e->rt)
            qts_lua_runtime_add_instrument(e->rt, p);
    }
    if (id_out)
        *id_out = id;
    return 0;
}

static const struct qts_instrument *sink_instrument_find(void *ctx, const char *symbol)
{
    struct qts_engine *e = ctx;
    return qts_instruments_find(e->instruments, symbol);
}

/* The execution pipeline on the broker's operations, with the engine as
 * its providers (market, instruments, cash) and its sink (the bus). */
void qts__engine_open_exec(struct qts_engine *e, bool replay)
{
    struct qts_exec_params xp;
    qts_exec_params_default(&xp);
    qts_strlcpy(xp.host_id, e->set->host_id, sizeof xp.host_id);
    xp.max_ref_age_ms = e->set->exec_max_ref_age_ms;
    xp.price_band_pct = e->set->exec_price_band_pct;
    xp.max_children = (uint32_t)e->set->exec_max_children;
    xp.adjust_step_pct = e->set->exec_adjust_step_pct;
    xp.adjust_max_rounds = (uint32_t)e->set->exec_adjust_max_rounds;
    xp.adjust_interval_ms = e->set->exec_adjust_interval_ms;
    xp.max_slippage_pct = e->set->exec_max_slippage_pct;
    xp.monitor_timeout_ms = e->set->exec_monitor_timeout_ms;
    /* paper/live: client order ids "<host_id>-<n>" start at the wall-clock
     * second times 10^6, so a restarted host never reuses the ids of an
     * earlier run (the venue and the reconciliation still know those).
     * Replays keep 1, 2, ... for byte-identical output. */
    if (!replay)
        xp.first_clordid_seq = (uint64_t)(qts_wall_ns() / 1000000000LL) * 1000000u;
    /* retention of finished orders (oms.h) */
    xp.retain_orders = (uint32_t)e->set->exec_retain_orders;
    xp.retain_ms = e->set->exec_retain_ms;
    xp.evict_tombstones = (uint32_t)e->set->exec_evict_tombstones;
    struct qts_exec_env xe = {
        .timers = &e->timers,
        .clock = &e->clock,
        .prov = {.instrument = qts__engine_instrument,
                 .market = qts__engine_market,
                 .cash_available = prov_cash,
                 .ctx = e,
                 .fill_prob = fb_fill_prob},
        .sink = {.on_order = exec_on_order,
                 .on_fill = exec_on_fill,
                 .on_safety = exec_on_safety,
                 .on_recon = exec_on_recon,
                 .ctx = e},
    };
    if (e->has_broker) {
        struct qts_plugin_inst *b = qts_plugin_manager_current(e->plugins, "broker");
        xe.port.ops = qts_plugin_inst_desc(b)->ops;
        xe.port.self = qts_plugin_inst_self(b);
    }
    e->exec = qts_exec_new(&xp, &xe);
    e->budget_pub.exec = e->exec;
}

/* The runtime's way back: intents, cancels, state changes. */
void qts__engine_lua_sink(struct qts_engine *e, struct qts_lua_sink *out)
{
    *out = (struct qts_lua_sink){.struct_size = sizeof(struct qts_lua_sink),
                                 .ctx = e,
                                 .submit_intent = qts__engine_rt_submit,
                                 .submit_batch = qts__engine_decide_batch,
                                 .cancel = rt_cancel,
                                 .cancel_all = rt_cancel_all,
                                 .strategy_state = rt_state};
}

/* What plugins emit into: market data, execution reports, instruments. */
void qts__engine_event_sink(struct qts_engine *e)
{
    e->sink = (struct qts_event_sink){.ctx = e,
                                      .trade = sink_trade,
                                      .quote = sink_quote,
                                      .book = sink_book,
                                      .bar = sink_bar,
                                      .exec_report = sink_exec_report,
                                      .position = sink_position,
                                      .query_done = sink_query_done,
                                      .instrument_define = qts__engine_define_instrument,
                                      .instrument_find = sink_instrument_find,
                                      .buying_power = sink_buying_power};
}

void qts_engine_request_stop(struct qts_engine *e)
{
    e->stop_requested = 1;
    /* a paper/live loop may be asleep in uv_run with nothing due for a
     * long time: wake it so the stop takes effect now */
    if (e->signals_on)
        uv_async_send(&e->stop_wake);
}

size_t qts_engine_kill(struct qts_engine *e, const char *reason)
{
    e->killed = true;
    size_t n = e->risk ? qts_risk_control_kill(e->risk, "engine", reason ? reason : "kill switch")
                       : qts_exec_escape_all(e->exec, reason ? reason : "kill switch");
    QTS_WARN("kill switch: %zu orders cancelled, new orders refused", n);
    return n;
}

void qts_engine_get_stats(const struct qts_engine *e, struct qts_engine_stats *out)
{
    *out = e->stats;
}

const char *qts_engine_run_dir(const struct qts_engine *e) { return e->run_dir; }
const char *qts_engine_run_id(const struct qts_engine *e) { return e->run_id; }

const struct qts_portfolio *qts_engine_portfolio(const struct qts_engine *e)
{
    return e->portfolio;
}

size_t qts_engine_working_orders(const struct qts_engine *e)
{
    size_t n = 0;
    for (struct qts_parent *p = qts_oms_active_first(qts_exec_oms(e->exec)); p;
         p = qts_oms_active_next(p))
        n++;
    return n;
}

static void close_walk(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

void qts_engine_free(struct qts_engine *e)
{
    if (!e)
        return;
    qts__engine_metrics_stop(e); /* first: its timer reads everything below */
    e->fb_pub.fb = NULL;
    qts_feedback_free(e->fb); /* first: it posts to the runtime, reads orders and timers */
    e->fb = NULL;
    e->lua_pub.rt = NULL; /* events of the shutdown below reach no strategy */
    qts__engine_close_decide(e);
    if (e->rt)
        qts_lua_runtime_free(e->rt); /* on_stop for every strategy */
    if (e->has_holder)
        qts_config_unwatch_sighup(&e->cfg_holder);
    e->budget_pub.budget = NULL;
    qts_risk_budget_free(e->budget); /* gives its lease back; before the cache stops */
    e->cache_pub.writer = NULL;
    qts_cache_pub_stop(&e->cache_pub);
    qts_cache_cluster_free(e->cluster); /* releases its claims; before its plugin stops */
    e->cluster = NULL;
    qts_cache_writer_free(e->cache); /* before its plugin stops */
    if (e->risk) {                   /* closes the admin socket and its timers */
        e->risk_pub.host = NULL;
        qts_risk_control_free(e->risk);
        e->risk = NULL;
    }
    if (e->plugins) {
        /* execution timers still armed (an order whose reply was in flight
         * at the stop) must not reach the broker once it is unloaded */
        if (e->exec)
            qts_exec_set_port(e->exec, NULL);
        qts_store_writer_stop(e->writer); /* its thread calls the store slot */
        qts_plugin_manager_close(e->plugins);
        /* until every instance has drained and unloaded; not until the loop
         * is empty: an execution timer armed for a finished order (a
         * monitor, a retry) may be tens of seconds away */
        uv_run(&e->loop, UV_RUN_NOWAIT);
        while (!qts_plugin_manager_closed(e->plugins))
            uv_run(&e->loop, UV_RUN_ONCE);
    }
    if (e->exec)
        qts_exec_free(e->exec);
    e->store_pub.writer = NULL;
    qts_store_pub_free(&e->store_pub);
    qts_store_writer_free(e->writer);
    qts_store_plugin_close(e->store);
    if (e->plugins)
        qts_plugin_manager_free(e->plugins);
    if (e->http) {
        qts_http_client_close(e->http);
        uv_run(&e->loop, UV_RUN_DEFAULT);
    }
    if (e->timers.ops)
        qts_timer_svc_free(&e->timers);
    if (e->loop_ready) {
        uv_walk(&e->loop, close_walk, NULL);
        uv_run(&e->loop, UV_RUN_DEFAULT);
        uv_loop_close(&e->loop);
    }
    qts_book_set_cleanup(&e->books);
    free(e->mkt);
    free(e->levels);
    for (size_t i = 0; i < e->n_feeds; i++)
        free(e->feeds[i].name);
    free(e->feeds);
    if (e->has_holder)
        qts_config_holder_cleanup(&e->cfg_holder);
    qts_run_files_discard(&e->report_pub.files); /* a run that never ended: its .tmp files */
    qts_portfolio_free(e->portfolio);
    qts_store_restore_free(&e->restore);
    qts_bar_history_free(e->history); /* after the strategies: they read it */
    qts_metrics_free(e->metrics);
    qts_instruments_free(e->instruments);
    free(e->run_dir);
    qts_config_unref(e->cfg);
    free(e);
}
