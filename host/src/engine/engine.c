/* engine.c — see engine.h. */
#include "engine.h"

#include <errno.h>
#include <stddef.h>
#include <math.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include "admin_socket.h" /* qts_json_escape */
#include "book.h"
#include "cache_writer.h"
#include "clock.h"
#include "config.h"
#include "config_reload.h"
#include "settings.h"
#include "exec_pipeline.h"
#include "feedback.h"
#include "impact_model.h"
#include "http_client.h"
#include "instruments.h"
#include "log.h"
#include "lua_runtime.h"
#include "metrics.h"
#include "plugin_host.h"
#include "plugin_loader.h"
#include "plugin_manager.h"
#include "portfolio.h"
#include "report.h"
#include "risk_budget.h"
#include "risk_host.h"
#include "risk_portfolio.h"
#include "safety.h"
#include "store_plugin.h"
#include "store_writer.h"
#include "qts/qts_store.h"
#include "startup_sync.h"
#include "timer_svc.h"
#include "util.h"

#define REPLAY_POLL_BATCH 1024
#define EQUITY_SAMPLE_NS 1000000000LL /* one equity point per second of data time */

/* Latest market state per instrument, for PreCheck, AdaptiveAdjust and
 * marking the portfolio. Indexed by instrument id. */
struct mkt_state {
    struct qts_book book;
    bool has_book;
    int64_t bid, ask, last;
    int64_t ts_ns;
};

/* A market event waiting in the replay batch. Book levels live in the
 * batch's level buffer (offsets, so the buffer may grow). */
union ev_store {
    struct qts_ev_hdr h;
    struct qts_trade trade;
    struct qts_quote quote;
    struct qts_book_update book;
    struct qts_bar bar;
};

struct batch_ev {
    union ev_store ev;
    size_t bid_off, ask_off; /* into levels */
};

#define BATCH_MAX 1024

struct feed_slot {
    char *name;       /* owned: the slot name */
    bool at_eof;
};

struct qts_engine {
    struct qts_config *cfg; /* referenced */
    const struct qts_settings *set;
    struct qts_engine_opts opts;
    char *run_dir;          /* owned */

    uv_loop_t loop;
    bool loop_ready;
    struct qts_clock clock;
    struct qts_timer_svc timers;
    struct qts_instruments *instruments;
    struct qts_metrics *metrics;
    struct qts_http_client *http;
    struct qts_event_sink sink;
    struct qts_plugin_env penv;
    struct qts_plugin_manager *plugins;
    struct feed_slot *feeds;
    size_t n_feeds;
    bool has_broker;

    struct mkt_state *mkt; /* owned array, n_mkt entries */
    size_t n_mkt;

    struct qts_portfolio *portfolio;
    struct qts_store_plugin *store;       /* NULL: no `store:` configured */
    struct qts_cache_writer *cache;       /* NULL: no `cache:` configured */
    struct qts_risk_budget *budget;       /* NULL: no shared_budget.key */
    int64_t budget_held;                  /* exposure this host holds in the budget */
    struct qts_store_writer *writer;
    struct qts_exec *exec;
    struct qts_risk_portfolio risk_pf;    /* positions and equity for risk */
    struct qts_risk_host *risk;           /* pre-trade checks, risk loop, safety, admin */
    struct qts_config_holder cfg_holder;  /* SIGHUP reloads land here */
    bool has_holder;
    struct qts_lua_runtime *rt;
    struct qts_feedback *fb; /* execution feedback (TCA, impact model); NULL = off */
    struct qts_startup_sync *sync; /* owned while the start-up sync runs, else NULL */
    bool strategies_added;
    /* paper/live: the venue's buying power at the start-up sync minus the
     * portfolio's cash then (cash units); when negative the account holds
     * less than the portfolio thinks, and PreCheck's cash is lowered by it */
    int64_t venue_cash_gap;

    /* replay batch: events the strategies see before the venue does */
    struct batch_ev batch[BATCH_MAX];
    const struct qts_ev_hdr *batch_ptrs[BATCH_MAX];
    size_t batch_n;
    unsigned zero_steps;      /* consecutive steps that consumed nothing */
    struct qts_level *levels; /* owned */
    size_t n_levels, cap_levels;

    uint64_t seq;
    int64_t next_sample_ns;
    bool killed;
    volatile sig_atomic_t stop_requested;
    uv_async_t stop_wake;     /* wakes the loop for a stop asked from another thread;
                               * initialised with the signal handles (signals_on) */
    uv_signal_t sig_int, sig_term;
    bool signals_on;
    struct qts_engine_stats stats;
    int64_t last_progress_ns;
};

/* ------------------------------------------------------------ market state */

static void budget_settle(struct qts_engine *e);

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

static int prov_market(void *ctx, uint32_t instrument, struct qts_mkt_ref *out)
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

static const struct qts_instrument *prov_instrument(void *ctx, uint32_t id)
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

/* ------------------------------------------------------------ store records */

static void store_push(struct qts_engine *e, struct qts_store_record *h, uint16_t kind,
                       uint32_t size, int64_t ts)
{
    if (!e->writer)
        return;
    h->struct_size = size;
    h->kind = kind;
    h->ts_ns = ts;
    qts_store_writer_push(e->writer, h, NULL);
}

static const char *symbol_of(struct qts_engine *e, uint32_t instrument)
{
    const struct qts_instrument *inst = qts_instruments_get(e->instruments, instrument);
    return inst ? inst->symbol : "";
}

static void store_fill(struct qts_engine *e, const struct qts_fill *f)
{
    if (!e->writer)
        return;
    struct qts_store_fill r;
    memset(&r, 0, sizeof r);
    r.order_id = f->order_id;
    r.fill_id = f->fill_id;
    qts_strlcpy(r.symbol, symbol_of(e, f->h.instrument), sizeof r.symbol);
    qts_strlcpy(r.tag, f->tag, sizeof r.tag);
    r.side = f->side;
    r.is_maker = f->is_maker;
    r.px_exp = f->h.px_exp;
    r.qty_exp = f->h.qty_exp;
    r.px = f->px;
    r.qty = f->qty;
    r.fee = f->fee;
    store_push(e, &r.h, QTS_REC_FILL, sizeof r, f->h.ts_exch_ns);

    struct qts_store_ledger l;
    memset(&l, 0, sizeof l);
    qts_strlcpy(l.symbol, r.symbol, sizeof l.symbol);
    snprintf(l.strategy_tag, sizeof l.strategy_tag, "%u:%s", f->strategy_id, f->tag);
    snprintf(l.order_id, sizeof l.order_id, "%llu", (unsigned long long)f->order_id);
    qts_strlcpy(l.broker, e->set->broker.plugin ? e->set->broker.plugin : "", sizeof l.broker);
    l.side = f->side;
    l.px_exp = f->h.px_exp;
    l.qty_exp = f->h.qty_exp;
    l.qty = f->qty;
    l.px = f->px;
    l.amount = qts_cash_notional(f->px, f->h.px_exp, f->qty, f->h.qty_exp);
    l.fee = f->fee;
    l.realized_pnl = QTS_STORE_NULL;
    store_push(e, &l.h, QTS_REC_LEDGER, sizeof l, f->h.ts_exch_ns);
}

static void store_order_event(struct qts_engine *e, const struct qts_order_event *ev)
{
    if (!e->writer)
        return;
    struct qts_store_order_event r;
    memset(&r, 0, sizeof r);
    r.order_id = ev->order_id;
    snprintf(r.client_order_id, sizeof r.client_order_id, "%llu",
             (unsigned long long)ev->order_id);
    r.event = ev->kind;
    r.state = ev->state;
    r.px_exp = ev->h.px_exp;
    r.qty_exp = ev->h.qty_exp;
    r.code = ev->code;
    r.filled_qty = ev->filled_qty;
    r.leaves_qty = ev->leaves_qty;
    r.avg_px = ev->filled_qty ? ev->avg_px : QTS_STORE_NULL;
    qts_strlcpy(r.reason, ev->reason, sizeof r.reason);
    int64_t ts = ev->h.ts_exch_ns ? ev->h.ts_exch_ns : qts_clock_now(&e->clock);
    store_push(e, &r.h, QTS_REC_ORDER_EVENT, sizeof r, ts);
}

/* Positions at the end of a run (upserts keyed by symbol). */
static void store_positions(struct qts_engine *e, int64_t ts)
{
    if (!e->writer)
        return;
    const struct qts_position *v = NULL;
    size_t n = qts_portfolio_positions(e->portfolio, &v);
    for (size_t i = 0; i < n; i++) {
        struct qts_store_position r;
        memset(&r, 0, sizeof r);
        qts_strlcpy(r.symbol, symbol_of(e, v[i].instrument), sizeof r.symbol);
        r.px_exp = v[i].px_exp;
        r.qty_exp = v[i].qty_exp;
        r.qty = v[i].qty;
        r.avg_px = qts_position_avg_px(&v[i]);
        r.exposure_value = QTS_STORE_NULL;
        r.unrealized_pnl = qts_portfolio_position_unrealized(e->portfolio, &v[i]);
        r.exposure_pct = 0.0 / 0.0;
        store_push(e, &r.h, QTS_REC_POSITION, sizeof r, ts);
    }
}

