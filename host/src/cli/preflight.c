/* preflight.c — see preflight.h. */
#include "preflight.h"

#include <errno.h>
#include <lauxlib.h>
#include <lua.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "md_source.h"

/* Defined by plugin_loader.c when the loader is part of the build (weak
 * reference: NULL otherwise). Same declaration as in plugin_loader.h. */
int qts_plugin_check_file(const char *path, uint32_t expected_kind, struct qts_err *err)
    __attribute__((weak));

bool qts_preflight_has_abi_check(void) { return qts_plugin_check_file != NULL; }

static enum qts_preflight_status check_regular(const char *path, struct qts_err *err,
                                               struct stat *st)
{
    if (stat(path, st) != 0) {
        int e = errno;
        qts_err_set(err, e == ENOENT ? QTS_ENOENT : QTS_EIO, "%s", strerror(e));
        return e == ENOENT ? QTS_PREFLIGHT_MISSING : QTS_PREFLIGHT_BAD;
    }
    if (!S_ISREG(st->st_mode)) {
        qts_err_set(err, QTS_EINVAL, "not a regular file");
        return QTS_PREFLIGHT_BAD;
    }
    if (access(path, R_OK) != 0) {
        qts_err_set(err, QTS_EPERM, "not readable: %s", strerror(errno));
        return QTS_PREFLIGHT_BAD;
    }
    return QTS_PREFLIGHT_OK;
}

enum qts_preflight_status qts_preflight_plugin_file(const char *path, enum qts_plugin_kind kind,
                                                    struct qts_err *err)
{
    struct stat st;
    enum qts_preflight_status s = check_regular(path, err, &st);
    if (s != QTS_PREFLIGHT_OK)
        return s;
    if (st.st_mode & (S_IWGRP | S_IWOTH)) {
        qts_err_set(err, QTS_EPERM,
                    "writable by %s (mode %03o): refusing to load code others can change",
                    (st.st_mode & S_IWOTH) ? "others" : "group", (unsigned)(st.st_mode & 0777));
        return QTS_PREFLIGHT_BAD;
    }
    if (qts_plugin_check_file) {
        int rc = qts_plugin_check_file(path, (uint32_t)kind, err);
        if (rc != 0)
            return QTS_PREFLIGHT_BAD;
    }
    qts_err_clear(err);
    return QTS_PREFLIGHT_OK;
}

enum qts_preflight_status qts_preflight_data_file(const char *path, const char *format,
                                                  struct qts_err *err)
{
    struct stat st;
    enum qts_preflight_status s = check_regular(path, err, &st);
    if (s != QTS_PREFLIGHT_OK)
        return s;
    struct qts_md_source_opts o = {.format = format ? qts_md_format_parse(format) : 0};
    if (o.format < 0)
        return QTS_PREFLIGHT_OK; /* the plugin's own check says why */
    struct qts_md_symtab syms;
    qts_md_symtab_init(&syms);
    struct qts_md_source src;
    int rc = qts_md_source_open(&src, path, &o, &syms, err);
    if (rc == 0)
        qts_md_source_close(&src);
    qts_md_symtab_cleanup(&syms);
    if (rc != 0)
        return QTS_PREFLIGHT_BAD;
    qts_err_clear(err);
    return QTS_PREFLIGHT_OK;
}

enum qts_preflight_status qts_preflight_strategy_file(const char *path, struct qts_err *err)
{
    struct stat st;
    enum qts_preflight_status s = check_regular(path, err, &st);
    if (s != QTS_PREFLIGHT_OK)
        return s;
    lua_State *L = luaL_newstate();
    if (!L) {
        qts_err_set(err, QTS_ENOMEM, "cannot create a Lua state");
        return QTS_PREFLIGHT_BAD;
    }
    int rc = luaL_loadfile(L, path);
    if (rc != 0) {
        /* LuaJIT: "path:line: message" for syntax errors */
        const char *msg = lua_tostring(L, -1);
        qts_err_set(err, QTS_ELUA, "%s", msg ? msg : "cannot load");
        lua_close(L);
        return QTS_PREFLIGHT_BAD;
    }
    lua_close(L);
    qts_err_clear(err);
    return QTS_PREFLIGHT_OK;
}
