/* engine_run.c — running: the replay and live loops, the start-up sync,
 * the end of a run. */
#include "engine_int.h"

#include <stdarg.h>
#include <stddef.h>
#include <time.h>

/* ------------------------------------------------------------------ running */

static void progress(struct qts_engine *e, bool final)
{
    if (!e->opts.progress)
        return;
    int64_t now = qts_mono_ns();
    if (!final &&
        now - e->last_progress_ns < (e->opts.progress_is_tty ? 200000000LL : 5000000000LL))
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
    char line[200];
    snprintf(line, sizeof line,
             "replay %5.1f%%  %" PRIu64 " events  %.2f M events/s  fills %" PRIu64 "  eta %.0fs",
             frac * 100, e->stats.events, rate / 1e6, e->stats.fills, eta);
    if (e->opts.progress_is_tty && !final) {
        qts_log_status_line(line); /* log lines print above it (log.h) */
        return;
    }
    if (e->opts.progress_is_tty)
        qts_log_status_line(NULL);
    fprintf(e->opts.progress, "%s\n", line);
    fflush(e->opts.progress);
}

/* ------------------------------------------------------------ feed pacing */

bool qts__engine_feed_due(struct feed_slot *f, int64_t data_ns)
{
    if (f->pace <= 0)
        return true;
    int64_t now = qts_mono_ns();
    if (!f->pace_started) {
        f->pace_started = true;
        f->pace_t0_data_ns = data_ns;
        f->pace_t0_mono_ns = now;
        f->pace_t0_wall_ns = qts_wall_ns();
    }
    double data_elapsed = (double)(data_ns - f->pace_t0_data_ns);
    int64_t due = f->pace_t0_mono_ns + (int64_t)(data_elapsed / f->pace);
    if (due <= now) {
        f->held_until_mono_ns = 0;
        return true;
    }
    f->held_until_mono_ns = due;
    return false;
}

void qts__engine_feed_restamp(const struct feed_slot *f, struct qts_ev_hdr *h)
{
    if (f->pace <= 0 || !f->pace_started)
        return;
    /* the feed's own latency, kept; none when it stamped no receipt time */
    int64_t shift = h->ts_recv_ns && h->ts_exch_ns ? h->ts_recv_ns - h->ts_exch_ns : 0;
    h->ts_recv_ns =
        f->pace_t0_wall_ns + (int64_t)((double)(qts__ev_data_ns(h) - f->pace_t0_data_ns) / f->pace);
    h->ts_exch_ns = h->ts_exch_ns ? h->ts_recv_ns - shift : 0;
}

/* Each polled feed's pace: its own `speed` key when it is > 0, else
 * replay.speed (0 = max); in paper and live "max" means real time, where
 * data must not arrive faster than the market makes it, and a number
 * plays a recording (feed_replay) at that multiple of real time. */
static void set_feed_paces(struct qts_engine *e)
{
    for (size_t i = 0; i < e->n_feeds; i++) {
        const struct qts_plugin_slot *s = &e->set->feeds[i];
        double own = 0;
        const struct qts_cfg_node *n = s->config ? qts_cfg_get(s->config, "speed") : NULL;
        if (!n || qts_cfg_double(n, &own, NULL) != 0 || own < 0)
            own = 0; /* the plugin refused a bad value at its init */
        e->feeds[i].pace = own > 0                           ? own
                           : e->set->mode == QTS_MODE_REPLAY ? e->set->replay_speed
                           : e->set->replay_speed > 0        ? e->set->replay_speed
                                                             : 1.0;
    }
}

/* One poll of feed `i` for up to `max` events: >= 0 events taken, or < 0
 * when the feed ended (QTS_EEOF) or failed (logged, marked). */