static int open_store(struct qts_engine *e, struct qts_err *err)
{
    const struct qts_plugin_slot *slot = &e->set->store;
    if (!slot->plugin)
        return 0;
    /* set over the slot's `config:`: the database file under
     * paths.var_dir unless absolute, and the host's id by default */
    const char *kv[5];
    char db_path[1100];
    size_t k = 0;
    const char *path = qts_cfg_str(qts_cfg_get(slot->config, "path"));
    if (!path || path[0] != '/') {
        snprintf(db_path, sizeof db_path, "%s/%s", e->set->var_dir, path ? path : "qts.db");
        kv[k++] = "path";
        kv[k++] = db_path;
    }
    if (!qts_cfg_get(slot->config, "host_id")) {
        kv[k++] = "host_id";
        kv[k++] = e->set->host_id;
    }
    kv[k] = NULL;
    int rc = qts_store_plugin_add(e->plugins, slot->path, slot->config, kv, &e->store, err);
    if (rc != 0)
        return rc;
    const struct qts_store_port *port = qts_store_plugin_port(e->store);
    rc = port->ops->migrate(port->self, err); /* >= 0: migrations applied */
    if (rc < 0)
        return rc;
    char journal[1100];
    snprintf(journal, sizeof journal, "%s/store.journal", e->set->var_dir);
    struct qts_store_writer_opts wo = {.journal_path = journal};
    rc = qts_store_writer_new(port, &wo, &e->writer, err);
    if (rc == 0)
        rc = qts_store_writer_start(e->writer, err);
    if (rc == 0)
        QTS_INFO("store ready plugin=%s journal=%s", slot->plugin, journal);
    return rc;
}

/* ------------------------------------------------------------ cache tier */

static int64_t ts_ms_of(int64_t ns) { return ns / 1000000; }

static void cache_price(struct qts_engine *e, uint32_t instrument, const struct mkt_state *m,
                        uint8_t px_exp, uint8_t qty_exp)
{
    if (!e->cache)
        return;
    struct qts_cache_price p = {.bid = m->bid, .ask = m->ask, .last = m->last,
                                .ts_ms = ts_ms_of(m->ts_ns), .px_exp = px_exp,
                                .qty_exp = qty_exp};
    qts_cache_writer_price(e->cache, symbol_of(e, instrument), &p);
}

static void cache_position(struct qts_engine *e, uint32_t instrument, int64_t ts)
{
    if (!e->cache)
        return;
    const struct qts_position *pos = qts_portfolio_position(e->portfolio, instrument);
    if (!pos)
        return;
    struct qts_cache_position c = {
        .qty = pos->qty,
        .avg_px = qts_position_avg_px(pos),
        .unrealized_pnl = qts_portfolio_position_unrealized(e->portfolio, pos),
        .ts_ms = ts_ms_of(ts),
        .px_exp = pos->px_exp,
        .qty_exp = pos->qty_exp,
    };
    qts_cache_writer_position(e->cache, symbol_of(e, instrument), &c);
}

static void cache_order(struct qts_engine *e, const struct qts_order_event *ev)
{
    if (!e->cache)
        return;
    static const char *const names[] = {"", "ACCEPTED", "REJECTED", "CANCELLED", "FILLED",
                                        "ESCAPED", "FAILED", "EXPIRED", "REPLACED"};
    struct qts_cache_order o = {
        .symbol = symbol_of(e, ev->h.instrument),
        .status = ev->kind < QTS_ARRAY_LEN(names) ? names[ev->kind] : "UNKNOWN",
        .side = ev->side,
        .qty = ev->filled_qty + (ev->leaves_qty > 0 ? ev->leaves_qty : 0),
        .filled_qty = ev->filled_qty,
        .pending_qty = ev->leaves_qty > 0 ? ev->leaves_qty : 0,
        .avg_fill_px = ev->avg_px,
        .ts_ms = ts_ms_of(qts_clock_now(&e->clock)),
        .px_exp = ev->h.px_exp,
        .qty_exp = ev->h.qty_exp,
        .is_terminal = ev->kind != QTS_OE_ACCEPTED && ev->kind != QTS_OE_REPLACED,
    };
    qts_cache_writer_order(e->cache, ev->order_id, &o);
}

/* --------------------------------------------------------- execution sink */

static void exec_on_order(void *ctx, const struct qts_order_event *ev)
{
    struct qts_engine *e = ctx;
    if (ev->kind == QTS_OE_REJECTED)
        e->stats.rejected++;
    store_order_event(e, ev);
    cache_order(e, ev);
    if (ev->kind != QTS_OE_ACCEPTED && ev->kind != QTS_OE_REPLACED)
        budget_settle(e);
    if (e->fb) /* feedback: a final event closes the TCA row */
        qts_tca_on_order(qts_feedback_tca(e->fb), ev, qts_clock_now(&e->clock));
    qts_lua_runtime_post(e->rt, &ev->h);
}

static void exec_on_fill(void *ctx, const struct qts_fill *f)
{
    struct qts_engine *e = ctx;
    e->stats.fills++;
    int rc = qts_portfolio_apply_fill(e->portfolio, f);
    if (rc != 0)
        QTS_ERROR("portfolio refused fill order=%" PRIu64 " rc=%s", f->order_id,
                  qts_err_name(rc));
    store_fill(e, f);
    cache_position(e, f->h.instrument, f->h.ts_exch_ns);
    budget_settle(e);
    if (e->fb) /* feedback: fill price, latency, markouts */
        qts_tca_on_fill(qts_feedback_tca(e->fb), f, qts_clock_now(&e->clock));
    qts_lua_runtime_post(e->rt, &f->h);
}

static void exec_on_safety(void *ctx, const char *code, bool trip, const char *msg)
{
    struct qts_engine *e = ctx;
    if (e->risk)
        qts_risk_host_on_exec_safety(e->risk, code, trip, msg);
    if (trip)
        QTS_ERROR("safety code=%s %s", code, msg);
    else
        QTS_WARN("safety notice code=%s %s", code, msg);
}

static void exec_on_recon(void *ctx, const struct qts_recon_diff *d)
{
    (void)ctx;
    /* the OMS logged it (WARN) with the figures */
    QTS_DEBUG("reconciliation difference kind=%d clordid=%s", (int)d->kind, d->client_order_id);
}

/* ------------------------------------------------------------ runtime sink */

static int rt_submit(void *ctx, const struct qts_order_intent *in)
{
    struct qts_engine *e = ctx;
    e->stats.intents++;
    if (e->killed)
        return QTS_EHALTED;
    uint64_t id = 0;
    struct qts_err err;
    qts_err_clear(&err);
    int rc = qts_exec_submit(e->exec, in, &id, &err);
    if (e->fb && rc == 0) /* feedback: decision mid, market context */
        qts_tca_on_submit(qts_feedback_tca(e->fb), id, in, qts_clock_now(&e->clock));
    /* A PreCheck rejection has already reached the strategy as an order
     * event: do not make the runtime send a second one. */
    return rc == QTS_ERISK ? 0 : rc;
}

