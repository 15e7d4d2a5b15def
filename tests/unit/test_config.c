/* test_config.c — configuration snapshots: defaults, typed values, path
 * resolution, includes, ${ENV} substitution, validation errors (all of them,
 * with positions), "did you mean", and snapshot lifetime. */
#include "test_support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"
#include "settings.h"
#include "log.h"
#include "util.h"

static struct qts_config *load_ok(const char *yaml)
{
    struct qts_config *c = NULL;
    size_t n_diags = 0; /* any diagnostic is unexpected: printed, then failed */
    assert_int_equal(qts_test_config_load("t.yaml", yaml, &c, &n_diags), 0);
    assert_int_equal(n_diags, 0);
    return c;
}

/* Load must fail; returns every diagnostic, one per line (owned). */
static char *load_bad(const char *yaml, size_t *n_out)
{
    struct qts_diags d;
    qts_diags_init(&d);
    struct qts_config *c = NULL;
    assert_int_equal(qts_config_load_string("t.yaml", yaml, &c, &d), QTS_ECONFIG);
    assert_null(c);
    assert_true(d.n >= 1);
    char *all = qts_xcalloc(1, d.n * 800 + 1);
    size_t used = 0;
    for (size_t i = 0; i < d.n; i++) {
        char line[800];
        qts_diag_format(&d.v[i], line, sizeof line);
        used += (size_t)snprintf(all + used, d.n * 800 + 1 - used, "%s\n", line);
    }
    if (n_out)
        *n_out = d.n;
    qts_diags_cleanup(&d);
    return all;
}

static void expect_first(const char *yaml, const char *line)
{
    char *all = load_bad(yaml, NULL);
    size_t k = strcspn(all, "\n");
    all[k] = '\0';
    assert_string_equal(all, line);
    free(all);
}

static void test_defaults_applied(void **state)
{
    (void)state;
    struct qts_config *c = load_ok("");
    const struct qts_settings *s = qts_config_settings(c);
    assert_int_equal(s->mode, QTS_MODE_REPLAY);
    assert_string_equal(s->host_id, "qts-1");
    assert_int_equal(s->log_level, QTS_LOG_INFO);
    assert_string_equal(s->log_file, "");
    assert_string_equal(s->var_dir, "var");
    assert_string_equal(s->plugins_dir, "plugins");
    assert_false(s->plugins_watch);
    assert_false(s->plugins_resident);
    assert_int_equal(s->n_instruments, 0);
    assert_int_equal(s->n_feeds, 0);
    assert_null(s->broker.plugin);
    assert_null(s->cache.plugin);
    assert_null(s->store.plugin);
    assert_string_equal(s->strategies_dir, "strategies");
    assert_int_equal(s->strategy_workers, 1);
    assert_int_equal(s->strategy_memory_limit_mb, 64);
    assert_int_equal(s->strategy_callback_budget_ms, 50);
    assert_int_equal(s->strategy_max_errors_per_minute, 10);
    assert_true(s->replay_speed == 0);
    assert_string_equal(qts_config_path(c), "t.yaml");
    qts_config_unref(c);
}

static const char full_yaml[] =
    "mode: paper\n"
    "host_id: east-2\n"
    "log: {level: debug}\n"
    "plugins: {dir: /opt/qts/plugins, watch: yes}\n"
    "instruments:\n"
    "  - {symbol: BTCUSDT, venue: binance, px_exp: 2, qty_exp: 5, tick_size: \"0.01\",\n"
    "     lot_size: 0.00001, min_qty: \"0.00001\"}\n"
    "  - {symbol: ETHUSDT, tick_size: \"0.01\"}\n"
    "feeds:\n"
    "  - {name: a, plugin: feed_synthetic, config: {seed: 7, rate: 1000}}\n"
    "  - {name: b, plugin: ./local/feed_x.so}\n"
    "broker: {plugin: broker_paper, config: {latency_ms: 3}}\n"
    "strategies:\n"
    "  dir: /srv/strategies\n"
    "  workers: 2\n"
    "  callback_budget_ms: 2s\n"
    "  list:\n"
    "    - name: ema\n"
    "      file: ema_cross.lua\n"
    "      worker: 1\n"
    "      symbols: [BTCUSDT, ETHUSDT]\n"
    "      params: {fast: 12, slow: 26}\n"
    "    - {name: off, file: /abs/x.lua, enabled: false}\n"
    "replay: {speed: 2.5}\n";

