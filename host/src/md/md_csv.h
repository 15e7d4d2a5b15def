/* md_csv.h — CSV decoders for trades, quotes and OHLCV bars.
 *
 * The first line is a header naming the columns (case-insensitive, any
 * order, unknown columns ignored); docs/market-data.md lists the accepted
 * names. The time column is the one named time/timestamp/timestamp_utc/
 * date/ts, or the first column when its name is empty. A `symbol` column is
 * optional; without it every row belongs to the configured symbol.
 */
#ifndef QTS_MD_CSV_H
#define QTS_MD_CSV_H

#include "md_common.h"

enum qts_md_csv_kind {
    QTS_MD_CSV_TRADES = 1,
    QTS_MD_CSV_QUOTES = 2,
    QTS_MD_CSV_BARS = 3,
};

#define QTS_MD_CSV_MAXCOL 32

struct qts_md_csv {
    int kind;                    /* enum qts_md_csv_kind */
    struct qts_md_symtab *syms;  /* borrowed */
    char symbol[QTS_SYMBOL_MAX]; /* default symbol ("" = must have a column) */
    int64_t bar_period_ns; /* bars: period (0 = by the first time: a date, 1 day; else 60 s) */
    bool has_header;
    int c_ts, c_sym, c_a, c_b, c_c, c_d, c_e, c_f, c_g; /* column indexes, -1 absent */
    int ncols;
};

/* The kind of CSV a header line names (format auto): bars when it has
 * open, high, low and close columns, quotes with bid and ask prices, trades
 * with price and qty; 0 when it names none of them. */
int qts_md_csv_guess(const char *line, size_t n);

/* `syms` borrowed; `symbol` copied (may be NULL). `bar_period_ns` 0: a
 * file whose first time is a date without a time of day holds daily bars,
 * any other 1-minute bars. */
int qts_md_csv_init(struct qts_md_csv *c, int kind, struct qts_md_symtab *syms, const char *symbol,
                    int64_t bar_period_ns, struct qts_err *err);
/* Decode one line: 1 = event, 0 = header/empty line, < 0 = malformed;
 * QTS_ECONFIG when the header is unusable (the file cannot be read). */
int qts_md_csv_decode(struct qts_md_csv *c, const char *line, size_t n, union qts_md_event *ev,
                      struct qts_err *err);

#endif /* QTS_MD_CSV_H */
