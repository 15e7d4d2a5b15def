/* engine_metrics.c — what operators see: /metrics (the host's counters,
 * safety state, pipeline latency histograms, the metric registry of the
 * plugins, store and process health, in the Prometheus text format) and
 * the alerts (safety, kill and resume, store down and back, reject bursts,
 * a daily summary, the stop).
 *
 * The loop thread renders the page once a second (and at start) and hands
 * it to the HTTP server's thread, which answers scrapes from that copy: a
 * scrape never waits for the loop, and the loop never waits for a client.
 * A scrape sees the host as it was at most one second before.
 */
#include "engine_int.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "prom_text.h"
#include "secrets.h"

#define METRICS_PERIOD_MS 1000

void qts__engine_count_code(struct engine_code_count *t, size_t cap, const char *code)
{
    if (!code || !*code)
        return;
    for (size_t i = 0; i < cap; i++) {
        if (t[i].code[0] == '\0')
            qts_strlcpy(t[i].code, code, sizeof t[i].code);
        if (strcmp(t[i].code, code) == 0) {
            t[i].n++;
            return;
        }
    }
}

static void code_family(FILE *f, const char *name, const char *help,
                        const struct engine_code_count *t, size_t cap)
{
    qts_prom_family(f, name, "counter", help);
    for (size_t i = 0; i < cap && t[i].code[0]; i++) {
        char lab[32];
        snprintf(lab, sizeof lab, "code=\"%s\"", t[i].code);
        qts_prom_sample(f, name, lab, (double)t[i].n);
    }
}

/* A registry name ("feed_synthetic.events") as a metric name: qts_plugin_
 * and every character outside [a-zA-Z0-9_] as '_'. */
static void registry_sample(void *arg, const char *name, int64_t value)
{
    FILE *f = arg;
    char m[128] = "qts_plugin_";
    size_t n = strlen(m);
    for (const char *p = name; *p && n + 1 < sizeof m; p++)
        m[n++] = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                         *p == '_'
                     ? *p
                     : '_';
    m[n] = '\0';
    fprintf(f, "# HELP %s plugin metric %s (the plugin's own counter or gauge)\n", m, name);
    fprintf(f, "# TYPE %s gauge\n", m);
    qts_prom_sample(f, m, NULL, (double)value);
}

static void process_health(FILE *f)
{
    long pages_rss = 0;
    FILE *sm = fopen("/proc/self/statm", "r");
    if (sm) {
        long size;
        if (fscanf(sm, "%ld %ld", &size, &pages_rss) != 2)
            pages_rss = 0;
        fclose(sm);
    }
    qts_prom_family(f, "qts_process_resident_memory_bytes", "gauge", "resident set size");
    qts_prom_sample(f, "qts_process_resident_memory_bytes", NULL,
                    (double)pages_rss * (double)sysconf(_SC_PAGESIZE));
    long fds = 0;
    DIR *d = opendir("/proc/self/fd");
    if (d) {
        for (struct dirent *de; (de = readdir(d));)
            fds += de->d_name[0] != '.';
        closedir(d);
        fds--; /* the directory's own descriptor */
    }
    qts_prom_family(f, "qts_process_open_fds", "gauge", "open file descriptors");
    qts_prom_sample(f, "qts_process_open_fds", NULL, (double)fds);
}

