/* metrics.h — a small in-process registry of named counters and gauges.
 *
 * Plugins reach it through host->metric_add/metric_set (names prefixed with
 * the plugin name); host modules call it directly. Thread-safe: a mutex
 * guards the table, so a post from a plugin thread or the log writer may
 * update a metric too. Values are read in-process (tests, status output).
 */
#ifndef QTS_METRICS_H
#define QTS_METRICS_H

#include <stddef.h>
#include <stdint.h>

struct qts_metrics; /* opaque */

/* Owned by the caller; free with qts_metrics_free (NULL is a no-op). */
struct qts_metrics *qts_metrics_new(void);
void qts_metrics_free(struct qts_metrics *m);

/* `name` is copied on first use. Counter: add `delta`; gauge: set `value`. */
void qts_metrics_add(struct qts_metrics *m, const char *name, int64_t delta);
void qts_metrics_set(struct qts_metrics *m, const char *name, int64_t value);

/* Current value; 0 and QTS_ENOENT when the name was never written. */
int qts_metrics_get(struct qts_metrics *m, const char *name, int64_t *out);

/* Visit every metric (names borrowed for the call), in no fixed order.
 * The registry is locked during the walk: `fn` must not call back into it. */
void qts_metrics_foreach(struct qts_metrics *m,
                         void (*fn)(void *arg, const char *name, int64_t value), void *arg);

#endif
