/* config_reload.h — the running configuration and its reload.
 *
 * A holder owns one reference to the current snapshot. Readers take their
 * own reference (qts_config_holder_get) and drop it when done, so a reload
 * never frees a snapshot someone is still reading. A reload loads the same
 * path again; only a snapshot that loads without a single error replaces the
 * current one, so a broken file leaves the running configuration in place.
 *
 * Threads: get/reload may be called from any thread. The SIGHUP helper runs
 * on the uv loop it was started on; the on_reload callback runs there too.
 */
#ifndef QTS_CONFIG_RELOAD_H
#define QTS_CONFIG_RELOAD_H

#include <pthread.h>
#include <stdint.h>
#include <uv.h>

#include "config.h"

struct qts_config_holder;

/* Called after a successful reload with the new snapshot (borrowed; take a
 * reference to keep it past the call). */
typedef void (*qts_config_reload_fn)(void *ud, struct qts_config *next);
/* Called with a snapshot that loaded cleanly, before it replaces the
 * current one, to add what only the caller can see (a plugin slot's config:
 * against the key table of the plugin loaded in it); any diagnostic added
 * rejects the snapshot like a load error. `next` is borrowed. */
typedef void (*qts_config_check_fn)(void *ud, const struct qts_config *next, struct qts_diags *d);

struct qts_config_holder {
    pthread_mutex_t mu;     /* guards `cur` for the pointer load + ref only */
    struct qts_config *cur; /* owned reference */
    char *path;             /* owned copy of the file reloads read */
    uint64_t reloads_ok;    /* counters (loop thread / under mu) */
    uint64_t reloads_failed;
    qts_config_reload_fn on_reload;
    void *on_reload_ud;
    qts_config_check_fn check; /* optional */
    void *check_ud;
    uv_signal_t sighup; /* valid while has_signal */
    int has_signal;
};

/* Take ownership of `initial` (one reference) and remember its path. */
void qts_config_holder_init(struct qts_config_holder *h, struct qts_config *initial);
/* Drop the current snapshot. Stop the signal watcher first. */
void qts_config_holder_cleanup(struct qts_config_holder *h);

/* A new reference to the current snapshot: owned by the caller (unref it). */
struct qts_config *qts_config_holder_get(struct qts_config_holder *h);

/* Reload from the holder's path. 0: the new snapshot is current. QTS_ECONFIG:
 * errors are in `diags` (may be NULL) and the old snapshot stays current. */
int qts_config_reload(struct qts_config_holder *h, struct qts_diags *diags);

/* Reload on SIGHUP on `loop`: a failed reload logs every diagnostic at error
 * level and keeps the old snapshot. Returns 0 or a negative QTS code. */
int qts_config_watch_sighup(struct qts_config_holder *h, uv_loop_t *loop);
/* Stop watching: closes the uv handle (run the loop once more to finish the
 * close before qts_config_holder_cleanup). */
void qts_config_unwatch_sighup(struct qts_config_holder *h);

#endif /* QTS_CONFIG_RELOAD_H */
