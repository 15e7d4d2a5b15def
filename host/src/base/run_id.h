/* run_id.h — the name of one run of the host.
 *
 * A run id is made once at start, names the run's directory
 * (<var_dir>/runs/<run id>/) and is stamped on what the run records
 * elsewhere, so two runs never mix. It is not written into summary.json:
 * that file stays a function of the data and the configuration, so two
 * replays of the same input compare byte for byte. Its form,
 * YYYYMMDD-HHMMSS-xxxxxx (UTC wall time of the start and 24 random bits),
 * sorts by start time and is unique across hosts sharing a store.
 *
 * <var_dir>/runs/latest is a symbolic link to the newest run's directory.
 */
#ifndef QTS_RUN_ID_H
#define QTS_RUN_ID_H

#include <stddef.h>
#include <stdint.h>

#include "qts/qts_err.h"

#define QTS_RUN_ID_MAX 64

/* Writes a new run id for a run starting at `wall_ns` (Unix time, ns). */
void qts_run_id_make(char out[QTS_RUN_ID_MAX], int64_t wall_ns);

/* true when `name` can be a run id given by a user: 1..63 characters of
 * [A-Za-z0-9._-], not "." / ".." / "latest". */
int qts_run_id_valid(const char *name);

/* Points <runs_dir>/latest at `run_id` (relative link, replaced atomically).
 * A `latest` that is a real directory (from a host before run ids) is moved
 * aside to <runs_dir>/latest-<its mtime> first, so nothing is lost. */
int qts_run_id_link_latest(const char *runs_dir, const char *run_id, struct qts_err *err);

#endif /* QTS_RUN_ID_H */
