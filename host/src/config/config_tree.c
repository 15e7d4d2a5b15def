/* config_tree.c — the raw YAML tree behind a configuration snapshot.
 *
 * libyaml's event parser builds a tree of qts_cfg_node. Every node keeps the
 * file, line and column it came from, so any later check (schema, plugin,
 * strategy params) can point at the exact spot. Nodes and their strings are
 * owned by the tree (qts__cfg_tree_free). Anchors and aliases are rejected:
 * a configuration should say each thing once, where it is read.
 */
#include "config_node.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "util.h"

static struct qts_cfg_node *node_new(enum qts_cfg_type type, const char *file,
                                     const yaml_mark_t *mark)
{
    struct qts_cfg_node *n = qts_xcalloc(1, sizeof *n);
    n->type = type;
    n->file = file;
    n->line = (int)mark->line + 1;
    n->col = (int)mark->column + 1;
    return n;
}

void qts__cfg_node_free(struct qts_cfg_node *n)
{
    if (!n)
        return;
    for (size_t i = 0; i < n->n; i++) {
        if (n->keys)
            free(n->keys[i]);
        qts__cfg_node_free(n->items[i]);
    }
    qts_free_all(n->keys, n->key_lines, n->key_cols, n->items, n->scalar, n);
}

static void node_append(struct qts_cfg_node *parent, char *key, int key_line, int key_col,
                        struct qts_cfg_node *child)
{
    if (parent->n == parent->cap) {
        parent->cap = parent->cap ? parent->cap * 2 : 4;
        parent->items = qts_xrealloc(parent->items, parent->cap * sizeof *parent->items);
        if (parent->type == QTS_CFG_MAP) {
            parent->keys = qts_xrealloc(parent->keys, parent->cap * sizeof *parent->keys);
            parent->key_lines = qts_xrealloc(parent->key_lines, parent->cap * sizeof(int));
            parent->key_cols = qts_xrealloc(parent->key_cols, parent->cap * sizeof(int));
        }
    }
    if (parent->type == QTS_CFG_MAP) {
        parent->keys[parent->n] = key;
        parent->key_lines[parent->n] = key_line;
        parent->key_cols[parent->n] = key_col;
    }
    parent->items[parent->n++] = child;
}

/* Parser state: a stack of open containers and, for maps, the pending key. */
struct build_frame {
    struct qts_cfg_node *node;
    char *pending_key; /* owned until attached */
    int key_line, key_col;
    char path[128]; /* dotted path of `node`, for messages */
};

static int diag_at(struct qts_diags *diags, const char *file, int line, int col, const char *path,
                   const char *fmt, ...) QTS_PRINTF(6, 7);

static int diag_at(struct qts_diags *diags, const char *file, int line, int col, const char *path,
                   const char *fmt, ...)
{
    if (!diags)
        return QTS_ECONFIG;
    va_list ap;
    va_start(ap, fmt);
    char msg[256];
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    qts_diags_add(diags, file, line, col, path, "%s", msg);
    return QTS_ECONFIG;
}

/* Tabs are not allowed for indentation in YAML; libyaml's message for them
 * is cryptic, so we look for them first and point at the exact column. */
static int check_tabs(const char *file, const char *text, size_t len, struct qts_diags *diags)
{
    int line = 1, col = 1, rc = 0;
    bool in_indent = true;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (c == '\n') {
            line++;
            col = 1;
            in_indent = true;
            continue;
        }
        if (c == '\t' && in_indent) {
            rc = diag_at(diags, file, line, col, "",
                         "tab character in indentation (YAML allows spaces only)");
        } else if (c != ' ') {
            in_indent = false;
        }
        col++;
    }
    return rc;
}

