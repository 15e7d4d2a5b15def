/* lua_reload.c — hot reload (lua_runtime.h): remove/reload commands, the
 * strategy file scan and the uv file watch that triggers it. Core thread. */
#include "lua_runtime_internal.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <uv.h>

#include "log.h"
#include "util.h"

void qts__lua_file_stat(const char *path, int64_t *mt, off_t *sz, ino_t *ino, bool *present)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        *present = false;
        return;
    }
    *present = true;
    *mt = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
    *sz = st.st_size;
    *ino = st.st_ino;
}

int qts_lua_runtime_remove_strategy(struct qts_lua_runtime *rt, uint32_t id)
{
    struct qts_lua_strategy *s = qts__lua_strat_by_id(rt, id);
    if (!s)
        return QTS_ENOENT;
    int st = atomic_load(&s->state);
    if (st == QTS_LUA_ST_FAILED)
        return 0;
    qts__lua_worker_post_cmd(qts__lua_worker_of(rt, s), CMD_CLOSE, s);
    return 0;
}

int qts_lua_runtime_reload(struct qts_lua_runtime *rt, uint32_t id)
{
    struct qts_lua_strategy *s = qts__lua_strat_by_id(rt, id);
    if (!s)
        return QTS_ENOENT;
    if (atomic_load(&s->state) == QTS_LUA_ST_FAILED)
        return QTS_ESTATE;
    qts__lua_worker_post_cmd(qts__lua_worker_of(rt, s), CMD_RELOAD, s);
    return 0;
}

int qts_lua_runtime_scan(struct qts_lua_runtime *rt)
{
    int actions = 0;
    for (size_t i = 0; i < rt->n_strats; i++) {
        struct qts_lua_strategy *s = rt->strats[i];
        int st = atomic_load(&s->state);
        if (st == QTS_LUA_ST_FAILED)
            continue;
        int64_t mt = 0;
        off_t sz = 0;
        ino_t ino = 0;
        bool present = false;
        qts__lua_file_stat(s->path, &mt, &sz, &ino, &present);
        if (!present && rt->files[i].present) {
            QTS_INFO("strategy file deleted, stopping name=%s file=%s", s->name, s->path);
            qts__lua_worker_post_cmd(qts__lua_worker_of(rt, s), CMD_CLOSE, s);
            actions++;
        } else if (present && !rt->files[i].present) {
            QTS_INFO("strategy file appeared, starting name=%s file=%s", s->name, s->path);
            qts__lua_worker_post_cmd(qts__lua_worker_of(rt, s), CMD_OPEN, s);
            actions++;
        } else if (present && (mt != rt->files[i].mtime_ns || sz != rt->files[i].size ||
                               ino != rt->files[i].ino)) {
            if (st == QTS_LUA_ST_RUNNING) {
                qts__lua_worker_post_cmd(qts__lua_worker_of(rt, s), CMD_RELOAD, s);
            } else {
                /* a fixed file after a failed load or a halt: start afresh */
                if (st == QTS_LUA_ST_HALTED)
                    qts__lua_worker_post_cmd(qts__lua_worker_of(rt, s), CMD_CLOSE, s);
                qts__lua_worker_post_cmd(qts__lua_worker_of(rt, s), CMD_OPEN, s);
            }
            actions++;
        }
        rt->files[i].present = present;
        rt->files[i].mtime_ns = mt;
        rt->files[i].size = sz;
        rt->files[i].ino = ino;
    }
    return actions;
}

/* ------------------------------------------------------------------ file watch */

/* One block for all handles; freed by the last close callback, so the
 * runtime may be gone by then. */
struct qts_lua_watch {
    struct qts_lua_runtime *rt; /* NULL once unwatched */
    uv_timer_t debounce;
    size_t n, open_handles;
    uv_fs_event_t ev[];
};

static void watch_closed(uv_handle_t *h)
{
    struct qts_lua_watch *wa = h->data;
    if (--wa->open_handles == 0)
        free(wa);
}

static void watch_debounced(uv_timer_t *t)
{
    struct qts_lua_watch *wa = t->data;
    if (wa->rt)
        qts_lua_runtime_scan(wa->rt);
}

static void watch_event(uv_fs_event_t *h, const char *file, int events, int status)
{
    (void)file, (void)events, (void)status;
    struct qts_lua_watch *wa = h->data;
    uv_timer_start(&wa->debounce, watch_debounced, 30, 0);
}

int qts_lua_runtime_watch(struct qts_lua_runtime *rt, struct uv_loop_s *loop, struct qts_err *err)
{
    if (rt->watch)
        return qts_err_set(err, QTS_EBUSY, "lua runtime: already watching");
    char(*dirs)[PATH_MAX] = qts_xcalloc(rt->n_strats + 1, PATH_MAX);
    size_t nd = 0;
    for (size_t i = 0; i < rt->n_strats; i++) {
        char d[PATH_MAX];
        qts_strlcpy(d, rt->strats[i]->path, sizeof d);
        char *slash = strrchr(d, '/');
        if (slash)
            *slash = '\0';
        else
            qts_strlcpy(d, ".", sizeof d);
        size_t k = 0;
        while (k < nd && strcmp(dirs[k], d) != 0)
            k++;
        if (k == nd)
            memcpy(dirs[nd++], d, sizeof d);
    }
    struct qts_lua_watch *wa = qts_xcalloc(1, sizeof *wa + nd * sizeof wa->ev[0]);
    wa->rt = rt;
    uv_timer_init(loop, &wa->debounce);
    wa->debounce.data = wa;
    wa->open_handles = 1;
    int rc = 0;
    for (size_t i = 0; i < nd; i++) {
        uv_fs_event_init(loop, &wa->ev[i]);
        wa->ev[i].data = wa;
        wa->open_handles++;
        wa->n++;
        rc = uv_fs_event_start(&wa->ev[i], watch_event, dirs[i], 0);
        if (rc != 0) {
            qts_err_set(err, QTS_EIO, "lua runtime: cannot watch %s: %s", dirs[i], uv_strerror(rc));
            break;
        }
    }
    free(dirs);
    rt->watch = wa;
    if (rc != 0) {
        qts_lua_runtime_unwatch(rt);
        return QTS_EIO;
    }
    return 0;
}

void qts_lua_runtime_unwatch(struct qts_lua_runtime *rt)
{
    struct qts_lua_watch *wa = rt->watch;
    if (!wa)
        return;
    rt->watch = NULL;
    wa->rt = NULL;
    uv_close((uv_handle_t *)&wa->debounce, watch_closed);
    for (size_t i = 0; i < wa->n; i++)
        uv_close((uv_handle_t *)&wa->ev[i], watch_closed);
}
