/* engine_wire.c — construction: the store, instruments, strategies,
 * feedback, the bus and its subscriber order, qts_engine_new. */
#include "engine_int.h"

#include <limits.h>
#include <stdlib.h>
#include <time.h>

#include "run_id.h"

/* ------------------------------------------------------------ store plugin */

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
    int migrate_pending = 0;
    if (rc < 0) {
        /* a database that does not answer does not stop trading: records
         * spill to the journal and the writer migrates when it is back */
        struct qts_err pe;
        if (!port->ops->ping || port->ops->ping(port->self, &pe) == 0)
            return rc;
        QTS_WARN("store unreachable at start, records spill to the journal until it answers "
                 "err=%s",
                 err->msg);
        qts_err_clear(err);
        migrate_pending = 1;
    }
    if (!migrate_pending) { /* the writer does not run yet: the plugin is ours */
        qts__engine_store_read_back(e, port);
        e->fb_stored = qts_feedback_read_store(port->ops, port->self); /* the learned cost model */
    }
    char journal[1100];
    snprintf(journal, sizeof journal, "%s/store.journal", e->set->var_dir);
    const char *watch[] = {e->set->var_dir, e->run_dir, NULL}; /* removed under us: FS064 */
    struct qts_store_writer_opts wo = {
        .journal_path = journal, .migrate_pending = migrate_pending, .watch_dirs = watch};
    rc = qts_store_writer_new(port, &wo, &e->writer, err);
    if (rc == 0)
        rc = qts_store_writer_start(e->writer, err);
    if (rc == 0)
        QTS_INFO("store ready plugin=%s journal=%s", slot->plugin, journal);
    return rc;
}

/* ------------------------------------------------------------ construction */

/* The store subscriber's safety codes (a records directory removed) go on
 * the bus like the pipeline's. */
static void store_safety(void *ctx, int code, const char *msg)
{
    struct qts_engine *e = ctx;
    struct qts_safety_change c = {.code = code, .msg = msg};
    qts_bus_safety(&e->bus, &c);
}

static int64_t run_start_wall_ns(const struct qts_engine *e)
{
    (void)e;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    return (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
}

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
        int rc = qts__engine_define_instrument(e, &inst, NULL);
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
            .initial_cash =
                qts_fixed_to_double(qts_portfolio_initial_cash(e->portfolio), QTS_CASH_EXP)};
        uint32_t id;
        int rc = qts_lua_runtime_add_strategy(e->rt, &conf, &id, err);
        if (rc != 0)
            return rc;
        QTS_INFO("strategy added name=%s id=%u file=%s", sc->name, id, sc->path);
    }
    return 0;
}

int qts__engine_start_strategies(struct qts_engine *e, struct qts_err *err)
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

/* The first SIGINT/SIGTERM asks for an orderly stop (engine_run.c): a
 * replay stops within a poll slice and writes its files for what it
 * processed; paper/live cancel their working orders first. A second one
 * means the operator will not wait: exit now, 128 + the signal. */
static void on_signal(uv_signal_t *h, int signum)
{
    struct qts_engine *e = h->data;
    const char *name = signum == SIGINT ? "SIGINT" : "SIGTERM";
    if (e->stop_signal) {
        QTS_ERROR("%s again: stopping at once; the run's files are not written, "
                  "%zu orders may still be working",
                  name, e->exec ? qts_engine_working_orders(e) : (size_t)0);
        qts_log_stop(); /* the line above reaches the log */
        _exit(128 + signum);
    }
    e->stop_signal = signum;
    if (e->set->mode == QTS_MODE_REPLAY)
        QTS_WARN("%s: stopping the replay; the run's files cover the events processed so far",
                 name);
    else
        QTS_WARN("%s: orderly stop%s (a second signal stops at once)", name,
                 e->set->safety.cancel_on_stop ? ": working orders are cancelled first" : "");
    e->stop_requested = 1;
    uv_stop(&e->loop);
}

int qts__engine_make_dirs(const char *path)
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
    const struct qts_book *book = qts_book_set_find(&e->books, instrument);
    if (!book)
        return NAN;
    const struct qts_instrument *in = qts_instruments_get(e->instruments, instrument);
    struct qts_level lv[5];
    size_t n = qts_book_depth(book, side, lv, 5);
    int64_t sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += lv[i].qty;
    return in ? qts_fixed_to_double(sum, in->qty_exp) : NAN;
}

/* An order is final and its feedback row counted: strategies get
 * on_feedback. */
static void fb_row(void *ctx, const struct qts_tca_row *row)
{
    struct qts_engine *e = ctx;
    qts_lua_pub_feedback(&e->lua_pub, row);
}

/* A complete feedback row (markouts in) goes to the store. */
static void fb_store_row(void *ctx, const struct qts_tca_row *row)
{
    struct qts_engine *e = ctx;
    qts_store_pub_tca_row(&e->store_pub, row);
}

