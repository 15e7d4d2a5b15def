/* plugin_manager.c — slots, reload protocol with rollback, drain, triggers. */
#include "plugin_manager.h"

#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "clock.h"
#include "log.h"
#include "plugin_loader.h"
#include "util.h"

struct file_id {
    dev_t dev;
    ino_t ino;
    off_t size;
    int64_t mtime_ns;
};

struct slot {
    char *name;
    uint32_t kind;
    char *path;
    const struct qts_cfg_node *cfg;
    struct qts_plugin_inst *cur; /* NULL when down */
    struct file_id loaded;       /* identity of the file `cur` came from */
    bool is_pending;             /* fs event seen, waiting for the debounce */
};

struct retired {
    struct retired *next;
    struct qts_plugin_inst *inst;
    int64_t since_ns;
    bool is_warned, is_destroyed;
};

struct qts_plugin_manager {
    struct qts_plugin_manager_opts o;
    char *gen_dir, *watch_dir;
    uv_loop_t *loop;
    struct slot **slots;
    size_t n_slots;
    struct retired *retired;
    size_t n_retired;
    uint64_t next_gen, n_reloads;
    uv_timer_t drain_timer, reap_timer, debounce_timer;
    uv_fs_event_t fs_event;
    uv_signal_t sighup;
    bool has_fs_event, has_sighup, is_closing, is_handles_closed;
    int open_handles;
};

static struct slot *find_slot(struct qts_plugin_manager *m, const char *name)
{
    for (size_t i = 0; i < m->n_slots; i++)
        if (strcmp(m->slots[i]->name, name) == 0)
            return m->slots[i];
    return NULL;
}

static int stat_id(const char *path, struct file_id *id)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return QTS_ENOENT;
    id->dev = st.st_dev;
    id->ino = st.st_ino;
    id->size = st.st_size;
    id->mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
    return 0;
}

static bool same_id(const struct file_id *a, const struct file_id *b)
{
    return a->dev == b->dev && a->ino == b->ino && a->size == b->size && a->mtime_ns == b->mtime_ns;
}

/* ----------------------------------------------------------- drain / reap */

static void maybe_close_handles(struct qts_plugin_manager *m);

static void on_reap(uv_timer_t *t)
{
    struct qts_plugin_manager *m = t->data;
    struct retired **pp = &m->retired;
    while (*pp) {
        struct retired *r = *pp;
        if (!r->is_destroyed) {
            pp = &r->next;
            continue;
        }
        *pp = r->next;
        struct qts_plugin_lib *lib = qts_plugin_inst_lib(r->inst);
        qts_plugin_inst_free(r->inst);
        free(r);
        m->n_retired--;
        if (--lib->refs == 0) {
            QTS_DEBUG("plugin unloaded name=%s gen=%llu", lib->name, (unsigned long long)lib->gen);
            qts_plugin_lib_close(lib);
        }
    }
    maybe_close_handles(m);
}

static void on_inst_destroyed(void *arg, struct qts_plugin_inst *inst)
{
    struct qts_plugin_manager *m = arg;
    for (struct retired *r = m->retired; r; r = r->next)
        if (r->inst == inst)
            r->is_destroyed = true;
    /* unload on a later loop turn, never inside the plugin's last callback */
    uv_timer_start(&m->reap_timer, on_reap, 0, 0);
}

static void on_drain(uv_timer_t *t)
{
    struct qts_plugin_manager *m = t->data;
    bool is_busy = false;
    int64_t now = qts_mono_ns();
    for (struct retired *r = m->retired; r; r = r->next) {
        if (r->is_destroyed || qts_plugin_inst_state(r->inst) != QTS_INST_STOPPING)
            continue;
        if (qts_plugin_inst_stop(r->inst) == QTS_EAGAIN) {
            is_busy = true;
            if (!r->is_warned && now - r->since_ns > (int64_t)m->o.drain_timeout_ms * 1000000) {
                r->is_warned = true;
                QTS_WARN("plugin still draining slot=%s gen=%llu after %u ms; keeping it "
                         "loaded",
                         qts_plugin_inst_slot(r->inst),
                         (unsigned long long)qts_plugin_inst_gen(r->inst), m->o.drain_timeout_ms);
            }
        }
    }
    if (!is_busy)
        uv_timer_stop(&m->drain_timer);
}

