/* dead_letters.h — the records a store refused, kept by the store writer
 * in the dead-letter journal "<journal>.dead" (store_writer.h), counted and
 * given back to the store.
 *
 * A record is dead-lettered when the database answers but refuses it (a
 * constraint, a trigger, a value it cannot hold); it stays in the file,
 * never blocking the records behind it. Once the cause is fixed,
 * qts_dead_letters_replay() writes them again, in order: what the store
 * now takes leaves the file, what it still refuses stays. Re-applying is
 * idempotent: appends are keyed by (host_id, rec_id) and upserts only apply
 * when their rec_id is not older than the stored row's, so a record written
 * twice (a replay interrupted, then repeated) is one row.
 *
 * Not thread-safe against a host writing the same journal: replay with the
 * host stopped (`qts store replay-dead`, docs/storage.md).
 */
#ifndef QTS_DEAD_LETTERS_H
#define QTS_DEAD_LETTERS_H

#include <stdint.h>

#include "qts/qts_err.h"
#include "store_writer.h"

struct qts_dead_letters_stats {
    uint64_t found;   /* records in the file before */
    uint64_t written; /* now in the store (left the file) */
    uint64_t refused; /* still refused: kept in the file */
};

/* Records in the dead-letter journal `path` (0 when there is no file).
 * Returns >= 0, or a negative QTS_E* with err filled (unreadable file). */
int64_t qts_dead_letters_count(const char *path, struct qts_err *err);

/* Write every record of `path` to the store `port` (borrowed). Returns 0
 * when each record was written or is still refused (see *st), QTS_EDB when
 * the database went away in the middle (the file is left as it was: the
 * records already written are written again next time, once), or another
 * negative QTS_E* for an unreadable or unwritable file. */
int qts_dead_letters_replay(const struct qts_store_port *port, const char *path,
                            struct qts_dead_letters_stats *st, struct qts_err *err);

#endif
