/* risk_control.c — risk and safety wiring (risk_control.h). */
#include "risk_control.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "admin_socket.h"
#include "log.h"
#include "safety_persist.h"
#include "util.h"
#include "watchdog.h"

#define MS INT64_C(1000000)

struct uvpart {
    uv_timer_t beat, kill_poll;
    struct qts_risk_control *h; /* cleared on free */
    int open;
};

struct qts_risk_control {
    struct qts_risk_control_env env;
    struct qts_safety_cfg scfg;
    char mode[16];
    char kill_file[1024];
    struct qts_safety *safety;
    struct qts_safety_persist *persist;
    struct qts_precheck_risk *pre;
    struct qts_risk_loop *rl;
    struct qts_watchdog *wd;
    struct qts_watch *core;
    struct qts_admin *admin;
    struct qts_admin_handlers ah; /* the socket's commands, also for qts_risk_control_admin */
    struct uvpart *uv;
};

/* ------------------------------------------------------------- admin */

static int h_status(void *ctx, char *out, size_t cap)
{
    return qts_risk_control_status_json(ctx, out, cap) >= 0 ? 0 : QTS_EIO;
}

static int h_kill(void *ctx, const char *who, const char *reason, char *out, size_t cap)
{
    size_t n = qts_risk_control_kill(ctx, who, reason);
    snprintf(out, cap, "{\"orders\":%zu}", n);
    return 0;
}

static int h_resume(void *ctx, const char *who, const char *reason, char *out, size_t cap)
{
    struct qts_risk_control *h = ctx;
    struct qts_err err;
    qts_err_clear(&err);
    int rc = qts_safety_recover(h->safety, true, who, reason, &err);
    qts_risk_loop_touch(h->rl); /* a released lockdown ends the loop's kill latch */
    if (rc < 0) {
        snprintf(out, cap, "%s", err.msg);
        return rc;
    }
    snprintf(out, cap, "{\"state\":\"%s\"}", qts_safety_state_name(rc));
    return 0;
}

static int h_reload(void *ctx, const char *what, char *out, size_t cap)
{
    struct qts_risk_control *h = ctx;
    if (!h->env.reload) {
        snprintf(out, cap, "reload is not supported by this host");
        return QTS_EUNSUPPORTED;
    }
    return h->env.reload(h->env.ctx, what, out, cap);
}

static int h_subscribe(void *ctx, const char *symbol, bool on, char *out, size_t cap)
{
    struct qts_risk_control *h = ctx;
    if (!h->env.subscribe) {
        snprintf(out, cap, "subscribe is not supported by this host");
        return QTS_EUNSUPPORTED;
    }
    return h->env.subscribe(h->env.ctx, symbol, on, out, cap);
}

/* ----------------------------------------------------------- timers */

static void uv_closed(uv_handle_t *hd)
{
    struct uvpart *u = hd->data;
    if (--u->open == 0)
        free(u);
}

static void on_beat(uv_timer_t *t)
{
    struct uvpart *u = t->data;
    if (u->h)
        qts_watchdog_beat(u->h->core);
}

static void on_kill_poll(uv_timer_t *t)
{
    struct uvpart *u = t->data;
    struct qts_risk_control *h = u->h;
    if (h && qts_safety_kill_file_poll(h->safety, h->kill_file))
        qts_risk_control_kill(h, "file", "kill-switch file");
}

static void wd_raise(void *ctx, int code, const char *msg)
{
    qts_safety_raise(ctx, code, msg); /* thread-safe: works while the core loop is stuck */
}

/* --------------------------------------------------------------- new */

/* settings->risk plus every strategy's `risk:` map, validated. */
static int build_limits(const struct qts_risk_control_env *env, const struct qts_risk_settings *s,
                        struct qts_risk_limit_set *lim, struct qts_err *err)
{
    qts_risk_limit_set_init(lim);
    lim->global = *s->limits;
    int rc = qts_risk_limits_validate(&lim->global, err);
    for (size_t i = 0; rc == 0 && i < s->n_strategies; i++) {
        const char *name = NULL;
        const struct qts_cfg_node *risk = s->strategy_risk(s->src, i, &name);
        if (!risk)
            continue;
        int64_t id = env->strategy_id ? env->strategy_id(env->ctx, name) : -1;
        if (id < 0 || id > UINT32_MAX)
            return qts_err_set(err, QTS_ECONFIG, "strategies: %s has risk overrides but no id",
                               name);
        struct qts_risk_limits o = lim->global;
        rc = qts_risk_limits_apply_map(&o, risk, err);
        if (rc == 0)
            rc = qts_risk_limit_set_override(lim, (uint32_t)id, &o);
        if (rc != 0)
            QTS_ERROR("strategy %s: risk overrides rejected", name);
    }
    return rc;
}

