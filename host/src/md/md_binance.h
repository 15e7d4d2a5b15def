/* md_binance.h — decoder for Binance raw WebSocket captures: one line per
 * message, `<local receive ns> <JSON>`, the JSON being a combined-stream
 * message {"stream":..., "data":{...}} (trade, bookTicker, depthUpdate; spot
 * and USD-M futures) or a REST depth snapshot {"lastUpdateId",...}.
 * docs/market-data.md describes the mapping onto qts events.
 */
#ifndef QTS_MD_BINANCE_H
#define QTS_MD_BINANCE_H

#include "md_common.h"

struct qts_md_binance {
    struct qts_md_symtab *syms; /* borrowed */
    struct qts_md_inst *cur;    /* last symbol seen: a snapshot belongs to it */
    int64_t exch_minus_recv_ns; /* last observed E - receive time */
    bool has_offset;
    struct qts_md_levels bids, asks; /* owned scratch for book events */
};

/* `syms` is borrowed and must outlive the decoder. */
void qts_md_binance_init(struct qts_md_binance *d, struct qts_md_symtab *syms);
void qts_md_binance_cleanup(struct qts_md_binance *d);

/* Decode one line (n bytes, need not be NUL-terminated). Returns 1 with *ev
 * filled (book levels borrowed until the next call), 0 for a line to ignore
 * (empty, or a stream type qts does not use), or QTS_EPARSE / QTS_ERANGE /
 * QTS_EINVAL with err saying what is wrong (the caller adds file:line). */
int qts_md_binance_decode(struct qts_md_binance *d, const char *line, size_t n,
                          union qts_md_event *ev, struct qts_err *err);

#endif /* QTS_MD_BINANCE_H */