static void test_typed_values_and_paths(void **state)
{
    (void)state;
    struct qts_config *c = load_ok(full_yaml);
    const struct qts_settings *s = qts_config_settings(c);
    assert_int_equal(s->mode, QTS_MODE_PAPER);
    assert_string_equal(s->host_id, "east-2");
    assert_int_equal(s->log_level, QTS_LOG_DEBUG);
    assert_true(s->plugins_watch);
    assert_int_equal(s->n_instruments, 2);
    assert_string_equal(s->instruments[0].venue, "binance");
    assert_int_equal(s->instruments[0].qty_exp, 5);
    assert_string_equal(s->instruments[0].lot_size, "0.00001");
    assert_string_equal(s->instruments[1].venue, "synthetic"); /* item default */
    assert_int_equal(s->instruments[1].px_exp, 2);
    assert_string_equal(s->instruments[1].lot_size, "1");
    assert_int_equal(s->n_feeds, 2);
    assert_string_equal(s->feeds[0].path, "/opt/qts/plugins/feed_synthetic.so");
    assert_string_equal(s->feeds[1].path, "./local/feed_x.so"); /* load_string: cwd */
    int64_t seed = 0;
    assert_int_equal(qts_cfg_int(qts_cfg_get(s->feeds[0].config, "seed"), &seed, NULL), 0);
    assert_int_equal(seed, 7);
    assert_null(s->feeds[1].config);
    assert_string_equal(s->broker.name, "broker");
    assert_string_equal(s->broker.path, "/opt/qts/plugins/broker_paper.so");
    assert_int_equal(s->strategy_workers, 2);
    assert_int_equal(s->strategy_callback_budget_ms, 2000);
    assert_int_equal(s->n_strategies, 2);
    const struct qts_strategy_cfg *t = &s->strategies[0];
    assert_string_equal(t->path, "/srv/strategies/ema_cross.lua");
    assert_true(t->enabled);
    assert_int_equal(t->worker, 1);
    assert_int_equal(t->n_symbols, 2);
    assert_string_equal(t->symbols[1], "ETHUSDT");
    assert_string_equal(qts_cfg_str(qts_cfg_get(t->params, "slow")), "26");
    assert_false(s->strategies[1].enabled);
    assert_string_equal(s->strategies[1].path, "/abs/x.lua");
    assert_true(s->replay_speed == 2.5);
    /* the raw tree is there for free-form readers */
    assert_string_equal(qts_cfg_str(qts_cfg_get(qts_config_root(c), "host_id")), "east-2");
    qts_config_unref(c);
}

static void test_paths_relative_to_top_level_file(void **state)
{
    (void)state;
    char *dir = qts_test_tmpdir();
    char p[512], sub[512];
    snprintf(sub, sizeof sub, "%s/conf", dir);
    assert_int_equal(mkdir(sub, 0755), 0);
    snprintf(sub, sizeof sub, "%s/conf/parts", dir);
    assert_int_equal(mkdir(sub, 0755), 0);
    snprintf(p, sizeof p, "%s/conf/parts/plugins.yaml", dir);
    /* written in an included file, still relative to conf/ (the top file) */
    assert_int_equal(qts_test_write_file(p, "plugins: {dir: ../build/plugins}\n"
                                            "include: more.yaml\n"),
                     0);
    snprintf(p, sizeof p, "%s/conf/parts/more.yaml", dir);
    assert_int_equal(qts_test_write_file(p, "broker: {plugin: broker_paper}\n"), 0);
    snprintf(p, sizeof p, "%s/conf/parts/strategies.yaml", dir);
    assert_int_equal(qts_test_write_file(p, "strategies: {dir: strats}\n"), 0);
    snprintf(p, sizeof p, "%s/conf/main.yaml", dir);
    assert_int_equal(qts_test_write_file(p, "mode: replay\n"
                                            "include: [parts/plugins.yaml, parts/strategies.yaml]\n"
                                            "feeds: [{name: f, plugin: my/feed.so}]\n"),
                     0);
    struct qts_diags d;
    qts_diags_init(&d);
    struct qts_config *c = NULL;
    assert_int_equal(qts_config_load(p, &c, &d), 0);
    qts_diags_cleanup(&d);
    const struct qts_settings *s = qts_config_settings(c);
    char want[600];
    snprintf(want, sizeof want, "%s/build/plugins/broker_paper.so", dir);
    assert_string_equal(s->broker.path, want);
    snprintf(want, sizeof want, "%s/conf/strats", dir);
    assert_string_equal(s->strategies_dir, want);
    snprintf(want, sizeof want, "%s/conf/my/feed.so", dir);
    assert_string_equal(s->feeds[0].path, want);
    /* nodes from an included file know where they came from */
    const char *file;
    int line, col;
    qts_cfg_where(qts_cfg_get(qts_config_root(c), "broker.plugin"), &file, &line, &col);
    snprintf(want, sizeof want, "%s/conf/parts/more.yaml", dir);
    assert_string_equal(file, want);
    assert_int_equal(line, 1);
    assert_int_equal(col, 18);
    assert_null(qts_cfg_get(qts_config_root(c), "include"));
    qts_config_unref(c);
    qts_test_rmtree(dir);
    free(dir);
}