/* The cost model learned (key `key`): its state goes to the store. */
static void fb_store_fit(void *ctx, const char *key, int64_t ts_ns)
{
    struct qts_engine *e = ctx;
    const struct qts_impact_fit *x = qts_impact_get(qts_feedback_model(e->fb), key);
    if (!x || !e->store_pub.writer)
        return;
    struct qts_store_impact_model r;
    qts_impact_to_record(x, &r);
    qts_store_pub_impact_model(&e->store_pub, &r, ts_ns);
}

/* A decision of the feedback stage (fb_decide.h) onto the bus. */
static void fb_decision(void *ctx, const struct qts_decision *d) { qts_bus_decision(ctx, d); }

static int feedback_setup(struct qts_engine *e, struct qts_err *err)
{
    struct qts_tca_env env = {.timers = &e->timers,
                              .parent = fb_parent,
                              .depth5 = fb_depth5,
                              .on_final = fb_row,
                              .on_row = fb_store_row,
                              .on_fit = fb_store_fit,
                              .ctx = e};
    int rc = qts_feedback_new(e->set->feedback, e->set->var_dir, e->set->mode == QTS_MODE_REPLAY,
                              &env, e->fb_stored, &e->fb, err);
    qts_impact_free(e->fb_stored);
    e->fb_stored = NULL;
    if (rc != 0 || !e->fb)
        return rc;
    /* rows reach tca.csv as they complete: the run keeps none */
    if ((rc = qts_feedback_stream_to(e->fb, e->run_dir, err)) != 0)
        return rc;
    struct qts_tca *t = qts_feedback_tca(e->fb);
    for (uint32_t id = 0;; id++) {
        const struct qts_instrument *in = qts_instruments_get(e->instruments, id);
        if (!in)
            break;
        qts_tca_add_instrument(t, in);
    }
    for (size_t i = 0, id = 0; i < e->set->n_strategies; i++) /* ids from 1, enabled ones */
        if (e->set->strategies[i].enabled)
            qts_feedback_name_strategy(e->fb, (uint32_t)++id, e->set->strategies[i].name);
    if ((rc = qts_feedback_check_names(e->fb, err)) != 0)
        return rc;
    if (qts_tca_params(t)->adjust_orders) {
        struct qts_precheck_hook hook = {.name = "feedback", .fn = qts_tca_precheck, .ctx = t};
        rc = qts_exec_add_precheck(e->exec, &hook);
        if (rc != 0)
            return qts_err_set(err, rc, "cannot install the feedback pre-trade hook");
    }
    qts_feedback_board_publish(t);
    return 0;
}

/* The run files' strategy names: enabled strategies numbered from 1 in
 * configuration order, as the Lua runtime numbers them. */
static const char *report_strategy_name(void *ctx, uint32_t id)
{
    const struct qts_engine *e = ctx;
    for (size_t i = 0, n = 0; i < e->set->n_strategies; i++)
        if (e->set->strategies[i].enabled && ++n == id)
            return e->set->strategies[i].name;
    return NULL;
}

/* The bus's subscribers, in the order they are called for every event
 * kind (docs/architecture.md, "The engine as a bus"). The order is part of
 * the output: a fill reaches the portfolio before the store records it and
 * the cache publishes the position; feedback's last rows reach the store
 * before store_close stops the writer; the report comes last. Objects
 * created later (store writer, cache writer, risk host, budget, feedback)
 * are set in their *_pub when they exist. */
