/* kis_ws.c — KIS WebSocket session on a libwebsockets thread (kis_ws.h). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* explicit_bzero, strtok_r, clock_gettime */
#endif
#include "kis_ws.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libwebsockets.h>

#include "qts/qts_err.h"

struct out_msg {
    struct out_msg *next;
    bool is_pong;
    size_t n;
    unsigned char buf[]; /* LWS_PRE bytes of head room, then the payload */
};

struct kis_ws {
    struct kis_ws_opts o;
    char url[512];
    char host[256], path[256];
    int port;

    struct lws_context *ctx;
    pthread_t thr;
    bool thr_started;

    /* touched by both threads, under mu */
    pthread_mutex_t mu;
    struct out_msg *out_head, **out_tail;
    bool quit, drop;

    /* service thread only */
    struct lws *wsi;
    bool connecting;
    uint32_t backoff_ms;
    lws_usec_t next_connect_us;
    char *rx;
    size_t rx_n, rx_cap;
    lws_sorted_usec_list_t sul;
};

struct posted {
    kis_ws_fn fn;
    void *arg;
    int event;
    char text[]; /* NUL-terminated */
};

static void run_posted(void *p)
{
    struct posted *it = p;
    it->fn(it->arg, it->event, it->text);
    free(it);
}

static void post_up(struct kis_ws *ws, int event, const char *text, size_t n)
{
    struct posted *it = malloc(sizeof *it + n + 1);
    if (!it)
        return;
    it->fn = ws->o.on_frame;
    it->arg = ws->o.arg;
    it->event = event;
    if (n)
        memcpy(it->text, text, n);
    it->text[n] = '\0';
    if (ws->o.post(ws->o.post_ctx, run_posted, it) != 0)
        free(it);
}

static void queue_out(struct kis_ws *ws, const char *text, size_t n, bool is_pong)
{
    struct out_msg *m = malloc(sizeof *m + LWS_PRE + n);
    if (!m)
        return;
    m->next = NULL;
    m->is_pong = is_pong;
    m->n = n;
    memcpy(m->buf + LWS_PRE, text, n);
    pthread_mutex_lock(&ws->mu);
    *ws->out_tail = m;
    ws->out_tail = &m->next;
    pthread_mutex_unlock(&ws->mu);
}

static void free_out(struct kis_ws *ws)
{
    pthread_mutex_lock(&ws->mu);
    struct out_msg *m = ws->out_head;
    ws->out_head = NULL;
    ws->out_tail = &ws->out_head;
    pthread_mutex_unlock(&ws->mu);
    while (m) {
        struct out_msg *next = m->next;
        free(m);
        m = next;
    }
}

static void on_rx_complete(struct kis_ws *ws)
{
    const char *t = ws->rx;
    size_t n = ws->rx_n;
    /* PINGPONG is answered here, on the socket's thread, as KIS's own
     * client does: a pong control frame carrying the received text. */
    if (n && t[0] == '{' && strstr(t, "\"PINGPONG\"")) {
        queue_out(ws, t, n, n <= 125);
        if (ws->wsi)
            lws_callback_on_writable(ws->wsi);
        return;
    }
    post_up(ws, 0, t, n);
}

static int cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    struct kis_ws *ws = lws_context_user(lws_get_context(wsi));
    (void)user;
    switch (reason) {
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        ws->connecting = false;
        ws->backoff_ms = ws->o.reconnect_min_ms;
        free_out(ws); /* anything queued before belongs to the old session */
        post_up(ws, 1, "", 0);
        break;
    case LWS_CALLBACK_CLIENT_RECEIVE:
        if (lws_is_first_fragment(wsi))
            ws->rx_n = 0;
        if (ws->rx_n + len + 1 > ws->rx_cap) {
            size_t cap = ws->rx_cap ? ws->rx_cap : 4096;
            while (cap < ws->rx_n + len + 1)
                cap *= 2;
            char *p = realloc(ws->rx, cap);
            if (!p)
                return -1;
            ws->rx = p;
            ws->rx_cap = cap;
        }
        memcpy(ws->rx + ws->rx_n, in, len);
        ws->rx_n += len;
        ws->rx[ws->rx_n] = '\0';
        if (lws_is_final_fragment(wsi) && !lws_remaining_packet_payload(wsi))
            on_rx_complete(ws);
        break;
    case LWS_CALLBACK_CLIENT_WRITEABLE: {
        pthread_mutex_lock(&ws->mu);
        struct out_msg *m = ws->out_head;
        if (m) {
            ws->out_head = m->next;
            if (!ws->out_head)
                ws->out_tail = &ws->out_head;
        }
        bool more = ws->out_head != NULL;
        pthread_mutex_unlock(&ws->mu);
        if (m) {
            int w = lws_write(wsi, m->buf + LWS_PRE, m->n,
                              m->is_pong ? LWS_WRITE_PONG : LWS_WRITE_TEXT);
            free(m);
            if (w < 0)
                return -1;
        }
        if (more)
            lws_callback_on_writable(wsi);
        break;
    }
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
    case LWS_CALLBACK_CLIENT_CLOSED:
        if (ws->wsi == wsi || ws->connecting) {
            bool was_open = !ws->connecting;
            ws->wsi = NULL;
            ws->connecting = false;
            ws->next_connect_us = lws_now_usecs() + (lws_usec_t)ws->backoff_ms * 1000;
            ws->backoff_ms = ws->backoff_ms * 2 > ws->o.reconnect_max_ms ? ws->o.reconnect_max_ms
                                                                         : ws->backoff_ms * 2;
            if (was_open)
                post_up(ws, 2, "", 0);
        }
        break;
    case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
        break; /* woken by kis_ws_send/drop/stop: the tick below runs */
    default: break;
    }
    return 0;
}

