/* var_watch.c — see var_watch.h. */
#include "var_watch.h"

#include <string.h>
#include <sys/stat.h>

#include "util.h"

void qts_var_watch_init(struct qts_var_watch *w, const char *const *paths)
{
    memset(w, 0, sizeof *w);
    for (size_t i = 0; paths && paths[i] && w->n < QTS_VAR_WATCH_MAX; i++) {
        struct stat st;
        if (!paths[i][0] || stat(paths[i], &st) != 0)
            continue;
        qts_strlcpy(w->e[w->n].path, paths[i], sizeof w->e[w->n].path);
        w->e[w->n].dev = (unsigned long long)st.st_dev;
        w->e[w->n].ino = (unsigned long long)st.st_ino;
        w->n++;
    }
}

const char *qts_var_watch_check(struct qts_var_watch *w)
{
    for (size_t i = 0; i < w->n; i++) {
        if (w->e[i].lost)
            continue;
        struct stat st;
        if (stat(w->e[i].path, &st) == 0 && (unsigned long long)st.st_dev == w->e[i].dev &&
            (unsigned long long)st.st_ino == w->e[i].ino)
            continue;
        w->e[i].lost = true;
        return w->e[i].path;
    }
    return NULL;
}
