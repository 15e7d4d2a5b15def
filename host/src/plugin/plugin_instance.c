/* plugin_instance.c — instance records and the struct qts_host_api services. */
#include "plugin_instance.h"
#include "timer_svc.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "http_client.h"
#include "log.h"
#include "metrics.h"
#include "plugin_loader.h"
#include "secrets.h"
#include "util.h"

struct inst_timer {
    uv_timer_t t;
    struct inst_timer *next, *prev;
    struct qts_plugin_inst *inst;
    uint64_t id;
    qts_timer_fn cb;
    void *arg;
    bool is_repeat, is_closing;
    uint64_t svc_id; /* timer service id when env->timers is used */
    uint64_t repeat_ms;
};

struct inst_http {
    struct inst_http *next, *prev;
    struct qts_plugin_inst *inst;
    uint64_t id;
    qts_http_fn cb;
    void *arg;
};

struct post_item {
    struct post_item *next;
    qts_post_fn fn;
    void *arg;
};

struct qts_plugin_inst {
    const struct qts_plugin_env *env;
    struct qts_plugin_lib *lib;
    const struct qts_plugin_desc *desc; /* host copy inside lib */
    const struct qts_cfg_node *cfg;
    char *slot;
    char **joined; /* owned: lists read as strings by cfg_str */
    size_t n_joined;
    struct qts_plugin_origin origin;
    uint64_t gen;
    void *self;
    enum qts_plugin_inst_state state;
    int refs;
    int in_call; /* host -> plugin calls on the stack (loop thread) */
    uint64_t dropped;
    uint64_t next_timer_id;
    struct inst_timer timers; /* sentinel */
    size_t n_timers;
    struct inst_http reqs; /* sentinel */
    size_t n_reqs;
    /* post: the only state touched from other threads, under `mu` */
    pthread_mutex_t mu;
    struct post_item *post_head, **post_tail;
    bool is_post_open;
    uv_async_t async;
    bool is_async_open;
    pthread_t loop_thread; /* the thread that created the instance */
    qts_plugin_inst_fn on_destroyed;
    void *on_destroyed_arg;
};

static const struct qts_host_api g_api;

/* ------------------------------------------------------------ refcounting */

static void inst_ref(struct qts_plugin_inst *inst)
{
    QTS_ASSERT(inst->state != QTS_INST_DESTROYED);
    __atomic_add_fetch(&inst->refs, 1, __ATOMIC_SEQ_CST);
}

static void inst_unref(struct qts_plugin_inst *inst)
{
    int left = __atomic_sub_fetch(&inst->refs, 1, __ATOMIC_SEQ_CST);
    QTS_ASSERT(left >= 0);
    if (left > 0)
        return;
    /* drained: nothing can reach plugin code any more except destroy */
    if (inst->self)
        inst->desc->destroy(inst->self);
    inst->self = NULL;
    inst->state = QTS_INST_DESTROYED;
    QTS_DEBUG("plugin destroyed slot=%s name=%s gen=%llu", inst->slot, inst->lib->name,
              (unsigned long long)inst->gen);
    if (inst->on_destroyed)
        inst->on_destroyed(inst->on_destroyed_arg, inst);
}

/* Every host -> plugin call is bracketed by call_begin/call_end: the
 * reference keeps the instance alive, the depth tells the manager that
 * plugin code is on the stack (no reload from inside a plugin callback). */
static void call_begin(struct qts_plugin_inst *inst)
{
    inst_ref(inst);
    inst->in_call++;
}

static void call_end(struct qts_plugin_inst *inst)
{
    inst->in_call--;
    inst_unref(inst);
}

void qts_plugin_inst_enter(struct qts_plugin_inst *inst) { call_begin(inst); }

void qts_plugin_inst_leave(struct qts_plugin_inst *inst) { call_end(inst); }

int qts_plugin_inst_in_call(const struct qts_plugin_inst *inst) { return inst->in_call; }

