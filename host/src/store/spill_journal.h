/* spill_journal.h — the store writer's on-disk spill journal.
 *
 * When the database cannot take records, the store writer appends them here
 * and replays them, in order, once it is back. The file is append-only:
 *
 *   record := magic u32 "QSJ1" | len u32 | seq u64 | crc u32 | pad u32 | payload[len]
 *
 * `payload` is the flat store record (qts_store.h), `seq` its rec_id and
 * `crc` the CRC-32 of seq and payload. On open the file is scanned; a torn
 * or corrupt tail (a crash in the middle of an append) is cut off at the
 * last good record. Replay progress is kept in "<path>.ack" (the highest
 * confirmed seq, replaced atomically), so a restart resumes after the last
 * confirmed batch; records between the last ack and a crash are written
 * again and dropped by the store's idempotent keys. When every record is
 * confirmed the journal is truncated to zero and the ack file removed.
 *
 * fsync policy (see docs/storage.md):
 * - QTS_JOURNAL_FSYNC_BATCH: fdatasync after every append call (one spilled
 *   batch); a record acknowledged as spilled survives a power loss.
 * - QTS_JOURNAL_FSYNC_INTERVAL: at most every `fsync_interval_ms` (and on
 *   qts_spill_journal_sync/close); a power loss may lose that window.
 * - QTS_JOURNAL_FSYNC_NEVER: leave it to the kernel (a process crash loses
 *   nothing, a power loss may).
 *
 * Threading: one thread (the store writer) uses a journal at a time.
 */
#ifndef QTS_SPILL_JOURNAL_H
#define QTS_SPILL_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#include "qts/qts_err.h"
#include "qts/qts_store.h"

enum qts_journal_fsync {
    QTS_JOURNAL_FSYNC_NEVER = 0,
    QTS_JOURNAL_FSYNC_BATCH = 1,
    QTS_JOURNAL_FSYNC_INTERVAL = 2,
};

struct qts_spill_journal;

/* Open or create `path` (copied). Scans and repairs the file. */
int qts_spill_journal_open(const char *path, int fsync_policy, int64_t fsync_interval_ms,
                           struct qts_spill_journal **out, struct qts_err *err);
/* Sync and close; NULL is a no-op. */
void qts_spill_journal_close(struct qts_spill_journal *j);

/* Append `n` records (borrowed) in order, each under seq = rec_id. */
int qts_spill_journal_append(struct qts_spill_journal *j,
                             const struct qts_store_record *const *recs, size_t n,
                             struct qts_err *err);
/* fdatasync now (INTERVAL policy: called by the writer when idle). */
int qts_spill_journal_sync(struct qts_spill_journal *j);

/* Read up to `max` unconfirmed records after the read cursor into `out`
 * (caller storage); *n_out = number read (0 at the end). */
int qts_spill_journal_read(struct qts_spill_journal *j, union qts_store_any *out, size_t max,
                           size_t *n_out, struct qts_err *err);
/* Everything read so far up to `seq` is in the database: record it, and
 * truncate the journal when nothing unconfirmed is left. */
int qts_spill_journal_confirm(struct qts_spill_journal *j, uint64_t seq, struct qts_err *err);
/* Move the read cursor back to the first unconfirmed record (after a
 * failed replay batch). */
void qts_spill_journal_rewind(struct qts_spill_journal *j);

/* Records appended and not yet confirmed. */
uint64_t qts_spill_journal_pending(const struct qts_spill_journal *j);
/* Highest seq ever appended to this file (0 if empty). */
uint64_t qts_spill_journal_last_seq(const struct qts_spill_journal *j);
/* Current file size in bytes. */
uint64_t qts_spill_journal_bytes(const struct qts_spill_journal *j);

#endif