static int poll_feed(struct qts_engine *e, size_t i, uint32_t max)
{
    struct feed_slot *slot = &e->feeds[i];
    struct qts_plugin_inst *f = qts_plugin_manager_current(e->plugins, slot->name);
    const struct qts_feed_ops *ops = qts_plugin_inst_desc(f)->ops;
    e->polling_feed = i + 1;
    qts_plugin_inst_enter(f);
    int rc = ops->poll(qts_plugin_inst_self(f), max);
    qts_plugin_inst_leave(f);
    e->polling_feed = 0;
    if (rc == QTS_EEOF) {
        slot->at_eof = true;
        QTS_INFO("feed %s: end of data", slot->name);
    } else if (rc < 0) {
        QTS_ERROR("feed %s failed: %s", slot->name, qts_strerror(rc));
        slot->at_eof = true;
        slot->failed = rc;
    }
    return rc;
}

/* The earliest time a held event of a live feed is due; 0 = none held. */
static int64_t next_held_due(const struct qts_engine *e)
{
    int64_t due = 0;
    for (size_t i = 0; i < e->n_feeds; i++) {
        int64_t h = e->feeds[i].at_eof ? 0 : e->feeds[i].held_until_mono_ns;
        if (h && (!due || h < due))
            due = h;
    }
    return due;
}

/* A simulated venue hears that no market event will follow (ABI 1.4). */
static void broker_data_end(struct qts_engine *e)
{
    if (!e->has_broker)
        return;
    struct qts_plugin_inst *b = qts_plugin_manager_current(e->plugins, "broker");
    const struct qts_plugin_desc *d = b ? qts_plugin_inst_desc(b) : NULL;
    const struct qts_broker_ops *ops = d ? d->ops : NULL;
    if (!ops || ops->struct_size < offsetof(struct qts_broker_ops, on_data_end) + sizeof(void *) ||
        !ops->on_data_end)
        return;
    qts_plugin_inst_enter(b);
    ops->on_data_end(qts_plugin_inst_self(b));
    qts_plugin_inst_leave(b);
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
    set_feed_paces(e);
    int64_t next_service_ns = 0;
    /* Events per poll: a fixed count, never one that follows the wall
     * clock. Where a poll ends is where a batch is flushed, and a replay's
     * fills must not depend on how fast the machine ran it (a poll sized by
     * elapsed time gave two different results of one replay under the
     * sanitizers). The loop comes round to the service step (signals,
     * admin socket) after each poll: 1024 events take a few ms. */
    const size_t poll_batch = REPLAY_POLL_BATCH;
    while (live > 0 && !e->stop_requested) {
        live = 0;
        int taken = 0;
        for (size_t i = 0; i < e->n_feeds; i++) {
            if (e->feeds[i].at_eof)
                continue;
            int rc = poll_feed(e, i, (uint32_t)poll_batch);
            if (rc < 0)
                continue;
            taken += rc;
            live++;
        }
        int64_t held_due = taken == 0 ? next_held_due(e) : 0;
        if (held_due) { /* replay.speed: wait for the next event, a slice at most */
            int64_t wait_ns = QTS_MIN(held_due - qts_mono_ns(), REPLAY_SLICE_NS);
            if (wait_ns > 0)
                nanosleep(&(struct timespec){.tv_sec = 0, .tv_nsec = (long)wait_ns}, NULL);
        }
        qts__engine_flush_batch(e);
        if (e->risk)
            qts_risk_control_beat(e->risk); /* the watchdog's view of the core */
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
    if (e->stop_signal)
        QTS_WARN("replay interrupted by %s after %" PRIu64
                 " events: the run's files cover them (summary.json says \"interrupted\")",
                 e->stop_signal == SIGINT ? "SIGINT" : "SIGTERM", e->stats.events);
    /* End of the data, with the risk checks still on: a venue filling from
     * bars takes the requests in flight and fills what waits for a next bar
     * at the last close; then the strategies' on_end, on that final state,
     * and the same for the orders it placed. */
    broker_data_end(e);
    qts_lua_runtime_drain(e->rt);
    if (qts_lua_runtime_end(e->rt, e->stop_signal ? "stop" : "end of data") > 0) {
        qts_lua_runtime_drain(e->rt);
        broker_data_end(e);
        qts_lua_runtime_drain(e->rt);
    }
    /* The market is over: no more prices will come, so the risk loop stops
     * here instead of reading the silence as a stale feed. */
    if (e->risk) {
        e->risk_pub.host = NULL;
        qts_risk_control_free(e->risk);
        e->risk = NULL;
    }
    /* Then the venue answers the requests in flight (on_end's among them),
     * what still works is cancelled (a replay leaves no order behind) and
     * the cancels are answered. */
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
            .h = {.struct_size = sizeof f,
                  .type = QTS_EV_FILL,
                  .px_exp = inst->px_exp,
                  .qty_exp = inst->qty_exp,
                  .instrument = inst->id,
                  .ts_exch_ns = qts_wall_ns(),
                  .ts_recv_ns = qts_wall_ns()},
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
        qts_cache_pub_position(&e->cache_pub, inst->id, f.h.ts_exch_ns);
        QTS_INFO("startup: adopted the broker's position symbol=%s qty=%" PRId64 " avg_px=%" PRId64,
                 inst->symbol, qty, px);
    }
}