/* ------------------------------------------------------------------- post */

static void on_async_closed(uv_handle_t *h) { inst_unref(h->data); }

static void maybe_close_async(struct qts_plugin_inst *inst)
{
    if (!inst->is_async_open || inst->state < QTS_INST_STOPPED)
        return;
    pthread_mutex_lock(&inst->mu);
    bool is_empty = inst->post_head == NULL;
    pthread_mutex_unlock(&inst->mu);
    if (!is_empty)
        return;
    inst->is_async_open = false;
    uv_close((uv_handle_t *)&inst->async, on_async_closed);
}

static void on_async(uv_async_t *h)
{
    struct qts_plugin_inst *inst = h->data;
    pthread_mutex_lock(&inst->mu);
    struct post_item *it = inst->post_head;
    inst->post_head = NULL;
    inst->post_tail = &inst->post_head;
    pthread_mutex_unlock(&inst->mu);
    while (it) {
        struct post_item *next = it->next;
        call_begin(inst);
        it->fn(it->arg);
        call_end(inst);
        free(it);
        inst_unref(inst); /* the post's own reference */
        it = next;
    }
    maybe_close_async(inst);
}

static int api_post(void *owner, qts_post_fn fn, void *arg)
{
    struct qts_plugin_inst *inst = owner;
    if (!fn)
        return QTS_EINVAL;
    /* threads must be declared: the host relies on stop() joining them */
    if (!(inst->desc->caps & QTS_CAP_THREADS) && !pthread_equal(pthread_self(), inst->loop_thread))
        return QTS_EPERM;
    struct post_item *it = malloc(sizeof *it);
    if (!it)
        return QTS_ENOMEM;
    it->next = NULL;
    it->fn = fn;
    it->arg = arg;
    pthread_mutex_lock(&inst->mu);
    if (!inst->is_post_open) {
        pthread_mutex_unlock(&inst->mu);
        free(it);
        return QTS_ECLOSED;
    }
    /* the queued item holds a reference (refs is atomic for this call) */
    *inst->post_tail = it;
    inst->post_tail = &it->next;
    __atomic_add_fetch(&inst->refs, 1, __ATOMIC_SEQ_CST);
    uv_async_send(&inst->async);
    pthread_mutex_unlock(&inst->mu);
    return 0;
}

/* ----------------------------------------------------------------- timers */

/* Services that touch the loop's handles answer only on the loop thread
 * (a store plugin runs on the store writer thread). */
static bool on_loop(const struct qts_plugin_inst *inst)
{
    return pthread_equal(pthread_self(), inst->loop_thread);
}

static void on_timer_closed(uv_handle_t *h)
{
    struct inst_timer *t = h->data;
    struct qts_plugin_inst *inst = t->inst;
    free(t);
    inst_unref(inst);
}

static void timer_close(struct inst_timer *t)
{
    if (t->is_closing)
        return;
    t->is_closing = true;
    t->prev->next = t->next;
    t->next->prev = t->prev;
    t->inst->n_timers--;
    if (t->inst->env->timers) {
        qts_timer_svc_stop(t->inst->env->timers, t->svc_id);
        struct qts_plugin_inst *inst = t->inst;
        free(t);
        inst_unref(inst);
        return;
    }
    uv_timer_stop(&t->t);
    uv_close((uv_handle_t *)&t->t, on_timer_closed);
}

/* Timer-service variant (replay: virtual time). */
static void on_svc_timer(void *arg)
{
    struct inst_timer *t = arg;
    struct qts_plugin_inst *inst = t->inst;
    t->svc_id = 0;
    inst_ref(inst);
    t->cb(t->arg);
    if (!t->is_closing) {
        if (t->is_repeat)
            qts_timer_svc_start(inst->env->timers, (int64_t)t->repeat_ms * 1000000LL, on_svc_timer,
                                t, &t->svc_id);
        else
            timer_close(t);
    }
    inst_unref(inst);
}

