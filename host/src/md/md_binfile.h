/* md_binfile.h — qts's own binary event file, for fast repeated replays.
 *
 * Layout (little-endian, docs/market-data.md): a 16-byte header
 * "QTSEVT01" + u32 version + u32 flags, then records. Every record starts
 * with u8 type, u8 flags, u16 file-local instrument index, u32 total record
 * length; instrument records (type 16) define an index before its first use
 * and carry the symbol, venue and exponents. Event records continue with
 * i64 ts_exch_ns, i64 ts_recv_ns and their payload.
 */
#ifndef QTS_MD_BINFILE_H
#define QTS_MD_BINFILE_H

#include <stdio.h>

#include "md_common.h"

#define QTS_MD_BIN_MAGIC "QTSEVT01"
#define QTS_MD_BIN_VERSION 1u
#define QTS_MD_BIN_INST 16u
#define QTS_MD_BIN_HDR 16u

struct qts_md_binwriter {
    FILE *fp;      /* owned */
    char *iobuf;   /* owned */
    uint32_t *map; /* symtab index -> file index + 1 (0 = not written) */
    size_t map_n;
    uint32_t n_inst;
    uint64_t n_events;
    uint8_t scratch[256];
};

int qts_md_binwriter_open(struct qts_md_binwriter *w, const char *path, struct qts_err *err);
/* Append one event; `in` (borrowed) is the instrument of ev (its index must be
 * stable: a symtab entry). */
int qts_md_binwriter_write(struct qts_md_binwriter *w, const struct qts_md_inst *in,
                           const union qts_md_event *ev, struct qts_err *err);
/* Flush and close; returns QTS_EIO if any write failed. */
int qts_md_binwriter_close(struct qts_md_binwriter *w, struct qts_err *err);

struct qts_md_binreader {
    struct qts_md_symtab *syms; /* borrowed */
    struct qts_md_inst **insts; /* file index -> symtab entry (borrowed entries) */
    uint32_t n_insts, cap_insts;
    bool header_ok;
    struct qts_md_levels bids, asks; /* owned scratch */
};

void qts_md_binreader_init(struct qts_md_binreader *r, struct qts_md_symtab *syms);
void qts_md_binreader_cleanup(struct qts_md_binreader *r);
/* Read the next record from f. 1 = event, 0 = end of file, QTS_EPARSE /
 * QTS_ERANGE = malformed record (skipped when its length is sane; a bad
 * length or header ends the file with QTS_EIO), QTS_EIO = damaged file. */
int qts_md_binreader_next(struct qts_md_binreader *r, struct qts_md_file *f, union qts_md_event *ev,
                          struct qts_err *err);

#endif /* QTS_MD_BINFILE_H */
