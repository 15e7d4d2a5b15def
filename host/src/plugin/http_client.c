/* http_client.c — libcurl multi on libuv.
 *
 * curl tells us which sockets to watch (CURLMOPT_SOCKETFUNCTION) and when to
 * wake it up (CURLMOPT_TIMERFUNCTION); libuv reports readiness back through
 * curl_multi_socket_action. Finished transfers are collected with
 * curl_multi_info_read. Cancelled requests are moved to a "done" list that a
 * zero-delay timer flushes, so no callback runs inside a caller's call.
 */
#include "http_client.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "util.h"

struct sock_ctx {
    uv_poll_t poll;
    struct sock_ctx *next, *prev; /* all open poll handles */
    curl_socket_t fd;
    struct qts_http_client *c;
};

struct hdr {
    char *name, *value; /* owned */
};

struct http_req {
    struct http_req *next, *prev; /* pending list */
    struct qts_http_client *c;
    uint64_t id;
    CURL *easy;
    struct curl_slist *req_headers;
    char *body; /* owned copy of the request body */
    qts_http_fn cb;
    void *arg;
    char *resp; /* response body */
    size_t resp_n, resp_cap;
    struct hdr *hdrs;
    size_t n_hdrs, cap_hdrs;
    int64_t t0_ns;
    int code; /* set when finished/cancelled */
    char errbuf[CURL_ERROR_SIZE];
    bool too_big;
};

struct qts_http_client {
    uv_loop_t *loop;
    CURLM *multi;
    uv_timer_t timer;        /* curl's timeout */
    uv_timer_t flush;        /* runs callbacks of cancelled requests */
    struct http_req pending; /* sentinel of the pending ring */
    struct http_req *done;   /* cancelled, waiting for the flush */
    size_t n_pending;
    uint64_t next_id;
    size_t max_body;
    struct sock_ctx socks; /* sentinel of the socket ring */
    int open_handles;
    bool closing;
};

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static CURLcode g_init_rc;

static void global_init_once(void) { g_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT); }

int qts_http_global_init(struct qts_err *err)
{
    pthread_once(&g_once, global_init_once);
    if (g_init_rc != CURLE_OK)
        return qts_err_set(err, QTS_EIO, "curl_global_init: %s", curl_easy_strerror(g_init_rc));
    return 0;
}

/* ------------------------------------------------------------ request list */

static void list_remove(struct http_req *r)
{
    r->prev->next = r->next;
    r->next->prev = r->prev;
    r->next = r->prev = NULL;
    r->c->n_pending--;
}

static void req_free(struct http_req *r)
{
    if (r->easy)
        curl_easy_cleanup(r->easy);
    curl_slist_free_all(r->req_headers);
    free(r->body);
    free(r->resp);
    for (size_t i = 0; i < r->n_hdrs; i++) {
        free(r->hdrs[i].name);
        free(r->hdrs[i].value);
    }
    free(r->hdrs);
    free(r);
}

/* Deliver the callback exactly once, then free the request. */
static void req_finish(struct http_req *r, int status)
{
    struct qts_http_header *hv = NULL;
    if (r->n_hdrs) {
        hv = qts_xcalloc(r->n_hdrs, sizeof *hv);
        for (size_t i = 0; i < r->n_hdrs; i++) {
            hv[i].name = r->hdrs[i].name;
            hv[i].value = r->hdrs[i].value;
        }
    }
    struct qts_http_response resp = {
        .struct_size = sizeof resp,
        .status = status,
        .code = r->code,
        .error = r->code ? (r->errbuf[0] ? r->errbuf : qts_strerror(r->code)) : NULL,
        .body = {r->resp ? r->resp : "", r->resp_n},
        .headers = hv,
        .n_headers = r->n_hdrs,
        .elapsed_ns = qts_mono_ns() - r->t0_ns,
    };
    r->cb(r->arg, &resp);
    free(hv);
    req_free(r);
}

/* -------------------------------------------------------------- curl hooks */