static void on_timer(uv_timer_t *h)
{
    struct inst_timer *t = h->data;
    struct qts_plugin_inst *inst = t->inst;
    call_begin(inst);
    t->cb(t->arg);
    if (!t->is_repeat)
        timer_close(t); /* one-shot: the handle is done */
    call_end(inst);
}

static int api_timer_start(void *owner, uint64_t timeout_ms, uint64_t repeat_ms, qts_timer_fn cb,
                           void *arg, uint64_t *timer_id)
{
    struct qts_plugin_inst *inst = owner;
    if (!cb)
        return QTS_EINVAL;
    if (!on_loop(inst))
        return QTS_EPERM; /* timers live on the loop: post() there first */
    if (inst->state >= QTS_INST_STOPPED)
        return QTS_ECLOSED;
    if (inst->state < QTS_INST_RUNNING)
        return QTS_ESTATE; /* init does no I/O: timers start in start() */
    struct inst_timer *t = qts_xcalloc(1, sizeof *t);
    t->inst = inst;
    t->id = ++inst->next_timer_id;
    t->cb = cb;
    t->arg = arg;
    t->is_repeat = repeat_ms > 0;
    if (!inst->env->timers) {
        uv_timer_init(inst->env->loop, &t->t);
        t->t.data = t;
    }
    t->next = &inst->timers;
    t->prev = inst->timers.prev;
    inst->timers.prev->next = t;
    inst->timers.prev = t;
    inst->n_timers++;
    inst_ref(inst);
    if (inst->env->timers) {
        t->repeat_ms = repeat_ms;
        qts_timer_svc_start(inst->env->timers, (int64_t)timeout_ms * 1000000LL, on_svc_timer, t,
                            &t->svc_id);
        if (timer_id)
            *timer_id = t->id;
        return 0;
    }
    uv_timer_start(&t->t, on_timer, timeout_ms, repeat_ms);
    if (timer_id)
        *timer_id = t->id;
    return 0;
}

static int api_timer_stop(void *owner, uint64_t timer_id)
{
    struct qts_plugin_inst *inst = owner;
    if (!on_loop(inst))
        return QTS_EPERM;
    for (struct inst_timer *t = inst->timers.next; t != &inst->timers; t = t->next) {
        if (t->id == timer_id) {
            timer_close(t);
            return 0;
        }
    }
    return QTS_ENOENT;
}

/* ------------------------------------------------------------------- http */

static void on_http_done(void *arg, const struct qts_http_response *resp)
{
    struct inst_http *w = arg;
    struct qts_plugin_inst *inst = w->inst;
    w->prev->next = w->next;
    w->next->prev = w->prev;
    inst->n_reqs--;
    call_begin(inst);
    w->cb(w->arg, resp);
    call_end(inst);
    free(w);
    inst_unref(inst); /* the request's reference */
}

static int api_http_request(void *owner, const struct qts_http_request *req, qts_http_fn cb,
                            void *arg, uint64_t *req_id)
{
    struct qts_plugin_inst *inst = owner;
    if (inst->state >= QTS_INST_STOPPED)
        return QTS_ECLOSED;
    if (inst->state < QTS_INST_RUNNING)
        return QTS_ESTATE; /* init does no I/O */
    if (!inst->env->http)
        return QTS_EUNSUPPORTED;
    struct inst_http *w = qts_xcalloc(1, sizeof *w);
    w->inst = inst;
    w->cb = cb;
    w->arg = arg;
    struct qts_err err;
    int rc = qts_http_request(inst->env->http, req, on_http_done, w, &w->id, &err);
    if (rc) {
        free(w);
        QTS_WARN("plugin http request refused plugin=%s: %s", inst->lib->name, err.msg);
        return rc;
    }
    w->next = &inst->reqs;
    w->prev = inst->reqs.prev;
    inst->reqs.prev->next = w;
    inst->reqs.prev = w;
    inst->n_reqs++;
    inst_ref(inst);
    if (req_id)
        *req_id = w->id;
    return 0;
}

