/* http_server.h — the host's HTTP server for operators (/metrics, the
 * dashboard).
 *
 * libwebsockets serves on its own thread, so a slow or stuck client never
 * holds the core loop. The loop thread does not answer requests: it
 * publishes whole documents (qts_http_server_publish), which the server
 * thread hands to every GET of that path until the next publish, and
 * pushes messages (qts_http_server_push) to every WebSocket client of the
 * protocol "qts-push". GET and HEAD are served; a POST goes to the post
 * handler (qts_http_server_set_post) only with the server's token
 * ("Authorization: Bearer TOKEN"), else 401 (403 with no token set);
 * anything else is 405, an unknown path 404.
 */
#ifndef QTS_HTTP_SERVER_H
#define QTS_HTTP_SERVER_H

#include <stddef.h>

#include "qts/qts_err.h"

struct qts_http_server; /* opaque */

struct qts_http_opts {
    const char *host;  /* borrowed for the call: address to bind ("127.0.0.1") */
    int port;          /* 0 = any free port (qts_http_server_port tells which) */
    const char *token; /* borrowed for the call (copied): POST needs it; NULL/"" = no POST */
};

/* Answers a POST on the server thread: `path`, the body (`len` bytes,
 * NUL-terminated) and the client's address are borrowed for the call; the
 * JSON answer goes to out. Returns the HTTP status. May block (briefly). */
typedef int (*qts_http_post_fn)(void *ctx, const char *path, const char *body, size_t len,
                                const char *peer, char *out, size_t cap);

/* Bind and start serving. 0, or QTS_EIO / QTS_EINVAL with err set (the
 * address in use, a bad address). *out owned by the caller: free with
 * qts_http_server_stop. */
int qts_http_server_start(const struct qts_http_opts *o, struct qts_http_server **out,
                          struct qts_err *err);

/* The TCP port it listens on. */
int qts_http_server_port(const struct qts_http_server *s);

/* Serve `body` (copied; `len` bytes) with `content_type` (a literal) for GET
 * `path` (a literal) from now on. Any thread. At most 8 paths. */
void qts_http_server_publish(struct qts_http_server *s, const char *path, const char *content_type,
                             const char *body, size_t len);

/* Who answers POSTs (fn NULL: none, 405); ctx borrowed until replaced or
 * the server stops. Any thread. */
void qts_http_server_set_post(struct qts_http_server *s, qts_http_post_fn fn, void *ctx);

/* Send `msg` (copied; `len` bytes) to every WebSocket client now, and to
 * each new client when it connects, until the next push. Any thread. */
void qts_http_server_push(struct qts_http_server *s, const char *msg, size_t len);

/* Stop serving, join the thread, free everything. NULL is a no-op. */
void qts_http_server_stop(struct qts_http_server *s);

#endif /* QTS_HTTP_SERVER_H */
