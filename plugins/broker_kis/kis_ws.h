/* kis_ws.h — the KIS WebSocket session on its own thread (libwebsockets).
 *
 * Why a thread: libwebsockets' libuv support is an event-library plugin
 * that needs the host's uv_loop_t, which the plugin ABI does not hand out;
 * so lws runs its own poll loop on a thread and every received frame goes
 * back to the core loop through host->post (QTS_CAP_THREADS).
 *
 * The thread only moves bytes: it connects (with back-off), sends what the
 * core loop queued (subscribe JSON), answers PINGPONG, and posts each
 * complete text frame. Parsing, keys and decryption happen on the loop. */
#ifndef KIS_WS_H
#define KIS_WS_H

#include <stdbool.h>
#include <stdint.h>

struct kis_ws;

/* Called on the core loop (through host->post) for each complete text
 * frame; `text` is owned by the session and valid for the call. `event`
 * is 0 for a frame, 1 when a connection opened (resubscribe now), 2 when
 * it closed (a reconnect follows). */
typedef void (*kis_ws_fn)(void *arg, int event, const char *text);
/* Posts fn(arg) to the core loop; returns 0 or an error (then the session
 * frees the item itself). Wraps host->post. */
typedef int (*kis_ws_post_fn)(void *post_ctx, void (*fn)(void *), void *item);

struct kis_ws_opts {
    const char *url;           /* ws://host:port/path (copied) */
    uint32_t reconnect_min_ms; /* first back-off */
    uint32_t reconnect_max_ms; /* cap of the doubling back-off */
    kis_ws_fn on_frame;
    void *arg;
    kis_ws_post_fn post;
    void *post_ctx;
};

/* Creates the context and starts the thread, which connects at once. */
int kis_ws_start(const struct kis_ws_opts *o, struct kis_ws **out);
/* Queues a text frame (copied); sent when connected, dropped on a
 * disconnect (the owner resubscribes on the next "opened" event). */
int kis_ws_send(struct kis_ws *ws, const char *text);
/* Closes the connection (test hook and stale-session handling); the
 * thread reconnects after the back-off. */
void kis_ws_drop(struct kis_ws *ws);
/* Stops and joins the thread, frees everything. Posted items that have
 * not run yet stay valid: they own their text and check nothing else. */
void kis_ws_stop(struct kis_ws *ws);

#endif /* KIS_WS_H */