/* Write one JSON object into the run directory as `name`: `json(obj, buf,
 * cap)` returns the length snprintf would have written (measured first). */
static void write_run_json(struct qts_engine *e, const char *name,
                           int (*json)(const void *obj, char *buf, size_t cap), const void *obj)
{
    char path[1100];
    snprintf(path, sizeof path, "%s/%s", e->run_dir, name);
    FILE *f = qts__engine_make_dirs(e->run_dir) == 0 ? fopen(path, "w") : NULL;
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
    struct qts_startup_env env = {.loop = &e->loop,
                                  .exec = e->exec,
                                  .timeout_ms = e->set->startup_timeout_ms,
                                  .seed_market = e->set->startup_seed_market,
                                  .adopt_positions = e->set->startup_adopt_positions,
                                  .require_reconcile = e->set->startup_require_reconcile,
                                  .stop = &e->stop_requested};
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
        QTS_INFO("startup: the account can spend %s; PreCheck's cash check is capped by it", cash);
    }
    write_run_json(e, "startup.json", startup_json, e->sync);
    qts_startup_sync_free(e->sync);
    e->sync = NULL;
    free(symbols);
    if (rc != 0 || e->stop_requested)
        return rc;
    return qts__engine_start_strategies(e, err);
}

/* ------------------------------------------------------- orderly stop */

static void on_stop_deadline(uv_timer_t *t) { (void)t; /* wakes uv_run: the wait ends */ }

struct stop_doc {
    const struct qts_engine *e; /* borrowed */
    size_t working_at_stop, cancels_sent;
    int64_t waited_ms;
    const char *why_left; /* borrowed literal */
};

/* snprintf into a buffer that may be NULL: `len` grows to what the text
 * needs, so a first pass measures it (write_run_json). */
struct jout {
    char *buf;
    size_t cap, len;
};

static void jput(struct jout *j, const char *fmt, ...) QTS_PRINTF(2, 3);
static void jput(struct jout *j, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *at = j->buf && j->len < j->cap ? j->buf + j->len : NULL;
    int n = vsnprintf(at, at ? j->cap - j->len : 0, fmt, ap);
    va_end(ap);
    if (n > 0)
        j->len += (size_t)n;
}

