/* store_writer.c — see store_writer.h. */
#include "store_writer.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "clock.h"
#include "dead_letters.h"
#include "var_watch.h"
#include "log.h"
#include "util.h"

/* Control records (never journaled, never handed to write_batch). */
#define CTL_MAINTAIN 0x8001
#define CTL_REFRESH 0x8002

#define SLOT_SIZE ((sizeof(union qts_store_any) + 63) & ~(size_t)63)

struct overflow_node {
    struct overflow_node *next;
    union qts_store_any rec;
};

struct qts_store_writer {
    struct qts_store_port port;
    size_t cap, mask, batch_max;
    int64_t retry_ns;
    char *journal_path; /* owned */
    struct qts_spill_journal *journal;
    struct qts_spill_journal *dead; /* opened on first use */
    uint64_t dead_at_start;         /* records in <journal>.dead at creation */
    struct qts_var_watch watch;     /* writer thread only */
    int64_t next_watch_ns;
    atomic_uint dirs_lost;
    unsigned char *slots; /* cap * SLOT_SIZE, owned */

    /* producer side */
    _Alignas(64) atomic_size_t head;
    size_t tail_cache;
    uint64_t next_id;
    struct overflow_node *ov_head, *ov_tail;
    uint64_t pushed, overflowed;

    /* consumer side */
    _Alignas(64) atomic_size_t tail;
    atomic_uint_fast64_t done; /* records written, spilled or dead */
    atomic_int spilling;       /* journal in use */
    atomic_int stop;
    atomic_uint_fast64_t st_written, st_spilled, st_replayed, st_dead, st_batches, st_pending;
    atomic_uint_fast64_t st_maint, st_maint_failed;
    int64_t next_retry_ns;
    int need_migrate;           /* the schema is not applied yet (database down at start) */
    union qts_store_any *batch; /* batch_max records, owned */
    const struct qts_store_record **ptrs;
    pthread_t thread;
    int started;
};

/* --------------------------------------------------------------- producer */

static int ring_put(struct qts_store_writer *w, const struct qts_store_record *rec)
{
    size_t head = atomic_load_explicit(&w->head, memory_order_relaxed);
    if (head - w->tail_cache >= w->cap) {
        w->tail_cache = atomic_load_explicit(&w->tail, memory_order_acquire);
        if (head - w->tail_cache >= w->cap)
            return -1;
    }
    memcpy(w->slots + (head & w->mask) * SLOT_SIZE, rec, rec->struct_size);
    atomic_store_explicit(&w->head, head + 1, memory_order_release);
    return 0;
}

void qts_store_writer_poll(struct qts_store_writer *w)
{
    while (w->ov_head) {
        if (ring_put(w, &w->ov_head->rec.h) != 0)
            return;
        struct overflow_node *n = w->ov_head;
        w->ov_head = n->next;
        if (!w->ov_head)
            w->ov_tail = NULL;
        free(n);
    }
}

static int push_raw(struct qts_store_writer *w, const struct qts_store_record *rec)
{
    w->pushed++;
    if (QTS_LIKELY(!w->ov_head) && ring_put(w, rec) == 0)
        return 0;
    qts_store_writer_poll(w);
    if (!w->ov_head && ring_put(w, rec) == 0)
        return 0;
    struct overflow_node *n = qts_xmalloc(sizeof *n);
    n->next = NULL;
    memcpy(&n->rec, rec, rec->struct_size);
    if (w->ov_tail)
        w->ov_tail->next = n;
    else
        w->ov_head = n;
    w->ov_tail = n;
    if (w->overflowed++ % 10000 == 0)
        QTS_WARN("store writer ring full: records held in overflow overflowed=%llu",
                 (unsigned long long)w->overflowed);
    return 0;
}

