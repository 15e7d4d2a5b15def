/* report_compare.c — see report_compare.h. */
#include "report_compare.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "report_chart.h"
#include "report_io.h"
#include "report_page.h"
#include "util.h"

#define MAX_STRATS 64

/* What the comparison shows of one run. */
struct cmp_run {
    char dir[1024];
    char id[256]; /* the run directory's name (runs/latest resolved) */
    char *json;   /* owned: summary.json */
    int64_t x0, x1;
    size_t n_eq;
    size_t n_strats;
    char strat[MAX_STRATS][64];
    double strat_pnl[MAX_STRATS];
};

/* The headline figures: summary.json key, the object holding it, label,
 * display (0 number, 1 percent, 2 count, 3 time, 4 cash). */
static const struct {
    const char *key, *obj, *label;
    int kind;
} FIGS[] = {
    {"start_ns", NULL, "start", 3},
    {"end_ns", NULL, "end", 3},
    {"equity_end", "stats", "equity at end", 4},
    {"total_return", "stats", "total return", 1},
    {"cagr", "stats", "CAGR", 1},
    {"max_drawdown", "stats", "max drawdown", 1},
    {"sharpe", "stats", "Sharpe", 0},
    {"sortino", "stats", "Sortino", 0},
    {"vol_annual", "stats", "volatility (annual)", 1},
    {"win_rate", "stats", "win rate", 1},
    {"profit_factor", "stats", "profit factor", 0},
    {"fees", "stats", "fees", 0},
    {"trades", "counts", "closed trades", 2},
    {"fills", "counts", "fills", 2},
};

/* The number after "key": inside the object starting at `from`; NAN when
 * absent or null. */
static double json_num_after(const char *from, const char *key)
{
    if (!from)
        return NAN;
    char pat[80];
    snprintf(pat, sizeof pat, "\"%s\": ", key);
    const char *p = strstr(from, pat);
    if (!p)
        return NAN;
    p += strlen(pat);
    if (strncmp(p, "null", 4) == 0)
        return NAN;
    char *end;
    double v = strtod(p, &end);
    return end == p ? NAN : v;
}

static double fig_value(const struct cmp_run *r, size_t i)
{
    const char *from = r->json;
    if (FIGS[i].obj) {
        char pat[64];
        snprintf(pat, sizeof pat, "\"%s\": {", FIGS[i].obj);
        from = strstr(r->json, pat);
    }
    return json_num_after(from, FIGS[i].key);
}

static void fig_text(char *buf, size_t cap, int kind, double v)
{
    if (isnan(v))
        snprintf(buf, cap, "n/a");
    else if (kind == 1)
        snprintf(buf, cap, "%.4f %%", v * 100);
    else if (kind == 2)
        snprintf(buf, cap, "%.0f", v);
    else if (kind == 3)
        qts_report_fmt_time(buf, cap, (int64_t)v);
    else if (kind == 4)
        snprintf(buf, cap, "%.2f", v);
    else
        snprintf(buf, cap, "%.8g", v);
}

static void diff_text(char *buf, size_t cap, int kind, double a, double b)
{
    if (isnan(a) || isnan(b) || kind == 3)
        snprintf(buf, cap, "%s", "");
    else if (kind == 1)
        snprintf(buf, cap, "%+.4f %%", (b - a) * 100);
    else if (kind == 2)
        snprintf(buf, cap, "%+.0f", b - a);
    else if (kind == 4)
        snprintf(buf, cap, "%+.2f", b - a);
    else
        snprintf(buf, cap, "%+.8g", b - a);
}

/* Each strategy's name (or "strategy N") and net PnL from summary.json. */
static void read_strategies(struct cmp_run *r)
{
    const char *p = strstr(r->json, "\"strategies\": [");
    /* the array's entries hold no array: it ends at the first ']' (later
     * objects, such as the TCA section's, have strategy ids too) */
    const char *stop = p ? strchr(p, ']') : NULL;
    while (p && r->n_strats < MAX_STRATS && (p = strstr(p, "{\"strategy_id\": ")) != NULL) {
        const char *end = strchr(p, '}');
        if (!end || !stop || p > stop)
            break;
        char *name = r->strat[r->n_strats];
        const char *n = strstr(p, "\"name\": \"");
        if (n && n < end) {
            n += 9;
            size_t k = 0;
            while (n[k] && n[k] != '"' && k + 1 < 64)
                k++;
            memcpy(name, n, k);
            name[k] = '\0';
        } else {
            snprintf(name, 64, "strategy %ld", strtol(p + 16, NULL, 10));
        }
        r->strat_pnl[r->n_strats++] = json_num_after(p, "net_pnl");
        p = end;
    }
}

