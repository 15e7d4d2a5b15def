/* http_server.c — see http_server.h. */
#include "http_server.h"

#include <libwebsockets.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "util.h"

#define MAX_DOCS 16
#define WRITE_CHUNK 16384
#define POST_MAX 4096 /* a command's body: a reason and a name */

struct doc {
    const char *path;  /* borrowed literal; NULL = free slot */
    const char *ctype; /* borrowed literal */
    char *body;        /* owned */
    size_t len;
};

struct qts_http_server {
    struct lws_context *ctx;
    pthread_t thr;
    bool thr_started;
    int port;
    char token[256];    /* "" = no state-changing requests */
    pthread_mutex_t mu; /* guards docs, quit, post, the push message */
    struct doc docs[MAX_DOCS];
    bool quit;
    qts_http_post_fn post; /* NULL: every POST is 405 */
    void *post_ctx;        /* borrowed */
    char *push;            /* owned: the latest WebSocket message */
    size_t push_len;
    uint64_t push_seq; /* bumped by each qts_http_server_push */
};

/* One request being answered: its own copy of the document, so a publish
 * in the middle of a slow download changes nothing for it. A POST first
 * collects its body in `in`. */
struct conn {
    char *body; /* owned */
    size_t len, off;
    bool is_post;
    char uri[64];
    char in[POST_MAX + 1];
    size_t in_len;
    bool too_big, authorized;
};

/* One WebSocket client: the sequence number of the message it last got. */
struct ws_sess {
    uint64_t seq;
};

/* lws logs through ours, at WARN and above only (it is chatty below). */
static void lws_emit(int level, const char *line)
{
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        n--;
    qts_log(level == LLL_ERR ? QTS_LOG_ERROR : QTS_LOG_WARN, "http: %.*s", (int)n, line);
}

static int send_headers(struct lws *wsi, unsigned status, const char *ctype, size_t len)
{
    uint8_t buf[LWS_PRE + 512], *start = &buf[LWS_PRE], *p = start, *end = &buf[sizeof buf - 1];
    if (lws_add_http_common_headers(wsi, status, ctype, len, &p, end) ||
        lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CACHE_CONTROL,
                                     (const unsigned char *)"no-store", 8, &p, end) ||
        lws_finalize_write_http_header(wsi, start, &p, end))
        return 1;
    return 0;
}

/* A short plain-text answer (errors): body sent at once. */
static int answer_text(struct lws *wsi, struct conn *c, unsigned status, const char *text)
{
    c->len = strlen(text);
    c->body = malloc(c->len ? c->len : 1);
    if (!c->body)
        return -1;
    memcpy(c->body, text, c->len);
    c->off = 0;
    if (send_headers(wsi, status, "text/plain; charset=utf-8", c->len))
        return -1;
    lws_callback_on_writable(wsi);
    return 0;
}

/* "Authorization: Bearer <token>" against the server's token, in time
 * independent of where they differ. */
static bool authorized(struct lws *wsi, const struct qts_http_server *s)
{
    char h[300];
    if (!s->token[0] || lws_hdr_copy(wsi, h, sizeof h, WSI_TOKEN_HTTP_AUTHORIZATION) <= 7 ||
        strncmp(h, "Bearer ", 7) != 0)
        return false;
    const char *t = h + 7;
    size_t n = strlen(t), m = strlen(s->token);
    unsigned diff = (unsigned)(n ^ m);
    for (size_t i = 0; i < n && i < m; i++)
        diff |= (unsigned)(t[i] ^ s->token[i]);
    return diff == 0;
}

/* A POST: note the path and the token's verdict; the body follows in
 * LWS_CALLBACK_HTTP_BODY and is handled at its completion. */
static int on_post(struct lws *wsi, struct qts_http_server *s, struct conn *c, const char *uri)
{
    c->is_post = true;
    snprintf(c->uri, sizeof c->uri, "%s", uri);
    c->in_len = 0;
    c->too_big = false;
    c->authorized = authorized(wsi, s);
    return 0;
}

static int on_body(struct conn *c, const void *in, size_t len)
{
    if (c->in_len + len > POST_MAX) {
        c->too_big = true;
        return 0;
    }
    memcpy(c->in + c->in_len, in, len);
    c->in_len += len;
    return 0;
}

