/* http_client.h — asynchronous HTTP(S) on the core loop: libcurl's multi
 * interface driven by libuv (uv_poll_t per socket, one uv_timer_t for
 * curl's timeout), so nothing ever blocks the loop.
 *
 * Each accepted request gets its callback exactly once, on the loop thread:
 * with the response, with an error (QTS_ETIMEDOUT, QTS_ENET, QTS_ERANGE for
 * a body over the limit), or with QTS_ECANCELED after qts_http_cancel() or
 * qts_http_client_close(). A cancelled callback runs on a later loop turn,
 * never inside qts_http_cancel(). A request that returns an error is not
 * accepted and gets no callback.
 *
 * curl_global_init is the host's job: qts_http_global_init() (idempotent,
 * thread-safe), called by qts_http_client_new().
 */
#ifndef QTS_HTTP_CLIENT_H
#define QTS_HTTP_CLIENT_H

#include <stdint.h>
#include <uv.h>

#include "qts/qts_err.h"
#include "qts/qts_plugin.h" /* struct qts_http_request/response, qts_http_fn */

struct qts_http_client; /* opaque */

#define QTS_HTTP_DEFAULT_TIMEOUT_MS 30000u
#define QTS_HTTP_DEFAULT_CONNECT_TIMEOUT_MS 10000u
#define QTS_HTTP_DEFAULT_MAX_BODY (64u << 20) /* 64 MiB */

int qts_http_global_init(struct qts_err *err);

/* `loop` borrowed; must outlive the client. *out owned: close it with
 * qts_http_client_close, then run the loop until its handles are closed. */
int qts_http_client_new(uv_loop_t *loop, struct qts_http_client **out, struct qts_err *err);

/* Cancel every pending request (callbacks with QTS_ECANCELED), close the
 * uv handles; memory is released from the close callbacks, so the loop must
 * run afterwards (uv_run returns once it is done). */
void qts_http_client_close(struct qts_http_client *c);

/* Largest response body accepted (bytes); larger answers fail QTS_ERANGE. */
void qts_http_client_set_max_body(struct qts_http_client *c, size_t max_bytes);

/* Start a request. Everything in `req` is copied before return. `cb` is
 * called once (see above) with a response borrowed for the callback.
 * *req_id (may be NULL) identifies it for qts_http_cancel. */
int qts_http_request(struct qts_http_client *c, const struct qts_http_request *req, qts_http_fn cb,
                     void *arg, uint64_t *req_id, struct qts_err *err);

/* Cancel a pending request: its callback runs later with QTS_ECANCELED.
 * QTS_ENOENT if it is unknown or already completed. */
int qts_http_cancel(struct qts_http_client *c, uint64_t req_id);

/* Requests accepted and not yet called back. */
size_t qts_http_pending(const struct qts_http_client *c);

#endif
