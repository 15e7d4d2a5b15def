/* config.c — loading a configuration snapshot: files, includes, ${ENV}
 * substitution, then the schema walk (settings.c).
 *
 * Order of work for one file: read, parse (config_tree.c), substitute
 * ${VAR} in every scalar, then resolve its `include:` entries depth-first and
 * merge their top-level keys into it. A key defined in two files is an error
 * (the configuration says each thing once). Every file name a node points at
 * is owned by the snapshot, so diagnostics and nodes stay valid as long as
 * the snapshot lives.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "settings.h"
#include "config_node.h"
#include "util.h"

#define MAX_INCLUDE_DEPTH 16

struct qts_config {
    atomic_int refs;
    char *path; /* as given */
    struct qts_cfg_node *root;
    char **files; /* owned file names; nodes borrow them */
    size_t n_files, cap_files;
    struct qts_settings settings;
};

struct loader {
    struct qts_config *c;
    struct qts_diags *diags;
    char *stack[MAX_INCLUDE_DEPTH + 1]; /* real paths of the files being loaded */
    int depth;
    int errors;
};

static const char *intern_file(struct qts_config *c, const char *name)
{
    if (c->n_files == c->cap_files) {
        c->cap_files = c->cap_files ? c->cap_files * 2 : 4;
        c->files = qts_xrealloc(c->files, c->cap_files * sizeof *c->files);
    }
    c->files[c->n_files] = qts_xstrdup(name);
    return c->files[c->n_files++];
}

static void QTS_PRINTF(4, 5)
    add(struct loader *L, const struct qts_cfg_node *n, const char *path, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    qts_diags_vadd(L->diags, n->file, n->line, n->col, path, fmt, ap);
    va_end(ap);
    L->errors++;
}

/* ----------------------------------------------------------- env substitution */

struct strbuf {
    char *p;
    size_t n, cap;
};

static void sb_add(struct strbuf *b, const char *s, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        b->cap = (b->n + n + 1) * 2;
        b->p = qts_xrealloc(b->p, b->cap);
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}

/* Expand ${VAR} and ${VAR:-default} (default also when VAR is empty, as in
 * the shell); `$${` is a literal `${`. Returns 0, or QTS_ECONFIG with one
 * diagnostic. Never puts a variable's value into a message. */
static int subst_scalar(struct loader *L, struct qts_cfg_node *n, const char *path)
{
    const char *s = n->scalar;
    if (!strstr(s, "${"))
        return 0;
    struct strbuf b = {0};
    sb_add(&b, "", 0);
    bool from_env = false;
    while (*s) {
        if (s[0] == '$' && s[1] == '$' && s[2] == '{') {
            sb_add(&b, "${", 2);
            s += 3;
            continue;
        }
        if (!(s[0] == '$' && s[1] == '{')) {
            sb_add(&b, s, 1);
            s++;
            continue;
        }
        const char *name = s + 2;
        size_t len = 0;
        while ((name[len] >= 'A' && name[len] <= 'Z') || (name[len] >= 'a' && name[len] <= 'z') ||
               name[len] == '_' || (len > 0 && name[len] >= '0' && name[len] <= '9'))
            len++;
        const char *def = NULL;
        size_t def_len = 0;
        const char *after = name + len;
        if (after[0] == ':' && after[1] == '-') {
            def = after + 2;
            const char *close = strchr(def, '}');
            if (!close)
                after = def + strlen(def);
            else {
                def_len = (size_t)(close - def);
                after = close;
            }
        }
        bool nested = def && memmem(def, def_len, "${", 2) != NULL;
        if (len == 0 || *after != '}' || nested) {
            add(L, n, path, "malformed ${...}: expected ${NAME} or ${NAME:-default}");
            goto fail;
        }
        char var[128];
        snprintf(var, sizeof var, "%.*s", (int)len, name);
        const char *val = getenv(var);
        if (val && *val) {
            sb_add(&b, val, strlen(val));
            from_env = true;
        } else if (def) {
            sb_add(&b, def, def_len);
        } else {
            add(L, n, path, "environment variable '%s' is not set", var);
            goto fail;
        }
        s = after + 1;
    }
    free(n->scalar);
    n->scalar = b.p;
    n->from_env = from_env;
    return 0;
fail:
    free(b.p);
    n->env_failed = true;
    return QTS_ECONFIG;
}