static int on_body_done(struct lws *wsi, struct conn *c)
{
    struct qts_http_server *s = lws_context_user(lws_get_context(wsi));
    c->in[c->in_len] = '\0';
    if (!s->token[0])
        return answer_text(wsi, c, HTTP_STATUS_FORBIDDEN,
                           "{\"ok\":false,\"error\":\"state-changing requests are off: set the "
                           "secret http_token (QTS_SECRET_HTTP_TOKEN) and restart\"}\n");
    if (!c->authorized)
        return answer_text(wsi, c, HTTP_STATUS_UNAUTHORIZED,
                           "{\"ok\":false,\"error\":\"missing or wrong token "
                           "(Authorization: Bearer ...)\"}\n");
    if (c->too_big)
        return answer_text(wsi, c, HTTP_STATUS_REQ_ENTITY_TOO_LARGE,
                           "{\"ok\":false,\"error\":\"body over 4096 bytes\"}\n");
    char peer[64] = "?";
    lws_get_peer_simple(wsi, peer, sizeof peer);
    char out[8192];
    pthread_mutex_lock(&s->mu);
    qts_http_post_fn fn = s->post;
    void *ctx = s->post_ctx;
    pthread_mutex_unlock(&s->mu);
    /* may wait for the loop (a few ms; at most the handler's timeout) */
    unsigned status = fn ? (unsigned)fn(ctx, c->uri, c->in, c->in_len, peer, out, sizeof out)
                         : HTTP_STATUS_METHOD_NOT_ALLOWED;
    if (!fn)
        snprintf(out, sizeof out, "only GET and HEAD\n");
    c->len = strlen(out);
    c->body = malloc(c->len ? c->len : 1);
    if (!c->body)
        return -1;
    memcpy(c->body, out, c->len);
    c->off = 0;
    if (send_headers(wsi, status, "application/json", c->len))
        return -1;
    lws_callback_on_writable(wsi);
    return 0;
}

static int on_http(struct lws *wsi, struct conn *c, const char *uri)
{
    struct qts_http_server *s = lws_context_user(lws_get_context(wsi));
    bool head = lws_hdr_total_length(wsi, WSI_TOKEN_HEAD_URI) > 0;
    bool get = lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) > 0;
    bool post = lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI) > 0;
    pthread_mutex_lock(&s->mu);
    bool has_post = s->post != NULL;
    pthread_mutex_unlock(&s->mu);
    if (post && has_post && strncmp(uri, "/api/", 5) == 0) /* commands live under /api/ */
        return on_post(wsi, s, c, uri);
    if (!get && !head)
        return answer_text(wsi, c, HTTP_STATUS_METHOD_NOT_ALLOWED,
                           has_post ? "only GET and HEAD here (POST: /api/...)\n"
                                    : "only GET and HEAD\n");
    pthread_mutex_lock(&s->mu);
    const struct doc *d = NULL;
    for (size_t i = 0; i < MAX_DOCS && !d; i++)
        if (s->docs[i].path && strcmp(s->docs[i].path, uri) == 0)
            d = &s->docs[i];
    const char *ctype = d ? d->ctype : NULL;
    if (d) {
        c->len = d->len;
        c->off = 0;
        c->body = malloc(d->len ? d->len : 1);
        if (c->body)
            memcpy(c->body, d->body, d->len);
    }
    pthread_mutex_unlock(&s->mu);
    if (!d)
        return answer_text(wsi, c, HTTP_STATUS_NOT_FOUND, "not found\n");
    if (!c->body)
        return -1;
    if (send_headers(wsi, HTTP_STATUS_OK, ctype, c->len))
        return -1;
    if (head) {
        c->len = 0; /* headers only */
        return lws_http_transaction_completed(wsi) ? -1 : 0;
    }
    lws_callback_on_writable(wsi);
    return 0;
}

