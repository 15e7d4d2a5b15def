/* test_plugin_var_dir.c — a plugin copy cannot be swapped by another local
 * user: var_dir and every directory above it must belong to the running
 * user (or root) and not be writable by group or others (a sticky parent
 * such as /tmp excepted), var_dir/plugins.gen must not be a symlink, and
 * a file planted under the copy's name is replaced, never followed. The
 * tests run as root and hand directories to uid 65534 (nobody). */
#include "manager_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "plugin_loader.h"
#include "util.h"

#define NOBODY 65534

/* The test's scratch directory; each test gets a fresh one. */
static char g_tmp[512];

static int fresh_scratch(void **state)
{
    (void)state;
    char *made = qts_test_tmpdir();
    snprintf(g_tmp, sizeof g_tmp, "%s", made);
    free(made);
    return 0;
}

static int remove_scratch(void **state)
{
    (void)state;
    qts_test_rmtree(g_tmp);
    g_tmp[0] = '\0';
    return 0;
}

/* <tmp>/<rel> made with `mode` (chmod'ed: umask does not apply). */
static const char *mkdir_mode(const char *rel, mode_t mode)
{
    static char b[4][700];
    static int k;
    k = (k + 1) % 4;
    snprintf(b[k], sizeof b[k], "%s/%s", g_tmp, rel);
    assert_int_equal(mkdir(b[k], 0700), 0);
    assert_int_equal(chmod(b[k], mode), 0);
    return b[k];
}

static const char *gen_of(const char *var_dir)
{
    static char b[800];
    snprintf(b, sizeof b, "%s/plugins.gen", var_dir);
    return b;
}

static void need_root(void)
{
    if (geteuid() != 0)
        skip(); /* chown to another uid needs root */
}

/* Opening a plugin with gen_dir <var_dir>/plugins.gen fails with EPERM and
 * a message containing `want`; nothing is left loaded or copied. */
static void expect_refused(const char *var_dir, const char *want)
{
    struct qts_plugin_lib *lib = (void *)1;
    struct qts_err err;
    qts_err_clear(&err);
    int rc = qts_plugin_lib_open(qts_test_fixture_so("fx_good_v1"), gen_of(var_dir), 1,
                                 QTS_KIND_FEED, &lib, &err);
    if (rc != QTS_EPERM || !strstr(err.msg, want))
        fail_msg("var_dir %s: rc=%d msg=%s (wanted EPERM and '%s')", var_dir, rc, err.msg, want);
    assert_null(lib);
    char copy[1024];
    snprintf(copy, sizeof copy, "%s/fx_good_v1.so.1", gen_of(var_dir));
    assert_int_not_equal(access(copy, F_OK), 0);
}

static void expect_loads(const char *var_dir)
{
    struct qts_plugin_lib *lib = NULL;
    struct qts_err err;
    qts_err_clear(&err);
    int rc = qts_plugin_lib_open(qts_test_fixture_so("fx_good_v1"), gen_of(var_dir), 1,
                                 QTS_KIND_FEED, &lib, &err);
    if (rc != 0)
        fail_msg("var_dir %s: %s", var_dir, err.msg);
    assert_string_equal(lib->version, "1.0.0");
    qts_plugin_lib_close(lib);
}

static void test_var_dir_owned_by_another_user_refused(void **state)
{
    (void)state;
    need_root();
    const char *var = mkdir_mode("var", 0755);
    assert_int_equal(chown(var, NOBODY, NOBODY), 0);
    expect_refused(var, "is owned by uid 65534, not by the running user");
}

static void test_plugins_gen_owned_by_another_user_refused(void **state)
{
    (void)state;
    need_root();
    const char *var = mkdir_mode("var", 0755);
    const char *gen = mkdir_mode("var/plugins.gen", 0700);
    assert_int_equal(chown(gen, NOBODY, NOBODY), 0);
    expect_refused(var, "plugins.gen is owned by uid 65534");
}

/* Directory layouts whose modes make the copy swappable: each directory in
 * `dirs` (made in this order under a case folder) gets its mode; `var` is
 * var_dir. */
