/* test_plugin_loader.c — every loader check, in order, against real fixture
 * plugins (tests/abi/fixtures), through qts_plugin_lib_open and the
 * qts_plugin_check_file entry point used by `qts check`. */
#include "manager_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "plugin_loader.h"
#include "util.h"

static char g_tmp[512];

static const char *fx(const char *name) { return qts_test_fixture_so(name); }

static int setup(void **state)
{
    (void)state;
    char *d = qts_test_tmpdir();
    qts_strlcpy(g_tmp, d, sizeof g_tmp);
    free(d);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    qts_test_rmtree(g_tmp);
    return 0;
}

static const char *gen_dir(void)
{
    static char b[600];
    snprintf(b, sizeof b, "%s/plugins.gen", g_tmp);
    return b;
}

/* Expect `path` to fail with `code` and a message naming `field` and the file. */
static void expect_fail(const char *path, uint32_t kind, int code, const char *field)
{
    struct qts_err err;
    qts_err_clear(&err);
    int rc = qts_plugin_check_file(path, kind, &err);
    if (rc != code || !strstr(err.msg, field) || !strstr(err.msg, path))
        fail_msg("check %s: rc=%d msg=%s (want %d, field %s)", path, rc, err.msg, code, field);
    struct qts_plugin_lib *lib = (void *)1;
    qts_err_clear(&err);
    rc = qts_plugin_lib_open(path, gen_dir(), 7, kind, &lib, &err);
    assert_int_equal(rc, code);
    assert_null(lib);
    assert_non_null(strstr(err.msg, field));
    /* a failed open leaves no per-generation copy behind */
    char copy[1024];
    const char *base = strrchr(path, '/') + 1;
    snprintf(copy, sizeof copy, "%s/%s.7", gen_dir(), base);
    assert_int_not_equal(access(copy, F_OK), 0);
}

