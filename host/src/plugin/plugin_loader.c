/* plugin_loader.c — file checks, per-generation copy, dlopen, validation. */
#include "plugin_loader.h"

#include "config_keys.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "plugin_fs.h"
#include "util.h"

/* ABI 1.0 sizes: the smallest structs a 1.x plugin may hand us. */
#define QTS_DESC_SIZE_1_0 (offsetof(struct qts_plugin_desc, ops) + sizeof(void *))

const char *qts_plugin_kind_name(uint32_t kind)
{
    switch (kind) {
    case QTS_KIND_FEED: return "feed";
    case QTS_KIND_BROKER: return "broker";
    case QTS_KIND_CACHE: return "cache";
    case QTS_KIND_STORE: return "store";
    default: return "?";
    }
}

uint32_t qts_plugin_kind_parse(const char *name)
{
    for (uint32_t k = QTS_KIND_FEED; k <= QTS_KIND_STORE; k++)
        if (name && strcmp(name, qts_plugin_kind_name(k)) == 0)
            return k;
    return 0;
}

bool qts_plugin_no_dlclose(void)
{
    if (strcmp(QTS_SIG_ASAN_, "asan") == 0)
        return true; /* keep leak and error stacks symbolized */
    const char *e = getenv("QTS_NO_DLCLOSE");
    return e && e[0] && strcmp(e, "0") != 0;
}

/* ------------------------------------------------------------- permissions */

/* `shown` is the path as configured, for the message. */
static int check_one_dir(const char *shown, const char *path, struct qts_err *err)
{
    char *tmp = qts_xstrdup(path);
    char *dir = dirname(tmp);
    struct stat st;
    int rc = 0;
    if (stat(dir, &st) != 0) {
        int e = errno;
        rc = qts_err_set(err, QTS_ENOENT, "plugin %s: directory %s: %s", shown, dir, strerror(e));
    } else if (st.st_mode & S_IWOTH) {
        rc = qts_err_set(err, QTS_EPERM,
                         "plugin %s: permissions: directory %s is writable by others "
                         "(mode %04o); refusing to load",
                         shown, dir, (unsigned)(st.st_mode & 07777));
    }
    free(tmp);
    return rc;
}

/* The directory the path names and, behind a symlink, the real one. */
static int check_dir_perms(const char *path, struct qts_err *err)
{
    int rc = check_one_dir(path, path, err);
    if (rc)
        return rc;
    char *real = realpath(path, NULL);
    if (real) {
        if (strcmp(real, path) != 0)
            rc = check_one_dir(path, real, err);
        free(real);
    }
    return rc;
}

static int check_file_stat(const char *path, const struct stat *st, struct qts_err *err)
{
    if (!S_ISREG(st->st_mode))
        return qts_err_set(err, QTS_EINVAL, "plugin %s: not a regular file", path);
    if (st->st_mode & S_IWOTH)
        return qts_err_set(err, QTS_EPERM,
                           "plugin %s: permissions: file is writable by others (mode %04o); "
                           "refusing to load",
                           path, (unsigned)(st->st_mode & 07777));
    return 0;
}

/* Open `path` for reading after the permission checks; returns fd or error. */
static int open_checked(const char *path, struct qts_err *err)
{
    int rc = check_dir_perms(path, err);
    if (rc)
        return rc;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        return qts_err_set(err, e == ENOENT ? QTS_ENOENT : QTS_EIO, "plugin %s: open: %s", path,
                           strerror(e));
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return qts_err_set(err, QTS_EIO, "plugin %s: stat: %s", path, strerror(e));
    }
    rc = check_file_stat(path, &st, err);
    if (rc) {
        close(fd);
        return rc;
    }
    return fd;
}

/* Copy the open file `src_fd` into a new file `name` of the directory
 * `dir_fd` (created O_EXCL | O_NOFOLLOW: never through a link, never into a
 * file someone else prepared). Returns the copy's fd, open for reading, or
 * a negative QTS_E* code. */
static int copy_to(int src_fd, const char *src, int dir_fd, const char *name, const char *dst_shown,
                   struct qts_err *err)
{
    unlinkat(dir_fd, name, 0); /* a stale copy from an earlier run */
    int out = openat(dir_fd, name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0700);
    if (out < 0) {
        int e = errno;
        return qts_err_set(err, QTS_EIO, "plugin %s: copy to %s: %s", src, dst_shown, strerror(e));
    }
    char buf[65536];
    int rc = 0;
    for (;;) {
        ssize_t n = read(src_fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;
            rc = qts_err_set(err, QTS_EIO, "plugin %s: read: %s", src, strerror(e));
            break;
        }
        if (n == 0)
            break;
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(out, buf + off, (size_t)(n - off));
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0) {
                int e = errno;
                rc = qts_err_set(err, QTS_EIO, "plugin %s: write %s: %s", src, dst_shown,
                                 strerror(e));
                break;
            }
            off += w;
        }
        if (rc)
            break;
    }
    if (rc) {
        close(out);
        unlinkat(dir_fd, name, 0);
        return rc;
    }
    return out;
}

