/* store_writer.h — hands durable records from the core loop to a store
 * plugin on its own thread, so the core never waits on a database.
 *
 * Hand-off: qts_store_writer_push() copies the record into a bounded
 * single-producer/single-consumer ring (the producer is the core loop
 * thread) and returns; it never blocks and never drops. If the ring is full
 * the record goes to a producer-side overflow list (heap, FIFO, counted in
 * `overflowed`); the overflow is moved into the ring, in order, on the next
 * push or qts_store_writer_poll(). That is the back-pressure valve: a writer
 * that falls behind costs memory and a warning, never a record.
 *
 * Writer thread: takes up to `batch_max` records at a time and calls the
 * store's write_batch (one transaction). If the store fails and its ping
 * fails too (database gone), the batch and everything after it go to the
 * spill journal (spill_journal.h) until a ping succeeds, then the journal
 * is replayed in order, in batches, before new records are written again.
 * If the store fails but answers ping (a record it cannot take), the batch
 * is retried record by record and each record still refused is appended to
 * the dead-letter journal "<journal>.dead" and logged: never lost, never
 * blocking the rest.
 *
 * rec_id: assigned at push, strictly increasing, starting above both the
 * wall clock in ns at creation and the journal's last seq, so ids stay
 * unique per host across restarts. Stores key appends on (host_id, rec_id).
 *
 * An I/O error of the store (QTS_EIO: disk full, file gone) counts as the
 * database being away: the batch is spilled and retried, not dead-lettered.
 * Dead letters left by earlier runs are reported (logged) at creation.
 *
 * Maintenance (partitions/retention) and rollup refresh requests travel
 * through the same ring, so they run on the writer thread between batches;
 * the core schedules them from its timers with its own clock's "now".
 */
#ifndef QTS_STORE_WRITER_H
#define QTS_STORE_WRITER_H

#include <stddef.h>
#include <stdint.h>

#include "qts/qts_err.h"
#include "qts/qts_plugin.h"
#include "qts/qts_store.h"
#include "spill_journal.h"

/* A store plugin instance as the writer sees it: its ops table and self.
 * Both borrowed: they must outlive the writer. */
struct qts_store_port {
    const struct qts_store_ops *ops;
    void *self;
};

struct qts_store_writer_opts {
    size_t queue_cap;          /* ring slots, rounded up to a power of two; 0 = 16384 */
    size_t batch_max;          /* records per write_batch; 0 = 5000 */
    const char *journal_path;  /* copied; required */
    int fsync_policy;          /* enum qts_journal_fsync; default BATCH */
    int64_t fsync_interval_ms; /* INTERVAL policy; 0 = 1000 */
    int64_t retry_ms;          /* ping interval while the database is away; 0 = 1000 */
    int migrate_pending;       /* 1: migrate failed at start (database down): start
                                * spilling, run the store's migrate when it answers,
                                * then replay */
    /* directories the run's records live in (var_dir, the run's directory;
     * NULL-terminated, copied, may be NULL): checked about once a second
     * on the writer thread, a removed one is logged (ERROR) and counted in
     * `dirs_lost` (var_watch.h) */
    const char *const *watch_dirs;
};

struct qts_store_writer_stats {
    uint64_t pushed;     /* records handed over (including overflow) */
    uint64_t written;    /* committed directly */
    uint64_t spilled;    /* appended to the spill journal */
    uint64_t replayed;   /* committed from the journal */
    uint64_t dead;       /* refused by the store, kept in the dead-letter journal */
    uint64_t dead_kept;  /* in the dead-letter journal: left by earlier runs + `dead` */
    uint64_t overflowed; /* pushes that found the ring full */
    uint64_t batches;    /* write_batch calls that succeeded */
    uint64_t journal_pending;
    uint64_t maint_runs, maint_failed;
    int db_up;          /* 1 = writing directly, 0 = spilling */
    uint32_t dirs_lost; /* watched directories found removed or replaced */
};

struct qts_store_writer;

/* Create (no thread yet). Opens the journal; pending journal records are
 * replayed first once the writer starts. */
int qts_store_writer_new(const struct qts_store_port *port, const struct qts_store_writer_opts *o,
                         struct qts_store_writer **out, struct qts_err *err);
int qts_store_writer_start(struct qts_store_writer *w, struct qts_err *err);
/* Drain the ring and the overflow (writing or spilling), join, keep the
 * journal for the next start. Producer thread. */
void qts_store_writer_stop(struct qts_store_writer *w);
/* Stops first; NULL ok. Records pushed to a writer that was never started
 * are discarded with it. */
void qts_store_writer_free(struct qts_store_writer *w);

/* Producer thread only. `rec` is copied (rec->struct_size bytes); its
 * rec_id is assigned here and returned in *rec_id_out (may be NULL).
 * Returns 0, or QTS_EINVAL for a malformed record. */
int qts_store_writer_push(struct qts_store_writer *w, const struct qts_store_record *rec,
                          uint64_t *rec_id_out);
/* Producer thread: move overflow into the ring (call once per loop turn). */
void qts_store_writer_poll(struct qts_store_writer *w);
/* Producer thread: queue partition maintenance / rollup refresh as of now_ns. */
int qts_store_writer_request_maintain(struct qts_store_writer *w, int64_t now_ns);
int qts_store_writer_request_refresh(struct qts_store_writer *w, int64_t now_ns);

/* Producer thread, for tests and shutdown: wait until every record pushed
 * so far has been written or spilled (QTS_ETIMEDOUT after timeout_ms). */
int qts_store_writer_flush(struct qts_store_writer *w, int64_t timeout_ms);
/* Same, and additionally until the journal is empty (the database has all
 * of it). */
int qts_store_writer_drain(struct qts_store_writer *w, int64_t timeout_ms);

/* Any thread: watched directories found removed so far (stats.dirs_lost),
 * one atomic load. */
uint32_t qts_store_writer_dirs_lost(const struct qts_store_writer *w);

void qts_store_writer_get_stats(struct qts_store_writer *w, struct qts_store_writer_stats *out);

#endif