static int api_http_cancel(void *owner, uint64_t req_id)
{
    struct qts_plugin_inst *inst = owner;
    for (struct inst_http *w = inst->reqs.next; w != &inst->reqs; w = w->next)
        if (w->id == req_id)
            return qts_http_cancel(inst->env->http, req_id);
    return QTS_ENOENT;
}

/* ------------------------------------------------------------- raw loop */

static void *api_uv_loop(void *owner)
{
    struct qts_plugin_inst *inst = owner;
    return (inst->desc->caps & QTS_CAP_RAW_LOOP) ? inst->env->loop : NULL;
}

static void api_handle_ref(void *owner) { inst_ref(owner); }

static void api_handle_unref(void *owner) { inst_unref(owner); }

/* --------------------------------------------------------- simple services */

static void *api_alloc(void *owner, size_t n)
{
    (void)owner;
    return qts_xmalloc(n ? n : 1);
}

static void api_free(void *owner, void *p)
{
    (void)owner;
    free(p);
}

static void api_log(void *owner, int level, const char *fmt, ...)
{
    struct qts_plugin_inst *inst = owner;
    if (level < QTS_LOG_TRACE || level > QTS_LOG_FATAL)
        level = QTS_LOG_INFO;
    if (!qts_log_enabled(level))
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    qts_log(level, "%s plugin=%s slot=%s gen=%llu", msg, inst->lib->name, inst->slot,
            (unsigned long long)inst->gen);
}

static int64_t api_now_ns(void *owner)
{
    struct qts_plugin_inst *inst = owner;
    return inst->env->clock ? qts_clock_now(inst->env->clock) : qts_wall_ns();
}

static const struct qts_cfg_node *cfg_lookup(struct qts_plugin_inst *inst, const char *path)
{
    if (!inst->cfg || !path)
        return NULL;
    return qts_cfg_get(inst->cfg, path);
}

static int api_cfg_str(void *owner, const char *path, const char **out, struct qts_err *err)
{
    struct qts_plugin_inst *inst = owner;
    const struct qts_cfg_node *n = cfg_lookup(inst, path);
    if (!n)
        return qts_err_set(err, QTS_ENOENT, "%s: not set", path ? path : "(null)");
    const char *s = qts_cfg_str(n);
    if (!s && qts_cfg_type(n) == QTS_CFG_SEQ) {
        /* a YAML list of scalars reads as "a,b,c" (plugins document their
         * list-valued keys as comma-separated strings) */
        size_t len = 1;
        bool scalars = true;
        for (size_t i = 0; i < qts_cfg_len(n); i++) {
            const char *item = qts_cfg_str(qts_cfg_at(n, i));
            scalars = scalars && item;
            len += item ? strlen(item) + 1 : 0;
        }
        if (scalars) {
            char *buf = qts_xmalloc(len);
            buf[0] = '\0';
            for (size_t i = 0; i < qts_cfg_len(n); i++) {
                if (i)
                    strcat(buf, ",");
                strcat(buf, qts_cfg_str(qts_cfg_at(n, i)));
            }
            /* under the lock: a store plugin reads its config on its own thread */
            pthread_mutex_lock(&inst->mu);
            inst->joined = qts_xrealloc(inst->joined, (inst->n_joined + 1) * sizeof *inst->joined);
            inst->joined[inst->n_joined++] = buf;
            pthread_mutex_unlock(&inst->mu);
            *out = buf;
            return 0;
        }
    }
    if (!s) {
        const char *file;
        int line, col;
        qts_cfg_where(n, &file, &line, &col);
        return qts_err_set(err, QTS_ECONFIG, "%s:%d:%d: %s: expected a string", file, line, col,
                           path);
    }
    *out = s;
    return 0;
}

