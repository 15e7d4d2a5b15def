/* test_safety_persist.c — the safety latches on disk: save on change,
 * restore at start, fail-safe on a corrupt or unreadable file. */
#include "exec_fixture.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include "safety.h"
#include "safety_codes.h"
#include "safety_persist.h"

struct tmpdir {
    char dir[256];
    char file[320];
};

static void mk_dir(struct tmpdir *t)
{
    snprintf(t->dir, sizeof t->dir, "/tmp/qts_safety_XXXXXX");
    assert_non_null(mkdtemp(t->dir));
    snprintf(t->file, sizeof t->file, "%s/%s", t->dir, QTS_SAFETY_FILE_NAME);
}

static void rm_dir(struct tmpdir *t)
{
    DIR *d = opendir(t->dir);
    struct dirent *e;
    char p[600];
    while (d && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(p, sizeof p, "%s/%s", t->dir, e->d_name);
        unlink(p);
    }
    if (d)
        closedir(d);
    rmdir(t->dir);
}

static size_t count_prefix(const char *dir, const char *prefix)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    size_t n = 0;
    while (d && (e = readdir(d)))
        n += strncmp(e->d_name, prefix, strlen(prefix)) == 0;
    if (d)
        closedir(d);
    return n;
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void status_has(struct qts_safety *s, const char *want)
{
    char buf[4096];
    qts_safety_status_json(s, buf, sizeof buf);
    if (!strstr(buf, want))
        fail_msg("status %s lacks %s", buf, want);
}

/* on_saved: counts the calls (ctx) and keeps the last latches */
static struct qts_safety_latch last_saved;
static void count_saved(void *ctx, const struct qts_safety_latch *l)
{
    ++*(int *)ctx;
    last_saved = *l;
}

/* No file: a fresh NORMAL host; a kill is on disk before set_kill returns;
 * a new host on the same directory starts killed until an approval. */
static void test_kill_survives_restart(void **state)
{
    (void)state;
    struct tmpdir t;
    mk_dir(&t);
    struct qts_safety *s = qts_safety_new(NULL);
    int saved_calls = 0;
    struct qts_safety_persist *p =
        qts_safety_persist_open(s, t.dir, NULL, count_saved, &saved_calls);
    assert_int_equal(qts_safety_state(s), QTS_SAFETY_NORMAL);
    assert_true(qts_safety_trading_allowed(s));
    status_has(s, "\"safety_source\":\"fresh start (no ");
    assert_int_equal(access(t.file, F_OK), -1); /* nothing written before a change */

    qts_safety_set_kill(s, true, "alice", "runaway \"orders\"");
    assert_int_equal(saved_calls, 1);
    assert_true(last_saved.kill);
    assert_int_equal(access(t.file, F_OK), 0);
    status_has(s, "\"safety_saved\":\"");
    qts_safety_persist_close(p); /* the crash: nothing more is written */
    qts_safety_free(s);

    s = qts_safety_new(NULL);
    p = qts_safety_persist_open(s, t.dir, NULL, NULL, NULL);
    assert_true(qts_safety_kill_on(s));
    assert_false(qts_safety_trading_allowed(s));
    status_has(s, "\"safety_source\":\"restored from ");
    struct qts_safety_latch l;
    qts_safety_latch_get(s, &l);
    assert_string_equal(l.kill_who, "alice");
    assert_string_equal(l.kill_reason, "runaway \"orders\"");
    assert_true(l.kill_ts_ns > 0);

    /* the approval releases it, and the release is saved too */
    assert_int_equal(qts_safety_recover(s, true, "bob", "checked", NULL), QTS_SAFETY_NORMAL);
    qts_safety_persist_close(p);
    qts_safety_free(s);
    s = qts_safety_new(NULL);
    p = qts_safety_persist_open(s, t.dir, NULL, NULL, NULL);
    assert_true(qts_safety_trading_allowed(s));
    struct qts_safety_approval a;
    assert_true(qts_safety_last_approval(s, &a));
    assert_string_equal(a.who, "bob");
    assert_string_equal(a.reason, "checked");
    qts_safety_persist_close(p);
    qts_safety_free(s);
    rm_dir(&t);
}