/* ---------------------------------------------------------------- validate */

#define HAS_FIELD(ptr, size, type, field) \
    (offsetof(type, field) + sizeof(((type *)0)->field) <= (size) && (ptr)->field != NULL)

static int require(bool ok, const char *path, const char *field, struct qts_err *err)
{
    if (ok)
        return 0;
    return qts_err_set(err, QTS_EABI, "plugin %s: required operation %s is missing", path, field);
}

static size_t kind_ops_size(uint32_t kind)
{
    switch (kind) {
    case QTS_KIND_FEED: return sizeof(struct qts_feed_ops);
    case QTS_KIND_BROKER: return sizeof(struct qts_broker_ops);
    case QTS_KIND_CACHE: return sizeof(struct qts_cache_ops);
    case QTS_KIND_STORE: return sizeof(struct qts_store_ops);
    default: return 0;
    }
}

/* Checks 2-7 on an open handle; fills lib->desc/ops/name/version. */
static int validate(void *dl, const char *path, uint32_t expected_kind, struct qts_plugin_lib *lib,
                    struct qts_err *err)
{
    dlerror();
    void *sym = dlsym(dl, QTS_PLUGIN_ENTRY_SYMBOL);
    if (!sym) {
        const char *e = dlerror();
        return qts_err_set(err, QTS_EABI, "plugin %s: entry symbol %s not found%s%s", path,
                           QTS_PLUGIN_ENTRY_SYMBOL, e ? ": " : "", e ? e : "");
    }
    qts_plugin_entry_fn entry;
    memcpy(&entry, &sym, sizeof entry); /* object -> function pointer */
    const struct qts_plugin_desc *d = entry(QTS_ABI_MAJOR, QTS_ABI_MINOR);
    if (!d)
        return qts_err_set(err, QTS_EABI, "plugin %s: entry symbol %s returned no descriptor", path,
                           QTS_PLUGIN_ENTRY_SYMBOL);
    if (d->struct_size < QTS_DESC_SIZE_1_0 || d->struct_size > (1u << 16))
        return qts_err_set(err, QTS_EABI,
                           "plugin %s: struct_size: descriptor is %u bytes, ABI %d.0 needs "
                           "at least %zu",
                           path, d->struct_size, QTS_ABI_MAJOR, (size_t)QTS_DESC_SIZE_1_0);
    if (d->abi_major != QTS_ABI_MAJOR)
        return qts_err_set(err, QTS_EABI,
                           "plugin %s: abi_major: plugin built for ABI %u.%u, host is %d.%d "
                           "(major must match; rebuild the plugin)",
                           path, d->abi_major, d->abi_minor, QTS_ABI_MAJOR, QTS_ABI_MINOR);
    if (d->abi_minor > QTS_ABI_MINOR)
        return qts_err_set(err, QTS_EABI,
                           "plugin %s: abi_minor: plugin built for ABI %u.%u, newer than the "
                           "host's %d.%d",
                           path, d->abi_major, d->abi_minor, QTS_ABI_MAJOR, QTS_ABI_MINOR);
    if (!d->build_sig || strcmp(d->build_sig, QTS_BUILD_SIG) != 0)
        return qts_err_set(err, QTS_EABI,
                           "plugin %s: build_sig: plugin \"%s\", host \"%s\" (build both "
                           "with the same compiler settings and sanitizers)",
                           path, d->build_sig ? d->build_sig : "(null)", QTS_BUILD_SIG);
    size_t dsz = QTS_MIN((size_t)d->struct_size, sizeof lib->desc);
    memset(&lib->desc, 0, sizeof lib->desc);
    memcpy(&lib->desc, d, dsz);
    const struct qts_plugin_desc *c = &lib->desc;
    if (!c->name || !c->name[0])
        return qts_err_set(err, QTS_EABI, "plugin %s: name: empty", path);
    if (kind_ops_size(c->kind) == 0)
        return qts_err_set(err, QTS_EABI, "plugin %s: kind: unknown kind %u", path, c->kind);
    if (expected_kind && c->kind != expected_kind)
        return qts_err_set(
            err, QTS_EABI, "plugin %s: kind: plugin %s is a %s plugin, the slot wants a %s", path,
            c->name, qts_plugin_kind_name(c->kind), qts_plugin_kind_name(expected_kind));
    int rc;
    if ((rc = require(c->init != NULL, path, "init", err)) ||
        (rc = require(c->start != NULL, path, "start", err)) ||
        (rc = require(c->stop != NULL, path, "stop", err)) ||
        (rc = require(c->destroy != NULL, path, "destroy", err)))
        return rc;
    if ((c->caps & QTS_CAP_STATE_XFER) &&
        ((rc = require(c->export_state != NULL, path, "export_state (QTS_CAP_STATE_XFER)", err)) ||
         (rc = require(c->import_state != NULL, path, "import_state (QTS_CAP_STATE_XFER)", err))))
        return rc;

