/* dashboard.c — see dashboard.h. */
#include "dashboard.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uv.h>

#include "clock.h"
#include "json.h"
#include "log.h"
#include "util.h"
#include "web_assets.h"

#define STATUS_MAX 65536
#define EQUITY_POINTS 3600 /* one an hour at one a second */
#define COMMAND_WAIT_S 5
#define ANSWER_MAX 4096

/* the page itself: dashboard.html, embedded at build time */
extern const char qts_ops_dashboard_html[];
extern const size_t qts_ops_dashboard_html_len;

struct qts_dashboard {
    struct qts_dashboard_env env;
    uv_async_t wake; /* the server thread asks the loop to run a command */
    char *status;    /* owned: STATUS_MAX */
    /* the equity chart's points: a ring of (unix ms, equity) */
    int64_t eq_t[EQUITY_POINTS];
    double eq_v[EQUITY_POINTS];
    size_t eq_n, eq_head;

    /* the one command in flight (the server thread answers one request at
     * a time, so one slot is enough); guarded by mu */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool pending, done, stopping;
    char line[1024];
    char peer[96];
    char answer[ANSWER_MAX];
};

static int64_t wall_ms(void) { return qts_wall_ns() / 1000000; }

static void publish_equity(struct qts_dashboard *d)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        return;
    size_t first = (d->eq_head + EQUITY_POINTS - d->eq_n) % EQUITY_POINTS;
    fputs("{\"t\":[", f);
    for (size_t i = 0; i < d->eq_n; i++)
        fprintf(f, "%s%lld", i ? "," : "", (long long)d->eq_t[(first + i) % EQUITY_POINTS]);
    fputs("],\"equity\":[", f);
    for (size_t i = 0; i < d->eq_n; i++)
        fprintf(f, "%s%.6f", i ? "," : "", d->eq_v[(first + i) % EQUITY_POINTS]);
    fputs("]}", f);
    fclose(f);
    qts_http_server_publish(d->env.http, "/api/equity", "application/json", text, len);
    free(text);
}

/* The status now, to /api/status and to every WebSocket client. */
static void push_status(struct qts_dashboard *d, int64_t t_ms)
{
    int n = d->env.status(d->env.ctx, d->status, STATUS_MAX);
    if (n <= 0 || n >= STATUS_MAX)
        return;
    qts_http_server_publish(d->env.http, "/api/status", "application/json", d->status, (size_t)n);
    char *msg = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&msg, &len);
    if (!f)
        return;
    fprintf(f, "{\"t\":%lld,\"equity\":%.6f,\"status\":%s}", (long long)t_ms,
            d->env.equity(d->env.ctx), d->status);
    fclose(f);
    qts_http_server_push(d->env.http, msg, len);
    free(msg);
}

void qts_dashboard_tick(struct qts_dashboard *d)
{
    int64_t t = wall_ms();
    d->eq_t[d->eq_head] = t;
    d->eq_v[d->eq_head] = d->env.equity(d->env.ctx);
    d->eq_head = (d->eq_head + 1) % EQUITY_POINTS;
    if (d->eq_n < EQUITY_POINTS)
        d->eq_n++;
    publish_equity(d);
    push_status(d, t);
}

/* Loop thread: the command the server thread queued. */
static void on_wake(uv_async_t *a)
{
    struct qts_dashboard *d = a->data;
    char line[sizeof d->line], peer[sizeof d->peer];
    pthread_mutex_lock(&d->mu);
    bool run = d->pending && !d->done;
    if (run) {
        memcpy(line, d->line, sizeof line);
        memcpy(peer, d->peer, sizeof peer);
    }
    pthread_mutex_unlock(&d->mu);
    if (!run)
        return;
    char answer[ANSWER_MAX];
    d->env.command(d->env.ctx, peer, line, answer, sizeof answer);
    QTS_INFO("dashboard command from=%s %s", peer, answer);
    pthread_mutex_lock(&d->mu);
    memcpy(d->answer, answer, sizeof answer);
    d->done = true;
    pthread_cond_broadcast(&d->cv);
    pthread_mutex_unlock(&d->mu);
    push_status(d, wall_ms()); /* every client sees the effect now */
}