/* LOCKDOWN from a TRIP (FS104) and FAIL keep their code and message. */
static void test_lockdown_and_fail_survive(void **state)
{
    (void)state;
    struct tmpdir t;
    mk_dir(&t);
    struct qts_safety *s = qts_safety_new(NULL);
    struct qts_safety_persist *p = qts_safety_persist_open(s, t.dir, NULL, NULL, NULL);
    assert_int_equal(qts_safety_raise(s, QTS_SC_FS104, "risk loop kill switch: volatility"),
                     QTS_SAFETY_LOCKDOWN);
    qts_safety_persist_close(p);
    qts_safety_free(s);

    s = qts_safety_new(NULL);
    p = qts_safety_persist_open(s, t.dir, NULL, NULL, NULL);
    assert_int_equal(qts_safety_state(s), QTS_SAFETY_LOCKDOWN);
    assert_false(qts_safety_trading_allowed(s));
    struct qts_safety_latch l;
    qts_safety_latch_get(s, &l);
    assert_int_equal(l.code, QTS_SC_FS104);
    assert_string_equal(l.state_msg, "risk loop kill switch: volatility");
    assert_int_equal(l.consecutive, 1);
    /* LOCKDOWN still needs the approval after a restart */
    struct qts_err err;
    qts_err_clear(&err);
    assert_int_equal(qts_safety_recover(s, false, NULL, NULL, &err), QTS_EPERM);
    assert_int_equal(qts_safety_state(s), QTS_SAFETY_LOCKDOWN);
    assert_int_equal(qts_safety_recover(s, true, "ops", "volatility passed", NULL),
                     QTS_SAFETY_NORMAL);
    /* FAIL is a latch too; WARNING is not */
    qts_safety_raise(s, QTS_SC_FS040, "broker down");
    qts_safety_persist_close(p);
    qts_safety_free(s);
    s = qts_safety_new(NULL);
    p = qts_safety_persist_open(s, t.dir, NULL, NULL, NULL);
    assert_int_equal(qts_safety_state(s), QTS_SAFETY_FAIL);
    assert_int_equal(qts_safety_recover(s, false, NULL, NULL, NULL), QTS_SAFETY_NORMAL);
    qts_safety_raise(s, QTS_SC_AN001, "jump");
    assert_int_equal(qts_safety_state(s), QTS_SAFETY_WARNING);
    qts_safety_persist_close(p);
    qts_safety_free(s);
    s = qts_safety_new(NULL);
    p = qts_safety_persist_open(s, t.dir, NULL, NULL, NULL);
    assert_int_equal(qts_safety_state(s), QTS_SAFETY_NORMAL);
    qts_safety_persist_close(p);
    qts_safety_free(s);
    rm_dir(&t);
}

/* Every kind of bad file: LOCKDOWN + kill on, the file kept aside, the
 * fail-safe state saved over it (so it holds after the next restart). */
static void test_corrupt_file_fails_safe(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",                                         /* empty */
        "{\"version\":\"1\",\"state\":\"NORMAL\"",  /* cut short */
        "garbage\n",                                /* not JSON */
        "{\"version\":\"9\",\"state\":\"NORMAL\"}", /* unknown version */
        "{\"version\":\"1\",\"state\":\"NORMAL\",\"code\":\"\",\"consecutive\":\"0\","
        "\"state_ns\":\"0\",\"kill_ns\":\"0\",\"approval\":false}\n", /* no kill member */
        "{\"version\":\"1\",\"state\":\"HAPPY\",\"code\":\"\",\"consecutive\":\"0\","
        "\"state_ns\":\"0\",\"kill_ns\":\"0\",\"kill\":false,\"approval\":false}\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct tmpdir t;
        mk_dir(&t);
        write_text(t.file, bad[i]);
        struct qts_safety *s = qts_safety_new(NULL);
        struct qts_safety_persist *p = qts_safety_persist_open(s, t.dir, NULL, NULL, NULL);
        if (qts_safety_state(s) != QTS_SAFETY_LOCKDOWN || !qts_safety_kill_on(s))
            fail_msg("bad file %zu did not lock: %s", i, bad[i]);
        status_has(s, "\"safety_source\":\"fail-safe LOCKDOWN: ");
        assert_int_equal(count_prefix(t.dir, "safety.json.bad-"), 1);
        qts_safety_persist_close(p);
        qts_safety_free(s);
        /* the next start reads the saved fail-safe state: still locked */
        s = qts_safety_new(NULL);
        p = qts_safety_persist_open(s, t.dir, NULL, NULL, NULL);
        assert_int_equal(qts_safety_state(s), QTS_SAFETY_LOCKDOWN);
        status_has(s, "\"safety_source\":\"restored from ");
        qts_safety_persist_close(p);
        qts_safety_free(s);
        rm_dir(&t);
    }
}