static void test_good_plugin_loads_under_generation_name(void **state)
{
    (void)state;
    struct qts_err err;
    assert_int_equal(qts_plugin_check_file(fx("fx_good_v1"), QTS_KIND_FEED, &err), 0);
    struct qts_plugin_lib *a, *b;
    assert_int_equal(qts_plugin_lib_open(fx("fx_good_v1"), gen_dir(), 1, QTS_KIND_FEED, &a, &err),
                     0);
    assert_int_equal(qts_plugin_lib_open(fx("fx_good_v1"), gen_dir(), 2, QTS_KIND_FEED, &b, &err),
                     0);
    assert_string_equal(a->name, "fixture_feed");
    assert_string_equal(a->version, "1.0.0");
    assert_int_equal(a->desc.kind, QTS_KIND_FEED);
    assert_true(a->desc.caps & QTS_CAP_STATE_XFER);
    /* strings and tables are host copies */
    assert_ptr_equal(a->desc.name, a->name);
    assert_ptr_equal(a->desc.ops, &a->ops);
    assert_non_null(a->ops.feed.poll);
    /* each generation is its own mapping, even for the same file */
    assert_ptr_not_equal(a->dl, b->dl);
    assert_ptr_not_equal((void *)a->desc.init, (void *)b->desc.init);
    assert_non_null(strstr(a->gen_path, "/plugins.gen/fx_good_v1.so.1"));
    assert_int_equal(access(a->gen_path, R_OK), 0);
    struct stat st;
    assert_int_equal(stat(gen_dir(), &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    qts_plugin_lib_close(a);
    qts_plugin_lib_close(b);
}

static void test_wrong_abi_major(void **state)
{
    (void)state;
    expect_fail(fx("fx_bad_major"), QTS_KIND_FEED, QTS_EABI, "abi_major");
}

static void test_newer_minor(void **state)
{
    (void)state;
    expect_fail(fx("fx_newer_minor"), QTS_KIND_FEED, QTS_EABI, "abi_minor");
}

static void test_wrong_build_signature(void **state)
{
    (void)state;
    expect_fail(fx("fx_bad_sig"), QTS_KIND_FEED, QTS_EABI, "build_sig");
}

static void test_missing_required_operation(void **state)
{
    (void)state;
    expect_fail(fx("fx_broker_missing_op"), QTS_KIND_BROKER, QTS_EABI, "broker.submit");
    struct qts_err err;
    assert_int_equal(qts_plugin_check_file(fx("fx_broker"), QTS_KIND_BROKER, &err), 0);
}

static void test_missing_entry_symbol(void **state)
{
    (void)state;
    expect_fail(fx("fx_no_entry"), 0, QTS_EABI, "entry symbol qts_plugin_entry");
}

static void test_kind_must_match_slot(void **state)
{
    (void)state;
    expect_fail(fx("fx_good_v1"), QTS_KIND_BROKER, QTS_EABI, "kind");
}

static void test_missing_file(void **state)
{
    (void)state;
    char p[700];
    snprintf(p, sizeof p, "%s/nope.so", g_tmp);
    expect_fail(p, 0, QTS_ENOENT, "open");
}

static void test_world_writable_file_refused(void **state)
{
    (void)state;
    char p[700];
    snprintf(p, sizeof p, "%s/ww.so", g_tmp);
    qts_test_copy_file(fx("fx_good_v1"), p, 0666);
    expect_fail(p, QTS_KIND_FEED, QTS_EPERM, "file is writable by others");
    /* the same file with sane permissions loads */
    assert_int_equal(chmod(p, 0644), 0);
    assert_int_equal(qts_plugin_check_file(p, QTS_KIND_FEED, NULL), 0);
}

static void test_world_writable_directory_refused(void **state)
{
    (void)state;
    char d[700], p[800];
    snprintf(d, sizeof d, "%s/open", g_tmp);
    assert_int_equal(mkdir(d, 0755), 0);
    snprintf(p, sizeof p, "%s/good.so", d);
    qts_test_copy_file(fx("fx_good_v1"), p, 0644);
    assert_int_equal(chmod(d, 0777), 0);
    expect_fail(p, QTS_KIND_FEED, QTS_EPERM, "is writable by others");
    /* a symlink from a safe directory does not hide the open one */
    char link[800];
    snprintf(link, sizeof link, "%s/link.so", g_tmp);
    assert_int_equal(symlink(p, link), 0);
    expect_fail(link, QTS_KIND_FEED, QTS_EPERM, "is writable by others");
    assert_int_equal(chmod(d, 0755), 0);
    assert_int_equal(qts_plugin_check_file(p, QTS_KIND_FEED, NULL), 0);
    assert_int_equal(qts_plugin_check_file(link, QTS_KIND_FEED, NULL), 0);
}

static void test_dlclose_policy(void **state)
{
    (void)state;
    const char *old = getenv("QTS_NO_DLCLOSE");
    char *saved = old ? qts_xstrdup(old) : NULL;
    bool is_asan = strcmp(QTS_SIG_ASAN_, "asan") == 0;
    setenv("QTS_NO_DLCLOSE", "1", 1);
    assert_true(qts_plugin_no_dlclose());
    setenv("QTS_NO_DLCLOSE", "0", 1);
    assert_int_equal(qts_plugin_no_dlclose(), is_asan); /* sanitizers: never */
    unsetenv("QTS_NO_DLCLOSE");
    assert_int_equal(qts_plugin_no_dlclose(), is_asan);
    if (saved)
        setenv("QTS_NO_DLCLOSE", saved, 1);
    free(saved);
}

static void test_kind_names(void **state)
{
    (void)state;
    assert_int_equal(qts_plugin_kind_parse("broker"), QTS_KIND_BROKER);
    assert_int_equal(qts_plugin_kind_parse("store"), QTS_KIND_STORE);
    assert_int_equal(qts_plugin_kind_parse("nope"), 0);
    assert_string_equal(qts_plugin_kind_name(QTS_KIND_CACHE), "cache");
}

/* The last two need no directory; they get one all the same. */
QTS_TEST_MAIN_FIXTURE(setup, teardown, test_good_plugin_loads_under_generation_name,
                      test_wrong_abi_major, test_newer_minor, test_wrong_build_signature,
                      test_missing_required_operation, test_missing_entry_symbol,
                      test_kind_must_match_slot, test_missing_file,
                      test_world_writable_file_refused, test_world_writable_directory_refused,
                      test_dlclose_policy, test_kind_names)
