/* config_keys.h — checking a subtree against a table of keys.
 *
 * The pieces the host's settings walk and the check of a plugin's
 * `config:` (the plugin's struct qts_cfg_key table, qts_plugin.h) share, so
 * both say "unknown key 'x' (did you mean 'y'?)" and "expected ..., got ..."
 * the same way, at the key's file:line:col.
 */
#ifndef QTS_CONFIG_KEYS_H
#define QTS_CONFIG_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config_tree.h"
#include "qts/qts_plugin.h" /* struct qts_cfg_key */

/* Levenshtein distance; SIZE_MAX when either string is over 64 bytes. */
size_t qts__edit_distance(const char *a, const char *b);

/* The closest of the names offered to a misspelt `key`, if it is close
 * enough to be worth suggesting. */
struct qts_cfg_suggest {
    const char *key;  /* borrowed: the unknown key */
    const char *best; /* borrowed: the closest name offered so far */
    size_t best_d;
};
void qts_cfg_suggest_init(struct qts_cfg_suggest *s, const char *key);
void qts_cfg_suggest_offer(struct qts_cfg_suggest *s, const char *name);
/* The suggestion, or NULL when nothing offered is within 1-3 edits
 * (by the key's length). */
const char *qts_cfg_suggest_best(const struct qts_cfg_suggest *s);

/* "unknown key 'k'" (with the suggestion, if any) at key `i` of `map`;
 * `path` is the key's dotted path for the message. */
void qts_cfg_diag_unknown_key(struct qts_diags *d, const struct qts_cfg_node *map, size_t i,
                              const char *path, const char *suggestion);

/* What `n` holds, for "expected ..., got <this>": "'abc'", "a list", ...;
 * never echoes a value that came from the environment. Returns buf or a
 * static string. */
const char *qts_cfg_got(const struct qts_cfg_node *n, char *buf, size_t cap);

/* "50", "50ms", "2s", "3m", "1h" to milliseconds. */
bool qts_cfg_parse_duration_ms(const char *s, int64_t *out);

/* Check the map `config` (NULL = absent: nothing to check) against `keys`
 * (ending with QTS_CFG_END): every key must be in the table and its value
 * of the table's type. `path` names the subtree in messages
 * ("broker.config"). Adds one diagnostic per problem; returns how many. */
size_t qts_cfg_check_keys(const struct qts_cfg_node *config, const struct qts_cfg_key *keys,
                          const char *path, struct qts_diags *d);

#endif /* QTS_CONFIG_KEYS_H */