int qts_store_writer_push(struct qts_store_writer *w, const struct qts_store_record *rec,
                          uint64_t *rec_id_out)
{
    if (QTS_UNLIKELY(rec->struct_size < sizeof *rec ||
                     rec->struct_size > sizeof(union qts_store_any) || rec->kind == 0 ||
                     /* the read-side kinds are never written */
                     rec->kind == QTS_REC_FEEDBACK_AGG || rec->kind == QTS_REC_DAILY_METRIC ||
                     rec->kind >= QTS_REC_KIND_COUNT))
        return QTS_EINVAL;
    uint64_t id = w->next_id++;
    if (rec_id_out)
        *rec_id_out = id;
    if (QTS_LIKELY(!w->ov_head)) {
        size_t head = atomic_load_explicit(&w->head, memory_order_relaxed);
        if (head - w->tail_cache < w->cap ||
            head - (w->tail_cache = atomic_load_explicit(&w->tail, memory_order_acquire)) <
                w->cap) {
            unsigned char *slot = w->slots + (head & w->mask) * SLOT_SIZE;
            memcpy(slot, rec, rec->struct_size);
            ((struct qts_store_record *)(void *)slot)->rec_id = id;
            w->pushed++;
            atomic_store_explicit(&w->head, head + 1, memory_order_release);
            /* take ownership of the next slot's first lines now, off the
             * next push's critical path */
            unsigned char *next = w->slots + ((head + 1) & w->mask) * SLOT_SIZE;
            __builtin_prefetch(next, 1, 3);
            __builtin_prefetch(next + 64, 1, 3);
            return 0;
        }
    }
    union qts_store_any tmp;
    memcpy(&tmp, rec, rec->struct_size);
    tmp.h.rec_id = id;
    return push_raw(w, &tmp.h);
}

static int push_ctl(struct qts_store_writer *w, uint16_t kind, int64_t now_ns)
{
    struct qts_store_record r = {sizeof r, kind, 0, 0, now_ns};
    return push_raw(w, &r);
}

int qts_store_writer_request_maintain(struct qts_store_writer *w, int64_t now_ns)
{
    return push_ctl(w, CTL_MAINTAIN, now_ns);
}

int qts_store_writer_request_refresh(struct qts_store_writer *w, int64_t now_ns)
{
    return push_ctl(w, CTL_REFRESH, now_ns);
}

static void sleep_ms(int ms)
{
    struct timespec ts = {0, (long)ms * 1000000L};
    nanosleep(&ts, NULL);
}

int qts_store_writer_flush(struct qts_store_writer *w, int64_t timeout_ms)
{
    int64_t deadline = qts_mono_ns() + timeout_ms * 1000000;
    uint64_t target = w->pushed;
    for (;;) {
        qts_store_writer_poll(w);
        if (atomic_load(&w->done) >= target)
            return 0;
        if (qts_mono_ns() >= deadline)
            return QTS_ETIMEDOUT;
        sleep_ms(1);
    }
}

int qts_store_writer_drain(struct qts_store_writer *w, int64_t timeout_ms)
{
    int64_t deadline = qts_mono_ns() + timeout_ms * 1000000;
    int rc = qts_store_writer_flush(w, timeout_ms);
    if (rc)
        return rc;
    while (atomic_load(&w->spilling)) {
        if (qts_mono_ns() >= deadline)
            return QTS_ETIMEDOUT;
        sleep_ms(1);
    }
    return 0;
}

/* --------------------------------------------------------------- consumer */

static int dead_letter(struct qts_store_writer *w, const struct qts_store_record *r,
                       const struct qts_err *why)
{
    struct qts_err e;
    if (!w->dead) {
        size_t n = strlen(w->journal_path) + 6;
        char *p = qts_xmalloc(n);
        snprintf(p, n, "%s.dead", w->journal_path);
        int rc = qts_spill_journal_open(p, QTS_JOURNAL_FSYNC_BATCH, 0, &w->dead, &e);
        free(p);
        if (rc)
            return rc;
    }
    QTS_ERROR("store refused a record: kept in dead-letter journal kind=%u rec_id=%llu err=%s",
              r->kind, (unsigned long long)r->rec_id, why->msg);
    return qts_spill_journal_append(w->dead, &r, 1, &e);
}

static int db_alive(struct qts_store_writer *w)
{
    if (!w->port.ops->ping)
        return 1;
    struct qts_err e;
    return w->port.ops->ping(w->port.self, &e) == 0;
}

/* Write `n` records. Returns 0 when every record is in the database or the
 * dead-letter journal, or <0 when the database is away (nothing written). */
