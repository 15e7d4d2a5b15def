/* safety.c — safety state machine, kill switch, approvals, live guard. */
#include "safety.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "exec_pipeline.h"
#include "json.h"
#include "log.h"
#include "oms.h"
#include "qts/qts_plugin.h"
#include "util.h"

#define EVENT_RING 64

struct qts_safety {
    _Atomic int state;
    _Atomic bool kill;
    _Atomic bool trading_enabled;
    _Atomic int consecutive;
    const struct qts_clock *clock;
    pthread_mutex_t mu;
    struct qts_safety_listener listener;
    struct qts_safety_event ring[EVENT_RING];
    size_t n_events;               /* total ever; ring index = n % EVENT_RING */
    uint64_t raised[QTS_SC_COUNT]; /* raises per code, under mu */
    bool have_approval;
    struct qts_safety_approval approval;
    /* latch details, under mu: code, state_ts_ns, state_msg, kill_ts_ns,
     * kill_who, kill_reason (the other members live in the atomics above) */
    struct qts_safety_latch latch;
    /* the saver and the status notes; save_mu orders the saves */
    pthread_mutex_t save_mu;
    qts_safety_saver_fn saver;
    void *saver_ctx; /* borrowed */
    char source[320];
    char saved[320];
};

const char *qts_safety_state_name(int state)
{
    switch (state) {
    case QTS_SAFETY_NORMAL: return "NORMAL";
    case QTS_SAFETY_WARNING: return "WARNING";
    case QTS_SAFETY_FAIL: return "FAIL";
    case QTS_SAFETY_LOCKDOWN: return "LOCKDOWN";
    default: return "?";
    }
}

static int64_t now_ns(const struct qts_safety *s)
{
    return s->clock ? qts_clock_now(s->clock) : qts_wall_ns();
}

struct qts_safety *qts_safety_new(const struct qts_clock *clock)
{
    struct qts_safety *s = qts_xcalloc(1, sizeof *s);
    atomic_init(&s->state, QTS_SAFETY_NORMAL);
    atomic_init(&s->kill, false);
    atomic_init(&s->trading_enabled, true);
    atomic_init(&s->consecutive, 0);
    s->clock = clock;
    s->latch.code = -1;
    pthread_mutex_init(&s->mu, NULL);
    pthread_mutex_init(&s->save_mu, NULL);
    qts_strlcpy(s->source, "not persisted (no var_dir state file)", sizeof s->source);
    qts_strlcpy(s->saved, "never", sizeof s->saved);
    return s;
}

void qts_safety_free(struct qts_safety *s)
{
    if (!s)
        return;
    pthread_mutex_destroy(&s->mu);
    pthread_mutex_destroy(&s->save_mu);
    free(s);
}

void qts_safety_set_listener(struct qts_safety *s, const struct qts_safety_listener *l)
{
    pthread_mutex_lock(&s->mu);
    if (l)
        s->listener = *l;
    else
        memset(&s->listener, 0, sizeof s->listener);
    pthread_mutex_unlock(&s->mu);
}

int qts_safety_state(const struct qts_safety *s)
{
    return atomic_load_explicit(&s->state, memory_order_acquire);
}

bool qts_safety_kill_on(const struct qts_safety *s)
{
    return atomic_load_explicit(&s->kill, memory_order_acquire);
}

bool qts_safety_trading_enabled(const struct qts_safety *s)
{
    return atomic_load_explicit(&s->trading_enabled, memory_order_acquire);
}

uint64_t qts_safety_raised(struct qts_safety *s, int code)
{
    if (code < 0 || code >= QTS_SC_COUNT)
        return 0;
    pthread_mutex_lock(&s->mu);
    uint64_t n = s->raised[code];
    pthread_mutex_unlock(&s->mu);
    return n;
}

bool qts_safety_trading_allowed(const struct qts_safety *s)
{
    return qts_safety_state(s) <= QTS_SAFETY_WARNING && !qts_safety_kill_on(s) &&
           qts_safety_trading_enabled(s);
}

int qts_safety_consecutive_fails(const struct qts_safety *s)
{
    return atomic_load_explicit(&s->consecutive, memory_order_acquire);
}

/* Under the lock: append to the ring and return a copy for the listener. */
static void record(struct qts_safety *s, int code, int from, int to, const char *what,
                   const char *msg, struct qts_safety_event *copy)
{
    struct qts_safety_event *e = &s->ring[s->n_events % EVENT_RING];
    s->n_events++;
    memset(e, 0, sizeof *e);
    e->ts_ns = now_ns(s);
    e->code = code;
    e->from = (uint8_t)from;
    e->to = (uint8_t)to;
    qts_strlcpy(e->what, what, sizeof e->what);
    qts_strlcpy(e->msg, msg ? msg : "", sizeof e->msg);
    *copy = *e;
}

