/* json.h — the host's one JSON string escaper, and a small scanner for one
 * flat object (the admin socket's request and reply lines). Every JSON text
 * the host writes by hand escapes its strings here, so they all follow one
 * rule: '"' and '\\' get a backslash, bytes below 0x20 become \u00XX, all
 * other bytes (UTF-8 included) are copied as they are. */
#ifndef QTS_JSON_H
#define QTS_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* The string value of top-level "key" of the object `json` (borrowed),
 * unescaped into out (copied; always terminated, truncated to cap); false
 * when absent or not a string. \u escapes above ASCII read as '?'. */
bool qts_json_get_str(const char *json, const char *key, char *out, size_t cap);
/* The boolean value of top-level "key"; false when absent or not a boolean. */
bool qts_json_get_bool(const char *json, const char *key, bool *out);
/* Escape `s` (borrowed; NULL reads as "") as the inside of a JSON string
 * into out (always terminated when cap > 0). Stops before a character whose
 * escape would not fit, so the text is cut, never an escape. */
void qts_json_escape(char *out, size_t cap, const char *s);
/* Write `s` (borrowed; NULL reads as "") to f as a quoted JSON string, with
 * the same escapes, never truncated. */
void qts_json_write_str(FILE *f, const char *s);

/* Reading a nested answer (`qts status`): where the value of top-level
 * "key" of the object at `json` starts (borrowed, inside json), or NULL.
 * Call it again on an object value to go one level down. */
const char *qts_json_value(const char *json, const char *key);
/* A scalar member as text: a string unescaped, a number, true, false or
 * null as written; false when absent or an object/array. */
bool qts_json_get_text(const char *json, const char *key, char *out, size_t cap);
/* The elements of the array starting at `arr` ('['): the first element, then
 * the one after `elem`; NULL at the end. */
const char *qts_json_array_first(const char *arr);
const char *qts_json_array_next(const char *elem);

#endif /* QTS_JSON_H */
