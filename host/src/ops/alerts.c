/* alerts.c — see alerts.h. */
#include "alerts.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "json.h"
#include "log.h"

#define QUEUE_MAX 50
#define ALERT_TEXT_MAX 400

struct alert {
    const char *kind; /* literal */
    char text[ALERT_TEXT_MAX];
};

struct qts_alerts {
    uv_loop_t *loop;              /* borrowed */
    struct qts_http_client *http; /* borrowed */
    char host_id[64];
    char telegram_url[512]; /* .../bot<token>/sendMessage: holds the token, never logged */
    char telegram_chat[64];
    char webhook_url[512];
    int64_t min_interval_ns;
    struct alert queue[QUEUE_MAX];
    size_t n_queued;
    uint64_t dropped;
    int64_t last_send_mono_ns; /* 0 = never */
    uv_timer_t timer;
    bool timer_armed;
    unsigned in_flight;
    bool freed;        /* qts_alerts_free was called: the last callback frees */
    bool timer_closed; /* the timer's close callback ran */
};

static void maybe_release(struct qts_alerts *a)
{
    if (a->freed && a->timer_closed && a->in_flight == 0)
        free(a);
}

struct sent {
    struct qts_alerts *a;
    const char *channel; /* literal */
};

static void on_response(void *arg, const struct qts_http_response *r)
{
    struct sent *s = arg;
    struct qts_alerts *a = s->a;
    a->in_flight--;
    if (r->code != 0 && r->code != QTS_ECANCELED)
        QTS_WARN("alert via %s not delivered: %s", s->channel, qts_strerror(r->code));
    else if (r->code == 0 && (r->status < 200 || r->status >= 300))
        QTS_WARN("alert via %s refused: HTTP %d", s->channel, r->status);
    else if (r->code == 0)
        QTS_DEBUG("alert via %s delivered", s->channel);
    free(s);
    maybe_release(a);
}

static void post_json(struct qts_alerts *a, const char *url, const char *channel, const char *json)
{
    static const struct qts_http_header hdr = {"Content-Type", "application/json"};
    struct qts_http_request req = {.struct_size = sizeof req,
                                   .method = "POST",
                                   .url = url,
                                   .headers = &hdr,
                                   .n_headers = 1,
                                   .body = {json, strlen(json)},
                                   .timeout_ms = 10000};
    struct sent *s = qts_xmalloc(sizeof *s);
    s->a = a;
    s->channel = channel;
    struct qts_err err;
    qts_err_clear(&err);
    if (qts_http_request(a->http, &req, on_response, s, NULL, &err) != 0) {
        QTS_WARN("alert via %s not sent: %s", channel, qts_strerror(err.code));
        free(s);
        return;
    }
    a->in_flight++;
}

/* Everything queued as one message: one line per alert. */
static void send_queued(struct qts_alerts *a)
{
    if (a->n_queued == 0)
        return;
    size_t cap = 256 + a->n_queued * (ALERT_TEXT_MAX + 32);
    char *text = qts_xmalloc(cap);
    int n = snprintf(text, cap, "qts %s:", a->host_id);
    for (size_t i = 0; i < a->n_queued && n > 0 && (size_t)n < cap; i++)
        n += snprintf(text + n, cap - (size_t)n, "\n[%s] %s", a->queue[i].kind, a->queue[i].text);
    if (a->dropped && n > 0 && (size_t)n < cap)
        snprintf(text + n, cap - (size_t)n, "\n(%llu older alerts dropped)",
                 (unsigned long long)a->dropped);
    size_t jcap = 2 * cap + 512;
    char *esc = qts_xmalloc(2 * cap);
    char *json = qts_xmalloc(jcap);
    qts_json_escape(esc, 2 * cap, text);
    if (a->telegram_url[0]) {
        char chat[160];
        qts_json_escape(chat, sizeof chat, a->telegram_chat);
        snprintf(json, jcap, "{\"chat_id\":\"%s\",\"text\":\"%s\"}", chat, esc);
        post_json(a, a->telegram_url, "telegram", json);
    }
    if (a->webhook_url[0]) {
        char host[160];
        qts_json_escape(host, sizeof host, a->host_id);
        int m = snprintf(json, jcap, "{\"host\":\"%s\",\"text\":\"%s\",\"alerts\":[", host, esc);
        for (size_t i = 0; i < a->n_queued && m > 0 && (size_t)m < jcap; i++) {
            char one[2 * ALERT_TEXT_MAX];
            qts_json_escape(one, sizeof one, a->queue[i].text);
            m += snprintf(json + m, jcap - (size_t)m, "%s{\"kind\":\"%s\",\"text\":\"%s\"}",
                          i ? "," : "", a->queue[i].kind, one);
        }
        if (m > 0 && (size_t)m < jcap)
            snprintf(json + m, jcap - (size_t)m, "]}");
        post_json(a, a->webhook_url, "webhook", json);
    }
    QTS_INFO("alert sent alerts=%zu dropped=%llu", a->n_queued, (unsigned long long)a->dropped);
    free(json);
    free(esc);
    free(text);
    a->n_queued = 0;
    a->dropped = 0;
    a->last_send_mono_ns = qts_mono_ns();
}