static void notify(struct qts_safety *s, const struct qts_safety_listener *l,
                   const struct qts_safety_event *ev)
{
    const char *cs = ev->code >= 0 ? qts_safety_code_str(ev->code) : "-";
    /* the one log line of a safety code: the exec pipeline and the bus
     * subscriber that hand it here do not log it again */
    int level = ev->to >= QTS_SAFETY_FAIL || ev->from != ev->to || strcmp(ev->what, "raise") == 0
                    ? QTS_LOG_WARN
                    : QTS_LOG_INFO;
    if (ev->from != ev->to)
        qts_log(level, "safety %s code=%s state=%s->%s msg=%s", ev->what, cs,
                qts_safety_state_name(ev->from), qts_safety_state_name(ev->to), ev->msg);
    else
        qts_log(level, "safety %s code=%s state=%s msg=%s", ev->what, cs,
                qts_safety_state_name(ev->to), ev->msg);
    (void)s;
    if (l->on_event)
        l->on_event(l->ctx, ev);
}

/* After a latch changed, outside mu: hand the newest latches to the saver.
 * save_mu keeps two threads' saves in order (the last one is the newest). */
static void save_latches(struct qts_safety *s)
{
    pthread_mutex_lock(&s->save_mu);
    if (s->saver) {
        struct qts_safety_latch l;
        qts_safety_latch_get(s, &l);
        s->saver(s->saver_ctx, &l);
    }
    pthread_mutex_unlock(&s->save_mu);
}

int qts_safety_raise(struct qts_safety *s, int code, const char *msg)
{
    const struct qts_safety_code_info *ci = qts_safety_code_info(code);
    if (!ci)
        return QTS_EINVAL;
    pthread_mutex_lock(&s->mu);
    int from = atomic_load(&s->state), to = from;
    switch (ci->effect) {
    case QTS_SE_TRIP: {
        int n = atomic_load(&s->consecutive) + 1;
        atomic_store(&s->consecutive, n);
        if (from == QTS_SAFETY_LOCKDOWN)
            to = QTS_SAFETY_LOCKDOWN; /* §9 #27: stays, only approval leaves */
        else if (code == QTS_SC_FS104 || code == QTS_SC_FS080)
            to = QTS_SAFETY_LOCKDOWN;
        else if (from == QTS_SAFETY_FAIL && n >= QTS_SAFETY_LOCKDOWN_THRESHOLD)
            to = QTS_SAFETY_LOCKDOWN;
        else
            to = QTS_SAFETY_FAIL;
        break;
    }
    case QTS_SE_WARN:
        if (from == QTS_SAFETY_NORMAL)
            to = QTS_SAFETY_WARNING;
        break;
    default: break; /* LIMIT and NOTICE never move the state */
    }
    bool trip = ci->effect == QTS_SE_TRIP;
    if (trip) {
        s->latch.code = code;
        s->latch.state_ts_ns = qts_wall_ns();
        qts_strlcpy(s->latch.state_msg, msg ? msg : "", sizeof s->latch.state_msg);
    }
    atomic_store_explicit(&s->state, to, memory_order_release);
    s->raised[code]++;
    struct qts_safety_event ev;
    record(s, code, from, to, "raise", msg, &ev);
    struct qts_safety_listener l = s->listener;
    pthread_mutex_unlock(&s->mu);
    notify(s, &l, &ev);
    if (trip)
        save_latches(s);
    return to;
}

int qts_safety_clear_warning(struct qts_safety *s)
{
    pthread_mutex_lock(&s->mu);
    int from = atomic_load(&s->state);
    if (from != QTS_SAFETY_WARNING) {
        pthread_mutex_unlock(&s->mu);
        return from;
    }
    atomic_store_explicit(&s->state, QTS_SAFETY_NORMAL, memory_order_release);
    struct qts_safety_event ev;
    record(s, -1, from, QTS_SAFETY_NORMAL, "clear", "warning condition cleared", &ev);
    struct qts_safety_listener l = s->listener;
    pthread_mutex_unlock(&s->mu);
    notify(s, &l, &ev);
    return QTS_SAFETY_NORMAL;
}