/* The cache writer's backlog and the cache plugin's own health. */
static void cache_health(struct qts_engine *e, FILE *f)
{
    if (!e->cache)
        return;
    struct qts_cache_writer_stats cs;
    qts_cache_writer_stats(e->cache, &cs);
    qts_prom_family(f, "qts_cache_queue_depth", "gauge",
                    "cache keys changed and waiting to be sent (values are coalesced)");
    qts_prom_sample(f, "qts_cache_queue_depth", NULL, cs.dirty);
    qts_prom_family(f, "qts_cache_updates_total", "counter", "cache updates, by outcome");
    qts_prom_sample(f, "qts_cache_updates_total", "outcome=\"accepted\"", (double)cs.updates);
    qts_prom_sample(f, "qts_cache_updates_total", "outcome=\"coalesced\"", (double)cs.coalesced);
    qts_prom_sample(f, "qts_cache_updates_total", "outcome=\"full\"", (double)cs.full);
    qts_prom_sample(f, "qts_cache_updates_total", "outcome=\"error\"", (double)cs.errors);
    struct qts_plugin_inst *c = qts_plugin_manager_current(e->plugins, "cache");
    const struct qts_cache_ops *ops = c ? qts_plugin_inst_desc(c)->ops : NULL;
    if (!QTS_HAS(ops, health))
        return;
    struct qts_cache_health h = {.struct_size = sizeof h};
    qts_plugin_inst_enter(c);
    int rc = ops->health(qts_plugin_inst_self(c), &h);
    qts_plugin_inst_leave(c);
    if (rc != 0)
        return;
    qts_prom_family(f, "qts_cache_up", "gauge",
                    "1 while the cache plugin is connected and commands flow");
    qts_prom_sample(f, "qts_cache_up", NULL, h.state == QTS_CACHE_UP);
    qts_prom_family(f, "qts_cache_pending", "gauge", "cache commands sent and not answered yet");
    qts_prom_sample(f, "qts_cache_pending", NULL, h.pending);
    qts_prom_family(f, "qts_cache_writes_total", "counter", "cache plugin writes, by outcome");
    qts_prom_sample(f, "qts_cache_writes_total", "outcome=\"ok\"", (double)h.writes_ok);
    qts_prom_sample(f, "qts_cache_writes_total", "outcome=\"failed\"", (double)h.writes_failed);
    qts_prom_sample(f, "qts_cache_writes_total", "outcome=\"dropped\"", (double)h.writes_dropped);
}

/* Per strategy: time in Lua per dispatch, events and errors. Enabled
 * strategies carry the runtime's ids 1, 2, ... in configuration order. */
static void strategy_metrics(struct qts_engine *e, FILE *f)
{
    if (!e->rt || !e->strategies_added)
        return;
    for (int pass = 0; pass < 3; pass++) {
        static const char *const names[] = {"qts_lua_callback_seconds", "qts_strategy_events_total",
                                            "qts_strategy_errors_total"};
        /* one literal per element: clang warns on concatenation in arrays */
        static const char help_lua[] = "time one dispatch spends in the strategy's Lua (a "
                                       "callback; in a replay batch, the events delivered "
                                       "together)";
        static const char *const helps[] = {help_lua, "market events delivered to the strategy",
                                            "errors raised by the strategy's Lua"};
        qts_prom_family(f, names[pass], pass ? "counter" : "histogram", helps[pass]);
        uint32_t id = 0;
        for (size_t i = 0; i < e->set->n_strategies; i++) {
            if (!e->set->strategies[i].enabled)
                continue;
            struct qts_lua_strategy_info in;
            if (qts_lua_runtime_info(e->rt, ++id, &in) != 0)
                continue;
            char v[96], lab[128];
            qts_prom_label_value(v, sizeof v, e->set->strategies[i].name);
            snprintf(lab, sizeof lab, "strategy=\"%s\"", v);
            if (pass == 0)
                qts_prom_histogram_counts(f, names[0], lab, qts_lua_cb_bounds_ns, in.cb_buckets,
                                          QTS_LUA_CB_BUCKETS, (double)in.cb_ns_sum);
            else
                qts_prom_sample(f, names[pass], lab, (double)(pass == 1 ? in.events : in.errors));
        }
    }
}

