/* bn_ws.c — see bn_ws.h. The structure follows broker_kis's kis_ws.c (a
 * service thread, posts to the core loop); this one adds TLS and carries
 * the receive time of each frame. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "bn_ws.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libwebsockets.h>

#include "qts/qts_err.h"

struct bn_ws {
    struct bn_ws_opts o;
    char url[512], host[256], path[512];
    int port;
    bool tls;

    struct lws_context *ctx;
    pthread_t thr;
    bool thr_started;
    pthread_mutex_t mu;
    bool quit; /* under mu */

    /* service thread only */
    struct lws *wsi;
    bool connecting;
    uint32_t backoff_ms;
    lws_usec_t next_connect_us;
    char *rx; /* owned: the frame being assembled */
    size_t rx_n, rx_cap;
    lws_sorted_usec_list_t sul; /* wakes the service every 50 ms */
    lws_usec_t up_since_us;     /* when the open session connected */
    bool renewing;
};

struct posted {
    bn_ws_fn fn;
    void *arg;
    int event;
    int64_t recv_ns;
    size_t n;
    char text[]; /* n bytes, NUL-terminated */
};

static int64_t wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void run_posted(void *p)
{
    struct posted *it = p;
    it->fn(it->arg, it->event, it->text, it->n, it->recv_ns);
    free(it);
}

static void post_up(struct bn_ws *ws, int event, const char *text, size_t n, int64_t recv_ns)
{
    struct posted *it = malloc(sizeof *it + n + 1);
    if (!it)
        abort();
    it->fn = ws->o.on_event;
    it->arg = ws->o.arg;
    it->event = event;
    it->recv_ns = recv_ns;
    it->n = n;
    if (n)
        memcpy(it->text, text, n);
    it->text[n] = '\0';
    if (ws->o.post(ws->o.post_ctx, run_posted, it) != 0)
        free(it); /* the plugin is stopping: nobody is left to take it */
}

static void schedule_reconnect(struct bn_ws *ws)
{
    ws->next_connect_us = lws_now_usecs() + (lws_usec_t)ws->backoff_ms * 1000;
    ws->backoff_ms =
        ws->backoff_ms * 2 > ws->o.reconnect_max_ms ? ws->o.reconnect_max_ms : ws->backoff_ms * 2;
}

static int cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    struct bn_ws *ws = lws_context_user(lws_get_context(wsi));
    (void)user;
    switch (reason) {
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        ws->connecting = false;
        ws->backoff_ms = ws->o.reconnect_min_ms;
        ws->up_since_us = lws_now_usecs();
        ws->renewing = false;
        post_up(ws, BN_WS_UP, "", 0, wall_ns());
        break;
    case LWS_CALLBACK_CLIENT_RECEIVE:
        if (lws_is_first_fragment(wsi))
            ws->rx_n = 0;
        if (ws->rx_n + len + 1 > ws->rx_cap) {
            size_t cap = ws->rx_cap ? ws->rx_cap : 65536;
            while (cap < ws->rx_n + len + 1)
                cap *= 2;
            char *p = realloc(ws->rx, cap);
            if (!p)
                abort();
            ws->rx = p;
            ws->rx_cap = cap;
        }
        memcpy(ws->rx + ws->rx_n, in, len);
        ws->rx_n += len;
        if (lws_is_final_fragment(wsi) && !lws_remaining_packet_payload(wsi))
            post_up(ws, BN_WS_FRAME, ws->rx, ws->rx_n, wall_ns());
        break;
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
    case LWS_CALLBACK_CLIENT_CLOSED:
        if (ws->wsi == wsi || ws->connecting) {
            ws->wsi = NULL;
            ws->connecting = false;
            schedule_reconnect(ws);
            post_up(ws, BN_WS_DOWN, in && len ? (const char *)in : "", in ? len : 0, wall_ns());
        }
        break;
    default: break;
    }
    return 0;
}

