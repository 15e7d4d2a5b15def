/* store_plugin.c — see store_plugin.h. */
#include "store_plugin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "build_info.h"
#include "config_node.h"
#include "plugin_instance.h"
#include "util.h"

#define STORE_SLOT "store"

/* What a store opened on its own runs on: a loop, the services' shared
 * environment and a manager of its own. */
struct own_host {
    uv_loop_t loop;
    struct qts_plugin_env env;
    struct qts_plugin_manager *m; /* owned */
};

struct qts_store_plugin {
    struct qts_cfg_node *cfg;   /* owned: the slot's configuration */
    struct qts_store_port port; /* borrowed from the slot's instance */
    struct own_host *own;       /* owned; NULL when added to another manager */
};

static struct qts_cfg_node *build_cfg(const struct qts_cfg_node *base, const char *const *kv)
{
    struct qts_cfg_node *cfg = qts__cfg_map_new();
    qts__cfg_map_put_all(cfg, base);
    for (size_t i = 0; kv && kv[i] && kv[i + 1]; i += 2)
        qts__cfg_map_put(cfg, kv[i], kv[i + 1], NULL);
    return cfg;
}

int qts_store_plugin_add(struct qts_plugin_manager *m, const char *path,
                         const struct qts_cfg_node *cfg, const char *const *kv,
                         struct qts_store_plugin **out, struct qts_err *err)
{
    struct qts_store_plugin *p = qts_xcalloc(1, sizeof *p);
    p->cfg = build_cfg(cfg, kv);
    /* from here on the manager may hold p->cfg (a failed instance is only
     * retired): the caller closes p after the manager, success or not */
    *out = p;
    int rc = qts_plugin_manager_add(m, STORE_SLOT, QTS_KIND_STORE, path, p->cfg, err);
    if (rc == 0)
        rc = qts_plugin_manager_start_slot(m, STORE_SLOT, err);
    struct qts_plugin_inst *inst = rc == 0 ? qts_plugin_manager_current(m, STORE_SLOT) : NULL;
    if (!inst)
        return rc ? rc : qts_err_set(err, QTS_ESTATE, "store slot is down");
    p->port.ops = qts_plugin_inst_desc(inst)->ops;
    p->port.self = qts_plugin_inst_self(inst);
    return 0;
}

static void close_own(struct own_host *own)
{
    if (own->m) {
        qts_plugin_manager_close(own->m);
        while (!qts_plugin_manager_closed(own->m))
            uv_run(&own->loop, UV_RUN_ONCE);
        qts_plugin_manager_free(own->m);
    }
    uv_run(&own->loop, UV_RUN_DEFAULT);
    uv_loop_close(&own->loop);
    free(own);
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
    struct own_host *own = qts_xcalloc(1, sizeof *own);
    uv_loop_init(&own->loop);
    /* the wall clock, libuv timers, no HTTP, metrics discarded, secrets
     * from the environment: a command run once has nothing more */
    own->env = (struct qts_plugin_env){.loop = &own->loop};
    struct qts_plugin_manager_opts mo = {.env = &own->env};
    int rc = qts_plugin_manager_new(&mo, &own->m, err);
    if (rc) {
        close_own(own);
        return rc;
    }
    struct qts_store_plugin *p = NULL;
    rc = qts_store_plugin_add(own->m, path, NULL, kv, &p, err);
    p->own = own;
    if (rc) {
        qts_store_plugin_close(p);
        return rc;
    }
    *out = p;
    return 0;
}

int qts_store_plugin_open_spec(const char *spec, const char *const *extra_kv,
                               struct qts_store_plugin **out, struct qts_err *err)
{
    const char *kv[2 * QTS_STORE_PLUGIN_MAX_KV + 1];
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
                           "store '%s': expected sqlite:PATH, postgres:CONNINFO or postgres", spec);
    }
    for (size_t i = 0;
         extra_kv && extra_kv[i] && extra_kv[i + 1] && n + 2 < 2 * QTS_STORE_PLUGIN_MAX_KV;
         i += 2) {
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
    if (p->own)
        close_own(p->own); /* stops the slot: before its configuration goes */
    qts__cfg_node_free(p->cfg);
    free(p);
}
