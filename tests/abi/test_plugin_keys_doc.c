/* test_plugin_keys_doc.c — each plugin's README lists the keys of its
 * config: exactly as the plugin's key table declares them.
 *
 * The table in the README, between the two marker lines, is rendered from
 * the built plugin's struct qts_cfg_key table. On a difference the test
 * prints the table it expected; QTS_WRITE_KEYS=1 writes it into the README
 * instead (then review the diff). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "plugin_loader.h"
#include "test_support.h"
#include "util.h"

#define BEGIN_MARK                                             \
    "<!-- config keys: generated from the plugin's key table " \
    "(tests/abi/test_plugin_keys_doc.c) -->\n"
#define END_MARK "<!-- end of config keys -->\n"

static const char *type_word(uint32_t type)
{
    switch (type) {
    case QTS_CFG_KEY_STR: return "string";
    case QTS_CFG_KEY_INT: return "int";
    case QTS_CFG_KEY_DEC: return "number";
    case QTS_CFG_KEY_BOOL: return "bool";
    case QTS_CFG_KEY_DURATION: return "ms";
    case QTS_CFG_KEY_LIST: return "list";
    default: return "?";
    }
}

/* The README block for `keys`; owned by the caller. */
static char *render(const struct qts_cfg_key *keys)
{
    size_t cap = 16384, n = 0;
    char *out = qts_xmalloc(cap);
    n += (size_t)snprintf(out + n, cap - n,
                          "%s| key | type | default | meaning |\n"
                          "|---|---|---|---|\n",
                          BEGIN_MARK);
    for (const struct qts_cfg_key *k = keys; k->name; k++) {
        char def[160] = "-";
        if (k->default_text)
            snprintf(def, sizeof def, "`%s`", k->default_text);
        n += (size_t)snprintf(out + n, cap - n, "| `%s` | %s | %s | %s |\n", k->name,
                              type_word(k->type), def, k->doc);
        assert_true(n < cap);
    }
    snprintf(out + n, cap - n, "%s", END_MARK);
    return out;
}

static void check_plugin(const char *name)
{
    char so[1024], readme[256];
    snprintf(so, sizeof so, "%s/%s.so", qts_test_plugin_dir(), name);
    snprintf(readme, sizeof readme, "plugins/%s/README.md", name);
    if (access(so, F_OK) != 0) {
        print_message("skip %s: not built\n", name);
        return;
    }
    struct qts_plugin_lib *lib;
    struct qts_err err;
    if (qts_plugin_lib_open_in_place(so, 0, &lib, &err) != 0)
        fail_msg("%s: %s", so, err.msg);
    assert_non_null(lib->desc.config_keys);
    char *want = render(lib->desc.config_keys);
    qts_plugin_lib_close(lib);

    const char *path = qts_test_src_path(readme);
    char *text = qts_test_read_file(path);
    assert_non_null(text);
    char *begin = strstr(text, BEGIN_MARK);
    char *end = begin ? strstr(begin, END_MARK) : NULL;
    size_t have_n = end ? (size_t)(end - begin) + strlen(END_MARK) : 0;
    if (!begin || !end || have_n != strlen(want) || memcmp(begin, want, have_n) != 0) {
        if (getenv("QTS_WRITE_KEYS") && begin && end) {
            FILE *f = fopen(path, "w");
            assert_non_null(f);
            fprintf(f, "%.*s%s%s", (int)(begin - text), text, want, end + strlen(END_MARK));
            fclose(f);
            print_message("wrote the key table of %s\n", path);
        } else {
            fail_msg("%s does not list %s's keys as its table declares them; expected:\n%s", readme,
                     name, want);
        }
    }
    free(text);
    free(want);
}

static void test_readmes_list_the_declared_keys(void **state)
{
    (void)state;
    static const char *const plugins[] = {
        "broker_paper",   "broker_kis",   "cache_memory", "cache_redis",    "feed_replay",
        "feed_synthetic", "feed_binance", "store_sqlite", "store_postgres", "feed_store"};
    for (size_t i = 0; i < QTS_ARRAY_LEN(plugins); i++)
        check_plugin(plugins[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_readmes_list_the_declared_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