static const struct lws_protocols protocols[] = {
    {"kis", cb, 0, 65536, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static void try_connect(struct kis_ws *ws)
{
    struct lws_client_connect_info ci;
    memset(&ci, 0, sizeof ci);
    ci.context = ws->ctx;
    ci.address = ws->host;
    ci.port = ws->port;
    ci.path = ws->path;
    ci.host = ws->host;
    ci.origin = ws->host;
    ci.protocol = NULL; /* KIS names no subprotocol */
    ci.local_protocol_name = "kis";
    ci.pwsi = &ws->wsi;
    ws->connecting = true;
    if (!lws_client_connect_via_info(&ci)) {
        ws->connecting = false;
        ws->wsi = NULL;
        ws->next_connect_us = lws_now_usecs() + (lws_usec_t)ws->backoff_ms * 1000;
    }
}

/* Runs on the service thread every 50 ms and after every wake-up. */
static void tick(struct kis_ws *ws)
{
    pthread_mutex_lock(&ws->mu);
    bool drop = ws->drop, has_out = ws->out_head != NULL;
    ws->drop = false;
    pthread_mutex_unlock(&ws->mu);
    if (drop && ws->wsi && !ws->connecting) {
        lws_set_timeout(ws->wsi, PENDING_TIMEOUT_CLOSE_SEND, LWS_TO_KILL_SYNC);
        return;
    }
    if (!ws->wsi && !ws->connecting && lws_now_usecs() >= ws->next_connect_us)
        try_connect(ws);
    else if (has_out && ws->wsi && !ws->connecting)
        lws_callback_on_writable(ws->wsi);
}

static void on_sul(lws_sorted_usec_list_t *sul)
{
    struct kis_ws *ws = lws_container_of(sul, struct kis_ws, sul);
    tick(ws);
    lws_sul_schedule(ws->ctx, 0, &ws->sul, on_sul, 50 * LWS_US_PER_MS);
}

static void *thread_main(void *arg)
{
    struct kis_ws *ws = arg;
    lws_sul_schedule(ws->ctx, 0, &ws->sul, on_sul, 1);
    for (;;) {
        pthread_mutex_lock(&ws->mu);
        bool quit = ws->quit;
        pthread_mutex_unlock(&ws->mu);
        if (quit)
            break;
        if (lws_service(ws->ctx, 0) < 0)
            break;
        tick(ws);
    }
    return NULL;
}

static int parse_url(struct kis_ws *ws, const char *url)
{
    if (strncmp(url, "ws://", 5) != 0)
        return QTS_ECONFIG; /* KIS serves plain ws:// only */
    const char *h = url + 5;
    const char *slash = strchr(h, '/');
    const char *colon = memchr(h, ':', slash ? (size_t)(slash - h) : strlen(h));
    const char *hend = colon ? colon : slash ? slash : h + strlen(h);
    if (hend == h || (size_t)(hend - h) >= sizeof ws->host)
        return QTS_ECONFIG;
    memcpy(ws->host, h, (size_t)(hend - h));
    ws->host[hend - h] = '\0';
    ws->port = colon ? atoi(colon + 1) : 80;
    if (ws->port <= 0 || ws->port > 65535)
        return QTS_ECONFIG;
    snprintf(ws->path, sizeof ws->path, "%s", slash ? slash : "/");
    return 0;
}

int kis_ws_start(const struct kis_ws_opts *o, struct kis_ws **out)
{
    *out = NULL;
    struct kis_ws *ws = calloc(1, sizeof *ws);
    if (!ws)
        return QTS_ENOMEM;
    ws->o = *o;
    snprintf(ws->url, sizeof ws->url, "%s", o->url ? o->url : "");
    ws->o.url = ws->url;
    if (!ws->o.reconnect_min_ms)
        ws->o.reconnect_min_ms = 500;
    if (ws->o.reconnect_max_ms < ws->o.reconnect_min_ms)
        ws->o.reconnect_max_ms = ws->o.reconnect_min_ms;
    ws->backoff_ms = ws->o.reconnect_min_ms;
    ws->out_tail = &ws->out_head;
    pthread_mutex_init(&ws->mu, NULL);
    int rc = parse_url(ws, ws->url);
    if (rc != 0) {
        pthread_mutex_destroy(&ws->mu);
        free(ws);
        return rc;
    }
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = protocols;
    info.user = ws;
    info.gid = -1;
    info.uid = -1;
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

int kis_ws_send(struct kis_ws *ws, const char *text)
{
    if (!ws || !text)
        return QTS_EINVAL;
    queue_out(ws, text, strlen(text), false);
    lws_cancel_service(ws->ctx);
    return 0;
}

void kis_ws_drop(struct kis_ws *ws)
{
    if (!ws)
        return;
    pthread_mutex_lock(&ws->mu);
    ws->drop = true;
    pthread_mutex_unlock(&ws->mu);
    lws_cancel_service(ws->ctx);
}

void kis_ws_stop(struct kis_ws *ws)
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
    free_out(ws);
    free(ws->rx);
    pthread_mutex_destroy(&ws->mu);
    free(ws);
}