static int api_cfg_int(void *owner, const char *path, int64_t *out, struct qts_err *err)
{
    const struct qts_cfg_node *n = cfg_lookup(owner, path);
    if (!n)
        return qts_err_set(err, QTS_ENOENT, "%s: not set", path ? path : "(null)");
    return qts_cfg_int(n, out, err);
}

static int api_cfg_double(void *owner, const char *path, double *out, struct qts_err *err)
{
    struct qts_plugin_inst *inst = owner;
    const struct qts_cfg_node *n = cfg_lookup(inst, path);
    if (!n && path && inst->env->account_cash && strcmp(path, "initial_cash") == 0 &&
        strcmp(inst->slot, "broker") == 0) {
        *out = strtod(inst->env->account_cash, NULL); /* one starting cash: the account's */
        return 0;
    }
    if (!n)
        return qts_err_set(err, QTS_ENOENT, "%s: not set", path ? path : "(null)");
    return qts_cfg_double(n, out, err);
}

static int api_cfg_bool(void *owner, const char *path, bool *out, struct qts_err *err)
{
    const struct qts_cfg_node *n = cfg_lookup(owner, path);
    if (!n)
        return qts_err_set(err, QTS_ENOENT, "%s: not set", path ? path : "(null)");
    return qts_cfg_bool(n, out, err);
}

/* Secrets: secrets.h has the lookup rule. */
static int api_secret_get(void *owner, const char *name, char *buf, size_t cap, struct qts_err *err)
{
    struct qts_plugin_inst *inst = owner;
    return qts_secret_get(inst->env->secrets_dir, name, buf, cap, err);
}

static void metric_name(struct qts_plugin_inst *inst, const char *name, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s.%s", inst->lib->name, name ? name : "");
}

static void api_metric_add(void *owner, const char *name, int64_t delta)
{
    struct qts_plugin_inst *inst = owner;
    if (!inst->env->metrics)
        return;
    char full[256];
    metric_name(inst, name, full, sizeof full);
    qts_metrics_add(inst->env->metrics, full, delta);
}

static void api_metric_set(void *owner, const char *name, int64_t value)
{
    struct qts_plugin_inst *inst = owner;
    if (!inst->env->metrics)
        return;
    char full[256];
    metric_name(inst, name, full, sizeof full);
    qts_metrics_set(inst->env->metrics, full, value);
}

static int api_instrument_define(void *owner, const struct qts_instrument *in, uint32_t *id_out)
{
    struct qts_plugin_inst *inst = owner;
    const struct qts_event_sink *s = inst->env->sink;
    if (!s || !s->instrument_define)
        return QTS_EUNSUPPORTED;
    return s->instrument_define(s->ctx, in, id_out);
}

static const struct qts_instrument *api_instrument_find(void *owner, const char *symbol)
{
    struct qts_plugin_inst *inst = owner;
    const struct qts_event_sink *s = inst->env->sink;
    if (!s || !s->instrument_find)
        return NULL;
    return s->instrument_find(s->ctx, symbol);
}

/* ------------------------------------------------------------------ emits */

static int dropped(struct qts_plugin_inst *inst, int code)
{
    inst->dropped++;
    if (inst->env->metrics)
        qts_metrics_add(inst->env->metrics, "plugins.dropped_events", 1);
    return code;
}

static bool may_emit(struct qts_plugin_inst *inst)
{
    return inst->state == QTS_INST_RUNNING || inst->state == QTS_INST_STOPPING;
}

#define EMIT(fn_name, member, type)                       \
    static int fn_name(void *owner, const type *ev)       \
    {                                                     \
        struct qts_plugin_inst *inst = owner;             \
        const struct qts_event_sink *s = inst->env->sink; \
        if (!ev)                                          \
            return QTS_EINVAL;                            \
        if (!may_emit(inst))                              \
            return dropped(inst, QTS_ECLOSED);            \
        if (!s || !s->member)                             \
            return dropped(inst, QTS_EUNSUPPORTED);       \
        return s->member(s->ctx, &inst->origin, ev);      \
    }
