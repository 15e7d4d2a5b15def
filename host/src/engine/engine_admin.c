/* engine_admin.c — the risk host and its admin commands (reload,
 * subscribe, status), plugin reloads, SIGHUP, the shared budget. */
#include "engine_int.h"

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
    int n = snprintf(out, cap, "\"events\":%" PRIu64 ",\"fills\":%" PRIu64 ",\"equity\":%s",
                     e->stats.events, e->stats.fills, eq);
    if (n >= 0 && (size_t)n < cap && e->writer) { /* the store writer (docs/storage.md) */
        struct qts_store_writer_stats ws;
        qts_store_writer_get_stats(e->writer, &ws);
        n += snprintf(out + n, cap - (size_t)n,
                      ",\"store\":{\"db_up\":%s,\"journal_pending\":%" PRIu64
                      ",\"dead_letters\":%" PRIu64 "}",
                      ws.db_up ? "true" : "false", ws.journal_pending, ws.dead_kept);
    }
    if (n > 0 && (size_t)n + 2 < cap) { /* positions, orders, PnL, strategies, feeds */
        int l = qts__engine_status_lists(e, out + n + 1, cap - (size_t)n - 1);
        if (l > 0) { /* written after the comma's place: put the comma */
            out[n] = ',';
            n += 1 + l;
        }
    }
    if (n < 0 || (size_t)n >= cap || !e->decide)
        return n;
    /* the Decide stage: counters, netting savings, operating state, pools */
    int m = snprintf(out + n, cap - (size_t)n, ",\"decide\":");
    if (m < 0 || (size_t)(n + m) >= cap)
        return n + m;
    return n + m + qts_decide_json(&e->decide_pub, out + n + m, cap - (size_t)(n + m));
}

/* The safety latches as just saved to var_dir, mirrored to the store's
 * config table (scope LOCAL, category safety): SAFETY_STATE always,
 * SAFETY_APPROVAL once there is one. Loop thread; the push only queues
 * (the writer thread writes), so the loop never waits for the database. */
static void risk_safety_saved(void *ctx, const struct qts_safety_latch *l)
{
    struct qts_engine *e = ctx;
    qts__engine_alert_latches(e, l);
    if (!e->writer)
        return;
    struct qts_store_config row = {
        .h = {.struct_size = sizeof row, .kind = QTS_REC_CONFIG, .ts_ns = qts_wall_ns()}};
    qts_strlcpy(row.scope, "LOCAL", sizeof row.scope);
    qts_strlcpy(row.category, "safety", sizeof row.category);
    qts_strlcpy(row.subcategory, "latch", sizeof row.subcategory);
    qts_strlcpy(row.key, "SAFETY_STATE", sizeof row.key);
    qts_safety_latch_summary(l, row.value, sizeof row.value);
    /* the column holds 128 bytes: longer reasons are cut there */
    if (l->kill)
        snprintf(row.description, sizeof row.description, "kill: %.120s", l->kill_reason);
    else
        qts_strlcpy(row.description, l->state_msg, sizeof row.description);
    qts_strlcpy(row.tag, "qts", sizeof row.tag);
    qts_store_writer_push(e->writer, &row.h, NULL);
    if (!l->have_approval)
        return;
    char at[32];
    qts_safety_utc(l->approval.ts_ns, at, sizeof at);
    qts_strlcpy(row.key, "SAFETY_APPROVAL", sizeof row.key);
    qts_strlcpy(row.subcategory, "approval", sizeof row.subcategory);
    snprintf(row.value, sizeof row.value, "by=%s at=%s from=%s", l->approval.who, at,
             qts_safety_state_name(l->approval.from));
    qts_strlcpy(row.description, l->approval.reason, sizeof row.description);
    qts_store_writer_push(e->writer, &row.h, NULL);
}

/* ------------------------------------------------------- plugin reloads */

/* The execution pipeline, the cache writer and the shared budget call the
 * broker and cache instances directly; after a reload (or a rollback to a
 * revived old build) they must call the slot's current instance, never the
 * retired one, which is destroyed once drained. */
void qts__engine_refresh_ports(struct qts_engine *e)
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
        if (e->cluster)
            qts_cache_cluster_set_target(e->cluster, ops, self);
        if (e->budget)
            qts_risk_budget_set_target(e->budget, ops, self);
    }
}

void qts__engine_on_plugin_reload(void *ctx, const char *slot, int status, const char *why)
{
    struct qts_engine *e = ctx;
    qts__engine_refresh_ports(e);
    if (status != 0)
        QTS_WARN("plugin slot %s not reloaded: %s", slot, why ? why : qts_strerror(status));
}

