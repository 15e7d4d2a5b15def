/* json.c — the host's JSON string escaper and flat-object scanner (json.h). */
#include "json.h"

#include <string.h>

static const char *ws(const char *p)
{
    while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
        p++;
    return p;
}

/* Parse a string at p (on the opening quote); unescape into out (may be
 * NULL). Returns the position after the closing quote, NULL when malformed. */
static const char *str(const char *p, char *out, size_t cap)
{
    if (*p != '"')
        return NULL;
    size_t o = 0;
    for (p++; *p && *p != '"'; p++) {
        char c = *p;
        if (c == '\\') {
            p++;
            switch (*p) {
            case 'n': c = '\n'; break;
            case 't': c = '\t'; break;
            case 'r': c = '\r'; break;
            case 'b': c = '\b'; break;
            case 'f': c = '\f'; break;
            case 'u': {
                unsigned v = 0;
                for (int i = 1; i <= 4; i++) {
                    char h = p[i];
                    if (!h)
                        return NULL;
                    v = v * 16 + (unsigned)(h <= '9' ? h - '0' : (h | 32) - 'a' + 10);
                }
                p += 4;
                c = v < 0x80 ? (char)v : '?'; /* ASCII is all the protocol needs */
                break;
            }
            case '\0': return NULL;
            default: c = *p; break;
            }
        }
        if (out && o + 1 < cap)
            out[o++] = c;
    }
    if (*p != '"')
        return NULL;
    if (out && cap)
        out[o] = '\0';
    return p + 1;
}

/* Skip one value; returns the position after it or NULL. */
static const char *skip(const char *p)
{
    p = ws(p);
    if (*p == '"')
        return str(p, NULL, 0);
    if (*p == '{' || *p == '[') {
        int depth = 0;
        for (; *p; p++) {
            if (*p == '"') {
                p = str(p, NULL, 0);
                if (!p)
                    return NULL;
                p--;
            } else if (*p == '{' || *p == '[') {
                depth++;
            } else if (*p == '}' || *p == ']') {
                if (--depth == 0)
                    return p + 1;
            }
        }
        return NULL;
    }
    while (*p && *p != ',' && *p != '}' && *p != ']' && *p != ' ')
        p++;
    return p;
}

/* Position of the value of top-level "key", or NULL. */
static const char *value_of(const char *json, const char *key)
{
    const char *p = ws(json);
    if (*p != '{')
        return NULL;
    p = ws(p + 1);
    char k[64];
    while (*p == '"') {
        p = str(p, k, sizeof k);
        if (!p)
            return NULL;
        p = ws(p);
        if (*p != ':')
            return NULL;
        p = ws(p + 1);
        if (strcmp(k, key) == 0)
            return p;
        p = skip(p);
        if (!p)
            return NULL;
        p = ws(p);
        if (*p == ',')
            p = ws(p + 1);
    }
    return NULL;
}

bool qts_json_get_str(const char *json, const char *key, char *out, size_t cap)
{
    const char *v = value_of(json, key);
    return v && *v == '"' && str(v, out, cap) != NULL;
}

bool qts_json_get_bool(const char *json, const char *key, bool *out)
{
    const char *v = value_of(json, key);
    if (v && strncmp(v, "true", 4) == 0) {
        *out = true;
        return true;
    }
    if (v && strncmp(v, "false", 5) == 0) {
        *out = false;
        return true;
    }
    return false;
}

/* The one escape rule of the host: quote and backslash get a backslash,
 * control characters become \u00XX, every other byte (UTF-8 included) is
 * copied. Writes at most 6 bytes (not terminated); returns their count. */
static size_t escape_byte(unsigned char c, char out[6])
{
    static const char hex[] = "0123456789abcdef";
    if (c == '"' || c == '\\') {
        out[0] = '\\';
        out[1] = (char)c;
        return 2;
    }
    if (c < 0x20) {
        memcpy(out, "\\u00", 4);
        out[4] = hex[c >> 4];
        out[5] = hex[c & 15];
        return 6;
    }
    out[0] = (char)c;
    return 1;
}

void qts_json_escape(char *out, size_t cap, const char *s)
{
    size_t o = 0;
    for (; s && *s && o + 7 < cap; s++)
        o += escape_byte((unsigned char)*s, out + o);
    if (cap)
        out[o] = '\0';
}

void qts_json_write_str(FILE *f, const char *s)
{
    char esc[6];
    fputc('"', f);
    for (; s && *s; s++)
        fwrite(esc, 1, escape_byte((unsigned char)*s, esc), f);
    fputc('"', f);
}

/* ------------------------------------------ reading nested answers */

const char *qts_json_value(const char *json, const char *key)
{
    return json ? value_of(json, key) : NULL;
}

bool qts_json_get_text(const char *json, const char *key, char *out, size_t cap)
{
    const char *v = qts_json_value(json, key);
    if (!v || cap == 0)
        return false;
    if (*v == '"')
        return str(v, out, cap) != NULL;
    const char *end = skip(v);
    if (!end || *v == '{' || *v == '[')
        return false;
    size_t n = (size_t)(end - v) < cap - 1 ? (size_t)(end - v) : cap - 1;
    memcpy(out, v, n);
    out[n] = '\0';
    return true;
}

const char *qts_json_array_first(const char *arr)
{
    if (!arr || *arr != '[')
        return NULL;
    const char *p = ws(arr + 1);
    return *p == ']' || !*p ? NULL : p;
}

const char *qts_json_array_next(const char *elem)
{
    const char *p = elem ? skip(elem) : NULL;
    if (!p)
        return NULL;
    p = ws(p);
    return *p == ',' ? ws(p + 1) : NULL;
}
