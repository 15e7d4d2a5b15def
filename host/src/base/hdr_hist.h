/* hdr_hist.h — log-linear latency histogram (HDR-style).
 *
 * Values (non-negative int64, normally nanoseconds) are counted in buckets
 * whose width grows with the value: values below 128 are exact, above that
 * every power of two is split into 64 equal sub-buckets, so any recorded
 * value is known to within 1/64 (1.6 %) of itself. Recording is O(1) with
 * no allocation; the whole histogram is a fixed array, so it can be embedded,
 * copied and merged (bucket-wise addition) without loss.
 */
#ifndef QTS_HDR_HIST_H
#define QTS_HDR_HIST_H

#include <stddef.h>
#include <stdint.h>

#define QTS_HDR_SUB_BITS 7 /* 128 exact values */
#define QTS_HDR_SUB_COUNT (1 << QTS_HDR_SUB_BITS)
#define QTS_HDR_HALF (QTS_HDR_SUB_COUNT / 2)
/* 128 exact buckets, then 64 per power of two from 2^7 up to 2^63. */
#define QTS_HDR_BUCKETS (QTS_HDR_SUB_COUNT + (63 - QTS_HDR_SUB_BITS + 1) * QTS_HDR_HALF)

struct qts_hdr_hist {
    uint64_t count;
    int64_t min, max;
    double sum; /* for the mean; not exact */
    uint64_t buckets[QTS_HDR_BUCKETS];
};

void qts_hdr_init(struct qts_hdr_hist *h);
void qts_hdr_reset(struct qts_hdr_hist *h);
/* Record one value; negative values are clamped to 0. */
void qts_hdr_record(struct qts_hdr_hist *h, int64_t v);
/* Add every count of `src` (borrowed) into `dst`. */
void qts_hdr_merge(struct qts_hdr_hist *dst, const struct qts_hdr_hist *src);
/* Value at percentile `pct` (0..100): the highest value equivalent to the
 * bucket holding that rank, clamped to [min, max]. 0 when empty. */
int64_t qts_hdr_percentile(const struct qts_hdr_hist *h, double pct);
double qts_hdr_mean(const struct qts_hdr_hist *h);
/* Bucket index of a value, and the lowest/highest value of a bucket
 * (exposed for tests). */
size_t qts_hdr_index(int64_t v);
int64_t qts_hdr_bucket_low(size_t idx);
int64_t qts_hdr_bucket_high(size_t idx);
/* JSON object {"n":..,"min":..,"p50":..,"p90":..,"p99":..,"p999":..,
 * "max":..,"mean":..} into buf (always NUL-terminated); returns the length
 * snprintf would have written. */
int qts_hdr_json(const struct qts_hdr_hist *h, char *buf, size_t cap);

#endif /* QTS_HDR_HIST_H */
