/* redis_tls.c — see redis_tls.h and docs/adr/0003-redis-tls.md.
 *
 * OpenSSL never touches a socket here: the SSL object reads ciphertext
 * from a memory BIO that we fill from the TCP handle and writes ciphertext
 * into another that we drain into it, so every step is non-blocking and
 * runs on the loop. Lifetime: a reference count held by the owner, by each
 * uv handle until its close callback, and by each request in flight. */
#include "redis_tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#define BUF_N 65536
#define HIGH_WATER (1u << 20) /* bytes queued on one side before the other stops reading */
#define LOW_WATER (256u << 10)
#define EARLY_MAX (1u << 20) /* replies before hiredis connected: none expected */

enum stage { S_RESOLVE, S_CONNECT, S_HANDSHAKE, S_ACCEPT, S_UP };

struct qts_redis_tls {
    uv_loop_t *loop;
    int refs;
    int *open_handles;
    bool is_closed; /* owner closed it: no more callbacks */
    bool is_failed; /* FAILED reported (or about to be): no more I/O */
    enum stage stage;
    qts_redis_tls_fn cb;
    void *arg;
    char host[256];
    int port;
    char name[256];
    bool verify;

    SSL *ssl;  /* owns both BIOs */
    BIO *rbio; /* ciphertext from Redis, read by OpenSSL */
    BIO *wbio; /* ciphertext for Redis, written by OpenSSL */

    uv_getaddrinfo_t gai;
    bool is_resolving;
    struct addrinfo *addrs;     /* owned; resolved addresses */
    struct addrinfo *next_addr; /* the one to try after a refused connect */
    uv_connect_t conn;
    uv_tcp_t tcp; /* to Redis */
    bool has_tcp, is_up_paused;
    uv_pipe_t listener; /* the private endpoint, until hiredis connected */
    bool has_listener;
    uv_pipe_t down; /* hiredis's connection */
    bool has_down, is_down_paused;
    char dir[128];
    char path[140];
    bool has_dir, has_path;

    char *early; /* plaintext from Redis before hiredis connected */
    size_t early_n;

    char rbuf_up[BUF_N];
    char rbuf_down[BUF_N];
    char plain[BUF_N];
    char cipher[BUF_N];
};

struct wreq {
    uv_write_t req;
    struct qts_redis_tls *b;
    char data[];
};

/* ------------------------------------------------------------ helpers */

static void unref(struct qts_redis_tls *b)
{
    if (--b->refs > 0)
        return;
    int *open_handles = b->open_handles;
    SSL_free(b->ssl);
    uv_freeaddrinfo(b->addrs);
    free(b->early);
    free(b);
    (*open_handles)--;
}

static void on_handle_closed(uv_handle_t *h) { unref(h->data); }

static void close_handle(struct qts_redis_tls *b, uv_handle_t *h, bool *has)
{
    if (*has && !uv_is_closing(h))
        uv_close(h, on_handle_closed);
    (void)b;
}

/* The socket file lives only between listen and accept. */
static void remove_endpoint(struct qts_redis_tls *b)
{
    if (b->has_path) {
        unlink(b->path);
        b->has_path = false;
    }
    if (b->has_dir) {
        rmdir(b->dir);
        b->has_dir = false;
    }
}

/* The reason of the last OpenSSL error (the queue is cleared). */
static void ssl_reason(char *out, size_t cap)
{
    unsigned long e = ERR_peek_last_error();
    if (!e) {
        snprintf(out, cap, "unknown error");
    } else {
        const char *r = ERR_reason_error_string(e);
        if (r)
            snprintf(out, cap, "%s", r);
        else
            ERR_error_string_n(e, out, cap);
    }
    ERR_clear_error();
}

static void stop_io(struct qts_redis_tls *b)
{
    if (b->has_tcp && !uv_is_closing((uv_handle_t *)&b->tcp))
        uv_read_stop((uv_stream_t *)&b->tcp);
    if (b->has_down && !uv_is_closing((uv_handle_t *)&b->down))
        uv_read_stop((uv_stream_t *)&b->down);
}

