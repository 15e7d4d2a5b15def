/* test_plugin_out_of_tree.c — the minimal plugin from docs/plugins.md
 * (docs/examples/plugin_hello/hello.c), compiled like a plugin author
 * would: installed headers + the qts-plugin pkg-config file, `cc -shared`,
 * nothing from the source tree. The result must pass every loader check and
 * run in the host. */
#include "manager_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_node.h"
#include "metrics.h"
#include "plugin_loader.h"
#include "plugin_manager.h"
#include "util.h"

#ifndef QTS_OOT_EXTRA_CFLAGS
#define QTS_OOT_EXTRA_CFLAGS ""
#endif

static int sh(const char *cmd)
{
    int rc = system(cmd);
    if (rc != 0)
        fprintf(stderr, "command failed (%d): %s\n", rc, cmd);
    return rc;
}

static int on_trade(void *ctx, const struct qts_plugin_origin *from, const struct qts_trade *t)
{
    (void)from;
    int64_t *px = ctx;
    *px = t->px;
    return 0;
}

/* The guide shows the example in full: it must be the file that is built. */
static void test_guide_shows_the_built_example(void **state)
{
    (void)state;
    char *doc = qts_test_read_file(qts_test_src_path("docs/plugins.md"));
    char *src = qts_test_read_file(qts_test_src_path("docs/examples/plugin_hello/hello.c"));
    assert_non_null(doc);
    assert_non_null(src);
    assert_non_null(strstr(doc, src));
    free(doc);
    free(src);
}

static void test_hello_builds_against_installed_headers(void **state)
{
    (void)state;
    char *tmp = qts_test_tmpdir();
    char cmd[4096], prefix[600], so[700];
    snprintf(prefix, sizeof prefix, "%s/prefix", tmp);
    snprintf(so, sizeof so, "%s/hello.so", tmp);
    /* "install": the headers and the pkg-config file, as cmake --install lays them out */
    snprintf(cmd, sizeof cmd,
             "mkdir -p %s/include %s/lib/pkgconfig && cp -r %s/host/include/qts %s/include/ && "
             "cp %s/qts-plugin.pc %s/lib/pkgconfig/",
             prefix, prefix, qts_test_source_dir(), prefix, qts_test_build_dir(), prefix);
    assert_int_equal(sh(cmd), 0);
    snprintf(cmd, sizeof cmd,
             "cd %s && cc $(PKG_CONFIG_PATH=%s/lib/pkgconfig pkg-config "
             "--define-variable=prefix=%s --cflags qts-plugin) -std=c11 -Wall -Wextra -Werror "
             "%s -shared -o %s %s/docs/examples/plugin_hello/hello.c",
             tmp, prefix, prefix, QTS_OOT_EXTRA_CFLAGS, so, qts_test_source_dir());
    assert_int_equal(sh(cmd), 0);

    struct qts_err err;
    if (qts_plugin_check_file(so, QTS_KIND_FEED, &err) != 0)
        fail_msg("check: %s", err.msg);

    /* and it runs: loaded, started, polled, reloaded with its state */
    uv_loop_t loop;
    assert_int_equal(uv_loop_init(&loop), 0);
    int64_t px = 0;
    struct qts_event_sink sink = {.ctx = &px, .trade = on_trade};
    struct qts_metrics *metrics = qts_metrics_new();
    struct qts_plugin_env env = {.loop = &loop, .sink = &sink, .metrics = metrics};
    char gen[700];
    snprintf(gen, sizeof gen, "%s/plugins.gen", tmp);
    struct qts_plugin_manager_opts o = {.env = &env, .gen_dir = gen};
    struct qts_plugin_manager *m;
    assert_int_equal(qts_plugin_manager_new(&o, &m, &err), 0);
    struct qts_cfg_node *cfg = qts_test_cfg_node("hello.yaml", "price: 4200\n");
    assert_int_equal(qts_plugin_manager_add(m, "md", QTS_KIND_FEED, so, cfg, &err), 0);
    assert_int_equal(qts_plugin_manager_start(m, &err), 0);
    for (int round = 0; round < 2; round++) {
        struct qts_plugin_inst *inst = qts_plugin_manager_current(m, "md");
        const struct qts_feed_ops *ops = qts_plugin_inst_desc(inst)->ops;
        qts_plugin_inst_enter(inst);
        assert_int_equal(ops->poll(qts_plugin_inst_self(inst), 8), 1);
        qts_plugin_inst_leave(inst);
        if (round == 0)
            assert_int_equal(qts_plugin_manager_reload(m, "md", NULL, &err), 0);
    }
    assert_int_equal(px, 4200);
    int64_t n = 0;
    assert_int_equal(qts_metrics_get(metrics, "feed_hello.trades", &n), 0);
    assert_int_equal(n, 2);
    qts_plugin_manager_close(m);
    qts_test_manager_end(m, &loop, metrics, cfg);
    qts_test_rmtree(tmp);
    free(tmp);
}

int main(void)
{
    if (system("command -v cc >/dev/null && command -v pkg-config >/dev/null") != 0) {
        fprintf(stderr, "skipped: cc or pkg-config absent\n");
        return QTS_TEST_SKIP;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_guide_shows_the_built_example),
        cmocka_unit_test(test_hello_builds_against_installed_headers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