int qts__cfg_parse(const char *file, const char *text, size_t len, struct qts_cfg_node **out,
                   struct qts_diags *diags)
{
    *out = NULL;
    if (check_tabs(file, text, len, diags) != 0)
        return QTS_ECONFIG;

    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser))
        return diag_at(diags, file, 0, 0, "", "cannot initialise the YAML parser");
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);

    struct build_frame stack[64];
    int depth = 0;
    struct qts_cfg_node *root = NULL;
    int rc = 0;
    bool done = false;

    while (!done) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&parser, &ev)) {
            int line = (int)parser.problem_mark.line + 1;
            int col = (int)parser.problem_mark.column + 1;
            rc = diag_at(diags, file, line, col, "", "YAML syntax error: %s%s%s",
                         parser.problem ? parser.problem : "unknown", parser.context ? " " : "",
                         parser.context ? parser.context : "");
            break;
        }
        struct qts_cfg_node *made = NULL;
        bool push = false;
        char child_path[256] = "";
        switch (ev.type) {
        case YAML_STREAM_END_EVENT: done = true; break;
        case YAML_DOCUMENT_START_EVENT:
            if (root) {
                rc =
                    diag_at(diags, file, (int)ev.start_mark.line + 1, (int)ev.start_mark.column + 1,
                            "", "more than one YAML document in the file");
                done = true;
            }
            break;
        case YAML_ALIAS_EVENT:
            rc = diag_at(diags, file, (int)ev.start_mark.line + 1, (int)ev.start_mark.column + 1,
                         "", "YAML aliases are not supported; write the value out");
            done = true;
            break;
        case YAML_SCALAR_EVENT: {
            bool is_null = ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
                           (ev.data.scalar.length == 0 ||
                            strcmp((const char *)ev.data.scalar.value, "~") == 0 ||
                            strcmp((const char *)ev.data.scalar.value, "null") == 0);
            /* A map key is a scalar that arrives while the map has no pending key. */
            if (depth > 0 && stack[depth - 1].node->type == QTS_CFG_MAP &&
                stack[depth - 1].pending_key == NULL) {
                stack[depth - 1].pending_key = qts_xstrdup((const char *)ev.data.scalar.value);
                stack[depth - 1].key_line = (int)ev.start_mark.line + 1;
                stack[depth - 1].key_col = (int)ev.start_mark.column + 1;
                break;
            }
            made = node_new(is_null ? QTS_CFG_NULL : QTS_CFG_SCALAR, file, &ev.start_mark);
            made->scalar = qts_xstrdup((const char *)ev.data.scalar.value);
            made->is_quoted = ev.data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
            break;
        }
        case YAML_SEQUENCE_START_EVENT:
            made = node_new(QTS_CFG_SEQ, file, &ev.start_mark);
            push = true;
            break;
        case YAML_MAPPING_START_EVENT:
            made = node_new(QTS_CFG_MAP, file, &ev.start_mark);
            push = true;
            break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
            QTS_ASSERT(depth > 0);
            depth--;
            break;
        default: break;
        }
        /* A list or map where a key belongs (YAML's "? " complex key):
         * configuration keys are names, and the map has none to file it
         * under. */
        if (made && depth > 0 && stack[depth - 1].node->type == QTS_CFG_MAP &&
            stack[depth - 1].pending_key == NULL) {
            rc = diag_at(diags, file, made->line, made->col, stack[depth - 1].path,
                         "a key must be a name, not a list or map");
            qts__cfg_node_free(made);
            made = NULL;
            done = true;
        }
        if (made) {
            if (depth == 0) {
                root = made;
            } else {
                struct build_frame *top = &stack[depth - 1];
                if (top->node->type == QTS_CFG_MAP) {
                    snprintf(child_path, sizeof child_path, "%s%s%s", top->path,
                             top->path[0] ? "." : "", top->pending_key);
                    /* duplicate keys are an error: the later one would
                     * silently win otherwise */
                    for (size_t i = 0; i < top->node->n; i++) {
                        if (strcmp(top->node->keys[i], top->pending_key) == 0) {
                            rc = diag_at(diags, file, top->key_line, top->key_col, child_path,
                                         "duplicate key '%s' (first at line %d)", top->pending_key,
                                         top->node->key_lines[i]);
                        }
                    }
                    node_append(top->node, top->pending_key, top->key_line, top->key_col, made);
                    top->pending_key = NULL;
                } else {
                    snprintf(child_path, sizeof child_path, "%s[%zu]", top->path, top->node->n);
                    node_append(top->node, NULL, 0, 0, made);
                }
            }
            if (push) {
                if (depth == (int)QTS_ARRAY_LEN(stack)) {
                    rc = diag_at(diags, file, made->line, made->col, "",
                                 "nesting deeper than %d levels", (int)QTS_ARRAY_LEN(stack));
                    done = true;
                } else {
                    stack[depth].node = made;
                    stack[depth].pending_key = NULL;
                    qts_strlcpy(stack[depth].path, depth == 0 ? "" : child_path,
                                sizeof stack[depth].path);
                    depth++;
                }
            }
        }
        yaml_event_delete(&ev);
    }
    for (int i = 0; i < depth; i++)
        free(stack[i].pending_key);
    yaml_parser_delete(&parser);
    if (rc != 0) {
        qts__cfg_node_free(root);
        return rc;
    }
    if (!root) {
        yaml_mark_t m = {0, 0, 0};
        root = node_new(QTS_CFG_MAP, file, &m); /* empty file = empty map */
    }
    *out = root;
    return 0;
}