static void render(struct qts_engine *e, FILE *f)
{
    static const char *const modes[] = {"replay", "paper", "live"};
    char lab[256], v[96];
    qts_prom_label_value(v, sizeof v, e->set->host_id);
    snprintf(lab, sizeof lab, "host=\"%s\",mode=\"%s\",run=\"%s\"", v,
             e->set->mode >= 0 && e->set->mode < 3 ? modes[e->set->mode] : "?", e->run_id);
    qts_prom_family(f, "qts_info", "gauge", "the host: its id, mode and run id (always 1)");
    qts_prom_sample(f, "qts_info", lab, 1);

    const struct qts_engine_stats *st = &e->stats;
    qts_prom_family(f, "qts_events_total", "counter", "market events processed, by kind");
    qts_prom_sample(f, "qts_events_total", "kind=\"trade\"", (double)st->trades);
    qts_prom_sample(f, "qts_events_total", "kind=\"quote\"", (double)st->quotes);
    qts_prom_sample(f, "qts_events_total", "kind=\"book\"", (double)st->books);
    qts_prom_sample(f, "qts_events_total", "kind=\"bar\"", (double)st->bars);
    qts_prom_family(f, "qts_book_errors_total", "counter",
                    "book updates the host's book could not apply (gaps)");
    qts_prom_sample(f, "qts_book_errors_total", NULL, (double)st->book_errors);
    qts_prom_family(f, "qts_orders_total", "counter", "orders the strategies asked for");
    qts_prom_sample(f, "qts_orders_total", NULL, (double)st->intents);
    qts_prom_family(f, "qts_orders_rejected_total", "counter",
                    "of those, rejected by PreCheck or by the venue");
    qts_prom_sample(f, "qts_orders_rejected_total", NULL, (double)st->rejected);
    code_family(f, "qts_precheck_rejects_total", "orders PreCheck rejected, by safety code",
                e->reject_counts, QTS_ARRAY_LEN(e->reject_counts));
    qts_prom_family(f, "qts_fills_total", "counter", "fills (executions) received");
    qts_prom_sample(f, "qts_fills_total", NULL, (double)st->fills);
    qts_prom_family(f, "qts_orders_working", "gauge", "orders working at the venue now");
    qts_prom_sample(f, "qts_orders_working", NULL,
                    (double)(e->exec ? qts_engine_working_orders(e) : 0));
    qts_prom_family(f, "qts_equity", "gauge", "account equity (cash units of the account)");
    qts_prom_sample(f, "qts_equity", NULL,
                    e->portfolio ? (double)qts_portfolio_equity(e->portfolio) / 1e6 : 0);
    _Static_assert(QTS_CASH_EXP == 6, "qts_equity divides by 10^QTS_CASH_EXP");

    struct qts_safety *sf = e->risk ? qts_risk_control_safety(e->risk) : NULL;
    if (sf) {
        static const char *const states[] = {"NORMAL", "WARNING", "FAIL", "LOCKDOWN"};
        int cur = qts_safety_state(sf);
        qts_prom_family(f, "qts_safety_state", "gauge",
                        "1 for the safety state the host is in, 0 for the others");
        for (int s = 0; s < 4; s++) {
            snprintf(lab, sizeof lab, "state=\"%s\"", states[s]);
            qts_prom_sample(f, "qts_safety_state", lab, s == cur);
        }
        qts_prom_family(f, "qts_kill_switch", "gauge", "1 while the kill switch is on");
        qts_prom_sample(f, "qts_kill_switch", NULL, qts_safety_kill_on(sf));
    }
    if (sf) {
        qts_prom_family(f, "qts_safety_codes_total", "counter", "safety codes raised, by code");
        for (int c = 0; c < QTS_SC_COUNT; c++) {
            uint64_t n = qts_safety_raised(sf, c);
            if (n) {
                snprintf(lab, sizeof lab, "code=\"%s\"", qts_safety_code_str(c));
                qts_prom_sample(f, "qts_safety_codes_total", lab, (double)n);
            }
        }
    }

    if (e->exec) {
        qts_prom_family(f, "qts_pipeline_stage_seconds", "histogram",
                        "execution pipeline latency by stage (docs/execution.md)");
        for (int s = 0; s < QTS_STAGE_COUNT; s++) {
            snprintf(lab, sizeof lab, "stage=\"%s\"", qts_exec_stage_name(s));
            qts_prom_histogram_ns(f, "qts_pipeline_stage_seconds", lab, qts_exec_hist(e->exec, s));
        }
    }

    if (e->writer) {
        struct qts_store_writer_stats ws;
        qts_store_writer_get_stats(e->writer, &ws);
        qts_prom_family(f, "qts_store_up", "gauge",
                        "1 while the store writer writes to the database, 0 while it spills");
        qts_prom_sample(f, "qts_store_up", NULL, ws.db_up);
        qts_prom_family(f, "qts_store_records_total", "counter", "store records, by outcome");
        qts_prom_sample(f, "qts_store_records_total", "outcome=\"pushed\"", (double)ws.pushed);
        qts_prom_sample(f, "qts_store_records_total", "outcome=\"written\"", (double)ws.written);
        qts_prom_sample(f, "qts_store_records_total", "outcome=\"spilled\"", (double)ws.spilled);
        qts_prom_sample(f, "qts_store_records_total", "outcome=\"replayed\"", (double)ws.replayed);
        qts_prom_sample(f, "qts_store_records_total", "outcome=\"dead\"", (double)ws.dead);
        qts_prom_sample(f, "qts_store_records_total", "outcome=\"overflowed\"",
                        (double)ws.overflowed);
        qts_prom_family(f, "qts_store_journal_pending", "gauge",
                        "records in the spill journal waiting for the database");
        qts_prom_sample(f, "qts_store_journal_pending", NULL, (double)ws.journal_pending);
    }

    if (e->writer) {
        struct qts_store_writer_stats ws;
        qts_store_writer_get_stats(e->writer, &ws);
        uint64_t done = ws.written + ws.spilled + ws.dead;
        qts_prom_family(f, "qts_store_queue_depth", "gauge",
                        "records handed to the store writer and not yet written or spilled");
        qts_prom_sample(f, "qts_store_queue_depth", NULL,
                        ws.pushed > done ? (double)(ws.pushed - done) : 0);
    }
    cache_health(e, f);
    strategy_metrics(e, f);
    qts_metrics_foreach(e->metrics, registry_sample, f);
    process_health(f);
}

