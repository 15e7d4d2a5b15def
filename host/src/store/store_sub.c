/* store_sub.c — see store_sub.h. */
#include "store_sub.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bars.h"
#include "clock.h"
#include "config_tree.h"
#include "instruments.h"
#include "log.h"
#include "portfolio.h"
#include "qts/qts_store.h"
#include "store_writer.h"
#include "tca.h"
#include "util.h"

#define NS_PER_MIN (INT64_C(60) * QTS_NS_PER_SEC)
#define MAINT_EVERY_NS (60 * NS_PER_MIN) /* partitions ahead and retention: hourly */
#define REFRESH_EVERY_NS NS_PER_MIN      /* rollups: every minute */
/* order ids are dense from 1 in a run; past this the decision time of an
 * order is not kept (its row's decided_at is then its first event's time) */
#define DECIDED_MAX (1u << 22)

/* Per instrument: the bars being built and the last top of book written. */
struct qts_store_inst_state {
    bool ready;
    struct qts_bar_builder bar_1m, bar_1d;
    int64_t bid, ask;
};

static void store_push(struct qts_store_pub *pub, struct qts_store_record *h, uint16_t kind,
                       uint32_t size, int64_t ts)
{
    h->struct_size = size;
    h->kind = kind;
    h->ts_ns = ts;
    qts_store_writer_push(pub->writer, h, NULL);
}

/* "<strategy id>:<tag>", as the ledger's strategy_tag (cut to fit) */
static void strategy_tag(char *dst, size_t cap, uint32_t strategy_id, const char *tag)
{
    char t[96];
    snprintf(t, sizeof t, "%u:%s", strategy_id, tag);
    qts_strlcpy(dst, t, cap);
}

static void set_run(const struct qts_store_pub *pub, char run_id[QTS_STORE_RUN_ID_MAX])
{
    qts_strlcpy(run_id, pub->run_id ? pub->run_id : "", QTS_STORE_RUN_ID_MAX);
}

static int64_t wall_now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (int64_t)t.tv_sec * QTS_NS_PER_SEC + t.tv_nsec;
}

static struct qts_store_inst_state *inst_state(struct qts_store_pub *pub, uint32_t id)
{
    if (id >= pub->n_inst) {
        size_t n = pub->n_inst ? pub->n_inst : 8;
        while (n <= id)
            n *= 2;
        pub->inst = qts_xrealloc(pub->inst, n * sizeof *pub->inst);
        memset(pub->inst + pub->n_inst, 0, (n - pub->n_inst) * sizeof *pub->inst);
        pub->n_inst = n;
    }
    struct qts_store_inst_state *s = &pub->inst[id];
    if (!s->ready) {
        qts_bar_builder_init(&s->bar_1m, NS_PER_MIN);
        qts_bar_builder_init(&s->bar_1d, QTS_NS_PER_DAY);
        s->ready = true;
    }
    return s;
}

/* A closed bar becomes an ohlcv_1m or ohlcv_1d row. */
static void push_bar(struct qts_store_pub *pub, const struct qts_bar *b)
{
    struct qts_store_bar r;
    memset(&r, 0, sizeof r);
    qts_strlcpy(r.symbol, qts_instruments_symbol(pub->instruments, b->h.instrument),
                sizeof r.symbol);
    r.px_exp = b->h.px_exp;
    r.qty_exp = b->h.qty_exp;
    r.period_ns = b->period_ns;
    r.open = b->open;
    r.high = b->high;
    r.low = b->low;
    r.close = b->close;
    r.volume = b->volume;
    r.n_trades = b->n_trades;
    store_push(pub, &r.h, QTS_REC_BAR, sizeof r, b->h.ts_exch_ns);
}

static void push_tick(struct qts_store_pub *pub, const struct qts_ev_hdr *h, uint8_t kind,
                      int64_t px, int64_t qty, int64_t bid, int64_t ask, int64_t ts)
{
    struct qts_store_tick r;
    memset(&r, 0, sizeof r);
    qts_strlcpy(r.symbol, qts_instruments_symbol(pub->instruments, h->instrument), sizeof r.symbol);
    r.tick_kind = kind;
    r.px_exp = h->px_exp;
    r.qty_exp = h->qty_exp;
    r.px = px;
    r.qty = qty;
    r.bid = bid ? bid : QTS_STORE_NULL;
    r.ask = ask ? ask : QTS_STORE_NULL;
    set_run(pub, r.run_id);
    store_push(pub, &r.h, QTS_REC_TICK, sizeof r, ts);
}

