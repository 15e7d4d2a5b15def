/* test_spill_journal.c — the store writer's spill journal: records survive
 * a reopen, a torn or corrupt tail is cut at the last good record, replay
 * resumes after the last confirmed record, and a fully confirmed journal is
 * truncated. */
#include "test_support.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "spill_journal.h"
#include "util.h"

static void mk(struct qts_store_tick *t, uint64_t id)
{
    memset(t, 0, sizeof *t);
    t->h.struct_size = sizeof *t;
    t->h.kind = QTS_REC_TICK;
    t->h.rec_id = id;
    t->h.ts_ns = (int64_t)id * 1000;
    snprintf(t->symbol, sizeof t->symbol, "S%llu", (unsigned long long)id);
    t->px = (int64_t)id * 10;
}

static void append_n(struct qts_spill_journal *j, uint64_t first, int n)
{
    struct qts_err e;
    for (int i = 0; i < n; i++) {
        struct qts_store_tick t;
        mk(&t, first + (uint64_t)i);
        const struct qts_store_record *r = &t.h;
        assert_int_equal(qts_spill_journal_append(j, &r, 1, &e), 0);
    }
}

static char *path_in(const char *dir, const char *name)
{
    char *p = qts_xmalloc(strlen(dir) + strlen(name) + 2);
    sprintf(p, "%s/%s", dir, name);
    return p;
}

static void test_reopen_read_confirm_truncate(void **state)
{
    (void)state;
    char *dir = qts_test_tmpdir(), *p = path_in(dir, "j");
    struct qts_spill_journal *j;
    struct qts_err e;
    assert_int_equal(qts_spill_journal_open(p, QTS_JOURNAL_FSYNC_BATCH, 0, &j, &e), 0);
    append_n(j, 100, 10);
    assert_int_equal(qts_spill_journal_pending(j), 10);
    qts_spill_journal_close(j);
    assert_int_equal(qts_spill_journal_open(p, QTS_JOURNAL_FSYNC_BATCH, 0, &j, &e), 0);
    assert_int_equal(qts_spill_journal_pending(j), 10);
    assert_int_equal(qts_spill_journal_last_seq(j), 109);
    union qts_store_any buf[16];
    size_t n;
    assert_int_equal(qts_spill_journal_read(j, buf, 16, &n, &e), 0);
    assert_int_equal(n, 10);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(buf[i].h.rec_id, 100 + i);
        assert_int_equal(buf[i].tick.px, (int64_t)(100 + i) * 10);
    }
    assert_int_equal(qts_spill_journal_confirm(j, 109, &e), 0);
    assert_int_equal(qts_spill_journal_pending(j), 0);
    assert_int_equal(qts_spill_journal_bytes(j), 0);
    qts_spill_journal_close(j);
    struct stat st;
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_size, 0);
    qts_test_rmtree(dir);
    free(p);
    free(dir);
}

static void test_torn_and_corrupt_tail_cut(void **state)
{
    (void)state;
    char *dir = qts_test_tmpdir(), *p = path_in(dir, "j");
    struct qts_spill_journal *j;
    struct qts_err e;
    assert_int_equal(qts_spill_journal_open(p, QTS_JOURNAL_FSYNC_NEVER, 0, &j, &e), 0);
    append_n(j, 1, 5);
    uint64_t good = qts_spill_journal_bytes(j);
    qts_spill_journal_close(j);
    /* a crash in the middle of an append: half a header */
    int fd = open(p, O_WRONLY | O_APPEND);
    assert_true(write(fd, "QSJ1\x40\x00", 6) == 6);
    close(fd);
    assert_int_equal(qts_spill_journal_open(p, QTS_JOURNAL_FSYNC_NEVER, 0, &j, &e), 0);
    assert_int_equal(qts_spill_journal_pending(j), 5);
    assert_int_equal(qts_spill_journal_bytes(j), good);
    qts_spill_journal_close(j);
    /* a flipped byte inside record 3: records 3.. are cut, 1..2 kept */
    fd = open(p, O_RDWR);
    off_t rec = (off_t)(good / 5);
    char c;
    assert_true(pread(fd, &c, 1, 2 * rec + 40) == 1);
    c ^= 0x5a;
    assert_true(pwrite(fd, &c, 1, 2 * rec + 40) == 1);
    close(fd);
    assert_int_equal(qts_spill_journal_open(p, QTS_JOURNAL_FSYNC_NEVER, 0, &j, &e), 0);
    assert_int_equal(qts_spill_journal_pending(j), 2);
    union qts_store_any buf[8];
    size_t n;
    assert_int_equal(qts_spill_journal_read(j, buf, 8, &n, &e), 0);
    assert_int_equal(n, 2);
    assert_int_equal(buf[1].h.rec_id, 2);
    qts_spill_journal_close(j);
    qts_test_rmtree(dir);
    free(p);
    free(dir);
}

static void test_resume_after_confirmed_prefix(void **state)
{
    (void)state;
    char *dir = qts_test_tmpdir(), *p = path_in(dir, "j");
    struct qts_spill_journal *j;
    struct qts_err e;
    assert_int_equal(qts_spill_journal_open(p, QTS_JOURNAL_FSYNC_INTERVAL, 50, &j, &e), 0);
    append_n(j, 10, 10);
    union qts_store_any buf[16];
    size_t n;
    assert_int_equal(qts_spill_journal_read(j, buf, 3, &n, &e), 0);
    assert_int_equal(n, 3);
    qts_spill_journal_rewind(j); /* a failed replay batch is read again */
    assert_int_equal(qts_spill_journal_read(j, buf, 4, &n, &e), 0);
    assert_int_equal(buf[0].h.rec_id, 10);
    assert_int_equal(qts_spill_journal_confirm(j, 13, &e), 0);
    assert_int_equal(qts_spill_journal_pending(j), 6);
    append_n(j, 20, 2);         /* appended while replaying */
    qts_spill_journal_close(j); /* crash or stop before the rest */
    assert_int_equal(qts_spill_journal_open(p, QTS_JOURNAL_FSYNC_BATCH, 0, &j, &e), 0);
    assert_int_equal(qts_spill_journal_pending(j), 8);
    assert_int_equal(qts_spill_journal_read(j, buf, 16, &n, &e), 0);
    assert_int_equal(n, 8);
    assert_int_equal(buf[0].h.rec_id, 14);
    assert_int_equal(buf[7].h.rec_id, 21);
    assert_int_equal(qts_spill_journal_confirm(j, 21, &e), 0);
    assert_int_equal(qts_spill_journal_bytes(j), 0);
    qts_spill_journal_close(j);
    qts_test_rmtree(dir);
    free(p);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reopen_read_confirm_truncate),
        cmocka_unit_test(test_torn_and_corrupt_tail_cut),
        cmocka_unit_test(test_resume_after_confirmed_prefix),
    };
    qts_log_set_level(QTS_LOG_ERROR);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