static int on_writable(struct lws *wsi, struct conn *c)
{
    if (!c->body)
        return 0;
    size_t n = c->len - c->off < WRITE_CHUNK ? c->len - c->off : WRITE_CHUNK;
    unsigned char chunk[LWS_PRE + WRITE_CHUNK];
    memcpy(chunk + LWS_PRE, c->body + c->off, n);
    bool last = c->off + n == c->len;
    if (lws_write(wsi, chunk + LWS_PRE, n, last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) < (int)n)
        return -1;
    c->off += n;
    if (!last) {
        lws_callback_on_writable(wsi);
        return 0;
    }
    free(c->body);
    c->body = NULL;
    return lws_http_transaction_completed(wsi) ? -1 : 0;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len)
{
    struct conn *c = user;
    switch (reason) {
    case LWS_CALLBACK_HTTP: return on_http(wsi, c, in);
    case LWS_CALLBACK_HTTP_BODY: return c && c->is_post ? on_body(c, in, len) : 0;
    case LWS_CALLBACK_HTTP_BODY_COMPLETION: return c && c->is_post ? on_body_done(wsi, c) : 0;
    case LWS_CALLBACK_HTTP_WRITEABLE: return on_writable(wsi, c);
    case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
        /* a push (or the stop) woke the service: every client gets the news */
        if (lws_vhost_name_to_protocol(lws_get_vhost(wsi), "qts-push"))
            lws_callback_on_writable_all_protocol(
                lws_get_context(wsi), lws_vhost_name_to_protocol(lws_get_vhost(wsi), "qts-push"));
        break;
    case LWS_CALLBACK_CLOSED_HTTP:
    case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
        if (c) {
            free(c->body);
            c->body = NULL;
        }
        break;
    default: break;
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}

/* The WebSocket protocol "qts-push": the server sends each client the
 * latest pushed message once (a slow client skips to the newest); what a
 * client sends is ignored. */
static int ws_writable(struct lws *wsi, struct ws_sess *w)
{
    struct qts_http_server *s = lws_context_user(lws_get_context(wsi));
    pthread_mutex_lock(&s->mu);
    if (!s->push || w->seq == s->push_seq) {
        pthread_mutex_unlock(&s->mu);
        return 0;
    }
    size_t n = s->push_len;
    unsigned char *buf = malloc(LWS_PRE + n);
    if (buf)
        memcpy(buf + LWS_PRE, s->push, n);
    w->seq = s->push_seq;
    pthread_mutex_unlock(&s->mu);
    if (!buf)
        return -1;
    /* lws keeps what the socket does not take and sends it first */
    int wrote = lws_write(wsi, buf + LWS_PRE, n, LWS_WRITE_TEXT);
    free(buf);
    return wrote < (int)n ? -1 : 0;
}

/* A browser sends the page's Origin with a WebSocket: only pages of this
 * server may read the pushes (a web page of any other site could open the
 * socket otherwise: WebSockets are not bound by the same-origin rule).
 * Clients that are not browsers send no Origin. */
static bool same_origin(struct lws *wsi)
{
    char origin[300], host[256], want[300];
    if (lws_hdr_copy(wsi, origin, sizeof origin, WSI_TOKEN_ORIGIN) <= 0)
        return true;
    if (lws_hdr_copy(wsi, host, sizeof host, WSI_TOKEN_HOST) <= 0)
        return false;
    snprintf(want, sizeof want, "http://%s", host);
    return strcmp(origin, want) == 0;
}

static int ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                       size_t len)
{
    struct ws_sess *w = user;
    switch (reason) {
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION: return same_origin(wsi) ? 0 : 1;
    case LWS_CALLBACK_ESTABLISHED:
        w->seq = 0;
        lws_callback_on_writable(wsi); /* the latest message at once */
        break;
    case LWS_CALLBACK_SERVER_WRITEABLE: return ws_writable(wsi, w);
    default: break;
    }
    (void)in;
    (void)len;
    return 0;
}