/* Market events: counted for the run's row; trades build the bars (a bar
 * is written when the first trade of a later period arrives, the open ones
 * at the end); tick_data by `ticks`. */
static void store_on_market(void *self, const struct qts_bus_market *m)
{
    struct qts_store_pub *pub = self;
    if (!pub->writer)
        return;
    pub->n_events++;
    if (pub->n_events == 1) {
        pub->data_from_ns = m->ts_ns;
        pub->next_maint_ns = pub->next_refresh_ns = m->ts_ns;
    }
    pub->data_to_ns = m->ts_ns;
    /* maintenance on the run's clock: the requests travel through the
     * writer's ring and run on its thread, between batches */
    if (m->ts_ns >= pub->next_maint_ns) {
        qts_store_writer_request_maintain(pub->writer, m->ts_ns);
        pub->next_maint_ns = m->ts_ns + MAINT_EVERY_NS;
    }
    if (m->ts_ns >= pub->next_refresh_ns) {
        if (pub->n_events > 1)
            qts_store_writer_request_refresh(pub->writer, m->ts_ns);
        pub->next_refresh_ns = m->ts_ns + REFRESH_EVERY_NS;
    }
    const struct qts_ev_hdr *h = m->ev;
    if (h->type == QTS_EV_TRADE) {
        const struct qts_trade *t = (const struct qts_trade *)(const void *)h;
        struct qts_store_inst_state *s = inst_state(pub, h->instrument);
        struct qts_bar b;
        if (qts_bar_builder_push(&s->bar_1m, t, &b) == 1)
            push_bar(pub, &b);
        if (qts_bar_builder_push(&s->bar_1d, t, &b) == 1)
            push_bar(pub, &b);
        if (pub->ticks != QTS_STORE_TICKS_NONE)
            push_tick(pub, h, QTS_TICK_TRADE, t->px, t->qty, m->bid, m->ask, h->ts_exch_ns);
        return;
    }
    if (pub->ticks != QTS_STORE_TICKS_ALL || h->type == QTS_EV_BAR || !m->bid || !m->ask)
        return;
    struct qts_store_inst_state *s = inst_state(pub, h->instrument);
    if (m->bid == s->bid && m->ask == s->ask)
        return; /* the top of book did not change */
    s->bid = m->bid;
    s->ask = m->ask;
    push_tick(pub, h, QTS_TICK_QUOTE, (m->bid + m->ask) / 2, 0, m->bid, m->ask, m->ts_ns);
}

/* The position of one instrument as a positions row (upsert). */
static void push_position(struct qts_store_pub *pub, const struct qts_position *v, int64_t ts)
{
    struct qts_store_position r;
    memset(&r, 0, sizeof r);
    qts_strlcpy(r.symbol, qts_instruments_symbol(pub->instruments, v->instrument), sizeof r.symbol);
    r.px_exp = v->px_exp;
    r.qty_exp = v->qty_exp;
    r.qty = v->qty;
    r.avg_px = qts_position_avg_px(v);
    r.exposure_value = QTS_STORE_NULL;
    r.unrealized_pnl = qts_portfolio_position_unrealized(pub->pf, v);
    r.exposure_pct = 0.0 / 0.0;
    set_run(pub, r.run_id);
    store_push(pub, &r.h, QTS_REC_POSITION, sizeof r, ts);
}

/* The realized total last seen for (strategy, instrument): a short list,
 * searched on fills only. */
static int64_t *realized_slot(struct qts_store_pub *pub, uint32_t strategy_id, uint32_t instrument)
{
    for (size_t i = 0; i < pub->n_realized; i++)
        if (pub->realized[i].strategy_id == strategy_id &&
            pub->realized[i].instrument == instrument)
            return &pub->realized[i].total;
    pub->realized = qts_xrealloc(pub->realized, (pub->n_realized + 1) * sizeof *pub->realized);
    pub->realized[pub->n_realized] =
        (struct qts_store_realized){.strategy_id = strategy_id, .instrument = instrument};
    return &pub->realized[pub->n_realized++].total;
}