static void publish(struct qts_engine *e)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        return;
    render(e, f);
    fclose(f);
    qts_http_server_publish(e->ops_http, "/metrics", "text/plain; version=0.0.4; charset=utf-8",
                            text, len);
    free(text);
}

/* ------------------------------------------------------------- alerts */

void qts__engine_alert_latches(struct qts_engine *e, const struct qts_safety_latch *l)
{
    struct qts_safety_latch old = e->last_latch;
    bool had = e->have_last_latch;
    e->last_latch = *l;
    e->have_last_latch = true;
    if (!e->alerts)
        return;
    if (l->kill && (!had || !old.kill))
        qts_alerts_post(e->alerts, "kill", "kill switch ON by %s: %s", l->kill_who, l->kill_reason);
    else if (!l->kill && had && old.kill && l->have_approval)
        qts_alerts_post(e->alerts, "resume", "kill switch released, approved by %s: %s",
                        l->approval.who, l->approval.reason);
    else if (!l->kill && had && old.kill)
        qts_alerts_post(e->alerts, "resume", "kill switch released");
    if (had && l->state != old.state) {
        if (l->state == QTS_SAFETY_NORMAL && l->have_approval)
            qts_alerts_post(e->alerts, "resume", "resumed: %s -> NORMAL, approved by %s: %s",
                            qts_safety_state_name(old.state), l->approval.who, l->approval.reason);
        else
            qts_alerts_post(e->alerts, "safety", "safety %s -> %s: %s %s",
                            qts_safety_state_name(old.state), qts_safety_state_name(l->state),
                            l->code >= 0 ? qts_safety_code_str(l->code) : "", l->state_msg);
    } else if (!had && l->state >= QTS_SAFETY_FAIL) {
        qts_alerts_post(e->alerts, "safety", "started in %s: %s %s",
                        qts_safety_state_name(l->state),
                        l->code >= 0 ? qts_safety_code_str(l->code) : "", l->state_msg);
    }
}

static void summary_text(struct qts_engine *e, char *buf, size_t cap)
{
    char eq[48] = "?";
    if (e->portfolio)
        qts_format_fixed(eq, sizeof eq, qts_portfolio_equity(e->portfolio), QTS_CASH_EXP);
    snprintf(buf, cap,
             "equity %s, orders %llu (%llu rejected), fills %llu, working %zu, events %llu", eq,
             (unsigned long long)e->stats.intents, (unsigned long long)e->stats.rejected,
             (unsigned long long)e->stats.fills, e->exec ? qts_engine_working_orders(e) : 0,
             (unsigned long long)e->stats.events);
}

/* Once a second: the store writer up or down, a burst of rejects, a new
 * UTC day (paper and live). */