static int write_records(struct qts_store_writer *w, const struct qts_store_record **recs, size_t n)
{
    struct qts_err e;
    qts_err_clear(&e);
    int rc = w->port.ops->write_batch(w->port.self, recs, n, &e);
    if (rc == 0) {
        atomic_fetch_add(&w->st_batches, 1);
        return 0;
    }
    /* an I/O error (disk full, a file gone) is the database being away,
     * not a bad record: spill and retry rather than dead-letter */
    if (rc == QTS_EBUSY || rc == QTS_ENET || rc == QTS_ECLOSED || rc == QTS_ETIMEDOUT ||
        rc == QTS_EIO || !db_alive(w)) {
        QTS_WARN("store unavailable, spilling to journal err=%s", e.msg);
        return rc < 0 ? rc : QTS_EDB;
    }
    /* the database is there but refused the batch: find the bad record(s) */
    for (size_t i = 0; i < n; i++) {
        qts_err_clear(&e);
        rc = w->port.ops->write_batch(w->port.self, &recs[i], 1, &e);
        if (rc == 0)
            continue;
        if (!db_alive(w))
            return rc; /* went away in the middle: the caller spills all; keys dedup */
        if (dead_letter(w, recs[i], &e) != 0)
            return QTS_EIO;
        atomic_fetch_add(&w->st_dead, 1);
    }
    atomic_fetch_add(&w->st_batches, 1);
    return 0;
}

static void spill(struct qts_store_writer *w, const struct qts_store_record **recs, size_t n)
{
    struct qts_err e;
    for (;;) {
        if (qts_spill_journal_append(w->journal, recs, n, &e) == 0)
            break;
        /* disk trouble: keep trying, a record is never dropped */
        QTS_ERROR("spill journal append failed, retrying err=%s", e.msg);
        sleep_ms(100);
    }
    atomic_fetch_add(&w->st_spilled, n);
    atomic_store(&w->st_pending, qts_spill_journal_pending(w->journal));
}

static void run_ctl(struct qts_store_writer *w, const struct qts_store_record *r)
{
    if (atomic_load(&w->spilling))
        return; /* the database is away: the next timer tick asks again */
    struct qts_err e;
    qts_err_clear(&e);
    int rc = 0;
    if (r->kind == CTL_MAINTAIN && w->port.ops->maintain)
        rc = w->port.ops->maintain(w->port.self, r->ts_ns, &e);
    else if (r->kind == CTL_REFRESH && w->port.ops->refresh_rollups)
        rc = w->port.ops->refresh_rollups(w->port.self, r->ts_ns, &e);
    atomic_fetch_add(&w->st_maint, 1);
    if (rc < 0) {
        atomic_fetch_add(&w->st_maint_failed, 1);
        QTS_WARN("store %s failed err=%s",
                 r->kind == CTL_MAINTAIN ? "maintenance" : "rollup refresh", e.msg);
    }
}

/* Pop up to `max` records into w->batch; control records are run in place
 * (after the data before them is handled). Returns the number popped. */
static size_t pop_batch(struct qts_store_writer *w, size_t max, int *ctl_hit)
{
    size_t tail = atomic_load_explicit(&w->tail, memory_order_relaxed);
    size_t head = atomic_load_explicit(&w->head, memory_order_acquire);
    size_t n = 0;
    *ctl_hit = 0;
    while (tail != head && n < max) {
        const struct qts_store_record *r = (const void *)(w->slots + (tail & w->mask) * SLOT_SIZE);
        if (r->kind >= CTL_MAINTAIN) {
            if (n > 0)
                break; /* handle the data first */
            run_ctl(w, r);
            tail++;
            atomic_store_explicit(&w->tail, tail, memory_order_release);
            atomic_fetch_add(&w->done, 1);
            *ctl_hit = 1;
            return 0;
        }
        memcpy(&w->batch[n], r, r->struct_size);
        w->ptrs[n] = &w->batch[n].h;
        n++;
        tail++;
    }
    atomic_store_explicit(&w->tail, tail, memory_order_release);
    return n;
}

/* Replay the journal while the database takes it. Between chunks, new
 * records in the ring are appended to the journal so the ring keeps moving
 * and order is kept. */
