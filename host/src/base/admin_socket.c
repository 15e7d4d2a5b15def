/* admin_socket.c — the admin socket server and client (admin_socket.h). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* SO_PEERCRED, struct ucred */
#endif
#include "admin_socket.h"

#include <errno.h>
#include <poll.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <uv.h>

#include "log.h"
#include "util.h"

/* --------------------------------------------------------- requests */

static void reply_err(char *out, size_t cap, const char *msg)
{
    char e[512];
    qts_json_escape(e, sizeof e, msg);
    snprintf(out, cap, "{\"ok\":false,\"error\":\"%s\"}", e);
}

void qts_admin_handle_line(const struct qts_admin_handlers *h, const char *peer, const char *line,
                           char *out, size_t cap)
{
    char cmd[32], reason[256] = "", by[64] = "", what[32] = "all";
    if (!qts_json_get_str(line, "cmd", cmd, sizeof cmd)) {
        reply_err(out, cap, "malformed request: want {\"cmd\":...}");
        return;
    }
    qts_json_get_str(line, "reason", reason, sizeof reason);
    qts_json_get_str(line, "by", by, sizeof by);
    qts_json_get_str(line, "what", what, sizeof what);
    char who[192];
    if (by[0])
        snprintf(who, sizeof who, "%s (%s)", by, peer ? peer : "?");
    else
        snprintf(who, sizeof who, "%s", peer ? peer : "?");
    size_t rcap = cap > 64 ? cap - 32 : cap;
    char *res = qts_xmalloc(rcap);
    res[0] = '\0';
    int rc = QTS_EUNSUPPORTED;
    if (strcmp(cmd, "status") == 0) {
        if (h->status)
            rc = h->status(h->ctx, res, rcap);
    } else if (strcmp(cmd, "kill") == 0) {
        if (h->kill)
            rc = h->kill(h->ctx, who, reason[0] ? reason : "operator kill", res, rcap);
    } else if (strcmp(cmd, "resume") == 0) {
        bool approve = false;
        qts_json_get_bool(line, "approve", &approve);
        if (!approve || !reason[0]) {
            free(res);
            reply_err(out, cap, "resume needs \"approve\":true and a non-empty reason");
            return;
        }
        if (h->resume)
            rc = h->resume(h->ctx, who, reason, res, rcap);
    } else if (strcmp(cmd, "reload") == 0) {
        if (strcmp(what, "config") && strcmp(what, "plugins") && strcmp(what, "strategies") &&
            strcmp(what, "all")) {
            free(res);
            reply_err(out, cap, "reload what: config, plugins, strategies or all");
            return;
        }
        if (h->reload)
            rc = h->reload(h->ctx, what, res, rcap);
    } else if (strcmp(cmd, "subscribe") == 0 || strcmp(cmd, "unsubscribe") == 0) {
        char symbol[32] = ""; /* QTS_SYMBOL_MAX */
        qts_json_get_str(line, "symbol", symbol, sizeof symbol);
        if (!symbol[0]) {
            free(res);
            reply_err(out, cap, "subscribe needs \"symbol\"");
            return;
        }
        if (h->subscribe)
            rc = h->subscribe(h->ctx, symbol, cmd[0] == 's', res, rcap);
    } else {
        free(res);
        reply_err(out, cap,
                  "unknown command (status, kill, resume, reload, subscribe, unsubscribe)");
        return;
    }
    if (rc == 0)
        snprintf(out, cap, "{\"ok\":true,\"result\":%s}", res[0] ? res : "{}");
    else
        reply_err(out, cap, res[0] ? res : qts_strerror(rc));
    free(res);
}

/* ------------------------------------------------------------ server */

struct conn {
    uv_pipe_t pipe; /* first: handle casts back */
    struct qts_admin *a;
    struct conn *next;
    char peer[96];
    char buf[QTS_ADMIN_LINE_MAX];
    size_t n;
};

struct qts_admin {
    uv_pipe_t server; /* first */
    struct qts_admin_handlers h;
    char path[108];
    struct conn *conns;
    int open_handles;
    bool closing;
};

struct wreq {
    uv_write_t req;
    char *data;
};

static void maybe_free(struct qts_admin *a)
{
    if (a->closing && a->open_handles == 0)
        free(a);
}

