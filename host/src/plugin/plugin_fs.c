/* plugin_fs.c — see plugin_fs.h. */
#include "plugin_fs.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

int qts_plugin_dir_trusted(int dirfd, const char *shown, int allow_sticky, struct qts_err *err)
{
    struct stat st;
    if (fstat(dirfd, &st) != 0) {
        int e = errno;
        return qts_err_set(err, QTS_EIO, "plugin directory %s: stat: %s", shown, strerror(e));
    }
    if (!S_ISDIR(st.st_mode))
        return qts_err_set(err, QTS_EPERM, "plugin directory %s: not a directory", shown);
    uid_t me = geteuid();
    if (st.st_uid != me && st.st_uid != 0)
        return qts_err_set(err, QTS_EPERM,
                           "plugin directory %s is owned by uid %u, not by the running user "
                           "(uid %u) or root; refusing to load plugins through it",
                           shown, (unsigned)st.st_uid, (unsigned)me);
    bool sticky_ok = allow_sticky && (st.st_mode & S_ISVTX);
    if ((st.st_mode & (S_IWGRP | S_IWOTH)) && !sticky_ok)
        return qts_err_set(err, QTS_EPERM,
                           "plugin directory %s is writable by group or others (mode %04o); "
                           "refusing to load plugins through it (chmod go-w %s)",
                           shown, (unsigned)(st.st_mode & 07777), shown);
    return 0;
}

/* openat one directory component without following a symlink; a clear
 * message when it is one. */
static int open_component(int at, const char *name, const char *shown, struct qts_err *err)
{
    int fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd >= 0)
        return fd;
    int e = errno;
    struct stat st;
    if (fstatat(at, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
        return qts_err_set(err, QTS_EPERM,
                           "plugin directory %s is a symbolic link; refusing to follow it "
                           "(a plugin copy must not be redirectable)",
                           shown);
    return qts_err_set(err, e == ENOENT ? QTS_ENOENT : QTS_EPERM, "plugin directory %s: %s", shown,
                       strerror(e));
}

int qts_plugin_gen_dir_open(const char *gen_dir, struct qts_err *err)
{
    char *tmp_parent = qts_xstrdup(gen_dir), *tmp_leaf = qts_xstrdup(gen_dir);
    const char *parent = dirname(tmp_parent), *leaf = basename(tmp_leaf);
    char real[PATH_MAX];
    int rc = 0, fd = -1;
    if (!realpath(parent, real)) {
        int e = errno;
        rc = qts_err_set(err, e == ENOENT ? QTS_ENOENT : QTS_EIO, "plugin directory %s: %s", parent,
                         strerror(e));
        goto out;
    }
    fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        rc = qts_err_set(err, QTS_EIO, "plugin directory /: %s", strerror(errno));
        goto out;
    }
    /* real is absolute and canonical: walk it from / one name at a time */
    char shown[PATH_MAX] = "/";
    int last_is_var = real[1] == '\0';
    if ((rc = qts_plugin_dir_trusted(fd, "/", !last_is_var, err)) != 0)
        goto out;
    for (char *p = real + 1; *p;) {
        char *slash = strchr(p, '/');
        if (slash)
            *slash = '\0';
        size_t used = strlen(shown);
        snprintf(shown + used, sizeof shown - used, "%s%s", used > 1 ? "/" : "", p);
        int next = open_component(fd, p, shown, err);
        close(fd);
        fd = next;
        if (fd < 0) {
            rc = fd;
            goto out;
        }
        int is_var_dir = !slash; /* the last name of var_dir's real path */
        if ((rc = qts_plugin_dir_trusted(fd, shown, !is_var_dir, err)) != 0)
            goto out;
        if (!slash)
            break;
        p = slash + 1;
    }
    if (mkdirat(fd, leaf, 0700) != 0 && errno != EEXIST) {
        int e = errno;
        rc = qts_err_set(err, QTS_EIO, "plugin generation directory %s: %s", gen_dir, strerror(e));
        goto out;
    }
    int gen = open_component(fd, leaf, gen_dir, err);
    if (gen < 0) {
        rc = gen;
        goto out;
    }
    if ((rc = qts_plugin_dir_trusted(gen, gen_dir, 0, err)) != 0) {
        close(gen);
        goto out;
    }
    rc = gen;
out:
    if (fd >= 0)
        close(fd);
    qts_free_all(tmp_parent, tmp_leaf);
    return rc;
}