static void check_alerts(struct qts_engine *e)
{
    if (!e->alerts)
        return;
    if (e->writer) {
        struct qts_store_writer_stats ws;
        qts_store_writer_get_stats(e->writer, &ws);
        if (e->last_store_up >= 0 && ws.db_up != e->last_store_up)
            qts_alerts_post(e->alerts, "store",
                            ws.db_up ? "store back: writing to the database again (%llu in the "
                                       "journal)"
                                     : "store down: records spill to the journal (%llu so far)",
                            (unsigned long long)ws.journal_pending);
        e->last_store_up = ws.db_up;
    }
    int64_t now = qts_mono_ns();
    if (now - e->reject_window_mono_ns >= 60 * 1000000000LL) {
        e->reject_window_mono_ns = now;
        e->rejects_at_window = e->stats.rejected;
    } else if (e->stats.rejected - e->rejects_at_window >= (uint64_t)e->set->alerts_reject_burst) {
        qts_alerts_post(e->alerts, "rejects", "%llu orders rejected within 60 s",
                        (unsigned long long)(e->stats.rejected - e->rejects_at_window));
        e->rejects_at_window = e->stats.rejected; /* one alert per burst */
    }
    if (e->set->mode != QTS_MODE_REPLAY) {
        int day = (int)(qts_wall_ns() / (86400LL * 1000000000LL));
        if (e->last_utc_day && day != e->last_utc_day) {
            char text[256];
            summary_text(e, text, sizeof text);
            qts_alerts_post(e->alerts, "daily", "daily summary: %s", text);
        }
        e->last_utc_day = day;
    }
}

static void on_ops_timer(uv_timer_t *t)
{
    struct qts_engine *e = t->data;
    if (e->ops_http)
        publish(e);
    if (e->dashboard)
        qts_dashboard_tick(e->dashboard);
    check_alerts(e);
}

/* ---------------------------------------------------------- dashboard */

static int dash_status(void *ctx, char *out, size_t cap)
{
    struct qts_engine *e = ctx;
    return e->risk ? qts_risk_control_status_json(e->risk, out, cap) : -1;
}

static void dash_command(void *ctx, const char *peer, const char *line, char *out, size_t cap)
{
    struct qts_engine *e = ctx;
    if (e->risk)
        qts_risk_control_admin(e->risk, peer, line, out, cap);
    else
        snprintf(out, cap, "{\"ok\":false,\"error\":\"no risk host\"}");
}

static double dash_equity(void *ctx)
{
    struct qts_engine *e = ctx;
    return e->portfolio ? (double)qts_portfolio_equity(e->portfolio) / 1e6 : 0;
}

/* The dashboard's token: the secret http_token; none = a read-only page. */
static int start_dashboard(struct qts_engine *e, const char *host, int port, struct qts_err *err)
{
    char token[256] = "";
    struct qts_err terr;
    qts_err_clear(&terr);
    int rc = qts_secret_get(NULL, "http_token", token, sizeof token, &terr);
    if (rc != 0 && rc != QTS_ENOENT)
        return qts_err_set(err, QTS_ECONFIG, "http: the secret http_token: %s", terr.msg);
    struct qts_http_opts o = {.host = host, .port = port, .token = token};
    rc = qts_http_server_start(&o, &e->ops_http, err);
    bool has_token = token[0] != '\0';
    memset(token, 0, sizeof token);
    if (rc != 0)
        return rc;
    struct qts_dashboard_env env = {.loop = &e->loop,
                                    .http = e->ops_http,
                                    .status = dash_status,
                                    .command = dash_command,
                                    .equity = dash_equity,
                                    .ctx = e};
    if ((rc = qts_dashboard_new(&env, &e->dashboard, err)) != 0)
        return rc;
    QTS_INFO("http dashboard on http://%s:%d/ kill and resume %s", host,
             qts_http_server_port(e->ops_http),
             has_token ? "need the token" : "off (no secret http_token)");
    return 0;
}

/* "host:port" (the last colon splits) */
static int parse_listen(const char *s, char *host, size_t cap, int *port)
{
    if (s[0] && strspn(s, "0123456789") == strlen(s) && strlen(s) <= 5 && atoi(s) <= 65535) {
        qts_strlcpy(host, "127.0.0.1", cap); /* a bare port: this machine only */
        *port = atoi(s);
        return 0;
    }
    const char *colon = strrchr(s, ':');
    if (!colon || colon == s || (size_t)(colon - s) >= cap)
        return -1;
    char *end;
    long p = strtol(colon + 1, &end, 10);
    if (colon[1] == '\0' || *end || p < 0 || p > 65535)
        return -1;
    memcpy(host, s, (size_t)(colon - s));
    host[colon - s] = '\0';
    *port = (int)p;
    return 0;
}

