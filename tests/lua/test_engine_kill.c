/* test_engine_kill.c — the kill switch pulled during `qts run` of the
 * default configuration: `qts kill` over the admin socket cancels every
 * working order, new orders are refused, `qts status` then reports no
 * working order, and SIGTERM ends the run in order (exit 143: a replay stopped early). Runs the real
 * binary as a separate process, like an operator would. */
#include "test_support.h"

#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

extern char **environ;

static char g_exe[1024];

static pid_t spawn_qts(const char *out_path, const char *const *args)
{
    const char *argv[16];
    size_t n = 0;
    argv[n++] = g_exe;
    for (size_t i = 0; args[i] && n < 15; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    pid_t pid = -1;
    int rc = posix_spawn(&pid, g_exe, &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    assert_int_equal(rc, 0);
    return pid;
}

static int run_qts(const char *out_path, const char *const *args)
{
    pid_t pid = spawn_qts(out_path, args);
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static char *slurp(const char *path)
{
    static char buf[1 << 16];
    FILE *f = fopen(path, "r");
    buf[0] = '\0';
    if (f) {
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        buf[n] = '\0';
        fclose(f);
    }
    return buf;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void test_kill_during_run_leaves_no_working_order(void **state)
{
    (void)state;
    char *dir = qts_test_tmpdir();
    setenv("QTS_VAR_DIR", dir, 1);
    setenv("QTS_DEMO_EVENTS", "200000000", 1); /* far longer than the test */
    char sock[1100], run_out[1100], out[1100];
    snprintf(sock, sizeof sock, "%s/qts.sock", dir);
    snprintf(run_out, sizeof run_out, "%s/run.out", dir);
    snprintf(out, sizeof out, "%s/cmd.out", dir);
    const char *run_args[] = {"run", "-c", "config/qts.yaml", NULL};
    pid_t run = spawn_qts(run_out, run_args);

    struct stat st;
    int waited = 0;
    while (stat(sock, &st) != 0 && waited < 30000) {
        sleep_ms(50);
        waited += 50;
    }
    assert_int_equal(stat(sock, &st), 0);
    assert_int_equal(st.st_mode & 0077, 0); /* owner-only socket */
    sleep_ms(1500);                         /* let the strategies put orders to work */

    const char *kill_args[] = {"kill", "-s", sock, "--reason", "test", NULL};
    int krc = run_qts(out, kill_args);
    if (krc != 0)
        fprintf(stderr, "qts kill exited %d: %s\nrun: %s\n", krc, slurp(out), slurp(run_out));
    assert_int_equal(krc, 0);

    /* every cancel is handed over at once; the venue answers in data time */
    const char *status_args[] = {"status", "-s", sock, "--json", NULL};
    bool none_working = false;
    for (int i = 0; i < 100 && !none_working; i++) {
        assert_int_equal(run_qts(out, status_args), 0);
        none_working = strstr(slurp(out), "\"working_orders\":0") != NULL;
        if (!none_working)
            sleep_ms(100);
    }
    if (!none_working)
        fprintf(stderr, "status: %s\n", slurp(out));
    assert_true(none_working);
    if (!strstr(slurp(out), "\"kill\":true"))
        fprintf(stderr, "status: %s\n", slurp(out));
    assert_non_null(strstr(slurp(out), "\"kill\":true"));

    /* a replay stopped by SIGTERM before its end exits 143 (docs/operations.md) */
    kill(run, SIGTERM);
    int status = 0;
    waitpid(run, &status, 0);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 143);
    unsetenv("QTS_VAR_DIR");
    unsetenv("QTS_DEMO_EVENTS");
    qts_test_rmtree(dir);
    free(dir);
}

int main(void)
{
    snprintf(g_exe, sizeof g_exe, "%s/qts", qts_test_build_dir());
    if (chdir(qts_test_source_dir()) != 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kill_during_run_leaves_no_working_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