int qts_safety_recover(struct qts_safety *s, bool approved, const char *who, const char *reason,
                       struct qts_err *err)
{
    pthread_mutex_lock(&s->mu);
    int from = atomic_load(&s->state);
    bool named = who && who[0] && reason && reason[0];
    if (from == QTS_SAFETY_LOCKDOWN && !(approved && named)) {
        pthread_mutex_unlock(&s->mu);
        return qts_err_set(err, QTS_EPERM,
                           "LOCKDOWN is left only with an operator approval naming who and why");
    }
    char msg[160];
    snprintf(msg, sizeof msg, "%s by %s: %s", approved ? "approved" : "recovered",
             who && who[0] ? who : "-", reason && reason[0] ? reason : "-");
    int to = from == QTS_SAFETY_WARNING ? QTS_SAFETY_WARNING : QTS_SAFETY_NORMAL;
    if (from >= QTS_SAFETY_FAIL) {
        to = QTS_SAFETY_NORMAL;
        atomic_store(&s->consecutive, 0);
    }
    if (approved && named) {
        s->have_approval = true;
        s->approval.ts_ns = qts_wall_ns();
        s->approval.from = (uint8_t)from;
        qts_strlcpy(s->approval.who, who, sizeof s->approval.who);
        qts_strlcpy(s->approval.reason, reason, sizeof s->approval.reason);
        atomic_store_explicit(&s->kill, false, memory_order_release);
        s->latch.kill_ts_ns = s->approval.ts_ns;
    }
    if (from >= QTS_SAFETY_FAIL) {
        s->latch.code = -1;
        s->latch.state_ts_ns = qts_wall_ns();
        qts_strlcpy(s->latch.state_msg, msg, sizeof s->latch.state_msg);
    }
    atomic_store_explicit(&s->state, to, memory_order_release);
    struct qts_safety_event ev;
    record(s, -1, from, to, "recover", msg, &ev);
    struct qts_safety_listener l = s->listener;
    pthread_mutex_unlock(&s->mu);
    notify(s, &l, &ev);
    save_latches(s);
    return to;
}

bool qts_safety_last_approval(const struct qts_safety *s, struct qts_safety_approval *out)
{
    struct qts_safety *m = (struct qts_safety *)s; /* the mutex is not logical state */
    pthread_mutex_lock(&m->mu);
    bool have = m->have_approval;
    if (have && out)
        *out = m->approval;
    pthread_mutex_unlock(&m->mu);
    return have;
}

void qts_safety_set_kill(struct qts_safety *s, bool on, const char *who, const char *reason)
{
    pthread_mutex_lock(&s->mu);
    atomic_store_explicit(&s->kill, on, memory_order_release);
    s->latch.kill_ts_ns = qts_wall_ns();
    qts_strlcpy(s->latch.kill_who, who && who[0] ? who : "-", sizeof s->latch.kill_who);
    qts_strlcpy(s->latch.kill_reason, reason && reason[0] ? reason : "-",
                sizeof s->latch.kill_reason);
    int st = atomic_load(&s->state);
    char msg[160];
    snprintf(msg, sizeof msg, "by %s: %s", who && who[0] ? who : "-",
             reason && reason[0] ? reason : "-");
    struct qts_safety_event ev;
    record(s, -1, st, st, on ? "kill" : "unkill", msg, &ev);
    struct qts_safety_listener l = s->listener;
    pthread_mutex_unlock(&s->mu);
    notify(s, &l, &ev);
    save_latches(s);
}

void qts_safety_set_trading_enabled(struct qts_safety *s, bool on)
{
    atomic_store_explicit(&s->trading_enabled, on, memory_order_release);
}

size_t qts_safety_events(const struct qts_safety *s, struct qts_safety_event *out, size_t cap)
{
    struct qts_safety *m = (struct qts_safety *)s;
    pthread_mutex_lock(&m->mu);
    size_t have = m->n_events < EVENT_RING ? m->n_events : EVENT_RING;
    size_t n = have < cap ? have : cap;
    for (size_t i = 0; i < n; i++)
        out[i] = m->ring[(m->n_events - n + i) % EVENT_RING];
    pthread_mutex_unlock(&m->mu);
    return n;
}

