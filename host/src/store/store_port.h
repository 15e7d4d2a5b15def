/* store_port.h — open a store plugin on its own, outside the plugin
 * manager: for `qts migrate`, `qts import` and the storage tests and
 * benchmarks. It opens <plugin_dir>/store_<backend>.so in place through
 * the plugin loader (qts_plugin_lib_open_in_place: the same permission and
 * descriptor checks as every plugin, kind store), and gives the plugin a
 * small host-services table whose configuration is a flat list of
 * key/value pairs (the plugin's `config:` subtree, dotted).
 *
 * Store selection spec (the `--store` option):
 *   sqlite:PATH            store_sqlite with path=PATH
 *   postgres:CONNINFO      store_postgres with conninfo=CONNINFO
 *   postgres               store_postgres, conninfo from $QTS_PG_CONNINFO
 */
#ifndef QTS_STORE_PORT_H
#define QTS_STORE_PORT_H

#include "qts/qts_err.h"
#include "store_writer.h"

#define QTS_STORE_PORT_MAX_KV 32

struct qts_store_plugin;

/* Open and start the plugin `name` ("store_sqlite") from `plugin_dir`
 * (NULL = $QTS_PLUGIN_DIR, else the build's plugin folder). `kv` is a
 * NULL-terminated list of key, value, key, value ... (copied). On success
 * *out is owned by the caller (qts_store_plugin_close). */
int qts_store_plugin_open(const char *plugin_dir, const char *name, const char *const *kv,
                          struct qts_store_plugin **out, struct qts_err *err);
/* Same, from a `--store` spec plus extra key/value pairs (may be NULL). */
int qts_store_plugin_open_spec(const char *spec, const char *const *extra_kv,
                               struct qts_store_plugin **out, struct qts_err *err);
/* The ops table and instance (borrowed, valid until close). */
const struct qts_store_port *qts_store_plugin_port(const struct qts_store_plugin *p);
/* Stop, destroy and unload; NULL is a no-op. */
void qts_store_plugin_close(struct qts_store_plugin *p);

#endif