EMIT(api_emit_trade, trade, struct qts_trade)
EMIT(api_emit_quote, quote, struct qts_quote)
EMIT(api_emit_book, book, struct qts_book_update)
EMIT(api_emit_bar, bar, struct qts_bar)
EMIT(api_emit_exec_report, exec_report, struct qts_exec_report)
EMIT(api_emit_position, position, struct qts_broker_position)
EMIT(api_emit_buying_power, buying_power, struct qts_buying_power)
#undef EMIT

static int api_emit_query_done(void *owner, uint64_t req_id, int status)
{
    struct qts_plugin_inst *inst = owner;
    const struct qts_event_sink *s = inst->env->sink;
    if (!may_emit(inst))
        return dropped(inst, QTS_ECLOSED);
    if (!s || !s->query_done)
        return dropped(inst, QTS_EUNSUPPORTED);
    return s->query_done(s->ctx, &inst->origin, req_id, status);
}

static const struct qts_host_api g_api = {.struct_size = sizeof(struct qts_host_api),
                                          .abi_major = QTS_ABI_MAJOR,
                                          .abi_minor = QTS_ABI_MINOR,
                                          .alloc = api_alloc,
                                          .free = api_free,
                                          .log = api_log,
                                          .now_ns = api_now_ns,
                                          .timer_start = api_timer_start,
                                          .timer_stop = api_timer_stop,
                                          .post = api_post,
                                          .cfg_str = api_cfg_str,
                                          .cfg_int = api_cfg_int,
                                          .cfg_double = api_cfg_double,
                                          .cfg_bool = api_cfg_bool,
                                          .secret_get = api_secret_get,
                                          .metric_add = api_metric_add,
                                          .metric_set = api_metric_set,
                                          .instrument_define = api_instrument_define,
                                          .instrument_find = api_instrument_find,
                                          .emit_trade = api_emit_trade,
                                          .emit_quote = api_emit_quote,
                                          .emit_book = api_emit_book,
                                          .emit_bar = api_emit_bar,
                                          .emit_exec_report = api_emit_exec_report,
                                          .emit_position = api_emit_position,
                                          .emit_query_done = api_emit_query_done,
                                          .http_request = api_http_request,
                                          .http_cancel = api_http_cancel,
                                          .uv_loop = api_uv_loop,
                                          .handle_ref = api_handle_ref,
                                          .handle_unref = api_handle_unref,
                                          .emit_buying_power = api_emit_buying_power};

const struct qts_host_api *qts_plugin_host_api(void) { return &g_api; }

/* -------------------------------------------------------------- lifecycle */

struct qts_plugin_inst *qts_plugin_inst_new(const struct qts_plugin_env *env,
                                            struct qts_plugin_lib *lib, const char *slot,
                                            uint64_t gen, const struct qts_cfg_node *cfg)
{
    struct qts_plugin_inst *inst = qts_xcalloc(1, sizeof *inst);
    inst->env = env;
    inst->lib = lib;
    inst->desc = &lib->desc;
    inst->cfg = cfg;
    inst->slot = qts_xstrdup(slot);
    inst->gen = gen;
    inst->origin.slot = inst->slot;
    inst->origin.plugin = lib->name;
    inst->origin.gen = gen;
    inst->timers.next = inst->timers.prev = &inst->timers;
    inst->reqs.next = inst->reqs.prev = &inst->reqs;
    pthread_mutex_init(&inst->mu, NULL);
    inst->post_tail = &inst->post_head;
    inst->loop_thread = pthread_self();
    inst->refs = 1; /* life: dropped when stop returns 0 or on abort */
    return inst;
}

void qts_plugin_inst_on_destroyed(struct qts_plugin_inst *inst, qts_plugin_inst_fn cb, void *arg)
{
    inst->on_destroyed = cb;
    inst->on_destroyed_arg = arg;
}