static void store_on_fill(void *self, const struct qts_fill *f)
{
    struct qts_store_pub *pub = self;
    if (!pub->writer)
        return;
    struct qts_store_fill r;
    memset(&r, 0, sizeof r);
    r.order_id = f->order_id;
    r.fill_id = f->fill_id;
    qts_strlcpy(r.symbol, qts_instruments_symbol(pub->instruments, f->h.instrument),
                sizeof r.symbol);
    qts_strlcpy(r.tag, f->tag, sizeof r.tag);
    r.side = f->side;
    r.is_maker = f->is_maker;
    r.px_exp = f->h.px_exp;
    r.qty_exp = f->h.qty_exp;
    r.px = f->px;
    r.qty = f->qty;
    r.fee = f->fee;
    snprintf(r.client_order_id, sizeof r.client_order_id, "%llu", (unsigned long long)f->order_id);
    set_run(pub, r.run_id);
    store_push(pub, &r.h, QTS_REC_FILL, sizeof r, f->h.ts_exch_ns);
    pub->n_fills++;

    struct qts_store_ledger l;
    memset(&l, 0, sizeof l);
    qts_strlcpy(l.symbol, r.symbol, sizeof l.symbol);
    snprintf(l.strategy_tag, sizeof l.strategy_tag, "%u:%s", f->strategy_id, f->tag);
    snprintf(l.order_id, sizeof l.order_id, "%llu", (unsigned long long)f->order_id);
    qts_strlcpy(l.broker, pub->broker ? pub->broker : "", sizeof l.broker);
    l.side = f->side;
    l.px_exp = f->h.px_exp;
    l.qty_exp = f->h.qty_exp;
    l.qty = f->qty;
    l.px = f->px;
    l.amount = qts_cash_notional(f->px, f->h.px_exp, f->qty, f->h.qty_exp);
    l.fee = f->fee;
    /* the portfolio applied this fill before us (bus order): its realized
     * PnL is the change of the strategy's realized total in the instrument,
     * gross of fees (the summary's per-strategy figure sums these) */
    const struct qts_position *sp =
        qts_portfolio_strategy_position(pub->pf, f->strategy_id, f->h.instrument);
    int64_t *prev = realized_slot(pub, f->strategy_id, f->h.instrument);
    l.realized_pnl = sp ? sp->realized - *prev : QTS_STORE_NULL;
    if (sp)
        *prev = sp->realized;
    set_run(pub, l.run_id);
    store_push(pub, &l.h, QTS_REC_LEDGER, sizeof l, f->h.ts_exch_ns);

    const struct qts_position *v = qts_portfolio_position(pub->pf, f->h.instrument);
    if (v)
        push_position(pub, v, f->h.ts_exch_ns);
}

static void store_on_order(void *self, const struct qts_order_event *ev)
{
    struct qts_store_pub *pub = self;
    if (!pub->writer)
        return;
    int64_t ts = ev->h.ts_exch_ns ? ev->h.ts_exch_ns : qts_clock_now(pub->clock);
    struct qts_store_order_event r;
    memset(&r, 0, sizeof r);
    r.order_id = ev->order_id;
    snprintf(r.client_order_id, sizeof r.client_order_id, "%llu", (unsigned long long)ev->order_id);
    r.event = ev->kind;
    r.state = ev->state;
    r.px_exp = ev->h.px_exp;
    r.qty_exp = ev->h.qty_exp;
    r.code = ev->code;
    qts_strlcpy(r.reason, ev->reason, sizeof r.reason);
    r.filled_qty = ev->filled_qty;
    r.leaves_qty = ev->leaves_qty;
    r.avg_px = ev->filled_qty ? ev->avg_px : QTS_STORE_NULL;
    set_run(pub, r.run_id);
    store_push(pub, &r.h, QTS_REC_ORDER_EVENT, sizeof r, ts);
    if (ev->kind == QTS_OE_ACCEPTED)
        pub->n_orders++;
    else if (ev->kind == QTS_OE_REJECTED)
        pub->n_rejected++;

    /* the order's latest state: an upsert keyed by (run, order id) */
    struct qts_store_order o;
    memset(&o, 0, sizeof o);
    o.order_id = ev->order_id;
    qts_strlcpy(o.client_order_id, r.client_order_id, sizeof o.client_order_id);
    qts_strlcpy(o.symbol, qts_instruments_symbol(pub->instruments, ev->h.instrument),
                sizeof o.symbol);
    strategy_tag(o.tag, sizeof o.tag, ev->strategy_id, ev->tag);
    o.strategy_id = ev->strategy_id;
    o.side = ev->side;
    o.state = ev->state;
    o.px_exp = ev->h.px_exp;
    o.qty_exp = ev->h.qty_exp;
    o.qty = ev->filled_qty + ev->leaves_qty;
    o.filled_qty = ev->filled_qty;
    o.avg_fill_px = ev->filled_qty ? ev->avg_px : QTS_STORE_NULL;
    o.decision_px = QTS_STORE_NULL;
    o.ts_decided_ns = ev->order_id < pub->n_decided && pub->decided_ns[ev->order_id]
                          ? pub->decided_ns[ev->order_id]
                          : ts;
    o.ts_sent_ns = QTS_STORE_NULL;
    bool done = ev->kind != QTS_OE_ACCEPTED && ev->kind != QTS_OE_REPLACED;
    o.ts_done_ns = done ? ts : QTS_STORE_NULL;
    set_run(pub, o.run_id);
    store_push(pub, &o.h, QTS_REC_ORDER, sizeof o, ts);
}