/* Report a failure once; the owner then closes the bridge. */
static void bridge_fail(struct qts_redis_tls *b, const char *fmt, ...)
{
    if (b->is_failed)
        return;
    b->is_failed = true;
    stop_io(b);
    remove_endpoint(b);
    if (b->is_closed)
        return;
    char text[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    b->refs++; /* the callback may close the bridge */
    b->cb(b->arg, QTS_REDIS_TLS_FAILED, text);
    unref(b);
}

static bool is_dead(const struct qts_redis_tls *b) { return b->is_closed || b->is_failed; }

/* --------------------------------------------------------------- write */

static void maybe_resume(struct qts_redis_tls *b);

static void on_written(uv_write_t *req, int status)
{
    struct wreq *w = (struct wreq *)req;
    struct qts_redis_tls *b = w->b;
    bool to_redis = req->handle == (uv_stream_t *)&b->tcp;
    free(w);
    if (status < 0 && !is_dead(b))
        bridge_fail(b, "%s host=%s:%d: %s", to_redis ? "write to redis" : "local write", b->host,
                    b->port, uv_strerror(status));
    else if (!is_dead(b))
        maybe_resume(b);
    unref(b);
}

/* Write now what the socket takes, queue a copy of the rest. */
static void send_stream(struct qts_redis_tls *b, uv_stream_t *s, const char *p, size_t n)
{
    size_t off = 0;
    if (s->write_queue_size == 0) {
        uv_buf_t buf = uv_buf_init((char *)p, (unsigned)n);
        int r = uv_try_write(s, &buf, 1);
        if (r > 0)
            off = (size_t)r;
        else if (r != UV_EAGAIN && r != UV_ENOSYS) {
            bridge_fail(b, "%s host=%s:%d: %s",
                        s == (uv_stream_t *)&b->tcp ? "write to redis" : "local write", b->host,
                        b->port, uv_strerror(r));
            return;
        }
    }
    if (off == n)
        return;
    struct wreq *w = malloc(sizeof *w + (n - off));
    if (!w) {
        bridge_fail(b, "out of memory");
        return;
    }
    memcpy(w->data, p + off, n - off);
    w->b = b;
    uv_buf_t buf = uv_buf_init(w->data, (unsigned)(n - off));
    int r = uv_write(&w->req, s, &buf, 1, on_written);
    if (r < 0) {
        free(w);
        bridge_fail(b, "write host=%s:%d: %s", b->host, b->port, uv_strerror(r));
        return;
    }
    b->refs++;
}

/* Ciphertext OpenSSL produced -> Redis. */
static void flush_up(struct qts_redis_tls *b)
{
    int n;
    while (!is_dead(b) && (n = BIO_read(b->wbio, b->cipher, (int)sizeof b->cipher)) > 0)
        send_stream(b, (uv_stream_t *)&b->tcp, b->cipher, (size_t)n);
}

static void on_up_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);
static void on_down_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);
static void alloc_up(uv_handle_t *h, size_t hint, uv_buf_t *buf);
static void alloc_down(uv_handle_t *h, size_t hint, uv_buf_t *buf);

/* One side drained below the low-water mark: the other reads again. */
static void maybe_resume(struct qts_redis_tls *b)
{
    if (b->is_up_paused && b->has_down && b->down.write_queue_size < LOW_WATER) {
        b->is_up_paused = false;
        uv_read_start((uv_stream_t *)&b->tcp, alloc_up, on_up_read);
    }
    if (b->is_down_paused && b->tcp.write_queue_size < LOW_WATER) {
        b->is_down_paused = false;
        uv_read_start((uv_stream_t *)&b->down, alloc_down, on_down_read);
    }
}

/* Plaintext from Redis -> hiredis (kept until hiredis connected). */
static void deliver_down(struct qts_redis_tls *b, const char *p, size_t n)
{
    if (b->stage != S_UP) {
        if (b->early_n + n > EARLY_MAX) {
            bridge_fail(b, "redis host=%s:%d sent %zu bytes unasked", b->host, b->port,
                        b->early_n + n);
            return;
        }
        char *e = realloc(b->early, b->early_n + n);
        if (!e) {
            bridge_fail(b, "out of memory");
            return;
        }
        memcpy(e + b->early_n, p, n);
        b->early = e;
        b->early_n += n;
        return;
    }
    send_stream(b, (uv_stream_t *)&b->down, p, n);
    if (!is_dead(b) && !b->is_up_paused && b->down.write_queue_size > HIGH_WATER) {
        b->is_up_paused = true;
        uv_read_stop((uv_stream_t *)&b->tcp);
    }
}