static size_t on_body(char *p, size_t sz, size_t nm, void *ud)
{
    struct http_req *r = ud;
    size_t n = sz * nm;
    if (r->resp_n + n > r->c->max_body) {
        r->too_big = true;
        return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
    }
    if (r->resp_n + n + 1 > r->resp_cap) {
        size_t cap = r->resp_cap ? r->resp_cap : 4096;
        while (cap < r->resp_n + n + 1)
            cap *= 2;
        r->resp = qts_xrealloc(r->resp, cap);
        r->resp_cap = cap;
    }
    memcpy(r->resp + r->resp_n, p, n);
    r->resp_n += n;
    r->resp[r->resp_n] = '\0';
    return n;
}

static char *trimdup(const char *p, size_t n)
{
    while (n && (*p == ' ' || *p == '\t')) {
        p++;
        n--;
    }
    while (n && (p[n - 1] == ' ' || p[n - 1] == '\t' || p[n - 1] == '\r' || p[n - 1] == '\n'))
        n--;
    char *s = qts_xmalloc(n + 1);
    memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

static size_t on_header(char *p, size_t sz, size_t nm, void *ud)
{
    struct http_req *r = ud;
    size_t n = sz * nm;
    if (n >= 5 && memcmp(p, "HTTP/", 5) == 0) {
        /* a new response (redirect, 100-continue): keep only the last one */
        for (size_t i = 0; i < r->n_hdrs; i++) {
            free(r->hdrs[i].name);
            free(r->hdrs[i].value);
        }
        r->n_hdrs = 0;
        return n;
    }
    const char *colon = memchr(p, ':', n);
    if (!colon)
        return n; /* blank line at the end of the headers */
    if (r->n_hdrs == r->cap_hdrs) {
        r->cap_hdrs = r->cap_hdrs ? r->cap_hdrs * 2 : 16;
        r->hdrs = qts_xrealloc(r->hdrs, r->cap_hdrs * sizeof *r->hdrs);
    }
    r->hdrs[r->n_hdrs].name = trimdup(p, (size_t)(colon - p));
    r->hdrs[r->n_hdrs].value = trimdup(colon + 1, n - (size_t)(colon - p) - 1);
    r->n_hdrs++;
    return n;
}

static int map_curl_code(CURLcode rc)
{
    switch (rc) {
    case CURLE_OK: return 0;
    case CURLE_OPERATION_TIMEDOUT: return QTS_ETIMEDOUT;
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PARTIAL_FILE: return QTS_ENET;
    case CURLE_PEER_FAILED_VERIFICATION: return QTS_EAUTH;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL: return QTS_EINVAL;
    default: return QTS_EIO;
    }
}

static void check_done(struct qts_http_client *c)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(c->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        CURL *easy = msg->easy_handle;
        CURLcode rc = msg->data.result;
        struct http_req *r = NULL;
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&r);
        long status = 0;
        curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
        curl_multi_remove_handle(c->multi, easy);
        list_remove(r);
        r->code = map_curl_code(rc);
        if (r->too_big) {
            r->code = QTS_ERANGE;
            snprintf(r->errbuf, sizeof r->errbuf, "response body over %zu bytes", c->max_body);
        } else if (rc != CURLE_OK && !r->errbuf[0]) {
            qts_strlcpy(r->errbuf, curl_easy_strerror(rc), sizeof r->errbuf);
        }
        req_finish(r, (int)status);
    }
}

static void on_poll(uv_poll_t *h, int status, int events)
{
    struct sock_ctx *s = h->data;
    struct qts_http_client *c = s->c;
    int flags = 0;
    if (status < 0)
        flags = CURL_CSELECT_ERR;
    if (events & UV_READABLE)
        flags |= CURL_CSELECT_IN;
    if (events & UV_WRITABLE)
        flags |= CURL_CSELECT_OUT;
    int running;
    curl_multi_socket_action(c->multi, s->fd, flags, &running);
    check_done(c);
}

static void client_handle_gone(struct qts_http_client *c)
{
    if (--c->open_handles == 0 && c->closing)
        free(c);
}

