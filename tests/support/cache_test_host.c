/* cache_test_host.c — see cache_test_host.h. This is the caller side of the
 * plugin ABI for tests; the production host services live in the host. */
#include "cache_test_host.h"

#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "build_info.h"
#include "test_host_api.h"
#include "util.h"

struct qts_th_timer {
    uv_timer_t t;
    struct qts_th_timer *next;
    struct qts_th_inst *in;
    uint64_t id;
    qts_timer_fn cb;
    void *arg;
    bool repeat;
};

static struct qts_th_inst *inst_of(void *owner) { return owner; }

static void *th_alloc(void *owner, size_t n)
{
    (void)owner;
    return malloc(n ? n : 1);
}
static void th_free(void *owner, void *p)
{
    (void)owner;
    free(p);
}

static void th_log(void *owner, int level, const char *fmt, ...)
{
    struct qts_th *th = inst_of(owner)->th;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(th->last_log, sizeof th->last_log, fmt, ap);
    va_end(ap);
    if (level >= 0 && level < 6)
        th->log_count[level]++;
    for (int i = 0; i < 4; i++)
        if (th->watch[i] && strstr(th->last_log, th->watch[i]))
            th->watch_hits[i]++;
    if (!th->quiet && level >= QTS_LOG_INFO)
        fprintf(stderr, "[plugin %d] %s\n", level, th->last_log);
}