/* ------------------------------------------------------------ built maps */

static const yaml_mark_t built_mark; /* line 0, col 0: "no place" */

struct qts_cfg_node *qts__cfg_map_new(void)
{
    return node_new(QTS_CFG_MAP, "(derived)", &built_mark);
}

static struct qts_cfg_node *map_slot(struct qts_cfg_node *map, const char *key, size_t len,
                                     enum qts_cfg_type type)
{
    for (size_t i = 0; i < map->n; i++) {
        if (strlen(map->keys[i]) != len || memcmp(map->keys[i], key, len) != 0)
            continue;
        if (map->items[i]->type != type) { /* replaced by a node of the other kind */
            qts__cfg_node_free(map->items[i]);
            map->items[i] = node_new(type, map->file, &built_mark);
        }
        return map->items[i];
    }
    struct qts_cfg_node *child = node_new(type, map->file, &built_mark);
    char *copy = qts_xmalloc(len + 1);
    memcpy(copy, key, len);
    copy[len] = '\0';
    node_append(map, copy, 0, 0, child);
    return child;
}

void qts__cfg_map_put(struct qts_cfg_node *map, const char *path, const char *value,
                      const struct qts_cfg_node *like)
{
    const char *p = path;
    size_t k = strcspn(p, ".");
    while (p[k] == '.') {
        map = map_slot(map, p, k, QTS_CFG_MAP);
        p += k + 1;
        k = strcspn(p, ".");
    }
    struct qts_cfg_node *leaf = map_slot(map, p, k, QTS_CFG_SCALAR);
    free(leaf->scalar);
    leaf->scalar = qts_xstrdup(value ? value : "");
    if (like) {
        leaf->file = like->file;
        leaf->line = like->line;
        leaf->col = like->col;
        leaf->is_quoted = like->is_quoted;
        leaf->from_env = like->from_env;
    }
}

static void put_all(struct qts_cfg_node *map, const struct qts_cfg_node *src, char *path,
                    size_t len, size_t cap)
{
    for (size_t i = 0; i < qts_cfg_len(src); i++) {
        const struct qts_cfg_node *c = src->items[i];
        int n = snprintf(path + len, cap - len, "%s%s", len ? "." : "", src->keys[i]);
        if (n < 0 || (size_t)n >= cap - len)
            continue; /* a path this long names no plugin key */
        if (c->type == QTS_CFG_SCALAR)
            qts__cfg_map_put(map, path, c->scalar, c);
        else if (c->type == QTS_CFG_MAP)
            put_all(map, c, path, len + (size_t)n, cap);
        path[len] = '\0';
    }
}

void qts__cfg_map_put_all(struct qts_cfg_node *map, const struct qts_cfg_node *src)
{
    if (!src || src->type != QTS_CFG_MAP)
        return;
    char path[256] = "";
    put_all(map, src, path, 0, sizeof path);
}

/* ------------------------------------------------------------------ queries */

enum qts_cfg_type qts_cfg_type(const struct qts_cfg_node *n) { return n ? n->type : QTS_CFG_NULL; }

static const struct qts_cfg_node *map_child(const struct qts_cfg_node *n, const char *key,
                                            size_t key_len)
{
    if (!n || n->type != QTS_CFG_MAP)
        return NULL;
    for (size_t i = 0; i < n->n; i++)
        if (strlen(n->keys[i]) == key_len && memcmp(n->keys[i], key, key_len) == 0)
            return n->items[i];
    return NULL;
}

const struct qts_cfg_node *qts_cfg_get(const struct qts_cfg_node *n, const char *path)
{
    const char *p = path;
    while (n && *p) {
        size_t k = strcspn(p, ".");
        n = map_child(n, p, k);
        p += k;
        if (*p == '.')
            p++;
    }
    return n;
}

size_t qts_cfg_len(const struct qts_cfg_node *n)
{
    return n && (n->type == QTS_CFG_MAP || n->type == QTS_CFG_SEQ) ? n->n : 0;
}

const struct qts_cfg_node *qts_cfg_at(const struct qts_cfg_node *n, size_t i)
{
    return i < qts_cfg_len(n) ? n->items[i] : NULL;
}

const char *qts_cfg_key_at(const struct qts_cfg_node *n, size_t i)
{
    return n && n->type == QTS_CFG_MAP && i < n->n ? n->keys[i] : NULL;
}

const char *qts_cfg_str(const struct qts_cfg_node *n)
{
    return n && n->type == QTS_CFG_SCALAR ? n->scalar : NULL;
}

