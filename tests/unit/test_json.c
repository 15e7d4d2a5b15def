/* test_json.c — the host's one JSON string escaper (json.h): the buffer
 * and stream forms write the same bytes, every byte class is escaped by the
 * one rule, and the buffer form cuts text, never an escape. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* open_memstream */
#endif
#include "test_support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

/* qts_json_write_str output as a string (owned by the caller: free). */
static char *write_str(const char *s)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    qts_json_write_str(f, s);
    fclose(f);
    return text;
}

static void test_escape_rule(void **state)
{
    (void)state;
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"plain", "plain"},
        {"q\"b\\", "q\\\"b\\\\"},
        {"\n\t\r\x01\x1f", "\\u000a\\u0009\\u000d\\u0001\\u001f"},
        {"/ \x7f \xed\x95\x9c", "/ \x7f \xed\x95\x9c"}, /* copied: DEL, '/', UTF-8 */
        {"", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char buf[128];
        qts_json_escape(buf, sizeof buf, cases[i].in);
        assert_string_equal(buf, cases[i].want);
        char quoted[160];
        snprintf(quoted, sizeof quoted, "\"%s\"", cases[i].want);
        char *streamed = write_str(cases[i].in);
        assert_string_equal(streamed, quoted);
        free(streamed);
    }
    char *null_text = write_str(NULL);
    assert_string_equal(null_text, "\"\"");
    free(null_text);
}

static void test_escape_truncates_whole_escapes(void **state)
{
    (void)state;
    char buf[9];
    /* each character needs room for the longest escape and the NUL (7) */
    qts_json_escape(buf, sizeof buf, "ab\ncd");
    assert_string_equal(buf, "ab");
    char wide[10];
    qts_json_escape(wide, sizeof wide, "ab\ncd");
    assert_string_equal(wide, "ab\\u000a");
    qts_json_escape(buf, 0, "x"); /* no room: nothing written */
    qts_json_escape(buf, sizeof buf, NULL);
    assert_string_equal(buf, "");
}

QTS_TEST_MAIN(test_escape_rule, test_escape_truncates_whole_escapes)