static int64_t th_now(void *owner)
{
    struct qts_th *th = inst_of(owner)->th;
    if (th->fake_now_ns)
        return th->fake_now_ns;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void timer_closed(uv_handle_t *h) { free(h->data); }

static void unlink_timer(struct qts_th_timer *t)
{
    struct qts_th_timer **pp = &t->in->timers;
    while (*pp && *pp != t)
        pp = &(*pp)->next;
    if (*pp)
        *pp = t->next;
    t->t.data = t;
    uv_close((uv_handle_t *)&t->t, timer_closed);
}

static void timer_fire(uv_timer_t *h)
{
    struct qts_th_timer *t = h->data;
    qts_timer_fn cb = t->cb;
    void *arg = t->arg;
    if (!t->repeat)
        unlink_timer(t);
    cb(arg);
}

static int th_timer_start(void *owner, uint64_t timeout_ms, uint64_t repeat_ms, qts_timer_fn cb,
                          void *arg, uint64_t *timer_id)
{
    struct qts_th_inst *in = inst_of(owner);
    struct qts_th_timer *t = qts_xcalloc(1, sizeof *t);
    uv_timer_init(&in->th->loop, &t->t);
    t->t.data = t;
    t->in = in;
    t->id = ++in->next_timer_id;
    t->cb = cb;
    t->arg = arg;
    t->repeat = repeat_ms != 0;
    t->next = in->timers;
    in->timers = t;
    uv_timer_start(&t->t, timer_fire, timeout_ms, repeat_ms);
    *timer_id = t->id;
    return 0;
}

static int th_timer_stop(void *owner, uint64_t timer_id)
{
    struct qts_th_inst *in = inst_of(owner);
    for (struct qts_th_timer *t = in->timers; t; t = t->next)
        if (t->id == timer_id) {
            uv_timer_stop(&t->t);
            unlink_timer(t);
            return 0;
        }
    return QTS_ENOENT;
}

static const char *cfg_find(struct qts_th_inst *in, const char *path)
{
    for (int i = 0; i < in->n_cfg; i++)
        if (strcmp(in->cfg_keys[i], path) == 0)
            return in->cfg_vals[i];
    return NULL;
}

/* the value text of `path` for the getters (borrowed), NULL when absent */
static const char *th_cfg_text(void *owner, const char *path)
{
    return cfg_find(inst_of(owner), path);
}

QTS_TEST_HOST_CFG_GETTERS(th, th_cfg_text)

static int th_secret_get(void *owner, const char *name, char *buf, size_t cap, struct qts_err *err)
{
    (void)owner;
    const char *v = getenv(name);
    if (!v)
        return qts_err_set(err, QTS_ENOENT, "secret %s not set", name);
    if (strlen(v) >= cap)
        return qts_err_set(err, QTS_ERANGE, "secret %s too long", name);
    strcpy(buf, v);
    return 0;
}

static void th_metric_add(void *owner, const char *name, int64_t delta)
{
    (void)owner;
    (void)name;
    (void)delta;
}

static void th_metric_set(void *owner, const char *name, int64_t value)
{
    (void)owner;
    (void)name;
    (void)value;
}

static void *th_uv_loop(void *owner) { return &inst_of(owner)->th->loop; }

void qts_th_init(struct qts_th *th)
{
    memset(th, 0, sizeof *th);
    QTS_ASSERT(uv_loop_init(&th->loop) == 0);
    th->api.struct_size = sizeof th->api;
    th->api.abi_major = QTS_ABI_MAJOR;
    th->api.abi_minor = QTS_ABI_MINOR;
    th->api.alloc = th_alloc;
    th->api.free = th_free;
    th->api.log = th_log;
    th->api.now_ns = th_now;
    th->api.timer_start = th_timer_start;
    th->api.timer_stop = th_timer_stop;
    th->api.cfg_str = th_cfg_str;
    th->api.cfg_int = th_cfg_int;
    th->api.cfg_double = th_cfg_double;
    th->api.cfg_bool = th_cfg_bool;
    th->api.secret_get = th_secret_get;
    th->api.metric_add = th_metric_add;
    th->api.metric_set = th_metric_set;
    th->api.uv_loop = th_uv_loop;
}

static void walk_close(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

void qts_th_cleanup(struct qts_th *th)
{
    uv_run(&th->loop, UV_RUN_DEFAULT);
    if (uv_loop_close(&th->loop) != 0) {
        uv_walk(&th->loop, walk_close, NULL);
        uv_run(&th->loop, UV_RUN_DEFAULT);
        QTS_ASSERT(uv_loop_close(&th->loop) == 0);
    }
}

int qts_th_load(struct qts_th *th, struct qts_th_inst *in, const char *dir, const char *name,
                struct qts_err *err)
{
    memset(in, 0, sizeof *in);
    in->th = th;
    char path[1024];
    if (!dir)
        dir = getenv("QTS_PLUGIN_DIR") && *getenv("QTS_PLUGIN_DIR") ? getenv("QTS_PLUGIN_DIR")
                                                                    : QTS_PLUGIN_DIR_BUILD;
    snprintf(path, sizeof path, "%s/%s.so", dir, name);
    in->dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!in->dl)
        return qts_err_set(err, QTS_ENOENT, "dlopen %s: %s", path, dlerror());
    qts_plugin_entry_fn entry;
    *(void **)&entry = dlsym(in->dl, QTS_PLUGIN_ENTRY_SYMBOL);
    if (!entry)
        return qts_err_set(err, QTS_EABI, "%s: no entry symbol", path);
    in->desc = entry(QTS_ABI_MAJOR, QTS_ABI_MINOR);
    if (!in->desc || in->desc->abi_major != QTS_ABI_MAJOR ||
        strcmp(in->desc->build_sig, QTS_BUILD_SIG) != 0 || in->desc->kind != QTS_KIND_CACHE)
        return qts_err_set(err, QTS_EABI, "%s: ABI mismatch", path);
    in->ops = in->desc->ops;
    return 0;
}

void qts_th_cfg(struct qts_th_inst *in, const char *key, const char *value)
{
    QTS_ASSERT(in->n_cfg < 32);
    in->cfg_keys[in->n_cfg] = qts_xstrdup(key);
    in->cfg_vals[in->n_cfg] = qts_xstrdup(value);
    in->n_cfg++;
}

int qts_th_start(struct qts_th_inst *in, struct qts_err *err)
{
    int rc = in->desc->init(&in->th->api, in, &in->self, err);
    if (rc < 0)
        return rc;
    rc = in->desc->start(in->self, err);
    if (rc < 0)
        return rc;
    in->started = true;
    return 0;
}

int qts_th_start_with(struct qts_th_inst *in, const char *const *extra, struct qts_err *err)
{
    for (size_t i = 0; extra && extra[i]; i += 2)
        qts_th_cfg(in, extra[i], extra[i + 1]);
    int rc = qts_th_start(in, err);
    if (rc < 0)
        fprintf(stderr, "start: %s\n", err->msg);
    return rc;
}

int qts_th_health(struct qts_th_inst *in, struct qts_cache_health *h)
{
    memset(h, 0, sizeof *h);
    h->struct_size = sizeof *h;
    return in->ops->health(in->self, h);
}

void qts_th_unload(struct qts_th_inst *in)
{
    if (in->self) {
        if (in->started) {
            for (int i = 0; i < 5000 && in->desc->stop(in->self) == QTS_EAGAIN; i++)
                uv_run(&in->th->loop, UV_RUN_NOWAIT);
        }
        in->desc->destroy(in->self);
        in->self = NULL;
    }
    while (in->timers) {
        uv_timer_stop(&in->timers->t);
        unlink_timer(in->timers);
    }
    uv_run(&in->th->loop, UV_RUN_NOWAIT);
    for (int i = 0; i < in->n_cfg; i++) {
        free(in->cfg_keys[i]);
        free(in->cfg_vals[i]);
    }
    in->n_cfg = 0;
    if (in->dl && !getenv("QTS_NO_DLCLOSE"))
        dlclose(in->dl);
    in->dl = NULL;
}

static void stop_loop(uv_timer_t *t) { uv_stop(t->loop); }

void qts_th_run_ms(struct qts_th *th, int ms)
{
    uv_timer_t t;
    uv_timer_init(&th->loop, &t);
    uv_timer_start(&t, stop_loop, (uint64_t)ms, 0);
    uv_run(&th->loop, UV_RUN_DEFAULT);
    uv_close((uv_handle_t *)&t, NULL);
    uv_run(&th->loop, UV_RUN_NOWAIT);
}

static void check_flag(uv_timer_t *t)
{
    const volatile bool *flag = t->data;
    if (*flag)
        uv_stop(t->loop);
}

struct th_waiter {
    bool (*pred)(void *arg);
    void *arg;
    bool seen; /* pred was true at a check: kept even if it turns false again */
};

static void check_pred(uv_timer_t *t)
{
    struct th_waiter *w = t->data;
    if (w->pred(w->arg)) {
        w->seen = true;
        uv_stop(t->loop);
    }
}

bool qts_th_wait_for(struct qts_th *th, bool (*pred)(void *arg), void *arg, int max_ms)
{
    if (pred(arg))
        return true;
    struct th_waiter w = {pred, arg, false};
    uv_timer_t t, end;
    uv_timer_init(&th->loop, &t);
    uv_timer_init(&th->loop, &end);
    t.data = &w;
    uv_timer_start(&t, check_pred, 1, 1);
    uv_timer_start(&end, stop_loop, (uint64_t)max_ms, 0);
    uv_run(&th->loop, UV_RUN_DEFAULT);
    uv_close((uv_handle_t *)&t, NULL);
    uv_close((uv_handle_t *)&end, NULL);
    uv_run(&th->loop, UV_RUN_NOWAIT);
    return w.seen || pred(arg);
}

bool qts_th_run_until(struct qts_th *th, const volatile bool *flag, int max_ms)
{
    uint64_t end = uv_now(&th->loop) + (uint64_t)max_ms;
    uv_timer_t t;
    uv_timer_init(&th->loop, &t);
    t.data = (void *)flag;
    uv_timer_start(&t, check_flag, 1, 1);
    while (!*flag) {
        uv_update_time(&th->loop);
        if (uv_now(&th->loop) >= end)
            break;
        uv_run(&th->loop, UV_RUN_ONCE);
    }
    uv_close((uv_handle_t *)&t, NULL);
    uv_run(&th->loop, UV_RUN_NOWAIT);
    return *flag;
}

int qts_th_open(struct qts_th *th, struct qts_th_inst *in, const char *name, const char *const *cfg)
{
    struct qts_err err;
    int rc = qts_th_load(th, in, NULL, name, &err);
    if (rc < 0) {
        fprintf(stderr, "%s\n", err.msg);
        return rc;
    }
    return qts_th_start_with(in, cfg, &err);
}

void qts_th_close(struct qts_th *th, struct qts_th_inst *in)
{
    qts_th_unload(in);
    qts_th_cleanup(th);
}

int qts_th_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return 0;
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t sl = sizeof sa;
    int port = 0;
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0 &&
        getsockname(fd, (struct sockaddr *)&sa, &sl) == 0)
        port = ntohs(sa.sin_port);
    close(fd);
    return port;
}

bool qts_th_port_open(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return false;
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = htons((uint16_t)port);
    bool open = connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
    close(fd);
    return open;
}

int qts_th_pair_teardown(void **state)
{
    struct qts_th_pair *p = *state;
    qts_th_close(&p->th, &p->in);
    free(p); /* the fixture it begins */
    *state = NULL;
    return 0;
}