static int stop_json(const void *obj, char *buf, size_t cap)
{
    const struct stop_doc *d = obj;
    const struct qts_engine *e = d->e;
    size_t left = qts_engine_working_orders(e);
    struct jout jb = {.buf = buf, .cap = cap};
    jput(&jb,
         "{\"signal\":\"%s\",\"mode\":\"%s\",\"cancel_on_stop\":%s,"
         "\"stop_timeout_ms\":%" PRId64 ",\"waited_ms\":%" PRId64
         ",\"working_at_stop\":%zu,\"cancels_sent\":%zu,\"left_working\":%zu,"
         "\"all_cancelled\":%s,\"orders\":[",
         e->stop_signal == SIGINT    ? "SIGINT"
         : e->stop_signal == SIGTERM ? "SIGTERM"
                                     : "request",
         qts_mode_name(e->set->mode), e->set->safety.cancel_on_stop ? "true" : "false",
         e->set->stop_timeout_ms, d->waited_ms, d->working_at_stop, d->cancels_sent, left,
         left == 0 ? "true" : "false");
    const char *sep = "";
    for (const struct qts_parent *p = qts_oms_active_first(qts_exec_oms(e->exec)); p;
         p = qts_oms_active_next((struct qts_parent *)p)) {
        jput(&jb,
             "%s{\"order_id\":%" PRIu64 ",\"strategy_id\":%u,\"symbol\":\"%s\","
             "\"side\":\"%s\",\"qty\":%" PRId64 ",\"filled_qty\":%" PRId64
             ",\"state\":\"%s\",\"why\":\"%s\"}",
             sep, p->order_id, p->strategy_id, p->inst.symbol,
             p->intent.side == QTS_SIDE_BUY ? "buy" : "sell", p->intent.qty, p->filled_qty,
             qts_exec_state_name(p->state), d->why_left);
        sep = ",";
    }
    jput(&jb, "]}");
    return (int)jb.len;
}

/* Paper and live: a stop (signal or request) cancels the working orders
 * (safety.cancel_on_stop) and keeps the loop running, so the cancels reach
 * the broker and its answers come back, until none is working or
 * safety.stop_timeout_ms has passed. stop.json in the run directory says
 * what happened to each order still working; a second signal ends the
 * wait at once (engine_wire.c). */
static void orderly_stop(struct qts_engine *e)
{
    struct stop_doc d = {.e = e, .working_at_stop = qts_engine_working_orders(e)};
    int64_t t0 = qts_mono_ns();
    if (e->set->safety.cancel_on_stop && d.working_at_stop > 0) {
        if (e->risk) {
            d.cancels_sent = qts_risk_control_stop_orders(e->risk);
        } else {
            for (size_t i = 0; i < e->set->n_strategies + 1; i++)
                d.cancels_sent += qts_exec_cancel_strategy(e->exec, (uint32_t)i, "host stopping");
        }
        QTS_INFO("orderly stop: %zu working orders, %zu cancels sent; waiting up to %" PRId64
                 " ms for the broker",
                 d.working_at_stop, d.cancels_sent, e->set->stop_timeout_ms);
        uv_timer_t deadline;
        uv_timer_init(&e->loop, &deadline);
        uv_timer_start(&deadline, on_stop_deadline, (uint64_t)e->set->stop_timeout_ms, 0);
        int64_t end = t0 + e->set->stop_timeout_ms * 1000000LL;
        while (qts_engine_working_orders(e) > 0 && qts_mono_ns() < end) {
            uv_run(&e->loop, UV_RUN_ONCE);
            if (e->writer)
                qts_store_writer_poll(e->writer);
            qts_lua_runtime_drain(e->rt);
        }
        uv_close((uv_handle_t *)&deadline, NULL);
        uv_run(&e->loop, UV_RUN_NOWAIT); /* the close finishes: `deadline` leaves scope */
        d.why_left = "no answer from the broker to the cancel within safety.stop_timeout_ms";
    } else {
        d.why_left =
            e->set->safety.cancel_on_stop ? "" : "left working: safety.cancel_on_stop is false";
    }
    d.waited_ms = (qts_mono_ns() - t0) / 1000000;
    size_t left = qts_engine_working_orders(e);
    if (!e->set->safety.cancel_on_stop)
        QTS_WARN(
            "orderly stop: %zu orders left working at the broker (safety.cancel_on_stop: false)",
            left);
    else if (left)
        QTS_ERROR("orderly stop: %zu of %zu orders still working after %" PRId64
                  " ms; stop.json lists them",
                  left, d.working_at_stop, d.waited_ms);
    else if (d.working_at_stop)
        QTS_INFO("orderly stop: all %zu working orders cancelled in %" PRId64 " ms",
                 d.working_at_stop, d.waited_ms);
    e->exit_status = e->set->safety.cancel_on_stop && left ? 1 : 0;
    write_run_json(e, "stop.json", stop_json, &d);
}

