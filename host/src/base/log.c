/* log.c — see log.h.
 *
 * The ring holds fixed-size line slots. Producers take a short mutex only to
 * copy a formatted line into a slot (formatting happens before the lock);
 * the writer thread swaps slots out and does the I/O without the lock, so a
 * slow terminal or disk never stalls the core loop.
 */
#include "log.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util.h"

#define LOG_LINE_MAX 1024
#define LOG_RING_SLOTS 4096

struct log_slot {
    uint32_t len;
    int level;
    char text[LOG_LINE_MAX];
};

static struct {
    atomic_int level;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t writer;
    bool running;
    bool stopping;
    struct log_slot *ring; /* LOG_RING_SLOTS slots, owned */
    uint32_t head, tail;   /* head: next to write out; tail: next free */
    atomic_uint_fast64_t dropped;
    uint64_t dropped_reported;
    FILE *file; /* optional copy, owned */
    /* the status line under the log on a terminal; status_mu orders its
     * redraws with the writer's lines (mu is not held during I/O) */
    pthread_mutex_t status_mu;
    char status[256];
    /* quiet terminal (qts_log_quiet_terminal): below term_level a line
     * goes to the file only; after term_warn_max WARN lines, WARN too */
    int term_level;
    unsigned term_warn_max, term_warns;
    char term_where[512];
} g_log = {.level = QTS_LOG_INFO,
           .mu = PTHREAD_MUTEX_INITIALIZER,
           .cv = PTHREAD_COND_INITIALIZER,
           .status_mu = PTHREAD_MUTEX_INITIALIZER};

#define CLEAR_LINE "\r\033[K"

static const char *const level_names[] = {"TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"};

void qts_log_set_level(int level)
{
    if (level < QTS_LOG_TRACE)
        level = QTS_LOG_TRACE;
    if (level > QTS_LOG_FATAL)
        level = QTS_LOG_FATAL;
    atomic_store(&g_log.level, level);
}

int qts_log_get_level(void) { return atomic_load_explicit(&g_log.level, memory_order_relaxed); }

int qts_log_level_parse(const char *name)
{
    static const char *const lower[] = {"trace", "debug", "info", "warn", "error", "fatal"};
    for (int i = 0; i < (int)QTS_ARRAY_LEN(lower); i++)
        if (strcmp(name, lower[i]) == 0)
            return i;
    return -1;
}

const char *qts_log_level_name(int level)
{
    if (level < 0 || level >= (int)QTS_ARRAY_LEN(level_names))
        return "?";
    return level_names[level];
}

uint64_t qts_log_dropped(void) { return atomic_load(&g_log.dropped); }

void qts_log_quiet_terminal(int min_level, unsigned max_warn, const char *where)
{
    pthread_mutex_lock(&g_log.status_mu);
    g_log.term_level = min_level;
    g_log.term_warn_max = max_warn;
    g_log.term_warns = 0;
    qts_strlcpy(g_log.term_where, where ? where : "", sizeof g_log.term_where);
    pthread_mutex_unlock(&g_log.status_mu);
}

/* Whether a line of `level` is drawn on the terminal; status_mu held. */
static bool to_terminal(int level)
{
    if (level < g_log.term_level)
        return false;
    if (level != QTS_LOG_WARN || !g_log.term_warn_max)
        return true;
    if (g_log.term_warns > g_log.term_warn_max)
        return false;
    if (++g_log.term_warns > g_log.term_warn_max) {
        if (g_log.status[0])
            fputs(CLEAR_LINE, stderr);
        fprintf(stderr, "(more warnings: %s)\n", g_log.term_where[0] ? g_log.term_where : "-v");
        return false;
    }
    return true;
}

static void write_out(const char *text, size_t len, int level)
{
    pthread_mutex_lock(&g_log.status_mu);
    if (!to_terminal(level)) {
        pthread_mutex_unlock(&g_log.status_mu);
        if (g_log.file)
            fwrite(text, 1, len, g_log.file);
        return;
    }
    if (g_log.status[0])
        fputs(CLEAR_LINE, stderr);
    fwrite(text, 1, len, stderr);
    if (g_log.status[0]) {
        fputs(g_log.status, stderr);
        fflush(stderr);
    }
    pthread_mutex_unlock(&g_log.status_mu);
    if (g_log.file) {
        fwrite(text, 1, len, g_log.file);
    }
}

void qts_log_status_line(const char *text)
{
    pthread_mutex_lock(&g_log.status_mu);
    qts_strlcpy(g_log.status, text ? text : "", sizeof g_log.status);
    fputs(CLEAR_LINE, stderr);
    fputs(g_log.status, stderr);
    fflush(stderr);
    pthread_mutex_unlock(&g_log.status_mu);
}