static void on_sock_closed(uv_handle_t *h)
{
    struct sock_ctx *s = h->data;
    struct qts_http_client *c = s->c;
    free(s);
    client_handle_gone(c);
}

static void sock_close(struct sock_ctx *s)
{
    s->prev->next = s->next;
    s->next->prev = s->prev;
    uv_poll_stop(&s->poll);
    uv_close((uv_handle_t *)&s->poll, on_sock_closed);
}

static int on_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    struct qts_http_client *c = userp;
    struct sock_ctx *s = socketp;
    (void)easy;
    if (what == CURL_POLL_REMOVE) {
        if (s) {
            sock_close(s);
            if (!c->closing)
                curl_multi_assign(c->multi, fd, NULL);
        }
        return 0;
    }
    if (!s) {
        s = qts_xcalloc(1, sizeof *s);
        s->fd = fd;
        s->c = c;
        if (uv_poll_init_socket(c->loop, &s->poll, fd) != 0) {
            free(s);
            return -1;
        }
        s->poll.data = s;
        s->next = &c->socks;
        s->prev = c->socks.prev;
        c->socks.prev->next = s;
        c->socks.prev = s;
        c->open_handles++;
        curl_multi_assign(c->multi, fd, s);
    }
    int ev = 0;
    if (what & CURL_POLL_IN)
        ev |= UV_READABLE;
    if (what & CURL_POLL_OUT)
        ev |= UV_WRITABLE;
    uv_poll_start(&s->poll, ev, on_poll);
    return 0;
}

static void on_timeout(uv_timer_t *t)
{
    struct qts_http_client *c = t->data;
    int running;
    curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_done(c);
}

static int on_timer(CURLM *multi, long timeout_ms, void *userp)
{
    struct qts_http_client *c = userp;
    (void)multi;
    if (timeout_ms < 0)
        uv_timer_stop(&c->timer);
    else
        uv_timer_start(&c->timer, on_timeout, (uint64_t)timeout_ms, 0);
    return 0;
}

static void on_flush(uv_timer_t *t)
{
    struct qts_http_client *c = t->data;
    while (c->done) {
        struct http_req *r = c->done;
        c->done = r->next;
        r->next = NULL;
        req_finish(r, 0);
    }
}

/* ------------------------------------------------------------------ public */

int qts_http_client_new(uv_loop_t *loop, struct qts_http_client **out, struct qts_err *err)
{
    int rc = qts_http_global_init(err);
    if (rc)
        return rc;
    struct qts_http_client *c = qts_xcalloc(1, sizeof *c);
    c->loop = loop;
    c->multi = curl_multi_init();
    if (!c->multi) {
        free(c);
        return qts_err_set(err, QTS_ENOMEM, "curl_multi_init failed");
    }
    c->pending.next = c->pending.prev = &c->pending;
    c->socks.next = c->socks.prev = &c->socks;
    c->max_body = QTS_HTTP_DEFAULT_MAX_BODY;
    c->next_id = 1;
    uv_timer_init(loop, &c->timer);
    uv_timer_init(loop, &c->flush);
    c->timer.data = c->flush.data = c;
    c->open_handles = 2;
    curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
    curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, on_timer);
    curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
    *out = c;
    return 0;
}

void qts_http_client_set_max_body(struct qts_http_client *c, size_t max_bytes)
{
    c->max_body = max_bytes;
}

size_t qts_http_pending(const struct qts_http_client *c)
{
    size_t n = c->n_pending;
    for (const struct http_req *r = c->done; r; r = r->next)
        n++;
    return n;
}