static void replay(struct qts_store_writer *w)
{
    struct qts_err e;
    int64_t now = qts_mono_ns();
    if (now < w->next_retry_ns)
        return;
    if (!db_alive(w)) {
        w->next_retry_ns = now + w->retry_ns;
        return;
    }
    if (w->need_migrate) {
        /* the database was down when the host started: its schema first */
        qts_err_clear(&e);
        int rc = w->port.ops->migrate(w->port.self, &e);
        if (rc < 0) {
            QTS_WARN("store reachable but migrations failed, still spilling err=%s", e.msg);
            w->next_retry_ns = qts_mono_ns() + w->retry_ns;
            return;
        }
        QTS_INFO("store reachable: migrations applied=%d", rc);
        w->need_migrate = 0;
    }
    QTS_INFO("store reachable again, replaying journal pending=%llu",
             (unsigned long long)qts_spill_journal_pending(w->journal));
    for (;;) {
        size_t n = 0;
        if (qts_spill_journal_read(w->journal, w->batch, w->batch_max, &n, &e) != 0) {
            QTS_ERROR("spill journal read failed err=%s", e.msg);
            qts_spill_journal_rewind(w->journal);
            w->next_retry_ns = qts_mono_ns() + w->retry_ns;
            return;
        }
        if (n == 0)
            break;
        for (size_t i = 0; i < n; i++)
            w->ptrs[i] = &w->batch[i].h;
        if (write_records(w, w->ptrs, n) != 0) {
            qts_spill_journal_rewind(w->journal);
            w->next_retry_ns = qts_mono_ns() + w->retry_ns;
            return;
        }
        if (qts_spill_journal_confirm(w->journal, w->batch[n - 1].h.rec_id, &e) != 0)
            QTS_ERROR("spill journal confirm failed err=%s", e.msg);
        atomic_fetch_add(&w->st_replayed, n);
        atomic_store(&w->st_pending, qts_spill_journal_pending(w->journal));
        if (atomic_load(&w->stop))
            break; /* shutting down: the rest stays in the journal for the next start */
        /* keep the ring flowing: new records join the end of the journal */
        int ctl;
        size_t k;
        while ((k = pop_batch(w, w->batch_max, &ctl)) > 0 || ctl) {
            if (k) {
                spill(w, w->ptrs, k);
                atomic_fetch_add(&w->done, k);
            }
        }
    }
    if (qts_spill_journal_pending(w->journal) == 0) {
        atomic_store(&w->spilling, 0);
        atomic_store(&w->st_pending, 0);
        QTS_INFO("spill journal replayed; writing directly again");
    }
}

/* About once a second: the directories the records live in still there? */
static void watch_dirs(struct qts_store_writer *w)
{
    int64_t now = qts_mono_ns();
    if (now < w->next_watch_ns)
        return;
    w->next_watch_ns = now + 1000000000;
    const char *lost;
    while ((lost = qts_var_watch_check(&w->watch)) != NULL) {
        atomic_fetch_add(&w->dirs_lost, 1);
        QTS_ERROR("records directory %s was removed or replaced under the running host: files "
                  "still open there (run files, journal, an SQLite database) are lost at exit; "
                  "stop the host and restore it",
                  lost);
    }
}

static void *writer_main(void *arg)
{
    struct qts_store_writer *w = arg;
    for (;;) {
        watch_dirs(w);
        if (atomic_load(&w->spilling))
            replay(w);
        int ctl;
        size_t n = pop_batch(w, w->batch_max, &ctl);
        if (n == 0) {
            if (ctl)
                continue;
            if (atomic_load(&w->stop) && atomic_load_explicit(&w->head, memory_order_acquire) ==
                                             atomic_load_explicit(&w->tail, memory_order_relaxed))
                break;
            if (atomic_load(&w->spilling))
                qts_spill_journal_sync(w->journal);
            sleep_ms(1);
            continue;
        }
        if (!atomic_load(&w->spilling)) {
            if (write_records(w, w->ptrs, n) == 0) {
                atomic_fetch_add(&w->st_written, n);
                atomic_fetch_add(&w->done, n);
                continue;
            }
            atomic_store(&w->spilling, 1);
            w->next_retry_ns = qts_mono_ns() + w->retry_ns;
        }
        spill(w, w->ptrs, n);
        atomic_fetch_add(&w->done, n);
    }
    qts_spill_journal_sync(w->journal);
    return NULL;
}

/* --------------------------------------------------------------- lifecycle */

/* Dead letters left by an earlier run are said at start: they are records
 * the store refused, kept in <journal>.dead; the host does not replay them
 * on its own (`qts store replay-dead` does, dead_letters.h). */
static uint64_t report_dead_letters(const char *journal_path)
{
    char p[1100];
    snprintf(p, sizeof p, "%s.dead", journal_path);
    struct qts_err e;
    qts_err_clear(&e);
    int64_t n = qts_dead_letters_count(p, &e);
    if (n < 0) {
        QTS_WARN("store dead-letter journal %s unreadable err=%s", p, e.msg);
        return 0;
    }
    if (n)
        QTS_WARN("store dead letters: %lld records the store refused are kept in %s "
                 "(qts store replay-dead writes them again)",
                 (long long)n, p);
    return (uint64_t)n;
}