int qts_risk_control_new(const struct qts_risk_control_env *env, struct qts_risk_control **out,
                         struct qts_err *err)
{
    *out = NULL;
    const struct qts_risk_settings *s = env->settings;
    if (!s || !env->exec || !env->timers)
        return qts_err_set(err, QTS_EINVAL, "risk host: settings, exec and timers needed");
    char why[512];
    const char *mode = s->mode;
    if (qts_safety_live_guard(mode, env->broker_env, env->live_ack, why, sizeof why) != 0)
        return qts_err_set(err, QTS_EPERM, "refusing to start: %s", why);

    struct qts_risk_limit_set *lim = qts_xcalloc(1, sizeof *lim);
    int rc = build_limits(env, s, lim, err);
    if (rc != 0) {
        free(lim);
        return rc;
    }

    struct qts_risk_control *h = qts_xcalloc(1, sizeof *h);
    h->env = *env;
    h->env.settings = NULL; /* not kept */
    h->scfg = *s->safety;
    qts_strlcpy(h->mode, mode, sizeof h->mode);
    snprintf(h->kill_file, sizeof h->kill_file, "%s/%s", s->var_dir ? s->var_dir : ".",
             QTS_KILL_FILE_NAME);
    h->safety = qts_safety_new(NULL);
    /* latches from the last run first: nothing may trade before they hold */
    h->persist =
        qts_safety_persist_open(h->safety, s->var_dir, env->loop, env->safety_saved, env->ctx);
    h->pre = qts_precheck_risk_new(lim, h->safety, &env->book);
    rc = qts_precheck_risk_install(h->pre, env->exec);
    struct qts_risk_loop_env renv = {.timers = env->timers,
                                     .exec = env->exec,
                                     .safety = h->safety,
                                     .pre = h->pre,
                                     .positions = env->positions,
                                     .equity = env->equity,
                                     .instrument = env->instrument,
                                     .ctx = env->ctx,
                                     .skip_idle = env->is_replay};
    h->rl = qts_risk_loop_new(lim, &renv);
    free(lim);
    if (rc == 0)
        rc = qts_risk_loop_start(h->rl);
    if (rc != 0) {
        qts_err_set(err, rc, "risk host: cannot install the pre-trade hook or start the loop");
        qts_risk_control_free(h);
        return rc;
    }
    h->wd = qts_watchdog_new(wd_raise, h->safety);
    h->core = qts_watchdog_add(h->wd, "core", h->scfg.core_warn_ms, QTS_SC_AN040,
                               h->scfg.core_stall_ms, QTS_SC_FS060);
    if (env->loop) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", s->var_dir ? s->var_dir : ".", QTS_ADMIN_SOCKET_NAME);
        h->ah = (struct qts_admin_handlers){.status = h_status,
                                            .kill = h_kill,
                                            .resume = h_resume,
                                            .reload = h_reload,
                                            .subscribe = h_subscribe,
                                            .ctx = h};
        rc = qts_admin_open(env->loop, path, &h->ah, &h->admin, err);
        if (rc != 0) {
            qts_risk_control_free(h);
            return rc;
        }
        h->uv = qts_xcalloc(1, sizeof *h->uv);
        h->uv->h = h;
        uv_timer_init(env->loop, &h->uv->beat);
        uv_timer_init(env->loop, &h->uv->kill_poll);
        h->uv->beat.data = h->uv->kill_poll.data = h->uv;
        h->uv->open = 2;
        uv_timer_start(&h->uv->beat, on_beat, 100, 100);
        uv_timer_start(&h->uv->kill_poll, on_kill_poll, 1000, 1000);
        /* the loop's own handles must not keep a replay alive */
        uv_unref((uv_handle_t *)&h->uv->beat);
        uv_unref((uv_handle_t *)&h->uv->kill_poll);
        qts_watchdog_beat(h->core);
        if (!env->is_replay)
            qts_watchdog_start(h->wd, h->scfg.watchdog_interval_ms);
    }
    QTS_INFO("risk host ready mode=%s loop_period_ms=%lld overrides=%u", h->mode,
             (long long)s->limits->loop_period_ms, qts_precheck_risk_limits(h->pre)->n_over);
    *out = h;
    return 0;
}

void qts_risk_control_free(struct qts_risk_control *h)
{
    if (!h)
        return;
    if (h->wd) {
        qts_watchdog_stop(h->wd);
        qts_watchdog_free(h->wd);
    }
    if (h->admin)
        qts_admin_close(h->admin);
    if (h->uv) {
        h->uv->h = NULL;
        uv_close((uv_handle_t *)&h->uv->beat, uv_closed);
        uv_close((uv_handle_t *)&h->uv->kill_poll, uv_closed);
    }
    qts_risk_loop_free(h->rl);
    qts_precheck_risk_free(h->pre);
    qts_safety_persist_close(h->persist);
    qts_safety_free(h->safety);
    free(h);
}