static int start_alerts(struct qts_engine *e, struct qts_err *err)
{
    const struct qts_settings *set = e->set;
    bool tg = set->alerts_telegram_chat && *set->alerts_telegram_chat;
    bool wh = set->alerts_webhook_url && *set->alerts_webhook_url;
    if (!tg && !wh)
        return 0;
    char token[256] = "";
    if (tg) {
        int rc = qts_secret_get(NULL, "telegram_token", token, sizeof token, err);
        if (rc != 0)
            return qts_err_set(err, QTS_ECONFIG,
                               "alerts.telegram_chat is set but the bot token is not: %s",
                               err->msg);
    }
    if (!e->http) {
        int rc = qts_http_client_new(&e->loop, &e->http, err);
        if (rc != 0)
            return rc;
    }
    struct qts_alerts_opts o = {.host_id = set->host_id,
                                .telegram_api = set->alerts_telegram_api,
                                .telegram_token = token,
                                .telegram_chat = set->alerts_telegram_chat,
                                .webhook_url = set->alerts_webhook_url,
                                .min_interval_ms = set->alerts_min_interval_ms};
    int rc = qts_alerts_new(&e->loop, e->http, &o, &e->alerts, err);
    memset(token, 0, sizeof token);
    if (rc != 0)
        return rc;
    QTS_INFO("alerts on:%s%s", tg ? " telegram" : "", wh ? " webhook" : "");
    e->last_store_up = -1;
    e->reject_window_mono_ns = qts_mono_ns();
    if (e->have_last_latch) /* saved before the alerts existed: a start in FAIL */
        qts__engine_alert_latches(e, &e->last_latch);
    return 0;
}

int qts__engine_metrics_start(struct qts_engine *e, struct qts_err *err)
{
    int rc = start_alerts(e, err);
    if (rc != 0)
        return rc;
    const char *listen = e->set->http_listen;
    if (listen && *listen) {
        char host[128];
        int port;
        if (parse_listen(listen, host, sizeof host, &port) != 0)
            return qts_err_set(err, QTS_ECONFIG,
                               "http.listen: \"%s\" is not address:port (e.g. 127.0.0.1:9464)",
                               listen);
        if ((rc = start_dashboard(e, host, port, err)) != 0)
            return rc;
        QTS_INFO("http serving /metrics on %s:%d", host, qts_http_server_port(e->ops_http));
        publish(e);
    }
    if (!e->ops_http && !e->alerts)
        return 0;
    uv_timer_init(&e->loop, &e->ops_timer);
    e->ops_timer.data = e;
    uv_timer_start(&e->ops_timer, on_ops_timer, METRICS_PERIOD_MS, METRICS_PERIOD_MS);
    uv_unref((uv_handle_t *)&e->ops_timer); /* never keeps a run alive */
    e->ops_timer_on = true;
    return 0;
}

void qts__engine_metrics_stop(struct qts_engine *e)
{
    if (e->ops_timer_on) {
        uv_timer_stop(&e->ops_timer);
        uv_close((uv_handle_t *)&e->ops_timer, NULL);
        e->ops_timer_on = false;
    }
    qts_dashboard_stop(e->dashboard); /* a POST waiting for the loop gives up */
    qts_http_server_stop(e->ops_http);
    e->ops_http = NULL;
    qts_dashboard_free(e->dashboard);
    e->dashboard = NULL;
    if (e->alerts) {
        if (e->set->mode != QTS_MODE_REPLAY) {
            char text[256];
            summary_text(e, text, sizeof text);
            qts_alerts_post(e->alerts, "stop", "host stopped: %s", text);
        }
        qts_alerts_flush(e->alerts);
        int64_t until = qts_mono_ns() + 3000000000LL; /* the last alerts get 3 s */
        while (qts_alerts_in_flight(e->alerts) && qts_mono_ns() < until)
            uv_run(&e->loop, UV_RUN_ONCE);
        qts_alerts_free(e->alerts);
        e->alerts = NULL;
    }
}
