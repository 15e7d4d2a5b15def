/* http_server.h — the host's HTTP server for operators (/metrics).
 *
 * libwebsockets serves on its own thread, so a slow or stuck client never
 * holds the core loop. The loop thread does not answer requests: it
 * publishes whole documents (qts_http_server_publish), which the server
 * thread hands to every GET of that path until the next publish. Only GET
 * and HEAD are served; anything else is 405, an unknown path 404.
 */
#ifndef QTS_HTTP_SERVER_H
#define QTS_HTTP_SERVER_H

#include <stddef.h>

#include "qts/qts_err.h"

struct qts_http_server; /* opaque */

struct qts_http_opts {
    const char *host; /* borrowed for the call: address to bind ("127.0.0.1") */
    int port;         /* 0 = any free port (qts_http_server_port tells which) */
};

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

/* Stop serving, join the thread, free everything. NULL is a no-op. */
void qts_http_server_stop(struct qts_http_server *s);

#endif /* QTS_HTTP_SERVER_H */
