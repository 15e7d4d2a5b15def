/* secrets.c — see secrets.h. */
#include "secrets.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static bool secret_name_ok(const char *name)
{
    if (!name || !name[0] || name[0] == '.')
        return false;
    for (const char *p = name; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-' && *p != '.')
            return false;
    return true;
}

int qts_secret_get(const char *secrets_dir, const char *name, char *buf, size_t cap,
                   struct qts_err *err)
{
    if (!secret_name_ok(name))
        return qts_err_set(err, QTS_EINVAL, "secret name \"%s\" is not valid",
                           name ? name : "(null)");
    if (!buf || cap == 0)
        return qts_err_set(err, QTS_EINVAL, "secret %s: no buffer", name);
    char var[160] = "QTS_SECRET_";
    size_t k = strlen(var);
    for (const char *p = name; *p && k + 1 < sizeof var; p++)
        var[k++] = isalnum((unsigned char)*p) ? (char)toupper((unsigned char)*p) : '_';
    var[k] = '\0';
    const char *v = getenv(var);
    if (v) {
        size_t n = strlen(v);
        if (n + 1 > cap)
            return qts_err_set(err, QTS_ERANGE, "secret %s: longer than the buffer", name);
        memcpy(buf, v, n + 1);
        return 0;
    }
    if (!secrets_dir)
        return qts_err_set(err, QTS_ENOENT, "secret %s: not set (%s)", name, var);
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", secrets_dir, name);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        int e = errno;
        return qts_err_set(err, e == ENOENT ? QTS_ENOENT : QTS_EIO,
                           "secret %s: not set (%s, %s: %s)", name, var, path, strerror(e));
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (st.st_mode & 077)) {
        close(fd);
        return qts_err_set(err, QTS_EPERM,
                           "secret %s: %s must be a regular file with mode 0600 or stricter", name,
                           path);
    }
    ssize_t n = read(fd, buf, cap);
    int e = errno;
    close(fd);
    if (n < 0)
        return qts_err_set(err, QTS_EIO, "secret %s: read %s: %s", name, path, strerror(e));
    if ((size_t)n >= cap)
        return qts_err_set(err, QTS_ERANGE, "secret %s: longer than the buffer", name);
    if (n > 0 && buf[n - 1] == '\n')
        n--;
    buf[n] = '\0';
    return 0;
}
