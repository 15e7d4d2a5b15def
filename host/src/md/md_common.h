/* md_common.h — pieces shared by the market-data decoders (md_binance,
 * md_csv, md_binfile, md_synth): the decoded-event union, the symbol table
 * with per-symbol exponents, the constant-memory file reader (plain or gzip)
 * and exact decimal parsing.
 *
 * These files are self-contained (util.c, zlib, libc) so feed plugins can
 * compile them in; they never log: errors come back as QTS_E* + qts_err.
 */
#ifndef QTS_MD_COMMON_H
#define QTS_MD_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "qts/qts_err.h"
#include "qts/qts_types.h"

/* One decoded market event. For QTS_EV_BOOK the level arrays are borrowed
 * from the decoder and valid until its next call. */
union qts_md_event {
    struct qts_ev_hdr h;
    struct qts_trade trade;
    struct qts_quote quote;
    struct qts_book_update book;
    struct qts_bar bar;
};

/* Growable level scratch owned by a decoder. */
struct qts_md_levels {
    struct qts_level *v; /* owned */
    uint32_t n, cap;
};
void qts_md_levels_push(struct qts_md_levels *l, int64_t px, int64_t qty);
void qts_md_levels_free(struct qts_md_levels *l);

/* ---------------------------------------------------------------- symbols */

#define QTS_MD_NO_ID UINT32_MAX

struct qts_md_inst {
    char symbol[QTS_SYMBOL_MAX];
    char venue[16];
    uint8_t px_exp, qty_exp;
    uint32_t id;    /* instrument id from the define callback */
    uint32_t index; /* position in the table, dense from 0 */
};

/* Called once per symbol the first time it is used; sets inst->id. */
typedef int (*qts_md_define_fn)(void *arg, struct qts_md_inst *inst, struct qts_err *err);

struct qts_md_symtab {
    struct qts_md_inst **v; /* owned, each entry owned */
    size_t n, cap;
    uint8_t def_px_exp, def_qty_exp; /* for symbols not configured */
    char def_venue[16];
    qts_md_define_fn define; /* may be NULL: ids are the index */
    void *define_arg;
    struct qts_md_inst *last; /* lookup cache */
};

/* Defaults: exponents 8/8, venue "unknown". */
void qts_md_symtab_init(struct qts_md_symtab *t);
void qts_md_symtab_cleanup(struct qts_md_symtab *t);
/* Configure symbols from "SYM:px_exp:qty_exp[,SYM:px:qty...]" (copied). */
int qts_md_symtab_configure(struct qts_md_symtab *t, const char *spec, struct qts_err *err);
/* Entry for a symbol (n bytes; case kept), created with the defaults when not
 * configured. The returned pointer is borrowed, valid until cleanup. The
 * define callback runs on first use. NULL with err on failure. */
struct qts_md_inst *qts_md_symtab_get(struct qts_md_symtab *t, const char *sym, size_t n,
                                      struct qts_err *err);
/* Add or replace an entry with exact exponents (binary files carry them).
 * QTS_ECONFIG if the symbol was configured with other exponents. */
struct qts_md_inst *qts_md_symtab_put(struct qts_md_symtab *t, const char *sym, const char *venue,
                                      unsigned px_exp, unsigned qty_exp, struct qts_err *err);

/* ---------------------------------------------------------------- numbers */

/* Exact decimal to fixed-point with `exp` decimals (same rules as
 * qts_parse_fixed: extra decimals must be zeros -> QTS_ERANGE; anything but
 * [-+]digits[.digits] -> QTS_EPARSE). Fast path for the decoders. */
int qts_md_parse_fixed(const char *s, size_t n, unsigned exp, int64_t *out);
/* The decoders' last step: magnitude *v read with `frac` decimals (frac <=
 * exp) widened to `exp` decimals. Returns 0, or QTS_ERANGE past INT64_MAX. */
static inline int qts_md_widen_decimals(uint64_t *v, unsigned frac, unsigned exp)
{
    if (frac < exp) {
        unsigned k = exp - frac;
        if (*v > (uint64_t)INT64_MAX / (uint64_t)qts_pow10_i64[k])
            return QTS_ERANGE;
        *v *= (uint64_t)qts_pow10_i64[k];
    }
    return 0;
}
/* Unsigned decimal integer, whole string. */
int qts_md_parse_u64(const char *s, size_t n, uint64_t *out);
/* Timestamp: integer epoch (unit by magnitude: s, ms, us or ns) or
 * "YYYY-MM-DD[ T]HH:MM:SS[.frac][Z|+hh:mm|-hh:mm]" or "YYYY-MM-DD", UTC. */
int qts_md_parse_time(const char *s, size_t n, int64_t *ns_out);

/* ---------------------------------------------------------------- files */

/* Sequential reader over a plain or gzip file (detected by magic) with a
 * bounded buffer: memory does not grow with file length, only with the
 * longest record (capped at QTS_MD_MAX_RECORD). */
#define QTS_MD_MAX_RECORD (64u << 20)

struct qts_md_file {
    int fd;
    void *gz;  /* gzFile when compressed, else NULL */
    char *buf; /* owned */
    size_t cap, len, pos;
    uint64_t buf_off; /* uncompressed offset of buf[0] */
    uint64_t line_no; /* number of the line last returned (1-based) */
    uint64_t rec_off; /* uncompressed offset of the record last returned */
    uint64_t size;    /* file size on disk, for progress */
    bool eof;
    int read_err; /* QTS_EIO once a read failed or gzip is truncated */
    char err_msg[128];
    char path[512];
};

int qts_md_file_open(struct qts_md_file *f, const char *path, struct qts_err *err);
void qts_md_file_close(struct qts_md_file *f);
/* Next line without its '\n' (and '\r'). Returns 1 with *line borrowed until
 * the next call, 0 at the end, QTS_EIO when the file is damaged (err says
 * why, without the path: callers add file and line; reading stops),
 * QTS_ERANGE for a line over the cap (skipped). */
int qts_md_file_line(struct qts_md_file *f, const char **line, size_t *n, struct qts_err *err);
/* Make `need` bytes available at *p (borrowed until the next call). Returns
 * the number available (< need only at the end or on error), or QTS_EIO. */
long qts_md_file_peek(struct qts_md_file *f, size_t need, const uint8_t **p, struct qts_err *err);
void qts_md_file_consume(struct qts_md_file *f, size_t n);
/* Fraction of the file on disk consumed, 0..1. */
double qts_md_file_progress(const struct qts_md_file *f);

#endif /* QTS_MD_COMMON_H */
