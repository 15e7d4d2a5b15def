/* spill_journal.c — see spill_journal.h. */
#include "spill_journal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "clock.h"
#include "log.h"
#include "util.h"

#define JOURNAL_MAGIC 0x314a5351u /* "QSJ1" little-endian */

struct jhdr {
    uint32_t magic;
    uint32_t len;
    uint64_t seq;
    uint32_t crc;
    uint32_t pad;
};

struct qts_spill_journal {
    char *path;     /* owned */
    char *ack_path; /* owned */
    int fd;
    int policy;
    int64_t interval_ns;
    int64_t last_sync_ns;
    int dirty;            /* appended since the last sync */
    uint64_t size;        /* bytes */
    uint64_t read_off;    /* next record to read */
    uint64_t confirm_off; /* first unconfirmed record */
    uint64_t read_seq;    /* seq of the last record read */
    uint64_t acked;       /* highest confirmed seq */
    uint64_t last_seq;    /* highest seq in the file */
    uint64_t pending;     /* unconfirmed records */
};

static uint32_t rec_crc(uint64_t seq, const void *p, size_t n)
{
    uLong c = crc32(0L, Z_NULL, 0);
    c = crc32(c, (const Bytef *)&seq, sizeof seq);
    c = crc32(c, (const Bytef *)p, (uInt)n);
    return (uint32_t)c;
}

static int sys_err(struct qts_err *err, const char *what, const char *path)
{
    int e = errno;
    return qts_err_set(err, QTS_EIO, "spill journal %s %s: %s", what, path, strerror(e));
}

static int read_full(int fd, void *buf, size_t n, uint64_t off)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = pread(fd, (char *)buf + got, n - got, (off_t)(off + got));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        got += (size_t)r;
    }
    return 0;
}

/* Read and check the record at `off`; 0 and the record, or -1 if invalid. */
static int read_record(int fd, uint64_t off, uint64_t size, struct jhdr *h,
                       union qts_store_any *payload)
{
    if (off + sizeof *h > size || read_full(fd, h, sizeof *h, off) != 0)
        return -1;
    if (h->magic != JOURNAL_MAGIC || h->len < sizeof(struct qts_store_record) ||
        h->len > sizeof(union qts_store_any) || off + sizeof *h + h->len > size)
        return -1;
    if (read_full(fd, payload, h->len, off + sizeof *h) != 0)
        return -1;
    if (rec_crc(h->seq, payload, h->len) != h->crc || payload->h.struct_size != h->len)
        return -1;
    return 0;
}

static uint64_t read_ack(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    unsigned long long v = 0;
    if (fscanf(f, "%llu", &v) != 1)
        v = 0;
    fclose(f);
    return (uint64_t)v;
}

static int write_ack(struct qts_spill_journal *j, uint64_t seq, struct qts_err *err)
{
    size_t n = strlen(j->ack_path) + 5;
    char *tmp = qts_xmalloc(n);
    snprintf(tmp, n, "%s.tmp", j->ack_path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int rc = 0;
    if (fd < 0) {
        rc = sys_err(err, "open", tmp);
    } else {
        char buf[32];
        int len = snprintf(buf, sizeof buf, "%llu\n", (unsigned long long)seq);
        if (write(fd, buf, (size_t)len) != len || fdatasync(fd) != 0)
            rc = sys_err(err, "write", tmp);
        close(fd);
        if (rc == 0 && rename(tmp, j->ack_path) != 0)
            rc = sys_err(err, "rename", tmp);
    }
    free(tmp);
    return rc;
}

int qts_spill_journal_open(const char *path, int fsync_policy, int64_t fsync_interval_ms,
                           struct qts_spill_journal **out, struct qts_err *err)
{
    int fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0)
        return sys_err(err, "open", path);
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int rc = sys_err(err, "stat", path);
        close(fd);
        return rc;
    }
    struct qts_spill_journal *j = qts_xcalloc(1, sizeof *j);
    j->path = qts_xstrdup(path);
    size_t n = strlen(path) + 5;
    j->ack_path = qts_xmalloc(n);
    snprintf(j->ack_path, n, "%s.ack", path);
    j->fd = fd;
    j->policy = fsync_policy;
    j->interval_ns = fsync_interval_ms * 1000000;
    j->last_sync_ns = qts_mono_ns();
    j->acked = read_ack(j->ack_path);

    /* Scan: find the good prefix, the first unconfirmed record, the counts. */
    uint64_t size = (uint64_t)st.st_size, off = 0;
    int found_unconfirmed = 0;
    union qts_store_any *rec = qts_xmalloc(sizeof *rec);
    struct jhdr h;
    while (off < size && read_record(fd, off, size, &h, rec) == 0) {
        if (h.seq > j->acked) {
            if (!found_unconfirmed) {
                j->confirm_off = off;
                found_unconfirmed = 1;
            }
            j->pending++;
        }
        if (h.seq > j->last_seq)
            j->last_seq = h.seq;
        off += sizeof h + h.len;
    }
    free(rec);
    if (off < size) {
        QTS_WARN("spill journal torn tail cut path=%s at=%llu size=%llu", path,
                 (unsigned long long)off, (unsigned long long)size);
        if (ftruncate(fd, (off_t)off) != 0) {
            int rc = sys_err(err, "truncate", path);
            qts_spill_journal_close(j);
            return rc;
        }
        fdatasync(fd);
    }
    j->size = off;
    if (!found_unconfirmed)
        j->confirm_off = off;
    j->read_off = j->confirm_off;
    j->read_seq = j->acked;
    if (j->pending == 0 && j->size > 0) {
        /* everything confirmed before a crash: start empty */
        if (ftruncate(fd, 0) == 0) {
            j->size = j->read_off = j->confirm_off = 0;
            unlink(j->ack_path);
        }
    }
    if (j->pending)
        QTS_INFO("spill journal opened path=%s pending=%llu", path, (unsigned long long)j->pending);
    *out = j;
    return 0;
}