static int read_file(const char *path, char **out, struct qts_err *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return qts_err_set(err, errno == ENOENT ? QTS_ENOENT : QTS_EIO, "%s: %s", path,
                           strerror(errno));
    size_t cap = 65536, len = 0;
    char *buf = qts_xmalloc(cap);
    size_t got;
    while ((got = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += got;
        if (len + 1 == cap)
            buf = qts_xrealloc(buf, cap *= 2);
    }
    bool bad = ferror(f);
    fclose(f);
    buf[len] = '\0';
    if (bad) {
        free(buf);
        return qts_err_set(err, QTS_EIO, "%s: read error", path);
    }
    *out = buf;
    return 0;
}

/* Pass over equity.csv: the time range (grid == NULL) or the grid's series. */
static int read_equity(struct cmp_run *r, struct qts_grid *grid, size_t series, struct qts_err *err)
{
    char path[1100];
    snprintf(path, sizeof path, "%s/equity.csv", r->dir);
    FILE *f = fopen(path, "rb");
    if (!f)
        return qts_err_set(err, errno == ENOENT ? QTS_ENOENT : QTS_EIO, "%s: %s", path,
                           strerror(errno));
    char *line = NULL;
    size_t cap = 0;
    int ln = 0, rc = 0;
    while (getline(&line, &cap, f) > 0) {
        if (++ln == 1)
            continue; /* header */
        char *end;
        errno = 0;
        long long ts = strtoll(line, &end, 10);
        double eq = *end == ',' ? strtod(end + 1, &end) : NAN;
        if (errno || isnan(eq) || (*end != ',' && *end != '\n' && *end)) {
            rc = qts_err_set(err, QTS_EPARSE, "%s:%d: bad line", path, ln);
            break;
        }
        if (grid) {
            qts_grid_set(grid, series, ts, eq);
            continue;
        }
        if (!r->n_eq++)
            r->x0 = ts;
        r->x1 = ts;
    }
    free(line);
    fclose(f);
    return rc;
}

static int load(struct cmp_run *r, const char *dir, struct qts_err *err)
{
    char real[PATH_MAX];
    if (!realpath(dir, real))
        return qts_err_set(err, errno == ENOENT ? QTS_ENOENT : QTS_EIO, "%s: %s", dir,
                           strerror(errno));
    qts_strlcpy(r->dir, real, sizeof r->dir);
    const char *slash = strrchr(real, '/');
    qts_strlcpy(r->id, slash ? slash + 1 : real, sizeof r->id);
    char path[1100];
    snprintf(path, sizeof path, "%s/summary.json", r->dir);
    int rc = read_file(path, &r->json, err);
    if (rc)
        return rc;
    if (!strstr(r->json, "\"stats\": {"))
        return qts_err_set(err, QTS_EPARSE, "%s: no stats object", path);
    read_strategies(r);
    return read_equity(r, NULL, 0, err);
}

/* One line of the table; no trailing blanks when there is no difference. */
static void table_row(FILE *t, const char *label, const char *a, const char *b, const char *d)
{
    if (d[0])
        fprintf(t, "%-26s %-26s %-26s %s\n", label, a, b, d);
    else
        fprintf(t, "%-26s %-26s %s\n", label, a, b);
}

static void write_table(FILE *t, const struct cmp_run *a, const struct cmp_run *b)
{
    char va[64], vb[64], d[64];
    fprintf(t, "%-26s %-26s %-26s %s\n", "", a->id, b->id, "B - A");
    for (size_t i = 0; i < QTS_ARRAY_LEN(FIGS); i++) {
        double x = fig_value(a, i), y = fig_value(b, i);
        fig_text(va, sizeof va, FIGS[i].kind, x);
        fig_text(vb, sizeof vb, FIGS[i].kind, y);
        diff_text(d, sizeof d, FIGS[i].kind, x, y);
        table_row(t, FIGS[i].label, va, vb, d);
    }
    /* strategies: those of A, then those only B has */
    for (int pass = 0; pass < 2; pass++) {
        const struct cmp_run *r = pass ? b : a, *o = pass ? a : b;
        for (size_t i = 0; i < r->n_strats; i++) {
            double other = NAN;
            bool seen = false;
            for (size_t j = 0; j < o->n_strats; j++)
                if (strcmp(o->strat[j], r->strat[i]) == 0) {
                    other = o->strat_pnl[j];
                    seen = true;
                }
            if (pass && seen)
                continue;
            double x = pass ? other : r->strat_pnl[i], y = pass ? r->strat_pnl[i] : other;
            char label[96];
            snprintf(label, sizeof label, "net PnL %s", r->strat[i]);
            fig_text(va, sizeof va, 0, x);
            fig_text(vb, sizeof vb, 0, y);
            diff_text(d, sizeof d, 0, x, y);
            table_row(t, label, va, vb, d);
        }
    }
}

static int write_page(const char *out, const struct cmp_run *a, const struct cmp_run *b,
                      const struct qts_grid *g, struct qts_err *err)
{
    /* the page goes next to `out` under a .tmp name, then is renamed */
    char dir[1024], name[256];
    const char *slash = strrchr(out, '/');
    if (slash) {
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - out), out);
        qts_strlcpy(name, slash + 1, sizeof name);
    } else {
        qts_strlcpy(dir, ".", sizeof dir);
        qts_strlcpy(name, out, sizeof name);
    }
    if (!dir[0])
        qts_strlcpy(dir, "/", sizeof dir);
    struct qts_wfile w;
    int rc = qts_wfile_open(&w, dir, name, err);
    if (rc)
        return rc;
    FILE *f = w.f;
    char title[600];
    snprintf(title, sizeof title, "qts: %s vs %s", a->id, b->id);
    qts_report_page_head(f, title);
    fputs("<h1>", f);
    qts_report_html_text(f, title);
    fputs("</h1>\n<p class=\"note\">A = ", f);
    qts_report_html_text(f, a->dir);
    fputs(", B = ", f);
    qts_report_html_text(f, b->dir);
    fputs("</p>\n<div class=\"chart\" id=\"c-cmp\"></div>\n<pre class=\"cmp\">", f);
    /* the same table as the terminal's, escaped */
    char *tbuf = NULL;
    size_t tlen = 0;
    FILE *t = open_memstream(&tbuf, &tlen);
    if (!t)
        qts__panic(__FILE__, __LINE__, "out of memory (comparison table)");
    write_table(t, a, b);
    fclose(t);
    qts_report_html_text(f, tbuf);
    free(tbuf);
    fputs("</pre>\n<script id=\"qts-data\" type=\"application/json\">{\"cmp\":{\"names\":[", f);
    qts_report_js_str(f, a->id);
    fputc(',', f);
    qts_report_js_str(f, b->id);
    fputs("],", f);
    qts_grid_json_fields(f, g);
    fputs("}}</script>\n", f);
    qts_report_page_script(f);
    fputs("</body></html>\n", f);
    return qts_wfile_close(&w, err);
}

