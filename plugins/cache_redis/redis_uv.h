/* redis_uv.h — hiredis 0.14 async context on a libuv loop. Our own adapter
 * (instead of <hiredis/adapters/libuv.h>) so the plugin learns when the
 * uv_poll_t is closed: it may not be unloaded before that. */
#ifndef QTS_REDIS_UV_H
#define QTS_REDIS_UV_H

#include <hiredis/async.h>
#include <uv.h>

/* Attach `ac` to `loop`. `*open_handles` is incremented now and
 * decremented when the poll handle's close callback has run (borrowed; must
 * outlive the handle). Returns 0 or -1. */
int qts_redis_uv_attach(redisAsyncContext *ac, uv_loop_t *loop, int *open_handles);

#endif
