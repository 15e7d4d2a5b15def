/* config_keys.c — see config_keys.h. */
#include "config_keys.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_node.h"
#include "util.h"

size_t qts__edit_distance(const char *a, const char *b)
{
    size_t na = strlen(a), nb = strlen(b);
    if (na > 64 || nb > 64)
        return SIZE_MAX;
    size_t prev[65], cur[65];
    for (size_t j = 0; j <= nb; j++)
        prev[j] = j;
    for (size_t i = 1; i <= na; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= nb; j++) {
            size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
            size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
            cur[j] = QTS_MIN(sub, QTS_MIN(del, ins));
        }
        memcpy(prev, cur, (nb + 1) * sizeof *prev);
    }
    return prev[nb];
}

void qts_cfg_suggest_init(struct qts_cfg_suggest *s, const char *key)
{
    *s = (struct qts_cfg_suggest){.key = key, .best_d = SIZE_MAX};
}

void qts_cfg_suggest_offer(struct qts_cfg_suggest *s, const char *name)
{
    size_t d = qts__edit_distance(s->key, name);
    if (d < s->best_d) {
        s->best_d = d;
        s->best = name;
    }
}

const char *qts_cfg_suggest_best(const struct qts_cfg_suggest *s)
{
    size_t len = strlen(s->key);
    size_t limit = len <= 4 ? 1 : len <= 8 ? 2 : 3;
    return s->best && s->best_d <= limit ? s->best : NULL;
}

void qts_cfg_diag_unknown_key(struct qts_diags *d, const struct qts_cfg_node *map, size_t i,
                              const char *path, const char *suggestion)
{
    if (suggestion)
        qts_diags_add(d, map->file, map->key_lines[i], map->key_cols[i], path,
                      "unknown key '%s' (did you mean '%s'?)", map->keys[i], suggestion);
    else
        qts_diags_add(d, map->file, map->key_lines[i], map->key_cols[i], path, "unknown key '%s'",
                      map->keys[i]);
}

const char *qts_cfg_got(const struct qts_cfg_node *n, char *buf, size_t cap)
{
    if (!n)
        return "nothing";
    switch (n->type) {
    case QTS_CFG_MAP: return "a mapping";
    case QTS_CFG_SEQ: return "a list";
    case QTS_CFG_NULL: return "an empty value";
    case QTS_CFG_SCALAR: break;
    }
    if (n->from_env)
        return "a value from the environment (not shown)";
    snprintf(buf, cap, "'%.200s'", n->scalar);
    return buf;
}

bool qts_cfg_parse_duration_ms(const char *s, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (end == s || errno)
        return false;
    long long mul = 1;
    if (!*end || !strcmp(end, "ms"))
        mul = 1;
    else if (!strcmp(end, "s"))
        mul = 1000;
    else if (!strcmp(end, "m"))
        mul = 60000;
    else if (!strcmp(end, "h"))
        mul = 3600000;
    else
        return false;
    if (v > LLONG_MAX / mul || v < LLONG_MIN / mul)
        return false;
    *out = (int64_t)(v * mul);
    return true;
}

/* ------------------------------------------------- a plugin's config: subtree */

static void join(char *out, size_t cap, const char *a, const char *b)
{
    snprintf(out, cap, "%s%s%s", a, a[0] ? "." : "", b);
}

/* Does the value of `n` read as key type `type` (the plugin's cfg_* call
 * for that type succeeds)? Otherwise what the type expects. */
