/* store_port.c — see store_port.h. */
#include "store_port.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "build_info.h"
#include "clock.h"
#include "log.h"
#include "plugin_loader.h"
#include "util.h"

struct qts_store_plugin {
    struct qts_plugin_lib *lib;         /* owned */
    const struct qts_plugin_desc *desc; /* borrowed from lib */
    void *self;
    int started;
    struct qts_store_port port;
    struct qts_host_api api;
    char *name; /* owned */
    char *kv[2 * QTS_STORE_PORT_MAX_KV + 1]; /* owned copies */
};

static const char *kv_find(const struct qts_store_plugin *p, const char *key)
{
    for (size_t i = 0; p->kv[i]; i += 2)
        if (strcmp(p->kv[i], key) == 0)
            return p->kv[i + 1];
    return NULL;
}

static void *h_alloc(void *owner, size_t n) { (void)owner; return malloc(n); }
static void h_free(void *owner, void *ptr) { (void)owner; free(ptr); }

static void h_log(void *owner, int level, const char *fmt, ...)
{
    (void)owner;
    va_list ap;
    va_start(ap, fmt);
    qts_logv(level, fmt, ap);
    va_end(ap);
}

static int64_t h_now(void *owner) { (void)owner; return qts_wall_ns(); }

static int h_cfg_str(void *owner, const char *path, const char **out, struct qts_err *err)
{
    const char *v = kv_find(owner, path);
    if (!v)
        return QTS_ENOENT;
    (void)err;
    *out = v;
    return 0;
}

static int h_cfg_int(void *owner, const char *path, int64_t *out, struct qts_err *err)
{
    const char *v = kv_find(owner, path);
    if (!v)
        return QTS_ENOENT;
    char *end;
    long long x = strtoll(v, &end, 10);
    if (*v == '\0' || *end)
        return qts_err_set(err, QTS_ECONFIG, "%s: expected an integer, got '%s'", path, v);
    *out = x;
    return 0;
}

static int h_cfg_double(void *owner, const char *path, double *out, struct qts_err *err)
{
    const char *v = kv_find(owner, path);
    if (!v)
        return QTS_ENOENT;
    char *end;
    double x = strtod(v, &end);
    if (*v == '\0' || *end)
        return qts_err_set(err, QTS_ECONFIG, "%s: expected a number, got '%s'", path, v);
    *out = x;
    return 0;
}

static int h_cfg_bool(void *owner, const char *path, bool *out, struct qts_err *err)
{
    const char *v = kv_find(owner, path);
    if (!v)
        return QTS_ENOENT;
    if (strcmp(v, "true") == 0 || strcmp(v, "1") == 0)
        *out = true;
    else if (strcmp(v, "false") == 0 || strcmp(v, "0") == 0)
        *out = false;
    else
        return qts_err_set(err, QTS_ECONFIG, "%s: expected true or false, got '%s'", path, v);
    return 0;
}

static int h_secret(void *owner, const char *name, char *buf, size_t cap, struct qts_err *err)
{
    (void)owner;
    const char *v = getenv(name);
    if (!v)
        return qts_err_set(err, QTS_ENOENT, "secret %s not set", name);
    if (strlen(v) >= cap)
        return qts_err_set(err, QTS_ERANGE, "secret %s too long", name);
    qts_strlcpy(buf, v, cap);
    return 0;
}

int qts_store_plugin_open(const char *plugin_dir, const char *name, const char *const *kv,
                          struct qts_store_plugin **out, struct qts_err *err)
{
    if (!plugin_dir) {
        plugin_dir = getenv("QTS_PLUGIN_DIR");
        if (!plugin_dir || !*plugin_dir)
            plugin_dir = QTS_PLUGIN_DIR_BUILD;
    }
    char path[1024];
    snprintf(path, sizeof path, "%s/%s.so", plugin_dir, name);
    /* the loader's checks: permissions, entry symbol, sizes, ABI, build
     * signature, kind, required operations */
    struct qts_plugin_lib *lib;
    int rc = qts_plugin_lib_open_in_place(path, QTS_KIND_STORE, &lib, err);
    if (rc)
        return rc;
    struct qts_store_plugin *p = qts_xcalloc(1, sizeof *p);
    p->lib = lib;
    p->desc = &lib->desc;
    const struct qts_plugin_desc *d = p->desc;
    p->name = qts_xstrdup(name);
    size_t n = 0;
    for (; kv && kv[n] && kv[n + 1] && n < 2 * QTS_STORE_PORT_MAX_KV; n += 2) {
        p->kv[n] = qts_xstrdup(kv[n]);
        p->kv[n + 1] = qts_xstrdup(kv[n + 1]);
    }
    p->api = (struct qts_host_api){
        .struct_size = sizeof(struct qts_host_api),
        .abi_major = QTS_ABI_MAJOR,
        .abi_minor = QTS_ABI_MINOR,
        .alloc = h_alloc,
        .free = h_free,
        .log = h_log,
        .now_ns = h_now,
        .cfg_str = h_cfg_str,
        .cfg_int = h_cfg_int,
        .cfg_double = h_cfg_double,
        .cfg_bool = h_cfg_bool,
        .secret_get = h_secret,
    };
    rc = d->init(&p->api, p, &p->self, err);
    if (rc == 0) { /* the loader checked that init, start, stop, destroy exist */
        rc = d->start(p->self, err);
        p->started = rc == 0;
    }
    if (rc) {
        qts_store_plugin_close(p);
        return rc;
    }
    p->port.ops = d->ops;
    p->port.self = p->self;
    *out = p;
    return 0;
}

int qts_store_plugin_open_spec(const char *spec, const char *const *extra_kv,
                               struct qts_store_plugin **out, struct qts_err *err)
{
    const char *kv[2 * QTS_STORE_PORT_MAX_KV + 1];
    size_t n = 0;
    const char *name;
    if (strncmp(spec, "sqlite:", 7) == 0 && spec[7]) {
        name = "store_sqlite";
        kv[n++] = "path";
        kv[n++] = spec + 7;
    } else if (strncmp(spec, "postgres:", 9) == 0 && spec[9]) {
        name = "store_postgres";
        kv[n++] = "conninfo";
        kv[n++] = spec + 9;
    } else if (strcmp(spec, "postgres") == 0) {
        name = "store_postgres";
    } else {
        return qts_err_set(err, QTS_ECONFIG,
                           "store '%s': expected sqlite:PATH, postgres:CONNINFO or postgres",
                           spec);
    }
    for (size_t i = 0; extra_kv && extra_kv[i] && extra_kv[i + 1] &&
                       n + 2 < 2 * QTS_STORE_PORT_MAX_KV; i += 2) {
        kv[n++] = extra_kv[i];
        kv[n++] = extra_kv[i + 1];
    }
    kv[n] = NULL;
    return qts_store_plugin_open(NULL, name, kv, out, err);
}

const struct qts_store_port *qts_store_plugin_port(const struct qts_store_plugin *p)
{
    return &p->port;
}

void qts_store_plugin_close(struct qts_store_plugin *p)
{
    if (!p)
        return;
    if (p->self) {
        if (p->started)
            p->desc->stop(p->self);
        p->desc->destroy(p->self);
    }
    qts_plugin_lib_close(p->lib);
    for (size_t i = 0; p->kv[i]; i++)
        free(p->kv[i]);
    free(p->name);
    free(p);
}