static const struct lws_protocols protocols[] = {
    {"binance", cb, 0, 65536, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static void try_connect(struct bn_ws *ws)
{
    struct lws_client_connect_info ci;
    memset(&ci, 0, sizeof ci);
    ci.context = ws->ctx;
    ci.address = ws->host;
    ci.port = ws->port;
    ci.path = ws->path;
    ci.host = ws->host;
    ci.origin = ws->host;
    ci.ssl_connection = ws->tls ? LCCSCF_USE_SSL : 0;
    ci.local_protocol_name = "binance";
    ci.pwsi = &ws->wsi;
    ws->connecting = true;
    if (!lws_client_connect_via_info(&ci)) {
        ws->connecting = false;
        ws->wsi = NULL;
        schedule_reconnect(ws);
    }
}

static void on_sul(lws_sorted_usec_list_t *sul)
{
    struct bn_ws *ws = lws_container_of(sul, struct bn_ws, sul);
    if (ws->wsi && !ws->connecting && !ws->renewing && ws->o.session_max_s &&
        lws_now_usecs() - ws->up_since_us > (lws_usec_t)ws->o.session_max_s * LWS_US_PER_SEC) {
        ws->renewing = true; /* closed here; the close callback reconnects */
        ws->backoff_ms = ws->o.reconnect_min_ms;
        lws_set_timeout(ws->wsi, PENDING_TIMEOUT_CLOSE_SEND, LWS_TO_KILL_SYNC);
    }
    lws_sul_schedule(ws->ctx, 0, &ws->sul, on_sul, 50 * LWS_US_PER_MS);
}

static void *thread_main(void *arg)
{
    struct bn_ws *ws = arg;
    lws_sul_schedule(ws->ctx, 0, &ws->sul, on_sul, 1);
    for (;;) {
        pthread_mutex_lock(&ws->mu);
        bool quit = ws->quit;
        pthread_mutex_unlock(&ws->mu);
        if (quit)
            break;
        if (!ws->wsi && !ws->connecting && lws_now_usecs() >= ws->next_connect_us)
            try_connect(ws);
        if (lws_service(ws->ctx, 0) < 0)
            break;
    }
    return NULL;
}

static int parse_url(struct bn_ws *ws)
{
    const char *h;
    if (strncmp(ws->url, "wss://", 6) == 0) {
        ws->tls = true;
        h = ws->url + 6;
    } else if (strncmp(ws->url, "ws://", 5) == 0) {
        h = ws->url + 5;
    } else {
        return QTS_ECONFIG;
    }
    const char *slash = strchr(h, '/');
    size_t hl = slash ? (size_t)(slash - h) : strlen(h);
    const char *colon = memchr(h, ':', hl);
    size_t nl = colon ? (size_t)(colon - h) : hl;
    if (nl == 0 || nl >= sizeof ws->host)
        return QTS_ECONFIG;
    memcpy(ws->host, h, nl);
    ws->host[nl] = '\0';
    ws->port = colon ? atoi(colon + 1) : ws->tls ? 443 : 80;
    if (ws->port <= 0 || ws->port > 65535)
        return QTS_ECONFIG;
    snprintf(ws->path, sizeof ws->path, "%s", slash ? slash : "/");
    return 0;
}

int bn_ws_start(const struct bn_ws_opts *o, struct bn_ws **out)
{
    *out = NULL;
    struct bn_ws *ws = calloc(1, sizeof *ws);
    if (!ws)
        abort();
    ws->o = *o;
    snprintf(ws->url, sizeof ws->url, "%s", o->url ? o->url : "");
    ws->o.url = ws->url;
    if (!ws->o.reconnect_min_ms)
        ws->o.reconnect_min_ms = 500;
    if (ws->o.reconnect_max_ms < ws->o.reconnect_min_ms)
        ws->o.reconnect_max_ms = ws->o.reconnect_min_ms;
    ws->backoff_ms = ws->o.reconnect_min_ms;
    if (parse_url(ws) != 0) {
        free(ws);
        return QTS_ECONFIG;
    }
    pthread_mutex_init(&ws->mu, NULL);
    lws_set_log_level(LLL_ERR, NULL);
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = protocols;
    info.user = ws;
    info.gid = -1;
    info.uid = -1;
    info.timeout_secs = 10;
    if (ws->tls)
        info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    ws->ctx = lws_create_context(&info);
    if (!ws->ctx) {
        pthread_mutex_destroy(&ws->mu);
        free(ws);
        return QTS_ENOMEM;
    }
    if (pthread_create(&ws->thr, NULL, thread_main, ws) != 0) {
        lws_context_destroy(ws->ctx);
        pthread_mutex_destroy(&ws->mu);
        free(ws);
        return QTS_ESYS;
    }
    ws->thr_started = true;
    *out = ws;
    return 0;
}

void bn_ws_stop(struct bn_ws *ws)
{
    if (!ws)
        return;
    pthread_mutex_lock(&ws->mu);
    ws->quit = true;
    pthread_mutex_unlock(&ws->mu);
    lws_cancel_service(ws->ctx);
    if (ws->thr_started)
        pthread_join(ws->thr, NULL);
    lws_sul_cancel(&ws->sul);
    lws_context_destroy(ws->ctx);
    free(ws->rx);
    pthread_mutex_destroy(&ws->mu);
    free(ws);
}