static const char *mismatch(uint32_t type, const struct qts_cfg_node *n)
{
    int64_t i;
    double x;
    bool b;
    switch (type) {
    case QTS_CFG_KEY_STR:
        return n->type == QTS_CFG_SCALAR || n->type == QTS_CFG_NULL ? NULL : "a string";
    case QTS_CFG_KEY_INT: return qts_cfg_int(n, &i, NULL) == 0 ? NULL : "an integer";
    case QTS_CFG_KEY_DEC: return qts_cfg_double(n, &x, NULL) == 0 ? NULL : "a number";
    case QTS_CFG_KEY_BOOL: return qts_cfg_bool(n, &b, NULL) == 0 ? NULL : "true or false";
    case QTS_CFG_KEY_DURATION:
        return qts_cfg_int(n, &i, NULL) == 0 ? NULL : "a duration in milliseconds (an integer)";
    case QTS_CFG_KEY_LIST:
        if (n->type == QTS_CFG_SEQ) {
            for (size_t k = 0; k < n->n; k++)
                if (n->items[k]->type != QTS_CFG_SCALAR)
                    return "a list of strings";
            return NULL;
        }
        return n->type == QTS_CFG_SCALAR || n->type == QTS_CFG_NULL
                   ? NULL
                   : "a comma-separated string or a list of strings";
    default: return NULL; /* a type this host does not know: a newer plugin's own business */
    }
}

/* `name` lies below the section `prefix` ("" = top): the part after it. */
static const char *below(const char *name, const char *prefix)
{
    size_t plen = strlen(prefix);
    if (plen == 0)
        return name;
    return strncmp(name, prefix, plen) == 0 && name[plen] == '.' ? name + plen + 1 : NULL;
}

static size_t check_map(const struct qts_cfg_node *map, const struct qts_cfg_key *keys,
                        const char *prefix, const char *path, struct qts_diags *d)
{
    size_t errors = 0;
    for (size_t i = 0; i < map->n; i++) {
        const struct qts_cfg_node *n = map->items[i];
        char name[160], kpath[256];
        join(name, sizeof name, prefix, map->keys[i]);
        join(kpath, sizeof kpath, path, map->keys[i]);
        const struct qts_cfg_key *row = NULL;
        bool is_section = false;
        for (const struct qts_cfg_key *k = keys; k->name; k++) {
            if (strcmp(k->name, name) == 0)
                row = k;
            else if (below(k->name, name))
                is_section = true;
        }
        if (n->env_failed)
            continue; /* already reported where the variable was named */
        char buf[256];
        const char *want = row                                    ? mismatch(row->type, n)
                           : is_section && n->type != QTS_CFG_MAP ? "a mapping"
                                                                  : NULL;
        if (want) {
            qts_diags_add(d, n->file, n->line, n->col, kpath, "expected %s, got %s", want,
                          qts_cfg_got(n, buf, sizeof buf));
            errors++;
        } else if (is_section && !row) {
            errors += check_map(n, keys, name, kpath, d);
        } else if (!row && map->key_lines[i] == 0) {
            continue; /* a value the host derived (a store's database path under
                       * var_dir, the host id) is offered, not demanded: a
                       * plugin without that key never reads it */
        } else if (!row) {
            struct qts_cfg_suggest s;
            qts_cfg_suggest_init(&s, map->keys[i]);
            char parts[64][64]; /* first part below `prefix` of each row */
            size_t n_parts = 0;
            for (const struct qts_cfg_key *k = keys; k->name && n_parts < 64; k++) {
                const char *rest = below(k->name, prefix);
                if (rest)
                    snprintf(parts[n_parts++], sizeof parts[0], "%.*s", (int)strcspn(rest, "."),
                             rest);
            }
            for (size_t j = 0; j < n_parts; j++)
                qts_cfg_suggest_offer(&s, parts[j]);
            qts_cfg_diag_unknown_key(d, map, i, kpath, qts_cfg_suggest_best(&s));
            errors++;
        }
    }
    return errors;
}

size_t qts_cfg_check_keys(const struct qts_cfg_node *config, const struct qts_cfg_key *keys,
                          const char *path, struct qts_diags *d)
{
    if (!config || !keys || config->type != QTS_CFG_MAP)
        return 0; /* the settings walk already said a config: must be a mapping */
    return check_map(config, keys, "", path, d);
}