static void subst_tree(struct loader *L, struct qts_cfg_node *n, const char *path)
{
    if (n->type == QTS_CFG_SCALAR) {
        subst_scalar(L, n, path);
        return;
    }
    for (size_t i = 0; i < n->n; i++) {
        char sub[128];
        if (n->type == QTS_CFG_MAP)
            snprintf(sub, sizeof sub, "%s%s%s", path, path[0] ? "." : "", n->keys[i]);
        else
            snprintf(sub, sizeof sub, "%s[%zu]", path, i);
        subst_tree(L, n->items[i], sub);
    }
}

/* -------------------------------------------------------------------- files */

static int read_file(const char *path, char **text, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -errno;
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        return -EISDIR;
    }
    struct strbuf b = {0};
    char buf[8192];
    size_t k;
    sb_add(&b, "", 0);
    while ((k = fread(buf, 1, sizeof buf, f)) > 0)
        sb_add(&b, buf, k);
    int rc = ferror(f) ? -EIO : 0;
    fclose(f);
    if (rc) {
        free(b.p);
        return rc;
    }
    *text = b.p;
    *len = b.n;
    return 0;
}

static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return qts_xstrdup(".");
    if (slash == path)
        return qts_xstrdup("/");
    size_t n = (size_t)(slash - path);
    char *d = qts_xmalloc(n + 1);
    memcpy(d, path, n);
    d[n] = '\0';
    return d;
}

static char *join(const char *dir, const char *p)
{
    if (p[0] == '/' || strcmp(dir, ".") == 0)
        return qts_xstrdup(p);
    size_t n = strlen(dir) + strlen(p) + 2;
    char *out = qts_xmalloc(n);
    snprintf(out, n, "%s/%s", dir, p);
    return out;
}

static void remove_key(struct qts_cfg_node *map, size_t i)
{
    free(map->keys[i]);
    qts__cfg_node_free(map->items[i]);
    size_t rest = map->n - i - 1;
    memmove(&map->keys[i], &map->keys[i + 1], rest * sizeof *map->keys);
    memmove(&map->items[i], &map->items[i + 1], rest * sizeof *map->items);
    memmove(&map->key_lines[i], &map->key_lines[i + 1], rest * sizeof(int));
    memmove(&map->key_cols[i], &map->key_cols[i + 1], rest * sizeof(int));
    map->n--;
}

static void append_key(struct qts_cfg_node *map, char *key, int line, int col,
                       struct qts_cfg_node *child)
{
    if (map->n == map->cap) {
        map->cap = map->cap ? map->cap * 2 : 4;
        map->items = qts_xrealloc(map->items, map->cap * sizeof *map->items);
        map->keys = qts_xrealloc(map->keys, map->cap * sizeof *map->keys);
        map->key_lines = qts_xrealloc(map->key_lines, map->cap * sizeof(int));
        map->key_cols = qts_xrealloc(map->key_cols, map->cap * sizeof(int));
    }
    map->keys[map->n] = key;
    map->key_lines[map->n] = line;
    map->key_cols[map->n] = col;
    map->items[map->n++] = child;
}

/* Move the top-level keys of `from` (freed) into `into`. */
static void merge_into(struct loader *L, struct qts_cfg_node *into, struct qts_cfg_node *from)
{
    for (size_t i = 0; i < from->n; i++) {
        size_t j = 0;
        while (j < into->n && strcmp(into->keys[j], from->keys[i]) != 0)
            j++;
        if (j < into->n) {
            struct qts_cfg_node at = {
                .file = from->file, .line = from->key_lines[i], .col = from->key_cols[i]};
            add(L, &at, from->keys[i], "key '%s' is already defined at %s:%d:%d", from->keys[i],
                into->items[j]->file, into->key_lines[j], into->key_cols[j]);
            free(from->keys[i]);
            qts__cfg_node_free(from->items[i]);
            continue;
        }
        append_key(into, from->keys[i], from->key_lines[i], from->key_cols[i], from->items[i]);
    }
    from->n = 0;
    qts__cfg_node_free(from);
}

static struct qts_cfg_node *load_file(struct loader *L, const char *name,
                                      const struct qts_cfg_node *entry, const char *entry_path,
                                      const char *text_in);

