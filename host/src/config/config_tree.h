/* config_tree.h — the YAML tree every configuration is read from.
 *
 * A tree node knows its file:line:col, so whoever validates a subtree (the
 * host's settings, a plugin's `config:`, a strategy's `params:`, a risk map)
 * reports errors at the right place. Diagnostics collect every problem found,
 * not just the first. Internals (the node layout, the parser) are in
 * config_node.h.
 */
#ifndef QTS_CONFIG_TREE_H
#define QTS_CONFIG_TREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "qts/qts_err.h"

/* ----------------------------------------------------------------- diagnostics */

/* One problem found while loading: "file:line:col: path: message". */
struct qts_diag {
    char file[256];
    int line;       /* 1-based; 0 if unknown */
    int col;        /* 1-based; 0 if unknown */
    char path[128]; /* dotted key path, e.g. "risk.max_order_notional" */
    char msg[256];
};

struct qts_diags {
    struct qts_diag *v; /* owned */
    size_t n, cap;
};

void qts_diags_init(struct qts_diags *d);
void qts_diags_cleanup(struct qts_diags *d);
/* Format diagnostic i as "file:line:col: path: msg" into buf. */
int qts_diag_format(const struct qts_diag *d, char *buf, size_t cap);

/* ------------------------------------------------------------------ raw tree */

enum qts_cfg_type {
    QTS_CFG_NULL = 0,
    QTS_CFG_SCALAR = 1,
    QTS_CFG_MAP = 2,
    QTS_CFG_SEQ = 3,
};

struct qts_cfg_node; /* opaque; owned by its snapshot */

enum qts_cfg_type qts_cfg_type(const struct qts_cfg_node *n);
/* Child by dotted path ("rest.timeout_ms"); NULL if absent. */
const struct qts_cfg_node *qts_cfg_get(const struct qts_cfg_node *n, const char *path);
size_t qts_cfg_len(const struct qts_cfg_node *n); /* map or sequence size */
const struct qts_cfg_node *qts_cfg_at(const struct qts_cfg_node *n, size_t i);
const char *qts_cfg_key_at(const struct qts_cfg_node *n, size_t i); /* maps only */
/* Scalar text (after ${ENV} substitution); NULL for non-scalars. Borrowed. */
const char *qts_cfg_str(const struct qts_cfg_node *n);
/* Typed reads; QTS_ECONFIG with file:line:col in err on a wrong type. */
int qts_cfg_int(const struct qts_cfg_node *n, int64_t *out, struct qts_err *err);
int qts_cfg_double(const struct qts_cfg_node *n, double *out, struct qts_err *err);
int qts_cfg_bool(const struct qts_cfg_node *n, bool *out, struct qts_err *err);
/* Where the node came from (borrowed file name, 1-based line/col). */
void qts_cfg_where(const struct qts_cfg_node *n, const char **file, int *line, int *col);

#endif /* QTS_CONFIG_TREE_H */