int qts_http_request(struct qts_http_client *c, const struct qts_http_request *req, qts_http_fn cb,
                     void *arg, uint64_t *req_id, struct qts_err *err)
{
    if (c->closing)
        return qts_err_set(err, QTS_ECLOSED, "http client is closing");
    if (!req || req->struct_size < offsetof(struct qts_http_request, connect_timeout_ms) +
                                       sizeof req->connect_timeout_ms)
        return qts_err_set(err, QTS_EINVAL, "http request: struct_size too small");
    if (!req->url || !cb)
        return qts_err_set(err, QTS_EINVAL, "http request: url and callback are required");
    const char *method = req->method ? req->method : "GET";

    struct http_req *r = qts_xcalloc(1, sizeof *r);
    r->c = c;
    r->cb = cb;
    r->arg = arg;
    r->easy = curl_easy_init();
    if (!r->easy) {
        free(r);
        return qts_err_set(err, QTS_ENOMEM, "curl_easy_init failed");
    }
    CURL *e = r->easy;
    curl_easy_setopt(e, CURLOPT_URL, req->url);
    curl_easy_setopt(e, CURLOPT_PRIVATE, (char *)r);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->errbuf);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS,
                     (long)(req->timeout_ms ? req->timeout_ms : QTS_HTTP_DEFAULT_TIMEOUT_MS));
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
                     (long)(req->connect_timeout_ms ? req->connect_timeout_ms
                                                    : QTS_HTTP_DEFAULT_CONNECT_TIMEOUT_MS));
    curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
    for (size_t i = 0; i < req->n_headers; i++) {
        char line[1024];
        int n = snprintf(line, sizeof line, "%s: %s", req->headers[i].name, req->headers[i].value);
        if (n < 0 || (size_t)n >= sizeof line) {
            req_free(r);
            return qts_err_set(err, QTS_EINVAL, "http header %s too long", req->headers[i].name);
        }
        r->req_headers = curl_slist_append(r->req_headers, line);
    }
    if (r->req_headers)
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->req_headers);

    if (strcmp(method, "GET") == 0 && req->body.n == 0) {
        curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    } else if (strcmp(method, "HEAD") == 0) {
        curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    } else {
        r->body = qts_xmalloc(req->body.n + 1);
        if (req->body.n)
            memcpy(r->body, req->body.p, req->body.n);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body.n);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, r->body);
        if (strcmp(method, "POST") != 0)
            curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
    }

    r->id = c->next_id++;
    r->t0_ns = qts_mono_ns();
    CURLMcode mrc = curl_multi_add_handle(c->multi, e);
    if (mrc != CURLM_OK) {
        req_free(r);
        return qts_err_set(err, QTS_EIO, "curl_multi_add_handle: %s", curl_multi_strerror(mrc));
    }
    r->next = &c->pending;
    r->prev = c->pending.prev;
    c->pending.prev->next = r;
    c->pending.prev = r;
    c->n_pending++;
    if (req_id)
        *req_id = r->id;
    return 0;
}

static void cancel_req(struct qts_http_client *c, struct http_req *r)
{
    curl_multi_remove_handle(c->multi, r->easy);
    list_remove(r);
    r->code = QTS_ECANCELED;
    qts_strlcpy(r->errbuf, "request cancelled", sizeof r->errbuf);
    /* append to keep cancellation order */
    struct http_req **pp = &c->done;
    while (*pp)
        pp = &(*pp)->next;
    *pp = r;
    if (!c->closing)
        uv_timer_start(&c->flush, on_flush, 0, 0);
}

int qts_http_cancel(struct qts_http_client *c, uint64_t req_id)
{
    for (struct http_req *r = c->pending.next; r != &c->pending; r = r->next) {
        if (r->id == req_id) {
            cancel_req(c, r);
            return 0;
        }
    }
    return QTS_ENOENT;
}

static void on_client_handle_closed(uv_handle_t *h) { client_handle_gone(h->data); }

void qts_http_client_close(struct qts_http_client *c)
{
    if (!c || c->closing)
        return;
    c->closing = true;
    while (c->pending.next != &c->pending)
        cancel_req(c, c->pending.next);
    on_flush(&c->flush); /* callbacks now: the client is going away */
    /* cleanup closes cached connections (socket callbacks REMOVE them) */
    curl_multi_cleanup(c->multi);
    c->multi = NULL;
    while (c->socks.next != &c->socks)
        sock_close(c->socks.next);
    uv_timer_stop(&c->timer);
    uv_close((uv_handle_t *)&c->timer, on_client_handle_closed);
    uv_close((uv_handle_t *)&c->flush, on_client_handle_closed);
}
