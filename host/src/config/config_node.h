/* config_node.h — internals of the YAML tree (config_tree.h has the public
 * view). Used by the tree, the settings loader and their tests. */
#ifndef QTS_CONFIG_NODE_H
#define QTS_CONFIG_NODE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "config_tree.h"

struct qts_cfg_node {
    enum qts_cfg_type type;
    const char *file; /* borrowed: owned by the snapshot's file-name list */
    int line, col;    /* 1-based position of the value */
    char *scalar;     /* owned; scalars and nulls */
    bool is_quoted;   /* scalar written in quotes: always a string */
    size_t n, cap;
    struct qts_cfg_node **items; /* owned children */
    char **keys;                 /* owned; maps only */
    int *key_lines, *key_cols;   /* maps only: where each key is */
    bool from_env;               /* scalar text came (partly) from ${VAR}: never echo it */
    bool env_failed;             /* a ${VAR} could not be substituted (already reported) */
};

/* Parse YAML text into a tree. `file` is borrowed and must outlive the tree.
 * On error returns QTS_ECONFIG with diagnostics added; *out is NULL.
 * An empty document yields an empty map. Duplicate keys, tabs in
 * indentation and aliases are errors. */
int qts__cfg_parse(const char *file, const char *text, size_t len, struct qts_cfg_node **out,
                   struct qts_diags *diags);
void qts__cfg_node_free(struct qts_cfg_node *n);

/* A map built in code rather than parsed: configuration the host derives
 * for a plugin slot (a store's database path under var_dir). Owned:
 * qts__cfg_node_free. */
struct qts_cfg_node *qts__cfg_map_new(void);
/* Set the scalar at dotted `path` ("retention.tick_days": nested maps are
 * made as needed), replacing what was there. `value` is copied; `like`
 * (may be NULL) lends its file:line:col, quoting and from_env, so errors
 * still point at the YAML the value came from (the file name is borrowed:
 * the tree `like` belongs to must outlive `map`). */
void qts__cfg_map_put(struct qts_cfg_node *map, const char *path, const char *value,
                      const struct qts_cfg_node *like);
/* Copy every scalar under `src` (a map, may be NULL) into `map`, keeping
 * their places and paths. */
void qts__cfg_map_put_all(struct qts_cfg_node *map, const struct qts_cfg_node *src);

void qts_diags_add(struct qts_diags *d, const char *file, int line, int col, const char *path,
                   const char *fmt, ...) QTS_PRINTF(6, 7);
/* The same with the arguments as a va_list (for wrappers that count). */
void qts_diags_vadd(struct qts_diags *d, const char *file, int line, int col, const char *path,
                    const char *fmt, va_list ap) QTS_PRINTF(6, 0);

#endif