static void test_include_errors(void **state)
{
    (void)state;
    char *dir = qts_test_tmpdir();
    char p[512], a[512], want[1024];
    snprintf(a, sizeof a, "%s/a.yaml", dir);
    assert_int_equal(qts_test_write_file(a, "include: b.yaml\n"), 0);
    snprintf(p, sizeof p, "%s/b.yaml", dir);
    assert_int_equal(qts_test_write_file(p, "mode: replay\ninclude:\n  - a.yaml\n"), 0);
    struct qts_diags d;
    qts_diags_init(&d);
    struct qts_config *c = NULL;
    assert_int_equal(qts_config_load(a, &c, &d), QTS_ECONFIG);
    assert_int_equal(d.n, 1);
    char line[800];
    qts_diag_format(&d.v[0], line, sizeof line);
    snprintf(want, sizeof want,
             "%s/b.yaml:3:5: include[0]: include cycle: '%s/a.yaml' is already being loaded", dir,
             dir);
    assert_string_equal(line, want);
    qts_diags_cleanup(&d);

    /* a key may live in one file only; several problems are all reported */
    assert_int_equal(qts_test_write_file(a, "mode: paper\n"
                                            "include: [b2.yaml, gone.yaml, 42]\n"),
                     0);
    snprintf(p, sizeof p, "%s/b2.yaml", dir);
    assert_int_equal(qts_test_write_file(p, "mode: live\n"), 0);
    qts_diags_init(&d);
    assert_int_equal(qts_config_load(a, &c, &d), QTS_ECONFIG);
    assert_int_equal(d.n, 3);
    qts_diag_format(&d.v[0], line, sizeof line);
    snprintf(want, sizeof want, "%s/b2.yaml:1:1: mode: key 'mode' is already defined at %s:1:1",
             dir, a);
    assert_string_equal(line, want);
    qts_diag_format(&d.v[1], line, sizeof line);
    snprintf(want, sizeof want,
             "%s:2:20: include[1]: cannot open included file '%s/gone.yaml': No such file or "
             "directory",
             a, dir);
    assert_string_equal(line, want);
    qts_diag_format(&d.v[2], line, sizeof line);
    snprintf(want, sizeof want,
             "%s:2:31: include[2]: cannot open included file '%s/42': No such file or directory", a,
             dir);
    assert_string_equal(line, want);
    qts_diags_cleanup(&d);
    qts_test_rmtree(dir);
    free(dir);
}