/* Paper and live need market data: a feed the host polls, a feed that
 * delivers on its own (its threads or uv handles), or a broker on a venue,
 * which streams its venue's prices. A run that would see none stops here
 * instead of running blind. */
static int check_market_sources(struct qts_engine *e, struct qts_err *err)
{
    size_t sources = 0;
    for (size_t i = 0; i < e->n_feeds; i++) {
        struct qts_plugin_inst *f = qts_plugin_manager_current(e->plugins, e->feeds[i].name);
        const struct qts_plugin_desc *d = f ? qts_plugin_inst_desc(f) : NULL;
        const struct qts_feed_ops *ops = d ? d->ops : NULL;
        e->feeds[i].polled = ops && ops->poll;
        if (!e->feeds[i].polled && !(d && (d->caps & (QTS_CAP_THREADS | QTS_CAP_RAW_LOOP))))
            return qts_err_set(err, QTS_ECONFIG,
                               "mode %s: feed %s (%s) would deliver nothing: its plugin has no "
                               "poll operation and no delivery of its own (QTS_CAP_THREADS or "
                               "QTS_CAP_RAW_LOOP)",
                               qts_mode_name(e->set->mode), e->feeds[i].name,
                               e->set->feeds[i].plugin);
        sources++;
    }
    int env = qts__engine_broker_env(e);
    if (env == QTS_BROKER_ENV_PAPER || env == QTS_BROKER_ENV_REAL)
        sources++;
    if (sources == 0)
        return qts_err_set(err, QTS_ECONFIG,
                           "mode %s: no market data would arrive: no feed is configured "
                           "(feeds:) and the broker (%s) is a simulation with no venue prices; "
                           "add a feed, e.g. {name: md, plugin: feed_synthetic}",
                           qts_mode_name(e->set->mode),
                           e->set->broker.plugin ? e->set->broker.plugin : "none");
    return 0;
}

/* Paper and live: the timer pulls each polled feed; a feed is polled again
 * at once while it fills whole batches (more is due), up to a few batches
 * so the loop still serves orders, signals and the admin socket. A paced
 * feed returns early: the rest waits for the next tick. */
static void on_feed_poll(uv_timer_t *t)
{
    struct qts_engine *e = t->data;
    for (size_t i = 0; i < e->n_feeds && !e->stop_requested; i++) {
        if (!e->feeds[i].polled || e->feeds[i].at_eof)
            continue;
        for (int round = 0; round < 8; round++)
            if (poll_feed(e, i, LIVE_POLL_BATCH) < LIVE_POLL_BATCH)
                break;
    }
}

static void start_feed_timer(struct qts_engine *e)
{
    set_feed_paces(e);
    size_t polled = 0;
    for (size_t i = 0; i < e->n_feeds; i++)
        polled += e->feeds[i].polled;
    if (!polled)
        return;
    uv_timer_init(&e->loop, &e->feed_timer);
    e->feed_timer.data = e;
    uv_timer_start(&e->feed_timer, on_feed_poll, 0, LIVE_POLL_MS);
    e->feed_timer_on = true;
    QTS_INFO("polling %zu feed(s) every %d ms", polled, LIVE_POLL_MS);
}

