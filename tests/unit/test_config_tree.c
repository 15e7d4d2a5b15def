/* test_config_tree.c — the raw YAML tree: positions, lookups, typed reads,
 * and the syntax-level errors (tabs, duplicate keys, aliases). */
#include "test_support.h"

#include <string.h>

#include "config_node.h"

static struct qts_cfg_node *parse_ok(const char *text)
{
    struct qts_diags d;
    qts_diags_init(&d);
    struct qts_cfg_node *root = NULL;
    assert_int_equal(qts__cfg_parse("t.yaml", text, strlen(text), &root, &d), 0);
    assert_int_equal(d.n, 0);
    qts_diags_cleanup(&d);
    return root;
}

static void expect_error(const char *text, const char *formatted)
{
    struct qts_diags d;
    qts_diags_init(&d);
    struct qts_cfg_node *root = NULL;
    assert_int_equal(qts__cfg_parse("t.yaml", text, strlen(text), &root, &d), QTS_ECONFIG);
    assert_null(root);
    assert_true(d.n >= 1);
    char buf[512];
    qts_diag_format(&d.v[0], buf, sizeof buf);
    assert_string_equal(buf, formatted);
    qts_diags_cleanup(&d);
}

static void test_lookup_and_types(void **state)
{
    (void)state;
    struct qts_cfg_node *root = parse_ok("mode: replay\n"
                                         "risk:\n"
                                         "  max_order_qty: 1_000\n"
                                         "  band: 0.05\n"
                                         "  enabled: yes\n"
                                         "  name: \"42\"\n"
                                         "list: [a, b]\n"
                                         "empty:\n");
    assert_string_equal(qts_cfg_str(qts_cfg_get(root, "mode")), "replay");
    int64_t i = 0;
    assert_int_equal(qts_cfg_int(qts_cfg_get(root, "risk.max_order_qty"), &i, NULL), 0);
    assert_int_equal(i, 1000);
    double d = 0;
    assert_int_equal(qts_cfg_double(qts_cfg_get(root, "risk.band"), &d, NULL), 0);
    assert_true(d == 0.05);
    bool b = false;
    assert_int_equal(qts_cfg_bool(qts_cfg_get(root, "risk.enabled"), &b, NULL), 0);
    assert_true(b);
    struct qts_err err;
    assert_int_equal(qts_cfg_int(qts_cfg_get(root, "risk.name"), &i, &err), QTS_ECONFIG);
    assert_string_equal(err.msg, "t.yaml:6:9: expected an integer, got '42'");
    assert_int_equal(qts_cfg_len(qts_cfg_get(root, "list")), 2);
    assert_string_equal(qts_cfg_str(qts_cfg_at(qts_cfg_get(root, "list"), 1)), "b");
    assert_int_equal(qts_cfg_type(qts_cfg_get(root, "empty")), QTS_CFG_NULL);
    assert_null(qts_cfg_get(root, "risk.nope"));
    const char *file;
    int line, col;
    qts_cfg_where(qts_cfg_get(root, "risk.band"), &file, &line, &col);
    assert_int_equal(line, 4);
    assert_int_equal(col, 9);
    qts__cfg_node_free(root);
}

static void test_syntax_errors(void **state)
{
    (void)state;
    expect_error("a: 1\n\tb: 2\n",
                 "t.yaml:2:1: tab character in indentation (YAML allows spaces only)");
    expect_error("a: 1\nb: 2\na: 3\n", "t.yaml:3:1: a: duplicate key 'a' (first at line 1)");
    expect_error("a: &x 1\nb: *x\n",
                 "t.yaml:2:4: YAML aliases are not supported; write the value out");
}

static void test_empty_document_is_empty_map(void **state)
{
    (void)state;
    struct qts_cfg_node *root = parse_ok("# only a comment\n");
    assert_int_equal(qts_cfg_type(root), QTS_CFG_MAP);
    assert_int_equal(qts_cfg_len(root), 0);
    qts__cfg_node_free(root);
}

QTS_TEST_MAIN(test_lookup_and_types, test_syntax_errors, test_empty_document_is_empty_map)
