/* admin_socket.h — local control of a running host: a Unix socket at
 * <var_dir>/qts.sock, owner-only (mode 0600, created under umask 0177),
 * served on the core libuv loop. One JSON object per line each way:
 *
 *   {"cmd":"status"}
 *   {"cmd":"kill","reason":"...","by":"alice"}
 *   {"cmd":"resume","approve":true,"reason":"...","by":"alice"}
 *   {"cmd":"reload","what":"config"|"plugins"|"strategies"|"all"}
 *   {"cmd":"subscribe","symbol":"005930"}   (and "unsubscribe")
 *
 * Replies: {"ok":true,"result":{...}} or {"ok":false,"error":"..."}.
 * The identity handed to kill/resume is "<by> (uid <n> <user>)", the uid
 * and user name taken from the socket's peer credentials (SO_PEERCRED), so
 * an approval is recorded with who gave it even if "by" is omitted.
 *
 * The handlers are the engine's: they run on the loop thread and write one
 * JSON value (the result object, or an error text) into `out`.
 */
#ifndef QTS_ADMIN_SOCKET_H
#define QTS_ADMIN_SOCKET_H

#include <stdbool.h>
#include <stddef.h>

#include "json.h" /* the request and reply lines */
#include "qts/qts_err.h"

struct uv_loop_s;

#define QTS_ADMIN_SOCKET_NAME "qts.sock"
#define QTS_ADMIN_LINE_MAX 4096
#define QTS_ADMIN_REPLY_MAX 65536

struct qts_admin_handlers {
    /* Each returns 0 with a JSON object in out, or a negative QTS_E* with a
     * plain message in out. Any may be NULL (answered "unsupported"). */
    int (*status)(void *ctx, char *out, size_t cap);
    int (*kill)(void *ctx, const char *who, const char *reason, char *out, size_t cap);
    int (*resume)(void *ctx, const char *who, const char *reason, char *out, size_t cap);
    int (*reload)(void *ctx, const char *what, char *out, size_t cap);
    /* real-time market data for `symbol` on (subscribe) or off */
    int (*subscribe)(void *ctx, const char *symbol, bool on, char *out, size_t cap);
    void *ctx; /* borrowed */
};

struct qts_admin;

/* Listen on `path` (copied). A stale socket file left by a dead host is
 * removed; a live one answers and makes this fail with QTS_EBUSY. */
int qts_admin_open(struct uv_loop_s *loop, const char *path, const struct qts_admin_handlers *h,
                   struct qts_admin **out, struct qts_err *err);
/* Close the server and every connection and unlink the socket; the loop
 * must run once more to finish closing (the memory is freed then). */
void qts_admin_close(struct qts_admin *a);

/* Handle one request line (borrowed) as the server does, writing the reply
 * line (without the newline) into out; exposed for tests. */
void qts_admin_handle_line(const struct qts_admin_handlers *h, const char *peer, const char *line,
                           char *out, size_t cap);

/* Client side (the CLI): connect to `path`, send `request` (one line,
 * without newline), read the one-line reply into out. Blocking, with a
 * timeout. Returns 0, QTS_ENOENT (no socket: host not running), QTS_EPERM,
 * QTS_ETIMEDOUT, QTS_EIO. */
int qts_admin_call(const char *path, const char *request, char *out, size_t cap, int timeout_ms,
                   struct qts_err *err);

#endif /* QTS_ADMIN_SOCKET_H */