static void copy_trunc(char *dst, size_t cap, const char *src)
{
    qts_strlcpy(dst, src ? src : "", cap);
}

/* Each stage of each intent (the decision record): a decision_log row. */
static void store_on_decision(void *self, const struct qts_decision *d)
{
    struct qts_store_pub *pub = self;
    if (!pub->writer)
        return;
    const struct qts_order_intent *in = d->intent;
    struct qts_store_decision r;
    memset(&r, 0, sizeof r);
    snprintf(r.cycle_id, sizeof r.cycle_id, "%u-%lld", in->strategy_id,
             (long long)in->ts_decision_ns);
    copy_trunc(r.symbol, sizeof r.symbol, d->symbol);
    qts_strlcpy(r.action, in->side == QTS_SIDE_BUY ? "BUY" : "SELL", sizeof r.action);
    strategy_tag(r.tag, sizeof r.tag, in->strategy_id, in->tag);
    copy_trunc(r.operating_state, sizeof r.operating_state, d->stage);
    copy_trunc(r.act_status, sizeof r.act_status, d->outcome);
    copy_trunc(r.reason, sizeof r.reason, d->reason);
    copy_trunc(r.codes, sizeof r.codes, d->codes);
    copy_trunc(r.inputs, sizeof r.inputs, d->inputs);
    r.px_exp = d->px_exp;
    r.qty_exp = d->qty_exp;
    r.approved = d->qty_decided > 0 && strcmp(d->outcome, "rejected") != 0 &&
                 strcmp(d->outcome, "dropped") != 0 && strcmp(d->outcome, "deferred") != 0;
    r.px = d->px_decided ? d->px_decided : QTS_STORE_NULL;
    r.qty = d->qty_decided;
    r.order_id = d->order_id;
    r.confidence = r.risk_score = r.fb_slippage_bps = r.fb_quality_score = NAN;
    set_run(pub, r.run_id);
    store_push(pub, &r.h, QTS_REC_DECISION, sizeof r, d->ts_ns);

    /* the decision time of the order it became, for its `orders` row */
    if (d->order_id && d->order_id < DECIDED_MAX) {
        if (d->order_id >= pub->n_decided) {
            size_t n = pub->n_decided ? pub->n_decided : 1024;
            while (n <= d->order_id)
                n *= 2;
            pub->decided_ns = qts_xrealloc(pub->decided_ns, n * sizeof *pub->decided_ns);
            memset(pub->decided_ns + pub->n_decided, 0,
                   (n - pub->n_decided) * sizeof *pub->decided_ns);
            pub->n_decided = n;
        }
        if (!pub->decided_ns[d->order_id])
            pub->decided_ns[d->order_id] = in->ts_decision_ns ? in->ts_decision_ns : d->ts_ns;
    }
}

static void push_run(struct qts_store_pub *pub, const char *status, bool end)
{
    struct qts_store_run r;
    memset(&r, 0, sizeof r);
    set_run(pub, r.run_id);
    qts_strlcpy(r.mode, pub->mode, sizeof r.mode);
    qts_strlcpy(r.status, status, sizeof r.status);
    qts_strlcpy(r.config_path, pub->config_path, sizeof r.config_path);
    r.started_ns = pub->started_ns;
    r.ended_ns = end ? wall_now_ns() : QTS_STORE_NULL;
    bool any = end && pub->n_events > 0;
    r.data_from_ns = any ? pub->data_from_ns : QTS_STORE_NULL;
    r.data_to_ns = any ? pub->data_to_ns : QTS_STORE_NULL;
    r.events = end ? (int64_t)pub->n_events : QTS_STORE_NULL;
    r.orders = end ? (int64_t)pub->n_orders : QTS_STORE_NULL;
    r.rejected = end ? (int64_t)pub->n_rejected : QTS_STORE_NULL;
    r.fills = end ? (int64_t)pub->n_fills : QTS_STORE_NULL;
    store_push(pub, &r.h, QTS_REC_RUN, sizeof r, pub->started_ns);
}