/* Move `inst` to the retired list; it is already stopping or stopped. */
static void retire(struct qts_plugin_manager *m, struct qts_plugin_inst *inst)
{
    struct retired *r = qts_xcalloc(1, sizeof *r);
    r->inst = inst;
    r->since_ns = qts_mono_ns();
    r->is_destroyed = qts_plugin_inst_state(inst) == QTS_INST_DESTROYED;
    r->next = m->retired;
    m->retired = r;
    m->n_retired++;
    if (r->is_destroyed)
        uv_timer_start(&m->reap_timer, on_reap, 0, 0);
    if (qts_plugin_inst_state(inst) == QTS_INST_STOPPING &&
        !uv_is_active((uv_handle_t *)&m->drain_timer))
        uv_timer_start(&m->drain_timer, on_drain, m->o.drain_poll_ms, m->o.drain_poll_ms);
}

/* Stop (or abort) an instance and retire it. */
static void stop_and_retire(struct qts_plugin_manager *m, struct qts_plugin_inst *inst)
{
    enum qts_plugin_inst_state st = qts_plugin_inst_state(inst);
    if (st == QTS_INST_RUNNING)
        qts_plugin_inst_stop(inst);
    else if (st < QTS_INST_STOPPED)
        qts_plugin_inst_abort(inst);
    retire(m, inst);
}

/* Drop an instance whose init or start failed: stop() is not called
 * (the lifecycle goes straight to destroy once it has drained). */
static void abort_and_retire(struct qts_plugin_manager *m, struct qts_plugin_inst *inst)
{
    if (qts_plugin_inst_state(inst) < QTS_INST_STOPPED)
        qts_plugin_inst_abort(inst);
    retire(m, inst);
}

static struct qts_plugin_inst *new_inst(struct qts_plugin_manager *m, struct slot *s,
                                        struct qts_plugin_lib *lib, uint64_t gen)
{
    struct qts_plugin_inst *inst = qts_plugin_inst_new(m->o.env, lib, s->name, gen, s->cfg);
    qts_plugin_inst_on_destroyed(inst, on_inst_destroyed, m);
    return inst;
}

/* Without a gen_dir (a host that never reloads: `qts migrate`) the file
 * is opened in place. */
static int open_lib(struct qts_plugin_manager *m, const char *path, uint64_t gen, uint32_t kind,
                    struct qts_plugin_lib **lib, struct qts_err *err)
{
    if (!m->gen_dir)
        return qts_plugin_lib_open_in_place(path, kind, lib, err);
    return qts_plugin_lib_open(path, m->gen_dir, gen, kind, lib, err);
}

/* A store slot is called from the store writer thread, outside the loop's
 * call brackets, so it is never swapped under it: it changes at a restart.
 * Without a gen_dir nothing can be reloaded (a file opened in place is the
 * same handle again). */
static int check_reloadable(const struct qts_plugin_manager *m, const struct slot *s,
                            struct qts_err *err)
{
    if (s->kind == QTS_KIND_STORE)
        return qts_err_set(err, QTS_EUNSUPPORTED,
                           "plugin slot %s: a store plugin is not reloaded (the store writer "
                           "thread calls it); restart the host",
                           s->name);
    if (!m->gen_dir)
        return qts_err_set(err, QTS_EUNSUPPORTED, "plugin slot %s: this host does not reload",
                           s->name);
    return 0;
}

/* ------------------------------------------------------------------ public */

int qts_plugin_manager_new(const struct qts_plugin_manager_opts *opts,
                           struct qts_plugin_manager **out, struct qts_err *err)
{
    *out = NULL;
    if (!opts || !opts->env || !opts->env->loop)
        return qts_err_set(err, QTS_EINVAL, "plugin manager: env and loop required");
    struct qts_plugin_manager *m = qts_xcalloc(1, sizeof *m);
    m->o = *opts;
    m->gen_dir = opts->gen_dir ? qts_xstrdup(opts->gen_dir) : NULL;
    m->watch_dir = opts->watch_dir ? qts_xstrdup(opts->watch_dir) : NULL;
    m->o.gen_dir = m->gen_dir;
    m->o.watch_dir = m->watch_dir;
    if (!m->o.debounce_ms)
        m->o.debounce_ms = 250;
    if (!m->o.drain_poll_ms)
        m->o.drain_poll_ms = 10;
    if (!m->o.drain_timeout_ms)
        m->o.drain_timeout_ms = 30000;
    m->loop = opts->env->loop;
    uv_timer_init(m->loop, &m->drain_timer);
    uv_timer_init(m->loop, &m->reap_timer);
    uv_timer_init(m->loop, &m->debounce_timer);
    m->drain_timer.data = m->reap_timer.data = m->debounce_timer.data = m;
    m->open_handles = 3;
    *out = m;
    return 0;
}

