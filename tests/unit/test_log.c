/* test_log.c — levels, file output, and the asynchronous writer flushing
 * everything on stop. */
#include "test_support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "util.h"

static char *read_all(const char *path)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    static char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static void test_levels_and_file(void **state)
{
    (void)state;
    char *dir = qts_test_tmpdir();
    char path[512];
    snprintf(path, sizeof path, "%s/log.txt", dir);
    assert_int_equal(qts_log_set_file(path), 0);
    qts_log_set_level(QTS_LOG_WARN);
    qts_log(QTS_LOG_INFO, "hidden line");
    qts_log(QTS_LOG_ERROR, "shown line key=%d", 7);
    qts_log_set_file(NULL);
    char *text = read_all(path);
    assert_null(strstr(text, "hidden line"));
    assert_non_null(strstr(text, "ERROR shown line key=7\n"));
    qts_log_set_level(QTS_LOG_INFO);
    qts_test_rmtree(dir);
    free(dir);
}

static void test_async_flushes_on_stop(void **state)
{
    (void)state;
    char *dir = qts_test_tmpdir();
    char path[512];
    snprintf(path, sizeof path, "%s/log.txt", dir);
    assert_int_equal(qts_log_set_file(path), 0);
    FILE *saved = stderr;
    stderr = fopen("/dev/null", "w");
    assert_int_equal(qts_log_start(), 0);
    for (int i = 0; i < 1000; i++)
        qts_log(QTS_LOG_INFO, "line n=%d", i);
    qts_log_stop();
    fclose(stderr);
    stderr = saved;
    qts_log_set_file(NULL);
    char *text = read_all(path);
    int lines = 0;
    for (char *p = text; *p; p++)
        lines += *p == '\n';
    assert_int_equal((uint64_t)lines + qts_log_dropped(), 1000);
    assert_non_null(strstr(text, "line n=0\n"));
    qts_test_rmtree(dir);
    free(dir);
}

static void test_level_names(void **state)
{
    (void)state;
    assert_int_equal(qts_log_level_parse("debug"), QTS_LOG_DEBUG);
    assert_int_equal(qts_log_level_parse("loud"), -1);
    assert_string_equal(qts_log_level_name(QTS_LOG_WARN), "WARN");
}

QTS_TEST_MAIN(test_levels_and_file, test_async_flushes_on_stop, test_level_names)