static void stop_feed_timer(struct qts_engine *e)
{
    if (!e->feed_timer_on)
        return;
    e->feed_timer_on = false;
    uv_timer_stop(&e->feed_timer);
    uv_close((uv_handle_t *)&e->feed_timer, NULL);
    uv_run(&e->loop, UV_RUN_NOWAIT); /* the close finishes */
}

static int run_live(struct qts_engine *e, struct qts_err *err)
{
    int64_t t0 = qts_mono_ns();
    int rc = check_market_sources(e, err);
    if (rc != 0)
        return rc;
    if (!e->strategies_added) {
        rc = startup(e, err);
        if (rc != 0)
            return rc;
    }

    uv_ref((uv_handle_t *)&e->sig_int);
    uv_ref((uv_handle_t *)&e->sig_term);
    start_feed_timer(e);
    while (!e->stop_requested) {
        uv_run(&e->loop, UV_RUN_ONCE);
        if (e->writer)
            qts_store_writer_poll(e->writer);
        if (e->cache)
            qts_cache_writer_flush(e->cache);
        qts_lua_runtime_drain(e->rt);
        qts_lua_runtime_tick(e->rt);
    }
    stop_feed_timer(e); /* no new prices while the orders are cancelled */
    orderly_stop(e);    /* the signal handles stay on: a second signal ends it */
    /* the signal handles must not keep the shutdown's loop runs alive */
    uv_unref((uv_handle_t *)&e->sig_int);
    uv_unref((uv_handle_t *)&e->sig_term);
    e->stats.wall_ns = qts_mono_ns() - t0;
    return 0;
}

int qts_engine_exit_status(const struct qts_engine *e) { return e->exit_status; }

int qts_engine_run(struct qts_engine *e, struct qts_err *err)
{
    int rc = e->set->mode == QTS_MODE_REPLAY ? run_replay(e, err) : run_live(e, err);
    if (rc != 0)
        return rc;
    /* strategies get on_stop; the portfolio gets its last marks */
    qts_lua_runtime_sync(e->rt, 5000000000LL);
    qts_lua_runtime_drain(e->rt);
    int64_t end_ts = e->set->mode == QTS_MODE_REPLAY ? qts_clock_now(&e->clock) : qts_wall_ns();
    /* paper/live samples follow the events' exchange time, which may run
     * ahead of this machine's clock (Binance's by about a second): the
     * last sample must not go back before them */
    if (e->set->mode != QTS_MODE_REPLAY && end_ts < e->next_sample_ns)
        end_ts = e->next_sample_ns;
    qts_portfolio_sample(e->portfolio, end_ts);
    e->stats.equity = qts_portfolio_equity(e->portfolio);
    /* feedback's tca.csv, the store's positions and stop, the report's
     * files, in the bus's order */
    if (qts__engine_make_dirs(e->run_dir) != 0)
        return qts_err_set(err, QTS_EIO, "cannot create %s", e->run_dir);
    char why[64] = "";
    if (e->set->mode == QTS_MODE_REPLAY && e->stop_signal) {
        snprintf(why, sizeof why, "%s", e->stop_signal == SIGINT ? "SIGINT" : "SIGTERM");
        e->exit_status = 128 + e->stop_signal;
    }
    struct qts_run_end end = {
        .run_dir = e->run_dir, .ts_ns = end_ts, .interrupted = why[0] ? why : NULL};
    rc = qts_bus_run_end(&e->bus, &end, err);
    if (rc != 0)
        return rc;
    /* the execution summary (stage histograms) beside the report */
    write_run_json(e, "execution.json", execution_json, e->exec);
    /* A feed that failed (its log says why) leaves a run on part of the
     * data: its files are written above, but the run does not succeed. */
    for (size_t i = 0; i < e->n_feeds; i++)
        if (e->feeds[i].failed)
            return qts_err_set(err, e->feeds[i].failed,
                               "feed %s failed (%s): the run covers only part of its data",
                               e->feeds[i].name, qts_strerror(e->feeds[i].failed));
    return 0;
}