/* Decrypt everything the read BIO holds. */
static void pump_plain(struct qts_redis_tls *b)
{
    while (!is_dead(b)) {
        ERR_clear_error();
        int r = SSL_read(b->ssl, b->plain, (int)sizeof b->plain);
        if (r > 0) {
            deliver_down(b, b->plain, (size_t)r);
            continue;
        }
        int e = SSL_get_error(b->ssl, r);
        flush_up(b); /* alerts, key updates */
        if (is_dead(b) || e == SSL_ERROR_WANT_READ)
            return;
        if (e == SSL_ERROR_ZERO_RETURN) {
            bridge_fail(b, "tls session closed by the server host=%s:%d", b->host, b->port);
            return;
        }
        char why[200];
        ssl_reason(why, sizeof why);
        bridge_fail(b, "tls error host=%s:%d: %s", b->host, b->port, why);
        return;
    }
}

/* ---------------------------------------------------------- local side */

static void alloc_down(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    struct qts_redis_tls *b = h->data;
    (void)hint;
    *buf = uv_buf_init(b->rbuf_down, sizeof b->rbuf_down);
}

/* Commands from hiredis -> encrypted -> Redis. */
static void on_down_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    struct qts_redis_tls *b = s->data;
    if (is_dead(b) || nread == 0)
        return;
    if (nread < 0) {
        bridge_fail(b, "local connection closed");
        return;
    }
    ERR_clear_error();
    int r = SSL_write(b->ssl, buf->base, (int)nread);
    if (r <= 0) {
        char why[200];
        ssl_reason(why, sizeof why);
        bridge_fail(b, "tls write host=%s:%d: %s", b->host, b->port, why);
        return;
    }
    flush_up(b);
    if (!is_dead(b) && !b->is_down_paused && b->tcp.write_queue_size > HIGH_WATER) {
        b->is_down_paused = true;
        uv_read_stop((uv_stream_t *)&b->down);
    }
}

static void on_local_conn(uv_stream_t *server, int status)
{
    struct qts_redis_tls *b = server->data;
    if (is_dead(b) || b->has_down)
        return;
    if (status < 0) {
        bridge_fail(b, "local listen: %s", uv_strerror(status));
        return;
    }
    uv_pipe_init(b->loop, &b->down, 0);
    b->down.data = b;
    b->has_down = true;
    b->refs++;
    int r = uv_accept(server, (uv_stream_t *)&b->down);
    if (r < 0) {
        bridge_fail(b, "local accept: %s", uv_strerror(r));
        return;
    }
    /* only this process may use the plain-text side */
    uv_os_fd_t fd;
    struct ucred cr;
    socklen_t cl = sizeof cr;
    if (uv_fileno((uv_handle_t *)&b->down, &fd) != 0 ||
        getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &cl) != 0 || cr.pid != getpid()) {
        bridge_fail(b, "local endpoint: a connection from another process was refused");
        return;
    }
    close_handle(b, (uv_handle_t *)&b->listener, &b->has_listener);
    remove_endpoint(b);
    b->stage = S_UP;
    r = uv_read_start((uv_stream_t *)&b->down, alloc_down, on_down_read);
    if (r < 0) {
        bridge_fail(b, "local read: %s", uv_strerror(r));
        return;
    }
    if (b->early_n) {
        char *e = b->early;
        size_t n = b->early_n;
        b->early = NULL;
        b->early_n = 0;
        deliver_down(b, e, n);
        free(e);
    }
}

/* TLS is up: open the private endpoint and tell the owner where it is. */
static void open_endpoint(struct qts_redis_tls *b)
{
    b->stage = S_ACCEPT;
    const char *tmp = getenv("TMPDIR");
    if (!tmp || !*tmp || strlen(tmp) > 80)
        tmp = "/tmp";
    snprintf(b->dir, sizeof b->dir, "%s/qts-redis-tls-XXXXXX", tmp);
    if (!mkdtemp(b->dir)) { /* mode 0700: nobody else reaches the socket */
        int e = errno;
        bridge_fail(b, "local endpoint: mkdtemp in %s: %s", tmp, strerror(e));
        return;
    }
    b->has_dir = true;
    snprintf(b->path, sizeof b->path, "%s/s", b->dir);
    uv_pipe_init(b->loop, &b->listener, 0);
    b->listener.data = b;
    b->has_listener = true;
    b->refs++;
    int r = uv_pipe_bind(&b->listener, b->path);
    if (r == 0) {
        b->has_path = true;
        r = uv_listen((uv_stream_t *)&b->listener, 1, on_local_conn);
    }
    if (r < 0) {
        bridge_fail(b, "local endpoint %s: %s", b->path, uv_strerror(r));
        return;
    }
    if (!b->is_closed) {
        b->refs++;
        b->cb(b->arg, QTS_REDIS_TLS_READY, b->path);
        unref(b);
    }
}