static const struct {
    const char *dirs[2];
    mode_t modes[2];
    const char *var, *want;
} unsafe_modes[] = {
    {{"var"}, {0770}, "var", "var is writable by group or others (mode 0770)"},
    /* an ancestor, not sticky: its other writers could rename var away */
    {{"shared", "shared/var"},
     {0775, 0755},
     "shared/var",
     "shared is writable by group or others (mode 0775)"},
    /* sticky is no excuse for var_dir itself: others could create plugins.gen */
    {{"var"}, {01777}, "var", "var is writable by group or others (mode 1777)"},
};

static void test_unsafe_modes_refused(void **state)
{
    (void)state;
    for (size_t i = 0; i < QTS_ARRAY_LEN(unsafe_modes); i++) {
        char rel[64], var[800];
        snprintf(rel, sizeof rel, "case%zu", i);
        mkdir_mode(rel, 0700);
        for (size_t d = 0; d < 2 && unsafe_modes[i].dirs[d]; d++) {
            snprintf(rel, sizeof rel, "case%zu/%s", i, unsafe_modes[i].dirs[d]);
            mkdir_mode(rel, unsafe_modes[i].modes[d]);
        }
        snprintf(var, sizeof var, "%s/case%zu/%s", g_tmp, i, unsafe_modes[i].var);
        expect_refused(var, unsafe_modes[i].want);
    }
}

static void test_sticky_ancestor_accepted(void **state)
{
    (void)state;
    /* like /tmp: others may add entries, but not touch ours */
    mkdir_mode("tmp", 01777);
    const char *var = mkdir_mode("tmp/var", 0755);
    expect_loads(var);
}

static void test_symlinked_plugins_gen_refused(void **state)
{
    (void)state;
    const char *var = mkdir_mode("var", 0755);
    const char *elsewhere = mkdir_mode("elsewhere", 0700);
    char link[800];
    snprintf(link, sizeof link, "%s/plugins.gen", var);
    assert_int_equal(symlink(elsewhere, link), 0);
    expect_refused(var, "plugins.gen is a symbolic link; refusing to follow it");
}

static void test_planted_copy_name_is_replaced_not_followed(void **state)
{
    (void)state;
    const char *var = mkdir_mode("var", 0755);
    mkdir_mode("var/plugins.gen", 0700);
    /* a symlink where the copy will go, pointing at a file that must stay */
    char target[800], planted[900];
    snprintf(target, sizeof target, "%s/victim", g_tmp);
    assert_int_equal(qts_test_write_file(target, "untouched"), 0);
    snprintf(planted, sizeof planted, "%s/plugins.gen/fx_good_v1.so.1", var);
    assert_int_equal(symlink(target, planted), 0);
    expect_loads(var);
    FILE *f = fopen(target, "r");
    char buf[32] = "";
    assert_non_null(fgets(buf, sizeof buf, f));
    fclose(f);
    assert_string_equal(buf, "untouched");
}

/* Each library is mapped through /proc/self/fd/N; a later generation that
 * gets the same N after the first was unloaded must still be the new code
 * (the loader must not hand back an old object by name). */
static void test_generations_by_fd_load_their_own_code(void **state)
{
    (void)state;
    if (qts_plugin_no_dlclose())
        skip(); /* nothing is unloaded: fd numbers are never reused */
    const char *var = mkdir_mode("var", 0755);
    struct qts_err err;
    struct qts_plugin_lib *a = NULL, *b = NULL;
    assert_int_equal(qts_plugin_lib_open(qts_test_fixture_so("fx_good_v1"), gen_of(var), 1,
                                         QTS_KIND_FEED, &a, &err),
                     0);
    int fd_a = a->fd;
    assert_string_equal(a->version, "1.0.0");
    qts_plugin_lib_close(a);
    assert_int_equal(qts_plugin_lib_open(qts_test_fixture_so("fx_good_v2"), gen_of(var), 2,
                                         QTS_KIND_FEED, &b, &err),
                     0);
    assert_int_equal(b->fd, fd_a); /* the same N, really reused */
    assert_string_equal(b->version, "2.0.0");
    qts_plugin_lib_close(b);
}

QTS_TEST_MAIN_FIXTURE(fresh_scratch, remove_scratch, test_var_dir_owned_by_another_user_refused,
                      test_plugins_gen_owned_by_another_user_refused, test_unsafe_modes_refused,
                      test_sticky_ancestor_accepted, test_symlinked_plugins_gen_refused,
                      test_planted_copy_name_is_replaced_not_followed,
                      test_generations_by_fd_load_their_own_code)