    memset(&lib->ops, 0, sizeof lib->ops);
    const uint32_t *ops = c->ops;
    if (!ops && c->kind != QTS_KIND_FEED)
        return qts_err_set(err, QTS_EABI, "plugin %s: ops: %s plugin without a kind table", path,
                           qts_plugin_kind_name(c->kind));
    if (ops) {
        if (*ops < sizeof(uint32_t) || *ops > (1u << 16))
            return qts_err_set(err, QTS_EABI, "plugin %s: ops.struct_size: %u is not valid", path,
                               *ops);
        memcpy(&lib->ops, ops, QTS_MIN((size_t)*ops, kind_ops_size(c->kind)));
    }
    uint32_t osz = ops ? *ops : 0;
    switch (c->kind) {
    case QTS_KIND_BROKER: {
        const struct qts_broker_ops *b = &lib->ops.broker;
        if ((rc =
                 require(HAS_FIELD(b, osz, struct qts_broker_ops, env), path, "broker.env", err)) ||
            (rc = require(HAS_FIELD(b, osz, struct qts_broker_ops, submit), path, "broker.submit",
                          err)) ||
            (rc = require(HAS_FIELD(b, osz, struct qts_broker_ops, cancel), path, "broker.cancel",
                          err)))
            return rc;
        break;
    }
    case QTS_KIND_CACHE: {
        const struct qts_cache_ops *k = &lib->ops.cache;
        if ((rc = require(HAS_FIELD(k, osz, struct qts_cache_ops, set), path, "cache.set", err)) ||
            (rc = require(HAS_FIELD(k, osz, struct qts_cache_ops, get), path, "cache.get", err)) ||
            (rc = require(HAS_FIELD(k, osz, struct qts_cache_ops, del), path, "cache.del", err)))
            return rc;
        break;
    }
    case QTS_KIND_STORE: {
        const struct qts_store_ops *s = &lib->ops.store;
        if ((rc = require(HAS_FIELD(s, osz, struct qts_store_ops, migrate), path, "store.migrate",
                          err)) ||
            (rc = require(HAS_FIELD(s, osz, struct qts_store_ops, write_batch), path,
                          "store.write_batch", err)))
            return rc;
        break;
    }
    default: /* feed: every operation optional */ break;
    }
    lib->desc.ops = &lib->ops;
    lib->name = qts_xstrdup(c->name);
    lib->version = qts_xstrdup(c->version ? c->version : "");
    /* the copies are ours now; never read the plugin's strings again */
    lib->desc.name = lib->name;
    lib->desc.version = lib->version;
    lib->desc.build_sig = NULL;
    return 0;
}

static void close_dl(void *dl, uint64_t caps)
{
    if (dl && !qts_plugin_no_dlclose() && !(caps & QTS_CAP_RESIDENT))
        dlclose(dl);
}

/* The record's owned strings and the record itself. */
static void lib_free(struct qts_plugin_lib *lib)
{
    qts_free_all(lib->gen_path, lib->path, lib->name, lib->version, lib);
}

/* The fd dlopen mapped stays open while the code may stay loaded: glibc
 * matches an already-loaded object by the name it was opened under, so
 * "/proc/self/fd/N" must not name a second file while the first is in. */
static void close_fd_if_unloaded(struct qts_plugin_lib *lib, bool unloaded)
{
    if (unloaded && lib->fd >= 0)
        close(lib->fd);
    lib->fd = -1;
}

/* Undo a failed open: nothing of the library stays loaded. */
static void discard(struct qts_plugin_lib *lib)
{
    bool unloaded = !lib->dl || !qts_plugin_no_dlclose();
    if (lib->dl)
        close_dl(lib->dl, 0);
    close_fd_if_unloaded(lib, unloaded);
    if (lib->gen_path)
        unlink(lib->gen_path);
    lib_free(lib);
}

/* dlopen the verified open file lib->fd (the per-generation copy or
 * lib->path itself) through /proc/self/fd/N, so no path can be swapped
 * between the checks and the load, and run checks 2-7; on success *out =
 * lib with one reference, on failure lib is discarded. Messages name
 * lib->path, the file as deployed. */
