/* config.h — YAML configuration: a typed, validated, immutable snapshot.
 *
 * qts_config_load() reads a YAML file (with `include:` of further files and
 * ${ENV_VAR} substitution), checks every key against the schema table in
 * config_schema.c (types, ranges, unknown keys with a "did you mean"),
 * applies defaults, and returns a snapshot. A snapshot never changes; a
 * reload builds a new one and swaps the pointer (qts_config_ref/unref), so a
 * bad file leaves the running snapshot in place.
 *
 * Two views of a snapshot:
 * - `struct qts_settings`: typed fields for everything the host itself reads.
 * - `struct qts_cfg_node`: the raw tree, for free-form subtrees that their
 *   owner validates (a plugin's `config:`, a strategy's `params:`). Every node
 *   knows its file:line:col for error messages.
 */
#ifndef QTS_CONFIG_H
#define QTS_CONFIG_H

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

/* ------------------------------------------------------------------- snapshot */

struct qts_config; /* opaque, refcounted, immutable */
struct qts_settings; /* defined in config_schema.h */

/* Load and validate. On success *out is owned by the caller (qts_config_unref)
 * and returns 0. On failure returns QTS_ECONFIG and fills `diags` with every
 * problem found (not just the first); `diags` may be NULL. */
int qts_config_load(const char *path, struct qts_config **out, struct qts_diags *diags);
/* Same, from a string (tests); `name` is used as the file name in messages. */
int qts_config_load_string(const char *name, const char *yaml, struct qts_config **out,
                           struct qts_diags *diags);

struct qts_config *qts_config_ref(struct qts_config *c);
void qts_config_unref(struct qts_config *c);

const struct qts_settings *qts_config_settings(const struct qts_config *c);
const struct qts_cfg_node *qts_config_root(const struct qts_config *c);
const char *qts_config_path(const struct qts_config *c); /* file it came from */

#endif /* QTS_CONFIG_H */