static int rt_cancel(void *ctx, uint32_t strategy_id, uint64_t order_id)
{
    struct qts_engine *e = ctx;
    struct qts_precheck_reject rej;
    if (e->risk && qts_risk_host_cancel_allowed(e->risk, strategy_id, &rej) != 0) {
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
 * clock and timers, book, last price, portfolio marks, broker.on_market. */
static void commit_event(struct qts_engine *e, const struct qts_ev_hdr *h)
{
    int64_t ts = event_time(h);
    advance_time(e, ts);
    struct mkt_state *m = mkt_get(e, h->instrument);
    switch (h->type) {
    case QTS_EV_TRADE: {
        const struct qts_trade *t = (const struct qts_trade *)h;
        m->last = t->px;
        qts_portfolio_mark(e->portfolio, h->instrument, t->px, h->px_exp);
        if (e->risk)
            qts_risk_host_on_price(e->risk, h->instrument, t->px);
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
        if (!m->has_book) {
            qts_book_init(&m->book);
            m->has_book = true;
        }
        if (qts_book_apply(&m->book, (const struct qts_book_update *)h) < 0)
            e->stats.book_errors++;
        struct qts_level lv;
        if (qts_book_best_bid(&m->book, &lv))
            m->bid = lv.px;
        if (qts_book_best_ask(&m->book, &lv))
            m->ask = lv.px;
        e->stats.books++;
        break;
    }
    case QTS_EV_BAR: {
        const struct qts_bar *b = (const struct qts_bar *)h;
        m->last = b->close;
        qts_portfolio_mark(e->portfolio, h->instrument, b->close, h->px_exp);
        e->stats.bars++;
        break;
    }
    default:
        break;
    }
    m->ts_ns = ts;
    if (e->risk && h->type != QTS_EV_TRADE && m->bid > 0 && m->ask > 0)
        qts_risk_host_on_price(e->risk, h->instrument, (m->bid + m->ask) / 2); /* a fresh mid */
    cache_price(e, h->instrument, m, h->px_exp, h->qty_exp);
    if (e->fb) /* feedback: mid history, recent volume, volatility */
        qts_tca_on_market(qts_feedback_tca(e->fb), h, m->bid, m->ask, ts);
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
static void flush_batch(struct qts_engine *e)
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
    struct mkt_state *m = mkt_get(e, u->h.instrument);
    if (!m->has_book)
        return;
    struct qts_level bids[LIVE_BOOK_LEVELS], asks[LIVE_BOOK_LEVELS];
    struct qts_book_update snap = *u;
    snap.h.flags = QTS_BOOK_SNAPSHOT;
    snap.n_bids = (uint32_t)qts_book_depth(&m->book, QTS_SIDE_BUY, bids, LIVE_BOOK_LEVELS);
    snap.n_asks = (uint32_t)qts_book_depth(&m->book, QTS_SIDE_SELL, asks, LIVE_BOOK_LEVELS);
    snap.bids = bids;
    snap.asks = asks;
    qts_lua_runtime_post(e->rt, &snap.h);
}

/* Entry of every market event from a feed plugin (copied). */
static int on_market_event(struct qts_engine *e, const struct qts_ev_hdr *h, size_t size)
{
    if (e->set->mode != QTS_MODE_REPLAY) {
        union ev_store copy;
        memcpy(&copy, h, size);
        copy.h.seq = ++e->seq;
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
        flush_batch(e);
    return 0;
}

static int sink_trade(void *ctx, const struct qts_plugin_origin *from, const struct qts_trade *ev)
{
    (void)from;
    return on_market_event(ctx, &ev->h, sizeof *ev);
}

static int sink_quote(void *ctx, const struct qts_plugin_origin *from, const struct qts_quote *ev)
{
    (void)from;
    return on_market_event(ctx, &ev->h, sizeof *ev);
}

static int sink_book(void *ctx, const struct qts_plugin_origin *from,
                     const struct qts_book_update *ev)
{
    (void)from;
    return on_market_event(ctx, &ev->h, sizeof *ev);
}

static int sink_bar(void *ctx, const struct qts_plugin_origin *from, const struct qts_bar *ev)
{
    (void)from;
    return on_market_event(ctx, &ev->h, sizeof *ev);
}

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

static int sink_instrument_define(void *ctx, const struct qts_instrument *inst, uint32_t *id_out)
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

/* ------------------------------------------------------------ risk host */

static size_t risk_positions(void *ctx, struct qts_risk_pos_view *out, size_t cap)
{
    struct qts_engine *e = ctx;
    return qts_risk_portfolio_positions(&e->risk_pf, out, cap);
}

static int64_t risk_equity(void *ctx)
{
    struct qts_engine *e = ctx;
    return qts_risk_portfolio_equity(&e->risk_pf);
}

static int64_t risk_strategy_id(void *ctx, const char *name)
{
    struct qts_engine *e = ctx;
    /* the runtime numbers enabled strategies from 1 in configuration order */
    int64_t id = 0;
    for (size_t i = 0; i < e->set->n_strategies; i++) {
        if (!e->set->strategies[i].enabled)
            continue;
        id++;
        if (strcmp(e->set->strategies[i].name, name) == 0)
            return id;
    }
    return -1;
}

static int risk_status_extra(void *ctx, char *out, size_t cap)
{
    struct qts_engine *e = ctx;
    char eq[64];
    qts_format_fixed(eq, sizeof eq, qts_portfolio_equity(e->portfolio), QTS_CASH_EXP);
    return snprintf(out, cap, "\"events\":%" PRIu64 ",\"fills\":%" PRIu64 ",\"equity\":%s",
                    e->stats.events, e->stats.fills, eq);
}

/* ------------------------------------------------------- plugin reloads */

/* The execution pipeline, the cache writer and the shared budget call the
 * broker and cache instances directly; after a reload (or a rollback to a
 * revived old build) they must call the slot's current instance, never the
 * retired one, which is destroyed once drained. */
static void refresh_plugin_ports(struct qts_engine *e)
{
    if (e->has_broker && e->exec) {
        struct qts_plugin_inst *b = qts_plugin_manager_current(e->plugins, "broker");
        struct qts_broker_port port = {0};
        if (b) {
            port.ops = qts_plugin_inst_desc(b)->ops;
            port.self = qts_plugin_inst_self(b);
        }
        qts_exec_set_port(e->exec, b ? &port : NULL);
    }
    if (e->set->cache.plugin && (e->cache || e->budget)) {
        struct qts_plugin_inst *c = qts_plugin_manager_current(e->plugins, "cache");
        const struct qts_cache_ops *ops = c ? qts_plugin_inst_desc(c)->ops : NULL;
        void *self = c ? qts_plugin_inst_self(c) : NULL;
        if (e->cache)
            qts_cache_writer_set_target(e->cache, ops, self);
        if (e->budget)
            qts_risk_budget_set_target(e->budget, ops, self);
    }
}

static void on_plugin_reload(void *ctx, const char *slot, int status, const char *why)
{
    struct qts_engine *e = ctx;
    refresh_plugin_ports(e);
    if (status != 0)
        QTS_WARN("plugin slot %s not reloaded: %s", slot, why ? why : qts_strerror(status));
}

/* The reload rule for brokers without state hand-over (docs/plugins.md). */
static bool plugin_has_working_orders(void *ctx, const char *slot)
{
    struct qts_engine *e = ctx;
    return strcmp(slot, "broker") == 0 && e->exec && qts_exec_has_working_orders(e->exec);
}

/* admin `reload` (qts reload): config, plugins, strategies or all. */
static int admin_reload(void *ctx, const char *what, char *out, size_t cap)
{
    struct qts_engine *e = ctx;
    bool all = strcmp(what, "all") == 0;
    char cfg_text[400] = "\"not asked\"";
    int rc = 0;
    if (all || strcmp(what, "config") == 0) {
        struct qts_diags d;
        qts_diags_init(&d);
        if (e->has_holder && qts_config_reload(&e->cfg_holder, &d) == 0) {
            snprintf(cfg_text, sizeof cfg_text, "\"reloaded\"");
        } else {
            char line[300] = "cannot reload";
            if (d.n)
                qts_diag_format(&d.v[0], line, sizeof line);
            char esc[340];
            qts_json_escape(esc, sizeof esc, line);
            snprintf(cfg_text, sizeof cfg_text, "\"kept: %s\"", esc);
            for (size_t i = 0; i < d.n; i++) {
                qts_diag_format(&d.v[i], line, sizeof line);
                QTS_ERROR("reload: %s", line);
            }
            rc = QTS_ECONFIG;
        }
        qts_diags_cleanup(&d);
    }
    int plugins_failed = 0;
    if (all || strcmp(what, "plugins") == 0)
        plugins_failed = qts_plugin_manager_reload_all(e->plugins, false);
    size_t strategies = 0, strategies_failed = 0;
    if ((all || strcmp(what, "strategies") == 0) && e->strategies_added) {
        for (uint32_t id = 1; id <= (uint32_t)e->set->n_strategies; id++) {
            int r = qts_lua_runtime_reload(e->rt, id);
            if (r == QTS_ENOENT)
                break; /* ids are dense from 1 */
            strategies++;
            strategies_failed += r != 0;
        }
    }
    int n = snprintf(out, cap,
                     "{\"config\":%s,\"plugins_failed\":%d,\"strategies\":%zu,"
                     "\"strategies_failed\":%zu}",
                     cfg_text, plugins_failed, strategies, strategies_failed);
    if (rc == 0 && (plugins_failed || strategies_failed))
        rc = QTS_EAGAIN;
    if (rc != 0 && n > 0) {
        /* the admin protocol puts a failure's text in "error": keep the
         * figures readable there */
        char copy[600];
        qts_strlcpy(copy, out, sizeof copy);
        snprintf(out, cap, "reload incomplete: %s", copy);
    }
    return rc;
}

/* admin `subscribe`/`unsubscribe` (qts subscribe): real-time data for a
 * symbol from every feed and from a broker that carries market data. The
 * symbol must be a configured instrument or one a plugin defined. */
static int admin_subscribe(void *ctx, const char *symbol, bool on, char *out, size_t cap)
{
    struct qts_engine *e = ctx;
    if (!qts_instruments_find(e->instruments, symbol)) {
        snprintf(out, cap, "unknown instrument %s (add it under instruments:)", symbol);
        return QTS_ENOENT;
    }
    size_t asked = 0, done = 0;
    int first_err = 0;
    for (size_t i = 0; i < e->n_feeds; i++) {
        struct qts_plugin_inst *f = qts_plugin_manager_current(e->plugins, e->feeds[i].name);
        const struct qts_feed_ops *ops = f ? qts_plugin_inst_desc(f)->ops : NULL;
        int (*fn)(void *, const char *) = ops ? (on ? ops->subscribe : ops->unsubscribe) : NULL;
        if (!fn)
            continue;
        asked++;
        qts_plugin_inst_enter(f);
        int rc = fn(qts_plugin_inst_self(f), symbol);
        qts_plugin_inst_leave(f);
        if (rc == 0)
            done++;
        else if (!first_err)
            first_err = rc;
    }
    struct qts_plugin_inst *b = e->has_broker ? qts_plugin_manager_current(e->plugins, "broker")
                                              : NULL;
    const struct qts_broker_ops *bops = b ? qts_plugin_inst_desc(b)->ops : NULL;
    if (on ? QTS_HAS(bops, subscribe) : QTS_HAS(bops, unsubscribe)) {
        asked++;
        qts_plugin_inst_enter(b);
        int rc = (on ? bops->subscribe : bops->unsubscribe)(qts_plugin_inst_self(b), symbol);
        qts_plugin_inst_leave(b);
        if (rc == 0)
            done++;
        else if (!first_err)
            first_err = rc;
    }
    if (asked == 0) {
        snprintf(out, cap, "no feed or broker here takes subscriptions at run time");
        return QTS_EUNSUPPORTED;
    }
    if (done == 0) {
        snprintf(out, cap, "%s %s refused: %s%s", on ? "subscribe" : "unsubscribe", symbol,
                 qts_strerror(first_err),
                 first_err == QTS_EFULL ? " (the venue's subscription limit is reached)" : "");
        return first_err;
    }
    QTS_INFO("%s symbol=%s plugins=%zu/%zu", on ? "subscribed" : "unsubscribed", symbol, done,
             asked);
    snprintf(out, cap, "{\"symbol\":\"%s\",\"subscribed\":%s,\"plugins\":%zu,\"asked\":%zu}",
             symbol, on ? "true" : "false", done, asked);
    return 0;
}

static int open_risk(struct qts_engine *e, struct qts_err *err)
{
    qts_risk_portfolio_init(&e->risk_pf, e->portfolio);
    int broker_env = -1;
    if (e->has_broker) {
        struct qts_plugin_inst *b = qts_plugin_manager_current(e->plugins, "broker");
        const struct qts_broker_ops *ops = qts_plugin_inst_desc(b)->ops;
        broker_env = ops->env(qts_plugin_inst_self(b));
    }
    struct qts_risk_settings rset;
    qts_settings_risk_view(e->set, &rset);
    struct qts_risk_host_env renv = {
        .loop = &e->loop,
        .timers = &e->timers,
        .exec = e->exec,
        .settings = &rset,
        .broker_env = broker_env,
        .live_ack = getenv(QTS_LIVE_ACK_ENV),
        .positions = risk_positions,
        .equity = risk_equity,
        .instrument = prov_instrument,
        .strategy_id = risk_strategy_id,
        .reload = admin_reload,
        .subscribe = admin_subscribe,
        .status_extra = risk_status_extra,
        .ctx = e,
        .is_replay = e->set->mode == QTS_MODE_REPLAY,
    };
    qts_risk_portfolio_book(&e->risk_pf, &renv.book);
    return qts_risk_host_new(&renv, &e->risk, err);
}

/* ---------------------------------------------------- shared risk budget */

/* Exposure this host needs in the shared budget: the gross exposure of its
 * positions plus the notional still open in its working orders. */
static int64_t budget_needed(struct qts_engine *e)
{
    int64_t need = qts_portfolio_gross_exposure(e->portfolio);
    for (struct qts_parent *p = qts_oms_active_first(qts_exec_oms(e->exec)); p;
         p = qts_oms_active_next(p)) {
        int64_t open = p->intent.qty - p->filled_qty;
        if (open <= 0)
            continue;
        int64_t px = p->intent.px;
        if (px <= 0 && p->intent.instrument < e->n_mkt)
            px = e->mkt[p->intent.instrument].last;
        need += qts_cash_notional(px, p->inst.px_exp, open, p->inst.qty_exp);
    }
    return need;
}

/* Give back what is no longer needed (after fills and finished orders). */
static void budget_settle(struct qts_engine *e)
{
    if (!e->budget)
        return;
    int64_t need = budget_needed(e);
    if (e->budget_held > need) {
        qts_risk_budget_return(e->budget, e->budget_held - need);
        e->budget_held = need;
    }
}

/* PreCheck hook: the order's notional must fit in the shared budget. */
static int budget_precheck(void *ctx, struct qts_precheck_order *o,
                           struct qts_precheck_reject *rej)
{
    struct qts_engine *e = ctx;
    int64_t px = o->intent->px > 0 ? o->intent->px : (o->ref ? o->ref->last : 0);
    if (px <= 0 && o->ref)
        px = o->intent->side == QTS_SIDE_BUY ? o->ref->ask : o->ref->bid;
    unsigned px_exp = o->inst ? o->inst->px_exp : 0, qty_exp = o->inst ? o->inst->qty_exp : 0;
    int64_t need = budget_needed(e) + qts_cash_notional(px, px_exp, o->intent->qty, qty_exp);
    if (need <= e->budget_held)
        return 0;
    struct qts_err err;
    qts_err_clear(&err);
    if (qts_risk_budget_consume(e->budget, need - e->budget_held, &err) != 0) {
        rej->code = 119;
        qts_strlcpy(rej->code_str, "GR119", sizeof rej->code_str);
        snprintf(rej->msg, sizeof rej->msg, "shared exposure budget: %.64s", err.msg);
        return QTS_ERISK;
    }
    e->budget_held = need;
    return 0;
}

static int open_budget(struct qts_engine *e, struct qts_err *err)
{
    const char *key = e->set->budget_key;
    if (!key || !*key)
        return 0;
    if (!e->set->cache.plugin)
        return qts_err_set(err, QTS_ECONFIG,
                           "shared_budget.key needs a cache plugin (cache: section)");
    int64_t limit = 0;
    const char *text = e->set->budget_limit ? e->set->budget_limit : "0";
    if (qts_parse_fixed(text, strlen(text), QTS_CASH_EXP, &limit) != 0 || limit <= 0)
        return qts_err_set(err, QTS_ECONFIG, "shared_budget.limit must be a positive amount");
    struct qts_risk_budget_cfg bc = {
        .key = key,
        .limit = limit,
        .policy = e->set->budget_policy == 1 ? QTS_BUDGET_LOCAL_SHARE : QTS_BUDGET_REFUSE,
        .local_share = e->set->budget_local_share,
    };
    struct qts_plugin_inst *c = qts_plugin_manager_current(e->plugins, "cache");
    int rc = qts_risk_budget_new(qts_plugin_inst_desc(c)->ops, qts_plugin_inst_self(c), &bc,
                                 &e->budget, err);
    if (rc != 0)
        return rc;
    struct qts_precheck_hook hook = {.name = "shared_budget", .fn = budget_precheck, .ctx = e};
    return qts_exec_add_precheck(e->exec, &hook);
}

/* SIGHUP with a good file: the risk limits and the safety section take the
 * new values (a file with errors was already rejected and logged by the
 * holder, and the running configuration stays). Plugins and strategies
 * reload through their own triggers (docs/operations.md). */
static void on_config_reload(void *ud, struct qts_config *next)
{
    struct qts_engine *e = ud;
    struct qts_err err;
    qts_err_clear(&err);
    struct qts_risk_settings rset;
    qts_settings_risk_view(qts_config_settings(next), &rset);
    if (e->risk && qts_risk_host_reload(e->risk, &rset, &err) != 0) {
        QTS_ERROR("configuration reloaded but the risk limits were kept: %s", err.msg);
        return;
    }
    QTS_INFO("configuration reloaded file=%s (risk and safety limits applied)",
             qts_config_path(next));
}

/* ------------------------------------------------------------ construction */

static int define_config_instruments(struct qts_engine *e, struct qts_err *err)
{
    for (size_t i = 0; i < e->set->n_instruments; i++) {
        const struct qts_instrument_cfg *c = &e->set->instruments[i];
        struct qts_instrument inst;
        memset(&inst, 0, sizeof inst);
        qts_strlcpy(inst.symbol, c->symbol, sizeof inst.symbol);
        qts_strlcpy(inst.venue, c->venue ? c->venue : "", sizeof inst.venue);
        inst.px_exp = (uint8_t)c->px_exp;
        inst.qty_exp = (uint8_t)c->qty_exp;
        inst.flags = QTS_INST_TRADABLE;
        struct {
            const char *text;
            unsigned exp;
            int64_t *out;
            const char *what;
        } dec[] = {{c->tick_size, inst.px_exp, &inst.tick_size, "tick_size"},
                   {c->lot_size, inst.qty_exp, &inst.lot_size, "lot_size"},
                   {c->min_qty, inst.qty_exp, &inst.min_qty, "min_qty"}};
        for (size_t k = 0; k < QTS_ARRAY_LEN(dec); k++) {
            if (!dec[k].text || !*dec[k].text)
                continue;
            if (qts_parse_fixed(dec[k].text, strlen(dec[k].text), dec[k].exp, dec[k].out) != 0)
                return qts_err_set(err, QTS_ECONFIG,
                                   "instrument %s: %s '%s' is not a decimal with at most "
                                   "%u decimals",
                                   c->symbol, dec[k].what, dec[k].text, dec[k].exp);
        }
        int rc = sink_instrument_define(e, &inst, NULL);
        if (rc != 0)
            return qts_err_set(err, rc, "instrument %s could not be defined", c->symbol);
    }
    return 0;
}

static int add_strategies(struct qts_engine *e, struct qts_err *err)
{
    for (size_t i = 0; i < e->set->n_strategies; i++) {
        const struct qts_strategy_cfg *sc = &e->set->strategies[i];
        if (!sc->enabled)
            continue;
        struct qts_lua_param params[QTS_LUA_MAX_PARAMS];
        int n_params = 0;
        if (sc->params) {
            n_params = qts_lua_params_from_cfg(sc->params, params, QTS_LUA_MAX_PARAMS, err);
            if (n_params < 0)
                return n_params;
        }
        struct qts_lua_strategy_conf conf = {
            .name = sc->name,
            .file = sc->path,
            .params = params,
            .n_params = (size_t)n_params,
            .symbols = (const char *const *)sc->symbols,
            .n_symbols = sc->n_symbols,
            .worker = sc->worker,
            .mem_limit = (size_t)e->set->strategy_memory_limit_mb * 1024 * 1024,
            .budget_ns = e->set->strategy_callback_budget_ms * 1000000LL,
            .error_limit = (uint32_t)e->set->strategy_max_errors_per_minute,
            .error_window_ns = 60LL * 1000000000LL,
            .initial_cash = qts_fixed_to_double(qts_portfolio_initial_cash(e->portfolio),
                                                QTS_CASH_EXP),
        };
        uint32_t id;
        int rc = qts_lua_runtime_add_strategy(e->rt, &conf, &id, err);
        if (rc != 0)
            return rc;
        QTS_INFO("strategy added name=%s id=%u file=%s", sc->name, id, sc->path);
    }
    return 0;
}

static int start_strategies(struct qts_engine *e, struct qts_err *err)
{
    int rc = add_strategies(e, err);
    if (rc != 0)
        return rc;
    e->strategies_added = true;
    if (e->set->strategies_watch) /* strategies.watch: reload a strategy when its file is saved */
        rc = qts_lua_runtime_watch(e->rt, &e->loop, err);
    return rc;
}

static int64_t initial_cash_units(const struct qts_settings *s)
{
    int64_t cash = 0;
    const char *text = s->account_initial_cash ? s->account_initial_cash : "100000";
    if (qts_parse_fixed(text, strlen(text), QTS_CASH_EXP, &cash) != 0)
        cash = 100000LL * qts_pow10_i64[QTS_CASH_EXP];
    return cash;
}

static void on_signal(uv_signal_t *h, int signum)
{
    struct qts_engine *e = h->data;
    QTS_WARN("signal %d: stopping after the current event", signum);
    e->stop_requested = 1;
    uv_stop(&e->loop);
}

static int make_dirs(const char *path)
{
    char buf[1024];
    qts_strlcpy(buf, path, sizeof buf);
    for (char *p = buf + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(buf, 0755) != 0 && errno != EEXIST)
                return -errno;
            *p = '/';
        }
    }
    if (mkdir(buf, 0755) != 0 && errno != EEXIST)
        return -errno;
    return 0;
}

/* ----------------------------------------------------- execution feedback */

static const struct qts_parent *fb_parent(void *ctx, uint64_t order_id)
{
    struct qts_engine *e = ctx;
    return qts_exec_order(e->exec, order_id);
}

static double fb_depth5(void *ctx, uint32_t instrument, int side)
{
    struct qts_engine *e = ctx;
    if (instrument >= e->n_mkt || !e->mkt[instrument].has_book)
        return NAN;
    const struct qts_instrument *in = qts_instruments_get(e->instruments, instrument);
    struct qts_level lv[5];
    size_t n = qts_book_depth(&e->mkt[instrument].book, side, lv, 5);
    int64_t sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += lv[i].qty;
    return in ? qts_fixed_to_double(sum, in->qty_exp) : NAN;
}

/* An order is final and its feedback row counted: strategies get
 * on_feedback (a header-only QTS_EV_FEEDBACK event for the row's
 * instrument). Complete rows (markouts in) go to the store: fb_store_row. */
static void fb_row(void *ctx, const struct qts_tca_row *row)
{
    struct qts_engine *e = ctx;
    const struct qts_instrument *in = qts_instruments_get(e->instruments, row->instrument);
    struct qts_ev_hdr h;
    memset(&h, 0, sizeof h);
    h.struct_size = sizeof h;
    h.type = QTS_EV_FEEDBACK;
    h.instrument = row->instrument;
    h.px_exp = in ? in->px_exp : 0;
    h.qty_exp = in ? in->qty_exp : 0;
    h.ts_exch_ns = h.ts_recv_ns = row->ts_end_ns;
    h.seq = ++e->seq;
    qts_lua_runtime_post(e->rt, &h);
}

static int64_t to_fixed(double v, unsigned exp)
{
    return isfinite(v) ? llround(v * (double)qts_pow10_i64[exp <= QTS_MAX_EXP ? exp : 0])
                       : QTS_STORE_NULL;
}

/* A complete feedback row (markouts in) becomes a feedback_data record. */
static void fb_store_row(void *ctx, const struct qts_tca_row *row)
{
    struct qts_engine *e = ctx;
    if (!e->writer)
        return;
    const struct qts_instrument *in = qts_instruments_get(e->instruments, row->instrument);
    unsigned pe = in ? in->px_exp : 0, qe = in ? in->qty_exp : 0;
    struct qts_store_feedback r;
    memset(&r, 0, sizeof r);
    snprintf(r.order_id, sizeof r.order_id, "%llu", (unsigned long long)row->order_id);
    qts_strlcpy(r.symbol, row->symbol, sizeof r.symbol);
    char tag[64];
    snprintf(tag, sizeof tag, "%u:%s", row->strategy_id, row->tag);
    qts_strlcpy(r.tag, tag, sizeof r.tag);
    qts_strlcpy(r.order_type, row->type == QTS_ORD_MARKET ? "MARKET" : "LIMIT",
                sizeof r.order_type);
    r.side = row->side;
    r.px_exp = (uint8_t)pe;
    r.qty_exp = (uint8_t)qe;
    r.score_version = (uint8_t)row->score_version;
    r.execution_start_ns = row->ts_sent_ns ? row->ts_sent_ns : row->ts_decision_ns;
    r.decision_px = to_fixed(row->decision_px, pe);
    r.avg_fill_px = row->qty_filled > 0 ? to_fixed(row->avg_fill_px, pe) : QTS_STORE_NULL;
    r.original_qty = to_fixed(row->qty_asked, qe);
    r.filled_qty = to_fixed(row->qty_filled, qe);
    r.depth = to_fixed(row->depth, qe);
    r.fill_ratio = row->fill_ratio;
    r.slippage_bps = row->slip_decision_bps;
    r.avg_fill_latency_ms = row->avg_fill_latency_ms;
    r.first_fill_latency_ms = row->lat_first_ms;
    r.complete_fill_latency_ms = row->lat_complete_ms;
    r.volatility = row->volatility;
    r.spread_bps = row->spread_bps;
    r.post_spread_bps = NAN;
    r.impact_bps = row->qty_filled > 0 ? row->pred_impact_bps : NAN;
    r.realized_impact_bps = row->realized_impact_bps;
    r.quality_score = row->quality;
    store_push(e, &r.h, QTS_REC_FEEDBACK, sizeof r, row->ts_end_ns);
}

static int feedback_setup(struct qts_engine *e, struct qts_err *err)
{
    struct qts_tca_env env = {.timers = &e->timers,
                              .parent = fb_parent,
                              .depth5 = fb_depth5,
                              .on_final = fb_row,
                              .on_row = fb_store_row,
                              .ctx = e};
    int rc = qts_feedback_new(e->set->feedback, e->set->var_dir,
                              e->set->mode == QTS_MODE_REPLAY, &env, &e->fb, err);
    if (rc != 0 || !e->fb)
        return rc;
    struct qts_tca *t = qts_feedback_tca(e->fb);
    for (uint32_t id = 0;; id++) {
        const struct qts_instrument *in = qts_instruments_get(e->instruments, id);
        if (!in)
            break;
        qts_tca_add_instrument(t, in);
    }
    if (qts_tca_params(t)->adjust_orders) {
        struct qts_precheck_hook hook = {.name = "feedback", .fn = qts_tca_precheck, .ctx = t};
        rc = qts_exec_add_precheck(e->exec, &hook);
        if (rc != 0)
            return qts_err_set(err, rc, "cannot install the feedback pre-trade hook");
    }
    qts_feedback_board_publish(t);
    return 0;
}

int qts_engine_new(struct qts_config *cfg, const struct qts_engine_opts *opts,
                   struct qts_engine **out, struct qts_err *err)
{
    *out = NULL;
    struct qts_engine *e = qts_xcalloc(1, sizeof *e);
    e->cfg = qts_config_ref(cfg);
    e->set = qts_config_settings(cfg);
    if (opts)
        e->opts = *opts;
    int rc = 0;

    char dir[1024];
    if (e->opts.run_dir)
        qts_strlcpy(dir, e->opts.run_dir, sizeof dir);
    else
        snprintf(dir, sizeof dir, "%s/runs/%s", e->set->var_dir,
                 e->opts.run_name ? e->opts.run_name : "latest");
    e->run_dir = qts_xstrdup(dir);

    if (uv_loop_init(&e->loop) != 0) {
        rc = qts_err_set(err, QTS_ESYS, "cannot create the event loop");
        goto fail;
    }
    e->loop_ready = true;
    bool replay = e->set->mode == QTS_MODE_REPLAY;
    qts_clock_init(&e->clock, replay ? QTS_CLOCK_VIRTUAL : QTS_CLOCK_WALL);
    rc = replay ? qts_fake_timers_new(&e->clock, &e->timers)
                : qts_uv_timers_new(&e->loop, &e->clock, &e->timers);
    if (rc != 0) {
        qts_err_set(err, rc, "cannot create the timer service");
        goto fail;
    }

    e->instruments = qts_instruments_new();
    e->metrics = qts_metrics_new();
    e->portfolio = qts_portfolio_new(initial_cash_units(e->set));
    e->stats.initial_cash = qts_portfolio_initial_cash(e->portfolio);
    e->next_sample_ns = INT64_MIN;

    /* strategies */
    struct qts_lua_settings ls = {
        .n_workers = (uint32_t)(e->set->strategy_workers > 0 ? e->set->strategy_workers : 1),
        .lockstep = replay,
        .clock = &e->clock,
        /* A replay waits for its strategies anyway: give a slow machine (or a
         * sanitizer build) room before a callback counts as stuck. Live and
         * paper keep the runtime's 2 s. */
        .stuck_ns = replay ? 30LL * 1000000000LL : 0,
        .sink = {.struct_size = sizeof(struct qts_lua_sink),
                 .ctx = e,
                 .submit_intent = rt_submit,
                 .cancel = rt_cancel,
                 .cancel_all = rt_cancel_all,
                 .strategy_state = rt_state},
    };
    rc = qts_lua_runtime_new(&ls, &e->rt, err);
    if (rc != 0)
        goto fail;

    rc = define_config_instruments(e, err);
    if (rc != 0)
        goto fail;

    /* plugins */
    if (!replay) {
        rc = qts_http_global_init(err);
        if (rc == 0)
            rc = qts_http_client_new(&e->loop, &e->http, err);
        if (rc != 0)
            goto fail;
    }
    e->sink = (struct qts_event_sink){
        .ctx = e,
        .trade = sink_trade,
        .quote = sink_quote,
        .book = sink_book,
        .bar = sink_bar,
        .exec_report = sink_exec_report,
        .position = sink_position,
        .query_done = sink_query_done,
        .instrument_define = sink_instrument_define,
        .instrument_find = sink_instrument_find,
        .buying_power = sink_buying_power,
    };
    e->penv = (struct qts_plugin_env){
        .loop = &e->loop,
        .http = e->http,
        .metrics = e->metrics,
        .sink = &e->sink,
        .clock = &e->clock,
        .timers = &e->timers,
    };
    char gen_dir[1100];
    snprintf(gen_dir, sizeof gen_dir, "%s/plugins.gen", e->set->var_dir);
    if (make_dirs(gen_dir) != 0) {
        rc = qts_err_set(err, QTS_EIO, "cannot create %s", gen_dir);
        goto fail;
    }
    struct qts_plugin_manager_opts mo = {
        .env = &e->penv,
        .gen_dir = gen_dir,
        .watch_dir = e->set->plugins_watch ? e->set->plugins_dir : NULL,
        .has_working_orders = plugin_has_working_orders,
        .orders_ctx = e,
        .on_reload = on_plugin_reload,
        .reload_ctx = e,
    };
    rc = qts_plugin_manager_new(&mo, &e->plugins, err);
    if (rc != 0)
        goto fail;
    rc = open_store(e, err); /* first slot: started now, the writer uses it from here on */
    if (rc != 0)
        goto fail;
    e->feeds = qts_xcalloc(e->set->n_feeds ? e->set->n_feeds : 1, sizeof *e->feeds);
    for (size_t i = 0; i < e->set->n_feeds; i++) {
        const struct qts_plugin_slot *s = &e->set->feeds[i];
        rc = qts_plugin_manager_add(e->plugins, s->name, QTS_KIND_FEED, s->path, s->config, err);
        if (rc != 0)
            goto fail;
        e->feeds[e->n_feeds++].name = qts_xstrdup(s->name);
    }
    if (e->set->broker.plugin) {
        rc = qts_plugin_manager_add(e->plugins, "broker", QTS_KIND_BROKER, e->set->broker.path,
                                    e->set->broker.config, err);
        if (rc != 0)
            goto fail;
        e->has_broker = true;
    }

    if (e->set->cache.plugin) {
        /* cache plugins name their keys after the host id */
        setenv("QTS_HOST_ID", e->set->host_id, 0);
        rc = qts_plugin_manager_add(e->plugins, "cache", QTS_KIND_CACHE, e->set->cache.path,
                                    e->set->cache.config, err);
        if (rc != 0)
            goto fail;
    }

    /* execution, on the broker's operations */
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
        .prov = {.instrument = prov_instrument,
                 .market = prov_market,
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
    rc = feedback_setup(e, err);
    if (rc != 0)
        goto fail;

    /* live guard (before any plugin connects): real money needs mode live,
     * a broker on its real environment and the operator's acknowledgement;
     * a broker on its real environment is refused in every other mode */
    if (e->has_broker) {
        struct qts_plugin_inst *b = qts_plugin_manager_current(e->plugins, "broker");
        const struct qts_broker_ops *bops = qts_plugin_inst_desc(b)->ops;
        int benv = bops->env(qts_plugin_inst_self(b));
        const char *ack = getenv("QTS_LIVE_ACK");
        bool live = e->set->mode == QTS_MODE_LIVE;
        if (benv == QTS_BROKER_ENV_REAL && !live)
            rc = qts_err_set(err, QTS_EPERM, "live guard: broker %s trades real money; it needs "
                             "mode: live", e->set->broker.plugin);
        else if (live && benv != QTS_BROKER_ENV_REAL)
            rc = qts_err_set(err, QTS_EPERM, "live guard: mode live needs a broker on its real "
                             "environment (broker %s is not)", e->set->broker.plugin);
        else if (live && (!ack || strcmp(ack, "I_UNDERSTAND_LIVE_TRADING") != 0))
            rc = qts_err_set(err, QTS_EPERM, "live guard: mode live needs "
                             "QTS_LIVE_ACK=I_UNDERSTAND_LIVE_TRADING in the environment");
        if (rc != 0)
            goto fail;
    }

    rc = qts_plugin_manager_start(e->plugins, err);
    if (rc != 0)
        goto fail;
    refresh_plugin_ports(e); /* start may have replaced self pointers */
    rc = open_risk(e, err); /* also the live-trading guard: may refuse to start */
    if (rc != 0)
        goto fail;
    if (e->set->cache.plugin) {
        struct qts_plugin_inst *c = qts_plugin_manager_current(e->plugins, "cache");
        rc = qts_cache_writer_new(&e->loop, qts_plugin_inst_desc(c)->ops,
                                  qts_plugin_inst_self(c), NULL, &e->cache, err);
        if (rc != 0)
            goto fail;
    }
    rc = open_budget(e, err);
    if (rc != 0)
        goto fail;
    qts_config_holder_init(&e->cfg_holder, qts_config_ref(cfg));
    e->has_holder = true;
    e->cfg_holder.on_reload = on_config_reload;
    e->cfg_holder.on_reload_ud = e;
    if (qts_config_watch_sighup(&e->cfg_holder, &e->loop) == 0)
        uv_unref((uv_handle_t *)&e->cfg_holder.sighup); /* never keeps a run alive */
    if (replay) { /* paper and live start them after the start-up sync (run_live) */
        rc = start_strategies(e, err);
        if (rc != 0)
            goto fail;
    }

    uv_async_init(&e->loop, &e->stop_wake, NULL);
    uv_unref((uv_handle_t *)&e->stop_wake); /* never keeps a run alive */
    uv_signal_init(&e->loop, &e->sig_int);
    uv_signal_init(&e->loop, &e->sig_term);
    e->sig_int.data = e->sig_term.data = e;
    uv_signal_start(&e->sig_int, on_signal, SIGINT);
    uv_signal_start(&e->sig_term, on_signal, SIGTERM);
    uv_unref((uv_handle_t *)&e->sig_int);
    uv_unref((uv_handle_t *)&e->sig_term);
    e->signals_on = true;
    *out = e;
    return 0;
fail:
    qts_engine_free(e);
    return rc ? rc : QTS_EINVAL;
}

/* ------------------------------------------------------------------ running */

static void progress(struct qts_engine *e, bool final)
{
    if (!e->opts.progress)
        return;
    int64_t now = qts_mono_ns();
    if (!final && now - e->last_progress_ns < (e->opts.progress_is_tty ? 200000000LL
                                                                       : 5000000000LL))
        return;
    e->last_progress_ns = now;
    double done = 0;
    size_t n = 0;
    for (size_t i = 0; i < e->n_feeds; i++) {
        struct qts_plugin_inst *f = qts_plugin_manager_current(e->plugins, e->feeds[i].name);
        const struct qts_feed_ops *ops = f ? qts_plugin_inst_desc(f)->ops : NULL;
        if (ops && ops->progress) {
            done += e->feeds[i].at_eof ? 1.0 : ops->progress(qts_plugin_inst_self(f));
            n++;
        }
    }
    double frac = n ? done / (double)n : 0;
    double elapsed = (double)e->stats.wall_ns / 1e9;
    double rate = elapsed > 0 ? (double)e->stats.events / elapsed : 0;
    double eta = frac > 0.001 && frac < 1 ? elapsed * (1 - frac) / frac : 0;
    fprintf(e->opts.progress, "%sreplay %5.1f%%  %" PRIu64 " events  %.2f M events/s  fills %" PRIu64
            "  eta %.0fs%s",
            e->opts.progress_is_tty ? "\r" : "", frac * 100, e->stats.events, rate / 1e6,
            e->stats.fills, eta, e->opts.progress_is_tty ? (final ? "\n" : "") : "\n");
    fflush(e->opts.progress);
}

static int run_replay(struct qts_engine *e, struct qts_err *err)
{
    int64_t t0 = qts_mono_ns();
    size_t live = e->n_feeds;
    for (size_t i = 0; i < e->n_feeds; i++) {
        struct qts_plugin_inst *f = qts_plugin_manager_current(e->plugins, e->feeds[i].name);
        const struct qts_feed_ops *ops = f ? qts_plugin_inst_desc(f)->ops : NULL;
        if (!ops || !ops->poll)
            return qts_err_set(err, QTS_EUNSUPPORTED,
                               "feed %s cannot be replayed: its plugin has no poll operation",
                               e->feeds[i].name);
    }
    int64_t next_service_ns = 0;
    while (live > 0 && !e->stop_requested) {
        live = 0;
        for (size_t i = 0; i < e->n_feeds; i++) {
            if (e->feeds[i].at_eof)
                continue;
            struct qts_plugin_inst *f = qts_plugin_manager_current(e->plugins, e->feeds[i].name);
            const struct qts_feed_ops *ops = qts_plugin_inst_desc(f)->ops;
            qts_plugin_inst_enter(f);
            int rc = ops->poll(qts_plugin_inst_self(f), REPLAY_POLL_BATCH);
            qts_plugin_inst_leave(f);
            if (rc == QTS_EEOF) {
                e->feeds[i].at_eof = true;
                QTS_INFO("feed %s: end of data", e->feeds[i].name);
                continue;
            }
            if (rc < 0) {
                QTS_ERROR("feed %s failed: %s", e->feeds[i].name, qts_strerror(rc));
                e->feeds[i].at_eof = true;
                continue;
            }
            live++;
        }
        flush_batch(e);
        if (e->risk)
            qts_risk_host_beat(e->risk); /* the watchdog's view of the core */
        if (e->opts.max_events && e->stats.events >= e->opts.max_events)
            break;
        int64_t now_mono = qts_mono_ns();
        if (now_mono >= next_service_ns) { /* admin socket, signals, posts: every 10 ms */
            next_service_ns = now_mono + 10000000;
            uv_run(&e->loop, UV_RUN_NOWAIT); /* signals, plugin posts */
            if (e->writer)
                qts_store_writer_poll(e->writer);
            if (e->cache)
                qts_cache_writer_flush(e->cache);
            qts_lua_runtime_tick(e->rt);
            e->stats.wall_ns = qts_mono_ns() - t0;
            progress(e, false);
        }
    }
    /* The market is over: no more prices will come, so the risk loop stops
     * here instead of reading the silence as a stale feed. */
    if (e->risk) {
        qts_risk_host_free(e->risk);
        e->risk = NULL;
    }
    /* End of the data: let the venue answer the requests in flight, then
     * cancel what still works (a replay leaves no order behind) and let the
     * cancels be answered. */
    qts_fake_timers_advance(&e->timers, 1000000000LL);
    qts_lua_runtime_drain(e->rt);
    size_t left = 0;
    for (size_t i = 0; i < e->set->n_strategies + 1; i++)
        left += qts_exec_cancel_strategy(e->exec, (uint32_t)i, "end of data");
    if (left)
        QTS_INFO("end of data: %zu working orders cancelled", left);
    qts_fake_timers_advance(&e->timers, 1000000000LL);
    qts_lua_runtime_drain(e->rt);
    e->stats.wall_ns = qts_mono_ns() - t0;
    progress(e, true);
    return 0;
}

/* ------------------------------------------------------- start-up sync */

/* Rescale a fixed-point value from exponent `from` to `to`. */
static int64_t rescale(int64_t v, unsigned from, unsigned to)
{
    if (from == to)
        return v;
    if (from < to)
        return v * qts_pow10_i64[QTS_MIN(to - from, QTS_MAX_EXP)];
    return v / qts_pow10_i64[QTS_MIN(from - to, QTS_MAX_EXP)];
}

/* The broker's positions become the portfolio's opening positions, bought
 * (or sold short) at the broker's average price against the cash: equity at
 * start is unchanged and PnL runs from the average price. They are not
 * venue executions, so nothing goes to the store's fills. */
static void adopt_positions(struct qts_engine *e, const struct qts_startup_report *r)
{
    for (size_t i = 0; i < r->n_broker; i++) {
        const struct qts_startup_position *bp = &r->broker[i];
        const struct qts_instrument *inst =
            bp->instrument ? qts_instruments_get(e->instruments, bp->instrument)
                           : qts_instruments_find(e->instruments, bp->symbol);
        if (!inst || bp->qty == 0)
            continue;
        const struct qts_position *have = qts_portfolio_position(e->portfolio, inst->id);
        int64_t qty = rescale(bp->qty, bp->qty_exp, inst->qty_exp);
        int64_t delta = qty - (have ? have->qty : 0);
        int64_t px = rescale(bp->avg_px, bp->px_exp, inst->px_exp);
        if (delta == 0)
            continue;
        if (px <= 0) {
            QTS_WARN("startup: position of %s at the broker has no average price; not adopted",
                     inst->symbol);
            continue;
        }
        struct qts_fill f = {
            .h = {.struct_size = sizeof f, .type = QTS_EV_FILL, .px_exp = inst->px_exp,
                  .qty_exp = inst->qty_exp, .instrument = inst->id,
                  .ts_exch_ns = qts_wall_ns(), .ts_recv_ns = qts_wall_ns()},
            .strategy_id = 0,
            .side = delta > 0 ? QTS_SIDE_BUY : QTS_SIDE_SELL,
            .px = px,
            .qty = delta > 0 ? delta : -delta,
        };
        qts_strlcpy(f.tag, "adopted", sizeof f.tag);
        int rc = qts_portfolio_apply_fill(e->portfolio, &f);
        if (rc != 0) {
            QTS_ERROR("startup: position of %s not adopted: %s", inst->symbol, qts_err_name(rc));
            continue;
        }
        cache_position(e, inst->id, f.h.ts_exch_ns);
        QTS_INFO("startup: adopted the broker's position symbol=%s qty=%" PRId64
                 " avg_px=%" PRId64, inst->symbol, qty, px);
    }
}

/* Write one JSON object into the run directory as `name`: `json(obj, buf,
 * cap)` returns the length snprintf would have written (measured first). */
static void write_run_json(struct qts_engine *e, const char *name,
                           int (*json)(const void *obj, char *buf, size_t cap), const void *obj)
{
    char path[1100];
    snprintf(path, sizeof path, "%s/%s", e->run_dir, name);
    FILE *f = make_dirs(e->run_dir) == 0 ? fopen(path, "w") : NULL;
    if (!f) {
        QTS_WARN("cannot write %s", path);
        return;
    }
    int n = json(obj, NULL, 0);
    char *buf = qts_xmalloc((size_t)n + 1);
    json(obj, buf, (size_t)n + 1);
    fprintf(f, "%s\n", buf);
    free(buf);
    fclose(f);
}

static int startup_json(const void *sync, char *buf, size_t cap)
{
    return qts_startup_sync_json(sync, buf, cap);
}

static int execution_json(const void *exec, char *buf, size_t cap)
{
    return qts_exec_summary_json(exec, buf, cap);
}

/* Paper and live: learn what is true at the venue before any strategy
 * starts (startup_sync.h), then start the strategies. */
static int startup(struct qts_engine *e, struct qts_err *err)
{
    struct qts_startup_env env = {
        .loop = &e->loop,
        .exec = e->exec,
        .timeout_ms = e->set->startup_timeout_ms,
        .seed_market = e->set->startup_seed_market,
        .require_reconcile = e->set->startup_require_reconcile,
        .stop = &e->stop_requested,
    };
    const char **symbols = qts_xcalloc(e->set->n_instruments + 1, sizeof *symbols);
    for (size_t i = 0; i < e->set->n_instruments; i++)
        symbols[env.n_symbols++] = e->set->instruments[i].symbol;
    env.symbols = symbols;
    if (e->has_broker) {
        struct qts_plugin_inst *b = qts_plugin_manager_current(e->plugins, "broker");
        env.broker = qts_plugin_inst_desc(b)->ops;
        env.broker_self = qts_plugin_inst_self(b);
    }
    if (e->set->cache.plugin && e->set->startup_warm_from_cache) {
        struct qts_plugin_inst *c = qts_plugin_manager_current(e->plugins, "cache");
        env.cache = qts_plugin_inst_desc(c)->ops;
        env.cache_self = qts_plugin_inst_self(c);
    }
    e->sync = qts_startup_sync_new(&env);
    int rc = qts_startup_sync_run(e->sync, err);
    const struct qts_startup_report *r = qts_startup_sync_report(e->sync);
    if (rc == 0 && r->recon_status == 0 && e->set->startup_adopt_positions)
        adopt_positions(e, r);
    if (rc == 0 && r->buying_power_status == 0) {
        const struct qts_buying_power *bp = &r->buying_power;
        int64_t venue_cash = rescale(bp->cash, bp->cash_exp, QTS_CASH_EXP);
        e->venue_cash_gap = venue_cash - qts_portfolio_cash(e->portfolio);
        char cash[64];
        qts_format_fixed(cash, sizeof cash, venue_cash, QTS_CASH_EXP);
        QTS_INFO("startup: the account can spend %s; PreCheck's cash check is capped by it",
                 cash);
    }
    write_run_json(e, "startup.json", startup_json, e->sync);
    qts_startup_sync_free(e->sync);
    e->sync = NULL;
    free(symbols);
    if (rc != 0 || e->stop_requested)
        return rc;
    return start_strategies(e, err);
}

static int run_live(struct qts_engine *e, struct qts_err *err)
{
    int64_t t0 = qts_mono_ns();
    if (!e->strategies_added) {
        int rc = startup(e, err);
        if (rc != 0)
            return rc;
    }

    uv_ref((uv_handle_t *)&e->sig_int);
    uv_ref((uv_handle_t *)&e->sig_term);
    while (!e->stop_requested) {
        uv_run(&e->loop, UV_RUN_ONCE);
        if (e->stop_requested && e->risk)
            qts_risk_host_stop_orders(e->risk); /* safety.cancel_on_stop */
        if (e->writer)
            qts_store_writer_poll(e->writer);
        if (e->cache)
            qts_cache_writer_flush(e->cache);
        qts_lua_runtime_drain(e->rt);
        qts_lua_runtime_tick(e->rt);
    }
    /* the signal handles must not keep the shutdown's loop runs alive */
    uv_unref((uv_handle_t *)&e->sig_int);
    uv_unref((uv_handle_t *)&e->sig_term);
    e->stats.wall_ns = qts_mono_ns() - t0;
    return 0;
}

int qts_engine_run(struct qts_engine *e, struct qts_err *err)
{
    int rc = e->set->mode == QTS_MODE_REPLAY ? run_replay(e, err) : run_live(e, err);
    if (rc != 0)
        return rc;
    /* strategies get on_stop; the portfolio gets its last marks */
    qts_lua_runtime_sync(e->rt, 5000000000LL);
    qts_lua_runtime_drain(e->rt);
    int64_t end_ts = e->set->mode == QTS_MODE_REPLAY ? qts_clock_now(&e->clock) : qts_wall_ns();
    qts_portfolio_sample(e->portfolio, end_ts);
    e->stats.equity = qts_portfolio_equity(e->portfolio);
    if (e->fb) { /* feedback: tca.csv before the report renders it; model saved;
                  * last rows to the store before the writer stops */
        if (make_dirs(e->run_dir) != 0)
            return qts_err_set(err, QTS_EIO, "cannot create %s", e->run_dir);
        rc = qts_feedback_end(e->fb, e->run_dir, err);
        if (rc != 0)
            return rc;
    }
    store_positions(e, end_ts);
    if (e->writer) {
        qts_store_writer_stop(e->writer); /* everything written or journalled */
        struct qts_store_writer_stats ws;
        qts_store_writer_get_stats(e->writer, &ws);
        QTS_INFO("store records written=%" PRIu64 " spilled=%" PRIu64 " dead=%" PRIu64,
                 ws.written + ws.replayed, ws.spilled, ws.dead);
    }

    struct qts_report_meta meta;
    qts_report_meta_default(&meta);
    meta.title = e->set->host_id;
    rc = qts_report_write_run(e->run_dir, e->portfolio, &meta, err);
    if (rc != 0)
        return rc;
    /* the execution summary (stage histograms) beside the report */
    write_run_json(e, "execution.json", execution_json, e->exec);
    return 0;
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
    size_t n = e->risk ? qts_risk_host_kill(e->risk, "engine", reason ? reason : "kill switch")
                      : qts_exec_escape_all(e->exec, reason ? reason : "kill switch");
    QTS_WARN("kill switch: %zu orders cancelled, new orders refused", n);
    return n;
}

void qts_engine_get_stats(const struct qts_engine *e, struct qts_engine_stats *out)
{
    *out = e->stats;
}

const char *qts_engine_run_dir(const struct qts_engine *e) { return e->run_dir; }

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
    qts_feedback_free(e->fb); /* first: it posts to the runtime, reads orders and timers */
    e->fb = NULL;
    if (e->rt)
        qts_lua_runtime_free(e->rt); /* on_stop for every strategy */
    if (e->has_holder)
        qts_config_unwatch_sighup(&e->cfg_holder);
    qts_risk_budget_free(e->budget); /* gives its lease back; before the cache stops */
    qts_cache_writer_free(e->cache); /* before its plugin stops */
    if (e->risk) { /* closes the admin socket and its timers */
        qts_risk_host_free(e->risk);
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
    for (size_t i = 0; i < e->n_mkt; i++)
        if (e->mkt[i].has_book)
            qts_book_cleanup(&e->mkt[i].book);
    free(e->mkt);
    free(e->levels);
    for (size_t i = 0; i < e->n_feeds; i++)
        free(e->feeds[i].name);
    free(e->feeds);
    if (e->has_holder)
        qts_config_holder_cleanup(&e->cfg_holder);
    qts_portfolio_free(e->portfolio);
    qts_metrics_free(e->metrics);
    qts_instruments_free(e->instruments);
    free(e->run_dir);
    qts_config_unref(e->cfg);
    free(e);
}