static void test_env_substitution(void **state)
{
    (void)state;
    setenv("QTS_T_HOST", "host-from-env", 1);
    setenv("QTS_T_EMPTY", "", 1);
    unsetenv("QTS_T_UNSET");
    setenv("QTS_T_WORKERS", "3", 1);
    struct qts_config *c = load_ok("host_id: pre-${QTS_T_HOST}-post\n"
                                   "log: {file: \"${QTS_T_UNSET:-/tmp/qts.log}\"}\n"
                                   "paths: {var_dir: \"${QTS_T_EMPTY:-fallback}\"}\n"
                                   "plugins: {dir: \"$${NOT_A_VAR}\"}\n"
                                   "strategies:\n  workers: ${QTS_T_WORKERS}\n");
    const struct qts_settings *s = qts_config_settings(c);
    assert_string_equal(s->host_id, "pre-host-from-env-post");
    assert_string_equal(s->log_file, "/tmp/qts.log");
    assert_string_equal(s->var_dir, "fallback");
    assert_string_equal(s->plugins_dir, "${NOT_A_VAR}");
    assert_int_equal(s->strategy_workers, 3); /* typed after substitution */
    qts_config_unref(c);

    /* a plugin reading its own config never sees a secret echoed either */
    setenv("QTS_T_KEY", "not-a-number-secret", 1);
    c = load_ok("broker:\n  plugin: p\n  config:\n    app_key: ${QTS_T_KEY}\n");
    const struct qts_cfg_node *bc = qts_config_settings(c)->broker.config;
    assert_string_equal(qts_cfg_str(qts_cfg_get(bc, "app_key")), "not-a-number-secret");
    struct qts_err err;
    int64_t port;
    assert_int_equal(qts_cfg_int(qts_cfg_get(bc, "app_key"), &port, &err), QTS_ECONFIG);
    assert_string_equal(err.msg, "t.yaml:4:14: expected an integer, got a value from the "
                                 "environment (not shown)");
    qts_config_unref(c);

    /* every unset variable is reported, at its scalar, value never shown */
    setenv("QTS_T_SECRET", "hunter2-secret", 1);
    size_t n = 0;
    char *all = load_bad("host_id: ${QTS_T_UNSET}\n"
                         "log: {level: \"${QTS_T_SECRET}\"}\n"
                         "paths:\n  var_dir: ${QTS_T_UNSET2}\n"
                         "broker: {plugin: \"${BAD-NAME}\"}\n",
                         &n);
    assert_int_equal(n, 4);
    assert_non_null(strstr(all, "t.yaml:1:10: host_id: environment variable 'QTS_T_UNSET' is "
                                "not set\n"));
    assert_non_null(strstr(all, "t.yaml:2:14: log.level: expected one of trace, debug, info, "
                                "warn, error, got a value from the environment (not shown)\n"));
    assert_non_null(strstr(all, "t.yaml:4:12: paths.var_dir: environment variable "
                                "'QTS_T_UNSET2' is not set\n"));
    assert_non_null(strstr(all, "t.yaml:5:18: broker.plugin: malformed ${...}"));
    assert_null(strstr(all, "hunter2"));
    free(all);
    expect_first("host_id: \"${QTS_T_UNSET:-${QTS_T_HOST}}\"\n",
                 "t.yaml:1:10: host_id: malformed ${...}: expected ${NAME} or ${NAME:-default}");
}

static void test_types_ranges_enums_all_reported(void **state)
{
    (void)state;
    size_t n = 0;
    char *all = load_bad("mode: live\n"
                         "log: {level: loud}\n"
                         "strategies:\n"
                         "  workers: 0\n"
                         "  memory_limit_mb: 1.5\n"
                         "  watch: 1\n"
                         "  list: {name: x}\n"
                         "instruments:\n"
                         "  - {symbol: [a], tick_size: 0.01, px_exp: 19}\n"
                         "replay: {speed: -1}\n"
                         "feeds: [{name: a, plugin: p, config: [1]}]\n",
                         &n);
    const char *want[] = {
        "t.yaml:2:14: log.level: expected one of trace, debug, info, warn, error, got 'loud'\n",
        "t.yaml:4:12: strategies.workers: expected an integer in 1..64, got '0'\n",
        "t.yaml:5:20: strategies.memory_limit_mb: expected an integer, got '1.5'\n",
        "t.yaml:6:10: strategies.watch: expected true or false, got '1'\n",
        "t.yaml:7:9: strategies.list: expected a list, got a mapping\n",
        "t.yaml:9:14: instruments[0].symbol: expected a string, got a list\n",
        "t.yaml:9:44: instruments[0].px_exp: expected an integer in 0..18, got '19'\n",
        "t.yaml:10:17: replay.speed: expected 'max' or a number > 0, got '-1'\n",
        "t.yaml:11:38: feeds[0].config: expected a mapping, got a list\n",
    };
    for (size_t i = 0; i < QTS_ARRAY_LEN(want); i++) {
        if (!strstr(all, want[i]))
            fprintf(stderr, "missing: %sin:\n%s", want[i], all);
        assert_non_null(strstr(all, want[i]));
    }
    assert_int_equal(n, QTS_ARRAY_LEN(want));
    free(all);

    /* relations between keys */
    expect_first("strategies:\n  workers: 2\n  list:\n    - {name: a, file: a.lua, worker: 2}\n",
                 "t.yaml:4:38: strategies.list[0].worker: worker 2 does not exist "
                 "(strategies.workers is 2)");
    expect_first("feeds:\n  - {name: a, plugin: x}\n  - {name: a, plugin: y}\n",
                 "t.yaml:3:12: feeds[1].name: feed name 'a' already used by feeds[0]");
    expect_first("broker: {config: {}}\n",
                 "t.yaml:1:9: broker.plugin: missing required key 'plugin'");
    expect_first("- a\n- b\n", "t.yaml:1:1: expected a mapping of keys at the top level of the "
                               "file");
}

