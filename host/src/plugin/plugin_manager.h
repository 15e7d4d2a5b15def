/* plugin_manager.h — plugin slots, first load, hot reload, drain, unload.
 *
 * A slot is a named place in the configuration (`plugins.<slot>`) with a
 * kind and a file. It holds the current instance; instances replaced by a
 * reload are "retired" until they have drained and been destroyed, and
 * their library is unloaded on a later loop turn.
 *
 * Reload protocol (qts_plugin_manager_reload), all on the loop thread, so no
 * event is in flight inside the plugin while it runs:
 *   1. open the file under a new generation (plugin_loader: copy, dlopen,
 *      every check), refuse a name another slot already uses;
 *   2. a broker slot with working orders (host callback) is not reloaded
 *      unless both builds hand state over: QTS_EBUSY with the reason;
 *   3. init the new instance; on failure it is dropped and the old one keeps
 *      running (rollback);
 *   4. stop old (QTS_EAGAIN: it is asked again every drain_poll_ms until it
 *      returns 0), export_state -> import_state when both declare
 *      QTS_CAP_STATE_XFER, swap, start new;
 *   5. if hand-over or start fails after the old one was stopped, the new
 *      one is dropped and a fresh instance of the old build is started with
 *      the exported state (rollback); the error is returned.
 * Retired instances drain by refcount (plugin_instance.h); a library is
 * dlclosed once its last instance is destroyed, except in sanitizer builds,
 * with QTS_NO_DLCLOSE set, or for QTS_CAP_RESIDENT plugins.
 *
 * Triggers: explicit calls (the admin command), SIGHUP (opts.handle_sighup:
 * reload every slot whose file changed) and a uv_fs_event watch on the
 * plugin directory (opts.watch_dir): a slot's file replaced by rename() is
 * reloaded after opts.debounce_ms of quiet; a file modified less than
 * debounce_ms ago is treated as still being written and checked again.
 */
#ifndef QTS_PLUGIN_MANAGER_H
#define QTS_PLUGIN_MANAGER_H

#include <stdbool.h>
#include <stdint.h>

#include "plugin_instance.h"
#include "qts/qts_err.h"

struct qts_plugin_manager; /* opaque */

/* Result of every reload attempt (ok or not), for admin output and tests.
 * `why` is borrowed for the call (NULL on success). */
typedef void (*qts_plugin_reload_fn)(void *ctx, const char *slot, int status, const char *why);

struct qts_plugin_manager_opts {
    const struct qts_plugin_env *env; /* borrowed; must outlive the manager */
    /* private directory for per-generation copies (copied); NULL: files are
     * opened in place and no slot is reloaded (a host run once, `qts migrate`) */
    const char *gen_dir;
    const char *watch_dir;     /* plugin directory to watch; NULL = no watch (copied) */
    uint32_t debounce_ms;      /* 0 = 250 */
    uint32_t drain_poll_ms;    /* 0 = 10: how often a draining stop() is retried */
    uint32_t drain_timeout_ms; /* 0 = 30000: warn (never force) after this */
    bool handle_sighup;
    /* "does this broker slot have working orders?" (NULL = never) */
    bool (*has_working_orders)(void *ctx, const char *slot);
    void *orders_ctx;
    qts_plugin_reload_fn on_reload; /* may be NULL */
    void *reload_ctx;
};

int qts_plugin_manager_new(const struct qts_plugin_manager_opts *opts,
                           struct qts_plugin_manager **out, struct qts_err *err);

/* Load `path` into a new slot and init it (not started). `slot` and `path`
 * are copied; `cfg` is borrowed and must outlive the slot. */
int qts_plugin_manager_add(struct qts_plugin_manager *m, const char *slot, uint32_t kind,
                           const char *path, const struct qts_cfg_node *cfg, struct qts_err *err);
/* Check `cfg` (borrowed; a candidate config: for slot `slot`, e.g. from a
 * reloaded file) against the key table of the plugin loaded in the slot;
 * adds one diagnostic per problem to `d`. No-op for an unknown or empty
 * slot. */
void qts_plugin_manager_check_config(struct qts_plugin_manager *m, const char *slot,
                                     const struct qts_cfg_node *cfg, struct qts_diags *d);
/* Start every slot that is initialised but not started. */
int qts_plugin_manager_start(struct qts_plugin_manager *m, struct qts_err *err);
/* Start one slot (no-op if already started): a slot others need running
 * first (the store, which the writer thread uses from the start). */
int qts_plugin_manager_start_slot(struct qts_plugin_manager *m, const char *slot,
                                  struct qts_err *err);

/* Reload one slot from `path` (NULL = its current file; a new path becomes
 * the slot's file on success). 0 or an error with the reason in err; on
 * error the previous build stays in service. Store slots are never
 * reloaded (QTS_EUNSUPPORTED): the store writer thread calls them outside
 * the loop, so they change only at a restart. */
int qts_plugin_manager_reload(struct qts_plugin_manager *m, const char *slot, const char *path,
                              struct qts_err *err);
/* Reload every slot (only_changed: only slots whose file differs from the
 * loaded one), store slots aside. Returns the number of failed reloads. */
int qts_plugin_manager_reload_all(struct qts_plugin_manager *m, bool only_changed);

/* Current instance of a slot (borrowed; NULL if unknown or down). Bracket
 * calls into its operations with qts_plugin_inst_enter/leave. */
struct qts_plugin_inst *qts_plugin_manager_current(struct qts_plugin_manager *m, const char *slot);

/* Retired instances not yet unloaded; successful reloads so far. */
size_t qts_plugin_manager_retired(const struct qts_plugin_manager *m);
uint64_t qts_plugin_manager_reloads(const struct qts_plugin_manager *m);

/* Stop every slot and drain; closes the manager's uv handles once all
 * instances are destroyed. Run the loop afterwards until it returns, then
 * call qts_plugin_manager_free. Close the manager before the HTTP client
 * (qts_http_client_close answers the plugins' pending requests, which the
 * draining instances are waiting for). */
void qts_plugin_manager_close(struct qts_plugin_manager *m);
/* After close: true once every instance has unloaded and the manager's own
 * handles are closed (then _free may be called). */
bool qts_plugin_manager_closed(const struct qts_plugin_manager *m);
void qts_plugin_manager_free(struct qts_plugin_manager *m);

#endif
