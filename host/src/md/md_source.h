/* md_source.h — one market-data file read as a stream of events, whatever
 * its format: opens the file, runs the right decoder, enforces the
 * malformed-record policy (count, describe with file and line or byte offset,
 * skip) and checks that receive times never go backwards.
 */
#ifndef QTS_MD_SOURCE_H
#define QTS_MD_SOURCE_H

#include "md_binance.h"
#include "md_binfile.h"
#include "md_common.h"
#include "md_csv.h"

enum qts_md_format {
    QTS_MD_FMT_AUTO = 0, /* binary by magic, Binance by line shape */
    QTS_MD_FMT_BINANCE = 1,
    QTS_MD_FMT_CSV_TRADES = 2,
    QTS_MD_FMT_CSV_QUOTES = 3,
    QTS_MD_FMT_CSV_BARS = 4,
    QTS_MD_FMT_BINARY = 5,
};

/* "auto", "binance", "csv-trades", "csv-quotes", "csv-bars", "binary";
 * QTS_EINVAL for anything else. */
int qts_md_format_parse(const char *name);
const char *qts_md_format_name(int fmt);

struct qts_md_source_opts {
    int format;            /* enum qts_md_format */
    const char *symbol;    /* CSV default symbol (borrowed during open) */
    int64_t bar_period_ns; /* CSV bars; 0 = 60 s */
};

struct qts_md_source {
    struct qts_md_file file;
    int format;
    struct qts_md_binance bn;
    struct qts_md_csv csv;
    struct qts_md_binreader bin;
    int64_t last_recv_ns;
    uint64_t n_events;
    uint64_t n_malformed;
    uint64_t n_ignored;
    bool failed; /* the file is damaged: no more records */
};

/* `syms` borrowed, must outlive the source. */
int qts_md_source_open(struct qts_md_source *s, const char *path,
                       const struct qts_md_source_opts *opts, struct qts_md_symtab *syms,
                       struct qts_err *err);
void qts_md_source_close(struct qts_md_source *s);

/* Next event: 1 = *ev filled (book levels borrowed until the next call),
 * 0 = end of file. A malformed record returns QTS_EPARSE / QTS_ERANGE with
 * `bad` = "path:line: why" (or "path@byte N: why") and is skipped: call
 * again. A damaged file (truncated gzip, broken binary framing) returns
 * QTS_EIO once with its description; every later call returns 0. */
int qts_md_source_next(struct qts_md_source *s, union qts_md_event *ev, struct qts_err *bad);

double qts_md_source_progress(const struct qts_md_source *s);

#endif /* QTS_MD_SOURCE_H */