static int wire_bus(struct qts_engine *e, struct qts_err *err)
{
    /* store.ticks auto: none in a replay (big files stay fast), trades and
     * top of book from live feeds */
    static const int ticks[] = {0, QTS_STORE_TICKS_NONE, QTS_STORE_TICKS_TRADES,
                                QTS_STORE_TICKS_ALL};
    int tk = e->set->store_ticks;
    e->store_pub =
        (struct qts_store_pub){.instruments = e->instruments,
                               .pf = e->portfolio,
                               .clock = &e->clock,
                               .broker = e->set->broker.plugin,
                               .run_id = e->run_id,
                               .safety = store_safety,
                               .safety_ctx = e,
                               .ticks = tk > 0 && tk < 4                  ? ticks[tk]
                                        : e->set->mode == QTS_MODE_REPLAY ? QTS_STORE_TICKS_NONE
                                                                          : QTS_STORE_TICKS_ALL};
    e->cache_pub = (struct qts_cache_pub){
        .instruments = e->instruments, .pf = e->portfolio, .clock = &e->clock};
    qts__engine_cache_providers(e);
    e->budget_pub =
        (struct qts_budget_pub){.pf = e->portfolio, .market = qts__engine_market, .market_ctx = e};
    e->fb_pub = (struct qts_feedback_pub){
        .clock = &e->clock, .decision = fb_decision, .decision_ctx = &e->bus};
    e->decide_pub = (struct qts_decide_pub){.clock = &e->clock};
    e->lua_pub = (struct qts_lua_pub){.rt = e->rt, .instruments = e->instruments, .seq = &e->seq};
    e->report_pub = (struct qts_report_pub){.pf = e->portfolio,
                                            .title = e->set->host_id,
                                            .mode = qts_mode_name(e->set->mode),
                                            .run_dir = e->run_dir,
                                            .strategy_name = report_strategy_name,
                                            .name_ctx = e};
    qts_bus_init(&e->bus);
    const struct qts_bus_sub subs[] = {
        qts_portfolio_sub(e->portfolio),    /* marks; fills change positions and cash */
        qts_decide_sub(&e->decide_pub),     /* pool figures and operating state; decide.json */
        qts_risk_sub(&e->risk_pub),         /* risk loop prices; safety codes */
        qts_store_sub(&e->store_pub),       /* fills, ledger, order events */
        qts_cache_sub(&e->cache_pub),       /* prices, positions, order status */
        qts_budget_sub(&e->budget_pub),     /* shared budget given back */
        qts_feedback_sub(&e->fb_pub),       /* TCA; tca.csv at the end */
        qts_lua_sub(&e->lua_pub),           /* order events and fills to strategies */
        qts_store_close_sub(&e->store_pub), /* end: positions, writer stopped */
        qts_report_sub(&e->report_pub),     /* end: summary.json, CSV, report.html */
    };
    for (size_t i = 0; i < QTS_ARRAY_LEN(subs); i++)
        if (qts_bus_add(&e->bus, &subs[i]) != 0)
            return qts_err_set(err, QTS_EFULL, "bus: more than %d subscribers", QTS_BUS_MAX_SUBS);
    char order[256];
    qts_bus_describe(&e->bus, order, sizeof order);
    QTS_DEBUG("bus subscribers in order: %s", order);
    return 0;
}

int qts_engine_new(struct qts_config *cfg, const struct qts_engine_opts *opts,
                   struct qts_engine **out, struct qts_err *err)
{
    *out = NULL;
    struct qts_engine *e = qts_xcalloc(1, sizeof *e);
    qts_book_set_init(&e->books);
    e->cfg = qts_config_ref(cfg);
    e->set = qts_config_settings(cfg);
    if (opts)
        e->opts = *opts;
    int rc = 0;