int qts_safety_status_json(const struct qts_safety *s, char *buf, size_t cap)
{
    struct qts_safety_approval a;
    char appr[1024] = "null";
    if (qts_safety_last_approval(s, &a)) {
        char who[160], why[400];
        qts_json_escape(who, sizeof who, a.who);
        qts_json_escape(why, sizeof why, a.reason);
        snprintf(appr, sizeof appr,
                 "{\"who\":\"%s\",\"reason\":\"%s\",\"ts_ns\":%lld,\"from\":\"%s\"}", who, why,
                 (long long)a.ts_ns, qts_safety_state_name(a.from));
    }
    char src[700], saved[700];
    struct qts_safety *m = (struct qts_safety *)s; /* the mutex is not logical state */
    pthread_mutex_lock(&m->mu);
    qts_json_escape(src, sizeof src, m->source);
    qts_json_escape(saved, sizeof saved, m->saved);
    pthread_mutex_unlock(&m->mu);
    return snprintf(buf, cap,
                    "{\"state\":\"%s\",\"kill\":%s,\"trading_enabled\":%s,"
                    "\"trading_allowed\":%s,\"consecutive_fails\":%d,\"last_approval\":%s,"
                    "\"safety_source\":\"%s\",\"safety_saved\":\"%s\"}",
                    qts_safety_state_name(qts_safety_state(s)),
                    qts_safety_kill_on(s) ? "true" : "false",
                    qts_safety_trading_enabled(s) ? "true" : "false",
                    qts_safety_trading_allowed(s) ? "true" : "false",
                    qts_safety_consecutive_fails(s), appr, src, saved);
}

/* ------------------------------------------------------------ latches */

void qts_safety_latch_get(const struct qts_safety *s, struct qts_safety_latch *out)
{
    struct qts_safety *m = (struct qts_safety *)s; /* the mutex is not logical state */
    pthread_mutex_lock(&m->mu);
    *out = m->latch;
    int st = atomic_load(&m->state);
    out->state = st == QTS_SAFETY_WARNING ? QTS_SAFETY_NORMAL : st; /* not a latch */
    out->consecutive = atomic_load(&m->consecutive);
    out->kill = atomic_load(&m->kill);
    out->have_approval = m->have_approval;
    if (m->have_approval)
        out->approval = m->approval;
    pthread_mutex_unlock(&m->mu);
}

void qts_safety_latch_apply(struct qts_safety *s, const struct qts_safety_latch *l)
{
    pthread_mutex_lock(&s->mu);
    int from = atomic_load(&s->state);
    int to = l->state == QTS_SAFETY_FAIL || l->state == QTS_SAFETY_LOCKDOWN ? l->state
                                                                            : QTS_SAFETY_NORMAL;
    s->latch = *l; /* the details; state, kill and count go to the atomics */
    s->have_approval = l->have_approval;
    if (l->have_approval)
        s->approval = l->approval;
    atomic_store(&s->consecutive, l->consecutive > 0 ? l->consecutive : 0);
    atomic_store_explicit(&s->kill, l->kill, memory_order_release);
    atomic_store_explicit(&s->state, to, memory_order_release);
    char msg[160];
    qts_safety_latch_summary(l, msg, sizeof msg);
    struct qts_safety_event ev;
    record(s, l->code, from, to, "restore", msg, &ev);
    struct qts_safety_listener lis = s->listener;
    pthread_mutex_unlock(&s->mu);
    notify(s, &lis, &ev);
}

