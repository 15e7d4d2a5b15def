/* test_config_bad.c — every file in tests/config_bad/NN-name.yaml must be
 * rejected, and the first diagnostic must equal the sibling NN-name.expect
 * exactly ("file:line:col: path: message", file relative to tests/).
 *
 * The environment is fixed first: QTS_TEST_UNSET_VARIABLE is unset and
 * QTS_TEST_SECRET holds a value that must never appear in a message.
 * `test_config_bad --print` prints what each case produces (for writing a
 * new .expect by hand after checking it). */
#include "test_support.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "util.h"

#define SECRET "s3cr3t-value-never-shown"

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted NN-*.yaml names in config_bad/ (owned). */
static size_t list_cases(char ***out)
{
    DIR *d = opendir("config_bad");
    assert_non_null(d);
    char **v = NULL;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len < 6 || strcmp(e->d_name + len - 5, ".yaml") != 0)
            continue;
        v = qts_xrealloc(v, (n + 1) * sizeof *v);
        v[n++] = qts_xstrdup(e->d_name);
    }
    closedir(d);
    qsort(v, n, sizeof *v, cmp_str);
    *out = v;
    return n;
}

static char *read_expect(const char *yaml_name)
{
    char path[512];
    snprintf(path, sizeof path, "config_bad/%.*s.expect", (int)(strlen(yaml_name) - 5), yaml_name);
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    char line[1024] = "";
    if (!fgets(line, sizeof line, f))
        line[0] = '\0';
    fclose(f);
    line[strcspn(line, "\n")] = '\0';
    return qts_xstrdup(line);
}

/* First diagnostic of loading `name`, plus all of them joined (owned). */
static char *first_diag(const char *name, char **all)
{
    char path[512];
    snprintf(path, sizeof path, "config_bad/%s", name);
    struct qts_diags d;
    qts_diags_init(&d);
    struct qts_config *c = NULL;
    int rc = qts_config_load(path, &c, &d);
    char *first = NULL;
    size_t cap = 64 + d.n * 800, used = 0;
    *all = qts_xcalloc(1, cap);
    for (size_t i = 0; i < d.n; i++) {
        char line[800];
        qts_diag_format(&d.v[i], line, sizeof line);
        used += (size_t)snprintf(*all + used, cap - used, "%s\n", line);
        if (i == 0)
            first = qts_xstrdup(line);
    }
    if (rc == 0)
        qts_config_unref(c);
    qts_diags_cleanup(&d);
    return rc == QTS_ECONFIG ? first : (free(first), NULL);
}

static void setup_env(void)
{
    unsetenv("QTS_TEST_UNSET_VARIABLE");
    setenv("QTS_TEST_SECRET", SECRET, 1);
    QTS_ASSERT(chdir(qts_test_src_path("tests")) == 0);
}

static void test_every_bad_config(void **state)
{
    (void)state;
    char **names;
    size_t n = list_cases(&names);
    assert_true(n >= 15);
    int failures = 0;
    for (size_t i = 0; i < n; i++) {
        char *all = NULL;
        char *got = first_diag(names[i], &all);
        char *want = read_expect(names[i]);
        if (!want) {
            fprintf(stderr, "%s: no .expect file\n", names[i]);
            failures++;
        } else if (!got) {
            fprintf(stderr, "%s: was accepted, expected: %s\n", names[i], want);
            failures++;
        } else if (strcmp(got, want) != 0) {
            fprintf(stderr, "%s:\n  expected: %s\n  got:      %s\n", names[i], want, got);
            failures++;
        }
        if (all && strstr(all, SECRET)) {
            fprintf(stderr, "%s: a value from the environment appears in a message\n", names[i]);
            failures++;
        }
        free(got);
        free(want);
        free(all);
        free(names[i]);
    }
    free(names);
    assert_int_equal(failures, 0);
}

static int print_all(void)
{
    char **names;
    size_t n = list_cases(&names);
    for (size_t i = 0; i < n; i++) {
        char *all = NULL;
        char *got = first_diag(names[i], &all);
        printf("== %s\n%s", names[i], got ? all : "(accepted)\n");
        free(got);
        free(all);
        free(names[i]);
    }
    free(names);
    return 0;
}

int main(int argc, char **argv)
{
    setup_env();
    if (argc > 1 && strcmp(argv[1], "--print") == 0)
        return print_all();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_bad_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
