/* prom_text.h — the Prometheus text exposition format (version 0.0.4),
 * written to a stdio stream (an open_memstream buffer, normally).
 *
 * A family is announced once (# HELP, # TYPE) and then has samples; label
 * sets are passed pre-formatted (`stage="send",side="buy"`), their values
 * escaped with qts_prom_label_value. Histograms come from the host's HDR
 * latency histograms (nanoseconds) as classic cumulative buckets in seconds.
 */
#ifndef QTS_PROM_TEXT_H
#define QTS_PROM_TEXT_H

#include <stddef.h>
#include <stdio.h>

#include "hdr_hist.h"

/* type: "counter", "gauge" or "histogram"; help: one line */
void qts_prom_family(FILE *f, const char *name, const char *type, const char *help);

/* `name{labels} value`; labels "" or NULL = none */
void qts_prom_sample(FILE *f, const char *name, const char *labels, double value);

/* name_bucket{labels,le="..."} cumulative counts at fixed bounds from 1 us
 * to 10 s (1-2.5-5 steps) and +Inf, then name_sum (seconds) and
 * name_count. A value is counted under the first bound its HDR bucket's
 * upper end does not exceed, so a bucket edge is off by at most 1/64. */
void qts_prom_histogram_ns(FILE *f, const char *name, const char *labels,
                           const struct qts_hdr_hist *h);

/* The same from counts already in buckets: counts[i] (non-cumulative) of
 * values up to upper_ns[i], counts[n] above them all; sum in ns. */
void qts_prom_histogram_counts(FILE *f, const char *name, const char *labels,
                               const int64_t *upper_ns, const uint64_t *counts, size_t n,
                               double sum_ns);

/* `s` escaped for a label value (backslash, double quote, newline) into out
 * (always NUL-terminated, cut to fit). */
void qts_prom_label_value(char *out, size_t cap, const char *s);

#endif /* QTS_PROM_TEXT_H */