/* The reload rule for brokers without state hand-over (docs/plugins.md). */
bool qts__engine_has_working_orders(void *ctx, const char *slot)
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
    struct qts_plugin_inst *b =
        e->has_broker ? qts_plugin_manager_current(e->plugins, "broker") : NULL;
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

/* What the broker reports (enum qts_broker_env), -1 without a broker. */
int qts__engine_broker_env(struct qts_engine *e)
{
    if (!e->has_broker)
        return -1;
    struct qts_plugin_inst *b = qts_plugin_manager_current(e->plugins, "broker");
    const struct qts_broker_ops *ops = qts_plugin_inst_desc(b)->ops;
    return ops->env(qts_plugin_inst_self(b));
}

int qts__engine_open_risk(struct qts_engine *e, struct qts_err *err)
{
    qts_risk_portfolio_init(&e->risk_pf, e->portfolio);
    qts__engine_pools_provider(e); /* GR061: the pools' available capital */
    struct qts_risk_settings rset;
    qts_settings_risk_view(e->set, &rset);
    struct qts_risk_control_env renv = {.loop = &e->loop,
                                        .timers = &e->timers,
                                        .exec = e->exec,
                                        .settings = &rset,
                                        .broker_env = qts__engine_broker_env(e),
                                        .live_ack = getenv(QTS_LIVE_ACK_ENV),
                                        .positions = risk_positions,
                                        .equity = risk_equity,
                                        .instrument = qts__engine_instrument,
                                        .strategy_id = risk_strategy_id,
                                        .reload = admin_reload,
                                        .subscribe = admin_subscribe,
                                        .status_extra = risk_status_extra,
                                        .safety_saved = risk_safety_saved,
                                        .ctx = e,
                                        .is_replay = e->set->mode == QTS_MODE_REPLAY};
    qts_risk_portfolio_book(&e->risk_pf, &renv.book);
    int rc = qts_risk_control_new(&renv, &e->risk, err);
    e->risk_pub.host = e->risk; /* the "risk" subscriber starts */
    return rc;
}

/* ---------------------------------------------------- shared risk budget */

int qts__engine_open_budget(struct qts_engine *e, struct qts_err *err)
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
    struct qts_risk_budget_cfg bc = {.key = key,
                                     .limit = limit,
                                     .policy = e->set->budget_policy == 1 ? QTS_BUDGET_LOCAL_SHARE
                                                                          : QTS_BUDGET_REFUSE,
                                     .local_share = e->set->budget_local_share};
    struct qts_plugin_inst *c = qts_plugin_manager_current(e->plugins, "cache");
    int rc = qts_risk_budget_new(qts_plugin_inst_desc(c)->ops, qts_plugin_inst_self(c), &bc,
                                 &e->budget, err);
    if (rc != 0)
        return rc;
    e->budget_pub.budget = e->budget; /* the "budget" subscriber starts settling */
    struct qts_precheck_hook hook = {
        .name = "shared_budget", .fn = qts_budget_precheck, .ctx = &e->budget_pub};
    return qts_exec_add_precheck(e->exec, &hook);
}

/* Before a reloaded file replaces the running one: each plugin slot's
 * config: against the key table of the plugin loaded in it. */
void qts__engine_check_plugin_configs(void *ud, const struct qts_config *next, struct qts_diags *d)
{
    struct qts_engine *e = ud;
    const struct qts_settings *s = qts_config_settings(next);
    for (size_t i = 0; i < s->n_feeds; i++)
        qts_plugin_manager_check_config(e->plugins, s->feeds[i].name, s->feeds[i].config, d);
    qts_plugin_manager_check_config(e->plugins, "broker", s->broker.config, d);
    qts_plugin_manager_check_config(e->plugins, "cache", s->cache.config, d);
    qts_plugin_manager_check_config(e->plugins, "store", s->store.config, d);
}

/* SIGHUP with a good file: the risk limits and the safety section take the
 * new values (a file with errors was already rejected and logged by the
 * holder, and the running configuration stays). Plugins and strategies
 * reload through their own triggers (docs/operations.md). */
void qts__engine_on_config_reload(void *ud, struct qts_config *next)
{
    struct qts_engine *e = ud;
    struct qts_err err;
    qts_err_clear(&err);
    struct qts_risk_settings rset;
    qts_settings_risk_view(qts_config_settings(next), &rset);
    if (e->risk && qts_risk_control_reload(e->risk, &rset, &err) != 0) {
        QTS_ERROR("configuration reloaded but the risk limits were kept: %s", err.msg);
        return;
    }
    QTS_INFO("configuration reloaded file=%s (risk and safety limits applied)",
             qts_config_path(next));
    qts_store_pub_config(&e->store_pub, qts_config_root(next)); /* the new version, per run */
}
