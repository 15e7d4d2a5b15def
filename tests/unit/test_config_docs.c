/* test_config_docs.c — docs/config.md documents every configuration key
 * exactly as the schema table defines it: the Markdown key table
 * (`| key | type | default | range | description |`) must list the same keys
 * with the same type and default, in any order, nothing more, nothing less.
 *
 * `test_config_docs --print` prints the rows the table implies (a starting
 * point when adding keys; the description column is then edited by hand). */
#include "test_support.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "settings.h"
#include "util.h"

static void doc_type(const struct qts_key *k, char *buf, size_t cap)
{
    if (k->type == QTS_KEY_ENUM) {
        char list[160];
        qts_key_choices_list(k, list, sizeof list);
        snprintf(buf, cap, "enum (%s)", list);
    } else {
        snprintf(buf, cap, "%s", qts_key_type_name(k->type));
    }
}

static void doc_default(const struct qts_key *k, char *buf, size_t cap)
{
    if (k->required)
        snprintf(buf, cap, "required");
    else if (!k->def)
        snprintf(buf, cap, "-");
    else if (!k->def[0])
        snprintf(buf, cap, "`\"\"`");
    else
        snprintf(buf, cap, "`%s`", k->def);
}

static void doc_range(const struct qts_key *k, char *buf, size_t cap)
{
    if (k->type == QTS_KEY_SPEED)
        snprintf(buf, cap, "> 0");
    else if (!k->has_range)
        snprintf(buf, cap, "-");
    else if (k->type == QTS_KEY_DECIMAL)
        snprintf(buf, cap, "> %g", k->min);
    else if (isinf(k->max))
        snprintf(buf, cap, ">= %g", k->min);
    else
        snprintf(buf, cap, "%g..%g", k->min, k->max);
}

static void trim(char *s)
{
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\n'))
        s[--n] = '\0';
    size_t k = strspn(s, " ");
    memmove(s, s + k, n - k + 1);
}

struct row {
    char key[128], type[128], def[128];
    int line;
};

/* Rows of the key table(s): the lines starting with "| `" that follow a
 * "| key | type | default | range | description |" header. */
static size_t parse_doc(const char *path, struct row **out)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[2048];
    struct row *rows = NULL;
    size_t n = 0;
    int lineno = 0;
    bool in_table = false;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        if (strncmp(line, "| key | type | default | range | description |", 46) == 0) {
            in_table = true;
            continue;
        }
        if (line[0] != '|')
            in_table = false;
        if (!in_table || strncmp(line, "| `", 3) != 0)
            continue;
        char *cells[4] = {0};
        char *p = line + 1;
        for (int i = 0; i < 4 && p; i++) {
            cells[i] = p;
            p = strchr(p, '|');
            if (p)
                *p++ = '\0';
        }
        if (!cells[3])
            continue;
        rows = qts_xrealloc(rows, (n + 1) * sizeof *rows);
        struct row *r = &rows[n++];
        r->line = lineno;
        trim(cells[0]);
        trim(cells[1]);
        trim(cells[2]);
        /* key cell is `key` */
        size_t kl = strlen(cells[0]);
        snprintf(r->key, sizeof r->key, "%.*s", kl >= 2 ? (int)kl - 2 : 0, cells[0] + 1);
        qts_strlcpy(r->type, cells[1], sizeof r->type);
        qts_strlcpy(r->def, cells[2], sizeof r->def);
    }
    fclose(f);
    assert_true(n > 0); /* the table must be there at all */
    *out = rows;
    return n;
}

static void test_docs_match_schema(void **state)
{
    (void)state;
    const char *doc = qts_test_src_path("docs/config.md");
    struct row *rows;
    size_t n = parse_doc(doc, &rows);
    int failures = 0;
    bool *seen = qts_xcalloc(qts_config_n_keys, sizeof *seen);
    for (size_t i = 0; i < n; i++) {
        const struct qts_key *k = NULL;
        size_t ki = 0;
        for (; ki < qts_config_n_keys; ki++)
            if (strcmp(qts_config_keys[ki].path, rows[i].key) == 0) {
                k = &qts_config_keys[ki];
                break;
            }
        if (!k) {
            fprintf(stderr, "docs/config.md:%d: key '%s' is not in the schema table\n",
                    rows[i].line, rows[i].key);
            failures++;
            continue;
        }
        if (seen[ki]) {
            fprintf(stderr, "docs/config.md:%d: key '%s' documented twice\n", rows[i].line,
                    rows[i].key);
            failures++;
        }
        seen[ki] = true;
        char type[192], def[192];
        doc_type(k, type, sizeof type);
        doc_default(k, def, sizeof def);
        if (strcmp(type, rows[i].type) != 0) {
            fprintf(stderr, "docs/config.md:%d: %s: type is '%s' in the docs, '%s' in code\n",
                    rows[i].line, k->path, rows[i].type, type);
            failures++;
        }
        if (strcmp(def, rows[i].def) != 0) {
            fprintf(stderr, "docs/config.md:%d: %s: default is '%s' in the docs, '%s' in code\n",
                    rows[i].line, k->path, rows[i].def, def);
            failures++;
        }
    }
    for (size_t ki = 0; ki < qts_config_n_keys; ki++)
        if (!seen[ki]) {
            fprintf(stderr, "docs/config.md: key '%s' is missing from the key table\n",
                    qts_config_keys[ki].path);
            failures++;
        }
    free(seen);
    free(rows);
    assert_int_equal(failures, 0);
}

static void print_rows(void)
{
    printf("| key | type | default | range | description |\n|---|---|---|---|---|\n");
    for (size_t i = 0; i < qts_config_n_keys; i++) {
        const struct qts_key *k = &qts_config_keys[i];
        char type[192], def[192], range[64];
        doc_type(k, type, sizeof type);
        doc_default(k, def, sizeof def);
        doc_range(k, range, sizeof range);
        printf("| `%s` | %s | %s | %s | %s |\n", k->path, type, def, range, k->doc);
    }
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--print") == 0) {
        print_rows();
        return 0;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_docs_match_schema),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