int qts_store_writer_new(const struct qts_store_port *port, const struct qts_store_writer_opts *o,
                         struct qts_store_writer **out, struct qts_err *err)
{
    if (!port || !port->ops || !port->ops->write_batch || !o || !o->journal_path)
        return qts_err_set(err, QTS_EINVAL, "store writer: port and journal_path are required");
    struct qts_store_writer *w = qts_xcalloc(1, sizeof *w);
    w->port = *port;
    size_t cap = o->queue_cap ? o->queue_cap : 16384;
    w->cap = 1;
    while (w->cap < cap)
        w->cap <<= 1;
    w->mask = w->cap - 1;
    w->batch_max = o->batch_max ? o->batch_max : 5000;
    w->retry_ns = (o->retry_ms ? o->retry_ms : 1000) * 1000000;
    w->journal_path = qts_xstrdup(o->journal_path);
    int rc = qts_spill_journal_open(o->journal_path, o->fsync_policy,
                                    o->fsync_interval_ms ? o->fsync_interval_ms : 1000, &w->journal,
                                    err);
    if (rc) {
        free(w->journal_path);
        free(w);
        return rc;
    }
    /* touched now, so the hot path never takes a first-touch page fault */
    w->slots = qts_xmalloc(w->cap * SLOT_SIZE);
    memset(w->slots, 0, w->cap * SLOT_SIZE);
    w->batch = qts_xmalloc(w->batch_max * sizeof *w->batch);
    w->ptrs = qts_xmalloc(w->batch_max * sizeof *w->ptrs);
    uint64_t wall = (uint64_t)qts_wall_ns();
    uint64_t last = qts_spill_journal_last_seq(w->journal);
    w->next_id = (last + 1 > wall ? last + 1 : wall);
    if (qts_spill_journal_pending(w->journal) > 0 || o->migrate_pending) {
        atomic_store(&w->spilling, 1);
        w->need_migrate = o->migrate_pending;
    }
    w->dead_at_start = report_dead_letters(w->journal_path);
    qts_var_watch_init(&w->watch, o->watch_dirs);
    atomic_store(&w->st_pending, qts_spill_journal_pending(w->journal));
    *out = w;
    return 0;
}

int qts_store_writer_start(struct qts_store_writer *w, struct qts_err *err)
{
    if (w->started)
        return 0;
    atomic_store(&w->stop, 0);
    int rc = pthread_create(&w->thread, NULL, writer_main, w);
    if (rc != 0)
        return qts_err_set(err, QTS_ESYS, "store writer: pthread_create: %s", strerror(rc));
    w->started = 1;
    return 0;
}

void qts_store_writer_stop(struct qts_store_writer *w)
{
    if (!w || !w->started)
        return;
    while (w->ov_head) {
        qts_store_writer_poll(w);
        if (w->ov_head)
            sleep_ms(1);
    }
    atomic_store(&w->stop, 1);
    pthread_join(w->thread, NULL);
    w->started = 0;
}

void qts_store_writer_free(struct qts_store_writer *w)
{
    if (!w)
        return;
    qts_store_writer_stop(w);
    while (w->ov_head) { /* never started: the overflow is lost with the ring */
        struct overflow_node *n = w->ov_head;
        w->ov_head = n->next;
        free(n);
    }
    qts_spill_journal_close(w->journal);
    qts_spill_journal_close(w->dead);
    qts_free_all(w->journal_path, w->slots, w->batch, w->ptrs, w);
}

uint32_t qts_store_writer_dirs_lost(const struct qts_store_writer *w)
{
    return atomic_load_explicit(&((struct qts_store_writer *)w)->dirs_lost, memory_order_relaxed);
}

void qts_store_writer_get_stats(struct qts_store_writer *w, struct qts_store_writer_stats *o)
{
    memset(o, 0, sizeof *o);
    o->pushed = w->pushed;
    o->overflowed = w->overflowed;
    o->written = atomic_load(&w->st_written);
    o->spilled = atomic_load(&w->st_spilled);
    o->replayed = atomic_load(&w->st_replayed);
    o->dead = atomic_load(&w->st_dead);
    o->dead_kept = w->dead_at_start + o->dead;
    o->batches = atomic_load(&w->st_batches);
    o->journal_pending = atomic_load(&w->st_pending);
    o->maint_runs = atomic_load(&w->st_maint);
    o->maint_failed = atomic_load(&w->st_maint_failed);
    o->db_up = !atomic_load(&w->spilling);
    o->dirs_lost = atomic_load(&w->dirs_lost);
}