    char dir[1024];
    if (e->opts.run_name) {
        if (!qts_run_id_valid(e->opts.run_name)) {
            rc = qts_err_set(err, QTS_EINVAL,
                             "run name \"%s\": use 1-63 characters of A-Z a-z 0-9 . _ - "
                             "(and not \"latest\")",
                             e->opts.run_name);
            goto fail;
        }
        qts_strlcpy(e->run_id, e->opts.run_name, sizeof e->run_id);
    } else {
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        qts_run_id_make(e->run_id, (int64_t)now.tv_sec * 1000000000 + now.tv_nsec);
    }
    if (e->opts.run_dir) {
        qts_strlcpy(dir, e->opts.run_dir, sizeof dir);
    } else {
        /* each run keeps its own directory; runs/latest follows the newest */
        char runs[1024];
        int n = snprintf(runs, sizeof runs, "%s/runs", e->set->var_dir);
        if (n < 0 || (size_t)n >= sizeof runs ||
            (size_t)snprintf(dir, sizeof dir, "%s/%s", runs, e->run_id) >= sizeof dir) {
            rc = qts_err_set(err, QTS_EINVAL, "var_dir is too long: %s", e->set->var_dir);
            goto fail;
        }
        if (qts__engine_make_dirs(dir) != 0) {
            rc = qts_err_set(err, QTS_EIO, "cannot create the run directory %s: %s", dir,
                             strerror(errno));
            goto fail;
        }
        if ((rc = qts_run_id_link_latest(runs, e->run_id, err)) != 0)
            goto fail;
    }
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
        .history = e->history = qts_bar_history_new(),
        /* strategies.replay_loop_guard: false trades the endless-loop guard
         * for JIT-compiled strategy code (docs/lua-runtime.md) */
        .max_instructions = e->set->strategy_replay_loop_guard ? 0 : QTS_LUA_NO_INSTRUCTION_LIMIT};
    qts__engine_lua_sink(e, &ls.sink);
    rc = qts_lua_runtime_new(&ls, &e->rt, err);
    if (rc != 0)
        goto fail;
    rc = wire_bus(e, err);
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
    qts__engine_event_sink(e);
    e->penv = (struct qts_plugin_env){.loop = &e->loop,
                                      .http = e->http,
                                      .metrics = e->metrics,
                                      .sink = &e->sink,
                                      .clock = &e->clock,
                                      .timers = &e->timers,
                                      .account_cash = e->set->account_initial_cash};
    char gen_dir[1100];
    snprintf(gen_dir, sizeof gen_dir, "%s/plugins.gen", e->set->var_dir);
    if (qts__engine_make_dirs(gen_dir) != 0) {
        rc = qts_err_set(err, QTS_EIO, "cannot create %s", gen_dir);
        goto fail;
    }
    struct qts_plugin_manager_opts mo = {.env = &e->penv,
                                         .gen_dir = gen_dir,
                                         .watch_dir =
                                             e->set->plugins_watch ? e->set->plugins_dir : NULL,
                                         .has_working_orders = qts__engine_has_working_orders,
                                         .orders_ctx = e,
                                         .on_reload = qts__engine_on_plugin_reload,
                                         .reload_ctx = e};
    rc = qts_plugin_manager_new(&mo, &e->plugins, err);
    if (rc != 0)
        goto fail;
    rc = open_store(e, err); /* first slot: started now, the writer uses it from here on */
    if (rc != 0)
        goto fail;
    e->store_pub.writer = e->writer; /* NULL without a store */
    char cfg_abs[PATH_MAX];
    const char *cfg_path = qts_config_path(e->cfg);
    if (cfg_path && realpath(cfg_path, cfg_abs))
        cfg_path = cfg_abs;
    qts_store_pub_run_start(&e->store_pub, qts_mode_name(e->set->mode), cfg_path,
                            run_start_wall_ns(e));
    qts_store_pub_config(&e->store_pub, qts_config_root(e->cfg));
    qts__engine_store_apply_restore(e); /* positions read back from the store */
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

    qts__engine_open_exec(e, replay); /* execution, on the broker's operations */
    rc = feedback_setup(e, err);
    if (rc != 0)
        goto fail;
    e->fb_pub.fb = e->fb; /* NULL with feedback off */

    /* live guard (before any plugin connects): real money needs mode live,
     * a broker on its real environment and the operator's acknowledgement;
     * a broker on its real environment is refused in every other mode.
     * The rule is safety's (qts_safety_live_guard); the risk host asks it
     * again when it starts. */
    char why[512];
    if (qts_safety_live_guard(qts_mode_name(e->set->mode), qts__engine_broker_env(e),
                              getenv(QTS_LIVE_ACK_ENV), why, sizeof why) != 0) {
        rc = qts_err_set(err, QTS_EPERM, "live guard (broker %s): %s",
                         e->set->broker.plugin ? e->set->broker.plugin : "none", why);
        goto fail;
    }

    rc = qts_plugin_manager_start(e->plugins, err);
    if (rc != 0)
        goto fail;
    qts__engine_refresh_ports(e);       /* start may have replaced self pointers */
    rc = qts__engine_open_risk(e, err); /* also the live-trading guard: may refuse to start */
    if (rc == 0)
        rc = qts__engine_open_decide(e, err); /* after risk: a strategy's scope is its pool */
    if (rc != 0)
        goto fail;
    if (e->set->cache.plugin) {
        struct qts_plugin_inst *c = qts_plugin_manager_current(e->plugins, "cache");
        rc = qts_cache_writer_new(&e->loop, qts_plugin_inst_desc(c)->ops, qts_plugin_inst_self(c),
                                  NULL, &e->cache, err);
        if (rc != 0)
            goto fail;
        e->cache_pub.writer = e->cache; /* the "cache" subscriber starts publishing */
        qts_cache_pub_start(&e->cache_pub, &e->loop, 1000); /* risk:account, strat:{id} */
        rc = qts__engine_cluster_join(e, err); /* may refuse: another host owns a symbol */
        if (rc != 0)
            goto fail;
    }
    rc = qts__engine_open_budget(e, err);
    if (rc != 0)
        goto fail;
    qts_config_holder_init(&e->cfg_holder, qts_config_ref(cfg));
    e->has_holder = true;
    e->cfg_holder.on_reload = qts__engine_on_config_reload;
    e->cfg_holder.on_reload_ud = e;
    e->cfg_holder.check = qts__engine_check_plugin_configs;
    e->cfg_holder.check_ud = e;
    if (qts_config_watch_sighup(&e->cfg_holder, &e->loop) == 0)
        uv_unref((uv_handle_t *)&e->cfg_holder.sighup); /* never keeps a run alive */
    if (replay) { /* paper and live start them after the start-up sync (run_live) */
        rc = qts__engine_start_strategies(e, err);
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
    if ((rc = qts__engine_metrics_start(e, err)) != 0)
        goto fail;
    *out = e;
    return 0;
fail:
    qts_engine_free(e);
    return rc ? rc : QTS_EINVAL;
}