void qts_store_pub_run_start(struct qts_store_pub *pub, const char *mode, const char *config_path,
                             int64_t wall_ns)
{
    if (!pub->writer)
        return;
    qts_strlcpy(pub->mode, mode, sizeof pub->mode);
    qts_strlcpy(pub->config_path, config_path ? config_path : "", sizeof pub->config_path);
    pub->started_ns = wall_ns;
    pub->started = true;
    push_run(pub, "running", false);
}

/* A scalar's type as the strategies table names it. */
static const char *value_type(const char *v)
{
    if (strcmp(v, "true") == 0 || strcmp(v, "false") == 0)
        return "bool";
    char *end = NULL;
    (void)strtoll(v, &end, 10);
    if (*v && end && !*end)
        return "int";
    (void)strtod(v, &end);
    if (*v && end && !*end)
        return "float";
    return "string";
}

/* Every scalar under `n` as a strategies row (key: dotted path). */
static void push_params(struct qts_store_pub *pub, const char *strategy, const char *prefix,
                        const struct qts_cfg_node *n, int64_t ts)
{
    for (size_t i = 0; i < qts_cfg_len(n); i++) {
        const struct qts_cfg_node *c = qts_cfg_at(n, i);
        char name[100];
        snprintf(name, sizeof name, "%s%s%s", prefix, *prefix ? "." : "", qts_cfg_key_at(n, i));
        if (qts_cfg_type(c) == QTS_CFG_MAP) {
            push_params(pub, strategy, name, c, ts);
            continue;
        }
        const char *v = qts_cfg_str(c);
        if (!v)
            continue; /* a list: not a parameter value */
        struct qts_store_param r;
        memset(&r, 0, sizeof r);
        qts_strlcpy(r.strategy_id, strategy, sizeof r.strategy_id);
        qts_strlcpy(r.param_name, name, sizeof r.param_name);
        qts_strlcpy(r.value, v, sizeof r.value);
        qts_strlcpy(r.value_type, value_type(v), sizeof r.value_type);
        set_run(pub, r.run_id);
        store_push(pub, &r.h, QTS_REC_PARAM, sizeof r, ts);
    }
}

/* Every numeric scalar under `n` as a risk_configs row (key: dotted path). */
static void push_risk(struct qts_store_pub *pub, const char *prefix, const struct qts_cfg_node *n,
                      int64_t ts)
{
    for (size_t i = 0; i < qts_cfg_len(n); i++) {
        const struct qts_cfg_node *c = qts_cfg_at(n, i);
        char key[100];
        snprintf(key, sizeof key, "%s.%s", prefix, qts_cfg_key_at(n, i));
        if (qts_cfg_type(c) == QTS_CFG_MAP) {
            push_risk(pub, key, c, ts);
            continue;
        }
        const char *v = qts_cfg_str(c);
        char *end = NULL;
        double d = v ? strtod(v, &end) : NAN;
        if (!v || !*v || *end || !isfinite(d) || fabs(d) >= 1e10)
            continue; /* not a number the column holds (numeric(18,8)) */
        struct qts_store_risk_config r;
        memset(&r, 0, sizeof r);
        qts_strlcpy(r.config_key, key, sizeof r.config_key);
        r.exp = 8;
        r.value = llround(d * 1e8);
        set_run(pub, r.run_id);
        store_push(pub, &r.h, QTS_REC_RISK_CONFIG, sizeof r, ts);
    }
}

void qts_store_pub_config(struct qts_store_pub *pub, const struct qts_cfg_node *root)
{
    if (!pub->writer || !root)
        return;
    int64_t ts = wall_now_ns();
    const struct qts_cfg_node *list = qts_cfg_get(root, "strategies.list");
    for (size_t i = 0; i < qts_cfg_len(list); i++) {
        const struct qts_cfg_node *st = qts_cfg_at(list, i);
        const char *name = qts_cfg_str(qts_cfg_get(st, "name"));
        if (!name)
            continue;
        push_params(pub, name, "", qts_cfg_get(st, "params"), ts);
        char prefix[100];
        snprintf(prefix, sizeof prefix, "strategies.%s.risk", name);
        push_risk(pub, prefix, qts_cfg_get(st, "risk"), ts);
    }
    push_risk(pub, "risk", qts_cfg_get(root, "risk"), ts);
}

