/* config.h — YAML configuration: a typed, validated, immutable snapshot.
 *
 * qts_config_load() reads a YAML file (with `include:` of further files and
 * ${ENV_VAR} substitution), checks every key against the schema table in
 * settings.c (types, ranges, unknown keys with a "did you mean"),
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

#include "config_tree.h"
#include "qts/qts_err.h"

/* ------------------------------------------------------------------- snapshot */

struct qts_config;   /* opaque, refcounted, immutable */
struct qts_settings; /* defined in settings.h */

/* Load and validate. On success *out is owned by the caller (qts_config_unref)
 * and returns 0. On failure returns QTS_ECONFIG and fills `diags` with every
 * problem found (not just the first); `diags` may be NULL. */
int qts_config_load(const char *path, struct qts_config **out, struct qts_diags *diags);
/* Same, from a string (tests); `name` is used as the file name in messages. */
int qts_config_load_string(const char *name, const char *yaml, struct qts_config **out,
                           struct qts_diags *diags);

/* A value set from the command line over the file's (`qts sweep`): `path`
 * is dotted; a step into a list picks the item whose `name` is that step
 * ("strategies.list.ema.params.fast", "feeds.bars.config.end"). Maps and
 * keys missing on the way are made; `value` is read as an unquoted YAML
 * scalar and validated like the file's. */
struct qts_config_set {
    const char *path;
    const char *value;
};
/* qts_config_load with `sets` applied (in order) before validation. A step
 * that names no list item, or a path through a scalar, is a diagnostic. */
int qts_config_load_with(const char *path, const struct qts_config_set *sets, size_t n_sets,
                         struct qts_config **out, struct qts_diags *diags);

struct qts_config *qts_config_ref(struct qts_config *c);
void qts_config_unref(struct qts_config *c);

const struct qts_settings *qts_config_settings(const struct qts_config *c);
const struct qts_cfg_node *qts_config_root(const struct qts_config *c);
const char *qts_config_path(const struct qts_config *c); /* file it came from */

#endif /* QTS_CONFIG_H */
