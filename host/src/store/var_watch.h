/* var_watch.h — notices when a directory the host keeps its records in
 * (paths.var_dir, the run's directory) is removed or replaced under a
 * running host.
 *
 * Why: a process keeps writing into files it holds open after their
 * directory was deleted (`rm -rf var/`): every write succeeds and every
 * record is lost at exit, silently. The store writer checks its watch
 * about once a second on its own thread (never the core loop) and says so
 * (store_writer.h: an ERROR line, the writer's stats, the host's safety
 * code FS064).
 *
 * A path is watched by its identity when the watch is made (device and
 * inode): it is lost when it no longer exists or is another directory
 * now (removed and made again). Single-threaded (the writer thread).
 */
#ifndef QTS_VAR_WATCH_H
#define QTS_VAR_WATCH_H

#include <stdbool.h>
#include <stddef.h>

#define QTS_VAR_WATCH_MAX 4

struct qts_var_watch {
    size_t n;
    struct {
        char path[1024];
        unsigned long long dev, ino;
        bool lost;
    } e[QTS_VAR_WATCH_MAX];
};

/* Watch each existing path of the NULL-terminated `paths` (copied; at most
 * QTS_VAR_WATCH_MAX; a path that does not exist now is not watched). */
void qts_var_watch_init(struct qts_var_watch *w, const char *const *paths);
/* The first path newly found lost since the last call, or NULL. Each path
 * is reported once. */
const char *qts_var_watch_check(struct qts_var_watch *w);

#endif
