/* run_id.c — run ids and the runs/latest link (run_id.h). */
#include "run_id.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

void qts_run_id_make(char out[QTS_RUN_ID_MAX], int64_t wall_ns)
{
    time_t t = (time_t)(wall_ns / 1000000000);
    struct tm tm;
    gmtime_r(&t, &tm);
    uint32_t rnd = 0;
    if (getrandom(&rnd, sizeof rnd, GRND_NONBLOCK) != (ssize_t)sizeof rnd)
        rnd = (uint32_t)getpid() ^ (uint32_t)wall_ns; /* entropy pool not ready yet */
    snprintf(out, QTS_RUN_ID_MAX, "%04d%02d%02d-%02d%02d%02d-%06x", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, rnd & 0xffffffu);
}

int qts_run_id_valid(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n >= QTS_RUN_ID_MAX || !strcmp(name, ".") || !strcmp(name, "..") ||
        !strcmp(name, "latest"))
        return 0;
    for (const char *p = name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '.' || *p == '_' || *p == '-'))
            return 0;
    return 1;
}

int qts_run_id_link_latest(const char *runs_dir, const char *run_id, struct qts_err *err)
{
    char link[1024], tmp[1100];
    snprintf(link, sizeof link, "%s/latest", runs_dir);
    struct stat st;
    if (lstat(link, &st) == 0 && S_ISDIR(st.st_mode)) {
        char aside[1100];
        struct tm tm;
        time_t mt = st.st_mtime;
        gmtime_r(&mt, &tm);
        snprintf(aside, sizeof aside, "%s/latest-%04d%02d%02d-%02d%02d%02d", runs_dir,
                 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
        if (rename(link, aside) != 0)
            return qts_err_set(err, QTS_EIO, "cannot move the old run directory %s aside: %s", link,
                               strerror(errno));
    }
    snprintf(tmp, sizeof tmp, "%s/.latest-%ld", runs_dir, (long)getpid());
    unlink(tmp);
    if (symlink(run_id, tmp) != 0 || rename(tmp, link) != 0) {
        int e = errno;
        unlink(tmp);
        return qts_err_set(err, QTS_EIO, "cannot point %s at %s: %s", link, run_id, strerror(e));
    }
    return 0;
}