static int finish_open(struct qts_plugin_lib *lib, uint32_t expected_kind,
                       struct qts_plugin_lib **out, struct qts_err *err)
{
    int rc;
    char by_fd[64];
    snprintf(by_fd, sizeof by_fd, "/proc/self/fd/%d", lib->fd);
    lib->dl = dlopen(by_fd, RTLD_NOW | RTLD_LOCAL);
    if (!lib->dl) {
        const char *e = dlerror();
        rc = qts_err_set(err, QTS_EABI, "plugin %s: dlopen: %s", lib->path, e ? e : "failed");
        goto fail;
    }
    rc = validate(lib->dl, lib->path, expected_kind, lib, err);
    if (rc)
        goto fail;
    lib->refs = 1;
    *out = lib;
    return 0;
fail:
    discard(lib);
    return rc;
}

int qts_plugin_lib_open(const char *path, const char *gen_dir, uint64_t gen, uint32_t expected_kind,
                        struct qts_plugin_lib **out, struct qts_err *err)
{
    *out = NULL;
    int fd = open_checked(path, err);
    if (fd < 0)
        return fd;
    int dir_fd = qts_plugin_gen_dir_open(gen_dir, err);
    if (dir_fd < 0) {
        close(fd);
        return dir_fd;
    }
    struct qts_plugin_lib *lib = qts_xcalloc(1, sizeof *lib);
    lib->fd = -1;
    lib->path = qts_xstrdup(path);
    lib->gen = gen;
    char *tmp = qts_xstrdup(path);
    char name[NAME_MAX + 1];
    snprintf(name, sizeof name, "%.200s.%llu", basename(tmp), (unsigned long long)gen);
    free(tmp);
    size_t n = strlen(gen_dir) + strlen(name) + 2;
    lib->gen_path = qts_xmalloc(n);
    snprintf(lib->gen_path, n, "%s/%s", gen_dir, name);
    int copy = copy_to(fd, path, dir_fd, name, lib->gen_path, err);
    close(fd);
    close(dir_fd);
    if (copy < 0) {
        free(lib->gen_path); /* copy_to removed what it made */
        lib->gen_path = NULL;
        discard(lib);
        return copy;
    }
    lib->fd = copy;
    return finish_open(lib, expected_kind, out, err);
}

int qts_plugin_lib_open_in_place(const char *path, uint32_t expected_kind,
                                 struct qts_plugin_lib **out, struct qts_err *err)
{
    *out = NULL;
    int fd = open_checked(path, err);
    if (fd < 0)
        return fd;
    struct qts_plugin_lib *lib = qts_xcalloc(1, sizeof *lib);
    lib->path = qts_xstrdup(path);
    lib->fd = fd; /* the checked file itself is what gets mapped */
    return finish_open(lib, expected_kind, out, err);
}

void qts_plugin_lib_close(struct qts_plugin_lib *lib)
{
    if (!lib)
        return;
    bool keep = qts_plugin_no_dlclose() || (lib->desc.caps & QTS_CAP_RESIDENT);
    if (!keep) {
        dlclose(lib->dl);
        if (lib->gen_path)
            unlink(lib->gen_path);
    }
    close_fd_if_unloaded(lib, !keep);
    /* kept mappings keep their file too, so stacks into them stay symbolized */
    lib_free(lib);
}

int qts_plugin_check_file(const char *path, uint32_t expected_kind, struct qts_err *err)
{
    struct qts_plugin_lib *lib;
    int rc = qts_plugin_lib_open_in_place(path, expected_kind, &lib, err);
    qts_plugin_lib_close(lib); /* NULL after a failure */
    return rc;
}

const char *qts_plugin_cfg_path(uint32_t kind, const char *slot, char *buf, size_t cap)
{
    if (kind == QTS_KIND_FEED)
        snprintf(buf, cap, "feeds[%s].config", slot);
    else
        snprintf(buf, cap, "%s.config", slot);
    return buf;
}

size_t qts_plugin_lib_check_config(const struct qts_plugin_lib *lib, const struct qts_cfg_node *cfg,
                                   const char *cfg_path, struct qts_diags *d)
{
    return qts_cfg_check_keys(cfg, lib->desc.config_keys, cfg_path, d);
}

int qts_plugin_lib_config_err(const struct qts_plugin_lib *lib, const struct qts_cfg_node *cfg,
                              const char *cfg_path, struct qts_err *err)
{
    struct qts_diags d;
    qts_diags_init(&d);
    int rc = 0;
    if (qts_plugin_lib_check_config(lib, cfg, cfg_path, &d) > 0) {
        char line[768];
        qts_diag_format(&d.v[0], line, sizeof line);
        if (d.n > 1)
            rc = qts_err_set(err, QTS_ECONFIG, "%s (and %zu more)", line, d.n - 1);
        else
            rc = qts_err_set(err, QTS_ECONFIG, "%s", line);
    }
    qts_diags_cleanup(&d);
    return rc;
}
