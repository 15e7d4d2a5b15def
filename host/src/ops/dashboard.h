/* dashboard.h — the operators' web dashboard on the host's HTTP server.
 *
 * Serves the page (GET / and /dashboard; uPlot from web_assets.h, so it
 * works offline), the status object (GET /api/status), the equity of the
 * last hour (GET /api/equity), and pushes {"t":ms,"status":{...}} to every
 * WebSocket client ("qts-push") once a second and after each command.
 * POST /api/kill and /api/resume (JSON body {"reason":..,"by":..}, the
 * server's token required) become admin commands run on the loop thread,
 * exactly as `qts kill` and `qts resume --approve` run them.
 *
 * Threads: new/tick/free on the loop thread; the POST handler runs on the
 * server thread and waits (at most 5 s) for the loop to run the command.
 */
#ifndef QTS_DASHBOARD_H
#define QTS_DASHBOARD_H

#include <stddef.h>

#include "http_server.h"
#include "qts/qts_err.h"

struct uv_loop_s;
struct qts_dashboard; /* opaque */

struct qts_dashboard_env {
    struct uv_loop_s *loop;       /* borrowed */
    struct qts_http_server *http; /* borrowed; must outlive the dashboard's use (see stop) */
    /* the status object (as the admin socket's "result"); length or <0 */
    int (*status)(void *ctx, char *out, size_t cap);
    /* run one admin request line; the answer line ({"ok":..}) into out */
    void (*command)(void *ctx, const char *peer, const char *line, char *out, size_t cap);
    /* the account's equity now (for the chart) */
    double (*equity)(void *ctx);
    void *ctx;
};

/* Publishes the page and its assets and takes the server's POSTs. *out
 * owned: qts_dashboard_stop, then qts_http_server_stop, then
 * qts_dashboard_free. */
int qts_dashboard_new(const struct qts_dashboard_env *env, struct qts_dashboard **out,
                      struct qts_err *err);

/* Once a second (loop thread): a new equity point, the status pushed and
 * published. */
void qts_dashboard_tick(struct qts_dashboard *d);

/* Refuse new commands and wake a POST waiting for one (it answers 503), so
 * the server thread can be joined. */
void qts_dashboard_stop(struct qts_dashboard *d);

/* Free (loop thread; the loop closes its async handle). NULL is a no-op. */
void qts_dashboard_free(struct qts_dashboard *d);

#endif /* QTS_DASHBOARD_H */