static const char *base_of(const char *path, char *buf, size_t cap)
{
    qts_strlcpy(buf, path, cap);
    return basename(buf);
}

/* ---------------------------------------------------------------- triggers */

static void on_debounce(uv_timer_t *t)
{
    struct qts_plugin_manager *m = t->data;
    int64_t now_ns = qts_wall_ns();
    bool is_rearm = false;
    for (size_t i = 0; i < m->n_slots; i++) {
        struct slot *s = m->slots[i];
        if (!s->is_pending)
            continue;
        struct file_id id;
        if (stat_id(s->path, &id) != 0) {
            s->is_pending = false; /* removed: nothing to load */
            continue;
        }
        if (now_ns - id.mtime_ns < (int64_t)m->o.debounce_ms * 1000000) {
            is_rearm = true; /* modified just now: may still be written */
            continue;
        }
        s->is_pending = false;
        if ((s->cur && same_id(&id, &s->loaded)) || check_reloadable(m, s, NULL) != 0)
            continue;
        QTS_INFO("plugin file changed slot=%s path=%s; reloading", s->name, s->path);
        struct qts_err err;
        if (qts_plugin_manager_reload(m, s->name, NULL, &err) != 0)
            s->loaded = id; /* do not retry the same bad file on every event */
    }
    if (is_rearm)
        uv_timer_start(&m->debounce_timer, on_debounce, m->o.debounce_ms, 0);
}

static void on_fs_event(uv_fs_event_t *h, const char *filename, int events, int status)
{
    struct qts_plugin_manager *m = h->data;
    (void)events;
    if (status < 0 || !filename || m->is_closing)
        return;
    bool is_hit = false;
    char buf[1024], dbuf[1024];
    for (size_t i = 0; i < m->n_slots; i++) {
        struct slot *s = m->slots[i];
        qts_strlcpy(dbuf, s->path, sizeof dbuf);
        if (strcmp(dirname(dbuf), m->watch_dir) != 0)
            continue; /* the slot's file lives elsewhere */
        if (strcmp(base_of(s->path, buf, sizeof buf), filename) == 0) {
            s->is_pending = true;
            is_hit = true;
        }
    }
    if (is_hit)
        uv_timer_start(&m->debounce_timer, on_debounce, m->o.debounce_ms, 0);
}

static void on_sighup(uv_signal_t *h, int signum)
{
    struct qts_plugin_manager *m = h->data;
    (void)signum;
    if (m->is_closing)
        return;
    QTS_INFO("SIGHUP: reloading changed plugins");
    qts_plugin_manager_reload_all(m, true);
}

static int start_triggers(struct qts_plugin_manager *m, struct qts_err *err)
{
    if (m->watch_dir && !m->has_fs_event) {
        uv_fs_event_init(m->loop, &m->fs_event);
        m->fs_event.data = m;
        m->open_handles++;
        m->has_fs_event = true;
        int rc = uv_fs_event_start(&m->fs_event, on_fs_event, m->watch_dir, 0);
        if (rc)
            return qts_err_set(err, QTS_EIO, "watch plugin directory %s: %s", m->watch_dir,
                               uv_strerror(rc));
    }
    if (m->o.handle_sighup && !m->has_sighup) {
        uv_signal_init(m->loop, &m->sighup);
        m->sighup.data = m;
        m->open_handles++;
        m->has_sighup = true;
        uv_signal_start(&m->sighup, on_sighup, SIGHUP);
    }
    return 0;
}

/* ---------------------------------------------------------------- loading */

/* One plugin name, one file: two files claiming the same name (two builds
 * of one plugin) are refused. The same feed file may sit in several feed
 * slots (feed_replay over two data sets): each slot opens its own copy of
 * the file (gen_dir), so the instances share nothing. */
static int check_name_unique(struct qts_plugin_manager *m, struct slot *self,
                             const struct qts_plugin_lib *lib, struct qts_err *err)
{
    for (size_t i = 0; i < m->n_slots; i++) {
        struct slot *s = m->slots[i];
        if (s == self || !s->cur)
            continue;
        if (s->kind == QTS_KIND_FEED && self->kind == QTS_KIND_FEED &&
            strcmp(s->path, self->path) == 0)
            continue;
        if (strcmp(qts_plugin_inst_lib(s->cur)->name, lib->name) == 0)
            return qts_err_set(err, QTS_EEXIST,
                               "plugin %s: name: \"%s\" is already loaded in slot %s", lib->path,
                               lib->name, s->name);
    }
    return 0;
}