static void test_did_you_mean(void **state)
{
    (void)state;
    assert_int_equal(qts__edit_distance("max_order_notionl", "max_order_notional"), 1);
    assert_int_equal(qts__edit_distance("", "abc"), 3);
    assert_int_equal(qts__edit_distance("kitten", "sitting"), 3);
    expect_first("strategies:\n  memory_limit: 32\n",
                 "t.yaml:2:3: strategies.memory_limit: unknown key 'memory_limit' (did you "
                 "mean 'memory_limit_mb'?)");
    expect_first("zzzzzz: 1\n", "t.yaml:1:1: zzzzzz: unknown key 'zzzzzz'");
    expect_first("feeds: [{name: a, plugn: x}]\n",
                 "t.yaml:1:19: feeds[0].plugn: unknown key 'plugn' (did you mean 'plugin'?)");
    expect_first("mode: papr\n",
                 "t.yaml:1:7: mode: expected one of replay, paper, live, got 'papr' (did you "
                 "mean 'paper'?)");
}

static void test_snapshot_refcount(void **state)
{
    (void)state;
    struct qts_config *c = load_ok(full_yaml);
    const struct qts_settings *s = qts_config_settings(c);
    struct qts_config *r = qts_config_ref(c);
    assert_ptr_equal(r, c);
    qts_config_unref(c); /* the second reference keeps everything alive */
    assert_string_equal(s->strategies[0].symbols[0], "BTCUSDT");
    assert_string_equal(qts_cfg_str(qts_cfg_get(s->broker.config, "latency_ms")), "3");
    /* two loads are independent snapshots */
    struct qts_config *c2 = load_ok(full_yaml);
    assert_ptr_not_equal(qts_config_settings(c2), s);
    qts_config_unref(r);
    assert_string_equal(qts_config_settings(c2)->host_id, "east-2");
    qts_config_unref(c2);
    qts_config_unref(NULL);
}

static void test_missing_top_level_file(void **state)
{
    (void)state;
    struct qts_diags d;
    qts_diags_init(&d);
    struct qts_config *c = NULL;
    assert_int_equal(qts_config_load("/nonexistent/qts.yaml", &c, &d), QTS_ECONFIG);
    assert_null(c);
    assert_int_equal(d.n, 1);
    char line[800];
    qts_diag_format(&d.v[0], line, sizeof line);
    assert_string_equal(line, "/nonexistent/qts.yaml:0:0: cannot open configuration file: No "
                              "such file or directory");
    qts_diags_cleanup(&d);
}

static void test_default_config_file_loads(void **state)
{
    (void)state;
    struct qts_diags d;
    qts_diags_init(&d);
    struct qts_config *c = NULL;
    assert_int_equal(qts_config_load(qts_test_src_path("config/qts.yaml"), &c, &d), 0);
    const struct qts_settings *s = qts_config_settings(c);
    assert_int_equal(s->mode, QTS_MODE_REPLAY);
    assert_non_null(s->broker.plugin);
    assert_true(s->n_feeds >= 1);
    assert_true(s->n_strategies >= 1);
    /* ${QTS_PLUGIN_DIR:-../build/plugins}: the tests set QTS_PLUGIN_DIR to
     * their build's plugin folder (build/ or build-asan/) */
    assert_non_null(strstr(s->broker.path, qts_test_plugin_dir()));
    qts_config_unref(c);
    qts_diags_cleanup(&d);
}

QTS_TEST_MAIN(test_defaults_applied, test_typed_values_and_paths,
              test_paths_relative_to_top_level_file, test_include_errors, test_env_substitution,
              test_types_ranges_enums_all_reported, test_did_you_mean, test_snapshot_refcount,
              test_missing_top_level_file, test_default_config_file_loads)
