/* report_io.h — file helpers shared by the run-file writer (run_files.c)
 * and the renderer (report.c): whole files are written under a .tmp name
 * and moved into place, so a reader never sees half a file. Internal to
 * the report subsystem.
 */
#ifndef QTS_REPORT_IO_H
#define QTS_REPORT_IO_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "qts/qts_err.h"

struct qts_wfile {
    FILE *f; /* owned while open */
    char path[1024];
    char tmp[1040];
};

/* mkdir -p. Returns 0, QTS_EINVAL (path too long) or QTS_EIO. */
int qts_report_mkdir_p(const char *dir, struct qts_err *err);
/* Open <dir>/<name>.tmp for writing. Returns 0 or QTS_EIO. */
int qts_wfile_open(struct qts_wfile *w, const char *dir, const char *name, struct qts_err *err);
/* Close and rename into place; a write error removes the .tmp. 0 or QTS_EIO. */
int qts_wfile_close(struct qts_wfile *w, struct qts_err *err);
/* Close (if open) and remove the .tmp: a run whose files are not wanted. */
void qts_wfile_discard(struct qts_wfile *w);

/* CSV fields we write never need quoting: separators become '_'. */
void qts_csv_clean(char *dst, size_t cap, const char *src);
/* `src` as one RFC 4180 field: in double quotes, inner quotes doubled
 * (text that may hold commas, such as JSON). */
void qts_csv_write_quoted(FILE *f, const char *src);
/* A fixed-point value as text in buf (returned). */
const char *qts_report_fx(char *buf, size_t cap, int64_t v, unsigned exp);

#endif /* QTS_REPORT_IO_H */
