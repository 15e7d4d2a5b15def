/* exec_split.c — see exec_split.h. */
#include "exec_split.h"

#include <math.h>
#include <string.h>

#include "qts/qts_err.h"

/* Equal lots over n slices, the remainder one lot each to the first ones. */
static int plan_equal(int64_t total_lots, int64_t lot, uint32_t n, int64_t duration_ns,
                      struct qts_slice *out)
{
    int64_t base = total_lots / n, extra = total_lots % n;
    for (uint32_t i = 0; i < n; i++) {
        out[i].qty = (base + ((int64_t)i < extra ? 1 : 0)) * lot;
        out[i].offset_ns = duration_ns > 0 ? duration_ns * (int64_t)i / (int64_t)n : 0;
        out[i].sent = 0;
    }
    return (int)n;
}

static int plan_vwap(int64_t total_lots, int64_t lot, const double *w, size_t nw,
                     uint32_t max_children, int64_t duration_ns, struct qts_slice *out, int *capped)
{
    /* Merge neighbouring buckets when the profile has more buckets than we
     * may have children, so the shape is kept at a coarser resolution. */
    double merged[QTS_SPLIT_MAX];
    uint32_t n = (uint32_t)nw;
    if (n > max_children) {
        n = max_children;
        *capped = 1;
    }
    memset(merged, 0, sizeof merged);
    for (size_t i = 0; i < nw; i++)
        merged[i * n / nw] += w[i] > 0 ? w[i] : 0;
    double sum = 0;
    for (uint32_t i = 0; i < n; i++)
        sum += merged[i];
    if (!(sum > 0))
        return 0;
    int64_t given = 0;
    int k = 0;
    for (uint32_t i = 0; i < n; i++) {
        int64_t l;
        if (i + 1 == n)
            l = total_lots - given; /* the last bucket takes the remainder */
        else
            l = (int64_t)floor((double)total_lots * merged[i] / sum);
        given += l;
        if (l <= 0)
            continue;
        out[k].qty = l * lot;
        out[k].offset_ns = duration_ns > 0 ? duration_ns * (int64_t)i / (int64_t)n : 0;
        out[k].sent = 0;
        k++;
    }
    return k;
}

/* TWAP (and VWAP without a usable profile): equal slices over the
 * duration, at most `maxc` of them (*capped set when cut) and no more than
 * there are lots. */
static int plan_twap(const struct qts_split_req *req, int64_t total_lots, int64_t lot,
                     uint32_t maxc, struct qts_slice *out, int *capped)
{
    uint32_t n = req->slices ? req->slices : req->default_slices;
    if (n == 0)
        n = 1;
    if (n > maxc) {
        n = maxc;
        *capped = 1;
    }
    if ((int64_t)n > total_lots)
        n = (uint32_t)total_lots;
    return plan_equal(total_lots, lot, n, req->duration_ns, out);
}

int qts_split_plan(const struct qts_split_req *req, struct qts_slice *out, size_t cap, int *capped)
{
    int dummy = 0;
    if (!capped)
        capped = &dummy;
    *capped = 0;
    if (!req || !out || cap == 0 || req->qty <= 0)
        return QTS_EINVAL;
    int64_t lot = req->lot > 1 ? req->lot : 1;
    if (req->qty % lot)
        return QTS_EINVAL;
    int64_t total_lots = req->qty / lot;
    uint32_t maxc = req->max_children ? req->max_children : 1;
    if (maxc > cap)
        maxc = (uint32_t)cap;
    if (maxc > QTS_SPLIT_MAX)
        maxc = QTS_SPLIT_MAX;

    switch (req->algo) {
    case QTS_ALGO_DIRECT: return plan_equal(total_lots, lot, 1, 0, out);
    case QTS_ALGO_TWAP: return plan_twap(req, total_lots, lot, maxc, out, capped);
    case QTS_ALGO_VWAP: {
        int k = 0;
        if (req->profile && req->n_profile > 0)
            k = plan_vwap(total_lots, lot, req->profile, req->n_profile, maxc, req->duration_ns,
                          out, capped);
        if (k > 0)
            return k;
        /* no usable profile: equal weights */
        return plan_twap(req, total_lots, lot, maxc, out, capped);
    }
    case QTS_ALGO_ICEBERG: {
        int64_t disp_lots = req->display_qty > 0 ? req->display_qty / lot : 0;
        if (disp_lots <= 0)
            disp_lots = (total_lots + maxc - 1) / maxc;
        int64_t n = (total_lots + disp_lots - 1) / disp_lots;
        if (n > (int64_t)maxc) {
            /* too many chunks: show more at a time */
            disp_lots = (total_lots + maxc - 1) / maxc;
            n = (total_lots + disp_lots - 1) / disp_lots;
            *capped = 1;
        }
        int64_t left = total_lots;
        for (int64_t i = 0; i < n; i++) {
            int64_t l = left < disp_lots ? left : disp_lots;
            out[i].qty = l * lot;
            out[i].offset_ns = 0;
            out[i].sent = 0;
            left -= l;
        }
        return (int)n;
    }
    default: return QTS_EINVAL;
    }
}

size_t qts_split_profile_from_bars(const struct qts_bar *bars, size_t n_bars, double *out,
                                   size_t cap)
{
    size_t n = n_bars < cap ? n_bars : cap;
    /* use the most recent `n` bars, oldest first */
    const struct qts_bar *b = bars + (n_bars - n);
    double sum = 0;
    for (size_t i = 0; i < n; i++) {
        out[i] = b[i].volume > 0 ? (double)b[i].volume : 0.0;
        sum += out[i];
    }
    return sum > 0 ? n : 0;
}