static void do_includes(struct loader *L, struct qts_cfg_node *root, const char *name)
{
    size_t idx = 0;
    while (idx < root->n && strcmp(root->keys[idx], "include") != 0)
        idx++;
    if (idx == root->n)
        return;
    struct qts_cfg_node *inc = root->items[idx];
    /* detach the include entry; keep its nodes alive while loading */
    root->items[idx] = NULL;
    remove_key(root, idx);

    size_t n = inc->type == QTS_CFG_SEQ ? inc->n : 1;
    char *dir = dir_of(name);
    for (size_t i = 0; i < n; i++) {
        const struct qts_cfg_node *e = inc->type == QTS_CFG_SEQ ? inc->items[i] : inc;
        char epath[32];
        if (inc->type == QTS_CFG_SEQ)
            snprintf(epath, sizeof epath, "include[%zu]", i);
        else
            snprintf(epath, sizeof epath, "include");
        if (e->env_failed)
            continue;
        if (e->type != QTS_CFG_SCALAR || !e->scalar[0]) {
            add(L, e, epath, "expected a file name or a list of file names");
            continue;
        }
        char *child_name = join(dir, e->scalar);
        struct qts_cfg_node *child = load_file(L, child_name, e, epath, NULL);
        free(child_name);
        if (child)
            merge_into(L, root, child);
    }
    free(dir);
    qts__cfg_node_free(inc);
}

/* Load one file (or `text_in` for the top-level string case). `entry` is the
 * include entry naming it (NULL at the top). Returns the tree or NULL. */
static struct qts_cfg_node *load_file(struct loader *L, const char *name,
                                      const struct qts_cfg_node *entry, const char *entry_path,
                                      const char *text_in)
{
    const char *shown = entry && entry->from_env ? "(from the environment)" : name;
    char real[PATH_MAX];
    if (!text_in && !realpath(name, real)) {
        int e = errno;
        if (entry)
            add(L, entry, entry_path, "cannot open included file '%s': %s", shown, strerror(e));
        else {
            struct qts_cfg_node at = {.file = intern_file(L->c, name)};
            add(L, &at, "", "cannot open configuration file: %s", strerror(e));
        }
        return NULL;
    }
    if (text_in)
        snprintf(real, sizeof real, "<string>%s", name);
    for (int i = 0; i < L->depth; i++) {
        if (strcmp(L->stack[i], real) == 0) {
            add(L, entry, entry_path, "include cycle: '%s' is already being loaded", shown);
            return NULL;
        }
    }
    if (L->depth == MAX_INCLUDE_DEPTH) {
        add(L, entry, entry_path, "includes nested deeper than %d files", MAX_INCLUDE_DEPTH);
        return NULL;
    }
    char *text = NULL;
    size_t len = 0;
    if (text_in) {
        text = qts_xstrdup(text_in);
        len = strlen(text);
    } else {
        int rc = read_file(name, &text, &len);
        if (rc != 0) {
            if (entry)
                add(L, entry, entry_path, "cannot read included file '%s': %s", shown,
                    strerror(-rc));
            else {
                struct qts_cfg_node at = {.file = intern_file(L->c, name)};
                add(L, &at, "", "cannot read configuration file: %s", strerror(-rc));
            }
            return NULL;
        }
    }
    const char *fname = intern_file(L->c, name);
    struct qts_cfg_node *root = NULL;
    int rc = qts__cfg_parse(fname, text, len, &root, L->diags);
    free(text);
    if (rc != 0) {
        L->errors++;
        return NULL;
    }
    if (root->type != QTS_CFG_MAP) {
        add(L, root, "", "expected a mapping of keys at the top level of the file");
        qts__cfg_node_free(root);
        return NULL;
    }
    subst_tree(L, root, "");
    L->stack[L->depth++] = real;
    do_includes(L, root, name);
    L->depth--;
    return root;
}

/* ---------------------------------------------------------------- snapshot */

static void config_free(struct qts_config *c)
{
    if (!c)
        return;
    qts__settings_cleanup(&c->settings);
    qts__cfg_node_free(c->root);
    for (size_t i = 0; i < c->n_files; i++)
        free(c->files[i]);
    free(c->files);
    free(c->path);
    free(c);
}

/* The directory relative paths start from: the real directory of the
 * top-level file when it exists, else the directory as written. */
static char *config_dir_of(const char *path)
{
    char *d = dir_of(path);
    char real[PATH_MAX];
    if (realpath(d, real)) {
        free(d);
        return qts_xstrdup(real);
    }
    return d;
}

/* Where a value set from the command line says it came from. */
static const struct qts_cfg_node set_origin = {
    .type = QTS_CFG_SCALAR, .file = "command line", .line = 1, .col = 1};