/* ------------------------------------------------------------ handshake */

static void handshake_step(struct qts_redis_tls *b)
{
    ERR_clear_error();
    int r = SSL_do_handshake(b->ssl);
    int e = r == 1 ? SSL_ERROR_NONE : SSL_get_error(b->ssl, r);
    flush_up(b); /* ClientHello, Finished, or an alert */
    if (is_dead(b))
        return;
    if (r == 1) {
        open_endpoint(b);
        return;
    }
    if (e == SSL_ERROR_WANT_READ)
        return;
    char why[256];
    long vr = SSL_get_verify_result(b->ssl);
    if (b->verify && vr != X509_V_OK) {
        snprintf(why, sizeof why, "certificate verify failed (%s)",
                 X509_verify_cert_error_string(vr));
        ERR_clear_error();
    } else {
        ssl_reason(why, sizeof why);
    }
    bridge_fail(b, "tls handshake failed host=%s:%d name=%s: %s", b->host, b->port, b->name, why);
}

static void alloc_up(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    struct qts_redis_tls *b = h->data;
    (void)hint;
    *buf = uv_buf_init(b->rbuf_up, sizeof b->rbuf_up);
}

static void on_up_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    struct qts_redis_tls *b = s->data;
    if (is_dead(b) || nread == 0)
        return;
    if (nread < 0) {
        const char *why =
            nread == UV_EOF ? "connection closed by the server" : uv_strerror((int)nread);
        if (b->stage == S_HANDSHAKE)
            bridge_fail(b, "tls handshake failed host=%s:%d name=%s: %s", b->host, b->port, b->name,
                        why);
        else
            bridge_fail(b, "host=%s:%d: %s", b->host, b->port, why);
        return;
    }
    if (BIO_write(b->rbio, buf->base, (int)nread) != (int)nread) {
        bridge_fail(b, "out of memory");
        return;
    }
    if (b->stage == S_HANDSHAKE) {
        handshake_step(b);
        if (is_dead(b) || b->stage == S_HANDSHAKE)
            return;
    }
    pump_plain(b);
}

/* ----------------------------------------------------------- connecting */

static int start_connect(struct qts_redis_tls *b, const struct sockaddr *sa);

/* The handle of a refused attempt is closed: the same memory carries the
 * next address (a name often resolves to ::1 and 127.0.0.1). */
static void on_tcp_retry(uv_handle_t *h)
{
    struct qts_redis_tls *b = h->data;
    if (is_dead(b)) {
        b->has_tcp = false;
        unref(b); /* the handle's reference */
        return;
    }
    uv_tcp_init(b->loop, &b->tcp);
    b->tcp.data = b;
    const struct sockaddr *sa = b->next_addr->ai_addr;
    b->next_addr = b->next_addr->ai_next;
    int r = start_connect(b, sa);
    if (r < 0)
        bridge_fail(b, "tcp connect host=%s:%d: %s", b->host, b->port, uv_strerror(r));
}

static void on_connected(uv_connect_t *req, int status)
{
    struct qts_redis_tls *b = req->data;
    if (!is_dead(b)) {
        if (status < 0 && status != UV_ECANCELED && b->next_addr) {
            uv_close((uv_handle_t *)&b->tcp, on_tcp_retry);
        } else if (status < 0) {
            bridge_fail(b, "tcp connect host=%s:%d: %s", b->host, b->port, uv_strerror(status));
        } else {
            uv_tcp_nodelay(&b->tcp, 1);
            uv_tcp_keepalive(&b->tcp, 1, 15); /* notice a dead peer on an idle connection */
            b->stage = S_HANDSHAKE;
            int r = uv_read_start((uv_stream_t *)&b->tcp, alloc_up, on_up_read);
            if (r < 0)
                bridge_fail(b, "read host=%s:%d: %s", b->host, b->port, uv_strerror(r));
            else
                handshake_step(b);
        }
    }
    unref(b);
}

