/* engine_metrics.c — what /metrics shows: the host's counters, safety
 * state, pipeline latency histograms, the metric registry of the plugins,
 * store and process health, in the Prometheus text format.
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

static void on_metrics_timer(uv_timer_t *t) { publish(t->data); }

/* "host:port" (the last colon splits) */
static int parse_listen(const char *s, char *host, size_t cap, int *port)
{
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

int qts__engine_metrics_start(struct qts_engine *e, struct qts_err *err)
{
    const char *listen = e->set->http_listen;
    if (!listen || !*listen)
        return 0;
    char host[128];
    int port;
    if (parse_listen(listen, host, sizeof host, &port) != 0)
        return qts_err_set(err, QTS_ECONFIG,
                           "http.listen: \"%s\" is not address:port (e.g. 127.0.0.1:9464)", listen);
    struct qts_http_opts o = {.host = host, .port = port};
    int rc = qts_http_server_start(&o, &e->ops_http, err);
    if (rc != 0)
        return rc;
    QTS_INFO("http serving /metrics on %s:%d", host, qts_http_server_port(e->ops_http));
    publish(e);
    uv_timer_init(&e->loop, &e->metrics_timer);
    e->metrics_timer.data = e;
    uv_timer_start(&e->metrics_timer, on_metrics_timer, METRICS_PERIOD_MS, METRICS_PERIOD_MS);
    e->metrics_timer_on = true;
    return 0;
}

void qts__engine_metrics_stop(struct qts_engine *e)
{
    if (e->metrics_timer_on) {
        uv_timer_stop(&e->metrics_timer);
        uv_close((uv_handle_t *)&e->metrics_timer, NULL);
        e->metrics_timer_on = false;
    }
    qts_http_server_stop(e->ops_http);
    e->ops_http = NULL;
}
