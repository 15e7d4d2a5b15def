/* log.h — leveled, key=value logging to stderr and optionally a file.
 *
 * Lines look like:
 *   2026-11-24T12:00:00.123456Z INFO  plugin loaded name=broker_paper gen=1
 * A caller never blocks on I/O: once qts_log_start() has run, lines are
 * copied into a bounded in-memory ring and a writer thread prints them. When
 * the ring is full the line is dropped and counted (qts_log_dropped()); the
 * count is reported by the writer. Before start (CLI commands) and after
 * stop, lines are written directly.
 */
#ifndef QTS_LOG_H
#define QTS_LOG_H

#include <stdarg.h>
#include <stdint.h>

#include "qts/qts_err.h"
#include "qts/qts_plugin.h" /* enum qts_log_level */

/* Set the minimum level (default INFO). */
void qts_log_set_level(int level);
int qts_log_get_level(void);
/* Parse "trace|debug|info|warn|error|fatal"; returns level or -1. */
int qts_log_level_parse(const char *name);
const char *qts_log_level_name(int level);

/* Also append to `path` (NULL to close). Returns 0 or -errno style code. */
int qts_log_set_file(const char *path);

/* Start / stop the asynchronous writer thread. stop flushes everything. */
int qts_log_start(void);
void qts_log_stop(void);

uint64_t qts_log_dropped(void);

/* The status line a terminal shows under the log (the replay's progress):
 * `text` (copied; NULL or "" = none) is drawn on stderr at once, and every
 * log line written to stderr while it is shown clears it first and draws it
 * again after, so the two never share a line. Only for a terminal stderr. */
void qts_log_status_line(const char *text);

/* A quiet terminal (`qts run` under a progress bar): lines below
 * `min_level` go to the log file only; of WARN lines, the first `max_warn`
 * (0 = all) reach stderr, then one "(more warnings: <where>)" line, and the
 * rest go to the file only. ERROR and FATAL always reach stderr.
 * QTS_LOG_TRACE, 0, NULL: everything to stderr again (the default). */
void qts_log_quiet_terminal(int min_level, unsigned max_warn, const char *where);

void qts_log(int level, const char *fmt, ...) QTS_PRINTF(2, 3);
void qts_logv(int level, const char *fmt, va_list ap);

#define qts_log_enabled(level) ((level) >= qts_log_get_level())

#define QTS_TRACE(...)                           \
    do {                                         \
        if (qts_log_enabled(QTS_LOG_TRACE))      \
            qts_log(QTS_LOG_TRACE, __VA_ARGS__); \
    } while (0)
#define QTS_DEBUG(...)                           \
    do {                                         \
        if (qts_log_enabled(QTS_LOG_DEBUG))      \
            qts_log(QTS_LOG_DEBUG, __VA_ARGS__); \
    } while (0)
#define QTS_INFO(...) qts_log(QTS_LOG_INFO, __VA_ARGS__)
#define QTS_WARN(...) qts_log(QTS_LOG_WARN, __VA_ARGS__)
#define QTS_ERROR(...) qts_log(QTS_LOG_ERROR, __VA_ARGS__)

#endif /* QTS_LOG_H */