void qts_cfg_where(const struct qts_cfg_node *n, const char **file, int *line, int *col)
{
    if (file)
        *file = n ? n->file : "?";
    if (line)
        *line = n ? n->line : 0;
    if (col)
        *col = n ? n->col : 0;
}

static int type_error(const struct qts_cfg_node *n, const char *expected, struct qts_err *err)
{
    const char *got = !n                        ? "nothing"
                      : n->type == QTS_CFG_MAP  ? "a mapping"
                      : n->type == QTS_CFG_SEQ  ? "a sequence"
                      : n->type == QTS_CFG_NULL ? "an empty value"
                                                : NULL;
    if (!got && n->from_env)
        got = "a value from the environment (not shown)"; /* often a secret */
    if (got)
        return qts_err_set(err, QTS_ECONFIG, "%s:%d:%d: expected %s, got %s", n ? n->file : "?",
                           n ? n->line : 0, n ? n->col : 0, expected, got);
    return qts_err_set(err, QTS_ECONFIG, "%s:%d:%d: expected %s, got '%s'", n->file, n->line,
                       n->col, expected, n->scalar);
}

int qts_cfg_int(const struct qts_cfg_node *n, int64_t *out, struct qts_err *err)
{
    if (!n || n->type != QTS_CFG_SCALAR || n->is_quoted)
        return type_error(n, "an integer", err);
    const char *s = n->scalar;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    /* allow 1_000_000 style separators */
    if (*end == '_' || errno != 0 || end == s || *end != '\0') {
        char buf[64];
        size_t k = 0;
        for (const char *p = s; *p && k + 1 < sizeof buf; p++)
            if (*p != '_')
                buf[k++] = *p;
        buf[k] = '\0';
        errno = 0;
        v = strtoll(buf, &end, 10);
        if (errno == ERANGE)
            return qts_err_set(err, QTS_ECONFIG, "%s:%d:%d: integer out of range: '%s'", n->file,
                               n->line, n->col,
                               n->from_env ? "(from the environment, not shown)" : s);
        if (end == buf || *end != '\0')
            return type_error(n, "an integer", err);
    }
    *out = (int64_t)v;
    return 0;
}

int qts_cfg_double(const struct qts_cfg_node *n, double *out, struct qts_err *err)
{
    if (!n || n->type != QTS_CFG_SCALAR || n->is_quoted)
        return type_error(n, "a number", err);
    char *end;
    errno = 0;
    double v = strtod(n->scalar, &end);
    if (end == n->scalar || *end != '\0' || errno == ERANGE || !isfinite(v))
        return type_error(n, "a number", err);
    *out = v;
    return 0;
}

int qts_cfg_bool(const struct qts_cfg_node *n, bool *out, struct qts_err *err)
{
    if (n && n->type == QTS_CFG_SCALAR && !n->is_quoted) {
        const char *s = n->scalar;
        if (!strcmp(s, "true") || !strcmp(s, "yes") || !strcmp(s, "on")) {
            *out = true;
            return 0;
        }
        if (!strcmp(s, "false") || !strcmp(s, "no") || !strcmp(s, "off")) {
            *out = false;
            return 0;
        }
    }
    return type_error(n, "true or false", err);
}

/* ------------------------------------------------------------- diagnostics */

void qts_diags_init(struct qts_diags *d)
{
    d->v = NULL;
    d->n = d->cap = 0;
}

void qts_diags_cleanup(struct qts_diags *d)
{
    free(d->v);
    qts_diags_init(d);
}

void qts_diags_add(struct qts_diags *d, const char *file, int line, int col, const char *path,
                   const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    qts_diags_vadd(d, file, line, col, path, fmt, ap);
    va_end(ap);
}

void qts_diags_vadd(struct qts_diags *d, const char *file, int line, int col, const char *path,
                    const char *fmt, va_list ap)
{
    if (d->n == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 8;
        d->v = qts_xrealloc(d->v, d->cap * sizeof *d->v);
    }
    struct qts_diag *g = &d->v[d->n++];
    qts_strlcpy(g->file, file ? file : "?", sizeof g->file);
    g->line = line;
    g->col = col;
    qts_strlcpy(g->path, path ? path : "", sizeof g->path);
    vsnprintf(g->msg, sizeof g->msg, fmt, ap);
}

int qts_diag_format(const struct qts_diag *d, char *buf, size_t cap)
{
    if (d->path[0])
        return snprintf(buf, cap, "%s:%d:%d: %s: %s", d->file, d->line, d->col, d->path, d->msg);
    return snprintf(buf, cap, "%s:%d:%d: %s", d->file, d->line, d->col, d->msg);
}