static void conn_closed(uv_handle_t *h)
{
    struct conn *c = (struct conn *)h;
    struct qts_admin *a = c->a;
    for (struct conn **pp = &a->conns; *pp; pp = &(*pp)->next)
        if (*pp == c) {
            *pp = c->next;
            break;
        }
    free(c);
    a->open_handles--;
    maybe_free(a);
}

static void conn_close(struct conn *c)
{
    if (!uv_is_closing((uv_handle_t *)&c->pipe))
        uv_close((uv_handle_t *)&c->pipe, conn_closed);
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
    struct conn *c = (struct conn *)h;
    (void)hint;
    b->base = c->buf + c->n;
    b->len = sizeof c->buf - c->n;
}

static void on_written(uv_write_t *req, int status)
{
    struct wreq *w = (struct wreq *)req;
    (void)status;
    free(w->data);
    free(w);
}

static void send_line(struct conn *c, const char *line)
{
    size_t n = strlen(line);
    struct wreq *w = qts_xmalloc(sizeof *w);
    w->data = qts_xmalloc(n + 1);
    memcpy(w->data, line, n);
    w->data[n] = '\n';
    uv_buf_t b = uv_buf_init(w->data, (unsigned)(n + 1));
    if (uv_write(&w->req, (uv_stream_t *)&c->pipe, &b, 1, on_written) != 0) {
        free(w->data);
        free(w);
    }
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b)
{
    struct conn *c = (struct conn *)s;
    (void)b;
    if (nread < 0) {
        conn_close(c);
        return;
    }
    c->n += (size_t)nread;
    char *start = c->buf, *nl;
    while ((nl = memchr(start, '\n', c->n - (size_t)(start - c->buf))) != NULL) {
        *nl = '\0';
        char *out = qts_xmalloc(QTS_ADMIN_REPLY_MAX);
        qts_admin_handle_line(&c->a->h, c->peer, start, out, QTS_ADMIN_REPLY_MAX);
        QTS_INFO("admin request peer=%s line=%.200s", c->peer, start);
        send_line(c, out);
        free(out);
        start = nl + 1;
    }
    size_t rest = c->n - (size_t)(start - c->buf);
    memmove(c->buf, start, rest);
    c->n = rest;
    if (c->n == sizeof c->buf) {
        send_line(c, "{\"ok\":false,\"error\":\"request line too long\"}");
        conn_close(c);
    }
}

static void peer_name(uv_pipe_t *p, char *out, size_t cap)
{
    uv_os_fd_t fd;
    struct ucred cr;
    socklen_t len = sizeof cr;
    snprintf(out, cap, "uid ?");
    if (uv_fileno((uv_handle_t *)p, &fd) != 0 ||
        getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) != 0)
        return;
    struct passwd pw, *res = NULL;
    char buf[1024];
    if (getpwuid_r(cr.uid, &pw, buf, sizeof buf, &res) == 0 && res)
        snprintf(out, cap, "uid %u %s", (unsigned)cr.uid, res->pw_name);
    else
        snprintf(out, cap, "uid %u", (unsigned)cr.uid);
}

static void on_connection(uv_stream_t *server, int status)
{
    struct qts_admin *a = (struct qts_admin *)server;
    if (status < 0 || a->closing)
        return;
    struct conn *c = qts_xcalloc(1, sizeof *c);
    c->a = a;
    uv_pipe_init(server->loop, &c->pipe, 0);
    a->open_handles++;
    c->next = a->conns;
    a->conns = c;
    if (uv_accept(server, (uv_stream_t *)&c->pipe) != 0) {
        conn_close(c);
        return;
    }
    peer_name(&c->pipe, c->peer, sizeof c->peer);
    uv_read_start((uv_stream_t *)&c->pipe, on_alloc, on_read);
}

static void server_closed(uv_handle_t *h)
{
    struct qts_admin *a = (struct qts_admin *)h;
    a->open_handles--;
    maybe_free(a);
}

/* Is a host answering on `path`? */
static bool socket_alive(const char *path)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return false;
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    qts_strlcpy(sa.sun_path, path, sizeof sa.sun_path);
    bool alive = connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
    close(fd);
    return alive;
}

