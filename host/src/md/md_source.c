/* md_source.c — see md_source.h. */
#include "md_source.h"

#include <string.h>

#include "util.h"

static const char *const FORMATS[] = {"auto",       "binance",  "csv-trades",
                                      "csv-quotes", "csv-bars", "binary"};

int qts_md_format_parse(const char *name)
{
    for (size_t i = 0; i < QTS_ARRAY_LEN(FORMATS); i++)
        if (strcmp(name, FORMATS[i]) == 0)
            return (int)i;
    return QTS_EINVAL;
}

const char *qts_md_format_name(int fmt)
{
    return fmt >= 0 && (size_t)fmt < QTS_ARRAY_LEN(FORMATS) ? FORMATS[fmt] : "?";
}

/* Format auto: the binary magic, a Binance capture line ("<ns> {"), or a
 * CSV header naming bar, quote or trade columns (md_csv.h). */
static int detect(struct qts_md_source *s, struct qts_err *err)
{
    const uint8_t *p;
    long n = qts_md_file_peek(&s->file, 1024, &p, err);
    if (n < 0)
        return (int)n;
    if (n >= 8 && memcmp(p, QTS_MD_BIN_MAGIC, 8) == 0)
        return QTS_MD_FMT_BINARY;
    long i = 0;
    while (i < n && p[i] >= '0' && p[i] <= '9')
        i++;
    if (i > 0 && i + 1 < n && p[i] == ' ' && p[i + 1] == '{')
        return QTS_MD_FMT_BINANCE;
    const char *nl = memchr(p, '\n', (size_t)n);
    int kind = qts_md_csv_guess((const char *)p, nl ? (size_t)(nl - (const char *)p) : (size_t)n);
    if (kind)
        return kind - QTS_MD_CSV_TRADES + QTS_MD_FMT_CSV_TRADES;
    return qts_err_set(err, QTS_EINVAL,
                       "%s: cannot tell the format (not a qts binary file, not a Binance "
                       "capture, and the first line names no open/high/low/close, bid/ask or "
                       "price/qty columns): set `format`",
                       s->file.path);
}

int qts_md_source_open(struct qts_md_source *s, const char *path,
                       const struct qts_md_source_opts *opts, struct qts_md_symtab *syms,
                       struct qts_err *err)
{
    memset(s, 0, sizeof *s);
    int rc = qts_md_file_open(&s->file, path, err);
    if (rc < 0)
        return rc;
    int fmt = opts ? opts->format : QTS_MD_FMT_AUTO;
    if (fmt == QTS_MD_FMT_AUTO) {
        fmt = detect(s, err);
        if (fmt < 0) {
            qts_md_file_close(&s->file);
            return fmt;
        }
    }
    s->format = fmt;
    switch (fmt) {
    case QTS_MD_FMT_BINANCE: qts_md_binance_init(&s->bn, syms); break;
    case QTS_MD_FMT_BINARY: qts_md_binreader_init(&s->bin, syms); break;
    case QTS_MD_FMT_CSV_TRADES:
    case QTS_MD_FMT_CSV_QUOTES:
    case QTS_MD_FMT_CSV_BARS:
        rc = qts_md_csv_init(&s->csv, fmt - QTS_MD_FMT_CSV_TRADES + QTS_MD_CSV_TRADES, syms,
                             opts ? opts->symbol : NULL, opts ? opts->bar_period_ns : 0, err);
        if (rc < 0) {
            qts_md_file_close(&s->file);
            return rc;
        }
        break;
    default:
        qts_md_file_close(&s->file);
        return qts_err_set(err, QTS_EINVAL, "unknown format %d", fmt);
    }
    s->last_recv_ns = INT64_MIN;
    return 0;
}

void qts_md_source_close(struct qts_md_source *s)
{
    if (s->format == QTS_MD_FMT_BINANCE)
        qts_md_binance_cleanup(&s->bn);
    else if (s->format == QTS_MD_FMT_BINARY)
        qts_md_binreader_cleanup(&s->bin);
    qts_md_file_close(&s->file);
}

static int where(struct qts_md_source *s, int rc, const struct qts_err *why, struct qts_err *bad)
{
    if (s->format == QTS_MD_FMT_BINARY)
        return qts_err_set(bad, rc, "%s@byte %llu: %s", s->file.path,
                           (unsigned long long)s->file.rec_off, why->msg);
    return qts_err_set(bad, rc, "%s:%llu: %s", s->file.path, (unsigned long long)s->file.line_no,
                       why->msg);
}

int qts_md_source_next(struct qts_md_source *s, union qts_md_event *ev, struct qts_err *bad)
{
    if (s->failed)
        return 0;
    struct qts_err why;
    for (;;) {
        why.msg[0] = '\0';
        int rc;
        if (s->format == QTS_MD_FMT_BINARY) {
            rc = qts_md_binreader_next(&s->bin, &s->file, ev, &why);
        } else {
            const char *line;
            size_t n;
            rc = qts_md_file_line(&s->file, &line, &n, &why);
            if (rc == 1) {
                if (s->format == QTS_MD_FMT_BINANCE)
                    rc = qts_md_binance_decode(&s->bn, line, n, ev, &why);
                else
                    rc = qts_md_csv_decode(&s->csv, line, n, ev, &why);
                if (rc == 0) {
                    s->n_ignored++;
                    continue;
                }
                if (rc == QTS_ECONFIG) /* CSV header unusable: the file is */
                    rc = QTS_EIO;
                else if (rc == QTS_EIO)
                    rc = QTS_EPARSE;
            } else if (rc == 0) {
                return 0;
            }
        }
        if (rc == 0)
            return 0;
        if (rc == QTS_EIO) {
            s->failed = true;
            s->n_malformed++;
            if (s->format == QTS_MD_FMT_BINARY)
                return qts_err_set(bad, QTS_EIO, "%s: %s", s->file.path, why.msg);
            return qts_err_set(bad, QTS_EIO, "%s after line %llu: %s", s->file.path,
                               (unsigned long long)s->file.line_no, why.msg);
        }
        if (rc < 0) {
            s->n_malformed++;
            return where(s, rc, &why, bad);
        }
        if (QTS_UNLIKELY(ev->h.ts_recv_ns < s->last_recv_ns)) {
            s->n_malformed++;
            why.msg[0] = '\0';
            /* the gap of two arbitrary int64 times (damaged input) may
             * exceed int64: take it in uint64, where it always fits */
            uint64_t back = (uint64_t)s->last_recv_ns - (uint64_t)ev->h.ts_recv_ns;
            qts_err_set(&why, QTS_ERANGE,
                        "time goes backwards (%llu ns before the previous record)",
                        (unsigned long long)back);
            return where(s, QTS_ERANGE, &why, bad);
        }
        s->last_recv_ns = ev->h.ts_recv_ns;
        s->n_events++;
        return 1;
    }
}

double qts_md_source_progress(const struct qts_md_source *s)
{
    return s->failed ? 1.0 : qts_md_file_progress(&s->file);
}