void qts_plugin_inst_free(struct qts_plugin_inst *inst)
{
    if (!inst)
        return;
    QTS_ASSERT(inst->state == QTS_INST_NEW || inst->state == QTS_INST_DESTROYED);
    pthread_mutex_destroy(&inst->mu);
    for (size_t i = 0; i < inst->n_joined; i++)
        free(inst->joined[i]);
    free(inst->joined);
    free(inst->slot);
    free(inst);
}

int qts_plugin_inst_init(struct qts_plugin_inst *inst, struct qts_err *err)
{
    QTS_ASSERT(inst->state == QTS_INST_NEW);
    /* the post handle exists from init on: a plugin may start threads in start */
    uv_async_init(inst->env->loop, &inst->async, on_async);
    inst->async.data = inst;
    /* an idle post channel must not keep the loop running */
    uv_unref((uv_handle_t *)&inst->async);
    inst->is_async_open = true;
    inst_ref(inst); /* the async handle */
    inst->is_post_open = true;
    inst->state = QTS_INST_READY;
    struct qts_err perr;
    qts_err_clear(&perr);
    call_begin(inst);
    int rc = inst->desc->init(qts_plugin_host_api(), inst, &inst->self, &perr);
    call_end(inst);
    if (rc) {
        return qts_err_set(err, rc < 0 ? rc : QTS_EINVAL, "plugin %s (%s): init failed: %s",
                           inst->lib->name, inst->lib->path,
                           perr.msg[0] ? perr.msg : qts_strerror(rc));
    }
    return 0;
}

int qts_plugin_inst_start(struct qts_plugin_inst *inst, struct qts_err *err)
{
    QTS_ASSERT(inst->state == QTS_INST_READY);
    inst->state = QTS_INST_RUNNING;
    struct qts_err perr;
    qts_err_clear(&perr);
    call_begin(inst);
    int rc = inst->desc->start(inst->self, &perr);
    call_end(inst);
    if (rc)
        return qts_err_set(err, rc < 0 ? rc : QTS_EINVAL, "plugin %s (%s): start failed: %s",
                           inst->lib->name, inst->lib->path,
                           perr.msg[0] ? perr.msg : qts_strerror(rc));
    return 0;
}

/* After stop returned 0 (or abort): cancel what the plugin left behind and
 * drop the life reference. Destroy follows when the count reaches zero. */
static void finalize(struct qts_plugin_inst *inst)
{
    inst->state = QTS_INST_STOPPED;
    pthread_mutex_lock(&inst->mu);
    inst->is_post_open = false;
    pthread_mutex_unlock(&inst->mu);
    while (inst->timers.next != &inst->timers)
        timer_close(inst->timers.next);
    /* cancelled callbacks arrive on a later turn, each exactly once */
    for (struct inst_http *w = inst->reqs.next; w != &inst->reqs; w = w->next)
        qts_http_cancel(inst->env->http, w->id);
    if (inst->is_async_open)
        maybe_close_async(inst);
    inst_unref(inst); /* life */
}

int qts_plugin_inst_stop(struct qts_plugin_inst *inst)
{
    QTS_ASSERT(inst->state == QTS_INST_RUNNING || inst->state == QTS_INST_STOPPING);
    call_begin(inst);
    int rc = inst->desc->stop(inst->self);
    inst->in_call--;
    if (rc == QTS_EAGAIN) {
        inst->state = QTS_INST_STOPPING;
        inst_unref(inst);
        return QTS_EAGAIN;
    }
    if (rc != 0)
        QTS_WARN("plugin stop failed slot=%s name=%s gen=%llu rc=%s; treating as stopped",
                 inst->slot, inst->lib->name, (unsigned long long)inst->gen, qts_err_name(rc));
    finalize(inst);
    inst_unref(inst);
    return 0;
}

