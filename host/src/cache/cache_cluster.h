/* cache_cluster.h — one host among several sharing a Redis (docs/cache.md,
 * "Several hosts"): the host's heartbeat and its ownership claims.
 *
 * - Heartbeat: the hash `hb` under the host's prefix (host_id, pid, mode,
 *   instruments, strategies, started_at, updated_at in wall-clock Unix ms,
 *   ttl_ms), written with a TTL of `ttl_ms` and re-written every ttl_ms / 3.
 *   `qts status --cluster` lists the hosts whose heartbeat is present: a
 *   host that dies drops out once its TTL has run.
 * - Claims (with `claim`): `own:inst:<symbol>` and `own:strat:<name>` under
 *   the shared prefix hold the owning host's id, set atomically only when
 *   free or already this host's (the plugin's `claim` operation), with the
 *   same TTL, renewed with the heartbeat. qts_cache_cluster_join waits for
 *   the answers at start: a key held by another live host refuses the
 *   start; claims are released when the host stops.
 *
 * All on the core loop thread. The plugin ops/self are borrowed (replaced
 * with qts_cache_cluster_set_target on a plugin reload).
 */
#ifndef QTS_CACHE_CLUSTER_H
#define QTS_CACHE_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "qts/qts_err.h"
#include "qts/qts_plugin.h"

struct qts_cache_cluster_cfg {
    const char *host_id;            /* borrowed for the call (copied) */
    const char *mode;               /* "replay" | "paper" | "live" (copied) */
    const char *const *instruments; /* symbols this host trades (copied) */
    size_t n_instruments;
    const char *const *strategies; /* enabled strategies' names (copied) */
    size_t n_strategies;
    int64_t ttl_ms; /* heartbeat and claims; > 0 */
    bool claim;     /* claim instruments and strategies */
};

struct qts_cache_cluster;

/* *out owned: qts_cache_cluster_free. Starts the heartbeat timer (never
 * keeps a run alive). */
int qts_cache_cluster_new(uv_loop_t *loop, const struct qts_cache_ops *ops, void *self,
                          const struct qts_cache_cluster_cfg *cfg, struct qts_cache_cluster **out,
                          struct qts_err *err);
/* Claim every instrument and strategy (cfg.claim) and wait for the
 * answers on `loop` for at most timeout_ms. 0 = all held by this host;
 * QTS_EBUSY = one is another live host's (err names the key and the
 * owner); QTS_ETIMEDOUT / QTS_ENET / QTS_EUNSUPPORTED with err set. Without
 * cfg.claim it writes the first heartbeat and returns 0. */
int qts_cache_cluster_join(struct qts_cache_cluster *c, int64_t timeout_ms, struct qts_err *err);
void qts_cache_cluster_set_target(struct qts_cache_cluster *c, const struct qts_cache_ops *ops,
                                  void *self);
/* Releases the claims and deletes the heartbeat (best effort: sent, not
 * waited for), closes the timer; the memory goes with the close callback. */
void qts_cache_cluster_free(struct qts_cache_cluster *c);

#endif /* QTS_CACHE_CLUSTER_H */
