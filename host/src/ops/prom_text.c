/* prom_text.c — see prom_text.h. */
#include "prom_text.h"

#include <math.h>
#include <stdint.h>

#include "util.h"

void qts_prom_family(FILE *f, const char *name, const char *type, const char *help)
{
    fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void put_value(FILE *f, double v)
{
    if (isnan(v))
        fputs("NaN", f);
    else if (isinf(v))
        fputs(v > 0 ? "+Inf" : "-Inf", f);
    else if (v == (double)(int64_t)v && fabs(v) < 9e15)
        fprintf(f, "%lld", (long long)v); /* counters print as integers */
    else
        fprintf(f, "%.17g", v);
}

void qts_prom_sample(FILE *f, const char *name, const char *labels, double value)
{
    if (labels && *labels)
        fprintf(f, "%s{%s} ", name, labels);
    else
        fprintf(f, "%s ", name);
    put_value(f, value);
    fputc('\n', f);
}

/* Bucket bounds in nanoseconds: 1, 2.5, 5 per decade from 1 us to 10 s. */
static const int64_t bounds_ns[] = {
    1000,      2500,      5000,       10000,      25000,      50000,      100000,   250000,
    500000,    1000000,   2500000,    5000000,    10000000,   25000000,   50000000, 100000000,
    250000000, 500000000, 1000000000, 2500000000, 5000000000, 10000000000};

void qts_prom_histogram_ns(FILE *f, const char *name, const char *labels,
                           const struct qts_hdr_hist *h)
{
    const char *sep = labels && *labels ? "," : "";
    const char *lab = labels ? labels : "";
    size_t b = 0;
    uint64_t below = 0;
    for (size_t k = 0; k < QTS_ARRAY_LEN(bounds_ns); k++) {
        for (; b < QTS_HDR_BUCKETS && qts_hdr_bucket_high(b) <= bounds_ns[k]; b++)
            below += h->buckets[b];
        fprintf(f, "%s_bucket{%s%sle=\"%g\"} %llu\n", name, lab, sep, (double)bounds_ns[k] / 1e9,
                (unsigned long long)below);
    }
    fprintf(f, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name, lab, sep, (unsigned long long)h->count);
    char full[160];
    snprintf(full, sizeof full, "%s_sum", name);
    qts_prom_sample(f, full, labels, h->sum / 1e9);
    snprintf(full, sizeof full, "%s_count", name);
    qts_prom_sample(f, full, labels, (double)h->count);
}

void qts_prom_label_value(char *out, size_t cap, const char *s)
{
    size_t n = 0;
    for (; *s && n + 3 < cap; s++) {
        if (*s == '\\' || *s == '"') {
            out[n++] = '\\';
            out[n++] = *s;
        } else if (*s == '\n') {
            out[n++] = '\\';
            out[n++] = 'n';
        } else {
            out[n++] = *s;
        }
    }
    if (cap)
        out[n < cap ? n : cap - 1] = '\0';
}

void qts_prom_histogram_counts(FILE *f, const char *name, const char *labels,
                               const int64_t *upper_ns, const uint64_t *counts, size_t n,
                               double sum_ns)
{
    const char *lab = labels ? labels : "", *sep = lab[0] ? "," : "";
    unsigned long long cum = 0;
    for (size_t k = 0; k < n; k++) {
        cum += counts[k];
        fprintf(f, "%s_bucket{%s%sle=\"%g\"} %llu\n", name, lab, sep, (double)upper_ns[k] / 1e9,
                cum);
    }
    cum += counts[n];
    fprintf(f, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name, lab, sep, cum);
    char full[160];
    snprintf(full, sizeof full, "%s_sum", name);
    qts_prom_sample(f, full, labels, sum_ns / 1e9);
    snprintf(full, sizeof full, "%s_count", name);
    qts_prom_sample(f, full, labels, (double)cum);
}
