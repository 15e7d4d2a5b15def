/* status_text.c — `qts status` for people: the host's status object (the
 * admin socket's answer, docs/cli.md) as a short summary. `--json` prints
 * the object itself for scripts. */
#include "status_text.h"

#include <stdlib.h>
#include <string.h>

#include "json.h"

/* A member as text, "-" when absent. */
static const char *txt(const char *obj, const char *key, char *buf, size_t cap)
{
    if (!obj || !qts_json_get_text(obj, key, buf, cap))
        snprintf(buf, cap, "-");
    return buf;
}

static size_t count(const char *arr)
{
    size_t n = 0;
    for (const char *p = qts_json_array_first(arr); p; p = qts_json_array_next(p))
        n++;
    return n;
}

static void print_safety(FILE *f, const char *r)
{
    const char *s = qts_json_value(r, "safety");
    char state[32], allowed[8], kill[8], src[300];
    txt(s, "state", state, sizeof state);
    txt(s, "trading_allowed", allowed, sizeof allowed);
    txt(s, "kill", kill, sizeof kill);
    fprintf(f, "safety     %s, trading %s", state,
            strcmp(allowed, "true") == 0 ? "allowed" : "NOT allowed");
    const char *cause = qts_json_value(r, "safety_cause");
    char code[32], msg[300], by[140], why[300];
    if (strcmp(kill, "true") == 0)
        fprintf(f, ", KILL SWITCH ON by %s: %s", txt(cause, "kill_by", by, sizeof by),
                txt(cause, "kill_reason", why, sizeof why));
    fputc('\n', f);
    if (strcmp(state, "NORMAL") != 0 && strcmp(state, "-") != 0)
        fprintf(f, "           cause %s %s\n", txt(cause, "code", code, sizeof code),
                txt(cause, "message", msg, sizeof msg));
    const char *codes = qts_json_value(r, "safety_codes");
    if (codes && codes[0] == '{' && codes[1] != '}') {
        /* {"GR101":3,...}: print the members as they are, without braces */
        const char *end = strchr(codes, '}');
        fprintf(f, "           codes raised ");
        for (const char *p = codes + 1; p < end; p++)
            if (*p != '"')
                fputc(*p == ':' ? 'x' : *p == ',' ? ' ' : *p, f);
        fputc('\n', f);
    }
    if (s && qts_json_get_text(s, "safety_source", src, sizeof src) &&
        strncmp(src, "fresh start", 11) != 0)
        fprintf(f, "           source %s\n", src);
    if (s && qts_json_get_text(s, "safety_saved", src, sizeof src) &&
        strncmp(src, "FAILED", 6) == 0)
        fprintf(f, "           safety state NOT saved: %s\n", src);
}

static void print_pnl(FILE *f, const char *r)
{
    const char *p = qts_json_value(r, "pnl");
    if (!p)
        return;
    char eq[48], tot[48], re[48], un[48], fe[48];
    fprintf(f, "pnl        equity %s  total %s  realized %s  unrealized %s  fees %s\n",
            txt(p, "equity", eq, sizeof eq), txt(p, "total", tot, sizeof tot),
            txt(p, "realized", re, sizeof re), txt(p, "unrealized", un, sizeof un),
            txt(p, "fees", fe, sizeof fe));
}

static void print_positions(FILE *f, const char *r)
{
    const char *arr = qts_json_value(r, "positions");
    if (!arr)
        return;
    char n[24];
    fprintf(f, "\npositions (%s open)\n", txt(r, "positions_open", n, sizeof n));
    if (!qts_json_array_first(arr))
        return;
    fprintf(f, "  %-14s %14s %14s %14s %14s\n", "symbol", "qty", "avg_price", "last", "unrealized");
    for (const char *e = qts_json_array_first(arr); e; e = qts_json_array_next(e)) {
        char sym[64], q[48], a[48], l[48], u[48];
        fprintf(f, "  %-14s %14s %14s %14s %14s\n", txt(e, "symbol", sym, sizeof sym),
                txt(e, "qty", q, sizeof q), txt(e, "avg_price", a, sizeof a),
                txt(e, "last", l, sizeof l), txt(e, "unrealized", u, sizeof u));
    }
}

static void print_orders(FILE *f, const char *r)
{
    char n[24];
    const char *arr = qts_json_value(r, "orders");
    fprintf(f, "\nworking orders (%s)\n", txt(r, "working_orders", n, sizeof n));
    if (!qts_json_array_first(arr))
        return;
    fprintf(f, "  %-10s %-8s %-14s %-4s %12s %12s %14s %s\n", "id", "strategy", "symbol", "side",
            "qty", "filled", "limit", "state");
    for (const char *e = qts_json_array_first(arr); e; e = qts_json_array_next(e)) {
        char id[24], st[16], sym[64], side[8], q[48], fi[48], li[48], state[24];
        fprintf(f, "  %-10s %-8s %-14s %-4s %12s %12s %14s %s\n", txt(e, "id", id, sizeof id),
                txt(e, "strategy", st, sizeof st), txt(e, "symbol", sym, sizeof sym),
                txt(e, "side", side, sizeof side), txt(e, "qty", q, sizeof q),
                txt(e, "filled", fi, sizeof fi), txt(e, "limit", li, sizeof li),
                txt(e, "state", state, sizeof state));
    }
}

static void print_strategies(FILE *f, const char *r)
{
    const char *arr = qts_json_value(r, "strategies");
    if (!arr)
        return;
    fprintf(f, "\nstrategies (%zu)\n", count(arr));
    for (const char *e = qts_json_array_first(arr); e; e = qts_json_array_next(e)) {
        char name[128], state[32], ev[24], er[24], last[300];
        fprintf(f, "  %-20s %-12s events %s  errors %s", txt(e, "name", name, sizeof name),
                txt(e, "state", state, sizeof state), txt(e, "events", ev, sizeof ev),
                txt(e, "errors", er, sizeof er));
        if (qts_json_get_text(e, "last_error", last, sizeof last) && last[0])
            fprintf(f, "  last: %s", last);
        fputc('\n', f);
    }
}

static void print_feeds(FILE *f, const char *r)
{
    const char *arr = qts_json_value(r, "feeds");
    if (!arr)
        return;
    fprintf(f, "\nfeeds (%zu)\n", count(arr));
    for (const char *e = qts_json_array_first(arr); e; e = qts_json_array_next(e)) {
        char name[128], state[24], err[160];
        fprintf(f, "  %-20s %s", txt(e, "name", name, sizeof name),
                txt(e, "state", state, sizeof state));
        if (qts_json_get_text(e, "error", err, sizeof err) && err[0])
            fprintf(f, ": %s", err);
        fputc('\n', f);
    }
}

void qts__status_print(FILE *f, const char *result)
{
    char host[128], mode[16], run[96], ev[24], fi[24];
    fprintf(f, "host       %s  mode %s  run %s\n", txt(result, "host_id", host, sizeof host),
            txt(result, "mode", mode, sizeof mode), txt(result, "run_id", run, sizeof run));
    print_safety(f, result);
    print_pnl(f, result);
    fprintf(f, "activity   events %s  fills %s\n", txt(result, "events", ev, sizeof ev),
            txt(result, "fills", fi, sizeof fi));
    print_positions(f, result);
    print_orders(f, result);
    print_strategies(f, result);
    print_feeds(f, result);
}