void qts_store_pub_positions(struct qts_store_pub *pub, int64_t ts_ns)
{
    if (!pub->writer)
        return;
    const struct qts_position *v = NULL;
    size_t n = qts_portfolio_positions(pub->pf, &v);
    for (size_t i = 0; i < n; i++)
        push_position(pub, &v[i], ts_ns);
}

void qts_store_pub_free(struct qts_store_pub *pub)
{
    free(pub->inst);
    free(pub->decided_ns);
    free(pub->realized);
    pub->realized = NULL;
    pub->n_realized = 0;
    pub->inst = NULL;
    pub->decided_ns = NULL;
    pub->n_inst = pub->n_decided = 0;
}

/* Positions at the end of a run (upserts keyed by symbol), then the writer
 * stops: everything written or journalled. */
static int store_on_run_end(void *self, const struct qts_run_end *end, struct qts_err *err)
{
    (void)err;
    struct qts_store_pub *pub = self;
    if (!pub->writer)
        return 0;
    /* the bars still open at the end of the data */
    for (size_t i = 0; i < pub->n_inst; i++) {
        struct qts_bar b;
        if (pub->inst[i].ready && qts_bar_builder_flush(&pub->inst[i].bar_1m, &b) == 1)
            push_bar(pub, &b);
        if (pub->inst[i].ready && qts_bar_builder_flush(&pub->inst[i].bar_1d, &b) == 1)
            push_bar(pub, &b);
    }
    const struct qts_position *v = NULL;
    size_t n = qts_portfolio_positions(pub->pf, &v);
    for (size_t i = 0; i < n; i++)
        push_position(pub, &v[i], end->ts_ns);
    if (pub->started)
        push_run(pub, end->interrupted ? "stopped" : "done", true);
    /* the rollups of what this run wrote, on the run's clock */
    qts_store_writer_request_refresh(pub->writer, end->ts_ns);
    qts_store_writer_stop(pub->writer);
    struct qts_store_writer_stats ws;
    qts_store_writer_get_stats(pub->writer, &ws);
    QTS_INFO("store records written=%" PRIu64 " spilled=%" PRIu64 " dead=%" PRIu64,
             ws.written + ws.replayed, ws.spilled, ws.dead);
    return 0;
}

static int64_t to_fixed(double v, unsigned exp)
{
    return isfinite(v) ? llround(v * (double)qts_pow10_i64[exp <= QTS_MAX_EXP ? exp : 0])
                       : QTS_STORE_NULL;
}

void qts_store_pub_tca_row(struct qts_store_pub *pub, const struct qts_tca_row *row)
{
    if (!pub->writer)
        return;
    const struct qts_instrument *in = qts_instruments_get(pub->instruments, row->instrument);
    unsigned pe = in ? in->px_exp : 0, qe = in ? in->qty_exp : 0;
    struct qts_store_feedback r;
    memset(&r, 0, sizeof r);
    snprintf(r.order_id, sizeof r.order_id, "%llu", (unsigned long long)row->order_id);
    qts_strlcpy(r.symbol, row->symbol, sizeof r.symbol);
    char tag[64];
    snprintf(tag, sizeof tag, "%u:%s", row->strategy_id, row->tag);
    qts_strlcpy(r.tag, tag, sizeof r.tag);
    qts_strlcpy(r.order_type,
                row->type == QTS_ORD_MARKET ? "MARKET"
                : row->type == QTS_ORD_STOP ? "STOP"
                                            : "LIMIT",
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
    set_run(pub, r.run_id);
    store_push(pub, &r.h, QTS_REC_FEEDBACK, sizeof r, row->ts_end_ns);
}

struct qts_bus_sub qts_store_sub(struct qts_store_pub *pub)
{
    return (struct qts_bus_sub){.name = "store",
                                .on_market = store_on_market,
                                .on_order = store_on_order,
                                .on_fill = store_on_fill,
                                .on_decision = store_on_decision,
                                .self = pub};
}

struct qts_bus_sub qts_store_close_sub(struct qts_store_pub *pub)
{
    return (struct qts_bus_sub){.name = "store_close", .on_run_end = store_on_run_end, .self = pub};
}
