/* hdr_hist.c — see hdr_hist.h. */
#include "hdr_hist.h"

#include <stdio.h>
#include <string.h>

void qts_hdr_init(struct qts_hdr_hist *h) { memset(h, 0, sizeof *h); }

void qts_hdr_reset(struct qts_hdr_hist *h) { qts_hdr_init(h); }

static unsigned msb64(uint64_t v) { return 63u - (unsigned)__builtin_clzll(v); }

size_t qts_hdr_index(int64_t v)
{
    if (v < QTS_HDR_SUB_COUNT)
        return v < 0 ? 0 : (size_t)v;
    /* v >= 128: keep the top 7 significant bits; shift >= 1 */
    unsigned shift = msb64((uint64_t)v) - (QTS_HDR_SUB_BITS - 1);
    uint64_t sub = ((uint64_t)v >> shift) - QTS_HDR_HALF; /* 0..63 */
    return QTS_HDR_SUB_COUNT + (size_t)(shift - 1) * QTS_HDR_HALF + (size_t)sub;
}

int64_t qts_hdr_bucket_low(size_t idx)
{
    if (idx < QTS_HDR_SUB_COUNT)
        return (int64_t)idx;
    size_t k = idx - QTS_HDR_SUB_COUNT;
    unsigned shift = (unsigned)(k / QTS_HDR_HALF) + 1;
    uint64_t sub = (uint64_t)(k % QTS_HDR_HALF) + QTS_HDR_HALF;
    return (int64_t)(sub << shift);
}

int64_t qts_hdr_bucket_high(size_t idx)
{
    if (idx < QTS_HDR_SUB_COUNT)
        return (int64_t)idx;
    size_t k = idx - QTS_HDR_SUB_COUNT;
    unsigned shift = (unsigned)(k / QTS_HDR_HALF) + 1;
    uint64_t low = (uint64_t)qts_hdr_bucket_low(idx);
    uint64_t high = low + ((UINT64_C(1) << shift) - 1);
    return high > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)high;
}

void qts_hdr_record(struct qts_hdr_hist *h, int64_t v)
{
    if (v < 0)
        v = 0;
    h->buckets[qts_hdr_index(v)]++;
    if (h->count == 0 || v < h->min)
        h->min = v;
    if (h->count == 0 || v > h->max)
        h->max = v;
    h->count++;
    h->sum += (double)v;
}

void qts_hdr_merge(struct qts_hdr_hist *dst, const struct qts_hdr_hist *src)
{
    if (src->count == 0)
        return;
    for (size_t i = 0; i < QTS_HDR_BUCKETS; i++)
        dst->buckets[i] += src->buckets[i];
    if (dst->count == 0 || src->min < dst->min)
        dst->min = src->min;
    if (dst->count == 0 || src->max > dst->max)
        dst->max = src->max;
    dst->count += src->count;
    dst->sum += src->sum;
}

int64_t qts_hdr_percentile(const struct qts_hdr_hist *h, double pct)
{
    if (h->count == 0)
        return 0;
    if (pct < 0)
        pct = 0;
    if (pct > 100)
        pct = 100;
    /* rank of the wanted value, 1-based; at least the first value */
    uint64_t rank = (uint64_t)((pct / 100.0) * (double)h->count + 0.5);
    if (rank < 1)
        rank = 1;
    if (rank > h->count)
        rank = h->count;
    uint64_t seen = 0;
    for (size_t i = 0; i < QTS_HDR_BUCKETS; i++) {
        seen += h->buckets[i];
        if (seen >= rank) {
            int64_t v = qts_hdr_bucket_high(i);
            if (v > h->max)
                v = h->max;
            if (v < h->min)
                v = h->min;
            return v;
        }
    }
    return h->max;
}

double qts_hdr_mean(const struct qts_hdr_hist *h)
{
    return h->count ? h->sum / (double)h->count : 0.0;
}

int qts_hdr_json(const struct qts_hdr_hist *h, char *buf, size_t cap)
{
    return snprintf(buf, cap,
                    "{\"n\":%llu,\"min\":%lld,\"p50\":%lld,\"p90\":%lld,"
                    "\"p99\":%lld,\"p999\":%lld,\"max\":%lld,\"mean\":%.1f}",
                    (unsigned long long)h->count, (long long)(h->count ? h->min : 0),
                    (long long)qts_hdr_percentile(h, 50), (long long)qts_hdr_percentile(h, 90),
                    (long long)qts_hdr_percentile(h, 99), (long long)qts_hdr_percentile(h, 99.9),
                    (long long)(h->count ? h->max : 0), qts_hdr_mean(h));
}
