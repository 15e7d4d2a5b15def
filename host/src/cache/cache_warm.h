/* cache_warm.h — warm start from the cache tier: read back the hashes the
 * cache writer keeps (positions, open orders, risk, strategies) after a
 * restart, so the core can compare them with the broker's reconciliation.
 * The cache is never authoritative: the broker and the store are.
 */
#ifndef QTS_CACHE_WARM_H
#define QTS_CACHE_WARM_H

#include <stddef.h>
#include <stdint.h>

#include "qts/qts_err.h"
#include "qts/qts_plugin.h"

/* One hash: `key` without the host prefix ("pos:BTCUSDT"); everything
 * borrowed for the call. */
typedef void (*qts_cache_warm_entry_fn)(void *arg, const char *key, const struct qts_str *fields,
                                        const struct qts_str *values, size_t n);
/* End: status 0 or the first error; n = hashes delivered. */
typedef void (*qts_cache_warm_done_fn)(void *arg, int status, size_t n);

/* Scan "pos:*", "ord:*", "risk:*" and "strat:*" in turn through
 * ops->scan_hashes. `ops`/`self` borrowed until done runs. Returns
 * QTS_EUNSUPPORTED when the plugin has no scan_hashes, QTS_ENET when the
 * cache is down (done is then not called). */
int qts_cache_warm_start(const struct qts_cache_ops *ops, void *self, qts_cache_warm_entry_fn entry,
                         qts_cache_warm_done_fn done, void *arg);

/* Field helpers for readers of cache hashes. Return 0, QTS_ENOENT (no such
 * field) or QTS_EPARSE. */
int qts_cache_field_fixed(const struct qts_str *fields, const struct qts_str *values, size_t n,
                          const char *name, unsigned exp, int64_t *out);
int qts_cache_field_str(const struct qts_str *fields, const struct qts_str *values, size_t n,
                        const char *name, char *buf, size_t cap);

#endif