static const struct lws_protocols protocols[] = {
    {"http", callback, sizeof(struct conn), 0, 0, NULL, 0},
    {"qts-push", ws_callback, sizeof(struct ws_sess), 0, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static void *serve(void *arg)
{
    struct qts_http_server *s = arg;
    for (;;) {
        pthread_mutex_lock(&s->mu);
        bool quit = s->quit;
        pthread_mutex_unlock(&s->mu);
        if (quit || lws_service(s->ctx, 0) < 0)
            break;
    }
    return NULL;
}

int qts_http_server_start(const struct qts_http_opts *o, struct qts_http_server **out,
                          struct qts_err *err)
{
    *out = NULL;
    if (!o->host || !*o->host || o->port < 0 || o->port > 65535)
        return qts_err_set(err, QTS_EINVAL, "http: bad listen address %s:%d",
                           o->host ? o->host : "", o->port);
    lws_set_log_level(LLL_ERR | LLL_WARN, lws_emit);
    struct qts_http_server *s = qts_xcalloc(1, sizeof *s);
    pthread_mutex_init(&s->mu, NULL);
    if (o->token)
        snprintf(s->token, sizeof s->token, "%s", o->token);
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.port = o->port;
    info.iface = o->host;
    info.protocols = protocols;
    info.user = s;
    info.gid = -1;
    info.uid = -1;
    info.options = LWS_SERVER_OPTION_DISABLE_IPV6;
    s->ctx = lws_create_context(&info);
    struct lws_vhost *vh = s->ctx ? lws_get_vhost_by_name(s->ctx, "default") : NULL;
    s->port = vh ? lws_get_vhost_listen_port(vh) : -1;
    if (!s->ctx || s->port <= 0) {
        if (s->ctx)
            lws_context_destroy(s->ctx);
        pthread_mutex_destroy(&s->mu);
        free(s);
        return qts_err_set(err, QTS_EIO,
                           "http: cannot listen on %s:%d (in use, or not an address "
                           "of this machine)",
                           o->host, o->port);
    }
    if (pthread_create(&s->thr, NULL, serve, s) != 0) {
        lws_context_destroy(s->ctx);
        pthread_mutex_destroy(&s->mu);
        free(s);
        return qts_err_set(err, QTS_ESYS, "http: cannot start the server thread");
    }
    s->thr_started = true;
    *out = s;
    return 0;
}

int qts_http_server_port(const struct qts_http_server *s) { return s->port; }

void qts_http_server_publish(struct qts_http_server *s, const char *path, const char *content_type,
                             const char *body, size_t len)
{
    char *copy = qts_xmalloc(len ? len : 1);
    memcpy(copy, body, len);
    pthread_mutex_lock(&s->mu);
    struct doc *d = NULL;
    for (size_t i = 0; i < MAX_DOCS && !d; i++)
        if (s->docs[i].path && strcmp(s->docs[i].path, path) == 0)
            d = &s->docs[i];
    for (size_t i = 0; i < MAX_DOCS && !d; i++)
        if (!s->docs[i].path)
            d = &s->docs[i];
    if (d) {
        free(d->body);
        d->path = path;
        d->ctype = content_type;
        d->body = copy;
        d->len = len;
        copy = NULL;
    }
    pthread_mutex_unlock(&s->mu);
    free(copy); /* no slot left: a programming error, dropped */
}

void qts_http_server_set_post(struct qts_http_server *s, qts_http_post_fn fn, void *ctx)
{
    pthread_mutex_lock(&s->mu);
    s->post = fn;
    s->post_ctx = ctx;
    pthread_mutex_unlock(&s->mu);
}

void qts_http_server_push(struct qts_http_server *s, const char *msg, size_t len)
{
    char *copy = qts_xmalloc(len ? len : 1);
    memcpy(copy, msg, len);
    pthread_mutex_lock(&s->mu);
    free(s->push);
    s->push = copy;
    s->push_len = len;
    s->push_seq++;
    pthread_mutex_unlock(&s->mu);
    lws_cancel_service(s->ctx); /* the server thread wakes and sends it */
}

void qts_http_server_stop(struct qts_http_server *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->mu);
    s->quit = true;
    pthread_mutex_unlock(&s->mu);
    lws_cancel_service(s->ctx);
    if (s->thr_started)
        pthread_join(s->thr, NULL);
    lws_context_destroy(s->ctx);
    for (size_t i = 0; i < MAX_DOCS; i++)
        free(s->docs[i].body);
    free(s->push);
    memset(s->token, 0, sizeof s->token);
    pthread_mutex_destroy(&s->mu);
    free(s);
}