static int start_connect(struct qts_redis_tls *b, const struct sockaddr *sa)
{
    while (b->next_addr && b->next_addr->ai_addr == sa) /* not this one again */
        b->next_addr = b->next_addr->ai_next;
    b->stage = S_CONNECT;
    b->conn.data = b;
    int r = uv_tcp_connect(&b->conn, &b->tcp, sa, on_connected);
    if (r == 0)
        b->refs++;
    return r;
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    struct qts_redis_tls *b = req->data;
    b->is_resolving = false;
    if (!is_dead(b)) {
        b->addrs = res; /* freed with the bridge */
        res = NULL;
        b->next_addr = b->addrs;
        int r = status < 0 ? status : start_connect(b, b->addrs->ai_addr);
        if (r < 0)
            bridge_fail(b, "%s host=%s:%d: %s", status < 0 ? "resolve" : "tcp connect", b->host,
                        b->port, uv_strerror(r));
    }
    uv_freeaddrinfo(res);
    unref(b);
}

/* ------------------------------------------------------------ interface */

static bool is_ip_literal(const char *s)
{
    unsigned char a[16];
    return inet_pton(AF_INET, s, a) == 1 || inet_pton(AF_INET6, s, a) == 1;
}

int qts_redis_tls_open(uv_loop_t *loop, SSL_CTX *ctx, const char *host, int port,
                       const char *server_name, bool verify, qts_redis_tls_fn cb, void *arg,
                       int *open_handles, struct qts_redis_tls **out, char *msg, size_t cap)
{
    *out = NULL;
    if (strlen(host) >= 256 || strlen(server_name) >= 256) {
        snprintf(msg, cap, "tls: host name too long");
        return -1;
    }
    struct qts_redis_tls *b = calloc(1, sizeof *b);
    if (!b) {
        snprintf(msg, cap, "out of memory");
        return -1;
    }
    b->loop = loop;
    b->refs = 1; /* the owner's */
    b->open_handles = open_handles;
    (*open_handles)++;
    b->cb = cb;
    b->arg = arg;
    snprintf(b->host, sizeof b->host, "%s", host);
    snprintf(b->name, sizeof b->name, "%s", server_name);
    b->port = port;
    b->verify = verify;

    ERR_clear_error();
    b->ssl = SSL_new(ctx);
    b->rbio = BIO_new(BIO_s_mem());
    b->wbio = BIO_new(BIO_s_mem());
    if (!b->ssl || !b->rbio || !b->wbio) {
        BIO_free(b->rbio);
        BIO_free(b->wbio);
        ssl_reason(msg, cap);
        unref(b);
        return -1;
    }
    BIO_set_mem_eof_return(b->rbio, -1); /* empty = "want more", not end of stream */
    BIO_set_mem_eof_return(b->wbio, -1);
    SSL_set_bio(b->ssl, b->rbio, b->wbio);
    SSL_set_connect_state(b->ssl);
    bool is_ip = is_ip_literal(b->name);
    int ok = 1;
    if (!is_ip) /* SNI carries names only (RFC 6066) */
        ok = SSL_set_tlsext_host_name(b->ssl, b->name);
    if (ok && verify) {
        X509_VERIFY_PARAM *vp = SSL_get0_param(b->ssl);
        X509_VERIFY_PARAM_set_hostflags(vp, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        ok = is_ip ? X509_VERIFY_PARAM_set1_ip_asc(vp, b->name)
                   : X509_VERIFY_PARAM_set1_host(vp, b->name, 0);
    }
    if (!ok) {
        snprintf(msg, cap, "tls: bad server name '%s'", b->name);
        ERR_clear_error();
        unref(b);
        return -1;
    }

    uv_tcp_init(loop, &b->tcp);
    b->tcp.data = b;
    b->has_tcp = true;
    b->refs++;

    union {
        struct sockaddr sa;
        struct sockaddr_in in4;
        struct sockaddr_in6 in6;
    } addr;
    int r;
    if (uv_ip4_addr(host, port, &addr.in4) == 0 || uv_ip6_addr(host, port, &addr.in6) == 0) {
        r = start_connect(b, &addr.sa);
    } else {
        b->stage = S_RESOLVE;
        char ps[16];
        snprintf(ps, sizeof ps, "%d", port);
        struct addrinfo hints;
        memset(&hints, 0, sizeof hints);
        hints.ai_family = AF_UNSPEC;
        hints.ai_socktype = SOCK_STREAM;
        b->gai.data = b;
        r = uv_getaddrinfo(loop, &b->gai, on_resolved, host, ps, &hints); /* thread pool */
        if (r == 0) {
            b->is_resolving = true;
            b->refs++;
        }
    }
    if (r < 0) {
        snprintf(msg, cap, "tcp connect host=%s:%d: %s", host, port, uv_strerror(r));
        qts_redis_tls_close(b);
        return -1;
    }
    *out = b;
    return 0;
}

const char *qts_redis_tls_stage(const struct qts_redis_tls *b)
{
    static const char *const names[] = {"resolve", "tcp connect", "tls handshake", "local accept",
                                        "up"};
    return names[b->stage];
}

void qts_redis_tls_close(struct qts_redis_tls *b)
{
    if (!b || b->is_closed)
        return;
    b->is_closed = true;
    if (b->is_resolving)
        uv_cancel((uv_req_t *)&b->gai); /* its callback still runs (UV_ECANCELED) */
    close_handle(b, (uv_handle_t *)&b->tcp, &b->has_tcp);
    close_handle(b, (uv_handle_t *)&b->listener, &b->has_listener);
    close_handle(b, (uv_handle_t *)&b->down, &b->has_down);
    remove_endpoint(b);
    unref(b);
}

/* ------------------------------------------------------------ context */

static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return 0; /* never prompt on a terminal: encrypted keys are refused */
}

