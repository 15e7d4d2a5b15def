/* tca_csv.h — tca.csv written a row at a time (tca.h: rows in the order
 * their orders became final, one line per row, fixed formats, NaN as an
 * empty field). Rows go to <path>.tmp, opened on the first row; close
 * moves it into place. Internal to the feedback subsystem; core thread.
 */
#ifndef QTS_TCA_CSV_H
#define QTS_TCA_CSV_H

#include <stdbool.h>
#include <stdio.h>

#include "qts/qts_err.h"
#include "tca.h"

struct qts_tca_csv {
    FILE *f; /* owned; NULL until the first row */
    char path[1024], tmp[1040];
    bool on;
    int err; /* first write error, returned by close */
    char msg[1200];
};

/* Rows will go to `path` (borrowed for the call). 0, QTS_EINVAL or QTS_ESTATE. */
int qts_tca_csv_open(struct qts_tca_csv *c, const char *path, struct qts_err *err);
/* One row (borrowed); false when not open or after a write error. */
bool qts_tca_csv_put(struct qts_tca_csv *c, const struct qts_tca_row *r);
/* Hand the buffered rows to the file. */
void qts_tca_csv_sync(struct qts_tca_csv *c);
/* Header if no row came, close, rename into place. 0 or QTS_EIO (the .tmp
 * removed); 0 when not open. */
int qts_tca_csv_close(struct qts_tca_csv *c, struct qts_err *err);
/* Close and remove the .tmp: a run that never finished. */
void qts_tca_csv_discard(struct qts_tca_csv *c);

#endif /* QTS_TCA_CSV_H */