int qts_report_compare(const char *dir_a, const char *dir_b, char *out_html, size_t cap,
                       FILE *table, struct qts_err *err)
{
    struct cmp_run *a = qts_xcalloc(1, sizeof *a), *b = qts_xcalloc(1, sizeof *b);
    struct qts_grid g;
    memset(&g, 0, sizeof g);
    int rc = load(a, dir_a, err);
    if (!rc)
        rc = load(b, dir_b, err);
    if (!rc && !out_html[0]) {
        /* next to B: its runs folder */
        int n = (int)(strlen(b->dir) - strlen(b->id));
        snprintf(out_html, cap, "%.*scompare-%s-%s.html", n, b->dir, a->id, b->id);
    }
    if (!rc) {
        int64_t x0 = a->n_eq && (!b->n_eq || a->x0 < b->x0) ? a->x0 : b->x0;
        int64_t x1 = a->n_eq && (!b->n_eq || a->x1 > b->x1) ? a->x1 : b->x1;
        qts_grid_init(&g, x0, x1 > x0 ? x1 : x0 + 1, 2);
        if (!(rc = read_equity(a, &g, 0, err)) && !(rc = read_equity(b, &g, 1, err))) {
            if (table)
                write_table(table, a, b);
            rc = write_page(out_html, a, b, &g, err);
        }
    }
    qts_grid_free(&g);
    free(a->json);
    free(b->json);
    free(a);
    free(b);
    return rc;
}

int qts_report_headline(const char *dir, struct qts_run_headline *h, struct qts_err *err)
{
    memset(h, 0, sizeof *h);
    snprintf(h->mode, sizeof h->mode, "-");
    double *nan_fields[] = {&h->start_ns,     &h->end_ns,       &h->equity_end,
                            &h->total_return, &h->max_drawdown, &h->sharpe,
                            &h->win_rate,     &h->trades,       &h->fills};
    for (size_t i = 0; i < sizeof nan_fields / sizeof nan_fields[0]; i++)
        *nan_fields[i] = NAN;
    char path[1100];
    snprintf(path, sizeof path, "%s/run.csv", dir);
    FILE *f = fopen(path, "r");
    if (f) { /* key,value lines: the mode, and whether the run was cut short */
        char line[256];
        while (fgets(line, sizeof line, f)) {
            line[strcspn(line, "\r\n")] = '\0';
            if (strncmp(line, "mode,", 5) == 0)
                qts_strlcpy(h->mode, line + 5, sizeof h->mode);
            else if (strncmp(line, "interrupted,", 12) == 0)
                h->interrupted = true;
        }
        fclose(f);
    }
    snprintf(path, sizeof path, "%s/summary.json", dir);
    char *json = NULL;
    int rc = read_file(path, &json, err);
    if (rc == QTS_ENOENT) {
        qts_err_clear(err);
        return 0;
    }
    if (rc)
        return rc;
    const char *stats = strstr(json, "\"stats\": {"), *counts = strstr(json, "\"counts\": {");
    if (!stats) {
        free(json);
        return qts_err_set(err, QTS_EPARSE, "%s: no stats object", path);
    }
    h->finished = true;
    h->start_ns = json_num_after(json, "start_ns");
    h->end_ns = json_num_after(json, "end_ns");
    h->equity_end = json_num_after(stats, "equity_end");
    h->total_return = json_num_after(stats, "total_return");
    h->max_drawdown = json_num_after(stats, "max_drawdown");
    h->sharpe = json_num_after(stats, "sharpe");
    h->win_rate = json_num_after(stats, "win_rate");
    h->trades = json_num_after(counts, "trades");
    h->fills = json_num_after(counts, "fills");
    free(json);
    return 0;
}