/* Server thread: POST /api/kill, /api/resume. */
static int on_post(void *ctx, const char *path, const char *body, size_t len, const char *peer,
                   char *out, size_t cap)
{
    struct qts_dashboard *d = ctx;
    (void)len;
    bool kill = strcmp(path, "/api/kill") == 0, resume = strcmp(path, "/api/resume") == 0;
    if (!kill && !resume) {
        snprintf(out, cap, "{\"ok\":false,\"error\":\"POST /api/kill or /api/resume\"}\n");
        return 404;
    }
    char reason[400] = "", by[64] = "", r[600], b[140];
    qts_json_get_str(body, "reason", reason, sizeof reason);
    qts_json_get_str(body, "by", by, sizeof by);
    if (kill && !reason[0])
        snprintf(reason, sizeof reason, "dashboard kill");
    qts_json_escape(r, sizeof r, reason);
    qts_json_escape(b, sizeof b, by[0] ? by : "dashboard");

    pthread_mutex_lock(&d->mu);
    if (d->stopping || d->pending) {
        pthread_mutex_unlock(&d->mu);
        snprintf(out, cap, "{\"ok\":false,\"error\":\"%s\"}\n",
                 d->stopping ? "the host is stopping" : "another command is running");
        return 503;
    }
    /* the same request lines `qts kill` and `qts resume --approve` send */
    snprintf(d->line, sizeof d->line,
             kill ? "{\"cmd\":\"kill\",\"reason\":\"%s\",\"by\":\"%s\"}"
                  : "{\"cmd\":\"resume\",\"approve\":true,\"reason\":\"%s\",\"by\":\"%s\"}",
             r, b);
    snprintf(d->peer, sizeof d->peer, "dashboard %s", peer);
    d->pending = true;
    d->done = false;
    uv_async_send(&d->wake);
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += COMMAND_WAIT_S;
    int rc = 0;
    while (!d->done && !d->stopping && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&d->cv, &d->mu, &until);
    int status;
    if (d->done) {
        bool ok = false;
        qts_json_get_bool(d->answer, "ok", &ok);
        snprintf(out, cap, "%s\n", d->answer);
        status = ok ? 200 : 409;
        d->pending = false;
    } else {
        /* the loop has it and may still run it: the slot stays busy until then */
        snprintf(out, cap,
                 "{\"ok\":false,\"error\":\"the host did not answer within %d s; the command "
                 "may still be carried out (check qts status)\"}\n",
                 COMMAND_WAIT_S);
        status = 504;
    }
    pthread_mutex_unlock(&d->mu);
    return status;
}

int qts_dashboard_new(const struct qts_dashboard_env *env, struct qts_dashboard **out,
                      struct qts_err *err)
{
    struct qts_dashboard *d = qts_xcalloc(1, sizeof *d);
    d->env = *env;
    d->status = qts_xmalloc(STATUS_MAX);
    pthread_mutex_init(&d->mu, NULL);
    pthread_cond_init(&d->cv, NULL);
    if (uv_async_init(env->loop, &d->wake, on_wake) != 0) {
        pthread_cond_destroy(&d->cv);
        pthread_mutex_destroy(&d->mu);
        free(d->status);
        free(d);
        return qts_err_set(err, QTS_ESYS, "dashboard: cannot create its loop wake-up");
    }
    d->wake.data = d;
    uv_unref((uv_handle_t *)&d->wake); /* never keeps a run alive */
    static const char html[] = "text/html; charset=utf-8";
    qts_http_server_publish(env->http, "/", html, qts_ops_dashboard_html,
                            qts_ops_dashboard_html_len);
    qts_http_server_publish(env->http, "/dashboard", html, qts_ops_dashboard_html,
                            qts_ops_dashboard_html_len);
    qts_http_server_publish(env->http, "/uplot.js", "application/javascript", qts_web_uplot_js,
                            qts_web_uplot_js_len);
    qts_http_server_publish(env->http, "/uplot.css", "text/css", qts_web_uplot_css,
                            qts_web_uplot_css_len);
    qts_http_server_set_post(env->http, on_post, d);
    qts_dashboard_tick(d);
    *out = d;
    return 0;
}

void qts_dashboard_stop(struct qts_dashboard *d)
{
    if (!d)
        return;
    pthread_mutex_lock(&d->mu);
    d->stopping = true;
    pthread_cond_broadcast(&d->cv);
    pthread_mutex_unlock(&d->mu);
}

static void on_closed(uv_handle_t *h)
{
    struct qts_dashboard *d = h->data;
    pthread_cond_destroy(&d->cv);
    pthread_mutex_destroy(&d->mu);
    free(d->status);
    free(d);
}

void qts_dashboard_free(struct qts_dashboard *d)
{
    if (d)
        uv_close((uv_handle_t *)&d->wake, on_closed);
}
