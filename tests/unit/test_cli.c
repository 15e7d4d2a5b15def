/* test_cli.c — the built `qts` binary: exit codes and the first lines users
 * see for version, help, check and run on good and bad configurations. */
#include "test_support.h"

#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util.h"

extern char **environ;

static char *tmp;

struct result {
    int code;
    char out[16384]; /* stdout */
    char err[16384]; /* stderr */
};

static void slurp(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(buf, 1, cap - 1, f) : 0;
    buf[n] = '\0';
    if (f)
        fclose(f);
}

/* Run `qts args...` (NULL-terminated) with stdout and stderr captured. */
static void run_qts(struct result *r, const char *first, ...)
{
    char exe[1024];
    snprintf(exe, sizeof exe, "%s/qts", qts_test_build_dir());
    const char *argv[16] = {exe};
    int argc = 1;
    va_list ap;
    va_start(ap, first);
    for (const char *a = first; a && argc < 15; a = va_arg(ap, const char *))
        argv[argc++] = a;
    va_end(ap);
    argv[argc] = NULL;
    char out_path[600], err_path[600];
    snprintf(out_path, sizeof out_path, "%s/out", tmp);
    snprintf(err_path, sizeof err_path, "%s/err", tmp);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&fa, 2, err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    pid_t pid;
    int rc = posix_spawn(&pid, exe, &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    assert_int_equal(rc, 0);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    r->code = WEXITSTATUS(status);
    slurp(out_path, r->out, sizeof r->out);
    slurp(err_path, r->err, sizeof r->err);
}

static const char *tmp_file(const char *name, const char *text)
{
    static char path[8][700];
    static unsigned next;
    char *p = path[next++ % 8];
    snprintf(p, 700, "%s/%s", tmp, name);
    QTS_ASSERT(qts_test_write_file(p, text) == 0);
    return p;
}

static void test_version_and_help(void **state)
{
    (void)state;
    struct result r;
    run_qts(&r, "version", NULL);
    assert_int_equal(r.code, 0);
    assert_memory_equal(r.out, "qts ", 4);
    assert_non_null(strstr(r.out, "plugin ABI"));
    run_qts(&r, "--version", NULL);
    assert_int_equal(r.code, 0);
    run_qts(&r, "version", "extra", NULL);
    assert_int_equal(r.code, 2);

    run_qts(&r, "help", NULL);
    assert_int_equal(r.code, 0);
    assert_non_null(strstr(r.out, "  check "));
    assert_non_null(strstr(r.out, "  run "));
    run_qts(&r, "help", "check", NULL);
    assert_int_equal(r.code, 0);
    assert_non_null(strstr(r.out, "-c, --config FILE"));
    run_qts(&r, "help", "run", NULL);
    assert_int_equal(r.code, 0);
    assert_non_null(strstr(r.out, "usage: qts run"));
    /* every command `qts help` lists answers --help and -h with its usage */
    run_qts(&r, "help", NULL);
    char names[32][16];
    int n = 0;
    for (const char *line = strstr(r.out, "commands:\n"); line && n < 32;
         line = strchr(line + 1, '\n'))
        if (strncmp(line, "\n  ", 3) == 0 && sscanf(line + 3, "%15s", names[n]) == 1)
            n++;
    assert_true(n >= 10);
    for (int i = 0; i < n; i++) {
        run_qts(&r, names[i], "--help", NULL);
        assert_int_equal(r.code, 0);
        assert_non_null(strstr(r.out, "usage: qts"));
        run_qts(&r, names[i], "-c", "x.yaml", "-h", NULL);
        assert_int_equal(r.code, 0);
        assert_non_null(strstr(r.out, "usage: qts"));
    }

    run_qts(&r, "help", "nosuch", NULL);
    assert_int_equal(r.code, 2);
    run_qts(&r, NULL);
    assert_int_equal(r.code, 2);
    run_qts(&r, "frobnicate", NULL);
    assert_int_equal(r.code, 2);
    assert_non_null(strstr(r.err, "unknown command 'frobnicate'"));
    run_qts(&r, "check", "--bogus", NULL);
    assert_int_equal(r.code, 2);
}

static void test_check_good_and_bad(void **state)
{
    (void)state;
    struct result r;
    tmp_file("ok.lua", "local M = {api = 1}\nfunction M.on_init(ctx, p) return {} end\nreturn M\n");
    tmp_file("broken.lua", "local M = {}\nfunction M.on_init(\nreturn M\n");
    const char *good = tmp_file("good.yaml", "instruments: [{symbol: X, tick_size: \"0.5\"}]\n"
                                             "strategies:\n"
                                             "  dir: .\n"
                                             "  list: [{name: s, file: ok.lua, symbols: [X]}]\n");
    run_qts(&r, "check", "-c", good, NULL);
    if (r.code != 0)
        fprintf(stderr, "%s%s", r.out, r.err);
    assert_int_equal(r.code, 0);
    assert_non_null(strstr(r.out, "ok (compiles)"));
    assert_non_null(strstr(r.out, "result         ok"));
    run_qts(&r, "check", "--config", good, NULL);
    assert_int_equal(r.code, 0);

    /* a strategy with a syntax error: exit 2 and file:line of the error */
    const char *bad_lua = tmp_file("badlua.yaml", "strategies:\n"
                                                  "  dir: .\n"
                                                  "  list: [{name: s, file: broken.lua}]\n");
    run_qts(&r, "check", "-c", bad_lua, NULL);
    assert_int_equal(r.code, 2);
    char want[800];
    snprintf(want, sizeof want, "BAD: %s/broken.lua:3:", tmp);
    assert_non_null(strstr(r.out, want));

    /* missing plugin and strategy files: reported, exit 2 */
    const char *missing =
        tmp_file("missing.yaml", "broker: {plugin: no_such_broker}\n"
                                 "strategies: {list: [{name: s, file: x.lua}]}\n");
    run_qts(&r, "check", "-c", missing, NULL);
    assert_int_equal(r.code, 2);
    assert_non_null(strstr(r.out, "no_such_broker.so\n                   MISSING: No such file"));
    assert_non_null(strstr(r.out, "2 problems: 2 missing files"));

    /* a plugin file anyone in the group may rewrite is refused */
    const char *so = tmp_file("gw.so", "not really a plugin\n");
    assert_int_equal(chmod(so, 0664), 0);
    const char *gw = tmp_file("gw.yaml", "feeds: [{name: f, plugin: ./gw.so}]\n");
    run_qts(&r, "check", "-c", gw, NULL);
    assert_int_equal(r.code, 2);
    assert_non_null(strstr(r.out, "BAD: writable by group"));

    /* configuration errors: exit 2, diagnostics on stderr */
    assert_int_equal(chdir(qts_test_src_path("tests")), 0);
    run_qts(&r, "check", "-c", "config_bad/05-bad-enum.yaml", NULL);
    assert_int_equal(r.code, 2);
    assert_string_equal(r.out, "");
    assert_non_null(strstr(r.err, "config_bad/05-bad-enum.yaml:1:7: mode: expected one of "
                                  "replay, paper, live, got 'livee' (did you mean 'live'?)\n"));
    run_qts(&r, "check", "-c", "no/such/file.yaml", NULL);
    assert_int_equal(r.code, 2);
    assert_non_null(strstr(r.err, "no/such/file.yaml:0:0: cannot open configuration file"));
    assert_int_equal(chdir(qts_test_source_dir()), 0);
}

static void test_run(void **state)
{
    (void)state;
    struct result r;
    /* the default configuration runs end to end (a short demo: the event
     * count comes from the environment) and says where its report is */
    assert_int_equal(chdir(qts_test_source_dir()), 0);
    setenv("QTS_DEMO_EVENTS", "20000", 1);
    run_qts(&r, "run", "-c", "config/qts.yaml", NULL);
    unsetenv("QTS_DEMO_EVENTS");
    if (r.code != 0)
        fprintf(stderr, "%s%s", r.out, r.err);
    assert_int_equal(r.code, 0);
    assert_non_null(strstr(r.out, "run            20000 events"));
    assert_non_null(strstr(r.out, "/runs/"));
    assert_non_null(strstr(r.out, "/report.html"));

    /* a plugin file that is missing stops run with a usage error */
    const char *missing = tmp_file("missing.yaml", "broker: {plugin: no_such_plugin}\n");
    run_qts(&r, "run", "-c", missing, NULL);
    assert_int_equal(r.code, 2);
    assert_non_null(strstr(r.err, "missing"));

    const char *bad = tmp_file("bad.yaml", "mode: replay\nmode: live\n");
    run_qts(&r, "run", "-c", bad, NULL);
    assert_int_equal(r.code, 2);
    assert_non_null(strstr(r.err, "bad.yaml:2:1: mode: duplicate key 'mode' (first at line 1)"));

    /* an unusable (not merely missing) file stops run */
    tmp_file("broken2.lua", "return {\n");
    const char *unusable = tmp_file("unusable.yaml", "strategies: {dir: ., list: [{name: s, "
                                                     "file: broken2.lua}]}\n");
    run_qts(&r, "run", "-c", unusable, NULL);
    assert_int_equal(r.code, 2);
}

QTS_TEST_MAIN_TMPDIR(tmp, test_version_and_help, test_check_good_and_bad, test_run)