static void on_timer(uv_timer_t *t)
{
    struct qts_alerts *a = t->data;
    a->timer_armed = false;
    send_queued(a);
}

static void on_timer_closed(uv_handle_t *h)
{
    struct qts_alerts *a = h->data;
    a->timer_closed = true;
    maybe_release(a);
}

int qts_alerts_new(uv_loop_t *loop, struct qts_http_client *http, const struct qts_alerts_opts *o,
                   struct qts_alerts **out, struct qts_err *err)
{
    *out = NULL;
    bool tg = o->telegram_token && *o->telegram_token && o->telegram_chat && *o->telegram_chat;
    bool wh = o->webhook_url && *o->webhook_url;
    if (!tg && !wh)
        return qts_err_set(err, QTS_EINVAL, "alerts: no channel (telegram or webhook)");
    struct qts_alerts *a = qts_xcalloc(1, sizeof *a);
    a->loop = loop;
    a->http = http;
    qts_strlcpy(a->host_id, o->host_id ? o->host_id : "", sizeof a->host_id);
    if (tg) {
        snprintf(a->telegram_url, sizeof a->telegram_url, "%s/bot%s/sendMessage",
                 o->telegram_api && *o->telegram_api ? o->telegram_api : "https://api.telegram.org",
                 o->telegram_token);
        qts_strlcpy(a->telegram_chat, o->telegram_chat, sizeof a->telegram_chat);
    }
    if (wh)
        qts_strlcpy(a->webhook_url, o->webhook_url, sizeof a->webhook_url);
    a->min_interval_ns = (o->min_interval_ms > 0 ? o->min_interval_ms : 0) * 1000000;
    uv_timer_init(loop, &a->timer);
    a->timer.data = a;
    uv_unref((uv_handle_t *)&a->timer); /* never keeps a run alive */
    *out = a;
    return 0;
}

void qts_alerts_post(struct qts_alerts *a, const char *kind, const char *fmt, ...)
{
    if (!a)
        return;
    if (a->n_queued == QUEUE_MAX) { /* keep the newest */
        memmove(&a->queue[0], &a->queue[1], (QUEUE_MAX - 1) * sizeof a->queue[0]);
        a->n_queued--;
        a->dropped++;
    }
    struct alert *al = &a->queue[a->n_queued++];
    al->kind = kind;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(al->text, sizeof al->text, fmt, ap);
    va_end(ap);
    int64_t since = qts_mono_ns() - a->last_send_mono_ns;
    if (a->last_send_mono_ns == 0 || since >= a->min_interval_ns) {
        send_queued(a);
    } else if (!a->timer_armed) {
        uint64_t wait_ms = (uint64_t)((a->min_interval_ns - since) / 1000000) + 1;
        uv_timer_start(&a->timer, on_timer, wait_ms, 0);
        a->timer_armed = true;
    }
}

void qts_alerts_flush(struct qts_alerts *a)
{
    if (!a)
        return;
    if (a->timer_armed) {
        uv_timer_stop(&a->timer);
        a->timer_armed = false;
    }
    send_queued(a);
}

unsigned qts_alerts_in_flight(const struct qts_alerts *a) { return a ? a->in_flight : 0; }

void qts_alerts_free(struct qts_alerts *a)
{
    if (!a)
        return;
    a->freed = true;
    uv_timer_stop(&a->timer);
    uv_close((uv_handle_t *)&a->timer, on_timer_closed);
}
