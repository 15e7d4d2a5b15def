/* store_plugin.h — a store plugin served by the plugin manager, seen as a
 * store: the typed view (struct qts_store_port) the store writer and the
 * storage commands call.
 *
 * A store plugin is loaded like every other plugin: a slot of kind store in
 * a plugin manager, with the one host-services table (plugin_instance.h). In a
 * running host the slot is in the engine's manager, so the plugin gets the
 * run's clock (virtual in a replay), its timers and metrics and the secrets
 * lookup. `qts migrate`, `qts import`, the storage tests and benchmarks open
 * one on its own: a private loop and manager (no gen_dir: the file is
 * opened in place), the wall clock, metrics discarded, secrets from the
 * environment.
 *
 * Threads: migrate, write_batch, ping, load_state, query, maintain and
 * refresh_rollups run on the store writer thread (or the command's own
 * thread), outside the loop's call brackets. That is safe because a store
 * slot is never reloaded (plugin_manager.h) and the writer is stopped before
 * the manager stops the slot. The services a store plugin may call from
 * there are listed in plugin_instance.h.
 *
 * Configuration: the slot's `config:` subtree (its scalars, with their
 * file:line:col) plus key/value pairs the host derives, set over it.
 *
 * Store selection spec (the `--store` option):
 *   sqlite:PATH            store_sqlite with path=PATH
 *   postgres:CONNINFO      store_postgres with conninfo=CONNINFO
 *   postgres               store_postgres, conninfo from its secret
 *                          (store_postgres README)
 */
#ifndef QTS_STORE_PLUGIN_H
#define QTS_STORE_PLUGIN_H

#include "config_tree.h"
#include "plugin_manager.h"
#include "qts/qts_err.h"
#include "store_writer.h"

#define QTS_STORE_PLUGIN_MAX_KV 32

struct qts_store_plugin; /* opaque */

/* Add the slot "store" for the file `path` (copied) to `m`, init and start
 * it. `cfg` (the slot's `config:` subtree, may be NULL) is copied, and `kv`
 * (NULL-terminated key, value, ... pairs, dotted keys nest; may be NULL) is
 * set over it. *out is owned by the caller, on failure too (the manager may
 * still hold the slot's configuration): close it after the manager has
 * stopped the slot (qts_plugin_manager_close), and stop the store writer
 * before that. The port is valid only on success. */
int qts_store_plugin_add(struct qts_plugin_manager *m, const char *path,
                         const struct qts_cfg_node *cfg, const char *const *kv,
                         struct qts_store_plugin **out, struct qts_err *err);

/* On its own: the plugin `name` ("store_sqlite") from `plugin_dir` (NULL =
 * $QTS_PLUGIN_DIR, else the build's plugin folder), configured by `kv` (as
 * above, copied). On success *out is owned by the caller
 * (qts_store_plugin_close). */
int qts_store_plugin_open(const char *plugin_dir, const char *name, const char *const *kv,
                          struct qts_store_plugin **out, struct qts_err *err);
/* Same, from a `--store` spec plus extra key/value pairs (may be NULL). */
int qts_store_plugin_open_spec(const char *spec, const char *const *extra_kv,
                               struct qts_store_plugin **out, struct qts_err *err);

/* The ops table and instance (borrowed, valid until close). */
const struct qts_store_port *qts_store_plugin_port(const struct qts_store_plugin *p);

/* On its own: stop, destroy and unload. Added to a manager: free what the
 * slot was given (the manager has stopped it). NULL is a no-op. */
void qts_store_plugin_close(struct qts_store_plugin *p);

#endif