void qts_spill_journal_close(struct qts_spill_journal *j)
{
    if (!j)
        return;
    if (j->dirty)
        fdatasync(j->fd);
    close(j->fd);
    free(j->path);
    free(j->ack_path);
    free(j);
}

int qts_spill_journal_sync(struct qts_spill_journal *j)
{
    if (!j->dirty)
        return 0;
    if (fdatasync(j->fd) != 0)
        return -errno;
    j->dirty = 0;
    j->last_sync_ns = qts_mono_ns();
    return 0;
}

int qts_spill_journal_append(struct qts_spill_journal *j,
                             const struct qts_store_record *const *recs, size_t n,
                             struct qts_err *err)
{
    if (n == 0)
        return 0;
    /* One buffer, one write: a crash leaves at most one torn tail. */
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t len = recs[i]->struct_size;
        if (len < sizeof(struct qts_store_record) || len > sizeof(union qts_store_any))
            return qts_err_set(err, QTS_EINVAL, "spill journal: record size %u", len);
        total += sizeof(struct jhdr) + len;
    }
    char *buf = qts_xmalloc(total);
    size_t off = 0;
    for (size_t i = 0; i < n; i++) {
        struct jhdr h = {JOURNAL_MAGIC, recs[i]->struct_size, recs[i]->rec_id, 0, 0};
        h.crc = rec_crc(h.seq, recs[i], h.len);
        memcpy(buf + off, &h, sizeof h);
        memcpy(buf + off + sizeof h, recs[i], h.len);
        off += sizeof h + h.len;
    }
    size_t done = 0;
    while (done < total) {
        ssize_t w = write(j->fd, buf + done, total - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            int rc = sys_err(err, "write", j->path);
            free(buf);
            /* cut what was partially written so the file stays a good prefix */
            if (ftruncate(j->fd, (off_t)j->size) != 0)
                QTS_ERROR("spill journal truncate failed path=%s", j->path);
            return rc;
        }
        done += (size_t)w;
    }
    free(buf);
    j->size += total;
    j->pending += n;
    for (size_t i = 0; i < n; i++)
        if (recs[i]->rec_id > j->last_seq)
            j->last_seq = recs[i]->rec_id;
    j->dirty = 1;
    if (j->policy == QTS_JOURNAL_FSYNC_BATCH ||
        (j->policy == QTS_JOURNAL_FSYNC_INTERVAL &&
         qts_mono_ns() - j->last_sync_ns >= j->interval_ns)) {
        if (qts_spill_journal_sync(j) != 0)
            return sys_err(err, "fdatasync", j->path);
    }
    return 0;
}

int qts_spill_journal_read(struct qts_spill_journal *j, union qts_store_any *out, size_t max,
                           size_t *n_out, struct qts_err *err)
{
    size_t n = 0;
    struct jhdr h;
    while (n < max && j->read_off < j->size) {
        if (read_record(j->fd, j->read_off, j->size, &h, &out[n]) != 0)
            return qts_err_set(err, QTS_EIO, "spill journal %s: bad record at %llu", j->path,
                               (unsigned long long)j->read_off);
        j->read_off += sizeof h + h.len;
        j->read_seq = h.seq;
        n++;
    }
    *n_out = n;
    return 0;
}

void qts_spill_journal_rewind(struct qts_spill_journal *j)
{
    j->read_off = j->confirm_off;
    j->read_seq = j->acked;
}

int qts_spill_journal_confirm(struct qts_spill_journal *j, uint64_t seq, struct qts_err *err)
{
    /* count the records between confirm_off and read_off */
    uint64_t off = j->confirm_off, k = 0;
    struct jhdr h;
    while (off < j->read_off) {
        if (read_full(j->fd, &h, sizeof h, off) != 0)
            break;
        off += sizeof h + h.len;
        k++;
    }
    j->confirm_off = j->read_off;
    j->acked = seq;
    j->pending = j->pending >= k ? j->pending - k : 0;
    if (j->read_off >= j->size) {
        /* all confirmed: start over with an empty file */
        if (ftruncate(j->fd, 0) != 0)
            return sys_err(err, "truncate", j->path);
        fdatasync(j->fd);
        unlink(j->ack_path);
        j->size = j->read_off = j->confirm_off = 0;
        j->pending = 0;
        j->dirty = 0;
        return 0;
    }
    return write_ack(j, seq, err);
}

uint64_t qts_spill_journal_pending(const struct qts_spill_journal *j) { return j->pending; }
uint64_t qts_spill_journal_last_seq(const struct qts_spill_journal *j) { return j->last_seq; }
uint64_t qts_spill_journal_bytes(const struct qts_spill_journal *j) { return j->size; }