/* One qts_config_set into the tree (see config.h). */
static int apply_set(struct qts_cfg_node *root, const struct qts_config_set *set,
                     struct qts_diags *d)
{
    struct qts_cfg_node *n = root;
    const char *p = set->path;
    for (;;) {
        size_t k = strcspn(p, ".");
        if (k == 0) {
            qts_diags_add(d, "command line", 1, 1, set->path, "an empty step in the path");
            return -1;
        }
        if (n->type == QTS_CFG_SEQ) { /* the item of that name */
            struct qts_cfg_node *hit = NULL;
            for (size_t i = 0; i < n->n && !hit; i++) {
                const char *nm = qts_cfg_str(qts_cfg_get(n->items[i], "name"));
                if (nm && strlen(nm) == k && memcmp(nm, p, k) == 0)
                    hit = n->items[i];
            }
            if (!hit || !p[k]) {
                qts_diags_add(d, "command line", 1, 1, set->path, "no item named '%.*s' here",
                              (int)k, p);
                return -1;
            }
            n = hit;
            p += k + 1;
            continue;
        }
        if (n->type != QTS_CFG_MAP) {
            qts_diags_add(d, "command line", 1, 1, set->path, "'%.*s' is not under a map", (int)k,
                          p);
            return -1;
        }
        struct qts_cfg_node *child = NULL;
        for (size_t i = 0; i < n->n && !child; i++)
            if (strlen(n->keys[i]) == k && memcmp(n->keys[i], p, k) == 0)
                child = n->items[i];
        if (!p[k] || !child || child->type == QTS_CFG_MAP) {
            if (child && child->type == QTS_CFG_MAP && p[k]) {
                n = child;
                p += k + 1;
                continue;
            }
            /* the rest is maps and a leaf: made as needed, the leaf replaced */
            qts__cfg_map_put(n, p, set->value, &set_origin);
            return 0;
        }
        n = child;
        p += k + 1;
    }
}

static int load_common(const char *name, const char *text, struct qts_config **out,
                       struct qts_diags *diags, const struct qts_config_set *sets, size_t n_sets)
{
    *out = NULL;
    struct qts_diags local;
    if (!diags) { /* the caller only wants the verdict */
        qts_diags_init(&local);
        int rc = load_common(name, text, out, &local, sets, n_sets);
        qts_diags_cleanup(&local);
        return rc;
    }
    struct qts_config *c = qts_xcalloc(1, sizeof *c);
    atomic_init(&c->refs, 1);
    c->path = qts_xstrdup(name);
    struct loader L = {.c = c, .diags = diags};
    c->root = load_file(&L, name, NULL, "", text);
    for (size_t i = 0; c->root && i < n_sets; i++)
        if (apply_set(c->root, &sets[i], diags) != 0)
            L.errors++;
    if (c->root) {
        char *dir = text ? qts_xstrdup(".") : config_dir_of(name);
        if (qts__settings_build(c->root, dir, &c->settings, diags) != 0)
            L.errors++;
        free(dir);
    }
    if (L.errors || !c->root) {
        config_free(c);
        return QTS_ECONFIG;
    }
    *out = c;
    return 0;
}

int qts_config_load(const char *path, struct qts_config **out, struct qts_diags *diags)
{
    return load_common(path, NULL, out, diags, NULL, 0);
}

int qts_config_load_with(const char *path, const struct qts_config_set *sets, size_t n_sets,
                         struct qts_config **out, struct qts_diags *diags)
{
    return load_common(path, NULL, out, diags, sets, n_sets);
}

int qts_config_load_string(const char *name, const char *yaml, struct qts_config **out,
                           struct qts_diags *diags)
{
    return load_common(name, yaml, out, diags, NULL, 0);
}

struct qts_config *qts_config_ref(struct qts_config *c)
{
    if (c)
        atomic_fetch_add_explicit(&c->refs, 1, memory_order_relaxed);
    return c;
}

void qts_config_unref(struct qts_config *c)
{
    if (c && atomic_fetch_sub_explicit(&c->refs, 1, memory_order_acq_rel) == 1)
        config_free(c);
}

const struct qts_settings *qts_config_settings(const struct qts_config *c) { return &c->settings; }

const struct qts_cfg_node *qts_config_root(const struct qts_config *c) { return c->root; }

const char *qts_config_path(const struct qts_config *c) { return c->path; }