void qts_plugin_inst_abort(struct qts_plugin_inst *inst)
{
    QTS_ASSERT(inst->state < QTS_INST_STOPPED);
    if (inst->state == QTS_INST_NEW) {
        /* init never ran: no handle, no plugin object */
        inst->state = QTS_INST_STOPPED;
        inst_unref(inst);
        return;
    }
    finalize(inst);
}

struct buf_impl {
    struct qts_buf pub;
    char *p;
    size_t n, cap;
};

static int buf_append(struct qts_buf *b, const void *p, size_t n)
{
    struct buf_impl *bi = (struct buf_impl *)b;
    if (n > SIZE_MAX / 2 - bi->n)
        return QTS_ERANGE;
    if (bi->n + n > bi->cap) {
        size_t cap = bi->cap ? bi->cap : 256;
        while (cap < bi->n + n)
            cap *= 2;
        bi->p = qts_xrealloc(bi->p, cap);
        bi->cap = cap;
    }
    if (n)
        memcpy(bi->p + bi->n, p, n);
    bi->n += n;
    return 0;
}

int qts_plugin_inst_export(struct qts_plugin_inst *inst, char **out, size_t *n, struct qts_err *err)
{
    *out = NULL;
    *n = 0;
    if (!inst->desc->export_state)
        return qts_err_set(err, QTS_EUNSUPPORTED, "plugin %s: no export_state", inst->lib->name);
    struct buf_impl b = {.pub = {.struct_size = sizeof b.pub, .append = buf_append}};
    b.pub.host_private = &b;
    call_begin(inst);
    int rc = inst->desc->export_state(inst->self, &b.pub);
    call_end(inst);
    if (rc) {
        free(b.p);
        return qts_err_set(err, rc < 0 ? rc : QTS_EINVAL, "plugin %s gen=%llu: export_state: %s",
                           inst->lib->name, (unsigned long long)inst->gen, qts_strerror(rc));
    }
    *out = b.p;
    *n = b.n;
    return 0;
}

int qts_plugin_inst_import(struct qts_plugin_inst *inst, const void *p, size_t n,
                           struct qts_err *err)
{
    if (!inst->desc->import_state)
        return qts_err_set(err, QTS_EUNSUPPORTED, "plugin %s: no import_state", inst->lib->name);
    call_begin(inst);
    int rc = inst->desc->import_state(inst->self, p ? p : "", n);
    call_end(inst);
    if (rc)
        return qts_err_set(err, rc < 0 ? rc : QTS_EINVAL, "plugin %s gen=%llu: import_state: %s",
                           inst->lib->name, (unsigned long long)inst->gen, qts_strerror(rc));
    return 0;
}

/* ------------------------------------------------------------- accessors */

enum qts_plugin_inst_state qts_plugin_inst_state(const struct qts_plugin_inst *inst)
{
    return inst->state;
}
void *qts_plugin_inst_self(const struct qts_plugin_inst *inst) { return inst->self; }
struct qts_plugin_lib *qts_plugin_inst_lib(const struct qts_plugin_inst *inst) { return inst->lib; }
const struct qts_plugin_desc *qts_plugin_inst_desc(const struct qts_plugin_inst *inst)
{
    return inst->desc;
}
const char *qts_plugin_inst_slot(const struct qts_plugin_inst *inst) { return inst->slot; }
uint64_t qts_plugin_inst_gen(const struct qts_plugin_inst *inst) { return inst->gen; }
int qts_plugin_inst_refs(const struct qts_plugin_inst *inst)
{
    return __atomic_load_n(&inst->refs, __ATOMIC_SEQ_CST);
}
uint64_t qts_plugin_inst_dropped(const struct qts_plugin_inst *inst) { return inst->dropped; }
size_t qts_plugin_inst_timers(const struct qts_plugin_inst *inst) { return inst->n_timers; }
size_t qts_plugin_inst_http(const struct qts_plugin_inst *inst) { return inst->n_reqs; }
