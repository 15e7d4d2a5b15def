/* test_support.c — see test_support.h. */
#include "test_support.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "build_info.h"
#include "config.h"
#include "config_node.h"
#include "qts/qts_types.h"
#include "util.h"

static const char *env_or(const char *name, const char *fallback)
{
    const char *v = getenv(name);
    return v && *v ? v : fallback;
}

const char *qts_test_source_dir(void) { return env_or("QTS_SOURCE_DIR", QTS_SOURCE_DIR); }
const char *qts_test_build_dir(void) { return env_or("QTS_BUILD_DIR", QTS_BUILD_DIR); }
const char *qts_test_plugin_dir(void) { return env_or("QTS_PLUGIN_DIR", QTS_PLUGIN_DIR_BUILD); }
const char *qts_test_shared_dir(void)
{
    return env_or("QTS_SHARED_DIR", QTS_SOURCE_DIR "/../shared");
}

static char *rotating_buf(void)
{
    static char bufs[8][1024];
    static unsigned next;
    return bufs[next++ % 8];
}

const char *qts_test_src_path(const char *rel)
{
    char *b = rotating_buf();
    snprintf(b, 1024, "%s/%s", qts_test_source_dir(), rel);
    return b;
}

const char *qts_test_data_path(const char *rel)
{
    char *b = rotating_buf();
    snprintf(b, 1024, "%s/data/%s", qts_test_shared_dir(), rel);
    struct stat st;
    return stat(b, &st) == 0 ? b : NULL;
}

char *qts_test_tmpdir(void)
{
    char tmpl[] = "/tmp/qts-test-XXXXXX";
    char *d = mkdtemp(tmpl);
    QTS_ASSERT(d != NULL);
    return qts_xstrdup(d);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

void qts_test_rmtree(const char *dir)
{
    if (dir)
        nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int qts_test_write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    size_t n = strlen(text);
    int rc = fwrite(text, 1, n, f) == n ? 0 : -1;
    if (fclose(f) != 0)
        rc = -1;
    return rc;
}

char *qts_test_read_file(const char *path) { return qts_test_read_file_len(path, NULL); }

char *qts_test_read_file_len(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = qts_xmalloc((size_t)n + 1);
    size_t got = fread(buf, 1, (size_t)n, f);
    buf[got] = '\0';
    fclose(f);
    if (len)
        *len = got;
    return buf;
}

int qts_test_config_load(const char *path, const char *yaml, struct qts_config **out,
                         size_t *n_diags)
{
    struct qts_diags d;
    qts_diags_init(&d);
    *out = NULL;
    int rc = yaml ? qts_config_load_string(path, yaml, out, &d) : qts_config_load(path, out, &d);
    for (size_t i = 0; i < d.n; i++) {
        char line[800];
        qts_diag_format(&d.v[i], line, sizeof line);
        fprintf(stderr, "%s\n", line);
    }
    if (n_diags)
        *n_diags = d.n;
    qts_diags_cleanup(&d);
    return rc;
}

void qts_test_copy_file(const char *from, const char *to, unsigned mode)
{
    FILE *in = fopen(from, "rb");
    assert_non_null(in);
    FILE *out = fopen(to, "wb");
    assert_non_null(out);
    char buf[8192];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        assert_int_equal(fwrite(buf, 1, n, out), n);
    fclose(in);
    assert_int_equal(fclose(out), 0);
    assert_int_equal(chmod(to, (mode_t)mode), 0);
}

struct qts_cfg_node *qts_test_cfg_node(const char *name, const char *yaml)
{
    struct qts_diags d;
    qts_diags_init(&d);
    struct qts_cfg_node *root = NULL;
    int rc = qts__cfg_parse(name, yaml, strlen(yaml), &root, &d);
    for (size_t i = 0; rc != 0 && i < d.n; i++) {
        char line[800];
        qts_diag_format(&d.v[i], line, sizeof line);
        fprintf(stderr, "%s\n", line);
    }
    qts_diags_cleanup(&d);
    assert_int_equal(rc, 0);
    return root;
}

const char *qts_test_service_env(const char *name)
{
    const char *v = getenv(name);
    if (v && *v)
        return v;
    printf("skipped: %s is not set (run under scripts/with-services)\n", name);
    return NULL;
}

int qts_test_service_port(const char *name)
{
    const char *v = qts_test_service_env(name);
    return v ? atoi(v) : 0;
}

int qts_test_run(void (*const *fns)(void **), size_t n, const char *names)
{
    return qts_test_run_fixture(fns, n, names, NULL, NULL);
}

int qts_test_run_fixture(void (*const *fns)(void **), size_t n, const char *names,
                         int (*setup)(void **), int (*teardown)(void **))
{
    struct CMUnitTest *tests = qts_xcalloc(n, sizeof *tests);
    char *copy = qts_xstrdup(names), *p = copy; /* the names point into it */
    for (size_t i = 0; i < n; i++) {
        while (*p == ' ' || *p == ',')
            p++;
        tests[i].name = p;
        tests[i].test_func = fns[i];
        tests[i].setup_func = setup;
        tests[i].teardown_func = teardown;
        while (*p && *p != ',' && *p != ' ')
            p++;
        if (*p)
            *p++ = '\0';
    }
    int rc = _cmocka_run_group_tests("tests", tests, n, NULL, NULL);
    free(copy);
    free(tests);
    return rc;
}

int qts_test_run_in_tmpdir(char **dir, void (*const *fns)(void **), size_t n, const char *names)
{
    *dir = qts_test_tmpdir();
    if (!*dir)
        return 1;
    int rc = qts_test_run(fns, n, names);
    qts_test_rmtree(*dir);
    free(*dir);
    *dir = NULL;
    return rc;
}

void qts_test_assert_text(const char *text, bool present, const char *const *needles, size_t n)
{
    assert_non_null(text);
    for (size_t i = 0; i < n; i++)
        if ((strstr(text, needles[i]) != NULL) != present)
            fail_msg("%s \"%s\" in:\n%s", present ? "no" : "unexpected", needles[i], text);
}

void qts_test_event(struct qts_ev_hdr *h, size_t size, uint16_t type, uint32_t inst,
                    int64_t ts_exch_ns)
{
    memset(h, 0, size);
    h->struct_size = (uint32_t)size;
    h->type = type;
    h->px_exp = 2;
    h->qty_exp = 3;
    h->instrument = inst;
    h->ts_exch_ns = ts_exch_ns;
}
