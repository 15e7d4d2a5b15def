/* sweep_table.c — see sweep_table.h. */
#include "sweep_table.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* The stats object's keys, then the counts object's. */
const char *const qts_sweep_stat_names[QTS_SWEEP_N_STATS] = {
    "total_return",  "cagr",     "sharpe", "sortino",    "max_drawdown", "win_rate",
    "profit_factor", "exposure", "fees",   "equity_end", "trades",       "fills"};
#define N_FROM_STATS 10

int qts_sweep_stat_index(const char *name)
{
    for (int i = 0; i < QTS_SWEEP_N_STATS; i++)
        if (strcmp(name, qts_sweep_stat_names[i]) == 0)
            return i;
    return -1;
}

/* The value of "key" inside the object that starts at `obj` (flat: the
 * objects read here hold no nested objects before their end). */
static bool value_in(const char *obj, const char *key, char *out, size_t cap)
{
    const char *end = strchr(obj, '}');
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = strstr(obj, pat);
    if (!p || (end && p > end))
        return false;
    p += strlen(pat);
    while (*p == ' ')
        p++;
    size_t k = strcspn(p, ",}\n");
    while (k && p[k - 1] == ' ')
        k--;
    if (k == 0 || k >= cap)
        return false;
    memcpy(out, p, k);
    out[k] = '\0';
    return true;
}

int qts_sweep_read_summary(const char *run_dir, struct qts_sweep_run *r, struct qts_err *err)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/summary.json", run_dir);
    FILE *f = fopen(path, "r");
    if (!f)
        return qts_err_set(err, QTS_EIO, "%s: %s", path, strerror(errno));
    char *text = NULL;
    size_t cap = 0, len = 0;
    for (;;) {
        if (len + 4096 + 1 > cap) {
            cap = cap ? cap * 2 : 65536;
            text = qts_xrealloc(text, cap);
        }
        size_t got = fread(text + len, 1, cap - len - 1, f);
        len += got;
        if (got == 0)
            break;
    }
    fclose(f);
    text[len] = '\0';
    const char *stats = strstr(text, "\"stats\": {");
    const char *counts = strstr(text, "\"counts\": {");
    int rc = 0;
    if (!stats || !counts) {
        rc = qts_err_set(err, QTS_EPARSE, "%s: no stats or counts object", path);
    } else {
        for (int i = 0; i < QTS_SWEEP_N_STATS && rc == 0; i++) {
            const char *obj = i < N_FROM_STATS ? stats : counts;
            if (!value_in(obj, qts_sweep_stat_names[i], r->text[i], sizeof r->text[i]))
                rc = qts_err_set(err, QTS_EPARSE, "%s: no %s", path, qts_sweep_stat_names[i]);
            else if (strcmp(r->text[i], "null") == 0)
                r->num[i] = NAN;
            else
                r->num[i] = strtod(r->text[i], NULL);
        }
    }
    free(text);
    r->has_stats = rc == 0;
    return rc;
}

static int g_rank; /* the statistic qsort compares (one sort at a time) */

static double key_of(const struct qts_sweep_row *r)
{
    const struct qts_sweep_run *x = &r->run[0];
    if (!x->has_stats || isnan(x->num[g_rank]))
        return NAN;
    /* best first: a drawdown is better small, everything else large */
    return strcmp(qts_sweep_stat_names[g_rank], "max_drawdown") == 0 ? x->num[g_rank]
                                                                     : -x->num[g_rank];
}

static int cmp_rows(const void *pa, const void *pb)
{
    const struct qts_sweep_row *a = pa, *b = pb;
    double ka = key_of(a), kb = key_of(b);
    if (isnan(ka) != isnan(kb))
        return isnan(ka) ? 1 : -1;
    if (!isnan(ka) && ka != kb)
        return ka < kb ? -1 : 1;
    return a->set < b->set ? -1 : a->set > b->set;
}

static const char *status_of(const struct qts_sweep_run *r)
{
    if (r->exit_code == 0 && r->has_stats)
        return "ok";
    return r->exit_code == 0 ? "no summary" : "failed";
}

static void csv_run_cols(FILE *f, const struct qts_sweep_run *r)
{
    fprintf(f, ",%s,%s", r->run_id, status_of(r));
    for (int i = 0; i < QTS_SWEEP_N_STATS; i++)
        fprintf(f, ",%s", r->has_stats && strcmp(r->text[i], "null") != 0 ? r->text[i] : "");
}

static void html_run_cols(FILE *f, const struct qts_sweep_run *r, const char *runs_rel)
{
    fprintf(f, "<td><a href=\"%s/%s/report.html\">%s</a></td><td>%s</td>", runs_rel, r->run_id,
            r->run_id, status_of(r));
    for (int i = 0; i < QTS_SWEEP_N_STATS; i++)
        fprintf(f, "<td>%s</td>",
                r->has_stats && strcmp(r->text[i], "null") != 0 ? r->text[i] : "-");
}

