/* report_select.h — the k-th smallest of a stream of doubles, exactly,
 * with bounded memory: the stream is read in passes (the caller re-reads
 * its file). Each pass counts the values of the current key range in
 * QTS_SEL_BUCKETS buckets and narrows the range to the bucket holding
 * rank k; once that bucket has at most QTS_SEL_COLLECT values, the next
 * pass keeps them and sorts them. Two passes in the usual case; never more
 * than ~7 (64 bits of key, 12 per counting pass). Memory per target:
 * 32 KiB of counts or 64 KiB of values, whatever the stream's length.
 * NaN values must be left out by the caller. Internal to the report.
 */
#ifndef QTS_REPORT_SELECT_H
#define QTS_REPORT_SELECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define QTS_SEL_BUCKETS 4096
#define QTS_SEL_COLLECT 8192

struct qts_sel {
    uint64_t k;      /* the rank wanted, 0-based, among every value fed per pass */
    uint64_t lo, hi; /* key range (inclusive) that holds rank k */
    uint64_t below;  /* values with a key under lo */
    bool collect;    /* this pass keeps the values of the range */
    bool done;
    double value;     /* the answer once done */
    uint64_t *counts; /* owned: QTS_SEL_BUCKETS counts while counting */
    double *vals;     /* owned: the range's values while collecting */
    size_t n_vals, cap_vals;
    uint64_t seen; /* values fed this pass (a check that passes agree) */
};

/* Ready for the first pass: rank k of a stream of n values (k < n). */
void qts_sel_init(struct qts_sel *s, uint64_t k);
void qts_sel_feed(struct qts_sel *s, double v);
/* End of a pass: 1 = s->value is the answer, 0 = read the stream again,
 * -1 = the stream changed between passes (fewer values than counted). */
int qts_sel_end_pass(struct qts_sel *s);
void qts_sel_free(struct qts_sel *s);

#endif /* QTS_REPORT_SELECT_H */