/* A file the host cannot read (a directory in its place) fails safe too. */
static void test_unreadable_file_fails_safe(void **state)
{
    (void)state;
    struct tmpdir t;
    mk_dir(&t);
    assert_int_equal(mkdir(t.file, 0700), 0);
    struct qts_safety *s = qts_safety_new(NULL);
    struct qts_safety_persist *p = qts_safety_persist_open(s, t.dir, NULL, NULL, NULL);
    assert_int_equal(qts_safety_state(s), QTS_SAFETY_LOCKDOWN);
    assert_true(qts_safety_kill_on(s));
    qts_safety_persist_close(p);
    qts_safety_free(s);
    char aside[600];
    DIR *d = opendir(t.dir);
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (strncmp(e->d_name, "safety.json.bad-", 16) == 0) {
            snprintf(aside, sizeof aside, "%s/%s", t.dir, e->d_name);
            rmdir(aside);
        }
    if (d)
        closedir(d);
    rm_dir(&t);
}

/* A save that cannot be written keeps the state in memory and says so. */
static void test_save_failure_is_reported(void **state)
{
    (void)state;
    struct qts_safety *s = qts_safety_new(NULL);
    struct qts_safety_persist *p =
        qts_safety_persist_open(s, "/nonexistent/qts-safety-dir", NULL, NULL, NULL);
    qts_safety_set_kill(s, true, "ops", "test");
    assert_true(qts_safety_kill_on(s));
    status_has(s, "\"safety_saved\":\"FAILED: cannot create ");
    qts_safety_persist_close(p);
    qts_safety_free(s);
}

/* write/read round trip of every field. */
static void test_round_trip(void **state)
{
    (void)state;
    struct tmpdir t;
    mk_dir(&t);
    struct qts_safety_latch in = {
        .state = QTS_SAFETY_FAIL,
        .code = QTS_SC_FS040,
        .consecutive = 3,
        .state_ts_ns = 1700000000123456789,
        .kill = true,
        .kill_ts_ns = 1700000001000000000,
        .have_approval = true,
        .approval = {.ts_ns = 1600000000000000000, .from = QTS_SAFETY_LOCKDOWN}};
    snprintf(in.state_msg, sizeof in.state_msg, "line\nbreak \\ and \"quote\"");
    snprintf(in.kill_who, sizeof in.kill_who, "ops");
    snprintf(in.kill_reason, sizeof in.kill_reason, "why");
    snprintf(in.approval.who, sizeof in.approval.who, "lead");
    snprintf(in.approval.reason, sizeof in.approval.reason, "fine");
    struct qts_err err;
    qts_err_clear(&err);
    assert_int_equal(qts_safety_latch_write(t.file, &in, &err), 0);
    struct qts_safety_latch out;
    assert_int_equal(qts_safety_latch_read(t.file, &out, &err), 0);
    assert_int_equal(out.state, in.state);
    assert_int_equal(out.code, in.code);
    assert_int_equal(out.consecutive, 3);
    assert_true(out.state_ts_ns == in.state_ts_ns && out.kill_ts_ns == in.kill_ts_ns);
    assert_string_equal(out.state_msg, in.state_msg);
    assert_true(out.kill && out.have_approval);
    assert_string_equal(out.approval.who, "lead");
    assert_int_equal(out.approval.from, QTS_SAFETY_LOCKDOWN);
    assert_true(out.approval.ts_ns == in.approval.ts_ns);
    assert_int_equal(count_prefix(t.dir, "safety.json.tmp"), 0);
    rm_dir(&t);
    assert_int_equal(qts_safety_latch_read(t.file, &out, &err), QTS_ENOENT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kill_survives_restart),
        cmocka_unit_test(test_lockdown_and_fail_survive),
        cmocka_unit_test(test_corrupt_file_fails_safe),
        cmocka_unit_test(test_unreadable_file_fails_safe),
        cmocka_unit_test(test_save_failure_is_reported),
        cmocka_unit_test(test_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