/* The slot's config: against the build's key table, before init reads it. */
static int check_config(const struct slot *s, const struct qts_plugin_lib *lib, struct qts_err *err)
{
    char path[160];
    qts_plugin_cfg_path(s->kind, s->name, path, sizeof path);
    return qts_plugin_lib_config_err(lib, s->cfg, path, err);
}

int qts_plugin_manager_add(struct qts_plugin_manager *m, const char *slot, uint32_t kind,
                           const char *path, const struct qts_cfg_node *cfg, struct qts_err *err)
{
    if (find_slot(m, slot))
        return qts_err_set(err, QTS_EEXIST, "plugin slot %s is already configured", slot);
    struct file_id id = {0};
    stat_id(path, &id);
    struct qts_plugin_lib *lib;
    uint64_t gen = ++m->next_gen;
    int rc = open_lib(m, path, gen, kind, &lib, err);
    if (rc)
        return rc;
    struct slot *s = qts_xcalloc(1, sizeof *s);
    s->name = qts_xstrdup(slot);
    s->kind = kind;
    s->path = qts_xstrdup(path);
    s->cfg = cfg;
    s->loaded = id;
    rc = check_name_unique(m, s, lib, err);
    if (rc == 0)
        rc = check_config(s, lib, err);
    if (rc)
        goto fail;
    s->cur = new_inst(m, s, lib, gen);
    rc = qts_plugin_inst_init(s->cur, err);
    if (rc) {
        abort_and_retire(m, s->cur); /* the retired entry owns lib now */
        s->cur = NULL;
        lib = NULL;
        goto fail;
    }
    m->slots = qts_xrealloc(m->slots, (m->n_slots + 1) * sizeof *m->slots);
    m->slots[m->n_slots++] = s;
    QTS_INFO("plugin loaded slot=%s name=%s version=%s kind=%s gen=%llu", slot, lib->name,
             lib->version, qts_plugin_kind_name(kind), (unsigned long long)gen);
    return start_triggers(m, err);
fail:
    if (lib)
        qts_plugin_lib_close(lib);
    free(s->name);
    free(s->path);
    free(s);
    return rc;
}

void qts_plugin_manager_check_config(struct qts_plugin_manager *m, const char *slot,
                                     const struct qts_cfg_node *cfg, struct qts_diags *d)
{
    struct slot *s = find_slot(m, slot);
    if (!s || !s->cur)
        return;
    char path[160];
    qts_plugin_lib_check_config(qts_plugin_inst_lib(s->cur), cfg,
                                qts_plugin_cfg_path(s->kind, s->name, path, sizeof path), d);
}

static int start_slot(struct qts_plugin_manager *m, struct slot *s, struct qts_err *err)
{
    if (!s->cur || qts_plugin_inst_state(s->cur) != QTS_INST_READY)
        return 0;
    int rc = qts_plugin_inst_start(s->cur, err);
    if (rc) {
        abort_and_retire(m, s->cur);
        s->cur = NULL;
    }
    return rc;
}

int qts_plugin_manager_start(struct qts_plugin_manager *m, struct qts_err *err)
{
    for (size_t i = 0; i < m->n_slots; i++) {
        int rc = start_slot(m, m->slots[i], err);
        if (rc)
            return rc;
    }
    return 0;
}

int qts_plugin_manager_start_slot(struct qts_plugin_manager *m, const char *slot,
                                  struct qts_err *err)
{
    struct slot *s = find_slot(m, slot);
    if (!s)
        return qts_err_set(err, QTS_ENOENT, "plugin slot %s is not configured", slot);
    return start_slot(m, s, err);
}

static void notify(struct qts_plugin_manager *m, const char *slot, int rc,
                   const struct qts_err *err)
{
    if (m->o.on_reload)
        m->o.on_reload(m->o.reload_ctx, slot, rc, rc ? err->msg : NULL);
}

/* Old `old_lib` was stopped; the new build failed after that. Start a fresh
 * instance of the old build with the exported state (if any). */