/* ------------------------------------------------------------- calls */

void qts_risk_control_on_price(struct qts_risk_control *h, uint32_t instrument, int64_t px)
{
    qts_risk_loop_on_price(h->rl, instrument, px, qts_timer_svc_now(h->env.timers));
}

void qts_risk_control_on_bar(struct qts_risk_control *h, uint32_t instrument, int64_t close,
                             int64_t period_ns)
{
    qts_risk_loop_on_bar(h->rl, instrument, close, period_ns, qts_timer_svc_now(h->env.timers));
}

void qts_risk_control_touch(struct qts_risk_control *h) { qts_risk_loop_touch(h->rl); }

void qts_risk_control_on_exec_safety(struct qts_risk_control *h, int code, const char *msg)
{
    qts_risk_loop_touch(h->rl);
    if (qts_safety_raise(h->safety, code, msg) < 0)
        QTS_WARN("unknown safety code %d from execution: %s", code, msg);
}

int qts_risk_control_reload(struct qts_risk_control *h, const struct qts_risk_settings *settings,
                            struct qts_err *err)
{
    struct qts_risk_limit_set *lim = qts_xcalloc(1, sizeof *lim);
    int rc = build_limits(&h->env, settings, lim, err);
    if (rc == 0) {
        qts_precheck_risk_set_limits(h->pre, lim);
        qts_risk_loop_set_limits(h->rl, lim);
        h->scfg = *settings->safety;
        QTS_INFO("risk limits reloaded overrides=%u", lim->n_over);
    }
    free(lim);
    return rc;
}

int qts_risk_control_cancel_allowed(struct qts_risk_control *h, uint32_t strategy_id,
                                    struct qts_precheck_reject *rej)
{
    return qts_precheck_risk_cancel(h->pre, strategy_id, qts_timer_svc_now(h->env.timers), rej);
}

size_t qts_risk_control_kill(struct qts_risk_control *h, const char *who, const char *reason)
{
    return qts_safety_kill_exec(h->safety, h->env.exec, h->scfg.kill_flatten, who, reason);
}

size_t qts_risk_control_stop_orders(struct qts_risk_control *h)
{
    return qts_safety_stop_orders(h->env.exec, &h->scfg);
}

void qts_risk_control_beat(struct qts_risk_control *h) { qts_watchdog_beat(h->core); }

struct qts_safety *qts_risk_control_safety(struct qts_risk_control *h) { return h->safety; }
struct qts_precheck_risk *qts_risk_control_precheck(struct qts_risk_control *h) { return h->pre; }
struct qts_risk_loop *qts_risk_control_loop(struct qts_risk_control *h) { return h->rl; }
struct qts_watchdog *qts_risk_control_watchdog(struct qts_risk_control *h) { return h->wd; }

void qts_risk_control_admin(struct qts_risk_control *h, const char *peer, const char *line,
                            char *out, size_t cap)
{
    if (!h->admin) {
        snprintf(out, cap, "{\"ok\":false,\"error\":\"no admin commands in this host\"}");
        return;
    }
    qts_admin_handle_line(&h->ah, peer, line, out, cap);
}

int qts_risk_control_status_json(struct qts_risk_control *h, char *buf, size_t cap)
{
    enum { PART = 16384, EXTRA = 3 * PART }; /* the extra: positions and orders lists */
    char *sj = qts_xmalloc(PART), *rj = qts_xmalloc(PART), *lj = qts_xmalloc(PART),
         *xj = qts_xmalloc(PART), *ej = qts_xmalloc(EXTRA);
    qts_safety_status_json(h->safety, sj, PART);
    qts_precheck_risk_usage_json(h->pre, rj, PART);
    qts_risk_loop_status_json(h->rl, lj, PART);
    int xn = qts_exec_summary_json(h->env.exec, xj, PART);
    if (xn < 0 || xn >= PART)
        snprintf(xj, PART, "null"); /* truncated JSON would be invalid */
    ej[0] = '\0';
    if (h->env.status_extra && h->env.status_extra(h->env.ctx, ej + 1, EXTRA - 1) > 0)
        ej[0] = ',';
    int n =
        snprintf(buf, cap,
                 "{\"mode\":\"%s\",\"safety\":%s,\"risk\":%s,\"risk_loop\":%s,"
                 "\"working_orders\":%zu,\"exec\":%s%s}",
                 h->mode, sj, rj, lj, qts_oms_working_children(qts_exec_oms(h->env.exec)), xj, ej);
    free(sj);
    free(rj);
    free(lj);
    free(xj);
    free(ej);
    return n;
}