int qts_log_set_file(const char *path)
{
    pthread_mutex_lock(&g_log.mu);
    if (g_log.file) {
        fclose(g_log.file);
        g_log.file = NULL;
    }
    int rc = 0;
    if (path) {
        g_log.file = fopen(path, "a");
        if (!g_log.file)
            rc = -errno;
        else
            setvbuf(g_log.file, NULL, _IOLBF, 0);
    }
    pthread_mutex_unlock(&g_log.mu);
    return rc;
}

static void *writer_main(void *arg)
{
    (void)arg;
    struct log_slot *batch = qts_xmalloc(sizeof(struct log_slot) * 64);
    pthread_mutex_lock(&g_log.mu);
    for (;;) {
        while (g_log.head == g_log.tail && !g_log.stopping)
            pthread_cond_wait(&g_log.cv, &g_log.mu);
        if (g_log.head == g_log.tail && g_log.stopping)
            break;
        uint32_t n = 0;
        while (g_log.head != g_log.tail && n < 64) {
            batch[n++] = g_log.ring[g_log.head % LOG_RING_SLOTS];
            g_log.head++;
        }
        pthread_mutex_unlock(&g_log.mu);
        for (uint32_t i = 0; i < n; i++)
            write_out(batch[i].text, batch[i].len, batch[i].level);
        uint64_t dropped = atomic_load(&g_log.dropped);
        if (dropped != g_log.dropped_reported) {
            char msg[128];
            int k = snprintf(msg, sizeof msg, "log: %llu lines dropped (ring full)\n",
                             (unsigned long long)(dropped - g_log.dropped_reported));
            write_out(msg, (size_t)k, QTS_LOG_WARN);
            g_log.dropped_reported = dropped;
        }
        fflush(stderr);
        pthread_mutex_lock(&g_log.mu);
    }
    pthread_mutex_unlock(&g_log.mu);
    free(batch);
    return NULL;
}

int qts_log_start(void)
{
    pthread_mutex_lock(&g_log.mu);
    if (g_log.running) {
        pthread_mutex_unlock(&g_log.mu);
        return 0;
    }
    g_log.ring = qts_xcalloc(LOG_RING_SLOTS, sizeof(struct log_slot));
    g_log.head = g_log.tail = 0;
    g_log.stopping = false;
    int rc = pthread_create(&g_log.writer, NULL, writer_main, NULL);
    if (rc == 0)
        g_log.running = true;
    else {
        free(g_log.ring);
        g_log.ring = NULL;
    }
    pthread_mutex_unlock(&g_log.mu);
    return rc ? -rc : 0;
}

void qts_log_stop(void)
{
    pthread_mutex_lock(&g_log.mu);
    if (!g_log.running) {
        pthread_mutex_unlock(&g_log.mu);
        return;
    }
    g_log.stopping = true;
    pthread_cond_signal(&g_log.cv);
    pthread_mutex_unlock(&g_log.mu);
    pthread_join(g_log.writer, NULL);
    pthread_mutex_lock(&g_log.mu);
    g_log.running = false;
    free(g_log.ring);
    g_log.ring = NULL;
    pthread_mutex_unlock(&g_log.mu);
}

static size_t format_line(char *buf, size_t cap, int level, const char *fmt, va_list ap)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    int n = snprintf(buf, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ %-5s ", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000,
                     qts_log_level_name(level));
    if (n < 0)
        n = 0;
    int m = vsnprintf(buf + n, cap - (size_t)n, fmt, ap);
    size_t len = (size_t)n + (m > 0 ? (size_t)m : 0);
    if (len > cap - 2)
        len = cap - 2;
    while (len > 0 && buf[len - 1] == '\n')
        len--;
    buf[len++] = '\n';
    buf[len] = '\0';
    return len;
}

void qts_logv(int level, const char *fmt, va_list ap)
{
    if (level < qts_log_get_level())
        return;
    char line[LOG_LINE_MAX];
    size_t len = format_line(line, sizeof line, level, fmt, ap);
    pthread_mutex_lock(&g_log.mu);
    if (!g_log.running) {
        write_out(line, len, level);
        pthread_mutex_unlock(&g_log.mu);
        return;
    }
    if (g_log.tail - g_log.head >= LOG_RING_SLOTS) {
        pthread_mutex_unlock(&g_log.mu);
        atomic_fetch_add(&g_log.dropped, 1);
        return;
    }
    struct log_slot *s = &g_log.ring[g_log.tail % LOG_RING_SLOTS];
    memcpy(s->text, line, len + 1);
    s->len = (uint32_t)len;
    s->level = level;
    g_log.tail++;
    pthread_cond_signal(&g_log.cv);
    pthread_mutex_unlock(&g_log.mu);
}

void qts_log(int level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    qts_logv(level, fmt, ap);
    va_end(ap);
}