static void revive_old(struct qts_plugin_manager *m, struct slot *s, struct qts_plugin_lib *old_lib,
                       bool was_running, const char *state, size_t state_n, bool has_state)
{
    struct qts_err e2;
    old_lib->refs++;
    struct qts_plugin_inst *inst = new_inst(m, s, old_lib, ++m->next_gen);
    int rc = qts_plugin_inst_init(inst, &e2);
    if (!rc && has_state)
        rc = qts_plugin_inst_import(inst, state, state_n, &e2);
    if (!rc && was_running)
        rc = qts_plugin_inst_start(inst, &e2);
    if (rc) {
        QTS_ERROR("plugin rollback failed slot=%s: %s; slot is down", s->name, e2.msg);
        abort_and_retire(m, inst);
        s->cur = NULL;
        return;
    }
    s->cur = inst;
    QTS_WARN("plugin rollback slot=%s: previous build %s %s restarted gen=%llu", s->name,
             old_lib->name, old_lib->version, (unsigned long long)qts_plugin_inst_gen(inst));
}

static int do_reload(struct qts_plugin_manager *m, struct slot *s, const char *path,
                     struct qts_err *err)
{
    if (!s->cur)
        return qts_err_set(err, QTS_ESTATE, "plugin slot %s is down; restart the host", s->name);
    int rc = check_reloadable(m, s, err);
    if (rc)
        return rc;
    struct qts_plugin_inst *old = s->cur;
    struct qts_plugin_lib *old_lib = qts_plugin_inst_lib(old);
    enum qts_plugin_inst_state old_st = qts_plugin_inst_state(old);
    if (old_st != QTS_INST_READY && old_st != QTS_INST_RUNNING)
        return qts_err_set(err, QTS_ESTATE, "plugin slot %s is not running", s->name);
    if (qts_plugin_inst_in_call(old) > 0)
        return qts_err_set(err, QTS_EBUSY,
                           "plugin slot %s: reload requested from inside the plugin's own "
                           "call; retry from the loop",
                           s->name);
    struct file_id id = {0};
    stat_id(path, &id);
    uint64_t gen = ++m->next_gen;
    struct qts_plugin_lib *lib;
    rc = open_lib(m, path, gen, s->kind, &lib, err);
    if (rc)
        return rc;
    rc = check_name_unique(m, s, lib, err);
    if (rc == 0)
        rc = check_config(s, lib, err); /* a new build may know other keys */
    if (rc) {
        qts_plugin_lib_close(lib);
        return rc;
    }
    bool is_xfer =
        (old_lib->desc.caps & QTS_CAP_STATE_XFER) && (lib->desc.caps & QTS_CAP_STATE_XFER);
    if (s->kind == QTS_KIND_BROKER && !is_xfer && m->o.has_working_orders &&
        m->o.has_working_orders(m->o.orders_ctx, s->name)) {
        qts_plugin_lib_close(lib);
        return qts_err_set(err, QTS_EBUSY,
                           "plugin slot %s: broker has working orders and %s cannot hand "
                           "state over (needs QTS_CAP_STATE_XFER in both builds); not "
                           "reloaded",
                           s->name,
                           (old_lib->desc.caps & QTS_CAP_STATE_XFER) ? "the new build"
                                                                     : "the running build");
    }
    struct qts_plugin_inst *inst = new_inst(m, s, lib, gen);
    rc = qts_plugin_inst_init(inst, err);
    if (rc) {
        abort_and_retire(m, inst); /* lib goes with it */
        return rc;
    }

    /* the swap: one loop turn, between two events */
    bool was_running = old_st == QTS_INST_RUNNING;
    old_lib->refs++;            /* keep the old build mapped for a possible rollback */
    qts_plugin_inst_enter(old); /* not destroyed before its state is exported */
    stop_and_retire(m, old);
    s->cur = NULL;
    char *state = NULL;
    size_t state_n = 0;
    bool has_state = false;
    if (is_xfer) {
        rc = qts_plugin_inst_export(old, &state, &state_n, err);
        has_state = rc == 0;
        if (!rc)
            rc = qts_plugin_inst_import(inst, state, state_n, err);
    }
    qts_plugin_inst_leave(old);
    if (!rc && was_running)
        rc = qts_plugin_inst_start(inst, err);
    if (rc) {
        abort_and_retire(m, inst);
        revive_old(m, s, old_lib, was_running, state, state_n, has_state);
        free(state);
        old_lib->refs--; /* revive took its own reference */
        return rc;
    }
    free(state);
    if (--old_lib->refs == 0) /* only if every old instance is already gone */
        qts_plugin_lib_close(old_lib);
    s->cur = inst;
    s->loaded = id;
    if (path != s->path) {
        free(s->path);
        s->path = qts_xstrdup(path);
    }
    m->n_reloads++;
    QTS_INFO("plugin reloaded slot=%s name=%s version=%s gen=%llu old_gen=%llu state=%s", s->name,
             lib->name, lib->version, (unsigned long long)gen,
             (unsigned long long)qts_plugin_inst_gen(old), is_xfer ? "handed-over" : "none");
    return 0;
}