int qts_admin_open(struct uv_loop_s *loop, const char *path, const struct qts_admin_handlers *h,
                   struct qts_admin **out, struct qts_err *err)
{
    *out = NULL;
    struct sockaddr_un sa;
    if (!path || strlen(path) >= sizeof sa.sun_path)
        return qts_err_set(err, QTS_EINVAL, "admin socket path too long (max %zu): %s",
                           sizeof sa.sun_path - 1, path ? path : "(null)");
    struct stat st;
    if (lstat(path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode))
            return qts_err_set(err, QTS_EEXIST, "%s exists and is not a socket", path);
        if (socket_alive(path))
            return qts_err_set(err, QTS_EBUSY, "another host answers on %s", path);
        unlink(path); /* left behind by a host that died */
    }
    struct qts_admin *a = qts_xcalloc(1, sizeof *a);
    if (h)
        a->h = *h;
    qts_strlcpy(a->path, path, sizeof a->path);
    uv_pipe_init(loop, &a->server, 0);
    a->open_handles = 1;
    mode_t old = umask(0177); /* the socket is born 0600: no window for others */
    int rc = uv_pipe_bind(&a->server, path);
    umask(old);
    if (rc == 0 && chmod(path, 0600) != 0)
        rc = -errno;
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&a->server, 16, on_connection);
    if (rc != 0) {
        a->closing = true;
        uv_close((uv_handle_t *)&a->server, server_closed);
        return qts_err_set(err, QTS_EIO, "admin socket %s: %s", path, uv_strerror(rc));
    }
    QTS_INFO("admin socket listening path=%s", path);
    *out = a;
    return 0;
}

void qts_admin_close(struct qts_admin *a)
{
    if (!a || a->closing)
        return;
    a->closing = true;
    unlink(a->path);
    for (struct conn *c = a->conns; c; c = c->next)
        conn_close(c);
    uv_close((uv_handle_t *)&a->server, server_closed);
}

/* ------------------------------------------------------------ client */

int qts_admin_call(const char *path, const char *request, char *out, size_t cap, int timeout_ms,
                   struct qts_err *err)
{
    struct sockaddr_un sa;
    if (!path || strlen(path) >= sizeof sa.sun_path)
        return qts_err_set(err, QTS_EINVAL, "admin socket path too long");
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return qts_err_set(err, QTS_EIO, "socket: %s", strerror(errno));
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    qts_strlcpy(sa.sun_path, path, sizeof sa.sun_path);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        int e = errno;
        close(fd);
        if (e == ENOENT || e == ECONNREFUSED)
            return qts_err_set(err, QTS_ENOENT, "no host running (nothing answers on %s)", path);
        if (e == EACCES || e == EPERM)
            return qts_err_set(err, QTS_EPERM, "%s: permission denied (owner only)", path);
        return qts_err_set(err, QTS_EIO, "connect %s: %s", path, strerror(e));
    }
    size_t n = strlen(request);
    char *line = qts_xmalloc(n + 1);
    memcpy(line, request, n);
    line[n] = '\n';
    size_t off = 0;
    while (off < n + 1) {
        ssize_t w = write(fd, line + off, n + 1 - off);
        if (w <= 0) {
            free(line);
            close(fd);
            return qts_err_set(err, QTS_EIO, "write: %s", strerror(errno));
        }
        off += (size_t)w;
    }
    free(line);
    size_t got = 0;
    int rc = QTS_EIO;
    while (got + 1 < cap) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int pr = poll(&pfd, 1, timeout_ms);
        if (pr == 0) {
            rc = qts_err_set(err, QTS_ETIMEDOUT, "no answer within %d ms", timeout_ms);
            break;
        }
        ssize_t r = pr > 0 ? read(fd, out + got, cap - 1 - got) : -1;
        if (r <= 0) {
            rc = qts_err_set(err, QTS_EIO, "connection closed before the answer");
            break;
        }
        got += (size_t)r;
        out[got] = '\0';
        char *nl = memchr(out, '\n', got);
        if (nl) {
            *nl = '\0';
            rc = 0;
            break;
        }
    }
    close(fd);
    if (rc == QTS_EIO && got + 1 >= cap)
        rc = qts_err_set(err, QTS_ERANGE, "answer longer than %zu bytes", cap);
    return rc;
}