static int ctx_fail(SSL_CTX *ctx, char *msg, size_t cap, const char *fmt, const char *arg)
{
    char why[200];
    ssl_reason(why, sizeof why);
    char head[320];
    snprintf(head, sizeof head, fmt, arg);
    snprintf(msg, cap, "%s: %s", head, why);
    SSL_CTX_free(ctx);
    return -1;
}

static int load_key(SSL_CTX *ctx, const char *path, char *msg, size_t cap)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        int e = errno;
        snprintf(msg, cap, "tls_key_file %s: %s", path, strerror(e));
        return -1;
    }
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode) || (st.st_mode & 077)) {
        snprintf(msg, cap, "tls_key_file %s must be a regular file with mode 0600 or stricter",
                 path);
        fclose(f);
        return -1;
    }
    ERR_clear_error();
    EVP_PKEY *k = PEM_read_PrivateKey(f, NULL, no_passphrase, NULL);
    fclose(f);
    if (!k || SSL_CTX_use_PrivateKey(ctx, k) != 1) {
        char why[200];
        ssl_reason(why, sizeof why);
        snprintf(msg, cap, "tls_key_file %s: %s (an unencrypted PEM key is needed)", path, why);
        EVP_PKEY_free(k);
        return -1;
    }
    EVP_PKEY_free(k);
    return 0;
}

int qts_redis_tls_ctx_new(const struct qts_redis_tls_cfg *cfg, SSL_CTX **out, char *msg, size_t cap)
{
    *out = NULL;
    ERR_clear_error();
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx)
        return ctx_fail(NULL, msg, cap, "tls: %s", "SSL_CTX_new");
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_default_passwd_cb(ctx, no_passphrase);
    bool has_ca_file = cfg->ca_file && cfg->ca_file[0];
    bool has_ca_dir = cfg->ca_dir && cfg->ca_dir[0];
    if (cfg->verify) {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
        if (has_ca_file || has_ca_dir) {
            if (SSL_CTX_load_verify_locations(ctx, has_ca_file ? cfg->ca_file : NULL,
                                              has_ca_dir ? cfg->ca_dir : NULL) != 1)
                return ctx_fail(ctx, msg, cap, "tls_ca_file/tls_ca_dir %s",
                                has_ca_file ? cfg->ca_file : cfg->ca_dir);
        } else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
            return ctx_fail(ctx, msg, cap, "tls: %s", "the system CA store");
        }
    } else {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    }
    bool has_cert = cfg->cert_file && cfg->cert_file[0];
    bool has_key = cfg->key_file && cfg->key_file[0];
    if (has_cert != has_key) {
        snprintf(msg, cap, "tls_cert_file and tls_key_file go together (mutual TLS)");
        SSL_CTX_free(ctx);
        return -1;
    }
    if (has_cert) {
        if (SSL_CTX_use_certificate_chain_file(ctx, cfg->cert_file) != 1)
            return ctx_fail(ctx, msg, cap, "tls_cert_file %s", cfg->cert_file);
        if (load_key(ctx, cfg->key_file, msg, cap) < 0) {
            SSL_CTX_free(ctx);
            return -1;
        }
        if (SSL_CTX_check_private_key(ctx) != 1)
            return ctx_fail(ctx, msg, cap, "tls_key_file %s does not match tls_cert_file",
                            cfg->key_file);
    }
    *out = ctx;
    return 0;
}

void qts_redis_tls_ctx_free(SSL_CTX *ctx) { SSL_CTX_free(ctx); }
