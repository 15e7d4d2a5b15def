/* report_decide.c — see report_decide.h. The report subsystem may not read
 * the Decide stage's memory (it runs after the run, and `qts report` runs
 * on a directory alone), so everything comes from the run's files. */
#include "report_decide.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "report_io.h"
#include "util.h"

#define MAX_STRATS 256

/* Decisions of one strategy, by stage and outcome. */
struct per_strat {
    uint32_t id;
    uint64_t netted, dropped, shrunk, refused; /* stage decide */
    uint64_t accepted, rejected;               /* stage precheck */
};

struct decide_doc {
    char *json; /* owned: decide.json without its trailing newline */
    struct per_strat s[MAX_STRATS];
    size_t n;
};

/* The whole of a small file; NULL when absent. Owned by the caller. */
static char *slurp(const char *dir, const char *name, size_t *len_out)
{
    char path[1100];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, len = 0;
    char *buf = qts_xmalloc(cap);
    size_t got;
    while ((got = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += got;
        if (cap - len < 2)
            buf = qts_xrealloc(buf, cap *= 2);
    }
    fclose(f);
    buf[len] = 0;
    if (len_out)
        *len_out = len;
    return buf;
}

static struct per_strat *strat(struct decide_doc *d, uint32_t id)
{
    for (size_t i = 0; i < d->n; i++)
        if (d->s[i].id == id)
            return &d->s[i];
    if (d->n == MAX_STRATS)
        return NULL;
    d->s[d->n] = (struct per_strat){.id = id};
    return &d->s[d->n++];
}

/* decisions.csv: strategy_id is field 2, stage 10, outcome 11; the quoted
 * fields (reason, inputs) come after them. */
static void count_decisions(const char *dir, struct decide_doc *d)
{
    char path[1100];
    snprintf(path, sizeof path, "%s/decisions.csv", dir);
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    char line[4096];
    bool header = true;
    while (fgets(line, sizeof line, f)) {
        size_t len = strlen(line);
        bool whole = len > 0 && line[len - 1] == '\n';
        if (header) {
            header = !whole;
            continue;
        }
        char *field[11] = {0};
        char *p = line;
        for (int k = 0; k < 11 && p; k++) {
            field[k] = p;
            p = strchr(p, ',');
            if (p)
                *p++ = 0;
        }
        if (field[10]) {
            struct per_strat *s = strat(d, (uint32_t)strtoul(field[1], NULL, 10));
            const char *stage = field[9], *out = field[10];
            if (s && strcmp(stage, "decide") == 0) {
                s->netted += strcmp(out, "netted") == 0;
                s->dropped += strcmp(out, "dropped") == 0;
                s->shrunk += strcmp(out, "shrunk") == 0;
                s->refused += strcmp(out, "rejected") == 0;
            } else if (s && strcmp(stage, "precheck") == 0) {
                s->accepted += strcmp(out, "accepted") == 0;
                s->rejected += strcmp(out, "rejected") == 0;
            }
        }
        /* a line longer than the buffer: skip its rest */
        while (!whole && fgets(line, sizeof line, f)) {
            len = strlen(line);
            whole = len > 0 && line[len - 1] == '\n';
        }
    }
    fclose(f);
    /* by strategy id, so the output does not follow the file's order */
    for (size_t i = 1; i < d->n; i++)
        for (size_t j = i; j > 0 && d->s[j - 1].id > d->s[j].id; j--) {
            struct per_strat t = d->s[j];
            d->s[j] = d->s[j - 1];
            d->s[j - 1] = t;
        }
}

static void write_per_strategy_json(FILE *f, const struct decide_doc *d)
{
    fputs("\"per_strategy\":[", f);
    for (size_t i = 0; i < d->n; i++) {
        const struct per_strat *s = &d->s[i];
        fprintf(f,
                "%s{\"strategy_id\":%" PRIu32 ",\"netted\":%" PRIu64 ",\"dropped\":%" PRIu64
                ",\"shrunk\":%" PRIu64 ",\"refused\":%" PRIu64 ",\"precheck_accepted\":%" PRIu64
                ",\"precheck_rejected\":%" PRIu64 "}",
                i ? "," : "", s->id, s->netted, s->dropped, s->shrunk, s->refused, s->accepted,
                s->rejected);
    }
    fputs("]", f);
}

/* The decide object goes in as the last member of summary.json's object. */
static int add_to_summary(const char *dir, const struct decide_doc *d, struct qts_err *err)
{
    size_t len = 0;
    char *sum = slurp(dir, "summary.json", &len);
    if (!sum)
        return qts_err_set(err, QTS_EIO, "%s/summary.json: cannot read it", dir);
    /* the object's closing brace, and the whitespace before it */
    char *end = sum + len;
    while (end > sum && (end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\r'))
        end--;
    if (end > sum && end[-1] == '}') {
        end--;
        while (end > sum && (end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\r'))
            end--;
    } else {
        end = NULL;
    }
    size_t jl = strlen(d->json);
    if (!end || end == sum || jl < 2 || d->json[jl - 1] != '}') {
        free(sum);
        return qts_err_set(err, QTS_EPARSE, "%s: summary.json or decide.json is not as written",
                           dir);
    }
    struct qts_wfile w;
    int rc = qts_wfile_open(&w, dir, "summary.json", err);
    if (rc) {
        free(sum);
        return rc;
    }
    fwrite(sum, 1, (size_t)(end - sum), w.f);
    fputs(",\n  \"decide\": ", w.f);
    fwrite(d->json, 1, jl - 1, w.f); /* decide.json's members, then ours */
    fputc(',', w.f);
    write_per_strategy_json(w.f, d);
    fputs("}\n}\n", w.f);
    free(sum);
    return qts_wfile_close(&w, err);
}

/* The number after "key": at or after `from` in json; NAN-free: 0 when absent. */
static double num(const char *from, const char *key)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = from ? strstr(from, pat) : NULL;
    return p ? strtod(p + strlen(pat), NULL) : 0;
}

/* The string after "key":" at or after `from`, into out. */
static const char *str(const char *from, const char *key, char *out, size_t cap)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":\"", key);
    const char *p = from ? strstr(from, pat) : NULL;
    out[0] = 0;
    if (!p)
        return out;
    p += strlen(pat);
    size_t n = 0;
    while (p[n] && p[n] != '"' && n + 1 < cap)
        n++;
    memcpy(out, p, n);
    out[n] = 0;
    return out;
}

static void html_section(FILE *f, const struct decide_doc *d)
{
    const char *j = d->json;
    char a[32];
    fputs("<h2>Decide</h2>\n<table>\n", f);
    static const char *const counters[] = {"intents", "passed",    "netted", "internal_fills",
                                           "dropped", "conflicts", "shrunk", "refused"};
    for (size_t i = 0; i < QTS_ARRAY_LEN(counters); i++)
        fprintf(f, "<tr><th>%s</th><td>%.0f</td></tr>\n", counters[i], num(j, counters[i]));
    fprintf(f,
            "<tr><th>crossed notional</th><td>%.2f</td></tr>\n"
            "<tr><th>fees saved</th><td>%.2f</td></tr>\n"
            "<tr><th>impact saved (half spread)</th><td>%.2f</td></tr>\n",
            num(j, "crossed_notional"), num(j, "fees_saved"), num(j, "impact_saved"));
    const char *st = strstr(j, "\"operating_state\":");
    if (st)
        fprintf(f,
                "<tr><th>operating state</th><td>%s (threshold %.2f, %.0f moves, drawdown "
                "%.2f %%)</td></tr>\n",
                str(st, "operating_state", a, sizeof a), num(st, "threshold"),
                num(st, "transitions"), 100.0 * num(st, "drawdown"));
    const char *cy = strstr(j, "\"cycles\":{");
    if (cy && num(cy, "cycles") > 0)
        fprintf(f,
                "<tr><th>cycles</th><td>%.0f (mean %.1f us, max %.1f us, %.0f over budget, "
                "%.0f FS060)</td></tr>\n",
                num(cy, "cycles"), num(cy, "mean_us"), num(cy, "max_us"), num(cy, "over_budget"),
                num(cy, "fs060"));
    fputs("</table>\n", f);
    const char *pools = strstr(j, "\"pools\":{");
    if (pools) {
        fputs("<h3>Pools</h3>\n<table>\n<tr><th>pool</th><th>state</th><th>allocation</th>"
              "<th>capital</th><th>invested</th><th>reserved</th><th>available</th>"
              "<th>PnL</th><th>moved in</th></tr>\n",
              f);
        static const char *const names[] = {"scalp", "swing", "portfolio"};
        for (size_t k = 0; k < 3; k++) {
            char pat[32], lock[16];
            snprintf(pat, sizeof pat, "\"%s\":{", names[k]);
            const char *p = strstr(pools, pat);
            if (!p)
                continue;
            str(p, "state", a, sizeof a);
            str(p, "lock_code", lock, sizeof lock);
            fprintf(f,
                    "<tr><td>%s</td><td>%s%s%s</td><td>%.2f</td><td>%.2f</td><td>%.2f</td>"
                    "<td>%.2f</td><td>%.2f</td><td>%.2f</td><td>%.2f</td></tr>\n",
                    names[k], a, lock[0] ? " " : "", lock, num(p, "allocation"), num(p, "capital"),
                    num(p, "invested"), num(p, "reserved"), num(p, "available"), num(p, "pnl"),
                    num(p, "moved_in"));
        }
        fputs("</table>\n", f);
    }
    fputs("<h3>Decisions per strategy</h3>\n<table>\n<tr><th>strategy</th><th>netted</th>"
          "<th>dropped</th><th>shrunk</th><th>refused</th><th>PreCheck accepted</th>"
          "<th>PreCheck rejected</th></tr>\n",
          f);
    for (size_t i = 0; i < d->n; i++) {
        const struct per_strat *s = &d->s[i];
        fprintf(f,
                "<tr><td>%" PRIu32 "</td><td>%" PRIu64 "</td><td>%" PRIu64 "</td><td>%" PRIu64
                "</td><td>%" PRIu64 "</td><td>%" PRIu64 "</td><td>%" PRIu64 "</td></tr>\n",
                s->id, s->netted, s->dropped, s->shrunk, s->refused, s->accepted, s->rejected);
    }
    fputs("</table>\n", f);
}

/* report.html: the section goes before the last "</body>" (else at the end). */
static int add_to_html(const char *dir, const struct decide_doc *d, struct qts_err *err)
{
    size_t len = 0;
    char *html = slurp(dir, "report.html", &len);
    if (!html)
        return 0; /* no page to add to */
    char *at = NULL;
    for (char *p = strstr(html, "</body>"); p; p = strstr(p + 1, "</body>"))
        at = p;
    if (!at) /* a page without </body>: the section goes at its end */
        at = html + len;
    struct qts_wfile w;
    int rc = qts_wfile_open(&w, dir, "report.html", err);
    if (rc) {
        free(html);
        return rc;
    }
    fwrite(html, 1, (size_t)(at - html), w.f);
    html_section(w.f, d);
    fputs(at, w.f);
    free(html);
    return qts_wfile_close(&w, err);
}

int qts_report_decide(const char *dir, struct qts_err *err)
{
    struct decide_doc *d = qts_xcalloc(1, sizeof *d);
    d->json = slurp(dir, "decide.json", NULL);
    int rc = 0;
    if (d->json) {
        size_t jl = strlen(d->json);
        while (jl && (d->json[jl - 1] == '\n' || d->json[jl - 1] == ' '))
            d->json[--jl] = 0;
        count_decisions(dir, d);
        rc = add_to_summary(dir, d, err);
        if (rc == 0)
            rc = add_to_html(dir, d, err);
    }
    free(d->json);
    free(d);
    return rc;
}
