/* bn_ws.h — one Binance WebSocket session (ws:// or wss://) on its own
 * libwebsockets service thread. Every complete text frame, stamped with the
 * wall-clock time its last byte arrived, is handed to the core loop through
 * the host's `post` (the only call a plugin thread may make); connects and
 * drops are handed over the same way. Binance's ping frames are answered
 * by libwebsockets with a pong carrying the same payload; a lost session
 * (error, server close, the 24-hour limit) is reconnected with exponential
 * back-off between reconnect_min_ms and reconnect_max_ms. */
#ifndef QTS_BN_WS_H
#define QTS_BN_WS_H

#include <stddef.h>
#include <stdint.h>

enum bn_ws_event {
    BN_WS_FRAME = 0, /* a text frame: text, n, recv_ns */
    BN_WS_UP = 1,    /* connected */
    BN_WS_DOWN = 2,  /* the session ended; a reconnect follows */
};

/* Runs on the core loop. `text` is borrowed for the call. */
typedef void (*bn_ws_fn)(void *arg, int event, const char *text, size_t n, int64_t recv_ns);
/* The host's post (host->post with its owner bound). */
typedef int (*bn_ws_post_fn)(void *post_ctx, void (*fn)(void *), void *arg);

struct bn_ws_opts {
    const char *url; /* ws[s]://host[:port]/path?query, copied */
    bn_ws_fn on_event;
    void *arg;
    bn_ws_post_fn post;
    void *post_ctx;
    uint32_t reconnect_min_ms, reconnect_max_ms;
    /* a session older than this is closed and opened again before the
     * venue cuts it (Binance: 24 hours); 0 = never */
    uint32_t session_max_s;
};

struct bn_ws;

/* Starts the thread, which connects at once. QTS_ECONFIG on a bad URL. */
int bn_ws_start(const struct bn_ws_opts *o, struct bn_ws **out);
/* Stops the thread and frees everything; no callback runs after it (posts
 * already queued still run: each holds only its own copy). */
void bn_ws_stop(struct bn_ws *ws);

#endif