void qts_safety_utc(int64_t ns, char *buf, size_t cap)
{
    if (ns <= 0) {
        snprintf(buf, cap, "-");
        return;
    }
    time_t t = (time_t)(ns / 1000000000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int qts_safety_latch_summary(const struct qts_safety_latch *l, char *buf, size_t cap)
{
    char since[32], kat[32];
    qts_safety_utc(l->state_ts_ns, since, sizeof since);
    qts_safety_utc(l->kill_ts_ns, kat, sizeof kat);
    if (!l->kill)
        return snprintf(buf, cap, "state=%s code=%s since=%s kill=off",
                        qts_safety_state_name(l->state),
                        l->code >= 0 ? qts_safety_code_str(l->code) : "-", since);
    return snprintf(buf, cap, "state=%s code=%s since=%s kill=on kill_by=%.60s kill_at=%s",
                    qts_safety_state_name(l->state),
                    l->code >= 0 ? qts_safety_code_str(l->code) : "-", since, l->kill_who, kat);
}

void qts_safety_set_saver(struct qts_safety *s, qts_safety_saver_fn fn, void *ctx)
{
    pthread_mutex_lock(&s->save_mu);
    s->saver = fn;
    s->saver_ctx = ctx;
    pthread_mutex_unlock(&s->save_mu);
}

void qts_safety_set_notes(struct qts_safety *s, const char *source, const char *saved)
{
    pthread_mutex_lock(&s->mu);
    if (source)
        qts_strlcpy(s->source, source, sizeof s->source);
    if (saved)
        qts_strlcpy(s->saved, saved, sizeof s->saved);
    pthread_mutex_unlock(&s->mu);
}

size_t qts_safety_kill_exec(struct qts_safety *s, struct qts_exec *x, bool flatten, const char *who,
                            const char *reason)
{
    /* switch first: nothing new gets past PreCheck while we cancel */
    qts_safety_set_kill(s, true, who, reason);
    const char *why = reason && reason[0] ? reason : "kill switch";
    return flatten ? qts_exec_escape_all(x, why) : qts_safety_cancel_all(x, why);
}

size_t qts_safety_cancel_all(struct qts_exec *x, const char *reason)
{
    struct qts_oms *oms = qts_exec_oms(x);
    size_t n = 0, cap = 256;
    uint64_t *ids = qts_xmalloc(cap * sizeof *ids);
    /* collect first: cancelling can finish parents and change the list */
    for (struct qts_parent *p = qts_oms_active_first(oms); p; p = qts_oms_active_next(p)) {
        if (n == cap) {
            cap *= 2;
            ids = qts_xrealloc(ids, cap * sizeof *ids);
        }
        ids[n++] = p->order_id;
    }
    size_t done = 0;
    for (size_t i = 0; i < n; i++)
        done += qts_exec_cancel(x, ids[i], reason ? reason : "cancel all") == 0;
    free(ids);
    return done;
}

void qts_safety_cfg_default(struct qts_safety_cfg *c)
{
    c->cancel_on_stop = true;
    c->kill_flatten = false;
    c->watchdog_interval_ms = 50;
    c->core_warn_ms = 200;
    c->core_stall_ms = 1000;
    c->risk_loop_stall_ms = 2000;
    c->worker_stall_ms = 5000;
}

size_t qts_safety_stop_orders(struct qts_exec *x, const struct qts_safety_cfg *cfg)
{
    if (cfg->cancel_on_stop)
        return qts_safety_cancel_all(x, "host stopping");
    QTS_WARN("stopping with working orders left at the broker: %s",
             qts_exec_has_working_orders(x) ? "yes" : "none");
    return 0;
}

int qts_safety_kill_file_poll(struct qts_safety *s, const char *path)
{
    if (!path || qts_safety_kill_on(s))
        return 0;
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    char buf[32] = "";
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = buf;
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
        p++;
    size_t len = strlen(p);
    while (len &&
           (p[len - 1] == ' ' || p[len - 1] == '\t' || p[len - 1] == '\n' || p[len - 1] == '\r'))
        p[--len] = '\0';
    bool on = !*p || !strcasecmp(p, "on") || !strcasecmp(p, "active") || !strcmp(p, "1") ||
              !strcasecmp(p, "true");
    if (!on)
        return 0;
    char why[300];
    snprintf(why, sizeof why, "kill-switch file %.256s", path);
    qts_safety_set_kill(s, true, "file", why);
    return 1;
}

unsigned qts_safety_live_guard(const char *mode, int broker_env, const char *ack, char *why,
                               size_t cap)
{
    bool live = mode && strcmp(mode, "live") == 0;
    bool real = broker_env == QTS_BROKER_ENV_REAL;
    bool acked = ack && strcmp(ack, QTS_LIVE_ACK_VALUE) == 0;
    unsigned miss = 0;
    if (live) {
        if (!real)
            miss |= QTS_LIVE_MISSING_BROKER;
        if (!acked)
            miss |= QTS_LIVE_MISSING_ACK;
    } else if (real) {
        /* a real-money broker under a non-live mode is a configuration slip */
        miss |= QTS_LIVE_MISSING_MODE;
        if (!acked)
            miss |= QTS_LIVE_MISSING_ACK;
    }
    if (why && cap) {
        why[0] = '\0';
        size_t o = 0;
        if (miss & QTS_LIVE_MISSING_MODE)
            o += (size_t)snprintf(why + o, cap - o,
                                  "the broker trades real money; it needs mode: live (mode "
                                  "is '%s'); ",
                                  mode ? mode : "(unset)");
        if ((miss & QTS_LIVE_MISSING_BROKER) && o < cap)
            o += (size_t)snprintf(why + o, cap - o,
                                  "mode live needs a broker on its real environment (the "
                                  "broker does not report one); ");
        if ((miss & QTS_LIVE_MISSING_ACK) && o < cap)
            o += (size_t)snprintf(why + o, cap - o, "%s=%s is not set; ", QTS_LIVE_ACK_ENV,
                                  QTS_LIVE_ACK_VALUE);
        if (o >= 2 && o < cap)
            why[o - 2] = '\0';
    }
    return miss;
}