/* Write <dir>/<name> through a temporary file renamed into place. */
static FILE *open_tmp(const char *dir, const char *name, char *tmp, size_t cap, struct qts_err *err)
{
    snprintf(tmp, cap, "%s/%s.tmp", dir, name);
    FILE *f = fopen(tmp, "w");
    if (!f)
        qts_err_set(err, QTS_EIO, "%s: %s", tmp, strerror(errno));
    return f;
}

static int close_tmp(FILE *f, const char *tmp, const char *dir, const char *name,
                     struct qts_err *err)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    bool bad = ferror(f) != 0;
    if (fclose(f) != 0 || bad || rename(tmp, path) != 0)
        return qts_err_set(err, QTS_EIO, "cannot write %s: %s", path, strerror(errno));
    return 0;
}

static void html_escape(FILE *f, const char *s)
{
    for (; *s; s++) {
        if (*s == '<')
            fputs("&lt;", f);
        else if (*s == '>')
            fputs("&gt;", f);
        else if (*s == '&')
            fputs("&amp;", f);
        else
            fputc(*s, f);
    }
}

int qts_sweep_write(const char *dir, const char *runs_rel, const struct qts_sweep_grid *g,
                    struct qts_sweep_row *rows, size_t n, int rank, bool split,
                    const char *split_date, struct qts_err *err)
{
    g_rank = rank;
    qsort(rows, n, sizeof *rows, cmp_rows);
    char tmp[1200];
    FILE *f = open_tmp(dir, "sweep.csv", tmp, sizeof tmp, err);
    if (!f)
        return QTS_EIO;
    const char *pre[2] = {split ? "is_" : "", "oos_"};
    fprintf(f, "rank,set");
    for (size_t a = 0; a < g->n_axes; a++)
        fprintf(f, ",%s", g->axes[a].name);
    for (int s = 0; s < (split ? 2 : 1); s++) {
        fprintf(f, ",%srun_id,%sstatus", pre[s], pre[s]);
        for (int i = 0; i < QTS_SWEEP_N_STATS; i++)
            fprintf(f, ",%s%s", pre[s], qts_sweep_stat_names[i]);
    }
    fputc('\n', f);
    for (size_t r = 0; r < n; r++) {
        fprintf(f, "%zu,%zu", r + 1, rows[r].set + 1);
        for (size_t a = 0; a < g->n_axes; a++)
            fprintf(f, ",%s", qts_sweep_grid_value(g, rows[r].set, a));
        for (int s = 0; s < (split ? 2 : 1); s++)
            csv_run_cols(f, &rows[r].run[s]);
        fputc('\n', f);
    }
    int rc = close_tmp(f, tmp, dir, "sweep.csv", err);
    if (rc != 0)
        return rc;

    if (!(f = open_tmp(dir, "sweep.html", tmp, sizeof tmp, err)))
        return QTS_EIO;
    fprintf(f, "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>qts sweep</title>\n"
               "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;"
               "font-size:13px}td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}"
               "th{background:#eee}</style></head><body>\n");
    fprintf(f,
            "<section id=\"sweep\"><h2>Parameter sweep</h2>\n<p>%zu parameter sets, ranked by "
            "%s%s (%s). ",
            n, split ? "in-sample " : "", qts_sweep_stat_names[rank],
            strcmp(qts_sweep_stat_names[rank], "max_drawdown") == 0 ? "lowest first"
                                                                    : "highest first");
    if (split) {
        fputs("In-sample: the data before ", f);
        html_escape(f, split_date);
        fputs("; out-of-sample: from it on. ", f);
    }
    fputs("Each run id links to that run's report.</p>\n<table>\n<tr><th>rank</th><th>set</th>", f);
    for (size_t a = 0; a < g->n_axes; a++) {
        fputs("<th>", f);
        html_escape(f, g->axes[a].name);
        fputs("</th>", f);
    }
    for (int s = 0; s < (split ? 2 : 1); s++) {
        fprintf(f, "<th>%srun</th><th>%sstatus</th>", pre[s], pre[s]);
        for (int i = 0; i < QTS_SWEEP_N_STATS; i++)
            fprintf(f, "<th>%s%s</th>", pre[s], qts_sweep_stat_names[i]);
    }
    fputs("</tr>\n", f);
    for (size_t r = 0; r < n; r++) {
        fprintf(f, "<tr><td>%zu</td><td>%zu</td>", r + 1, rows[r].set + 1);
        for (size_t a = 0; a < g->n_axes; a++) {
            fputs("<td>", f);
            html_escape(f, qts_sweep_grid_value(g, rows[r].set, a));
            fputs("</td>", f);
        }
        for (int s = 0; s < (split ? 2 : 1); s++)
            html_run_cols(f, &rows[r].run[s], runs_rel);
        fputs("</tr>\n", f);
    }
    fputs("</table></section>\n</body></html>\n", f);
    return close_tmp(f, tmp, dir, "sweep.html", err);
}
