/* test_support.h — helpers shared by the test binaries. Include after
 * <cmocka.h>'s prerequisites (this header includes them). */
#ifndef QTS_TEST_SUPPORT_H
#define QTS_TEST_SUPPORT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

/* Exit code ctest treats as "skipped". */
#define QTS_TEST_SKIP 77

/* Environment paths set by ctest (see tests/CMakeLists.txt); fall back to
 * the compile-time build locations. Borrowed static strings. */
const char *qts_test_source_dir(void);
const char *qts_test_build_dir(void);
const char *qts_test_plugin_dir(void);
const char *qts_test_shared_dir(void);

/* "<source>/<rel>" into a static rotating buffer (8 slots). */
const char *qts_test_src_path(const char *rel);
/* "<shared>/data/<rel>" if it exists, else NULL. */
const char *qts_test_data_path(const char *rel);

/* A fresh temporary directory (removed by qts_test_rmtree). Owned string. */
char *qts_test_tmpdir(void);
void qts_test_rmtree(const char *dir);
/* Write `text` to `path`; returns 0 or -1. */
int qts_test_write_file(const char *path, const char *text);
/* Copy the file `from` to `to` (replaced), then give it the permission
 * bits `mode`; asserts every step. */
void qts_test_copy_file(const char *from, const char *to, unsigned mode);
/* The whole file as a NUL-terminated string (owned: free), NULL if it
 * cannot be opened. */
char *qts_test_read_file(const char *path);
/* The same, with the byte count (the file may hold NUL bytes) in *len
 * unless len is NULL. */
char *qts_test_read_file_len(const char *path, size_t *len);

/* The value of the environment variable `name` (borrowed), or NULL when it
 * is unset or empty, after printing the "skipped: ... (run under
 * scripts/with-services)" line: for tests that need a service. */
const char *qts_test_service_env(const char *name);

/* The port number in the environment variable `name`, or 0 after the
 * "skipped" line of qts_test_service_env when it is unset or empty. */
int qts_test_service_port(const char *name);

struct qts_ev_hdr;
/* Asserts that each of the n needles occurs in text (all borrowed; text
 * not NULL), or with `present` false that none does; the first that breaks
 * the rule is named in the failure. */
void qts_test_assert_text(const char *text, bool present, const char *const *needles, size_t n);
#define QTS_TEXT_NEEDLES_(...)          \
    (const char *const[]){__VA_ARGS__}, \
        sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *)
/* QTS_ASSERT_HAS(text, "a", "b", ...): every string occurs in text. */
#define QTS_ASSERT_HAS(text, ...) qts_test_assert_text(text, true, QTS_TEXT_NEEDLES_(__VA_ARGS__))
/* QTS_ASSERT_LACKS(text, "a", "b", ...): no string occurs in text. */
#define QTS_ASSERT_LACKS(text, ...) \
    qts_test_assert_text(text, false, QTS_TEXT_NEEDLES_(__VA_ARGS__))

/* Zeroes the whole event (`size` bytes from h, the header being its first
 * member) and fills the header: its size and type, prices at exponent 2 and
 * quantities at 3, instrument `inst`, exchange time `ts_exch_ns`. */
void qts_test_event(struct qts_ev_hdr *h, size_t size, uint16_t type, uint32_t inst,
                    int64_t ts_exch_ns);

struct qts_cfg_node;
/* The YAML text `yaml` (borrowed) parsed under the name `name` into a
 * configuration tree; asserts it parses. Owned: qts__cfg_node_free. */
struct qts_cfg_node *qts_test_cfg_node(const char *name, const char *yaml);

struct qts_config;
/* Load a configuration: the file `path` (borrowed) when `yaml` is NULL, else
 * the text `yaml` (borrowed) under the name `path`. Every diagnostic goes to
 * stderr, one line each; their count to *n_diags when not NULL. Returns the
 * loader's code; *out is owned by the caller (qts_config_unref), NULL on
 * failure. */
int qts_test_config_load(const char *path, const char *yaml, struct qts_config **out,
                         size_t *n_diags);

/* QTS_TEST_MAIN(test_a, test_b, ...) defines main(): the named cmocka
 * tests, in order, without set-up or tear-down, as the group "tests". */
#define QTS_TEST_MAIN(...)                                                                 \
    int main(void)                                                                         \
    {                                                                                      \
        static void (*const qts_test_fns_[])(void **) = {__VA_ARGS__};                     \
        return qts_test_run(qts_test_fns_, sizeof qts_test_fns_ / sizeof qts_test_fns_[0], \
                            #__VA_ARGS__);                                                 \
    }
/* Runs n tests (fns borrowed) named by `names`, their names as written in
 * the source separated by commas; returns cmocka's result. */
int qts_test_run(void (*const *fns)(void **), size_t n, const char *names);

/* QTS_TEST_RUN_FIXTURE(setup, teardown, test_a, ...) runs the named tests
 * as QTS_TEST_MAIN does, each between `setup` and `teardown` (cmocka's
 * per-test fixture functions), and gives cmocka's result: for a main() that
 * runs groups with different fixtures or has work after the tests. */
#define QTS_TEST_RUN_FIXTURE(setup, teardown, ...)                         \
    qts_test_run_fixture((void (*const[])(void **)){__VA_ARGS__},          \
                         sizeof((void (*const[])(void **)){__VA_ARGS__}) / \
                             sizeof(void (*)(void **)),                    \
                         #__VA_ARGS__, setup, teardown)
/* QTS_TEST_MAIN_FIXTURE(setup, teardown, test_a, ...) defines main() as
 * QTS_TEST_MAIN does, each test between `setup` and `teardown`. */
#define QTS_TEST_MAIN_FIXTURE(setup, teardown, ...) \
    int main(void) { return QTS_TEST_RUN_FIXTURE(setup, teardown, __VA_ARGS__); }
/* qts_test_run with `setup` and `teardown` (either may be NULL) around
 * each test. */
int qts_test_run_fixture(void (*const *fns)(void **), size_t n, const char *names,
                         int (*setup)(void **), int (*teardown)(void **));

/* QTS_TEST_MAIN_TMPDIR(dir, test_a, ...) defines main() as QTS_TEST_MAIN
 * does, with the `char *` variable `dir` holding a fresh temporary
 * directory while the tests run; it is removed (and dir set to NULL) after
 * the last one. */
#define QTS_TEST_MAIN_TMPDIR(dir, ...)                                                            \
    int main(void)                                                                                \
    {                                                                                             \
        static void (*const qts_test_fns_[])(void **) = {__VA_ARGS__};                            \
        return qts_test_run_in_tmpdir(                                                            \
            &(dir), qts_test_fns_, sizeof qts_test_fns_ / sizeof qts_test_fns_[0], #__VA_ARGS__); \
    }
/* qts_test_run with *dir (owned while it runs) a fresh temporary directory;
 * returns cmocka's result, or 1 when the directory cannot be made. */
int qts_test_run_in_tmpdir(char **dir, void (*const *fns)(void **), size_t n, const char *names);

#endif
