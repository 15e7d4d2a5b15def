/* safety_persist.h — the safety latches on disk: <var_dir>/safety.json,
 * written the moment a latch changes and read back at start, before any
 * strategy or order (docs/safety.md, "Persistence").
 *
 * The file is replaced atomically: written to safety.json.tmp, fsync'd,
 * renamed over safety.json, and the directory fsync'd, so a reader (or a
 * restart after kill -9 or a power cut) sees the old state or the new one,
 * never half of one.
 *
 * Fail-safe: a file that exists but cannot be read or parsed is moved aside
 * (safety.json.bad-<unix time>) and the host starts in LOCKDOWN with the
 * kill switch on; only `qts resume --approve` leaves it. A missing file is
 * a fresh host (NORMAL).
 */
#ifndef QTS_SAFETY_PERSIST_H
#define QTS_SAFETY_PERSIST_H

#include <stddef.h>

#include "qts/qts_err.h"
#include "safety.h"

#define QTS_SAFETY_FILE_NAME "safety.json"

/* Write `l` (borrowed) to `path` atomically (header). 0 or QTS_EIO. */
int qts_safety_latch_write(const char *path, const struct qts_safety_latch *l, struct qts_err *err);
/* Read `path` into *l. 0; QTS_ENOENT when there is no file; QTS_EPARSE (or
 * QTS_EIO) with the reason in err when the file is unreadable or not a
 * complete state written by qts_safety_latch_write. */
int qts_safety_latch_read(const char *path, struct qts_safety_latch *l, struct qts_err *err);

struct uv_loop_s;
struct qts_safety_persist;

/* After each save, on the loop thread (or at once without a loop): the
 * latches as saved, for the store's record. `l` borrowed for the call. */
typedef void (*qts_safety_saved_fn)(void *ctx, const struct qts_safety_latch *l);

/* Restore <var_dir>/safety.json into `s` (borrowed; outlives the persist
 * object), then save every latch change to it. `loop` (may be NULL) carries
 * the on_saved calls back to the loop thread, since a change can come from
 * the watchdog thread; on_saved may be NULL. Never fails: an unusable file
 * gives the fail-safe start (header) and the status notes say so. */
struct qts_safety_persist *qts_safety_persist_open(struct qts_safety *s, const char *var_dir,
                                                   struct uv_loop_s *loop,
                                                   qts_safety_saved_fn on_saved, void *ctx);
/* Stops saving and delivers a pending on_saved call now (loop thread). The
 * loop must run once more to release the handle. NULL ok. */
void qts_safety_persist_close(struct qts_safety_persist *p);

#endif /* QTS_SAFETY_PERSIST_H */