int qts_plugin_manager_reload(struct qts_plugin_manager *m, const char *slot, const char *path,
                              struct qts_err *err)
{
    struct qts_err local;
    if (!err)
        err = &local;
    qts_err_clear(err);
    struct slot *s = find_slot(m, slot);
    int rc;
    if (m->is_closing)
        rc = qts_err_set(err, QTS_ECLOSED, "plugin manager is shutting down");
    else if (!s)
        rc = qts_err_set(err, QTS_ENOENT, "plugin slot %s is not configured", slot);
    else
        rc = do_reload(m, s, path ? path : s->path, err);
    if (rc)
        QTS_WARN("plugin reload failed slot=%s: %s; previous build stays in service", slot,
                 err->msg);
    notify(m, slot, rc, err);
    return rc;
}

int qts_plugin_manager_reload_all(struct qts_plugin_manager *m, bool only_changed)
{
    int failed = 0;
    for (size_t i = 0; i < m->n_slots; i++) {
        struct slot *s = m->slots[i];
        struct file_id id;
        if (only_changed && s->cur && stat_id(s->path, &id) == 0 && same_id(&id, &s->loaded))
            continue;
        if (check_reloadable(m, s, NULL) != 0)
            continue; /* served until the restart; not a failed reload */
        struct qts_err err;
        if (qts_plugin_manager_reload(m, s->name, NULL, &err) != 0) {
            failed++;
            if (stat_id(s->path, &id) == 0)
                s->loaded = id;
        }
    }
    return failed;
}

struct qts_plugin_inst *qts_plugin_manager_current(struct qts_plugin_manager *m, const char *slot)
{
    struct slot *s = find_slot(m, slot);
    return s ? s->cur : NULL;
}

size_t qts_plugin_manager_retired(const struct qts_plugin_manager *m) { return m->n_retired; }

uint64_t qts_plugin_manager_reloads(const struct qts_plugin_manager *m) { return m->n_reloads; }

/* ---------------------------------------------------------------- shutdown */

static void on_handle_closed(uv_handle_t *h)
{
    struct qts_plugin_manager *m = h->data;
    m->open_handles--;
}

static void maybe_close_handles(struct qts_plugin_manager *m)
{
    if (!m->is_closing || m->is_handles_closed || m->retired)
        return;
    m->is_handles_closed = true;
    uv_close((uv_handle_t *)&m->drain_timer, on_handle_closed);
    uv_close((uv_handle_t *)&m->reap_timer, on_handle_closed);
    uv_close((uv_handle_t *)&m->debounce_timer, on_handle_closed);
    if (m->has_fs_event)
        uv_close((uv_handle_t *)&m->fs_event, on_handle_closed);
    if (m->has_sighup)
        uv_close((uv_handle_t *)&m->sighup, on_handle_closed);
}

void qts_plugin_manager_close(struct qts_plugin_manager *m)
{
    if (!m || m->is_closing)
        return;
    m->is_closing = true;
    if (m->has_fs_event)
        uv_fs_event_stop(&m->fs_event);
    if (m->has_sighup)
        uv_signal_stop(&m->sighup);
    uv_timer_stop(&m->debounce_timer);
    for (size_t i = 0; i < m->n_slots; i++) {
        struct slot *s = m->slots[i];
        if (s->cur) {
            stop_and_retire(m, s->cur);
            s->cur = NULL;
        }
    }
    uv_timer_start(&m->reap_timer, on_reap, 0, 0);
}

bool qts_plugin_manager_closed(const struct qts_plugin_manager *m)
{
    return m->n_retired == 0 && m->open_handles == 0;
}

void qts_plugin_manager_free(struct qts_plugin_manager *m)
{
    if (!m)
        return;
    QTS_ASSERT(m->open_handles == 0);
    for (size_t i = 0; i < m->n_slots; i++) {
        free(m->slots[i]->name);
        free(m->slots[i]->path);
        free(m->slots[i]);
    }
    free(m->slots);
    free(m->gen_dir);
    free(m->watch_dir);
    free(m);
}
