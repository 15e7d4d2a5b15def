/* redis_uv.c — see redis_uv.h. */
#include "redis_uv.h"

#include <stdlib.h>
#include <string.h>

struct redis_uv {
    redisAsyncContext *ac; /* NULL once hiredis cleaned up */
    uv_poll_t poll;
    int events;
    int *open_handles;
};

static void on_poll(uv_poll_t *h, int status, int events)
{
    struct redis_uv *e = h->data;
    if (status < 0) {
        /* let hiredis see the socket error through a read */
        if (e->ac)
            redisAsyncHandleRead(e->ac);
        return;
    }
    if (e->ac && (events & UV_READABLE))
        redisAsyncHandleRead(e->ac);
    if (e->ac && (events & UV_WRITABLE))
        redisAsyncHandleWrite(e->ac);
}

static void update(struct redis_uv *e)
{
    if (e->events)
        uv_poll_start(&e->poll, e->events, on_poll);
    else
        uv_poll_stop(&e->poll);
}

/* hiredis asks for "writable" on every command: only a change of the
 * event set reaches libuv, so a pipeline of commands costs one re-arm. */
static void set_events(struct redis_uv *e, int events)
{
    if (events == e->events)
        return;
    e->events = events;
    update(e);
}

static void add_read(void *p)
{
    struct redis_uv *e = p;
    set_events(e, e->events | UV_READABLE);
}
static void del_read(void *p)
{
    struct redis_uv *e = p;
    set_events(e, e->events & ~UV_READABLE);
}
static void add_write(void *p)
{
    struct redis_uv *e = p;
    set_events(e, e->events | UV_WRITABLE);
}
static void del_write(void *p)
{
    struct redis_uv *e = p;
    set_events(e, e->events & ~UV_WRITABLE);
}

static void on_closed(uv_handle_t *h)
{
    struct redis_uv *e = h->data;
    (*e->open_handles)--;
    free(e);
}

static void cleanup(void *p)
{
    struct redis_uv *e = p;
    e->ac = NULL;
    uv_close((uv_handle_t *)&e->poll, on_closed);
}

int qts_redis_uv_attach(redisAsyncContext *ac, uv_loop_t *loop, int *open_handles)
{
    if (ac->ev.data)
        return -1;
    struct redis_uv *e = calloc(1, sizeof *e);
    if (!e)
        return -1;
    if (uv_poll_init(loop, &e->poll, ac->c.fd) != 0) {
        free(e);
        return -1;
    }
    e->poll.data = e;
    e->ac = ac;
    e->open_handles = open_handles;
    (*open_handles)++;
    ac->ev.addRead = add_read;
    ac->ev.delRead = del_read;
    ac->ev.addWrite = add_write;
    ac->ev.delWrite = del_write;
    ac->ev.cleanup = cleanup;
    ac->ev.data = e;
    return 0;
}
