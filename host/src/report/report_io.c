/* report_io.c — see report_io.h. */
#include "report_io.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>

#include "util.h"

int qts_report_mkdir_p(const char *dir, struct qts_err *err)
{
    char buf[1024];
    if (qts_strlcpy(buf, dir, sizeof buf) >= sizeof buf)
        return qts_err_set(err, QTS_EINVAL, "run directory path too long");
    for (char *p = buf + 1;; p++) {
        if (*p == '/' || *p == '\0') {
            char c = *p;
            *p = '\0';
            if (mkdir(buf, 0755) != 0 && errno != EEXIST)
                return qts_err_set(err, QTS_EIO, "%s: %s", buf, strerror(errno));
            *p = c;
            if (c == '\0')
                break;
        }
    }
    return 0;
}

int qts_wfile_open(struct qts_wfile *w, const char *dir, const char *name, struct qts_err *err)
{
    snprintf(w->path, sizeof w->path, "%s/%s", dir, name);
    snprintf(w->tmp, sizeof w->tmp, "%s.tmp", w->path);
    w->f = fopen(w->tmp, "w");
    if (!w->f)
        return qts_err_set(err, QTS_EIO, "%s: %s", w->tmp, strerror(errno));
    return 0;
}

int qts_wfile_close(struct qts_wfile *w, struct qts_err *err)
{
    bool bad = ferror(w->f) != 0;
    if (fclose(w->f) != 0)
        bad = true;
    w->f = NULL;
    if (bad || rename(w->tmp, w->path) != 0) {
        remove(w->tmp);
        return qts_err_set(err, QTS_EIO, "%s: write failed", w->path);
    }
    return 0;
}

void qts_wfile_discard(struct qts_wfile *w)
{
    if (!w->f)
        return;
    fclose(w->f);
    w->f = NULL;
    remove(w->tmp);
}

void qts_csv_clean(char *dst, size_t cap, const char *src)
{
    size_t i = 0;
    for (; src[i] && i + 1 < cap; i++) {
        char c = src[i];
        dst[i] = (c == ',' || c == '"' || c == '\n' || c == '\r') ? '_' : c;
    }
    dst[i] = '\0';
}

void qts_csv_write_quoted(FILE *f, const char *src)
{
    fputc('"', f);
    for (const char *p = src; *p; p++) {
        if (*p == '"')
            fputc('"', f);
        fputc(*p == '\n' || *p == '\r' ? ' ' : *p, f);
    }
    fputc('"', f);
}

const char *qts_report_fx(char *buf, size_t cap, int64_t v, unsigned exp)
{
    qts_format_fixed(buf, cap, v, exp);
    return buf;
}
