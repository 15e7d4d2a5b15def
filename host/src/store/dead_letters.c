/* dead_letters.c — see dead_letters.h. */
#include "dead_letters.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "spill_journal.h"
#include "util.h"

#define CHUNK 256 /* records read and written at a time */

int64_t qts_dead_letters_count(const char *path, struct qts_err *err)
{
    struct stat st;
    if (stat(path, &st) != 0 || st.st_size == 0)
        return 0;
    struct qts_spill_journal *j = NULL;
    int rc = qts_spill_journal_open(path, QTS_JOURNAL_FSYNC_NEVER, 0, &j, err);
    if (rc != 0)
        return rc;
    int64_t n = (int64_t)qts_spill_journal_pending(j);
    qts_spill_journal_close(j);
    return n;
}

static bool db_away(const struct qts_store_port *port, int rc)
{
    if (rc == QTS_EBUSY || rc == QTS_ENET || rc == QTS_ECLOSED || rc == QTS_ETIMEDOUT ||
        rc == QTS_EIO)
        return true;
    struct qts_err e;
    return port->ops->ping && port->ops->ping(port->self, &e) != 0;
}

/* Write `n` records: the whole chunk in one transaction, else one by one;
 * the refused ones go to `keep`. QTS_EDB when the database is away. */
static int write_chunk(const struct qts_store_port *port, const struct qts_store_record **recs,
                       size_t n, struct qts_spill_journal *keep, struct qts_dead_letters_stats *st,
                       struct qts_err *err)
{
    struct qts_err e;
    qts_err_clear(&e);
    int rc = port->ops->write_batch(port->self, recs, n, &e);
    if (rc == 0) {
        st->written += n;
        return 0;
    }
    if (db_away(port, rc))
        return qts_err_set(err, QTS_EDB, "store unavailable: %s", e.msg);
    for (size_t i = 0; i < n; i++) {
        qts_err_clear(&e);
        rc = port->ops->write_batch(port->self, &recs[i], 1, &e);
        if (rc == 0) {
            st->written++;
            continue;
        }
        if (db_away(port, rc))
            return qts_err_set(err, QTS_EDB, "store unavailable: %s", e.msg);
        fprintf(stderr, "still refused: kind=%u rec_id=%llu: %s\n", recs[i]->kind,
                (unsigned long long)recs[i]->rec_id, e.msg);
        rc = qts_spill_journal_append(keep, &recs[i], 1, err);
        if (rc != 0)
            return rc;
        st->refused++;
    }
    return 0;
}

int qts_dead_letters_replay(const struct qts_store_port *port, const char *path,
                            struct qts_dead_letters_stats *st, struct qts_err *err)
{
    memset(st, 0, sizeof *st);
    int64_t n = qts_dead_letters_count(path, err);
    if (n <= 0)
        return (int)n;
    st->found = (uint64_t)n;
    /* what is still refused goes to a new file, which replaces the old one
     * only when every record was tried: a failure leaves the old intact */
    char keep_path[1100];
    snprintf(keep_path, sizeof keep_path, "%s.keep", path);
    unlink(keep_path);
    struct qts_spill_journal *src = NULL, *keep = NULL;
    int rc = qts_spill_journal_open(path, QTS_JOURNAL_FSYNC_BATCH, 0, &src, err);
    if (rc == 0)
        rc = qts_spill_journal_open(keep_path, QTS_JOURNAL_FSYNC_BATCH, 0, &keep, err);
    union qts_store_any *buf = rc == 0 ? qts_xmalloc(CHUNK * sizeof *buf) : NULL;
    while (rc == 0) {
        size_t got = 0;
        rc = qts_spill_journal_read(src, buf, CHUNK, &got, err);
        if (rc != 0 || got == 0)
            break;
        const struct qts_store_record *recs[CHUNK];
        for (size_t i = 0; i < got; i++)
            recs[i] = &buf[i].h;
        rc = write_chunk(port, recs, got, keep, st, err);
    }
    free(buf);
    qts_spill_journal_close(src);
    qts_spill_journal_close(keep);
    if (rc != 0) {
        unlink(keep_path);
        return rc;
    }
    if (st->refused == 0) {
        unlink(keep_path);
        if (unlink(path) != 0 && errno != ENOENT)
            return qts_err_set(err, QTS_EIO, "%s: %s", path, strerror(errno));
    } else if (rename(keep_path, path) != 0) {
        return qts_err_set(err, QTS_EIO, "rename %s: %s", keep_path, strerror(errno));
    }
    char ack[1100];
    snprintf(ack, sizeof ack, "%s.ack", path);
    unlink(ack);
    return 0;
}
